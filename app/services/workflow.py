"""Following a case through: its checklist, re-checks, contacts, escalation and outcome."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import (
    CaseActionRecord,
    CaseOutcomeRecord,
    CaseRecord,
    CaseStepRecord,
    LetterRecord,
    SettingRecord,
)
from app.domain.access import Permission
from app.domain.categories import decode_categories
from app.domain.dates import LONDON, format_date_time, to_london
from app.domain.errors import NotFoundError, ValidationError
from app.domain.evidence import EvidenceDetails
from app.domain.letters import LetterKind
from app.domain.policy import (
    GONE_OUTCOMES,
    OUTCOME_LABELS,
    CaseOutcome,
    Contact,
    LadderPosition,
    Policy,
    StepOutcome,
    TakenStep,
    describe_hours,
    final_outcome,
    ladder_position,
    parse_policy,
)
from app.domain.records import CaseDetail
from app.domain.status import CLOSED_STATUSES, CaseStatus
from app.domain.validation import clean_text
from app.services.cases import (
    CaseService,
    add_event,
    apply_status,
    record_ladder_step,
    tick_action,
    tick_rule,
    visible_cases,
)
from app.services.checklist import POLICY_SETTING, default_policy_text, load_policy
from app.services.context import ServiceContext

if TYPE_CHECKING:
    from app.services.evidence import EvidenceService

_CLOSED = [s.value for s in CLOSED_STATUSES]


class ContactKind(StrEnum):
    """Kinds of entry a person adds to the chronology by hand."""

    NOTE = "note"
    PHONE_CALL = "phone_call"
    MEETING = "meeting"


CONTACT_LABELS = {
    ContactKind.NOTE: "Note",
    ContactKind.PHONE_CALL: "Phone call",
    ContactKind.MEETING: "Meeting",
}


@dataclass(frozen=True)
class ChecklistItem:
    """One action on a case's checklist, as the case screen shows it."""

    id: int
    case_id: int
    rule_id: str
    label: str
    letter: str
    due_at: datetime
    done_at: datetime | None
    done_by: str
    note: str
    overdue: bool
    due_today: bool
    # A letter this action asks for has been issued but not yet recorded as sent.
    letter_prepared: bool = False

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class DueItem:
    """A line of the "Today" view: an action due today or overdue on an open case."""

    case_id: int
    reference: str
    title: str
    action_id: int  # 0 for a ladder step
    label: str
    due_at: datetime
    overdue: bool
    rule_id: str = ""  # the policy's id of the action or ladder step
    step: bool = False  # the next escalation step rather than a checklist action


@dataclass(frozen=True)
class StepTaken:
    """An escalation step recorded on a case."""

    id: int
    step_id: str
    label: str
    taken_at: datetime
    outcome: StepOutcome
    note: str
    recorded_by: str
    reference: str = ""  # the number a platform or helpline gave the report


@dataclass(frozen=True)
class Escalation:
    """The steps taken so far and where the case stands on the ladder."""

    steps: tuple[StepTaken, ...]
    position: LadderPosition


@dataclass(frozen=True)
class OutcomeInfo:
    """How a case ended and how long the post stayed up after the report."""

    outcome: CaseOutcome
    outcome_at: datetime
    reported_at: datetime
    hours_to_removal: float | None

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


def record_letter_sent(
    session: Session, ctx: ServiceContext, case: CaseRecord, kind: LetterKind, moment: datetime
) -> None:
    """What sending a letter does to the workflow, inside the caller's transaction: the
    checklist action asking for this kind of letter is ticked, and the ladder step it
    stands for is taken (once per case)."""
    action = session.scalar(
        select(CaseActionRecord)
        .where(
            CaseActionRecord.case_id == case.id,
            CaseActionRecord.letter == kind.value,
            CaseActionRecord.done_at.is_(None),
        )
        .order_by(CaseActionRecord.position, CaseActionRecord.id)
        .limit(1)
    )
    if action is not None:
        tick_action(session, ctx, case, action, "letter sent")
    policy = load_policy(session)
    step = policy.step_for_letter(kind, decode_categories(case.categories))
    if step is None:
        return
    taken = session.scalar(
        select(CaseStepRecord.id).where(
            CaseStepRecord.case_id == case.id, CaseStepRecord.step_id == step.id
        )
    )
    if taken is None:
        record_ladder_step(session, ctx, case, step.id, StepOutcome.AWAITING, moment, "Letter sent")


