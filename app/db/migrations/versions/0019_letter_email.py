"""Letters sent by email: the message as sent (sealed, by its hash), its Message-ID, the
server's reply and when; a row is written before the server is contacted, so that an
attempt whose outcome is unknown is never repeated without asking.

Revision ID: 0019_letter_email
Revises: 0018_evidence_text
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0019_letter_email"
down_revision = "0018_evidence_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_emails",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "letter_id",
            sa.Integer,
            sa.ForeignKey("letters.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("message_id", sa.String(250), nullable=False, unique=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("to_address", sa.Text, nullable=False),
        sa.Column("cc_address", sa.Text, nullable=False, server_default=""),
        sa.Column("eml_sha256", sa.String(64), nullable=False),
        sa.Column("eml_size", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_attempt_at", UTCDateTime, nullable=False),
        sa.Column("last_attempt_by", sa.String(200), nullable=False),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.Column("server_reply", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_letter_emails_case_id", "letter_emails", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_letter_emails_case_id", "letter_emails")
    op.drop_table("letter_emails")
