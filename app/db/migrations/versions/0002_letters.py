"""Letters issued on cases and the school's own letter templates.

Revision ID: 0002_letters
Revises: 0001_initial
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_letters"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("kind", "version", name="uq_letter_templates_kind_version"),
    )
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("template_version", sa.String(40), nullable=False),
        sa.Column("recipient_name", sa.String(500), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("letter_date", sa.Date, nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("field_values", sa.Text, nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("pdf_size", sa.Integer, nullable=False),
        sa.Column("issued_at", sa.DateTime, nullable=False),
        sa.Column("issued_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_letters_case_id", "letters", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_letters_case_id", table_name="letters")
    op.drop_table("letters")
    op.drop_table("letter_templates")
