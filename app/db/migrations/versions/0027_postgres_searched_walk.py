"""A shared (PostgreSQL) casebook's search walks the list without reading each case.

PostgreSQL only; a SQLite casebook is unchanged.

A search for a word that many cases hold ("#42": one case in fifty of a million) is
answered by walking the list in its usual order (latest activity first) and testing each
case's words until a page is found. Each case passed was read from the table, one page of
the table per case, as the list's order is not the order the cases were written in: about
10,000 of them for "#42", 30-60 ms when they are in the server's memory and 300-1,100 ms
when they are not. ``ix_cases_last_activity_words`` holds the list's order with each case's
words beside it, so the walk reads the index alone (about 140 pages for the same walk), and
only the page's own cases are read from the table (services/cases.py, ``list_cases``).

Revision ID: 0027_postgres_searched_walk
Revises: 0025_postgres_tallies
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0027_postgres_searched_walk"
down_revision = "0025_postgres_tallies"
branch_labels = None
depends_on = None

INDEX = "ix_cases_last_activity_words"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX {INDEX} ON cases (last_activity_at, id) INCLUDE (search_text)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {INDEX}")
