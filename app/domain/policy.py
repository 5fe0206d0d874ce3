"""The school's usual steps as data: required actions per standard, and the escalation ladder.

The defaults live in ``resources/workflow/policy.json``; a school may save its own copy (kept
in the settings table as JSON). Due times are worked out in Europe/London: "in 2 days" means
the same wall-clock time two days later, across a clock change; "in 24 hours" means elapsed
time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.categories import Category
from app.domain.dates import LONDON, as_utc, to_london
from app.domain.errors import ValidationError
from app.domain.letters import REQUEST_KINDS, LetterKind

# An action with this condition is planned only when a member of staff is linked to the
# case as the subject of the post (the post names them).
STAFF_NAMED = "staff-named"


class CaseOutcome(StrEnum):
    """How a case ended; the values are stable ids for CLI, CSV and JSON."""

    REMOVED = "removed"
    CORRECTED = "corrected"
    REFUSED = "refused"
    ACCOUNT_DELETED = "account_deleted"
    NOT_TRACED = "not_traced"


OUTCOME_LABELS: dict[CaseOutcome, str] = {
    CaseOutcome.REMOVED: "Removed",
    CaseOutcome.CORRECTED: "Corrected",
    CaseOutcome.REFUSED: "Refused",
    CaseOutcome.ACCOUNT_DELETED: "Account deleted",
    CaseOutcome.NOT_TRACED: "Not traced",
}

# Outcomes after which the post is no longer up: time to removal is measured for these.
GONE_OUTCOMES = frozenset({CaseOutcome.REMOVED, CaseOutcome.CORRECTED, CaseOutcome.ACCOUNT_DELETED})


class StepOutcome(StrEnum):
    """What came of one escalation step."""

    AWAITING = "awaiting"
    NO_RESPONSE = "no_response"
    REMOVED = "removed"
    CORRECTED = "corrected"
    REFUSED = "refused"
    ACCOUNT_DELETED = "account_deleted"
    NOT_TRACED = "not_traced"
    ADVICE_GIVEN = "advice_given"


STEP_OUTCOME_LABELS: dict[StepOutcome, str] = {
    StepOutcome.AWAITING: "Awaiting a response",
    StepOutcome.NO_RESPONSE: "No response",
    StepOutcome.REMOVED: "Removed",
    StepOutcome.CORRECTED: "Corrected",
    StepOutcome.REFUSED: "Refused",
    StepOutcome.ACCOUNT_DELETED: "Account deleted",
    StepOutcome.NOT_TRACED: "Not traced",
    StepOutcome.ADVICE_GIVEN: "Advice given",
}


def parse_outcome(value: str) -> CaseOutcome:
    """Accept an outcome id or label, or explain the choices."""
    cleaned = value.strip().lower().replace(" ", "_").replace("-", "_")
    for outcome in CaseOutcome:
        if cleaned in (outcome.value, OUTCOME_LABELS[outcome].lower().replace(" ", "_")):
            return outcome
    allowed = ", ".join(o.value for o in CaseOutcome)
    raise ValidationError(f"'{value}' is not an outcome; use one of: {allowed}.", field="outcome")


def final_outcome(step: StepOutcome) -> CaseOutcome | None:
    """The case outcome a step's result settles, if any."""
    try:
        return CaseOutcome(step.value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Wait:
    """How long until something is due: elapsed hours, or calendar days on London's clock."""

    hours: int | None = None
    days: int | None = None

    def due_from(self, start: datetime) -> datetime:
        """The UTC moment this wait ends when it starts at ``start``."""
        if self.hours is not None:
            return as_utc(start) + timedelta(hours=self.hours)
        local = to_london(start)
        wall = local.replace(tzinfo=None) + timedelta(days=self.days or 0)
        # Re-attach London so the offset of the due day applies (GMT or BST).
        return as_utc(wall.replace(tzinfo=LONDON))

    def describe(self) -> str:
        """'at once', 'within 4 hours', 'within 2 days'."""
        if self.hours is not None:
            if self.hours == 0:
                return "at once"
            return f"within {self.hours} hour{'s' if self.hours != 1 else ''}"
        days = self.days or 0
        return f"within {days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class Contact:
    """Who to contact for a ladder step (a helpline, a reporting service) and how."""

    name: str
    telephone: str = ""
    email: str = ""
    website: str = ""
    note: str = ""

    def lines(self) -> tuple[str, ...]:
        """'Telephone 0344 381 4772', 'Email ...', 'Website ...', the note: for the screen."""
        found = [self.name]
        for label, value in (
            ("Telephone", self.telephone),
            ("Email", self.email),
            ("Website", self.website),
        ):
            if value:
                found.append(f"{label} {value}")
        if self.note:
            found.append(self.note)
        return tuple(found)


@dataclass(frozen=True)
class ActionRule:
    """One action the school takes for cases breaching any of ``categories``."""

    id: str
    label: str
    categories: frozenset[Category]
    wait: Wait
    letter: LetterKind | None = None
    when: str = ""  # "" always; STAFF_NAMED only when the post names a member of staff

    def applies(self, categories: frozenset[Category], staff_named: bool) -> bool:
        """Whether a case with these categories (naming staff or not) needs this action."""
        if self.when == STAFF_NAMED and not staff_named:
            return False
        return bool(self.categories & categories)


@dataclass(frozen=True)
class LadderStep:
    """One rung of the escalation ladder."""

    id: str
    label: str
    wait: Wait | None = None  # how long to wait for a response before the next step
    letter: LetterKind | None = None
    # Empty: every case; else only cases breaching one of these (police: threats or hate).
    categories: frozenset[Category] = frozenset()
    contact: Contact | None = None
    # Cases breaching one of these may take this step at once, without waiting for the
    # step before it (safeguarding goes to the helpline without the 48 hours' wait).
    at_once_for: frozenset[Category] = frozenset()
    # A report to an outside body: the reference number it gave is recorded with the step.
    records_reference: bool = False

    def applies_to(self, categories: Iterable[Category]) -> bool:
        """Whether a case with these categories may take this step."""
        return not self.categories or bool(self.categories & frozenset(categories))


@dataclass(frozen=True)
class PlannedAction:
    """An action a case needs, with the moment it is due (UTC)."""

    rule_id: str
    label: str
    due_at: datetime
    letter: LetterKind | None


@dataclass(frozen=True)
class Policy:
    """The school's checklist and escalation ladder."""

    version: str
    actions: tuple[ActionRule, ...]
    ladder: tuple[LadderStep, ...]

    def actions_for(
        self, categories: Iterable[Category], staff_named: bool = False
    ) -> tuple[ActionRule, ...]:
        """Rules that apply to a case with these categories, in policy order."""
        wanted = frozenset(categories)
        return tuple(rule for rule in self.actions if rule.applies(wanted, staff_named))

    def plan(
        self, categories: Iterable[Category], opened_at: datetime, staff_named: bool = False
    ) -> list[PlannedAction]:
        """The checklist for a case opened at ``opened_at`` (UTC)."""
        return [
            PlannedAction(rule.id, rule.label, rule.wait.due_from(opened_at), rule.letter)
            for rule in self.actions_for(categories, staff_named)
        ]

    def step_for_letter(
        self, kind: LetterKind, categories: Iterable[Category]
    ) -> LadderStep | None:
        """The ladder step that sending a letter of ``kind`` takes: the step naming that
        kind, or for any first request (removal, correction, ...) the first-letter step."""
        cats = frozenset(categories)
        applicable = [s for s in self.ladder if s.applies_to(cats)]
        for step in applicable:
            if step.letter == kind:
                return step
        if kind in REQUEST_KINDS:
            for step in applicable:
                if step.letter in REQUEST_KINDS:
                    return step
        return None

    def step(self, step_id: str) -> LadderStep:
        """The ladder step with this id, or a ``ValidationError`` naming the choices."""
        for step in self.ladder:
            if step.id == step_id:
                return step
        allowed = ", ".join(s.id for s in self.ladder)
        raise ValidationError(
            f"'{step_id}' is not a step of the escalation ladder; use one of: {allowed}.",
            field="step",
        )

    def to_json(self) -> str:
        """The policy as the JSON a school may edit."""
        return json.dumps(_policy_to_data(self), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class TakenStep:
    """A ladder step the school has taken on a case."""

    step_id: str
    on: datetime
    outcome: StepOutcome


@dataclass(frozen=True)
class LadderPosition:
    """Where a case stands on the ladder and what comes next."""

    current: LadderStep | None
    current_outcome: StepOutcome | None
    next: LadderStep | None
    next_due: datetime | None  # when the next step falls due if nothing changes
    settled: bool  # an outcome that ends escalation (removed, corrected, account deleted)

    def describe(self) -> str:
        """One sentence for the case screen."""
        if self.settled:
            return "Escalation has ended: the post has been dealt with."
        if self.current is None:
            first = self.next.label if self.next else "none"
            return f"No escalation step taken yet; the first step is: {first}."
        text = f"Current step: {self.current.label}"
        if self.current_outcome is not None:
            text += f" ({STEP_OUTCOME_LABELS[self.current_outcome].lower()})"
        if self.next is None:
            return text + ". This is the last step."
        return text + f". Next: {self.next.label}."


def ladder_position(
    policy: Policy, categories: Iterable[Category], taken: Sequence[TakenStep]
) -> LadderPosition:
    """Work out the current and next ladder steps from the steps taken so far."""
    cats = frozenset(categories)
    applicable = [s for s in policy.ladder if s.applies_to(cats)]
    if not taken:
        return LadderPosition(None, None, applicable[0] if applicable else None, None, False)
    last = max(taken, key=lambda t: t.on)
    outcome = final_outcome(last.outcome)
    settled = outcome is not None and outcome in GONE_OUTCOMES
    ids = [s.id for s in applicable]
    furthest = max(
        (ids.index(t.step_id) for t in taken if t.step_id in ids),
        default=-1,
    )
    current = policy.step(last.step_id)
    following = applicable[furthest + 1] if furthest + 1 < len(applicable) else None
    if settled:
        following = None
    due = current.wait.due_from(last.on) if (following and current.wait) else None
    if following is not None and following.at_once_for & cats:
        due = as_utc(last.on)
    return LadderPosition(current, last.outcome, following, due, settled)


def is_due_today(due_at: datetime, now: datetime) -> bool:
    """True when ``due_at`` falls on today's date in London (and has not passed)."""
    return to_london(due_at).date() == to_london(now).date() and due_at >= now


def is_overdue(due_at: datetime, now: datetime) -> bool:
    """True once the due moment has passed."""
    return as_utc(due_at) < as_utc(now)


def london_date(moment: datetime) -> date:
    """The London calendar date of a UTC moment."""
    return to_london(moment).date()


def describe_hours(hours: float) -> str:
    """'3 days 4 hours', '5 hours' — a duration as a head teacher would say it."""
    whole = round(hours)
    days, rest = divmod(whole, 24)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if rest or not days:
        parts.append(f"{rest} hour{'s' if rest != 1 else ''}")
    return " ".join(parts)


# ----- reading and writing the policy --------------------------------------------------------


def _wait(data: Mapping[str, Any], prefix: str, where: str) -> Wait | None:
    hours = data.get(f"{prefix}_hours")
    days = data.get(f"{prefix}_days")
    if hours is None and days is None:
        return None
    value = hours if hours is not None else days
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 365 * 24:
        raise ValidationError(f"The time allowed for {where} must be a whole number of 0 or more.")
    return Wait(hours=hours) if hours is not None else Wait(days=days)


def _categories(data: Mapping[str, Any], where: str) -> frozenset[Category]:
    found: set[Category] = set()
    for value in data.get("categories", []):
        try:
            found.add(Category(value))
        except ValueError:
            allowed = ", ".join(c.value for c in Category)
            raise ValidationError(
                f"'{value}' in {where} is not a category; use one of: {allowed}."
            ) from None
    return frozenset(found)


def _letter(data: Mapping[str, Any], where: str) -> LetterKind | None:
    value = data.get("letter")
    if value is None:
        return None
    try:
        return LetterKind(value)
    except ValueError:
        raise ValidationError(f"'{value}' in {where} is not a kind of letter.") from None


def _contact(data: Mapping[str, Any], where: str) -> Contact | None:
    value = data.get("contact")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(f"The contact of {where} is not in the expected form.")
    texts: dict[str, str] = {}
    for key in ("name", "telephone", "email", "website", "note"):
        item = value.get(key, "")
        if not isinstance(item, str) or len(item) > 500:
            raise ValidationError(f"The contact's {key} in {where} must be a short text.")
        texts[key] = item.strip()
    if not texts["name"]:
        raise ValidationError(f"The contact of {where} needs a 'name'.")
    return Contact(**texts)


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"Each entry of {where} needs a '{key}'.")
    return value.strip()


def policy_from_data(data: Any) -> Policy:
    """Build a ``Policy`` from parsed JSON, or explain in one sentence what is wrong."""
    if not isinstance(data, dict):
        raise ValidationError("The workflow settings are not in the expected form.")
    actions: list[ActionRule] = []
    seen: set[str] = set()
    for item in data.get("actions", []):
        rule_id = _text(item, "id", "the actions")
        where = f"the action '{rule_id}'"
        if rule_id in seen:
            raise ValidationError(f"The action '{rule_id}' appears twice.")
        seen.add(rule_id)
        cats = _categories(item, where)
        if not cats:
            raise ValidationError(f"{where.capitalize()} applies to no category.")
        wait = _wait(item, "due", where) or Wait(days=7)
        when = item.get("when", "")
        if when not in ("", STAFF_NAMED):
            raise ValidationError(
                f"'{when}' in {where} is not a condition; use '{STAFF_NAMED}' or leave it out."
            )
        actions.append(
            ActionRule(rule_id, _text(item, "label", where), cats, wait, _letter(item, where), when)
        )
    ladder: list[LadderStep] = []
    seen = set()
    for item in data.get("ladder", []):
        step_id = _text(item, "id", "the escalation ladder")
        where = f"the step '{step_id}'"
        if step_id in seen:
            raise ValidationError(f"The step '{step_id}' appears twice.")
        seen.add(step_id)
        ladder.append(
            LadderStep(
                step_id,
                _text(item, "label", where),
                _wait(item, "wait", where),
                _letter(item, where),
                _categories(item, where),
                _contact(item, where),
                _categories({"categories": item.get("at_once_for", [])}, where),
                bool(item.get("records_reference", False)),
            )
        )
    if not ladder:
        raise ValidationError("The escalation ladder needs at least one step.")
    return Policy(str(data.get("version", "1")), tuple(actions), tuple(ladder))


def parse_policy(text: str) -> Policy:
    """Read a policy from JSON text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"The workflow settings are not valid JSON (line {error.lineno})."
        ) from None
    return policy_from_data(data)


def _wait_data(wait: Wait | None, prefix: str) -> dict[str, int]:
    if wait is None:
        return {}
    if wait.hours is not None:
        return {f"{prefix}_hours": wait.hours}
    return {f"{prefix}_days": wait.days or 0}


def _contact_data(contact: Contact) -> dict[str, str]:
    return {
        key: value
        for key, value in (
            ("name", contact.name),
            ("telephone", contact.telephone),
            ("email", contact.email),
            ("website", contact.website),
            ("note", contact.note),
        )
        if value
    }


def _policy_to_data(policy: Policy) -> dict[str, Any]:
    return {
        "version": policy.version,
        "actions": [
            {
                "id": r.id,
                "label": r.label,
                "categories": sorted(c.value for c in r.categories),
                **_wait_data(r.wait, "due"),
                **({"letter": r.letter.value} if r.letter else {}),
                **({"when": r.when} if r.when else {}),
            }
            for r in policy.actions
        ],
        "ladder": [
            {
                "id": s.id,
                "label": s.label,
                **_wait_data(s.wait, "wait"),
                **({"letter": s.letter.value} if s.letter else {}),
                **({"categories": sorted(c.value for c in s.categories)} if s.categories else {}),
                **({"contact": _contact_data(s.contact)} if s.contact else {}),
                **(
                    {"at_once_for": sorted(c.value for c in s.at_once_for)} if s.at_once_for else {}
                ),
                **({"records_reference": True} if s.records_reference else {}),
            }
            for s in policy.ladder
        ],
    }


# ----- intake: what the "Report a post" questions suggest ---------------------------------


@dataclass(frozen=True)
class IntakeAnswers:
    """The answers to the questions of the "Report a post" wizard."""

    child_identified: bool = False
    threatening_or_abusive: bool = False
    procedure_matter: bool = False  # complaint, bullying, attendance or additional needs
    factually_wrong: bool = False


def propose_categories(answers: IntakeAnswers) -> frozenset[Category]:
    """The standards the answers point to (abusive when nothing else is ticked)."""
    found: set[Category] = set()
    if answers.child_identified:
        found.add(Category.SAFEGUARDING)
    if answers.threatening_or_abusive:
        found.add(Category.ABUSIVE)
    if answers.procedure_matter:
        found.add(Category.PROCEDURE)
    if answers.factually_wrong:
        found.add(Category.INACCURATE)
    return frozenset(found or {Category.ABUSIVE})
