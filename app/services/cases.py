"""Opening, finding, changing and listing cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy import (
    case as sql_case,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from app.db.changes import ChangeWatch
from app.db.models import (
    CaseActionRecord,
    CaseCategoryRecord,
    CaseDeletionRecord,
    CasePersonRecord,
    CaseRecord,
    CaseStepRecord,
    EventRecord,
    PersonRecord,
)
from app.db.sealing import (
    SealedText,
    Unreadable,
    is_safeguarding,
    refresh_search_index,
    reseal_case,
    reseal_person,
)
from app.domain.access import Permission
from app.domain.categories import CATEGORY_INFO, Category, decode_categories, encode_categories
from app.domain.dates import format_date_time, format_short_date, london_today
from app.domain.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from app.domain.people import ROLE_LABELS, ROLE_PHRASES, CaseRole
from app.domain.records import (
    SORT_KEYS,
    CaseCounts,
    CaseDetail,
    CaseDraft,
    CaseFilter,
    CasePerson,
    CaseRow,
    CaseSort,
    Event,
    PersonDraft,
)
from app.domain.reference import format_reference, is_reference, parse_reference
from app.domain.search import fold
from app.domain.status import (
    CLOSED_STATUSES,
    STATUS_LABELS,
    CaseStatus,
    check_transition,
)
from app.domain.validation import check_case_draft, check_person_draft, check_search, clean_text
from app.security.crypto import SEALED_PREFIX
from app.services import server_search
from app.services.audit import highest_reference_number
from app.services.checklist import index_case_text, load_policy, sync_checklist
from app.services.context import ServiceContext
from app.services.evidence_text import evidence_matches, sealed_evidence_texts
from app.services.listing import (
    WALK_DENSITY,
    WALK_PROBE,
    WALK_WINDOWS,
    after_row,
    has_word_character,
    index_for,
    kept_off_indexes,
    looked_up_by_number,
    not_sealed,
    refresh_listing_columns,
    register_walk_function,
    sealed_search_text,
    short_term_found,
    term_walked,
)
from app.services.people import match_or_create_in, person_from_record, visible_people

if TYPE_CHECKING:
    # Imported where a ladder step is recorded or chosen (see checklist.load_policy).
    from app.domain.policy import StepOutcome

_CLOSED = [s.value for s in CLOSED_STATUSES]
# List columns that hold a sealed token on a safeguarding case.
_SEALABLE_SORTS = frozenset({"title", "poster"})
# A searched word found in at least this many cases (SQLite; see _many_matches), but not
# spread thickly enough over them to be walked (_walkable), has its page read through the
# sort's index with each case's number looked up among the matches, instead of every match
# fetched and sorted; and is counted to the bound from its index.
COMMON_MATCHES = 5_000

# Chronology entries whose words the search box finds (the FTS table case_text indexes them).
SEARCHED_EVENTS = ("note", "phone_call", "meeting", "post_rechecked", "step_taken")

_FIELD_LABELS = {
    "title": "title",
    "summary": "summary",
    "platform": "platform",
    "post_url": "post address",
    "account_handle": "account handle",
    "posted_at": "date posted",
    "post_place": "group or page",
    "inaccurate_text": "what is inaccurate",
    "correct_facts": "correct facts",
    "barring_conduct": "conduct at the school",
    "reported_on": "date reported",
    "reported_by": "reported by",
    "follow_up_due": "follow-up date",
    "categories": "standards breached",
}


def add_event(
    session: Session,
    case: CaseRecord,
    ctx: ServiceContext,
    kind: str,
    summary: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Append an entry to the case's chronology and mark the case as active now."""
    now = ctx.now()
    session.add(
        EventRecord(
            case_id=case.id,
            at=now,
            actor=ctx.actor,
            kind=kind,
            summary=summary,
            data=json.dumps(data or {}, ensure_ascii=False, default=str),
        )
    )
    case.last_activity_at = now
    case.updated_at = now
    if kind in SEARCHED_EVENTS and not is_safeguarding(case.categories):
        # Folded here, as the search box folds what is typed (a safeguarding case's words
        # are sealed and matched in memory).
        index_case_text(session, case.id, summary)


