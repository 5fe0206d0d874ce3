"""The keyring kept on the server, for a casebook shared through PostgreSQL.

A casebook on one PC keeps its keyring (the data key wrapped for each user and for the
recovery key) in a file beside its encrypted database, because that file must be read
before the database can be opened. A casebook on a server has no such file that every PC
can see, so the same document lives in this one-row table instead (on SQLite it stays
empty).

Revision ID: 0009_keyring
Revises: 0008_retention
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0009_keyring"
down_revision = "0008_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "keyring",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("keyring")
