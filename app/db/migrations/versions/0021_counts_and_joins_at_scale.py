"""The case list's totals and a case's joined-up cases at a million cases.

- ``case_tallies`` (SQLite) holds how many cases there are of each status, follow-up date
  and kind (safeguarding or not), kept in step by triggers on ``cases``. The status bar's
  totals (all, open, overdue) are read from it: a few hundred rows, where counting the
  cases themselves read an index of a million entries at every start (113 ms for the
  statuses and 316 ms for the overdue count on a loaded machine).
- ``case_activity_tallies`` (SQLite) holds the same per day of last activity: a case's
  place in the list's usual order (latest activity first), needed to select a case far
  down the list, is counted from these and the few hundred cases of its own day, where
  counting every case before it read up to a million index entries (0.3-1 s).
- ``ix_cases_handle_key`` indexes an account handle as the joined-up cases compare it
  (lower case, without its @), and ``ix_cases_post_url_key`` a post's address as typed
  (lower case, trimmed): opening a case looked for others from the same account and post
  by reading every case (2-3 s over a million cases).

A later migration that copies the cases table (a batch operation) drops these triggers, as
it drops the search triggers: it must make them again and refill the tallies.

Revision ID: 0021_counts_and_joins_at_scale
Revises: 0020_list_at_scale
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_counts_and_joins_at_scale"
down_revision = "0020_list_at_scale"
branch_labels = None
depends_on = None

# The tally row a case belongs to (``row`` is new or old in a trigger).
_KEY = (
    "{row}.status, coalesce({row}.follow_up_due, ''), instr({row}.categories, 'safeguarding') > 0"
)
_ADD = (
    "INSERT INTO case_tallies (status, due, safeguarding, cases) VALUES ({key}, 1) "
    "ON CONFLICT (status, due, safeguarding) DO UPDATE SET cases = cases + 1;"
)
_TAKE = (
    "UPDATE case_tallies SET cases = cases - 1 WHERE status = {row}.status "
    "AND due = coalesce({row}.follow_up_due, '') "
    "AND safeguarding = (instr({row}.categories, 'safeguarding') > 0);"
)
# Fills the tallies from the cases (also used by benchmarks/_casebook.py after a bulk load).
FILL = (
    "INSERT INTO case_tallies (status, due, safeguarding, cases) "
    "SELECT status, coalesce(follow_up_due, ''), instr(categories, 'safeguarding') > 0, "
    "count(*) FROM cases GROUP BY 1, 2, 3"
)


# The same per day of last activity: where a case stands in the list's usual order (latest
# activity first) is counted from these and the few hundred cases of its own day.
_DAY_KEY = (
    "{row}.status, substr({row}.last_activity_at, 1, 10), "
    "instr({row}.categories, 'safeguarding') > 0"
)
_DAY_ADD = (
    "INSERT INTO case_activity_tallies (status, day, safeguarding, cases) VALUES ({key}, 1) "
    "ON CONFLICT (status, day, safeguarding) DO UPDATE SET cases = cases + 1;"
)
_DAY_TAKE = (
    "UPDATE case_activity_tallies SET cases = cases - 1 WHERE status = {row}.status "
    "AND day = substr({row}.last_activity_at, 1, 10) "
    "AND safeguarding = (instr({row}.categories, 'safeguarding') > 0);"
)
DAY_FILL = (
    "INSERT INTO case_activity_tallies (status, day, safeguarding, cases) "
    "SELECT status, substr(last_activity_at, 1, 10), instr(categories, 'safeguarding') > 0, "
    "count(*) FROM cases GROUP BY 1, 2, 3"
)


def upgrade() -> None:
    op.create_index("ix_cases_handle_key", "cases", [sa.text("ltrim(lower(account_handle), '@')")])
    op.create_index("ix_cases_post_url_key", "cases", [sa.text("lower(trim(post_url))")])
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE case_tallies (status VARCHAR(30) NOT NULL, due VARCHAR(10) NOT NULL, "
        "safeguarding BOOLEAN NOT NULL, cases INTEGER NOT NULL, "
        "PRIMARY KEY (status, due, safeguarding))"
    )
    op.execute(FILL)
    new = _KEY.format(row="new")
    op.execute(
        "CREATE TRIGGER cases_tally_insert AFTER INSERT ON cases BEGIN "
        + _ADD.format(key=new)
        + " END"
    )
    op.execute(
        "CREATE TRIGGER cases_tally_delete AFTER DELETE ON cases BEGIN "
        + _TAKE.format(row="old")
        + " END"
    )
    op.execute(
        "CREATE TRIGGER cases_tally_update AFTER UPDATE OF status, follow_up_due, categories "
        "ON cases BEGIN " + _TAKE.format(row="old") + " " + _ADD.format(key=new) + " END"
    )

    op.execute(
        "CREATE TABLE case_activity_tallies (status VARCHAR(30) NOT NULL, "
        "day VARCHAR(10) NOT NULL, safeguarding BOOLEAN NOT NULL, cases INTEGER NOT NULL, "
        "PRIMARY KEY (status, day, safeguarding))"
    )
    op.execute(DAY_FILL)
    day = _DAY_KEY.format(row="new")
    op.execute(
        "CREATE TRIGGER cases_day_tally_insert AFTER INSERT ON cases BEGIN "
        + _DAY_ADD.format(key=day)
        + " END"
    )
    op.execute(
        "CREATE TRIGGER cases_day_tally_delete AFTER DELETE ON cases BEGIN "
        + _DAY_TAKE.format(row="old")
        + " END"
    )
    op.execute(
        "CREATE TRIGGER cases_day_tally_update AFTER UPDATE OF status, last_activity_at, "
        "categories ON cases BEGIN "
        + _DAY_TAKE.format(row="old")
        + " "
        + _DAY_ADD.format(key=day)
        + " END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS cases_day_tally_update")
        op.execute("DROP TRIGGER IF EXISTS cases_day_tally_delete")
        op.execute("DROP TRIGGER IF EXISTS cases_day_tally_insert")
        op.execute("DROP TABLE IF EXISTS case_activity_tallies")
        op.execute("DROP TRIGGER IF EXISTS cases_tally_update")
        op.execute("DROP TRIGGER IF EXISTS cases_tally_delete")
        op.execute("DROP TRIGGER IF EXISTS cases_tally_insert")
        op.execute("DROP TABLE IF EXISTS case_tallies")
    op.drop_index("ix_cases_post_url_key", table_name="cases")
    op.drop_index("ix_cases_handle_key", table_name="cases")
