"""A shared (PostgreSQL) casebook at a million cases and a million audit entries.

PostgreSQL only; a SQLite casebook is unchanged (its word and trigram indexes are FTS5).

- ``pg_trgm`` trigram indexes serve searches of three or more characters, which are
  "contains" searches (``LIKE '%term%'``), exactly as SQLite's trigram index serves them:
  the case's own words (``cases.search_text``), notes (``lower(events.summary)``) and the
  words read from exhibits (``lower(evidence.extracted_text)``). Without them each search
  read every row. The extension is trusted (PostgreSQL 13+): the casebook's owner may
  create it; where the server does not have it, searches still work, by reading every row.
- ``(column, id)`` indexes for the usual order (latest activity) and the sort keys with
  long runs of equal values (status, platform, standards, follow-up date): the list reads
  its next page onwards from the last row (keyset) in one index range, with no sort of a
  run of 100,000 equal values, and a case's position is counted from the index alone.
- ``casebook_word_starts(search_text)``: the first one and two characters of each of the
  case's words (runs of letters and digits, as the search's words are), for searches of
  one or two characters; ``gin_trgm_ops`` serves "a word beginning with" only after a
  space, not after "@", "#" or "_", and not at all for one character.
- ``casebook_fold(text)``: notes and exhibits' words folded as SQLite's search folds them
  (migration 0022), so that "zoe" finds a note about Zoë on a server too.
- Other cases about the same account or post (the joined-up panel shown with every case)
  are found through 0021's ``ix_cases_handle_key`` and ``ix_cases_post_url_key``.
- ``ix_audit_entries_user``: the audit trail window lists the users who appear in it,
  which read every entry.

Revision ID: 0023_postgres_at_scale
Revises: 0022_refold_search
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.search import fold_translation

revision = "0023_postgres_at_scale"
down_revision = "0022_refold_search"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = {
    "ix_cases_search_trgm": ("cases", "search_text"),
    "ix_events_summary_trgm": ("events", "casebook_fold(summary)"),
    "ix_evidence_text_trgm": ("evidence", "casebook_fold(extracted_text)"),
}
KEYSET_INDEXES = {
    "ix_cases_last_activity_id": ("last_activity_at", "id"),
    "ix_cases_status_id": ("status", "id"),
    "ix_cases_platform_id": ("platform", "id"),
    "ix_cases_categories_id": ("categories", "id"),
    "ix_cases_follow_up_due_id": ("follow_up_due", "id"),
}


def _has_trigrams(bind: sa.engine.Connection) -> bool:
    """True once ``pg_trgm`` is installed in this database (installing it if allowed)."""
    installed = "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"
    if bind.execute(sa.text(installed)).first() is not None:
        return True
    available = bind.execute(
        sa.text(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm' AND "
            "((SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
            "OR has_database_privilege(current_database(), 'CREATE'))"
        )
    ).first()
    if available is None:
        return False
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return True


def _fold_function() -> str:
    """``casebook_fold(text)``: notes and exhibits' words folded as the search box folds what
    is typed (app/domain/search.py: "zoe" finds "Zoë", "lukas" finds "Łukasiewicz")."""
    source, target, longer = fold_translation()

    def quoted(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    body = f"translate(lower(t), {quoted(source)}, {quoted(target)})"
    for letter, letters in longer.items():
        body = f"replace({body}, {quoted(letter)}, {quoted(letters)})"
    return (
        "CREATE FUNCTION casebook_fold(t text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {body} $$"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(_fold_function())
    if _has_trigrams(bind):
        for name, (table, expression) in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}) gin_trgm_ops)")
    for name, columns in KEYSET_INDEXES.items():
        op.create_index(name, "cases", list(columns))
    # The same words as services/server_search.py's pattern: a letter or digit after the
    # start of the text or after anything else.
    op.execute(
        "CREATE FUNCTION casebook_word_starts(words text) RETURNS text[] "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_agg(DISTINCT start), '{}') FROM "
        "regexp_matches(words, '(?:^|[^[:alnum:]])([[:alnum:]]{1,2})', 'g') AS found, "
        "LATERAL (VALUES (left(found[1], 1)), (found[1])) AS starts(start) $$"
    )
    op.execute(
        "CREATE INDEX ix_cases_word_starts ON cases USING gin (casebook_word_starts(search_text))"
    )
    # ix_cases_handle_key (handles compared without case or a leading @) comes from 0021.
    op.create_index("ix_audit_entries_user", "audit_entries", ["user"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_audit_entries_user", table_name="audit_entries")
    for name in KEYSET_INDEXES:
        op.drop_index(name, table_name="cases")
    op.execute("DROP INDEX ix_cases_word_starts")
    op.execute("DROP FUNCTION casebook_word_starts(text)")
    for name in TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION casebook_fold(text)")
