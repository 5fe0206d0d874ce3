"""The case list's totals, and a case's place in it, kept as running tallies on PostgreSQL.

PostgreSQL only: SQLite has had the same tallies since migration 0021 (``case_tallies`` and
``case_activity_tallies``, kept by triggers). On a server the status bar's totals read a
whole index at every start (about half a second over a million cases), and a case far down
the list was placed by counting every case before it (seconds).

Several PCs write to one server at once, so a tally is never a single row that every case
change must update: that row's lock would make each PC's save wait for the others' to
commit, and two saves taking two rows in opposite orders would deadlock. Instead:

- a trigger on ``cases`` *appends* a change row (+1 for the case's new status, follow-up
  date and kind; -1 for its old) to ``case_tally_changes`` and ``case_activity_changes``.
  Appending takes no lock another writer waits for;
- ``case_tallies`` and ``case_activity_tallies`` are views: the folded totals
  (``case_tally_totals``, ``case_activity_totals``) and the changes not yet folded, one
  after the other. They have SQLite's tables' names and columns, so the same queries read
  them; a key may have several rows, which the readers' ``sum(cases)`` adds up;
- ``casebook_fold_tallies()`` moves the changes into the totals. The trigger calls it every
  ``FOLD_EVERY`` changes, and only when no other transaction is folding
  (``pg_try_advisory_xact_lock``: it never waits) and the writer's transaction reads
  committed rows (a snapshot taken earlier could refuse the fold's update). Only a folding
  transaction touches the totals and deletes changes, so writers never wait on each other.

It also drops ``ix_cases_search_text_trgm`` (migration 0007), the same trigram index of
``cases.search_text`` as 0023's ``ix_cases_search_trgm``: every case saved updated both, and
building it again took 76 s of the million-case benchmark's build.

``casebook_word_starts`` (0023) is made again, splitting the words apart rather than matching
each word's start: the same answer for every text (checked over 200,000 cases), worked out in
half the time, so its index is built in half the time (3.3 min of the million-case build at
load 18). An index over an immutable function keeps its entries when the function is
replaced by one with the same answers, so no index is rebuilt.

Revision ID: 0025_postgres_tallies
Revises: 0023_postgres_at_scale
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_postgres_tallies"
down_revision = "0023_postgres_at_scale"
branch_labels = None
depends_on = None

# Changes appended between two folds: the views sum at most about this many extra rows.
FOLD_EVERY = 500
# Any fixed number, other than the migrations' own lock (engine.py's 8008).
FOLD_LOCK = 8025

# A case's tally keys, as SQLite's triggers make them (migration 0021): the follow-up date
# and the day of last activity as ISO text, '' for no follow-up date.
_DUE = "coalesce(to_char({row}.follow_up_due, 'YYYY-MM-DD'), '')"
_DAY = "to_char({row}.last_activity_at, 'YYYY-MM-DD')"
_GUARDED = "strpos({row}.categories, 'safeguarding') > 0"

# Fills the totals from the cases (also used by benchmarks/million_postgres.py after a
# bulk load, which copies cases with triggers off).
FILL = (
    "INSERT INTO case_tally_totals (status, due, safeguarding, cases) "
    f"SELECT status, {_DUE.format(row='cases')}, {_GUARDED.format(row='cases')}, count(*) "
    "FROM cases GROUP BY 1, 2, 3"
)
DAY_FILL = (
    "INSERT INTO case_activity_totals (status, day, safeguarding, cases) "
    f"SELECT status, {_DAY.format(row='cases')}, {_GUARDED.format(row='cases')}, count(*) "
    "FROM cases GROUP BY 1, 2, 3"
)


def _tables(kind: str, key: str) -> list[str]:
    totals, changes, view = {
        "due": ("case_tally_totals", "case_tally_changes", "case_tallies"),
        "day": ("case_activity_totals", "case_activity_changes", "case_activity_tallies"),
    }[kind]
    return [
        f"CREATE TABLE {totals} (status VARCHAR(30) NOT NULL, {key} VARCHAR(10) NOT NULL, "
        f"safeguarding BOOLEAN NOT NULL, cases BIGINT NOT NULL, "
        f"PRIMARY KEY (status, {key}, safeguarding))",
        f"CREATE TABLE {changes} (id BIGSERIAL PRIMARY KEY, status VARCHAR(30) NOT NULL, "
        f"{key} VARCHAR(10) NOT NULL, safeguarding BOOLEAN NOT NULL, cases INTEGER NOT NULL)",
        # Not grouped: every reader sums ``cases`` (grouping first cost a hash of every
        # row of the day tallies, 10-50 ms, before the sum).
        f"CREATE VIEW {view} AS SELECT status, {key}, safeguarding, cases FROM {totals} "
        f"UNION ALL SELECT status, {key}, safeguarding, cases FROM {changes}",
    ]


def _fold(totals: str, changes: str, key: str) -> str:
    return (
        f"WITH moved AS (DELETE FROM {changes} RETURNING status, {key}, safeguarding, cases) "
        f"INSERT INTO {totals} (status, {key}, safeguarding, cases) "
        f"SELECT status, {key}, safeguarding, sum(cases) FROM moved GROUP BY 1, 2, 3 "
        f"ON CONFLICT (status, {key}, safeguarding) "
        f"DO UPDATE SET cases = {totals}.cases + excluded.cases;"
    )


FOLD_FUNCTION = f"""
CREATE FUNCTION casebook_fold_tallies() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
            OR NOT pg_try_advisory_xact_lock({FOLD_LOCK}) THEN
        RETURN false;
    END IF;
    {_fold("case_tally_totals", "case_tally_changes", "due")}
    {_fold("case_activity_totals", "case_activity_changes", "day")}
    RETURN true;
