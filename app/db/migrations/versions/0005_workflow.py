"""Workflow: checklist actions, escalation steps, outcomes, and a search index of case text.

``case_text`` (SQLite FTS5, trigram) holds text that belongs to a case but not to its row:
summaries of notes, calls, meetings and re-checks (kept in step by a trigger on ``events``) and the
contents of text evidence (written by the evidence service). The case list searches it
beside ``case_search``.

Revision ID: 0005_workflow
Revises: 0004_case_search
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_workflow"
down_revision = "0004_case_search"
branch_labels = None
depends_on = None

# Chronology entries whose words the search box looks at.
SEARCHED_EVENTS = "('note', 'phone_call', 'meeting', 'post_rechecked', 'step_taken')"


def upgrade() -> None:
    op.create_table(
        "case_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("rule_id", sa.String(60), nullable=False),
        sa.Column("label", sa.String(500), nullable=False),
        sa.Column("letter", sa.String(30), nullable=False, server_default=""),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("done_at", sa.DateTime, nullable=True),
        sa.Column("done_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_case_actions_case_id", "case_actions", ["case_id"])
    op.create_index("ix_case_actions_open_due", "case_actions", ["done_at", "due_at"])
    op.create_table(
        "case_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("step_id", sa.String(60), nullable=False),
        sa.Column("label", sa.String(500), nullable=False),
        sa.Column("taken_at", sa.DateTime, nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_case_steps_case_id", "case_steps", ["case_id"])
    op.create_table(
        "case_outcomes",
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("outcome_at", sa.DateTime, nullable=False),
        sa.Column("reported_at", sa.DateTime, nullable=False),
        sa.Column("hours_to_removal", sa.Float, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_case_outcomes_outcome_at", "case_outcomes", ["outcome_at"])
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE case_text USING fts5(body, case_id UNINDEXED, tokenize='trigram')"
    )
    op.execute(
        "INSERT INTO case_text(body, case_id) SELECT summary, case_id FROM events "
        f"WHERE kind IN {SEARCHED_EVENTS}"
    )
    # The case summary joins the list's own search text (its trigger updates case_search).
    op.execute(
        "UPDATE cases SET search_text = search_text || ' ' || lower(summary) WHERE summary != ''"
    )
    op.execute(
        "CREATE TRIGGER events_case_text AFTER INSERT ON events "
        f"WHEN new.kind IN {SEARCHED_EVENTS} BEGIN "
        "INSERT INTO case_text(body, case_id) VALUES (new.summary, new.case_id); END"
    )
    op.execute(
        "CREATE TRIGGER cases_case_text_delete AFTER DELETE ON cases BEGIN "
        "DELETE FROM case_text WHERE case_id = old.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS cases_case_text_delete")
        op.execute("DROP TRIGGER IF EXISTS events_case_text")
        op.execute("DROP TABLE IF EXISTS case_text")
    op.drop_table("case_outcomes")
    op.drop_table("case_steps")
    op.drop_table("case_actions")
