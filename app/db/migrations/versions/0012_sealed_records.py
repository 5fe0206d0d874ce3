"""Safeguarding records sealed under their own key, and users' records authenticated.

The words of a safeguarding case (and of the people only it names) are stored as sealed
tokens under the safeguarding key, which is longer than the text they hold: on PostgreSQL
the columns that may hold one become TEXT (SQLite does not enforce lengths). Each user's
record gets ``seal``, a MAC under the safeguarding key over their name and role, so that
an edited role is found at sign-in. ``ALTER TABLE ... ADD COLUMN`` (not a batch copy)
keeps the case-search triggers intact.

Revision ID: 0012_sealed_records
Revises: 0011_subject_access
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_sealed_records"
down_revision = "0011_subject_access"
branch_labels = None
depends_on = None

# Columns that may hold a sealed token, with their length before this revision.
WIDENED = {
    "cases": {"title": 200, "account_handle": 500, "reported_by": 500, "poster": 500},
    "people": {
        "name": 500,
        "name_key": 500,
        "postcode": 20,
        "email": 500,
        "phone": 50,
        "relationship": 500,
    },
    "evidence": {"original_name": 500, "captured_by": 500},
    "letters": {"recipient_name": 500},
}


def upgrade() -> None:
    op.add_column("users", sa.Column("seal", sa.Text, nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in WIDENED.items():
            for column, length in columns.items():
                op.alter_column(table, column, type_=sa.Text, existing_type=sa.String(length))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("seal")
