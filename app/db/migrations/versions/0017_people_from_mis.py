"""People from the school's MIS: a title, forenames and surname for everyone; pupils'
preferred name, year and class; contacts' parental responsibility, priority and
restriction flags; the MIS id; which contacts belong to which pupils; and each import,
with what it changed, so that it can be undone as a whole.

Revision ID: 0017_people_from_mis
Revises: 0016_code_versions
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime

revision = "0017_people_from_mis"
down_revision = "0016_code_versions"
branch_labels = None
depends_on = None

_PEOPLE_COLUMNS = (
    # Text columns may hold a sealed token (see app/db/sealing.py), as names do.
    ("title", sa.Text),
    ("forenames", sa.Text),
    ("surname", sa.Text),
    ("preferred_name", sa.Text),
    ("year_group", sa.Text),
    ("reg_group", sa.Text),
    ("mis_id", sa.Text),
)


def upgrade() -> None:
    # ADD COLUMN rather than a batch copy keeps the case-search triggers intact.
    for name, type_ in _PEOPLE_COLUMNS:
        op.add_column("people", sa.Column(name, type_, nullable=False, server_default=""))
    op.add_column("people", sa.Column("parental_responsibility", sa.Boolean, nullable=True))
    op.add_column("people", sa.Column("contact_priority", sa.Integer, nullable=True))
    op.add_column(
        "people",
        sa.Column("court_order", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "people",
        sa.Column("contact_restriction", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "person_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("system", sa.String(40), nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("undone_at", UTCDateTime, nullable=True),
        sa.Column("undone_by", sa.String(200), nullable=True),
    )
    op.create_table(
        "person_import_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "import_id",
            sa.Integer,
            sa.ForeignKey("person_imports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("before", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_person_import_changes_import_id", "person_import_changes", ["import_id"])
    op.create_index("ix_person_import_changes_person_id", "person_import_changes", ["person_id"])
    op.create_table(
        "family_links",
        sa.Column(
            "pupil_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "contact_id",
            sa.Integer,
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("relationship", sa.String(100), nullable=False, server_default=""),
        sa.Column("import_id", sa.Integer, nullable=True),
    )
    op.create_index("ix_family_links_contact_id", "family_links", ["contact_id"])


def downgrade() -> None:
    op.drop_table("family_links")
    op.drop_table("person_import_changes")
    op.drop_table("person_imports")
    with op.batch_alter_table("people") as batch:
        for name in (
            "contact_restriction",
            "court_order",
            "contact_priority",
            "parental_responsibility",
            *(n for n, _ in reversed(_PEOPLE_COLUMNS)),
        ):
            batch.drop_column(name)
