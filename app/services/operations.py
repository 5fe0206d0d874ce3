"""One command per user action, each returning a typed record of what it changed.

The window and the CLI call the same commands (``Operations``). Each does the whole job
in one transaction, policy consequences included (adding evidence ticks "capture
evidence", an escalation records its ladder step, ...), and answers with an
``OpResult``: the value the caller shows, and an ``OpChanges`` naming which kinds of
thing changed and who started the action. The window refreshes its views from that
record alone (Anki's ``OpChanges`` idea), instead of every screen announcing its own
changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from app.domain.evidence import EvidenceDetails
from app.domain.people import CaseRole
from app.domain.policy import CaseOutcome, StepOutcome
from app.domain.records import CaseDetail, CaseDraft, Person, PersonDraft
from app.domain.status import CaseStatus

if TYPE_CHECKING:
    from app.domain.evidence import AddedEvidence, Exhibit
    from app.domain.letters import SchoolProfile
    from app.domain.retention import DeletionRecord
    from app.domain.sharing import Recipient
    from app.evidence.derivatives import Box
    from app.services.backup import BackupResult
    from app.services.casebook import Services
    from app.services.workflow import ChecklistItem, ContactKind, Escalation, OutcomeInfo

T = TypeVar("T")

# Who started an action, as the change notification names it.
CLI = "cli"


@dataclass(frozen=True)
class OpChanges:
    """Which kinds of thing an action changed, for which cases, and who started it.

    ``cases`` means something the case list shows (title, status, author, a new or
    deleted case); the other flags name the parts of a case screen that must be read
    again. ``case_ids`` is empty when the change is not about particular cases.
    """

    case_ids: frozenset[int] = frozenset()
    cases: bool = False
    people: bool = False
    evidence: bool = False
    letters: bool = False
    workflow: bool = False  # checklist, ladder, outcome (and so the Today list)
    chronology: bool = False
    settings: bool = False
    initiator: str = ""

    def by(self, initiator: str) -> OpChanges:
        """The same changes, started by ``initiator`` (a screen's name, or ``"cli"``)."""
        return replace(self, initiator=initiator)

    def __or__(self, other: OpChanges) -> OpChanges:
        return OpChanges(
            case_ids=self.case_ids | other.case_ids,
            cases=self.cases or other.cases,
            people=self.people or other.people,
            evidence=self.evidence or other.evidence,
            letters=self.letters or other.letters,
            workflow=self.workflow or other.workflow,
            chronology=self.chronology or other.chronology,
            settings=self.settings or other.settings,
            initiator=self.initiator or other.initiator,
        )

    def touches(self, case_id: int | None) -> bool:
        """True when the change may concern ``case_id`` (a change of no case concerns all)."""
        return not self.case_ids or (case_id is not None and case_id in self.case_ids)

    @property
    def case_id(self) -> int:
        """The one case changed, or 0 when none or many."""
        return next(iter(self.case_ids)) if len(self.case_ids) == 1 else 0

    @property
    def anything(self) -> bool:
        return any(
            (
                self.cases,
                self.people,
                self.evidence,
                self.letters,
                self.workflow,
                self.chronology,
                self.settings,
            )
        )


# Read everything again (the Refresh command; another PC may have changed anything).
EVERYTHING = OpChanges(
    cases=True,
    people=True,
    evidence=True,
    letters=True,
    workflow=True,
    chronology=True,
    settings=True,
)


def case_changes(
    case_id: int,
    *,
    cases: bool = False,
    people: bool = False,
    evidence: bool = False,
    letters: bool = False,
    workflow: bool = False,
    chronology: bool = True,
) -> OpChanges:
    """What changed on one case; most actions add to its chronology, so that is the default."""
    return OpChanges(
        case_ids=frozenset({case_id}),
        cases=cases,
        people=people,
        evidence=evidence,
        letters=letters,
        workflow=workflow,
        chronology=chronology,
    )


@dataclass(frozen=True)
class OpResult(Generic[T]):
    """What a command returns: the value to show, and what changed."""

    value: T
    changes: OpChanges = field(default_factory=OpChanges)


# A command the window's runner executes off the GUI thread. ``progress(done, total)``
# and ``cancelled()`` are given to the slow ones (adding many files, exports).
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class Operations:
    """Every user action as one command. Built on one open casebook's services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    # ----- cases and people -----------------------------------------------------------

    def open_case(self, draft: CaseDraft, author: str = "") -> OpResult[CaseDetail]:
        """Open a case and link its author (found by name, else added), all or nothing."""
        case = self.services.cases.open_case(draft, author=author)
        return OpResult(case, case_changes(case.id, cases=True, people=bool(author.strip())))

    def update_case(
        self, case_id: int, draft: CaseDraft, expected_version: int | None = None
    ) -> OpResult[CaseDetail]:
        """Save changed details (and the checklist that follows the standards breached)."""
        case = self.services.cases.update_case(case_id, draft, expected_version)
        return OpResult(case, case_changes(case_id, cases=True, workflow=True))

    def add_person(self, draft: PersonDraft) -> OpResult[Person]:
        """Record a new person."""
        person = self.services.people.add_person(draft)
        return OpResult(person, OpChanges(people=True))

    def update_person(self, person_id: int, draft: PersonDraft) -> OpResult[Person]:
        """Change a person's details (every case naming them shows the change)."""
        person = self.services.people.update_person(person_id, draft)
        return OpResult(person, OpChanges(people=True, cases=True))

    def link_person(self, case_id: int, person_id: int, role: CaseRole) -> OpResult[CaseDetail]:
        """Link a person to the case in a role."""
        case = self.services.cases.link_person(case_id, person_id, role)
        return OpResult(case, case_changes(case_id, cases=True, people=True))

    def unlink_person(self, case_id: int, person_id: int, role: CaseRole) -> OpResult[CaseDetail]:
        """Remove a person's link in one role."""
        case = self.services.cases.unlink_person(case_id, person_id, role)
        return OpResult(case, case_changes(case_id, cases=True, people=True))

    def change_status(
        self,
        case_id: int,
        target: CaseStatus,
        note: str = "",
        expected_version: int | None = None,
        *,
        step_id: str | None = None,
    ) -> OpResult[CaseDetail]:
        """Move the case on; escalating records which ladder step was taken."""
        case = self.services.workflow.change_status(
            case_id, target, note, expected_version, step_id=step_id
        )
        return OpResult(case, case_changes(case_id, cases=True, workflow=True))

    def add_note(self, case_id: int, text: str) -> OpResult[CaseDetail]:
        """Add a note to the chronology."""
        case = self.services.cases.add_note(case_id, text)
        return OpResult(case, case_changes(case_id, cases=True))

    def delete_case(self, case_id: int, reason: str) -> OpResult[DeletionRecord]:
        """Delete a closed case, keeping only a record of its deletion."""
        record = self.services.retention.delete_case(case_id, reason)
        return OpResult(record, OpChanges(frozenset({case_id}), cases=True, workflow=True))

    def set_legal_hold(self, case_id: int, reason: str) -> OpResult[int]:
        """Keep the case whatever its review date says."""
        self.services.retention.set_legal_hold(case_id, reason)
        return OpResult(case_id, case_changes(case_id, cases=True))

    def clear_legal_hold(self, case_id: int, reason: str) -> OpResult[int]:
        """Lift a legal hold."""
        self.services.retention.clear_legal_hold(case_id, reason)
        return OpResult(case_id, case_changes(case_id, cases=True))

    def set_child_date_of_birth(self, case_id: int, dob: date | None) -> OpResult[int]:
        """Record (or clear) the child's date of birth on a safeguarding case."""
        self.services.retention.set_child_date_of_birth(case_id, dob)
        return OpResult(case_id, case_changes(case_id, cases=True))

    def backup(self, folder: Path, *, progress: Progress | None = None) -> OpResult[BackupResult]:
        """Make a checked backup of the whole casebook in ``folder``."""
        made = self.services.backups.backup(folder, progress=progress)
        return OpResult(made, OpChanges(settings=True))

    # ----- settings ----------------------------------------------------------------------

    def save_school_profile(self, profile: SchoolProfile) -> OpResult[SchoolProfile]:
        """Save the school's details used on letters."""
        saved = self.services.letters.profile.save(profile)
        return OpResult(saved, OpChanges(settings=True, letters=True))

    def set_school_image(self, which: str, data: bytes | None) -> OpResult[SchoolProfile]:
        """Keep (or remove) the school's logo or signature picture."""
        saved = self.services.letters.profile.set_image(which, data)
        return OpResult(saved, OpChanges(settings=True, letters=True))

    # ----- evidence ----------------------------------------------------------------------

    def add_evidence(
        self,
        case_id: int,
        paths: Sequence[Path],
        details: EvidenceDetails | None = None,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> OpResult[list[AddedEvidence]]:
        """Add files as exhibits; the checklist's "capture evidence" is ticked with them."""
        added = self.services.evidence.add_files(
            case_id, list(paths), details, progress=progress, cancelled=cancelled
        )
        return OpResult(added, case_changes(case_id, cases=True, evidence=True, workflow=True))

    def add_evidence_bytes(
        self,
        case_id: int,
        items: Sequence[tuple[str, bytes]],
        details: EvidenceDetails | None = None,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> OpResult[list[AddedEvidence]]:
        """Add pasted or dropped content as exhibits (as ``add_evidence``)."""
        added = self.services.evidence.add_bytes(
            case_id, list(items), details, progress=progress, cancelled=cancelled
        )
        return OpResult(added, case_changes(case_id, cases=True, evidence=True, workflow=True))

    def redact(
        self, exhibit_id: int, boxes: Sequence[Box], for_audience: str = "author"
    ) -> OpResult[Exhibit]:
        """Save a redacted copy of a picture exhibit for one recipient."""
        copy = self.services.evidence.redact(exhibit_id, boxes, for_audience)
        return OpResult(copy, case_changes(copy.case_id, evidence=True))

    # ----- follow-up ----------------------------------------------------------------------

    def record_contact(
        self,
        case_id: int,
        kind: ContactKind,
        summary: str,
        *,
        when: datetime | None = None,
        present: Sequence[str] = (),
    ) -> OpResult[int]:
        """Add a note, phone call or meeting to the chronology; answers the case's id."""
        self.services.workflow.record_contact(case_id, kind, summary, when=when, present=present)
        return OpResult(case_id, case_changes(case_id, cases=True))

    def tick(self, case_id: int, action_id: int, note: str = "") -> OpResult[ChecklistItem]:
        """Mark a checklist action done."""
        item = self.services.workflow.tick(action_id, note)
        return OpResult(item, case_changes(item.case_id or case_id, workflow=True))

    def untick(self, case_id: int, action_id: int) -> OpResult[ChecklistItem]:
        """Mark a ticked action as not done after all."""
        item = self.services.workflow.untick(action_id)
        return OpResult(item, case_changes(item.case_id or case_id, workflow=True))

    def recheck(
        self,
        case_id: int,
        still_up: bool,
        note: str = "",
        evidence: Sequence[tuple[str, bytes]] = (),
        *,
        resolve: bool = False,
    ) -> OpResult[int]:
        """Record a re-check of the post (and its removal, with evidence, if it has gone)."""
        self.services.workflow.recheck(case_id, still_up, note, evidence, resolve=resolve)
        return OpResult(
            case_id, case_changes(case_id, cases=True, workflow=True, evidence=bool(evidence))
        )

    def take_step(
        self,
        case_id: int,
        step_id: str,
        outcome: StepOutcome = StepOutcome.AWAITING,
        *,
        when: datetime | None = None,
        note: str = "",
        reference: str = "",
    ) -> OpResult[Escalation]:
        """Record an escalation step (reporting to the platform ticks that action), with
        the reference number a platform or helpline gave."""
        found = self.services.workflow.take_step(
            case_id, step_id, outcome, when=when, note=note, reference=reference
        )
        return OpResult(found, case_changes(case_id, cases=True, workflow=True))

    def set_outcome(
        self,
        case_id: int,
        outcome: CaseOutcome,
        when: datetime | None = None,
        *,
        resolve: bool = False,
    ) -> OpResult[OutcomeInfo]:
        """Record how the case ended; ``resolve`` also closes it as resolved."""
        info = self.services.workflow.set_outcome(case_id, outcome, when, resolve=resolve)
        return OpResult(info, case_changes(case_id, cases=True, workflow=True))

    def governors_report(
        self, start: date, end: date, with_csv: bool, threshold: int | None = None
    ) -> OpResult[GovernorsReportFiles]:
        """The governors' report for a period, as PDF (and CSV)."""
        return governors_report(self.services, start, end, with_csv, threshold)

    # ----- documents ------------------------------------------------------------------------

    def export_case_file(
        self,
        case_id: int,
        *,
        for_sharing: bool = False,
        recipient: Recipient | None = None,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> OpResult[bytes]:
        """The case's file (bundle) as PDF, for the head or for one recipient."""
        pdf = self.services.reports.case_file(
            case_id,
            for_sharing=for_sharing,
            recipient=recipient,
            progress=progress,
            cancelled=cancelled,
        )
        return OpResult(pdf, case_changes(case_id))


@dataclass(frozen=True)
class GovernorsReportFiles:
    """The governors' report as made for saving: its PDF, and its figures as CSV if asked."""

    case_count: int
    pdf: bytes
    csv: str


def governors_report(
    services: Services, start: date, end: date, with_csv: bool, threshold: int | None = None
) -> OpResult[GovernorsReportFiles]:
    """Count the period's cases and draw the report (changes nothing)."""
    reports = services.reports
    report = reports.governors_report(start, end, threshold)
    pdf = reports.governors_pdf(report)
    csv = reports.governors_csv(report) if with_csv else ""
    return OpResult(GovernorsReportFiles(report.case_count, pdf, csv))