END $$
"""

TRIGGER_FUNCTION = f"""
CREATE FUNCTION casebook_tally_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change_id bigint := 0;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status
            AND OLD.categories IS NOT DISTINCT FROM NEW.categories
            AND OLD.follow_up_due IS NOT DISTINCT FROM NEW.follow_up_due
            AND OLD.last_activity_at IS NOT DISTINCT FROM NEW.last_activity_at THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO case_tally_changes (status, due, safeguarding, cases)
            VALUES (OLD.status, {_DUE.format(row="OLD")}, {_GUARDED.format(row="OLD")}, -1);
        INSERT INTO case_activity_changes (status, day, safeguarding, cases)
            VALUES (OLD.status, {_DAY.format(row="OLD")}, {_GUARDED.format(row="OLD")}, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO case_tally_changes (status, due, safeguarding, cases)
            VALUES (NEW.status, {_DUE.format(row="NEW")}, {_GUARDED.format(row="NEW")}, 1)
            RETURNING id INTO change_id;
        INSERT INTO case_activity_changes (status, day, safeguarding, cases)
            VALUES (NEW.status, {_DAY.format(row="NEW")}, {_GUARDED.format(row="NEW")}, 1);
    END IF;
    IF change_id % {FOLD_EVERY} = 0 AND change_id > 0 THEN
        PERFORM casebook_fold_tallies();
    END IF;
    RETURN NULL;
END $$
"""


# The first one and two characters of each word (run of letters and digits), as 0023's.
_WORD_STARTS = (
    "CREATE OR REPLACE FUNCTION casebook_word_starts(words text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT start), '{{}}') FROM {words} "
    "LATERAL (VALUES ({first}), ({second})) AS starts(start) {where}$$"
)
WORD_STARTS_BY_SPLITTING = _WORD_STARTS.format(
    words="regexp_split_to_table(words, '[^[:alnum:]]+') AS word,",
    first="left(word, 1)",
    second="left(word, 2)",
    where="WHERE word <> '' ",
)
WORD_STARTS_BY_MATCHING = _WORD_STARTS.format(  # 0023's
    words="regexp_matches(words, '(?:^|[^[:alnum:]])([[:alnum:]]{1,2})', 'g') AS found,",
    first="left(found[1], 1)",
    second="found[1]",
    where="",
)


def _has_index(name: str) -> bool:
    """True when the index exists (0023 makes its trigram indexes only where ``pg_trgm``
    could be installed)."""
    query = sa.text("SELECT 1 FROM pg_indexes WHERE indexname = :name")
    return op.get_bind().execute(query, {"name": name}).first() is not None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _tables("due", "due") + _tables("day", "day"):
        op.execute(statement)
    op.execute(FILL)
    op.execute(DAY_FILL)
    op.execute(FOLD_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER cases_tally AFTER INSERT OR DELETE OR UPDATE OF status, categories, "
        "follow_up_due, last_activity_at ON cases FOR EACH ROW EXECUTE FUNCTION "
        "casebook_tally_case()"
    )
    if _has_index("ix_cases_search_trgm"):
        op.execute("DROP INDEX IF EXISTS ix_cases_search_text_trgm")
    op.execute(WORD_STARTS_BY_SPLITTING)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(WORD_STARTS_BY_MATCHING)
    if _has_index("ix_cases_search_trgm"):
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_cases_search_text_trgm ON cases "
            "USING gin (search_text gin_trgm_ops)"
        )
    op.execute("DROP TRIGGER cases_tally ON cases")
    op.execute("DROP FUNCTION casebook_tally_case()")
    op.execute("DROP FUNCTION casebook_fold_tallies()")
    for view in ("case_tallies", "case_activity_tallies"):
        op.execute(f"DROP VIEW {view}")
    for table in (
        "case_tally_changes",
        "case_tally_totals",
        "case_activity_changes",
        "case_activity_totals",
    ):
        op.execute(f"DROP TABLE {table}")
