"""Subject access requests: who asked, when, how their identity was checked, when the
response is due (and any extension with its reason), and when it was sent.

Revision ID: 0011_subject_access
Revises: 0009_keyring
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0011_subject_access"
down_revision = "0010_audit_seal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_access_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        # The request outlives the person's record (a deletion keeps the request's history).
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("requester_name", sa.String(200), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("identity_checked_on", sa.Date, nullable=True),
        sa.Column("identity_note", sa.String(500), nullable=False, server_default=""),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("extended_to", sa.Date, nullable=True),
        sa.Column("extension_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("responded_on", sa.Date, nullable=True),
        sa.Column("response", sa.Text, nullable=False, server_default=""),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_subject_access_requests_person_id", "subject_access_requests", ["person_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_subject_access_requests_person_id", "subject_access_requests")
    op.drop_table("subject_access_requests")