def _end_of_london_day(now: datetime) -> datetime:
    local = to_london(now)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
    return midnight.replace(tzinfo=LONDON)


class WorkflowService:
    """Checklists, follow-ups, escalation and outcomes of cases."""

    def __init__(
        self, ctx: ServiceContext, evidence: EvidenceService, cases: CaseService | None = None
    ) -> None:
        self.ctx = ctx
        self.evidence = evidence
        self.cases = cases or CaseService(ctx)

    # ----- the policy -----------------------------------------------------------------

    def policy(self) -> Policy:
        """The school's checklist rules and escalation ladder."""
        with self.ctx.sessions() as session:
            return load_policy(session)

    def policy_json(self) -> str:
        """The policy as the JSON a school may edit."""
        with self.ctx.sessions() as session:
            saved = session.get(SettingRecord, POLICY_SETTING)
            return saved.value if saved is not None else default_policy_text()

    def save_policy(self, text: str) -> Policy:
        """Check and save the school's own policy; new cases follow it from now on."""
        self.ctx.require(Permission.SETTINGS, action="change follow-up policy")
        policy = parse_policy(text)
        with self.ctx.sessions.begin() as session:
            saved = session.get(SettingRecord, POLICY_SETTING)
            if saved is None:
                session.add(SettingRecord(key=POLICY_SETTING, value=text))
            else:
                saved.value = text
        return policy

    def save_contact(self, step_id: str, contact: Contact | None) -> Policy:
        """Change who a ladder step contacts (a helpline's number, a website), or remove
        the contact; the rest of the school's policy is kept as it is."""
        self.ctx.require(Permission.SETTINGS, action="change escalation contact", target=step_id)
        data = json.loads(self.policy_json())
        for item in data.get("ladder", []):
            if item.get("id") == step_id:
                if contact is None:
                    item.pop("contact", None)
                else:
                    item["contact"] = {
                        key: clean_text(value, key, 500)
                        for key, value in (
                            ("name", contact.name),
                            ("telephone", contact.telephone),
                            ("email", contact.email),
                            ("website", contact.website),
                            ("note", contact.note),
                        )
                        if value.strip()
                    }
                break
        else:
            self.policy().step(step_id)  # names the choices
        return self.save_policy(json.dumps(data, indent=2, ensure_ascii=False))

    def restore_default_policy(self) -> Policy:
        """Go back to the policy shipped with the app."""
        self.ctx.require(Permission.SETTINGS, action="restore default follow-up policy")
        with self.ctx.sessions.begin() as session:
            saved = session.get(SettingRecord, POLICY_SETTING)
            if saved is not None:
                session.delete(saved)
        return parse_policy(default_policy_text())

    # ----- the checklist ----------------------------------------------------------------

    def _case(self, session: Session, case_id: int) -> CaseRecord:
        case = session.get(CaseRecord, case_id)
        if case is None:
            raise NotFoundError("That case no longer exists.")
        return case

    def _item(
        self, action: CaseActionRecord, now: datetime, prepared: frozenset[str] = frozenset()
    ) -> ChecklistItem:
        open_ = action.done_at is None
        return ChecklistItem(
            id=action.id,
            case_id=action.case_id,
            rule_id=action.rule_id,
            label=action.label,
            letter=action.letter,
            due_at=action.due_at,
            done_at=action.done_at,
            done_by=action.done_by,
            note=action.note,
            overdue=open_ and action.due_at < now,
            due_today=open_
            and action.due_at >= now
            and to_london(action.due_at).date() == to_london(now).date(),
            letter_prepared=open_ and bool(action.letter) and action.letter in prepared,
        )

    def checklist(self, case_id: int) -> list[ChecklistItem]:
        """The case's actions in policy order."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        now = self.ctx.now()
        with self.ctx.sessions() as session:
            self._case(session, case_id)
            actions = session.scalars(
                select(CaseActionRecord)
                .where(CaseActionRecord.case_id == case_id)
                .order_by(CaseActionRecord.position, CaseActionRecord.id)
            ).all()
            prepared = frozenset(
                session.scalars(
                    select(LetterRecord.kind).where(
                        LetterRecord.case_id == case_id, LetterRecord.sent_on.is_(None)
                    )
                ).all()
            )
            return [self._item(a, now, prepared) for a in actions]

    def tick(self, action_id: int, note: str = "") -> ChecklistItem:
        """Mark an action done: who and when go on the checklist and in the chronology."""
        note = clean_text(note, "note", 2000, multiline=True)
        now = self.ctx.now()
        with self.ctx.sessions.begin() as session:
            action = session.get(CaseActionRecord, action_id)
            if action is None:
                raise NotFoundError("That action is no longer on the checklist.")
            self.ctx.require(Permission.EDIT_CASES, case_id=action.case_id, action="tick action")
            if action.done_at is not None:
                raise ValidationError(
                    f"'{action.label}' was already done on {format_date_time(action.done_at)}."
                )
            self._tick(session, action, now, note)
            return self._item(action, now)

    def _tick(self, session: Session, action: CaseActionRecord, now: datetime, note: str) -> None:
        tick_action(session, self.ctx, self._case(session, action.case_id), action, note)

    def untick(self, action_id: int) -> ChecklistItem:
        """Mark a ticked action as not done after all; the chronology keeps both entries."""
        now = self.ctx.now()
        with self.ctx.sessions.begin() as session:
            action = session.get(CaseActionRecord, action_id)
            if action is None:
                raise NotFoundError("That action is no longer on the checklist.")
            self.ctx.require(Permission.EDIT_CASES, case_id=action.case_id, action="untick action")
            if action.done_at is None:
                raise ValidationError(f"'{action.label}' is not marked as done.")
            action.done_at = None
            action.done_by = ""
            action.note = ""
            add_event(
                session,
                self._case(session, action.case_id),
                self.ctx,
                "action_reopened",
                f"Marked as not done: {action.label}",
                {"action_id": action.id, "rule_id": action.rule_id},
            )
            return self._item(action, now)

    def _tick_rule(self, session: Session, case_id: int, rule_id: str, note: str) -> None:
        tick_rule(session, self.ctx, self._case(session, case_id), rule_id, note)

    def due(self, *, include_today: bool = True) -> list[DueItem]:
        """What is overdue or due by the end of today (London) on open cases.

        Open checklist actions, and the next ladder step of each case whose wait has run
        out. Finished work is left out: ticked actions, closed cases, and cases whose post
        has gone (an outcome of removed, corrected or account deleted).
        """
        self.ctx.require(Permission.VIEW_CASES)
        now = self.ctx.now()
        horizon = _end_of_london_day(now) if include_today else now
        settled = select(CaseOutcomeRecord.case_id).where(
            CaseOutcomeRecord.outcome.in_(sorted(o.value for o in GONE_OUTCOMES))
        )
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(
                    CaseActionRecord.id,
                    CaseActionRecord.rule_id,
                    CaseActionRecord.label,
                    CaseActionRecord.due_at,
                    CaseRecord.id.label("case_id"),
                    CaseRecord.reference,
                    CaseRecord.title,
                )
                .join(CaseRecord, CaseRecord.id == CaseActionRecord.case_id)
                .where(
                    CaseActionRecord.done_at.is_(None),
                    CaseActionRecord.due_at < horizon,
                    CaseRecord.status.not_in(_CLOSED),
                    CaseRecord.id.not_in(settled),
                    *visible_cases(self.ctx),
                )
            ).all()
            items = [
                DueItem(
                    case_id=r.case_id,
                    reference=r.reference,
                    title=r.title,
                    action_id=r.id,
                    label=r.label,
                    due_at=r.due_at,
                    overdue=r.due_at < now,
                    rule_id=r.rule_id,
                )
                for r in rows
            ]
            items += self._ladder_due(session, now, horizon, settled)
        items.sort(key=lambda i: (i.due_at, i.reference, i.step))
        return items

    def _ladder_due(
        self, session: Session, now: datetime, horizon: datetime, settled: Any
    ) -> list[DueItem]:
        """The next ladder step of each open case whose wait ends before ``horizon``."""
        policy = load_policy(session)
        known = {s.id for s in policy.ladder}
        steps = session.execute(
            select(
                CaseStepRecord.case_id,
                CaseStepRecord.step_id,
                CaseStepRecord.taken_at,
                CaseStepRecord.outcome,
                CaseRecord.reference,
                CaseRecord.title,
                CaseRecord.categories,
            )
            .join(CaseRecord, CaseRecord.id == CaseStepRecord.case_id)
            .where(
                CaseRecord.status.not_in(_CLOSED),
                CaseRecord.id.not_in(settled),
                *visible_cases(self.ctx),
            )
        ).all()
        by_case: dict[int, list[Any]] = {}
        for row in steps:
            by_case.setdefault(int(row.case_id), []).append(row)
        found: list[DueItem] = []
        for case_id, rows in by_case.items():
            taken = [
                TakenStep(r.step_id, r.taken_at, StepOutcome(r.outcome))
                for r in rows
                if r.step_id in known
            ]
            if not taken:
                continue
            position = ladder_position(policy, decode_categories(rows[0].categories), taken)
            if position.next is None or position.next_due is None:
                continue
            if position.next_due >= horizon:
                continue
            found.append(
                DueItem(
                    case_id=case_id,
                    reference=rows[0].reference,
                    title=rows[0].title,
                    action_id=0,
                    label=f"Next escalation step: {position.next.label}",
                    due_at=position.next_due,
                    overdue=position.next_due < now,
                    rule_id=position.next.id,
                    step=True,
                )
            )
        return found

    # ----- chronology entries -------------------------------------------------------------

    def record_contact(
        self,
        case_id: int,
        kind: ContactKind,
        summary: str,
        *,
        when: datetime | None = None,
        present: Sequence[str] = (),
    ) -> None:
        """Add a note, phone call or meeting to the chronology: when, who was there, what."""
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action=f"record {kind.value}")
        summary = clean_text(summary, "summary", 20_000, multiline=True)
        if not summary:
            raise ValidationError("Please write a short summary.", field="summary")
        people = [clean_text(p, "name", 200) for p in present]
        people = [p for p in people if p]
        now = self.ctx.now()
        moment = when or now
        if moment > now + timedelta(minutes=5):
            raise ValidationError("The date of a call or meeting cannot be in the future.")
        label = CONTACT_LABELS[kind]
        text = f"{label} on {format_date_time(moment)}"
        if people:
            text += f" with {', '.join(people)}"
        text += f": {summary}"
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            add_event(
                session,
                case,
                self.ctx,
                kind.value,
                text,
                {"when": moment.isoformat(), "present": people, "summary": summary},
            )

    def recheck(
        self,
        case_id: int,
        still_up: bool,
        note: str = "",
        evidence: Sequence[tuple[str, bytes]] = (),
        *,
        resolve: bool = False,
    ) -> None:
        """Record a re-check of the post; if it has gone, keep the evidence of its removal.

        ``resolve`` (offered when the post has gone) also marks the case Resolved in the
        same transaction as the re-check.
        """
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action="record re-check")
        note = clean_text(note, "note", 2000, multiline=True)
        if evidence:
            self.evidence.add_bytes(
                case_id,
                evidence,
                EvidenceDetails(
                    captured_at=self.ctx.now(),
                    captured_by=self.ctx.actor,
                    note="Evidence that the post has been removed"
                    if not still_up
                    else "Re-check: the post is still up",
                ),
            )
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            result = "the post is still up" if still_up else "the post has gone"
            summary = f"Post re-checked: {result}"
            if note:
                summary += f". {note}"
            add_event(
                session,
                case,
                self.ctx,
                "post_rechecked",
                summary,
                {"still_up": still_up, "evidence": [name for name, _ in evidence]},
            )
            self._tick_rule(session, case_id, "recheck-post", result)
            if not still_up:
                if evidence:
                    self._tick_rule(session, case_id, "record-removal", "evidence kept")
                if session.get(CaseOutcomeRecord, case_id) is None:
                    self._set_outcome(session, case, CaseOutcome.REMOVED, self.ctx.now())
                if resolve:
                    apply_status(session, self.ctx, case, CaseStatus.RESOLVED, "the post has gone")

    # ----- escalation and outcome -----------------------------------------------------------

    def take_step(
        self,
        case_id: int,
        step_id: str,
        outcome: StepOutcome = StepOutcome.AWAITING,
        *,
        when: datetime | None = None,
        note: str = "",
        reference: str = "",
    ) -> Escalation:
        """Record an escalation step with its outcome and date (and the reference number a
        platform or helpline gave, when it is a report)."""
        self.ctx.require(
            Permission.EDIT_CASES, case_id=case_id, action=f"escalation step {step_id}"
        )
        note = clean_text(note, "note", 2000, multiline=True)
        reference = clean_text(reference, "reference", 200)
        now = self.ctx.now()
        moment = when or now
        if moment > now + timedelta(minutes=5):
            raise ValidationError("The date of a step cannot be in the future.")
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            self._record_step(session, case, step_id, outcome, moment, note, reference)
        return self.escalation(case_id)

    def _record_step(
        self,
        session: Session,
        case: CaseRecord,
        step_id: str,
        outcome: StepOutcome,
        moment: datetime,
        note: str,
        reference: str = "",
    ) -> None:
        """Record a ladder step and its consequences inside the caller's transaction."""
        record_ladder_step(session, self.ctx, case, step_id, outcome, moment, note, reference)
        settled = final_outcome(outcome)
        if settled is not None:
            self._set_outcome(session, case, settled, moment)

    def change_status(
        self,
        case_id: int,
        target: CaseStatus,
        note: str = "",
        expected_version: int | None = None,
        *,
        step_id: str | None = None,
    ) -> CaseDetail:
        """Move the case on; escalating also records which ladder step was taken."""
        return self.cases.change_status(case_id, target, note, expected_version, step_id=step_id)

    def escalation(self, case_id: int) -> Escalation:
        """The steps taken on a case and where it stands on the ladder."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            case = self._case(session, case_id)
            policy = load_policy(session)
            records = session.scalars(
                select(CaseStepRecord)
                .where(CaseStepRecord.case_id == case_id)
                .order_by(CaseStepRecord.taken_at, CaseStepRecord.id)
            ).all()
            steps = tuple(
                StepTaken(
                    id=r.id,
                    step_id=r.step_id,
                    label=r.label,
                    taken_at=r.taken_at,
                    outcome=StepOutcome(r.outcome),
                    note=r.note,
                    recorded_by=r.recorded_by,
                    reference=r.reference,
                )
                for r in records
            )
            known = {s.id for s in policy.ladder}
            taken = [
                TakenStep(s.step_id, s.taken_at, s.outcome) for s in steps if s.step_id in known
            ]
            position = ladder_position(policy, decode_categories(case.categories), taken)
        return Escalation(steps, position)

    def set_outcome(
        self,
        case_id: int,
        outcome: CaseOutcome,
        when: datetime | None = None,
        *,
        resolve: bool = False,
    ) -> OutcomeInfo:
        """Record how the case ended; the time from report to removal is worked out.

        ``resolve`` also marks the case Resolved, in the same transaction (offered when
        the post has gone); a case whose status cannot move to Resolved is refused whole.
        """
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action=f"outcome {outcome.value}")
        moment = when or self.ctx.now()
        if moment > self.ctx.now() + timedelta(minutes=5):
            raise ValidationError("The date of the outcome cannot be in the future.")
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            self._set_outcome(session, case, outcome, moment)
            if resolve:
                why = f"outcome {OUTCOME_LABELS[outcome].lower()}"
                apply_status(session, self.ctx, case, CaseStatus.RESOLVED, why)
        found = self.outcome(case_id)
        assert found is not None
        return found

    def _set_outcome(
        self, session: Session, case: CaseRecord, outcome: CaseOutcome, moment: datetime
    ) -> None:
        # The report is the moment the school recorded the case.
        reported = case.created_at
        hours = (
            max(0.0, (moment - reported).total_seconds() / 3600)
            if outcome in GONE_OUTCOMES
            else None
        )
        record = session.get(CaseOutcomeRecord, case.id)
        if record is None:
            record = CaseOutcomeRecord(case_id=case.id)
            session.add(record)
        record.outcome = outcome.value
        record.outcome_at = moment
        record.reported_at = reported
        record.hours_to_removal = hours
        record.recorded_by = self.ctx.actor
        summary = f"Outcome recorded: {OUTCOME_LABELS[outcome]}"
        if hours is not None:
            summary += f", {describe_hours(hours)} after the report"
        add_event(
            session,
            case,
            self.ctx,
            "outcome",
            summary,
            {"outcome": outcome.value, "hours_to_removal": hours},
        )

    def outcome(self, case_id: int) -> OutcomeInfo | None:
        """How the case ended, if an outcome has been recorded."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            record = session.get(CaseOutcomeRecord, case_id)
            if record is None:
                return None
            return OutcomeInfo(
                CaseOutcome(record.outcome),
                record.outcome_at,
                record.reported_at,
                record.hours_to_removal,
            )
