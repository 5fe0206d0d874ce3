"""Subject access requests: recorded, timed, and answered with what Article 15 requires.

The response holds the person's own data with everyone else's details replaced by
"[third party]", the supplementary facts the law asks for (purposes, categories,
recipients, retention, rights, the ICO, the source), and only exhibits redacted for this
person: every other exhibit is listed as withheld, with the ground, for the head to review.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import (
    CasePersonRecord,
    CaseRecord,
    EventRecord,
    EvidenceRecord,
    FamilyLinkRecord,
    LetterRecord,
    PersonRecord,
    SubjectAccessRequestRecord,
)
from app.domain.access import Permission
from app.domain.categories import CATEGORY_INFO, decode_categories
from app.domain.dates import format_short_date, london_today, to_london
from app.domain.errors import NotFoundError, ValidationError
from app.domain.evidence import EvidenceKind
from app.domain.letters import LETTER_KINDS, LetterKind
from app.domain.people import ROLE_LABELS, CaseRole
from app.domain.records import Person
from app.domain.retention import SarCase, SarEntry, SarLetter
from app.domain.sharing import RULES, ExhibitName, Recipient, Scrubber, person_audience
from app.domain.status import STATUS_LABELS, CaseStatus
from app.domain.subject_access import (
    NOT_A_PICTURE,
    NOT_REVIEWED,
    THIRD_PARTY_GROUND,
    SarItem,
    SubjectAccessRequest,
    SubjectAccessResponse,
    Withholding,
    check_extension,
    response_due,
)
from app.domain.validation import clean_text
from app.files import safe_file_name
from app.services.context import ServiceContext, resources_dir
from app.services.evidence import EvidenceService
from app.services.letters import LetterService
from app.services.people import person_from_record
from app.services.retention import RetentionService

LETTER_TO_OTHERS = "it is addressed to someone else and may hold other people's information"
LETTER_NAMES_OTHERS = "it names other people; the head will send you a redacted copy"


@dataclass(frozen=True)
class SubjectAccessExport:
    """The zip handed to the person, and what went into it and what was withheld."""

    zip_bytes: bytes
    pdf: bytes
    file_names: tuple[str, ...]
    person_name: str
    request: SubjectAccessRequest
    response: SubjectAccessResponse

    @property
    def exhibits_included(self) -> int:
        return sum(1 for i in self.response.items if i.label.startswith("Exhibit") and i.included)

    @property
    def exhibits_withheld(self) -> int:
        return sum(
            1 for i in self.response.items if i.label.startswith("Exhibit") and not i.included
        )

    def counts(self) -> dict[str, Any]:
        """What the response holds and withholds, for scripts (``casebook sar --json``)."""
        items = self.response.items
        return {
            "person": self.person_name,
            "request_id": self.request.id,
            "received_on": self.request.received_on.isoformat(),
            "due_on": self.request.deadline.isoformat(),
            "identity_checked": self.request.identity_checked,
            "files": len(self.file_names),
            "cases": len(self.response.cases),
            "letters_included": len(self.response.letters),
            "entries": len(self.response.entries),
            "exhibits_included": self.exhibits_included,
            "exhibits_withheld": self.exhibits_withheld,
            "items_withheld": self.response.withheld_count,
            "withheld": [
                {"ground": w.ground, "count": w.count, "detail": w.detail}
                for w in self.response.withheld
            ],
            "passages_redacted": self.response.redacted_passages,
            "to_review": [
                {"case": i.reference, "item": i.label, "sha256": i.sha256}
                for i in items
                if not i.included and i.label.startswith("Exhibit")
            ],
        }


def _details_of(person: Person) -> list[str]:
    details = [person.name, *person.address_lines]
    details += [v for v in (person.postcode, person.email, person.phone) if v]
    return details


def _request(record: SubjectAccessRequestRecord) -> SubjectAccessRequest:
    return SubjectAccessRequest(
        id=record.id,
        person_id=record.person_id,
        requester_name=record.requester_name,
        received_on=record.received_on,
        identity_checked_on=record.identity_checked_on,
        identity_note=record.identity_note,
        due_on=record.due_on,
        extended_to=record.extended_to,
        extension_reason=record.extension_reason,
        responded_on=record.responded_on,
        recorded_by=record.recorded_by,
    )


class SubjectAccessService:
    """Subject access requests: record, extend, review and answer them."""

    def __init__(
        self,
        ctx: ServiceContext,
        evidence: EvidenceService,
        letters: LetterService,
        retention: RetentionService,
    ) -> None:
        self.ctx = ctx
        self.evidence = evidence
        self.letters = letters
        self.retention = retention

    # ----- the request ------------------------------------------------------------------

    def record_request(
        self,
        person_id: int,
        received_on: date,
        identity_note: str = "",
        identity_checked_on: date | None = None,
    ) -> SubjectAccessRequest:
        """Record a request from a person: when it arrived and how their identity was
        checked. The response is due one calendar month from receipt (or from the identity
        check, if that came later)."""
        self.ctx.require(
            Permission.SAFEGUARDING,
            action="record subject access request",
            target=f"person {person_id}",
        )
        today = london_today(self.ctx.now())
        note = clean_text(identity_note, "identity check", 500)
        if received_on > today:
            raise ValidationError("The date the request was received cannot be in the future.")
        if note and identity_checked_on is None:
            identity_checked_on = received_on  # identity shown with the request
        if identity_checked_on is not None and identity_checked_on < received_on:
            identity_checked_on = received_on
        with self.ctx.sessions.begin() as session:
            person = session.get(PersonRecord, person_id)
            if person is None:
                raise NotFoundError("That person no longer exists.")
            start = max(received_on, identity_checked_on or received_on)
            record = SubjectAccessRequestRecord(
                person_id=person_id,
                requester_name=person.name,
                received_on=received_on,
                identity_checked_on=identity_checked_on,
                identity_note=note,
                due_on=response_due(start),
                extension_reason="",
                response="",
                recorded_by=self.ctx.actor,
                recorded_at=self.ctx.now(),
            )
            session.add(record)
            session.flush()
            return _request(record)

    def record_identity(
        self, request_id: int, note: str, checked_on: date | None = None
    ) -> SubjectAccessRequest:
        """Record how the requester's identity was checked; the month runs from then if later."""
        self.ctx.require(
            Permission.SAFEGUARDING, action="record identity check", target=f"sar {request_id}"
        )
        note = clean_text(note, "identity check", 500)
        if not note:
            raise ValidationError("Please say how the identity was checked.", field="identity")
        day = checked_on or london_today(self.ctx.now())
        with self.ctx.sessions.begin() as session:
            record = self._record(session, request_id)
            record.identity_checked_on = max(day, record.received_on)
            record.identity_note = note
            if record.extended_to is None:
                record.due_on = response_due(record.identity_checked_on)
            return _request(record)

    def extend(self, request_id: int, months: int, reason: str) -> SubjectAccessRequest:
        """Extend the time by one or two months for a complex request, recording why."""
        self.ctx.require(
            Permission.SAFEGUARDING,
            action="extend subject access request",
            target=f"sar {request_id}",
        )
        reason = clean_text(reason, "reason", 2000, multiline=True)
        with self.ctx.sessions.begin() as session:
            record = self._record(session, request_id)
            new = check_extension(_request(record), months, reason, london_today(self.ctx.now()))
            record.extended_to = new
            record.extension_reason = reason
            return _request(record)

    def requests(self, open_only: bool = False) -> list[SubjectAccessRequest]:
        """Every request recorded (or only those still to answer), soonest deadline first."""
        self.ctx.require(Permission.SAFEGUARDING)
        with self.ctx.sessions() as session:
            query = select(SubjectAccessRequestRecord)
            if open_only:
                query = query.where(SubjectAccessRequestRecord.responded_on.is_(None))
            found = [_request(r) for r in session.scalars(query).all()]
        return sorted(found, key=lambda r: (r.deadline, r.id))

    def open_request_for(self, person_id: int) -> SubjectAccessRequest | None:
        """The person's request still to answer, if there is one."""
        for request in self.requests(open_only=True):
            if request.person_id == person_id:
                return request
        return None

    def get(self, request_id: int) -> SubjectAccessRequest:
        """One request by its number."""
        self.ctx.require(Permission.SAFEGUARDING)
        with self.ctx.sessions() as session:
            return _request(self._record(session, request_id))

    @staticmethod
    def _record(session: Session, request_id: int) -> SubjectAccessRequestRecord:
        record = session.get(SubjectAccessRequestRecord, request_id)
        if record is None:
            raise NotFoundError(f"There is no subject access request number {request_id}.")
        return record

    # ----- the response -----------------------------------------------------------------

    def respond(self, request_id: int, *, mark_answered: bool = True) -> SubjectAccessExport:
        """The response as a zip (a PDF, the person's letters, exhibits redacted for them),
        recorded as answered today unless ``mark_answered`` is False (a draft to review)."""
        request = self.get(request_id)
        if request.person_id is None:
            raise NotFoundError("The person who made this request is no longer in the casebook.")
        person_id = request.person_id
        self.ctx.require(
            Permission.SAFEGUARDING, action="subject access response", target=f"person {person_id}"
        )
        response, files = self._response(request, person_id)
        from app.pdf.fonts import register_fonts
        from app.pdf.sanitise import sanitise_pdf
        from app.pdf.subject_access import render_subject_access

        register_fonts(resources_dir() / "fonts")
        pdf = render_subject_access(response)
        today = london_today(self.ctx.now())
        who = safe_file_name(response.person_name, "person")
        pdf_name = f"Subject access - {who} - {today.isoformat()}.pdf"
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(pdf_name, pdf)
            for name, data in files.items():
                archive.writestr(name, sanitise_pdf(data) if name.endswith(".pdf") else data)
        export = SubjectAccessExport(
            zip_bytes=out.getvalue(),
            pdf=pdf,
            file_names=(pdf_name, *files),
            person_name=response.person_name,
            request=request,
            response=response,
        )
        if mark_answered and request.open:
            with self.ctx.sessions.begin() as session:
                record = self._record(session, request_id)
                record.responded_on = today
                counts = export.counts()
                counts.pop("to_review")
                record.response = json.dumps(counts)
            export = SubjectAccessExport(
                export.zip_bytes,
                export.pdf,
                export.file_names,
                export.person_name,
                self.get(request_id),
                export.response,
            )
        return export

    def _response(
        self, request: SubjectAccessRequest, person_id: int
    ) -> tuple[SubjectAccessResponse, dict[str, bytes]]:
        from app.pdf.text import pdf_text

        with self.ctx.sessions() as session:
            record = session.get(PersonRecord, person_id)
            if record is None:
                raise NotFoundError("That person no longer exists.")
            person = person_from_record(record)
            links = session.execute(
                select(CasePersonRecord.case_id, CasePersonRecord.role)
                .where(CasePersonRecord.person_id == person_id)
                .order_by(CasePersonRecord.case_id)
            ).all()
            case_ids = sorted({case_id for case_id, _ in links})
            roles: dict[int, list[CaseRole]] = {}
            for case_id, role in links:
                roles.setdefault(case_id, []).append(CaseRole(role))
            cases = session.scalars(
                select(CaseRecord).where(CaseRecord.id.in_(case_ids)).order_by(CaseRecord.id)
            ).all()
            others_count: dict[int, int] = {}
            for (case_id,) in session.execute(
                select(CasePersonRecord.case_id).where(
                    CasePersonRecord.case_id.in_(case_ids), CasePersonRecord.person_id != person_id
                )
            ).all():
                others_count[case_id] = others_count.get(case_id, 0) + 1
            # Everyone else in the casebook is a third party: their details may turn up in
            # any note, not only on the cases they are linked to.
            # A parent's own children (as the MIS links them) are not third parties to a
            # parent with parental responsibility and no court order or restriction.
            children: list[int] = []
            if not person.restrictions:
                children = list(
                    session.scalars(
                        select(FamilyLinkRecord.pupil_id).where(
                            FamilyLinkRecord.contact_id == person_id
                        )
                    )
                )
            everyone = session.scalars(
                select(PersonRecord).where(
                    PersonRecord.id != person_id, PersonRecord.id.not_in(children)
                )
            )
            third = [_details_of(person_from_record(p)) for p in everyone]
            own_children = [
                str(name)
                for name in session.scalars(
                    select(PersonRecord.name).where(PersonRecord.id.in_(children))
                )
            ]
            third += [[c.reported_by] for c in cases if c.reported_by.strip()]
            events = session.scalars(
                select(EventRecord)
                .where(EventRecord.case_id.in_(case_ids))
                .order_by(EventRecord.case_id, EventRecord.id)
            ).all()
            event_rows = [(e.case_id, e.at, e.kind, e.summary, e.data) for e in events]
            letters = session.scalars(
                select(LetterRecord)
                .where(LetterRecord.case_id.in_(case_ids))
                .order_by(LetterRecord.letter_date, LetterRecord.id)
            ).all()
            letter_rows = [
                (r.id, r.case_id, r.letter_date, r.kind, r.subject, r.person_id) for r in letters
            ]
            evidence = session.scalars(
                select(EvidenceRecord)
                .where(EvidenceRecord.case_id.in_(case_ids))
                .order_by(EvidenceRecord.case_id, EvidenceRecord.number, EvidenceRecord.id)
            ).all()
            exhibit_rows = [
                (e.id, e.case_id, e.number, e.added_at, e.sha256, e.content_type)
                for e in evidence
                if e.kind == EvidenceKind.ORIGINAL.value
            ]
            file_names = [
                ExhibitName(e.original_name.removeprefix("thumbnail of "), f"Exhibit {e.number}")
                for e in evidence
            ]
            case_rows = [
                (
                    c.id,
                    c.reference,
                    c.title,
                    c.status,
                    c.created_at,
                    c.categories,
                    c.summary,
                    c.account_handle,
                    c.platform,
                )
                for c in cases
            ]
        profile = self.letters.profile.get()
        keep = [*profile.address_lines(), profile.name, profile.telephone, profile.email]
        scrub = Scrubber(
            [person.name, *own_children], third, file_names, [*keep, *_details_of(person)[1:]]
        )
        changed = 0

        def hide(text: str) -> str:
            nonlocal changed
            shown = scrub(text)
            if shown != text:
                changed += 1
            return shown

        refs = {row[0]: row[1] for row in case_rows}
        sar_cases = []
        for case_id, reference, title, status, created, categories, summary, handle, _ in case_rows:
            text = hide(summary)
            if CaseRole.AUTHOR in roles.get(case_id, []) and handle:
                text = (text + "\n" if text else "") + f"Account: {handle}"
            sar_cases.append(
                SarCase(
                    reference=reference,
                    title=hide(title),
                    roles=tuple(ROLE_LABELS[r] for r in roles.get(case_id, [])),
                    status=STATUS_LABELS[CaseStatus(status)],
                    opened_on=format_short_date(to_london(created).date()),
                    standards=tuple(
                        CATEGORY_INFO[c].label for c in sorted(decode_categories(categories))
                    ),
                    summary=text,
                    others_withheld=others_count.get(case_id, 0),
                )
            )
        entries = []
        recipients = []
        own = person.name.lower()
        for case_id, at, kind, summary, data in event_rows:
            values = json.loads(data or "{}")
            if kind == "case_file_shared":
                try:
                    label = RULES[Recipient(values.get("recipient", ""))].label
                except ValueError:
                    label = "someone outside the school"
                recipients.append(
                    f"{refs[case_id]}: a copy of the case file was made for {label} on "
                    f"{format_short_date(to_london(at).date())}."
                )
            if own in summary.lower() or values.get("person_id") == person_id:
                entries.append(
                    SarEntry(
                        reference=refs[case_id],
                        when=format_short_date(to_london(at).date()),
                        text=hide(summary),
                    )
                )

        files: dict[str, bytes] = {}
        items: list[SarItem] = []
        sar_letters = []
        for letter_id, case_id, letter_date, kind, subject, to_id in letter_rows:
            info = LETTER_KINDS.get(LetterKind(kind)) if kind in set(LetterKind) else None
            label = info.label if info else "Letter"
            reference = refs.get(case_id, "")
            when = format_short_date(letter_date)
            if to_id != person_id:
                items.append(
                    SarItem(
                        reference,
                        f"Letter of {when} to another person",
                        when,
                        "",
                        withheld_because=LETTER_TO_OTHERS,
                    )
                )
                continue
            pdf = self.letters.letter_pdf(letter_id)
            text = pdf_text(pdf)
            if not text.strip() or scrub.reveals(text):
                items.append(
                    SarItem(
                        reference,
                        f"Letter of {when}: {label}",
                        when,
                        "",
                        withheld_because=LETTER_NAMES_OTHERS,
                    )
                )
                continue
            what = safe_file_name(label, "letter")
            name = f"letters/{reference} {letter_date.isoformat()} {what} {letter_id}.pdf"
            files[name] = pdf
            sar_letters.append(SarLetter(reference, when, label, hide(subject), name))
        audience = person_audience(person_id)
        for exhibit_id, case_id, number, added_at, sha, content_type in exhibit_rows:
            reference = refs[case_id]
            added = format_short_date(to_london(added_at).date())
            copies = self.evidence.redacted_copies(exhibit_id, audience)
            if copies:
                copy = self.evidence.exported_copy(copies[-1].id, redacted=False)
                name = f"evidence/{reference} Exhibit {number} (redacted){_extension(copy)}"
                files[name] = copy
                items.append(SarItem(reference, f"Exhibit {number}", added, sha, file_name=name))
            else:
                # Pictures and PDFs can be redacted; other kinds cannot.
                picture = content_type.startswith(("image/", "application/pdf"))
                items.append(
                    SarItem(
                        reference,
                        f"Exhibit {number}",
                        added,
                        sha,
                        withheld_because=NOT_REVIEWED if picture else NOT_A_PICTURE,
                    )
                )
        withheld = _withholdings(items)
        today = london_today(self.ctx.now())
        response = SubjectAccessResponse(
            school=profile.name or "The school",
            school_contact=tuple(
                v
                for v in (
                    ", ".join(profile.address_lines()),
                    profile.telephone,
                    profile.email,
                )
                if v
            ),
            person_name=person.name,
            person_details=tuple(_details_of(person)[1:]),
            received_on=format_short_date(request.received_on),
            identity=(
                f"Checked on {format_short_date(request.identity_checked_on)}: "
                f"{request.identity_note or 'no note'}"
                if request.identity_checked_on
                else "Not recorded as checked"
            ),
            due_on=format_short_date(request.deadline),
            extension=(
                f"Extended to {format_short_date(request.extended_to)}: {request.extension_reason}"
                if request.extended_to
                else ""
            ),
            generated_on=format_short_date(today),
            cases=tuple(sar_cases),
            letters=tuple(sar_letters),
            entries=tuple(entries),
            items=tuple(items),
            purposes=_PURPOSES,
            categories=_categories(person, roles, bool(sar_letters), bool(exhibit_rows)),
            recipients=tuple(recipients)
            or ("No copy of these records has been given to anyone outside the school.",),
            retention=self._retention_text(),
            sources=_sources(case_rows, roles),
            withheld=withheld,
            redacted_passages=changed,
        )
        return response, files

    def _retention_text(self) -> tuple[str, ...]:
        rules = self.retention.rules()
        return (
            "Records of a case are kept while it is open. A closed case is reviewed "
            f"{rules.review_after_years} years after it was closed and deleted unless there is "
            "a reason to keep it (such as a legal claim).",
            "Records of a safeguarding case are kept until the child concerned is "
            f"{rules.safeguarding_until_age} (or {rules.safeguarding_without_dob_years} years "
            "after closing when the child's date of birth is not recorded), as guidance for "
            "schools advises.",
        )


