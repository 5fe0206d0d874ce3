"""Retention: the child's date of birth on a case, legal holds, and records of deletions.

``ALTER TABLE ... ADD COLUMN`` (not a batch copy) keeps the case-search triggers intact.

Revision ID: 0008_retention
Revises: 0007_shared_blobs
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0008_retention"
down_revision = "0007_shared_blobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("child_date_of_birth", sa.Date, nullable=True))
    op.create_table(
        "legal_holds",
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_at", UTCDateTime, nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
    )
    # No foreign key: the case is gone. Only the reference, when, who and why remain.
    op.create_table(
        "case_deletions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("deleted_at", UTCDateTime, nullable=False),
        sa.Column("deleted_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_deletions")
    op.drop_table("legal_holds")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("child_date_of_birth")
