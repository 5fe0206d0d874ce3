"""Evidence: exhibits and the copies made from them.

Revision ID: 0003_evidence
Revises: 0002_letters
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_evidence"
down_revision = "0002_letters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column(
            "parent_id",
            sa.Integer,
            sa.ForeignKey("evidence.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("original_name", sa.String(500), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("page_count", sa.Integer, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("captured_at", sa.DateTime, nullable=True),
        sa.Column("captured_by", sa.String(500), nullable=False, server_default=""),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("post_url", sa.Text, nullable=False, server_default=""),
        sa.Column("posted_at", sa.DateTime, nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("metadata_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.CheckConstraint(
            "kind IN ('original', 'redacted', 'stripped', 'thumbnail')", name="ck_evidence_kind"
        ),
    )
    op.create_index("ix_evidence_case_id", "evidence", ["case_id"])
    op.create_index("ix_evidence_sha256", "evidence", ["sha256"])
    op.create_index("ix_evidence_parent_id", "evidence", ["parent_id"])
    op.create_index(
        "uq_evidence_case_number_original",
        "evidence",
        ["case_id", "number"],
        unique=True,
        sqlite_where=sa.text("kind = 'original'"),
        postgresql_where=sa.text("kind = 'original'"),
    )


def downgrade() -> None:
    op.drop_table("evidence")