_PURPOSES = (
    "To uphold the school's Code of Conduct for parents, carers and visitors on social "
    "media, and to respond to posts about members of the school community.",
    "To keep pupils and staff safe (safeguarding), and to keep a record of what the school "
    "did and why.",
    "The school does this as part of its public task (UK GDPR Article 6(1)(e)) and its "
    "duty to safeguard pupils. No decision about you is made by automated means.",
)


def _categories(
    person: Person, roles: dict[int, list[CaseRole]], letters: bool, exhibits: bool
) -> tuple[str, ...]:
    found = ["Your name"]
    contact = [
        label
        for label, value in (
            ("address", person.address_lines or person.postcode),
            ("e-mail address", person.email),
            ("telephone number", person.phone),
        )
        if value
    ]
    if contact:
        found.append("Your contact details: " + ", ".join(contact))
    found.append(
        "The part you played in each case ("
        + ", ".join(sorted({ROLE_LABELS[r] for rs in roles.values() for r in rs}))
        + ")"
        if roles
        else "No case records"
    )
    if any(CaseRole.AUTHOR in rs for rs in roles.values()):
        found.append("Posts you published and the social-media account they came from")
    found.append("Notes of conversations and meetings, and the school's actions on each case")
    if letters:
        found.append("Letters the school sent you")
    if exhibits:
        found.append("Screenshots and other evidence kept on the cases")
    return tuple(found)