def apply_status(
    session: Session,
    ctx: ServiceContext,
    case: CaseRecord,
    target: CaseStatus,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Move ``case`` to ``target`` inside the caller's transaction, if the workflow allows."""
    current = CaseStatus(case.status)
    check_transition(current, target)
    case.status = target.value
    summary = f"Status changed from {STATUS_LABELS[current]} to {STATUS_LABELS[target]}"
    if note:
        summary += f": {note}"
    add_event(
        session,
        case,
        ctx,
        "status_changed",
        summary,
        {"from": current.value, "to": target.value, "note": note, **(data or {})},
    )


def tick_rule(
    session: Session, ctx: ServiceContext, case: CaseRecord, rule_id: str, note: str
) -> bool:
    """Tick the case's open checklist action ``rule_id`` (if it has one) in this transaction.

    The policy consequences of an action (evidence added: "capture evidence" is done)
    go through here, so that the head never has to tick what she has just done.
    """
    action = session.scalar(
        select(CaseActionRecord).where(
            CaseActionRecord.case_id == case.id,
            CaseActionRecord.rule_id == rule_id,
            CaseActionRecord.done_at.is_(None),
        )
    )
    if action is None:
        return False
    tick_action(session, ctx, case, action, note)
    return True


def tick_action(
    session: Session, ctx: ServiceContext, case: CaseRecord, action: CaseActionRecord, note: str
) -> None:
    """Mark one checklist action done, with who and when, and say so in the chronology."""
    action.done_at = ctx.now()
    action.done_by = ctx.actor
    action.note = note
    summary = f"Done: {action.label}"
    if note:
        summary += f" ({note})"
    add_event(
        session,
        case,
        ctx,
        "action_done",
        summary,
        {"action_id": action.id, "rule_id": action.rule_id},
    )


# Ladder steps that do what a checklist action asks (ids in resources/workflow/policy.json).
STEP_COMPLETES = {"report-platform": "report-platform"}


def record_ladder_step(
    session: Session,
    ctx: ServiceContext,
    case: CaseRecord,
    step_id: str,
    outcome: StepOutcome,
    moment: datetime,
    note: str,
    reference: str = "",
) -> None:
    """Record a ladder step in the caller's transaction, with the action it completes (and
    the reference number a platform or helpline gave, when it is a report)."""
    from app.domain.policy import STEP_OUTCOME_LABELS

    step = load_policy(session).step(step_id)
    if not step.applies_to(decode_categories(case.categories)):
        raise ValidationError(f"'{step.label}' does not apply to this case's standards.")
    session.add(
        CaseStepRecord(
            case_id=case.id,
            step_id=step.id,
            label=step.label,
            taken_at=moment,
            outcome=outcome.value,
            note=note,
            reference=reference,
            recorded_by=ctx.actor,
            recorded_at=ctx.now(),
        )
    )
    summary = f"Escalation: {step.label} ({STEP_OUTCOME_LABELS[outcome].lower()})"
    if reference:
        summary += f", reference {reference}"
    if note:
        summary += f". {note}"
    add_event(
        session,
        case,
        ctx,
        "step_taken",
        summary,
        {
            "step_id": step.id,
            "outcome": outcome.value,
            "when": moment.isoformat(),
            **({"reference": reference} if reference else {}),
        },
    )
    # A step that does what a checklist action asks (reporting the post to the platform)
    # completes that action: the head does not tick it a second time.
    rule = STEP_COMPLETES.get(step.id)
    if rule is not None:
        tick_rule(session, ctx, case, rule, f"escalation step on {format_date_time(moment)}")


def next_ladder_step(session: Session, case: CaseRecord) -> str:
    """The id of the ladder's next step for ``case``; refused when every step is taken."""
    from app.domain.policy import StepOutcome, TakenStep, ladder_position

    policy = load_policy(session)
    known = {s.id for s in policy.ladder}
    taken = [
        TakenStep(r.step_id, r.taken_at, StepOutcome(r.outcome))
        for r in session.scalars(
            select(CaseStepRecord).where(CaseStepRecord.case_id == case.id)
        ).all()
        if r.step_id in known
    ]
    position = ladder_position(policy, decode_categories(case.categories), taken)
    if position.next is None:
        raise ValidationError(
            "Every step of the escalation ladder has been taken on this case; name the step "
            "to record with the escalation."
        )
    return position.next.id


def visible_cases(ctx: ServiceContext) -> list[ColumnElement[bool]]:
    """Conditions that keep safeguarding cases out of any list a role may not see them in.

    Office staff never learn that a safeguarding case exists.
    """
    if ctx.may(Permission.SAFEGUARDING):
        return []
    return [~CaseRecord.categories.contains(Category.SAFEGUARDING.value)]


_ROLE_ORDER = {role.value: number for number, role in enumerate(CaseRole)}


def _highest_deleted(session: Session, year: int) -> int:
    """The highest number of ``year`` that a deleted case, or the audit trail, has used."""
    column = CaseDeletionRecord.reference
    deleted = session.scalar(
        select(column)
        .where(column >= f"SM-{year:04d}-", column < f"SM-{year:04d}.")
        .order_by(func.length(column).desc(), column.desc())
        .limit(1)
    )
    number = parse_reference(deleted)[1] if deleted and is_reference(deleted) else 0
    return max(number, highest_reference_number(session, year))


def _changed_since(reference: str, last: EventRecord | None) -> str:
    who = f" by {last.actor} at {format_date_time(last.at)}" if last else ""
    return (
        f"Case {reference} was changed{who} since you opened it; reload it and make your "
        "change again."
    )


def _is_overdue(status: str, due: date | None, today: date) -> bool:
    return due is not None and due < today and status not in _CLOSED


class CaseService:
    """Cases: open, read, change details and status, and list them for the case list."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._trigram_index = ctx.dialect == "sqlite"
        self._postgres = ctx.dialect == "postgresql"
        self._folded_texts: dict[str, str] = {}  # see _folded
        self._walkable_terms: dict[tuple[str, ...], bool] = {}  # see _walkable
        self._many_terms: dict[str, bool] = {}  # see _many_matches
        self._server_common: dict[str, bool] = {}  # see _common_on_server
        self._opened_words: dict[str, str] = {}  # see _sealed_texts
        # The sealed cases' words, and the last search of them, with the casebook's
        # change mark when read (None: not kept).
        self._changes = ChangeWatch()
        self._sealed_words: tuple[object | None, dict[int, tuple[str, str]]] = (None, {})
        self._sealed_found: tuple[object | None, list[int]] = (None, [])
        # Called with a case's id once it has joined or left safeguarding (casebook.py).
        self.after_reseal: Callable[[int], object] | None = None

    # ----- opening and reading -------------------------------------------------

    def open_case(self, draft: CaseDraft, author: str = "") -> CaseDetail:
        """Validate and record a new case, allocating the next SM-YYYY-NNNN reference.

        ``author`` names who posted it: the one known person of that name, else a new
        person, is linked as its author in the same transaction. A name several people
        share is refused and nothing at all is saved.
        """
        self.ctx.require(Permission.EDIT_CASES)
        now = self.ctx.now()
        today = london_today(now)
        clean = check_case_draft(draft, today, now)
        if author:  # spaces alone are a name left out, not no author asked for
            check_person_draft(PersonDraft(name=author))
        author = author.strip()
        for attempt in range(3):
            try:
                with self.ctx.sessions.begin() as session:
                    person = match_or_create_in(session, self.ctx, author) if author else None
                    case = self._insert_case(session, clean, now, today)
                    if person is not None:
                        self._link(session, case, person, CaseRole.AUTHOR)
                    case_id = case.id
                break
            except IntegrityError:
                # Another program took the same number at the same moment; try the next.
                if attempt == 2:
                    raise
        detail = self._reload(case_id)
        # The audit trail is read without the safeguarding key: no sealed words in it.
        sealed = Category.SAFEGUARDING in clean.categories
        self.ctx.audit("open case", detail.reference, "" if sealed else detail.title)
        return detail

    def _insert_case(
        self, session: Session, draft: CaseDraft, now: datetime, today: date
    ) -> CaseRecord:
        year = today.year
        if self.ctx.dialect == "postgresql":
            # PCs opening cases at the same moment take turns for the next number, instead
            # of colliding on the unique reference and retrying.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": 80_000 + year})
        last = session.scalar(
            select(func.max(CaseRecord.ref_number)).where(CaseRecord.ref_year == year)
        )
        # A deleted case's reference is never issued again: its deletion record and its
        # audit history still name it.
        number = max(last or 0, _highest_deleted(session, year)) + 1
        case = CaseRecord(
            reference=format_reference(year, number),
            ref_year=year,
            ref_number=number,
            title=draft.title,
            summary=draft.summary,
            platform=draft.platform,
            post_url=draft.post_url,
            account_handle=draft.account_handle,
            posted_at=draft.posted_at,
            post_place=draft.post_place,
            inaccurate_text=draft.inaccurate_text,
            correct_facts=draft.correct_facts,
            barring_conduct=draft.barring_conduct,
            reported_on=draft.reported_on,
            reported_by=draft.reported_by,
            status=CaseStatus.NEW.value,
            follow_up_due=draft.follow_up_due,
            categories=encode_categories(draft.categories),
            code_version=self.ctx.code.version,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        session.add(case)
        session.flush()
        for category in sorted(draft.categories):
            session.add(CaseCategoryRecord(case_id=case.id, category=category.value))
        refresh_listing_columns(session, case)
        sync_checklist(session, case, now)
        labels = ", ".join(CATEGORY_INFO[c].short_label for c in sorted(draft.categories))
        add_event(
            session,
            case,
            self.ctx,
            "case_opened",
            f"Case opened: {draft.title} ({labels})",
            {"categories": sorted(c.value for c in draft.categories)},
        )
        return case

    def get_case(self, case_id: int) -> CaseDetail:
        """Everything about one case, by its database id."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id, action="view case")
        return self._reload(case_id)

    def case_unrecorded(self, case_id: int) -> CaseDetail:
        """Everything about one case, for a service that checked the user's role itself and
        records the viewing in its own entry (a letter's preparation does)."""
        return self._reload(case_id)

    def _reload(self, case_id: int) -> CaseDetail:
        with self.ctx.sessions() as session:
            case = session.get(CaseRecord, case_id)
            if case is None:
                raise NotFoundError("That case no longer exists.")
            return self._detail(session, case)

    def find_case(self, reference: str) -> CaseDetail:
        """Everything about one case, by its reference (SM-YYYY-NNNN)."""
        year, number = parse_reference(reference)
        with self.ctx.sessions() as session:
            case = session.scalar(
                select(CaseRecord).where(
                    CaseRecord.ref_year == year, CaseRecord.ref_number == number
                )
            )
            if case is None:
                raise NotFoundError(f"There is no case with the reference {reference.strip()}.")
            case_id = case.id
            self._refuse_unseen(case.reference, case.categories, reference)
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id, action="view case")
        return self._reload(case_id)

    def _refuse_unseen(self, found: str, categories: str, asked: str) -> None:
        """Answer for a safeguarding case the user may not see exactly as for a missing one,
        so that the answer does not tell them it exists (the refusal is still audited)."""
        if Category.SAFEGUARDING.value in categories.split(",") and not self.ctx.may(
            Permission.SAFEGUARDING
        ):
            self.ctx.audit("refused: view case", found, "safeguarding")
            raise NotFoundError(f"There is no case with the reference {asked.strip()}.")

    def case_id_for(self, reference: str) -> int:
        """The database id of the case with this reference."""
        year, number = parse_reference(reference)
        with self.ctx.sessions() as session:
            row = session.execute(
                select(CaseRecord.id, CaseRecord.reference, CaseRecord.categories).where(
                    CaseRecord.ref_year == year, CaseRecord.ref_number == number
                )
            ).first()
        if row is None:
            raise NotFoundError(f"There is no case with the reference {reference.strip()}.")
        self._refuse_unseen(row.reference, row.categories, reference)
        self.ctx.require(Permission.VIEW_CASES, case_id=row.id)
        return int(row.id)

    def _detail(self, session: Session, case: CaseRecord) -> CaseDetail:
        links = session.execute(
            select(CasePersonRecord, PersonRecord)
            .join(PersonRecord, CasePersonRecord.person_id == PersonRecord.id)
            .where(CasePersonRecord.case_id == case.id)
            # Roles in the workflow's order break ties; PostgreSQL has no insertion order.
            .order_by(
                CasePersonRecord.created_at,
                PersonRecord.id,
                sql_case(_ROLE_ORDER, value=CasePersonRecord.role, else_=len(_ROLE_ORDER)),
            )
        ).all()
        events = session.scalars(
            select(EventRecord).where(EventRecord.case_id == case.id).order_by(EventRecord.id)
        ).all()
        today = london_today(self.ctx.now())
        return CaseDetail(
            id=case.id,
            reference=case.reference,
            title=case.title,
            summary=case.summary,
            platform=case.platform,
            post_url=case.post_url,
            account_handle=case.account_handle,
            posted_at=case.posted_at,
            reported_on=case.reported_on,
            reported_by=case.reported_by,
            categories=decode_categories(case.categories),
            status=CaseStatus(case.status),
            follow_up_due=case.follow_up_due,
            created_at=case.created_at,
            updated_at=case.updated_at,
            last_activity_at=case.last_activity_at,
            version=case.version,
            overdue=_is_overdue(case.status, case.follow_up_due, today),
            code_version=case.code_version,
            people=tuple(
                CasePerson(person=person_from_record(person), role=CaseRole(link.role))
                for link, person in links
            ),
            events=tuple(
                Event(id=e.id, at=e.at, actor=e.actor, kind=e.kind, summary=e.summary)
                for e in events
            ),
            post_place=case.post_place,
            inaccurate_text=case.inaccurate_text,
            correct_facts=case.correct_facts,
            barring_conduct=case.barring_conduct,
        )

    # ----- changing -------------------------------------------------------------

    def _load_for_change(
        self, session: Session, case_id: int, expected_version: int | None
    ) -> CaseRecord:
        case = session.get(CaseRecord, case_id)
        if case is None:
            raise NotFoundError("That case no longer exists.")
        if expected_version is not None and case.version != expected_version:
            last = session.scalar(
                select(EventRecord)
                .where(EventRecord.case_id == case_id)
                .order_by(EventRecord.id.desc())
                .limit(1)
            )
            raise ConflictError(_changed_since(case.reference, last))
        return case

    def update_case(
        self, case_id: int, draft: CaseDraft, expected_version: int | None = None
    ) -> CaseDetail:
        """Save changed details; the chronology records which fields changed."""
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action="change case details")
        now = self.ctx.now()
        clean = check_case_draft(draft, london_today(now), now)
        try:
            with self.ctx.sessions.begin() as session:
                case = self._load_for_change(session, case_id, expected_version)
                was_sealed = is_safeguarding(case.categories)
                changed = self._apply_draft(session, case, clean)
                resealed = was_sealed != is_safeguarding(case.categories)
                if changed:
                    refresh_listing_columns(session, case)
                    names = ", ".join(_FIELD_LABELS[name] for name in changed)
                    add_event(
                        session,
                        case,
                        self.ctx,
                        "details_changed",
                        f"Details changed: {names}",
                        {"fields": changed},
                    )
        except StaleDataError as error:
            # Another PC saved between our check and our write (its row lock made us wait).
            with self.ctx.sessions() as session:
                reference = session.scalar(
                    select(CaseRecord.reference).where(CaseRecord.id == case_id)
                )
                last = session.scalar(
                    select(EventRecord)
                    .where(EventRecord.case_id == case_id)
                    .order_by(EventRecord.id.desc())
                    .limit(1)
                )
            raise ConflictError(_changed_since(reference or "", last)) from error
        if resealed and self.after_reseal is not None:
            self.after_reseal(case_id)  # its stored files follow (sealed_files.py)
        return self._reload(case_id)

    def _apply_draft(self, session: Session, case: CaseRecord, draft: CaseDraft) -> list[str]:
        changed: list[str] = []
        for name in (
            "title",
            "summary",
            "platform",
            "post_url",
            "account_handle",
            "posted_at",
            "post_place",
            "inaccurate_text",
            "correct_facts",
            "barring_conduct",
            "reported_on",
            "reported_by",
            "follow_up_due",
        ):
            new = getattr(draft, name)
            if getattr(case, name) != new:
                setattr(case, name, new)
                changed.append(name)
        new_categories = encode_categories(draft.categories)
        old_categories = case.categories
        if case.categories != new_categories:
            case.categories = new_categories
            case.category_links.clear()
            session.flush()
            for category in sorted(draft.categories):
                case.category_links.append(CaseCategoryRecord(category=category.value))
            sync_checklist(session, case, self.ctx.now())
            changed.append("categories")
            was_sealed = is_safeguarding(old_categories)
            if was_sealed != is_safeguarding(new_categories):
                # Sealed or unsealed with everything that belongs to it, in this transaction.
                self._reseal(session, case)
        return changed

    def _reseal(self, session: Session, case: CaseRecord) -> None:
        sealed = is_safeguarding(case.categories)
        if not sealed and isinstance(case.title, Unreadable):
            raise AccessDenied(
                "Only a head teacher / designated safeguarding lead can take a case out of "
                "safeguarding."
            )
        reseal_case(session, case.id)
        refresh_search_index(session, case.id, sealed, SEARCHED_EVENTS)

    def change_status(
        self,
        case_id: int,
        target: CaseStatus,
        note: str = "",
        expected_version: int | None = None,
        *,
        step_id: str | None = None,
    ) -> CaseDetail:
        """Move the case to ``target`` if the workflow allows it, and record why.

        Escalating records which ladder step was taken (``step_id``, else the ladder's
        next step for the case) in the same transaction.
        """
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action="change status")
        note = clean_text(note, "note", 2000, multiline=True)
        if step_id is not None and target is not CaseStatus.ESCALATED:
            raise ValidationError("A ladder step goes with the status Escalated only.")
        with self.ctx.sessions.begin() as session:
            case = self._load_for_change(session, case_id, expected_version)
            if target is CaseStatus.ESCALATED:
                # Escalating is taking a step of the ladder: which one is recorded with it,
                # the ladder's next step unless the caller names another.
                from app.domain.policy import StepOutcome

                chosen = step_id or next_ladder_step(session, case)
                label = load_policy(session).step(chosen).label
                now = self.ctx.now()
                record_ladder_step(session, self.ctx, case, chosen, StepOutcome.AWAITING, now, note)
                why = note or f"ladder step: {label}"
                apply_status(session, self.ctx, case, target, why, {"step_id": chosen})
            else:
                apply_status(session, self.ctx, case, target, note)
        return self._reload(case_id)

    def load_for_change(
        self, session: Session, case_id: int, expected_version: int | None
    ) -> CaseRecord:
        """The case to change inside the caller's transaction, refused if changed since."""
        return self._load_for_change(session, case_id, expected_version)

    def add_note(self, case_id: int, text: str) -> CaseDetail:
        """Add a note to the chronology."""
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action="add note")
        text = clean_text(text, "note", 20_000, multiline=True)
        if not text:
            raise ValidationError("The note is empty.", field="note")
        with self.ctx.sessions.begin() as session:
            case = self._load_for_change(session, case_id, None)
            add_event(session, case, self.ctx, "note", text)
        return self._reload(case_id)

    def link_person(self, case_id: int, person_id: int, role: CaseRole) -> CaseDetail:
        """Link a person to the case in a role (author, reporter, subject, witness)."""
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action="link person")
        with self.ctx.sessions.begin() as session:
            case = self._load_for_change(session, case_id, None)
            person = session.scalar(
                select(PersonRecord).where(PersonRecord.id == person_id, *visible_people(self.ctx))
            )
            if person is None:
                raise NotFoundError("That person no longer exists.")
            exists = session.get(CasePersonRecord, (case_id, person_id, role.value))
            if exists is not None:
                raise ValidationError(
                    f"{person.name} is already linked to this case as '{ROLE_LABELS[role]}'."
                )
            self._link(session, case, person, role)
        return self._reload(case_id)

    def _link(
        self, session: Session, case: CaseRecord, person: PersonRecord, role: CaseRole
    ) -> None:
        session.add(
            CasePersonRecord(
                case_id=case.id,
                person_id=person.id,
                role=role.value,
                created_at=self.ctx.now(),
            )
        )
        session.flush()
        reseal_person(session, person)
        refresh_listing_columns(session, case)
        sync_checklist(session, case, self.ctx.now())  # a named member of staff adds an action
        add_event(
            session,
            case,
            self.ctx,
            "person_linked",
            f"{person.name} linked as {ROLE_PHRASES[role]}",
            {"person_id": person.id, "role": role.value},
        )

    def unlink_person(self, case_id: int, person_id: int, role: CaseRole) -> CaseDetail:
        """Remove a person's link in one role; the person's record is kept."""
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action="unlink person")
        with self.ctx.sessions.begin() as session:
            case = self._load_for_change(session, case_id, None)
            link = session.get(CasePersonRecord, (case_id, person_id, role.value))
            if link is None:
                raise NotFoundError("That person is not linked to this case in that role.")
            person = link.person
            name = person.name
            session.delete(link)
            session.flush()
            reseal_person(session, person)
            refresh_listing_columns(session, case)
            sync_checklist(session, case, self.ctx.now())
            add_event(
                session,
                case,
                self.ctx,
                "person_unlinked",
                f"{name} no longer linked as {ROLE_PHRASES[role]}",
                {"person_id": person_id, "role": role.value},
            )
        return self._reload(case_id)

    # ----- the case list ---------------------------------------------------------

    def _visible(self) -> list[ColumnElement[bool]]:
        """Conditions limiting the list to the cases the user's role may see."""
        self.ctx.require(Permission.VIEW_CASES)
        return visible_cases(self.ctx)

    def _conditions(
        self, flt: CaseFilter, today: date, *, walk: bool = False, by_number: bool = False
    ) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions; ``walk`` (see ``_walkable``) tests each case's
        words as the list passes it instead of asking the search indexes for every match;
        ``by_number`` (see ``_many_matches``) tests a case by its number alone."""
        conditions = self._visible()
        check_search(flt.text)
        # Case and accents are folded away ("zoe" finds Zoë); a casebook indexed before
        # folding is still searched as typed, so an accented term finds its old entries too.
        terms = flt.text.casefold().split()
        term_conditions: list[ColumnElement[bool]] = []
        for typed in terms:
            forms = sorted({fold(typed), typed})
            if walk:
                term_conditions.append(or_(*(self._term_walked(form) for form in forms)))
                continue
            term_conditions.append(
                or_(
                    *(
                        self._term_found(form, only_evidence=flt.in_evidence, by_number=by_number)
                        for form in forms
                    )
                )
            )
        if terms and self.ctx.may(Permission.SAFEGUARDING):
            # Sealed cases hold no searchable words in the database: match them here.
            sealed_ids = self._sealed_matches(terms, only_evidence=flt.in_evidence)
            # With no sealed match, no OR: it would keep SQLite from using the word indexes.
            if sealed_ids:
                conditions.append(or_(and_(*term_conditions), CaseRecord.id.in_(sealed_ids)))
            else:
                conditions.extend(term_conditions)
        else:
            conditions.extend(term_conditions)
        if flt.statuses:
            conditions.append(CaseRecord.status.in_(sorted(s.value for s in flt.statuses)))
        if flt.category is not None:
            conditions.append(CaseRecord.categories.contains(flt.category.value, autoescape=True))
        if flt.overdue_only:
            conditions.append(
                and_(
                    CaseRecord.follow_up_due.is_not(None),
                    CaseRecord.follow_up_due < today,
                    CaseRecord.status.not_in(_CLOSED),
                )
            )
        if flt.open_only:
            conditions.append(CaseRecord.status.not_in(_CLOSED))
        if flt.repeat_authors_only:
            conditions.append(self._by_repeat_author())
        return conditions

    def _by_repeat_author(self) -> ColumnElement[bool]:
        """Cases whose author wrote another case this role may see."""
        other = aliased(CasePersonRecord)
        other_case = aliased(CaseRecord)
        mine = aliased(CasePersonRecord)
        hidden = (
            []
            if self.ctx.may(Permission.SAFEGUARDING)
            else [~other_case.categories.contains(Category.SAFEGUARDING.value)]
        )
        return exists().where(
            mine.case_id == CaseRecord.id,
            mine.role == CaseRole.AUTHOR.value,
            exists().where(
                other.person_id == mine.person_id,
                other.role == CaseRole.AUTHOR.value,
                other.case_id != mine.case_id,
                other_case.id == other.case_id,
                *hidden,
            ),
        )

    def _term_found(
        self, term: str, *, only_evidence: bool = False, by_number: bool = False
    ) -> ColumnElement[bool]:
        """Cases whose text, notes or evidence contain ``term`` (only evidence, if asked);
        ``by_number``: tested by the case's number alone (see ``_many_matches``)."""
        if only_evidence:
            return CaseRecord.id.in_(evidence_matches(term, self._trigram_index))
        # Terms of three or more characters use SQLite's trigram index (any part of a word,
        # about 10 ms over 100,000 cases); shorter ones the word index (a word beginning
        # with them, in the case's own details; notes from three characters); other
        # databases, and terms of punctuation alone, scan with LIKE. PostgreSQL asks the
        # same questions of its trigram indexes (services/server_search.py).
        if self._postgres and len(term) < 3 and has_word_character(term):
            common = self._common_on_server(term)
            return server_search.short_term_condition(term, common=common)
        if self._postgres and len(term) >= 3:
            with self.ctx.sessions() as session:
                noted = server_search.noted_cases(session, term, SEARCHED_EVENTS)
            common = noted is None and self._common_on_server(term)
            return server_search.long_term_condition(
                term, SEARCHED_EVENTS, common=common, noted=noted
            )
        if self._trigram_index and len(term) < 3 and has_word_character(term):
            return short_term_found(term)
        if self._trigram_index and len(term) >= 3:
            phrase = '"' + term.replace('"', '""') + '"'
            in_case: Select[tuple[Any]] = (
                select(literal_column("rowid"))
                .select_from(table("case_search"))
                .where(
                    text("case_search MATCH :phrase").bindparams(
                        bindparam("phrase", phrase, unique=True)
                    )
                )
            )
            in_text: Select[tuple[Any]] = (
                select(literal_column("case_id"))
                .select_from(table("case_text"))
                .where(
                    text("case_text MATCH :phrase").bindparams(
                        bindparam("phrase", phrase, unique=True)
                    )
                )
            )
            # UNION ALL: "IN" keeps each case once anyway; UNION sorted away duplicates
            # first (3 ms of a keystroke over eleven thousand matches). A sealed case's
            # stored words are ciphertext, whose letters now and then hold the term: sealed
            # cases are matched on their opened words instead (_sealed_matches). Each match
            # is read for the sort anyway, so its stored words are tested there, unless the
            # list is read by number from the sort's index (a few ms more, no case read).
            return and_(
                CaseRecord.id.in_(
                    in_case.union_all(in_text, evidence_matches(term, self._trigram_index))
                ),
                not_sealed() if by_number else ~sealed_search_text(),
            )
        return or_(
            CaseRecord.id.in_(evidence_matches(term, self._trigram_index)),
            CaseRecord.search_text.contains(term, autoescape=True),
            CaseRecord.id.in_(
                select(EventRecord.case_id).where(
                    EventRecord.kind.in_(SEARCHED_EVENTS),
                    (func.casebook_fold if self._postgres else func.lower)(
                        EventRecord.summary
                    ).contains(term, autoescape=True),
                )
            ),
        )

    def _common_on_server(self, term: str) -> bool:
        """Whether the server's statistics take ``term`` as common (services/server_search.py),
        kept for the last few terms: each keystroke asks for the count and again for the
        page, and the answer only chooses how the same cases are found."""
        known = self._server_common.get(term)
        if known is None:
            with self.ctx.sessions() as session:
                if len(term) < 3:
                    letters = server_search.short_term_letters(term)
                    known = server_search.word_start_is_common(session, letters)
                else:
                    known = server_search.is_common(session, term)
            if len(self._server_common) > 64:
                self._server_common.clear()
            self._server_common[term] = known
        return known

    def _term_walked(self, form: str) -> ColumnElement[bool]:
        """``_term_found`` as a test of each case passed (``listing.term_in_text``): the
        same rule as the word indexes; the few notes and exhibits holding a long term are
        still found in their own indexes."""
        if len(form) < 3 and not has_word_character(form):
            return self._term_found(form)
        if len(form) < 3:
            return term_walked(form)
        phrase = '"' + form.replace('"', '""') + '"'
        in_text: Select[tuple[Any]] = (
            select(literal_column("case_id"))
            .select_from(table("case_text"))
            .where(
                text("case_text MATCH :phrase").bindparams(bindparam("phrase", phrase, unique=True))
            )
        )
        elsewhere = in_text.union_all(evidence_matches(form, self._trigram_index))
        return or_(term_walked(form), and_(CaseRecord.id.in_(elsewhere), ~sealed_search_text()))

    def _walkable(self, flt: CaseFilter) -> bool:
        """True when every searched word is common (SQLite): its index finds one case in
        ``WALK_DENSITY`` or more (``_terms_are_common``, a few ms). The list is then read in
        its order, each case tested as it passes (``_term_walked``)."""
        terms = flt.text.casefold().split()
        if not terms or not self._trigram_index or flt.in_evidence:
            return False
        # Asked for the count and again for the page of each keystroke: kept for the last
        # few searches (a word's share of the cases changes slowly; the answer only chooses
        # how the same cases are found).
        known = self._walkable_terms.get(tuple(terms))
        if known is None:
            known = self._terms_are_common(terms)
            if len(self._walkable_terms) > 32:
                self._walkable_terms.clear()
            self._walkable_terms[tuple(terms)] = known
        return known

    def _many_matches(self, flt: CaseFilter) -> bool:
        """True when the search is one word (SQLite, nothing else narrowing the list) that
        its index finds in ``COMMON_MATCHES`` cases or more ("#42": eleven thousand cases,
        clustered by number, so not ``_walkable``). Its matches are then looked up as the
        sort's index is read in order (a few thousand index entries, never a case row),
        and its count stops at the bound; a rarer word's few matches are fetched and sorted.
        """
        terms = flt.text.casefold().split()
        if len(terms) != 1 or not self._trigram_index or flt != CaseFilter(text=flt.text):
            return False
        term = fold(terms[0])
        if len(term) < 3 and not has_word_character(term):
            return False
        known = self._many_terms.get(term)
        if known is None:
            index, phrase = index_for(term)
            with self.ctx.sessions() as session:
                found = session.scalar(
                    text(
                        f"SELECT count(*) FROM (SELECT rowid FROM {index} "
                        f"WHERE {index} MATCH :phrase LIMIT {COMMON_MATCHES})"
                    ),
                    {"phrase": phrase},
                )
            known = int(found or 0) >= COMMON_MATCHES
            if len(self._many_terms) > 64:
                self._many_terms.clear()
            self._many_terms[term] = known
        return known

    def _terms_are_common(self, terms: list[str]) -> bool:
        """Each term's share of the cases, from its index over a few spans of case numbers
        spread from the first case to the last (each read as one range of the index)."""
        with self.ctx.sessions() as session:
            # Apart: SQLite reads min() or max() alone from the end of the key, both together
            # by reading every case.
            first = session.scalar(select(func.min(CaseRecord.id)))
            last = session.scalar(select(func.max(CaseRecord.id)))
            if first is None or last is None:
                return False
            spanned = int(last) - int(first) + 1
            if spanned <= WALK_WINDOWS * WALK_PROBE:
                starts, width = [int(first)], spanned  # few cases: all of them
            else:
                step = spanned // WALK_WINDOWS
                starts = [int(first) + n * step for n in range(WALK_WINDOWS)]
                width, spanned = WALK_PROBE, WALK_WINDOWS * WALK_PROBE
            for typed in terms:
                term = fold(typed)
                if len(term) < 3 and not has_word_character(term):
                    return False
                index, phrase = index_for(term)
                found = sum(
                    int(
                        session.scalar(
                            text(
                                f"SELECT count(*) FROM {index} WHERE {index} MATCH :phrase "
                                "AND rowid >= :start AND rowid < :end"
                            ),
                            {"phrase": phrase, "start": start, "end": start + width},
                        )
                        or 0
                    )
                    for start in starts
                )
                if found * WALK_DENSITY < spanned:
                    return False
        return True

    def prepare_search(self) -> None:
        """Open the sealed cases' words ahead of a head teacher's first search (a worker
        calls this once the window shows): over thousands of sealed cases their opening
        would otherwise fall on the first keystroke. Nothing for other roles."""
        if not self.ctx.may(Permission.SAFEGUARDING):
            return
        with self.ctx.sessions() as session:
            self._sealed_texts(session, self._changes.mark(session))

    def _sealed_matches(self, terms: list[str], *, only_evidence: bool = False) -> list[int]:
        """Ids of sealed (safeguarding) cases whose text, notes or evidence hold every term."""
        folded_terms = tuple(fold(term) for term in terms)
        with self.ctx.sessions() as session:
            mark = self._changes.mark(session)
            asked = (mark, folded_terms, only_evidence)
            if mark is not None and self._sealed_found[0] == asked:
                # The count and the page of one keystroke ask the same question.
                return self._sealed_found[1]
            texts = self._sealed_texts(session, mark)
        which = 1 if only_evidence else 0
        found = [
            case_id
            for case_id, words in texts.items()
            if all(term in words[which] for term in folded_terms)
        ]
        self._sealed_found = (asked, found)
        return found

    def _sealed_texts(self, session: Session, mark: object | None) -> dict[int, tuple[str, str]]:
        """Each sealed case's words (its own, notes and exhibits), and its exhibits' words
        alone, opened and folded: read again only once the casebook has changed
        (``ChangeWatch``), not at every keystroke of a head teacher's search."""
        if mark is not None and self._sealed_words[0] == mark:
            return self._sealed_words[1]
        # The stored tokens, opened (and folded) once each: a casebook may hold thousands.
        sealed_ids = select(CaseRecord.id).where(sealed_search_text())
        rows = session.execute(
            select(CaseRecord.id, type_coerce(CaseRecord.search_text, Text)).where(
                sealed_search_text()
            )
        ).all()
        column_type = CaseRecord.__table__.c.search_text.type
        assert isinstance(column_type, SealedText)
        dialect = session.get_bind().dialect
        parts: dict[int, list[str]] = {}
        for case_id, token in rows:
            opened = self._opened_words.get(token)
            if opened is None:
                opened = str(column_type.process_result_value(token, dialect))
                if len(self._opened_words) > 50_000:
                    self._opened_words.clear()
                self._opened_words[token] = opened
            parts[int(case_id)] = [self._folded(opened)]
        in_evidence: dict[int, list[str]] = {}
        if parts:
            notes = session.execute(
                select(EventRecord.case_id, EventRecord.summary).where(
                    EventRecord.case_id.in_(sealed_ids),
                    EventRecord.kind.in_(SEARCHED_EVENTS),
                )
            ).all()
            for case_id, summary in notes:
                parts[int(case_id)].append(self._folded(str(summary).casefold()))
            in_evidence = sealed_evidence_texts(session, list(parts))
        # A term is never split by a line break, so one joined text per case answers
        # "in any of its parts".
        texts = {
            case_id: (
                "\n".join([*words, *map(self._folded, in_evidence.get(case_id, []))]),
                "\n".join(map(self._folded, in_evidence.get(case_id, []))),
            )
            for case_id, words in parts.items()
        }
        self._sealed_words = (mark, texts)
        return texts

    def _folded(self, opened: str) -> str:
        """``fold(opened)``, kept for the next keystroke: the sealed cases' words are opened
        and folded once, not at every search (a tenth of a millisecond each)."""
        found = self._folded_texts.get(opened)
        if found is None:
            if len(self._folded_texts) > 50_000:
                self._folded_texts.clear()
            found = self._folded_texts[opened] = fold(opened)
        return found

    def count_cases(self, flt: CaseFilter, bound: int | None = None) -> int:
        """How many cases match the filter; at most ``bound + 1`` when a bound is given
        (a common word over a million cases is not counted to the end while typing)."""
        today = london_today(self.ctx.now())
        if flt == CaseFilter(statuses=flt.statuses, open_only=flt.open_only):
            # Narrowed by status at most: the tallies hold the answer (migrations 0021, 0025).
            by_status, _overdue = self._tallied(today, bool(self._visible()))
            kept = {s.value for s in flt.statuses} or set(by_status)
            if flt.open_only:
                kept -= set(_CLOSED)
            found = sum(n for status, n in by_status.items() if status in kept)
            return found if bound is None else min(found, bound + 1)
        if bound is not None and (self._walkable(flt) or self._many_matches(flt)):
            driven = self._count_from_index(flt, today, bound)
            if driven > bound:
                return driven
        conditions = self._conditions(flt, today)
        with self.ctx.sessions() as session:
            if bound is not None:
                matching = select(CaseRecord.id).where(*conditions).limit(bound + 1).subquery()
                return int(session.scalar(select(func.count()).select_from(matching)) or 0)
            query = select(func.count()).select_from(CaseRecord)
            for condition in conditions:
                query = query.where(condition)
            return int(session.scalar(query) or 0)

    def _count_from_index(self, flt: CaseFilter, today: date, bound: int) -> int:
        """Matches of a common search counted to ``bound + 1``: read from the first word's
        index in its own order (each case fetched by id and tested), stopping at the
        bound, never collecting every match first."""
        first, *others = flt.text.casefold().split()
        term = fold(first)
        index, phrase = index_for(term)
        # The first word's index decides it alone when it is typed folded and, if short,
        # holds no punctuation: its test is left out (the rest are tested case by case).
        decided = term == first and (len(term) >= 3 or term.isalnum())
        rest = replace(flt, text=" ".join(others)) if decided else flt
        conditions = self._conditions(rest, today, walk=bool(rest.text.strip()))
        conditions.append(~sealed_search_text())  # their stored words are not words
        # The index drives (a unary + keeps SQLite from probing it once per case).
        source = table(index).join(CaseRecord.__table__, CaseRecord.id == text(f"+{index}.rowid"))
        matching = (
            select(CaseRecord.id)
            .select_from(source)
            .where(
                text(f"{index} MATCH :driving").bindparams(bindparam("driving", phrase)),
                *conditions,
            )
            .limit(bound + 1)
            .subquery()
        )
        with self.ctx.sessions() as session:
            register_walk_function(session)
            return int(session.scalar(select(func.count()).select_from(matching)) or 0)

    def pages_by_keyset(self, sort: CaseSort) -> bool:
        """True when the list may be read onwards from a case (``list_cases(after=...)``):
        unless sealed titles or authors take part in the sort."""
        if sort.key not in _SEALABLE_SORTS or not self.ctx.may(Permission.SAFEGUARDING):
            return True
        if self._postgres:
            # A sealed title or author belongs to a sealed case, found by its search text's
            # index (a range over sealed values depends on the server's collation).
            with self.ctx.sessions() as session:
                sealed_case = session.scalar(
                    select(CaseRecord.id).where(sealed_search_text()).limit(1)
                )
            return sealed_case is None
        # Sealed values sort as nonsense in SQL; with none in this column, SQL's order holds.
        # (A range, not LIKE, so that the column's index answers.)
        column = getattr(CaseRecord, sort.key)
        after_prefix = SEALED_PREFIX[:-1] + chr(ord(SEALED_PREFIX[-1]) + 1)
        with self.ctx.sessions() as session:
            sealed = session.scalar(
                select(CaseRecord.id).where(column >= SEALED_PREFIX, column < after_prefix).limit(1)
            )
        return sealed is None

    def _after(
        self, session: Session, sort: CaseSort, case_id: int, *, inclusive: bool = False
    ) -> ColumnElement[bool]:
        column = getattr(CaseRecord, sort.key)
        value = session.scalar(select(column).where(CaseRecord.id == case_id))
        return after_row(
            column, value, case_id, sort.descending, bool(column.nullable),
            nulls_last=self._postgres, inclusive=inclusive,
        )  # fmt: skip

    def position_of_case(self, flt: CaseFilter, sort: CaseSort, case_id: int) -> int | None:
        """The row of a case in the list, or None when the filter leaves it out.

        Counts the rows before it through the sort's index; never reads every id.
        """
        if not self.pages_by_keyset(sort):
            ids = self.all_case_ids(flt, sort)
            return ids.index(case_id) if case_id in ids else None
        today = london_today(self.ctx.now())
        conditions = self._conditions(flt, today)
        with self.ctx.sessions() as session:
            shown = session.scalar(
                select(CaseRecord.id).where(CaseRecord.id == case_id, *conditions)
            )
            if shown is None:
                return None
            if self._by_day_tallies(flt, sort):
                return self._position_by_days(session, flt, sort, case_id, conditions)
            backwards = CaseSort(sort.key, not sort.descending)
            before = self._after(session, backwards, case_id)
            return int(
                session.scalar(
                    select(func.count()).select_from(CaseRecord).where(*conditions, before)
                )
                or 0
            )

    def _overdue_is_common(self, flt: CaseFilter) -> bool:
        """True when "overdue only" keeps a case in a hundred or more (SQLite, from the
        tallies): the list is then read in its order, rather than every overdue case
        fetched by its follow-up date and sorted."""
        if not (flt.overdue_only and self._trigram_index):
            return False
        by_status, overdue = self._tallied(london_today(self.ctx.now()), bool(self._visible()))
        return overdue * 100 >= sum(by_status.values())

    def _by_day_tallies(self, flt: CaseFilter, sort: CaseSort) -> bool:
        """True when a case's place can be counted from the tallies per day of last activity
        (migrations 0021 and 0025): the list in order of last activity, narrowed by status at
        most."""
        plain = CaseFilter(statuses=flt.statuses, open_only=flt.open_only)
        return sort.key == "last_activity_at" and flt == plain

    def _position_by_days(
        self,
        session: Session,
        flt: CaseFilter,
        sort: CaseSort,
        case_id: int,
        conditions: list[ColumnElement[bool]],
    ) -> int:
        """Cases before ``case_id`` in order of last activity: those of the days before its
        day from the tallies, those of its own day counted through the index."""
        # The day as stored (the tallies group the stored text, not a local date).
        stored_day = (
            func.to_char(CaseRecord.last_activity_at, "YYYY-MM-DD")
            if self._postgres
            else func.substr(CaseRecord.last_activity_at, 1, 10)
        )
        day = str(session.scalar(select(stored_day).where(CaseRecord.id == case_id)))
        statuses = [s.value for s in flt.statuses] or [s.value for s in CaseStatus]
        if flt.open_only:
            statuses = [s for s in statuses if s not in _CLOSED]
        hidden = "" if self.ctx.may(Permission.SAFEGUARDING) else " AND NOT safeguarding"
        earlier = "day > :day" if sort.descending else "day < :day"
        days_before = session.scalar(
            text(
                f"SELECT coalesce(sum(cases), 0) FROM case_activity_tallies WHERE {earlier} "
                f"AND status IN ({', '.join(repr(s) for s in statuses)}){hidden}"
            ),
            {"day": day},
        )
        next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        backwards = CaseSort(sort.key, not sort.descending)
        same_day = session.scalar(
            select(func.count())
            .select_from(CaseRecord)
            .where(
                *conditions,
                CaseRecord.last_activity_at >= text(f"'{day}'"),
                CaseRecord.last_activity_at < text(f"'{next_day}'"),
                self._after(session, backwards, case_id),
            )
        )
        return int(days_before or 0) + int(same_day or 0)

    def list_cases(
        self,
        flt: CaseFilter,
        sort: CaseSort,
        offset: int = 0,
        limit: int = 200,
        *,
        after: int | None = None,
        include_after: bool = False,
    ) -> list[CaseRow]:
        """One page of the case list, read column by column (no ORM objects).

        ``after`` (a case id; see ``pages_by_keyset``) reads the page that follows that
        case, ``offset`` rows on, through the sort's index; ``include_after`` starts the
        page with that case itself.
        """
        if sort.key not in SORT_KEYS:
            raise ValidationError(f"Cannot sort by '{sort.key}'.")
        if after is not None and not self.pages_by_keyset(sort):
            raise ValidationError("This list cannot be read onwards from a case.")
        today = london_today(self.ctx.now())
        column = getattr(CaseRecord, sort.key)
        order = [column.desc() if sort.descending else column.asc()]
        order.append(CaseRecord.id.desc() if sort.descending else CaseRecord.id.asc())
        query = select(
            CaseRecord.id,
            CaseRecord.reference,
            CaseRecord.title,
            CaseRecord.poster,
            CaseRecord.account_handle,
            CaseRecord.platform,
            CaseRecord.categories,
            CaseRecord.status,
            CaseRecord.follow_up_due,
            CaseRecord.last_activity_at,
        )
        walk = self._walkable(flt)
        many = not walk and self._many_matches(flt)
        conditions = self._conditions(flt, today, walk=walk, by_number=many)
        # Many cases match: walk the list in its order and keep the matches, rather than
        # fetch every match and sort them (seconds over a million cases). A walked word is
        # tested on each case as it passes (SQLite finds no index for that test); the
        # matches of a word found in many cases are looked up by case number, from the
        # sort's index alone.
        # "Overdue only" keeping many cases, and nothing else narrowing the list (a search
        # or a status could leave few or none, and the walk would pass every case): read in
        # list order too, each case tested as it passes, not every overdue case fetched by
        # its follow-up date and sorted (3 s over a million cases).
        overdue_walk = flt == CaseFilter(
            overdue_only=True, open_only=flt.open_only
        ) and self._overdue_is_common(flt)
        for condition in conditions:
            if many:
                condition = looked_up_by_number(condition)
            if overdue_walk:
                condition = kept_off_indexes(condition, "follow_up_due", "status")
            query = query.where(condition)
        with self.ctx.sessions() as session:
            if walk:
                register_walk_function(session)
            own: list[Any] = []
            if after is not None:
                # PostgreSQL reads "from this case on" as one range of the index ("or this
                # case" made it read every case before it).
                inclusive = include_after and self._postgres
                if include_after and not inclusive:
                    # Read apart: an OR with the range would keep SQLite off the index.
                    own = list(session.execute(query.where(CaseRecord.id == after)).all())
                    limit -= len(own)
                query = query.where(self._after(session, sort, after, inclusive=inclusive))
                ids = None
            else:
                ids = self._ids_with_sealed(session, conditions, sort, offset, limit)
            if ids is None and self._postgres and flt.text.strip():
                # The page's ids first, from the index holding the list's order and each
                # case's words (migration 0027): a search walking the list then reads
                # only the index, not a page of the table per case passed.
                page_ids = (
                    query.with_only_columns(CaseRecord.id)
                    .order_by(*order)
                    .offset(offset)
                    .limit(limit)
                )
                in_page = select(*query.selected_columns).where(CaseRecord.id.in_(page_ids))
                rows = own + list(session.execute(in_page.order_by(*order)).all())
            elif ids is None:
                rows = own + list(
                    session.execute(query.order_by(*order).offset(offset).limit(limit)).all()
                )
            else:
                by_id = {r.id: r for r in session.execute(query.where(CaseRecord.id.in_(ids)))}
                rows = [by_id[case_id] for case_id in ids]
        return [
            CaseRow(
                id=r.id,
                reference=r.reference,
                title=r.title,
                poster=r.poster or r.account_handle,
                platform=r.platform,
                categories=decode_categories(r.categories),
                status=CaseStatus(r.status),
                follow_up_due=r.follow_up_due,
                last_activity_at=r.last_activity_at,
                overdue=_is_overdue(r.status, r.follow_up_due, today),
            )
            for r in rows
        ]

    def counts(self, flt: CaseFilter, shown: int | None = None) -> CaseCounts:
        """Shown, total, open and overdue counts for the status bar.

        Pass ``shown`` when the caller already counted the filtered list. The totals are
        read from the tallies the triggers keep on both databases (``_tallied``: SQLite's
        migration 0021, PostgreSQL's 0025), never by reading every case.
        """
        today = london_today(self.ctx.now())
        by_status, overdue_count = self._tallied(today, bool(self._visible()))
        total = sum(by_status.values())
        open_count = total - sum(by_status.get(s, 0) for s in _CLOSED)
        return CaseCounts(
            shown=self.count_cases(flt) if shown is None else shown,
            total=total,
            open=open_count,
            overdue=overdue_count,
        )

    def _tallied(self, today: date, hide_safeguarding: bool) -> tuple[dict[str, int], int]:
        """Cases by status, and open cases past their follow-up date, from the tallies
        that triggers keep (migrations 0021 and 0025): a few hundred rows, never the cases."""
        where = "WHERE NOT safeguarding" if hide_safeguarding else ""
        closed = ", ".join(f"'{status}'" for status in _CLOSED)
        with self.ctx.sessions() as session:
            rows = session.execute(
                text(f"SELECT status, sum(cases) FROM case_tallies {where} GROUP BY status")
            ).all()
            overdue = session.scalar(
                text(
                    "SELECT coalesce(sum(cases), 0) FROM case_tallies WHERE due != '' "
                    f"AND due < :today AND status NOT IN ({closed})"
                    + (" AND NOT safeguarding" if hide_safeguarding else "")
                ),
                {"today": today.isoformat()},
            )
        return {str(status): int(n) for status, n in rows}, int(overdue or 0)

    def all_case_ids(self, flt: CaseFilter, sort: CaseSort) -> list[int]:
        """Ids of every matching case in list order (for next/previous and batch work)."""
        today = london_today(self.ctx.now())
        column = getattr(CaseRecord, sort.key)
        query = select(CaseRecord.id)
        conditions = self._conditions(flt, today)
        for condition in conditions:
            query = query.where(condition)
        query = query.order_by(
            column.desc() if sort.descending else column.asc(),
            CaseRecord.id.desc() if sort.descending else CaseRecord.id.asc(),
        )
        with self.ctx.sessions() as session:
            ids = self._ids_with_sealed(session, conditions, sort, 0, None)
            return ids if ids is not None else list(session.scalars(query).all())

    def _ids_with_sealed(
        self,
        session: Session,
        conditions: list[ColumnElement[bool]],
        sort: CaseSort,
        offset: int,
        limit: int | None,
    ) -> list[int] | None:
        """One page of ids in list order when sealed titles or authors take part in the
        sort (their tokens sort as nonsense in SQL); None when SQL's order is right.

        The few sealed rows are opened and placed by counting the rows in clear that come
        before each one; the rows in clear are then read page by page as usual.
        """
        if sort.key not in _SEALABLE_SORTS or not self.ctx.may(Permission.SAFEGUARDING):
            return None
        column = getattr(CaseRecord, sort.key)
        is_sealed = column.startswith(SEALED_PREFIX)
        sealed = [
            (str(value), int(case_id))
            for case_id, value in session.execute(
                select(CaseRecord.id, column).where(*conditions, is_sealed)
            )
        ]
        if not sealed:
            return None
        sealed.sort(reverse=sort.descending)
        in_clear = [*conditions, or_(column.is_(None), ~is_sealed)]
        placed: dict[int, int] = {}  # position in the whole list -> id
        for index, (value, case_id) in enumerate(sealed):
            if sort.descending:
                before = or_(column > value, and_(column == value, CaseRecord.id > case_id))
            else:
                before = or_(column < value, and_(column == value, CaseRecord.id < case_id))
            ahead = session.scalar(
                select(func.count()).select_from(CaseRecord).where(*in_clear, before)
            )
            placed[int(ahead or 0) + index] = case_id
        end = None if limit is None else offset + limit
        sealed_before = sum(1 for position in placed if position < offset)
        in_page = sorted(p for p in placed if p >= offset and (end is None or p < end))
        clear_query = (
            select(CaseRecord.id)
            .where(*in_clear)
            .order_by(
                column.desc() if sort.descending else column.asc(),
                CaseRecord.id.desc() if sort.descending else CaseRecord.id.asc(),
            )
            .offset(offset - sealed_before)
        )
        if limit is not None:
            clear_query = clear_query.limit(limit - len(in_page))
        clear = iter(session.scalars(clear_query).all())
        ids: list[int] = []
        position = offset
        while end is None or position < end:
            if position in placed:
                ids.append(placed[position])
            else:
                following = next(clear, None)
                if following is None:
                    if not any(p > position for p in placed):
                        break
                else:
                    ids.append(int(following))
            position += 1
        return ids


def describe_row_for_export(row: CaseRow) -> dict[str, Any]:
    """Plain, stable field names for ``--json`` output of the case list."""
    return {
        "reference": row.reference,
        "title": row.title,
        "poster": row.poster,
        "platform": row.platform,
        "categories": sorted(c.value for c in row.categories),
        "status": row.status.value,
        "follow_up_due": row.follow_up_due.isoformat() if row.follow_up_due else None,
        "follow_up_due_uk": format_short_date(row.follow_up_due),
        "overdue": row.overdue,
        "last_activity_at": row.last_activity_at.isoformat(),
    }
