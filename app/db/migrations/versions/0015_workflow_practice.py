"""A letter keeps the reply-by date worked out when it was sent (a working day), and a
step of the escalation ladder keeps the reference the platform or helpline gave.

Revision ID: 0015_workflow_practice
Revises: 0013_letter_sent
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_workflow_practice"
down_revision = "0013_letter_sent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN rather than a batch copy keeps the case-search triggers intact.
    op.add_column("letters", sa.Column("reply_by", sa.Date, nullable=True))
    op.add_column(
        "case_steps",
        sa.Column("reference", sa.String(200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("case_steps") as batch:
        batch.drop_column("reference")
    with op.batch_alter_table("letters") as batch:
        batch.drop_column("reply_by")
