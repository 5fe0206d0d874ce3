"""Search text folded as the search box folds it, in casebooks indexed before folding.

Since accent folding (``app.domain.search.fold``) the search box looks for "zoe" when
"Zoë" is typed, and new rows store folded words; rows written before it kept their accents
("zoë łukasiewicz"), so "zoe" and "lukas" missed them. This revision:

- folds ``cases.search_text`` of every case in clear (sealed search text is a token only a
  head's key opens, matched in memory and folded there); the triggers of ``case_search``
  and ``case_words`` put the folded words in both indexes;
- folds the words of exhibits (``evidence_text``) and of notes (``case_text``) in the
  search indexes, and drops the trigger that copied each note's words in as written: the
  service that adds a chronology entry now indexes its words folded (SQLite cannot fold
  "Ł" to "l" itself);
- adds ``people.search_name``, the person's name folded, which the people search
  compares with (``name_key`` keeps the name as written: it tells Zoe from Zoë).

Revision ID: 0022_refold_search
Revises: 0021_counts_and_joins_at_scale
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.search import fold
from app.security.crypto import SEALED_PREFIX

revision = "0022_refold_search"
down_revision = "0021_counts_and_joins_at_scale"
branch_labels = None
depends_on = None

# The chronology entries whose words the search finds (app.services.cases.SEARCHED_EVENTS,
# as revision 0005 wrote them into the trigger dropped here).
SEARCHED_EVENTS = ("note", "phone_call", "meeting", "post_rechecked", "step_taken")
_BATCH = 5_000


def _in_clear(value: object) -> bool:
    return isinstance(value, str) and not value.startswith(SEALED_PREFIX)


def _refold_cases(connection: sa.Connection) -> None:
    last = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, search_text FROM cases WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        last = int(rows[-1][0])
        changed = [
            {"id": int(case_id), "folded": fold(words)}
            for case_id, words in rows
            if _in_clear(words) and fold(words) != words
        ]
        if changed:
            connection.execute(
                sa.text("UPDATE cases SET search_text = :folded WHERE id = :id"), changed
            )


def _refold_fts(connection: sa.Connection, table: str, columns: str) -> None:
    """Fold the ``body`` of each row of an FTS5 table that stores its own text."""
    rows = connection.execute(sa.text(f"SELECT rowid, {columns} FROM {table}")).all()
    for row in rows:
        rowid, body, *rest = row
        if not _in_clear(body) or fold(body) == body:
            continue
        connection.execute(sa.text(f"DELETE FROM {table} WHERE rowid = :id"), {"id": rowid})
        if rest:
            connection.execute(
                sa.text(f"INSERT INTO {table}(rowid, body, case_id) VALUES (:id, :body, :case)"),
                {"id": rowid, "body": fold(body), "case": rest[0]},
            )
        else:
            connection.execute(
                sa.text(f"INSERT INTO {table}(rowid, body) VALUES (:id, :body)"),
                {"id": rowid, "body": fold(body)},
            )


def _fill_search_names(connection: sa.Connection) -> None:
    rows = connection.execute(sa.text("SELECT id, name FROM people")).all()
    named = [
        {"id": int(person_id), "folded": fold(" ".join(name.split()))}
        for person_id, name in rows
        if _in_clear(name)
    ]
    if named:
        connection.execute(sa.text("UPDATE people SET search_name = :folded WHERE id = :id"), named)


def upgrade() -> None:
    op.add_column("people", sa.Column("search_name", sa.Text, nullable=False, server_default=""))
    connection = op.get_bind()
    _fill_search_names(connection)
    _refold_cases(connection)
    if connection.dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS events_case_text")
    _refold_fts(connection, "case_text", "body, case_id")
    _refold_fts(connection, "evidence_text", "body")
    for table in ("case_search", "case_words", "case_text", "evidence_text"):
        op.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER events_case_text AFTER INSERT ON events "
            f"WHEN new.kind IN {SEARCHED_EVENTS} BEGIN "
            "INSERT INTO case_text(body, case_id) VALUES (new.summary, new.case_id); END"
        )
    with op.batch_alter_table("people") as batch:
        batch.drop_column("search_name")
