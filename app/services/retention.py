"""Retention: review dates, legal holds, secure deletion of a case, and subject access.

Deletion is all-or-nothing: every row about the case goes in one transaction, leaving only
a deletion record; the files (evidence, letters) go after the commit, and only those no
other record still refers to. Nothing is deleted without the head teacher asking for it.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from app.db.models import (
    CaseActionRecord,
    CaseCategoryRecord,
    CaseDeletionRecord,
    CaseOutcomeRecord,
    CasePersonRecord,
    CaseRecord,
    CaseStepRecord,
    EventRecord,
    EvidenceRecord,
    LegalHoldRecord,
    LetterEmailRecord,
    LetterRecord,
    PersonRecord,
    SettingRecord,
)
from app.domain.access import Permission
from app.domain.categories import Category, decode_categories
from app.domain.dates import format_short_date, london_today, to_london
from app.domain.errors import NotFoundError, ValidationError
from app.domain.people import name_key
from app.domain.records import Person
from app.domain.retention import (
    SETTING_KEY,
    DeletionRecord,
    DeletionRefused,
    LegalHold,
    RetentionItem,
    RetentionRules,
    review_date,
)
from app.domain.status import CLOSED_STATUSES
from app.domain.validation import clean_text
from app.evidence.blobstore import BlobStorage
from app.services.audit import forget_case_details
from app.services.blobs import referenced_blob_hashes
from app.services.cases import add_event, visible_cases
from app.services.context import ServiceContext
from app.services.evidence import EvidenceService
from app.services.letters import LetterService
from app.services.people import person_from_record

log = logging.getLogger(__name__)

_CLOSED = tuple(s.value for s in CLOSED_STATUSES)


def _reason(reason: str, what: str) -> str:
    reason = clean_text(reason, "reason", 2000, multiline=True)
    if not reason:
        raise ValidationError(f"Please give the reason for {what}.", field="reason")
    return reason


class RetentionService:
    """How long cases are kept, and taking them out of the casebook when the time comes."""

    def __init__(
        self,
        ctx: ServiceContext,
        blobs: BlobStorage,
        evidence: EvidenceService,
        letters: LetterService,
    ) -> None:
        self.ctx = ctx
        self.blobs = blobs
        self.evidence = evidence
        self.letters = letters

    # ----- rules ------------------------------------------------------------------------

    def rules(self) -> RetentionRules:
        """The school's retention rules (the defaults until someone changes them)."""
        with self.ctx.sessions() as session:
            record = session.get(SettingRecord, SETTING_KEY)
            return RetentionRules.from_json(record.value if record else None)

    def save_rules(self, rules: RetentionRules) -> RetentionRules:
        """Store new retention periods (head teacher's settings)."""
        rules = rules.checked()
        changes = rules.changes_from(self.rules())
        if not changes:
            self.ctx.require(Permission.SETTINGS)  # nothing to change, so nothing to record
            return rules
        self.ctx.require(Permission.SETTINGS, action="change retention rules", detail=changes)
        with self.ctx.sessions.begin() as session:
            record = session.get(SettingRecord, SETTING_KEY)
            if record is None:
                session.add(SettingRecord(key=SETTING_KEY, value=rules.to_json()))
            else:
                record.value = rules.to_json()
        return rules

    # ----- the child's date of birth ----------------------------------------------------

    def child_date_of_birth(self, case_id: int) -> date | None:
        """The date of birth of the child a safeguarding case concerns, if recorded."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            return self._case(session, case_id).child_date_of_birth

    def set_child_date_of_birth(self, case_id: int, dob: date | None) -> None:
        """Record (or clear) the child's date of birth, which sets how long the case is kept."""
        self.ctx.require(Permission.EDIT_CASES, case_id=case_id, action="record child's dob")
        if dob is not None and dob > london_today(self.ctx.now()):
            raise ValidationError("The child's date of birth cannot be in the future.")
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            if case.child_date_of_birth == dob:
                return
            case.child_date_of_birth = dob
            summary = (
                f"Date of birth of the child concerned recorded: {format_short_date(dob)}"
                if dob
                else "Date of birth of the child concerned removed"
            )
            add_event(session, case, self.ctx, "child_dob", summary)

    # ----- the review list --------------------------------------------------------------

    def schedule(self) -> list[RetentionItem]:
        """Every closed case the user may see, with its review date, soonest first."""
        self.ctx.require(Permission.VIEW_CASES)
        rules = self.rules()
        with self.ctx.sessions() as session:
            cases = session.execute(
                select(
                    CaseRecord.id,
                    CaseRecord.reference,
                    CaseRecord.title,
                    CaseRecord.categories,
                    CaseRecord.child_date_of_birth,
                    CaseRecord.updated_at,
                ).where(CaseRecord.status.in_(_CLOSED), *visible_cases(self.ctx))
            ).all()
            ids = [c.id for c in cases]
            closed_at = self._closed_at(session, ids)
            holds: dict[int, str] = {
                case_id: reason
                for case_id, reason in session.execute(
                    select(LegalHoldRecord.case_id, LegalHoldRecord.reason).where(
                        LegalHoldRecord.case_id.in_(ids)
                    )
                ).all()
            }
        items = []
        for c in cases:
            closed_on = to_london(closed_at.get(c.id, c.updated_at)).date()
            review = review_date(
                rules,
                closed_on=closed_on,
                safeguarding=Category.SAFEGUARDING in decode_categories(c.categories),
                child_date_of_birth=c.child_date_of_birth,
            )
            items.append(
                RetentionItem(
                    case_id=c.id,
                    reference=c.reference,
                    title=c.title,
                    closed_on=closed_on,
                    review=review,
                    legal_hold=holds.get(c.id, ""),
                )
            )
        items.sort(key=lambda i: (i.due_on, i.reference))
        return items

    def due_for_review(self, on: date | None = None) -> list[RetentionItem]:
        """Closed cases whose review date has come (by ``on``, else today), soonest first."""
        today = on or london_today(self.ctx.now())
        return [item for item in self.schedule() if item.due_on <= today]

    @staticmethod
    def _closed_at(session: Session, ids: list[int]) -> dict[int, datetime]:
        """When each case was last closed (from its chronology)."""
        if not ids:
            return {}
        found: dict[int, datetime] = {}
        rows = session.execute(
            select(EventRecord.case_id, EventRecord.at, EventRecord.data)
            .where(EventRecord.case_id.in_(ids), EventRecord.kind == "status_changed")
            .order_by(EventRecord.id)
        ).all()
        for case_id, at, data in rows:
            if json.loads(data or "{}").get("to") in _CLOSED:
                found[case_id] = at
        return found

    # ----- legal hold -------------------------------------------------------------------

    def legal_hold(self, case_id: int) -> LegalHold | None:
        """The hold on the case, if there is one."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            hold = session.get(LegalHoldRecord, case_id)
            return LegalHold(hold.reason, hold.set_at, hold.set_by) if hold else None

    def set_legal_hold(self, case_id: int, reason: str) -> LegalHold:
        """Keep the case whatever its review date says, until the hold is cleared."""
        self.ctx.require(Permission.SAFEGUARDING, case_id=case_id, action="set legal hold")
        reason = _reason(reason, "the legal hold")
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            hold = session.get(LegalHoldRecord, case_id)
            if hold is not None:
                raise ValidationError(
                    f"Case {case.reference} is already on legal hold ({hold.reason})."
                )
            now = self.ctx.now()
            session.add(
                LegalHoldRecord(case_id=case_id, reason=reason, set_at=now, set_by=self.ctx.actor)
            )
            add_event(session, case, self.ctx, "legal_hold_set", f"Legal hold set: {reason}")
        return LegalHold(reason, now, self.ctx.actor)

    def clear_legal_hold(self, case_id: int, reason: str) -> None:
        """Lift the hold, saying why; the case then follows its review date again."""
        self.ctx.require(Permission.SAFEGUARDING, case_id=case_id, action="clear legal hold")
        reason = _reason(reason, "lifting the legal hold")
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            hold = session.get(LegalHoldRecord, case_id)
            if hold is None:
                raise ValidationError(f"Case {case.reference} is not on legal hold.")
            session.delete(hold)
            add_event(session, case, self.ctx, "legal_hold_cleared", f"Legal hold lifted: {reason}")

    # ----- secure deletion --------------------------------------------------------------

    def delete_case(self, case_id: int, reason: str) -> DeletionRecord:
        """Remove the case and everything about it, keeping only a deletion record."""
        self.ctx.require(Permission.SAFEGUARDING, case_id=case_id, action="delete case")
        reason = _reason(reason, "deleting the case")
        sqlite = self.ctx.dialect == "sqlite"
        with self.ctx.sessions.begin() as session:
            case = self._case(session, case_id)
            reference = case.reference
            if case.status not in _CLOSED:
                raise DeletionRefused(
                    f"Case {reference} is still open; close it before it can be deleted."
                )
            hold = session.get(LegalHoldRecord, case_id)
            if hold is not None:
                raise DeletionRefused(
                    f"Case {reference} is on legal hold ({hold.reason}); lift the hold "
                    "before it can be deleted."
                )
            if sqlite:
                # Freed pages are overwritten with zeros, so the words do not linger in the file.
                session.execute(text("PRAGMA secure_delete = ON"))
            hashes = set(
                session.scalars(
                    select(EvidenceRecord.sha256).where(EvidenceRecord.case_id == case_id)
                ).all()
            )
            hashes |= set(
                session.scalars(
                    select(LetterRecord.pdf_sha256).where(LetterRecord.case_id == case_id)
                ).all()
            )
            hashes |= set(
                session.scalars(
                    select(LetterEmailRecord.eml_sha256).where(LetterEmailRecord.case_id == case_id)
                ).all()
            )
            person_ids = set(
                session.scalars(
                    select(CasePersonRecord.person_id).where(CasePersonRecord.case_id == case_id)
                ).all()
            )
            # Copies before originals: a copy points at its original.
            session.execute(
                delete(EvidenceRecord).where(
                    EvidenceRecord.case_id == case_id, EvidenceRecord.parent_id.is_not(None)
                )
            )
            for model in (
                EvidenceRecord,
                LetterEmailRecord,
                LetterRecord,
                CaseActionRecord,
                CaseStepRecord,
                CaseOutcomeRecord,
                EventRecord,
                CaseCategoryRecord,
                CasePersonRecord,
                LegalHoldRecord,
            ):
                session.execute(delete(model).where(model.case_id == case_id))
            session.execute(delete(CaseRecord).where(CaseRecord.id == case_id))
            still_linked = set(
                session.scalars(
                    select(CasePersonRecord.person_id).where(
                        CasePersonRecord.person_id.in_(person_ids)
                    )
                ).all()
            )
            alone = person_ids - still_linked
            if alone:
                session.execute(
                    update(LetterRecord)
                    .where(LetterRecord.person_id.in_(alone))
                    .values(person_id=None)
                )
                session.execute(delete(PersonRecord).where(PersonRecord.id.in_(alone)))
            now = self.ctx.now()
            session.add(
                CaseDeletionRecord(
                    reference=reference, deleted_at=now, deleted_by=self.ctx.actor, reason=reason
                )
            )
            # The audit trail's details of this case (title, names, file names) go with it.
            forget_case_details(session, reference, now)
            if sqlite:
                # Merge the search index so the deleted case's words leave it too.
                session.execute(text("INSERT INTO case_search(case_search) VALUES ('optimize')"))
        self._remove_unshared_blobs(hashes)
        if sqlite:
            with self.ctx.sessions() as session:
                session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        self.ctx.audit("case deleted", reference, reason)
        log.info("Deleted case %s (%d files checked)", reference, len(hashes))
        return DeletionRecord(reference, now, self.ctx.actor, reason)

    def _remove_unshared_blobs(self, hashes: set[str]) -> None:
        if not hashes:
            return
        with self.ctx.sessions() as session:
            referenced = referenced_blob_hashes(session)
        referenced |= self.letters.referenced_blobs()
        for sha in sorted(hashes - referenced):
            self.blobs.delete(sha)

    def deletions(self) -> list[DeletionRecord]:
        """Every case deleted so far, newest first."""
        self.ctx.require(Permission.VIEW_CASES)
        with self.ctx.sessions() as session:
            rows = session.scalars(
                select(CaseDeletionRecord).order_by(CaseDeletionRecord.id.desc())
            ).all()
            return [DeletionRecord(r.reference, r.deleted_at, r.deleted_by, r.reason) for r in rows]

    # ----- subject access ---------------------------------------------------------------

    def find_person(self, name: str) -> Person:
        """The one person with exactly this name (ignoring case), or a clear refusal."""
        self.ctx.require(Permission.SAFEGUARDING)
        key = name_key(name)
        if not key:
            raise ValidationError("Please give the person's name.", field="person")
        with self.ctx.sessions() as session:
            matches = session.scalars(
                select(PersonRecord).where(PersonRecord.name_key == key).limit(2)
            ).all()
            if not matches:
                raise NotFoundError(f"No one called {name.strip()} is recorded in the casebook.")
            if len(matches) > 1:
                raise ValidationError(
                    f"More than one person is called {name.strip()}; choose the right one from "
                    "the People tab instead."
                )
            return person_from_record(matches[0])

    # ----- helpers ----------------------------------------------------------------------

    @staticmethod
    def _case(session: Session, case_id: int) -> CaseRecord:
        case = session.get(CaseRecord, case_id)
        if case is None:
            raise NotFoundError("That case no longer exists.")
        return case

    def count_rows_for(self, case_id: int) -> int:
        """How many rows anywhere still name the case (0 after deletion; for checks)."""
        with self.ctx.sessions() as session:
            total = 0
            for model in (
                EvidenceRecord,
                LetterEmailRecord,
                LetterRecord,
                CaseActionRecord,
                CaseStepRecord,
                CaseOutcomeRecord,
                EventRecord,
                CaseCategoryRecord,
                CasePersonRecord,
                LegalHoldRecord,
            ):
                total += (
                    session.scalar(
                        select(func.count()).select_from(model).where(model.case_id == case_id)
                    )
                    or 0
                )
            return total
