"""Blobs kept in the database itself, and a trigram index for searching on PostgreSQL.

On a server shared by several PCs, evidence and letters cannot live in one PC's folder:
their bytes go in ``blobs`` instead (on SQLite the table stays empty; files are used).
On PostgreSQL, pg_trgm lets the search box's ``LIKE '%...%'`` use an index, as the FTS5
trigram index does on SQLite.

Revision ID: 0007_shared_blobs
Revises: 0006_security
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0007_shared_blobs"
down_revision = "0006_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The hash column is called ``digest``, not ``sha256``: the start-up sweep counts every
    # ``*sha256`` column as a reference, and the store must not refer to itself.
    op.create_table(
        "blobs",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_cases_search_text_trgm ON cases USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search_text_trgm")
    op.drop_table("blobs")