def _sources(case_rows: list[Any], roles: dict[int, list[CaseRole]]) -> tuple[str, ...]:
    found = []
    for case_id, reference, *_rest, platform in case_rows:
        parts = roles.get(case_id, [])
        if CaseRole.REPORTER in parts:
            found.append(f"{reference}: from you, when you reported the post to the school.")
            continue
        source = "from the post itself" + (f" on {platform}" if platform else "")
        found.append(
            f"{reference}: {source}, from the person who reported it to the school (who is "
            "not named, as a third party), and from the school's own notes."
        )
    return tuple(found) or ("The school holds no case records about you.",)


def _withholdings(items: list[SarItem]) -> tuple[Withholding, ...]:
    found = []
    exhibits = [i for i in items if not i.included and i.label.startswith("Exhibit")]
    review = sum(1 for i in exhibits if i.withheld_because == NOT_REVIEWED)
    unreadable = len(exhibits) - review
    if review:
        found.append(
            Withholding(
                THIRD_PARTY_GROUND,
                review,
                f"{review} exhibit{'s' if review != 1 else ''}: {NOT_REVIEWED}.",
            )
        )
    if unreadable:
        found.append(
            Withholding(
                THIRD_PARTY_GROUND,
                unreadable,
                f"{unreadable} exhibit{'s' if unreadable != 1 else ''}: {NOT_A_PICTURE}.",
            )
        )
    letters = [i for i in items if not i.included and i.label.startswith("Letter")]
    for reason in (LETTER_TO_OTHERS, LETTER_NAMES_OTHERS):
        count = sum(1 for i in letters if i.withheld_because == reason)
        if count:
            found.append(
                Withholding(
                    THIRD_PARTY_GROUND,
                    count,
                    f"{count} letter{'s' if count != 1 else ''}: {reason}.",
                )
            )
    return tuple(found)


def _extension(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data.startswith(b"%PDF"):
        return ".pdf"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".bin"
