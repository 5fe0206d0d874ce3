"""The audit trail sealed against an insider, and details a deleted case takes with it.

Each entry gains a MAC under its own key (a one-way ratchet whose next key is kept in
``audit_seal``); head teachers' checkpoints seal the trail up to a point; each case's
entries keep their details sealed under a key of the case (``audit_case_keys``) that
deleting the case destroys. Existing entries keep their plain hash chain until the first
head teacher signs in, checks it and seals it in.

Revision ID: 0010_audit_seal
Revises: 0009_keyring
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0010_audit_seal"
down_revision = "0009_keyring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    seal = op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_seq", sa.Integer, nullable=False),
        sa.Column("entry_key", sa.String(64), nullable=True),
    )
    newest = op.get_bind().execute(sa.text("SELECT max(seq) FROM audit_entries")).scalar()
    op.bulk_insert(seal, [{"id": 1, "key_seq": int(newest or 0) + 1, "entry_key": None}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("user", sa.String(60), nullable=False),
        sa.Column("key_check", sa.String(32), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_checkpoints_seq", "audit_checkpoints", ["seq"])
    op.create_table(
        "audit_case_keys",
        sa.Column("reference", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(64), nullable=True),
        sa.Column("forgotten_at", UTCDateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("audit_case_keys")
    op.drop_index("ix_audit_checkpoints_seq", "audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_seal")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("mac")
