"""Cases, people, their links, the chronology and settings.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(20), nullable=False, unique=True),
        sa.Column("ref_year", sa.Integer, nullable=False),
        sa.Column("ref_number", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("platform", sa.String(100), nullable=False, server_default=""),
        sa.Column("post_url", sa.Text, nullable=False, server_default=""),
        sa.Column("account_handle", sa.String(500), nullable=False, server_default=""),
        sa.Column("posted_at", sa.DateTime, nullable=True),
        sa.Column("reported_on", sa.Date, nullable=True),
        sa.Column("reported_by", sa.String(500), nullable=False, server_default=""),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("follow_up_due", sa.Date, nullable=True),
        sa.Column("categories", sa.String(100), nullable=False, server_default=""),
        sa.Column("poster", sa.String(500), nullable=False, server_default=""),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.Column("code_version", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("last_activity_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.UniqueConstraint("ref_year", "ref_number", name="uq_cases_ref_year_number"),
    )
    for column in (
        "status",
        "follow_up_due",
        "last_activity_at",
        "title",
        "poster",
        "platform",
        "categories",
    ):
        op.create_index(f"ix_cases_{column}", "cases", [column])

    op.create_table(
        "case_categories",
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("category", sa.String(30), primary_key=True),
    )

    op.create_table(
        "people",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("name_key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("postcode", sa.String(20), nullable=False, server_default=""),
        sa.Column("email", sa.String(500), nullable=False, server_default=""),
        sa.Column("phone", sa.String(50), nullable=False, server_default=""),
        sa.Column("relationship", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_people_name_key", "people", ["name_key"])

    op.create_table(
        "case_people",
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="RESTRICT"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(20), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_case_people_person_id", "case_people", ["person_id"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_events_case_id_at", "events", ["case_id", "at"])

    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("events")
    op.drop_table("case_people")
    op.drop_table("people")
    op.drop_table("case_categories")
    op.drop_table("cases")
