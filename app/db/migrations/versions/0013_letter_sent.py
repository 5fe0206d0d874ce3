"""Letters are prepared when issued and sent when the school records how and when they
left: the date sent, the method and who recorded it. The reply-by clock starts from the
date sent.

Revision ID: 0013_letter_sent
Revises: 0012_sealed_records
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0013_letter_sent"
down_revision = "0012_sealed_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN rather than a batch copy keeps the case-search triggers intact.
    op.add_column("letters", sa.Column("sent_on", sa.Date, nullable=True))
    op.add_column("letters", sa.Column("sent_method", sa.String(10), nullable=True))
    op.add_column("letters", sa.Column("sent_by", sa.String(200), nullable=True))
    op.add_column("letters", sa.Column("sent_recorded_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("letters") as batch:
        batch.drop_column("sent_recorded_at")
        batch.drop_column("sent_by")
        batch.drop_column("sent_method")
        batch.drop_column("sent_on")
