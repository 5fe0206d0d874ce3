"""The words in evidence: text read from pictures (OCR), PDF text layers and emails.

``evidence.extracted_text`` holds an exhibit's words (sealed on a safeguarding case, like
its other details); ``evidence.text_state`` says whether they are still to be read.
``evidence_text`` (SQLite FTS5, trigram) indexes the words of the exhibits of cases in
clear, one document a case with the case's id as its rowid (as ``case_search`` does), so a
word found in thousands of exhibits still costs no more than reading the matching ids.
``ADD COLUMN`` (not a batch copy) keeps the case-search triggers intact.

Revision ID: 0018_evidence_text
Revises: 0017_people_from_mis
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_evidence_text"
down_revision = "0017_people_from_mis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "evidence", sa.Column("extracted_text", sa.Text, nullable=False, server_default="")
    )
    op.add_column(
        "evidence", sa.Column("text_state", sa.String(20), nullable=False, server_default="")
    )
    # Pictures and PDFs already kept are read too, the next time their case is opened.
    op.execute(
        "UPDATE evidence SET text_state = 'pending' WHERE kind = 'original' AND "
        "(content_type LIKE 'image/%' OR content_type LIKE 'application/pdf%')"
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE VIRTUAL TABLE evidence_text USING fts5(body, tokenize='trigram')")
    op.execute(
        "CREATE TRIGGER cases_evidence_text_delete AFTER DELETE ON cases BEGIN "
        "DELETE FROM evidence_text WHERE rowid = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER evidence_text_delete AFTER DELETE ON evidence BEGIN "
        "DELETE FROM evidence_text WHERE rowid = old.case_id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS evidence_text_delete")
        op.execute("DROP TRIGGER IF EXISTS cases_evidence_text_delete")
        op.execute("DROP TABLE IF EXISTS evidence_text")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("text_state")
        batch.drop_column("extracted_text")
