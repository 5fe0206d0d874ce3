"""Revised Codes of Conduct the school adopted (the text, each clause's standard, the date
it takes effect), and what a letter needs to name the post and the facts: the group or
page a post was made in, what it got wrong and the correct facts, and (for the rare
barring letters) what the person did at or towards the school.

``ALTER TABLE ... ADD COLUMN`` (not a batch copy) keeps the case-search triggers intact.

Revision ID: 0016_code_versions
Revises: 0015_workflow_practice
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0016_code_versions"
down_revision = "0015_workflow_practice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("post_place", "inaccurate_text", "correct_facts", "barring_conduct"):
        op.add_column("cases", sa.Column(name, sa.Text, nullable=False, server_default=""))
    op.create_table(
        "code_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.String(20), nullable=False, unique=True),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("source_name", sa.String(260), nullable=False),
        sa.Column("adopted_at", UTCDateTime, nullable=False),
        sa.Column("adopted_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("code_versions")
    with op.batch_alter_table("cases") as batch:
        for name in ("barring_conduct", "correct_facts", "inaccurate_text", "post_place"):
            batch.drop_column(name)
