"""The school's workflow policy and each case's checklist, kept in step with its categories.

Kept apart from ``workflow.py`` so that the case service can plan a checklist in the same
transaction that opens a case or changes its categories.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db.models import (
    CaseActionRecord,
    CasePersonRecord,
    CaseRecord,
    PersonRecord,
    SettingRecord,
)
from app.domain.categories import decode_categories
from app.domain.people import CaseRole, PersonKind
from app.domain.search import fold
from app.services.context import resources_dir

if TYPE_CHECKING:
    from app.domain.policy import Policy

POLICY_SETTING = "workflow_policy"


@cache
def default_policy_text() -> str:
    """The policy shipped in resources/ (the school may save its own copy)."""
    return (resources_dir() / "workflow" / "policy.json").read_text(encoding="utf-8")


def load_policy(session: Session) -> Policy:
    """The school's saved policy, or the default one."""
    # Imported here: importing the policy (nine dataclasses) cost a letter from the command
    # line, which plans no checklist, about 16 ms of processor time, and about 5 ms with the
    # dataclass methods kept compiled (app.codecache).
    from app.domain.policy import parse_policy

    saved = session.get(SettingRecord, POLICY_SETTING)
    return parse_policy(saved.value if saved is not None else default_policy_text())


def sync_checklist(session: Session, case: CaseRecord, now: datetime) -> None:
    """Add the actions the case's categories need; drop unticked ones that no longer apply.

    Due times count from when the case was opened, so a category added later may bring
    an action that is already overdue: the head sees it at once.
    """
    policy = load_policy(session)
    existing = {
        a.rule_id: a
        for a in session.scalars(
            select(CaseActionRecord).where(CaseActionRecord.case_id == case.id)
        ).all()
    }
    planned = policy.plan(
        decode_categories(case.categories), case.created_at, post_names_staff(session, case.id)
    )
    wanted = {p.rule_id for p in planned}
    for rule_id, action in existing.items():
        if rule_id not in wanted and action.done_at is None:
            session.delete(action)
    for position, item in enumerate(planned):
        found = existing.get(item.rule_id)
        if found is None:
            session.add(
                CaseActionRecord(
                    case_id=case.id,
                    rule_id=item.rule_id,
                    label=item.label,
                    letter=item.letter.value if item.letter else "",
                    position=position,
                    due_at=item.due_at,
                    created_at=now,
                )
            )
        else:
            found.position = position
    session.flush()


def post_names_staff(session: Session, case_id: int) -> bool:
    """Whether a member of staff is linked to the case as the subject of the post: the
    post names them, and the checklist asks the school to support them."""
    found = session.scalar(
        select(CasePersonRecord.person_id)
        .join(PersonRecord, PersonRecord.id == CasePersonRecord.person_id)
        .where(
            CasePersonRecord.case_id == case_id,
            CasePersonRecord.role == CaseRole.SUBJECT.value,
            PersonRecord.kind == PersonKind.STAFF.value,
        )
        .limit(1)
    )
    return found is not None


def index_case_text(session: Session, case_id: int, body: str) -> None:
    """Make text that belongs to a case (a note, a text exhibit) findable from the search
    box, folded as the search box folds what is typed ("zoe" finds Zoë)."""
    if session.get_bind().dialect.name != "sqlite" or not body.strip():
        return
    session.execute(
        text("INSERT INTO case_text(body, case_id) VALUES (:body, :case_id)"),
        {"body": fold(body[:200_000]), "case_id": case_id},
    )
