"""The case list at a million cases: indexes for its counts and for one- and two-letter searches.

- ``ix_cases_follow_up_due_status`` covers the overdue count (follow-up date before today and
  the case still open): SQLite answers it from the index alone instead of reading each case
  row for its status (3.1 s -> 61 ms over 1,000,000 cases).
- ``ix_cases_status_activity`` gives the list of one status in its usual order (latest
  activity first) straight from the index, instead of sorting every case of that status.
- ``ix_case_categories_category`` finds the safeguarding cases (and their people) still in
  clear at each head's sign-in without reading every case (11 s over a million cases).
- ``ix_cases_sealed`` finds the few sealed (safeguarding) cases by the start of their
  search text, for the search of those who may open them, instead of reading every case.
- ``case_words`` (SQLite FTS5, words, with prefix indexes of one and two characters) serves
  searches of one or two characters as "a word beginning with": the trigram index cannot
  serve fewer than three characters, and a ``LIKE`` scan of every case took 1.2 s.
  Triggers keep it in step with ``cases.search_text``, as ``case_search``'s do.

Revision ID: 0020_list_at_scale
Revises: 0019_letter_email
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_list_at_scale"
down_revision = "0019_letter_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_follow_up_due_status", "cases", ["follow_up_due", "status"])
    op.create_index("ix_case_categories_category", "case_categories", ["category"])
    op.create_index("ix_cases_status_activity", "cases", ["status", "last_activity_at"])
    # The length of app.security.crypto.SEALED_PREFIX ("\x01sg2:"); the query repeats it.
    op.create_index("ix_cases_sealed", "cases", [sa.text("substr(search_text, 1, 5)")])
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE case_words USING fts5(search_text, content='cases', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='1 2')"
    )
    op.execute("INSERT INTO case_words(case_words) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER cases_words_insert AFTER INSERT ON cases BEGIN "
        "INSERT INTO case_words(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER cases_words_delete AFTER DELETE ON cases BEGIN "
        "INSERT INTO case_words(case_words, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER cases_words_update AFTER UPDATE OF search_text ON cases BEGIN "
        "INSERT INTO case_words(case_words, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO case_words(rowid, search_text) VALUES (new.id, new.search_text); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS cases_words_update")
        op.execute("DROP TRIGGER IF EXISTS cases_words_delete")
        op.execute("DROP TRIGGER IF EXISTS cases_words_insert")
        op.execute("DROP TABLE IF EXISTS case_words")
    op.drop_index("ix_cases_sealed", table_name="cases")
    op.drop_index("ix_cases_status_activity", table_name="cases")
    op.drop_index("ix_case_categories_category", table_name="case_categories")
    op.drop_index("ix_cases_follow_up_due_status", table_name="cases")
