"""Letters and the parent guidance leaflet: the school profile, templates, issuing, re-printing."""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db.models import (
    CaseOutcomeRecord,
    CasePersonRecord,
    CaseRecord,
    CaseStepRecord,
    LetterEmailRecord,
    LetterRecord,
    LetterTemplateRecord,
    PersonRecord,
    SettingRecord,
)
from app.db.sealing import case_is_sealed
from app.domain.access import Permission
from app.domain.categories import CATEGORY_INFO, Category, decode_categories
from app.domain.dates import format_long_date, london_midnight, london_today, to_london
from app.domain.errors import (
    AccessDenied,
    ConfirmationNeeded,
    NotFoundError,
    TemplateError,
    ValidationError,
)
from app.domain.letter_templates import (
    LIMITS,
    MAX_SOURCE,
    FilledLetter,
    LetterTemplate,
    check_template,
    compile_ahead,
    fill,
    parse_template_file,
)
from app.domain.letters import (
    AUTHOR_KINDS,
    BARRING_REVIEW_MONTHS,
    DEFAULT_PROFILE,
    LETTER_KINDS,
    MULTILINE_FIELDS,
    OUTCOME_RESOLVES,
    PROCEDURE_LABELS,
    PROFILE_FIELDS,
    PROFILE_LABELS,
    REQUEST_KINDS,
    SEND_METHOD_LABELS,
    YES_NO_FIELDS,
    Block,
    LetterKind,
    LetterOutcome,
    Procedure,
    SchoolProfile,
    SendMethod,
    kind_fits,
)
from app.domain.people import (
    ROLE_PHRASES,
    CaseRole,
    PersonKind,
    describe_restrictions,
    full_name,
    name_key,
    salutation,
)
from app.domain.records import CaseDetail, Person
from app.domain.sharing import Scrubber
from app.domain.status import STATUS_LABELS, CaseStatus, allowed_transitions, is_open
from app.domain.validation import clean_text
from app.domain.working_days import (
    WorkingCalendar,
    calendar_from,
    format_weekday_date,
    parse_closures,
)
from app.evidence.blobstore import BlobStorage
from app.pdf.documents import Branding, ContactLine, GuidanceDocument, LetterDocument
from app.services.blobs import read_intact
from app.services.cases import CaseService, add_event
from app.services.code import CodeService
from app.services.context import ServiceContext, resources_dir

log = logging.getLogger(__name__)

PROFILE_SETTING = "school_profile"
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_TEMPLATE = MAX_SOURCE
# How to print the A5 booklet, said wherever it is saved (window and command line).
BOOKLET_PRINTING = (
    "To print the booklet: A4 paper, double-sided, with “flip on short edge” (some printers "
    "call it short-edge binding) and at actual size, not “fit to page”; then fold the sheets "
    "in half together, with page 1 on the outside."
)
# Without a follow-up rule, a letter's "reply by" date is a week away.
DEFAULT_REPLY_DAYS = 7

# Fields the page layout itself prints (letterhead and sign-off), whatever the template.
_LAYOUT_FIELDS = ("name", "address", "head_teacher", "head_title")
_GUIDANCE_FIELDS = ("name", "address", "telephone", "email")

_PROCEDURE_FIELDS: dict[Procedure, tuple[str, str]] = {
    Procedure.COMPLAINTS: ("complaints_procedure", "complaints_contact"),
    Procedure.ANTI_BULLYING: ("anti_bullying_procedure", "anti_bullying_contact"),
    Procedure.ATTENDANCE: ("attendance_procedure", "attendance_contact"),
    Procedure.SEND: ("send_procedure", "send_contact"),
}


def _require_profile(profile: SchoolProfile, names: Sequence[str], what: str) -> None:
    for name in names:
        if not getattr(profile, name).strip():
            raise TemplateError(
                f"The {what} cannot be produced: the {PROFILE_LABELS[name]} is empty; "
                "complete it in the school profile (Settings)."
            )


# ----- the school profile ------------------------------------------------------------


class SchoolProfileService:
    """The school's details, logo and signature, kept in the casebook's settings."""

    def __init__(self, ctx: ServiceContext, blobs: BlobStorage) -> None:
        self.ctx = ctx
        self.blobs = blobs

    def get(self) -> SchoolProfile:
        """The saved profile, or the default naming the school in the Code."""
        with self.ctx.sessions() as session:
            record = session.get(SettingRecord, PROFILE_SETTING)
            if record is None:
                return DEFAULT_PROFILE
            data = json.loads(record.value)
        return SchoolProfile(**{k: str(v) for k, v in data.items() if k in PROFILE_FIELDS})

    def save(self, profile: SchoolProfile) -> SchoolProfile:
        """Check and save the school's details (the images are kept as they are)."""
        self.ctx.require(Permission.SETTINGS, action="change school profile")
        current = self.get()
        values: dict[str, str] = {}
        for name, label in PROFILE_LABELS.items():
            raw = getattr(profile, name)
            values[name] = clean_text(raw, label, 1000, multiline=name in MULTILINE_FIELDS)
        # Imported here: only saving the profile reads term dates, not issuing a letter.
        from app.domain.report_figures import parse_terms

        parse_terms(values["term_dates"])  # refuses a line it cannot read, naming it
        parse_closures(values["school_closures"])
        for name in YES_NO_FIELDS:
            values[name] = "yes" if values[name].strip().lower() in ("yes", "y", "true") else ""
        clean = current.with_values(**values)
        self._store(clean)
        return clean

    def set_image(self, which: str, data: bytes | None) -> SchoolProfile:
        """Keep a logo or signature image (any common picture format), or remove it."""
        if which not in ("logo", "signature"):
            raise ValueError(which)
        self.ctx.require(Permission.SETTINGS, action=f"change school {which}")
        sha = ""
        if data:
            if len(data) > MAX_IMAGE_BYTES:
                raise ValidationError(
                    f"The {which} image is too large ({len(data) // 1024} KB; at most 5 MB)."
                )
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
                    converted = image.convert("RGBA")
            except (UnidentifiedImageError, OSError, ValueError):
                raise ValidationError(
                    f"The file chosen for the {which} is not a picture this app can read; "
                    "choose a PNG or JPEG file."
                ) from None
            # Re-encoding as PNG drops camera metadata and gives reportlab one format to read.
            out = io.BytesIO()
            converted.save(out, format="PNG", optimize=False)
            sha = self.blobs.put_bytes(out.getvalue()).sha256
        profile = self.get().with_values(**{f"{which}_sha256": sha})
        self._store(profile)
        return profile

    def image(self, sha256: str) -> bytes | None:
        """The bytes of a stored logo or signature."""
        if not sha256 or not self.blobs.exists(sha256):
            return None
        return self.blobs.read_bytes(sha256)

    def branding(self, profile: SchoolProfile | None = None) -> Branding:
        """The profile with its images, as the renderers need it."""
        profile = profile or self.get()
        return Branding(
            profile, self.image(profile.logo_sha256), self.image(profile.signature_sha256)
        )

    def _store(self, profile: SchoolProfile) -> None:
        text = json.dumps(asdict(profile), ensure_ascii=False, sort_keys=True)
        with self.ctx.sessions.begin() as session:
            record = session.get(SettingRecord, PROFILE_SETTING)
            if record is None:
                session.add(SettingRecord(key=PROFILE_SETTING, value=text))
            else:
                record.value = text


# ----- records handed to the UI and CLI ------------------------------------------------


@dataclass(frozen=True)
class TemplateInfo:
    """A letter kind and the template version letters of that kind use now."""

    kind: LetterKind
    label: str
    version: str
    is_default: bool
    standard_number: int


@dataclass(frozen=True)
class PreparedLetter:
    """A letter rendered but not yet recorded: for the preview before issuing."""

    case_id: int | None
    kind: LetterKind
    template: LetterTemplate
    recipient: Person | None
    method: SendMethod
    document: LetterDocument
    pdf: bytes
    values: dict[str, Any]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    # One sentence when a character cannot be printed: the letter is then not issued.
    unprintable: str = ""

    @property
    def restriction(self) -> str:
        """Why this letter needs confirming (no parental responsibility, a court order or a
        contact restriction on the recipient), in a sentence; empty when it does not."""
        if self.recipient is None or not self.recipient.restrictions:
            return ""
        return describe_restrictions(self.recipient.name, self.recipient.restrictions)


@dataclass(frozen=True)
class IssuedLetter:
    """A letter recorded on a case."""

    id: int
    case_id: int
    case_reference: str
    kind: LetterKind
    label: str
    template_version: str
    recipient_name: str
    subject: str
    letter_date: date
    method: SendMethod
    pdf_sha256: str
    pdf_size: int
    issued_at: datetime
    issued_by: str
    sent_on: date | None = None  # None: prepared, not yet sent
    sent_method: SendMethod | None = None
    sent_by: str | None = None
    # The version of the Code of Conduct the letter quoted ("" when it cannot be read).
    code_version: str = ""
    reply_by: date | None = None  # worked out from the date sent (a working day)

    @property
    def is_sent(self) -> bool:
        """Whether the school has recorded that the letter left."""
        return self.sent_on is not None


@dataclass(frozen=True)
class BatchResult:
    """Letters of several cases in one PDF for printing together."""

    pdf: bytes
    included: tuple[str, ...]  # case references
    skipped: tuple[str, ...]  # cases with no letter to print
    cancelled: bool = False
    issued: tuple[IssuedLetter, ...] = ()  # letters a batch issued, one per case


@dataclass(frozen=True)
class BatchItem:
    """One case of a batch: its letter ready to issue, or why it cannot have one."""

    case_id: int
    reference: str
    prepared: PreparedLetter | None
    refusal: str = ""
    # What issuing it asks first (ConfirmationNeeded's reason and sentence), in order.
    questions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BatchPlan:
    """The same kind of letter prepared on several cases, for a preview of each."""

    kind: LetterKind
    items: tuple[BatchItem, ...]
    cancelled: bool = False

    @property
    def ready(self) -> tuple[BatchItem, ...]:
        """The cases whose letter can be issued."""
        return tuple(item for item in self.items if item.prepared is not None)


# ----- letters ----------------------------------------------------------------------------


_SAMPLE_VALUES: dict[str, dict[str, str]] = {
    "case": {
        "reference": "SM-2026-0001",
        "title": "Example case title",
        "platform": "Facebook",
        "account_handle": "Example Account",
        "post_url": "https://www.facebook.com/example/posts/1",
        "posted_on": "20 November 2026",
        "place": "Eccleston Parents Chat",
        "where_posted": "on Facebook, in “Eccleston Parents Chat”, on 20 November 2026",
        "summary": "An example summary of the case.",
        "inaccurate": "the school has cancelled all school trips this year.",
        "correct_facts": "every planned trip is going ahead, as set out in the newsletter.",
        "outcome": "removed",
        "conduct": "An example description of what happened at the school, and when.",
    },
    "recipient": {"name": "Zoë Łukasiewicz"},
    "previous_letter": {"date": "13 November 2026", "subject": "Example earlier letter"},
}
_SAMPLE_ADDRESS = ("12 Example Close", "Eccleston", "St Helens", "WA10 5AA")


def where_posted(platform: str, place: str, posted_on: str) -> str:
    """“on Facebook, in “Eccleston Parents Chat”, on 20 November 2026”, from what is known.

    Without the date it reads “in “Eccleston Parents Chat” on Facebook”, so the sentence it
    sits in needs no comma closing the group's name.
    """
    if not platform.strip():
        return ""
    if place.strip() and posted_on:
        return f"on {platform}, in “{place}”, on {posted_on}"
    if place.strip():
        return f"in “{place}” on {platform}"
    if posted_on:
        return f"on {platform} on {posted_on}"
    return f"on {platform}"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _code_version(field_values: str, default: str) -> str:
    """The Code version a stored letter quoted; letters from before versions say none."""
    try:
        stored = json.loads(field_values)
    except ValueError:
        return ""  # a sealed letter this user cannot open
    return str(stored.get("code_version") or default)


def _pupil_scrubber(case: CaseDetail, recipient: Person | None) -> Scrubber:
    """Hides the names of the pupils linked to the case (never the recipient's own name)."""
    pupils = [link.person for link in case.people if link.person.kind is PersonKind.PUPIL]
    details = [
        [p.name, *(n for n in (p.preferred_name, full_name(p.preferred_name, p.surname)) if n)]
        for p in pupils
    ]
    return Scrubber([recipient.name] if recipient else [], details)


def _standard_for_case(case: CaseDetail) -> str:
    order = (Category.ABUSIVE, Category.SAFEGUARDING, Category.INACCURATE, Category.PROCEDURE)
    for category in order:
        if category in case.categories:
            return CATEGORY_INFO[category].standard_id
    return "abusive"


def ready_to_draw(kind: LetterKind | None = None) -> None:
    """Import the PDF renderers and load the Latin fonts, as the first letter drawn would,
    and compile the shipped template of ``kind`` (used unless the school has its own).

    It reads nothing of a casebook, so a command that will draw a letter does it while the
    password's key is being derived (the interpreter is otherwise idle then, or soon will be).
    """
    import app.pdf.render as render

    render.register_fonts(resources_dir() / "fonts")
    if kind is not None:
        compile_ahead(shipped_template(kind))


@functools.cache
def shipped_template(kind: LetterKind) -> LetterTemplate:
    """The template of ``kind`` shipped with the app."""
    path = resources_dir() / "templates" / "letters" / f"{kind.value}.txt"
    return parse_template_file(kind, path.read_text(encoding="utf-8"))


class LetterService:
    """Issue, list and re-print letters; edit templates; make the guidance leaflet."""

    def __init__(
        self,
        ctx: ServiceContext,
        blobs: BlobStorage,
        cases: CaseService,
        codes: CodeService | None = None,
    ) -> None:
        self.ctx = ctx
        self.blobs = blobs
        self.cases = cases
        self.profile = SchoolProfileService(ctx, blobs)
        self.codes = codes if codes is not None else CodeService(ctx)
        self._fonts_ready = False

    def _pdf(self) -> ModuleType:
        """The PDF renderers, imported on first use: reportlab and python-docx take a tenth
        of a second to import, which the window's start-up should not pay."""
        if not self._fonts_ready:
            ready_to_draw()
            self._fonts_ready = True
        import app.pdf.render as render

        return render

    # ----- templates ---------------------------------------------------------------

    def default_template(self, kind: LetterKind) -> LetterTemplate:
        """The template shipped with the app for this kind."""
        return shipped_template(kind)

    def template(self, kind: LetterKind) -> LetterTemplate:
        """The template letters of this kind use now: the school's newest copy, else the default."""
        with self.ctx.sessions() as session:
            record = session.scalar(
                select(LetterTemplateRecord)
                .where(LetterTemplateRecord.kind == kind.value)
                .order_by(LetterTemplateRecord.version.desc())
                .limit(1)
            )
            if record is None:
                return self.default_template(kind)
            return LetterTemplate(kind, f"school-{record.version}", record.subject, record.body)

    def templates(self) -> list[TemplateInfo]:
        """Every kind of letter with the version in use."""
        infos = []
        for kind in LetterKind:
            current = self.template(kind)
            standard = self.ctx.code.standard(LETTER_KINDS[kind].standard_id)
            infos.append(
                TemplateInfo(
                    kind,
                    LETTER_KINDS[kind].label,
                    current.version,
                    current.is_default,
                    standard.number,
                )
            )
        return infos

    def save_template(self, kind: LetterKind, subject: str, body: str) -> LetterTemplate:
        """Check and save the school's own copy as a new version; a bad template saves nothing."""
        self.ctx.require(Permission.SETTINGS, action="change letter template", target=kind.value)
        # Measured before any other check, so a huge paste is refused at once.
        if len(body) > MAX_TEMPLATE:
            raise TemplateError(
                f"The letter text is {len(body):,} characters long; {LIMITS['source']}."
            )
        subject = clean_text(subject, "subject", 500)
        body = clean_text(body, "letter text", MAX_TEMPLATE, multiline=True)
        if not body:
            raise TemplateError("The letter text is empty.")
        draft = LetterTemplate(kind, "school-new", subject, body)
        check_template(draft)
        with self.ctx.sessions.begin() as session:
            last = session.scalar(
                select(func.max(LetterTemplateRecord.version)).where(
                    LetterTemplateRecord.kind == kind.value
                )
            )
            version = (last or 0) + 1
            session.add(
                LetterTemplateRecord(
                    kind=kind.value,
                    version=version,
                    subject=subject,
                    body=body,
                    created_at=self.ctx.now(),
                    created_by=self.ctx.actor,
                )
            )
        log.info("Saved version %d of the %s letter template", version, kind.value)
        return LetterTemplate(kind, f"school-{version}", subject, body)

    def restore_default(self, kind: LetterKind) -> LetterTemplate:
        """Go back to the shipped template (letters already issued keep what they used)."""
        self.ctx.require(Permission.SETTINGS, action="restore letter template", target=kind.value)
        with self.ctx.sessions.begin() as session:
            session.execute(
                delete(LetterTemplateRecord).where(LetterTemplateRecord.kind == kind.value)
            )
        return self.default_template(kind)

    def preview_template(
        self, kind: LetterKind, subject: str, body: str, case_id: int | None = None
    ) -> PreparedLetter:
        """Render an edited template with sample or real values; empty fields show as such."""
        draft = LetterTemplate(kind, "draft", subject, body)
        if case_id is None:
            return self._prepare_sample(draft)
        case = self.cases.get_case(case_id)
        recipient = self._default_recipient(case, kind, None, required=False)
        return self._prepare(case, draft, recipient, SendMethod.HAND, None, strict=False)

    # ----- preparing and issuing ---------------------------------------------------

    def prepare(
        self,
        case_id: int,
        kind: LetterKind,
        person_id: int | None = None,
        method: SendMethod = SendMethod.POST,
        procedure: Procedure | None = None,
        *,
        paragraph: str = "",
        body: str | None = None,
    ) -> PreparedLetter:
        """Render the letter for the preview; stops with a TemplateError if anything is missing.

        ``paragraph`` is the school's own words for this letter, set before the letter's
        last paragraph; ``body`` replaces the template's wording for this one letter, where
        the school profile allows it. Both are recorded with the letter.
        """
        self.ctx.require(Permission.LETTERS, case_id=case_id)
        case = self.cases.get_case(case_id)
        recipient = self._default_recipient(case, kind, person_id, required=True)
        template = self._personal_template(kind, body)
        return self._prepare(
            case,
            template,
            recipient,
            method,
            procedure,
            strict=True,
            paragraph=_clean_paragraph(paragraph),
        )

    def _personal_template(self, kind: LetterKind, body: str | None) -> LetterTemplate:
        template = self.template(kind)
        if body is None or body == template.body:
            return template
        if not self.profile.get().allows_body_edit():
            raise ValidationError(
                "The school profile does not allow a letter's wording to be edited before "
                "it is issued; add a paragraph instead, or change the setting in the profile."
            )
        if len(body) > MAX_TEMPLATE:
            raise TemplateError(
                f"The letter text is {len(body):,} characters long; {LIMITS['source']}."
            )
        body = clean_text(body, "letter text", MAX_TEMPLATE, multiline=True)
        if not body:
            raise TemplateError("The letter text is empty.")
        edited = LetterTemplate(kind, f"{template.version}-edited", template.subject, body)
        check_template(edited)
        return edited

    def check_issue(
        self,
        case_id: int,
        kind: LetterKind,
        person_id: int | None = None,
        *,
        confirm_recipient: bool = False,
        confirm_kind: bool = False,
        confirm_post_details: bool = False,
    ) -> None:
        """Refuse, with a ``ConfirmationNeeded`` the window turns into a question, a letter
        that does not fit the case's standards, a request sent to someone who is not the
        author of the post, or a letter naming a post whose platform, group or page, or
        date the case does not record."""
        # Read directly rather than through get_case: the window asks this on every change
        # of the dialog, and each get_case is a "view case" entry on the audit trail.
        self.ctx.require(Permission.LETTERS, case_id=case_id)
        with self.ctx.sessions() as session:
            case = session.get(CaseRecord, case_id)
            if case is None:
                raise NotFoundError("That case no longer exists.")
            reference = case.reference
            categories = decode_categories(case.categories)
            is_author = person_id is None or (
                session.get(CasePersonRecord, (case_id, person_id, CaseRole.AUTHOR.value))
                is not None
            )
            person = session.get(PersonRecord, person_id) if person_id is not None else None
            name = person.name if person is not None else "That person"
            post = (case.platform.strip(), (case.post_place or "").strip(), case.posted_at)
        standards = {CATEGORY_INFO[c].standard_id for c in categories}
        if not confirm_kind and not kind_fits(kind, standards):
            breached = ", ".join(CATEGORY_INFO[c].label.lower() for c in sorted(categories))
            number = self.ctx.code.standard(LETTER_KINDS[kind].standard_id).number
            raise ConfirmationNeeded(
                f"The letter '{LETTER_KINDS[kind].label}' quotes standard {number}, which case "
                f"{reference} is not recorded as breaching (it breaches: {breached}).",
                "kind",
            )
        # Without a person named, the letter goes to the author (see _default_recipient).
        if not (confirm_recipient or kind not in AUTHOR_KINDS or is_author):
            raise ConfirmationNeeded(
                f"{name} is not linked to case {reference} as the author of the post, and a "
                f"letter of the kind '{LETTER_KINDS[kind].label}' asks its reader to take "
                "their own post down.",
                "recipient",
            )
        if not confirm_post_details:
            question = self._post_details_question(kind, reference, *post)
            if question:
                raise ConfirmationNeeded(question, "post")

    def _post_details_question(
        self,
        kind: LetterKind,
        reference: str,
        platform: str,
        place: str,
        posted_at: datetime | None,
    ) -> str:
        """Why a letter that names the post cannot name it fully; empty when it can."""
        template = self.template(kind)
        if "case.where_posted" not in template.subject + template.body:
            return ""
        missing = [
            what
            for what, known in (
                ("the platform", platform),
                ("the group or page", place),
                ("the date", posted_at),
            )
            if known is None or known == ""
        ]
        if not missing:
            return ""
        # "the group or page, or the date": a comma, as one item holds an "or" of its own.
        listed = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])}, or {missing[-1]}"
        posted_on = format_long_date(to_london(posted_at).date()) if posted_at else ""
        says = where_posted(platform, place, posted_on)
        shown = (
            f"the letter will say only that it was posted {says}"
            if says
            else "the letter will not say where it was posted"
        )
        them = "it" if len(missing) == 1 else "them"
        return (
            f"Case {reference} does not record {listed} of the post, so {shown}. Add {them} "
            "to the case’s details if known."
        )

    def post_details_question(self, case_id: int, kind: LetterKind) -> ConfirmationNeeded | None:
        """The question about the post's missing details issuing this letter asks, if any."""
        for question in self.confirmations_needed(case_id, kind):
            if question.reason == "post":
                return question
        return None

    def confirmations_needed(
        self, case_id: int, kind: LetterKind, person_id: int | None = None
    ) -> tuple[ConfirmationNeeded, ...]:
        """Every question issuing this letter will ask, in the order it asks them."""
        confirmed: set[str] = set()
        asked: list[ConfirmationNeeded] = []
        for _ in range(4):
            try:
                self.check_issue(
                    case_id,
                    kind,
                    person_id,
                    confirm_recipient="recipient" in confirmed,
                    confirm_kind="kind" in confirmed,
                    confirm_post_details="post" in confirmed,
                )
            except ConfirmationNeeded as question:
                asked.append(question)
                confirmed.add(question.reason)
            else:
                break
        return tuple(asked)

    def issue(
        self,
        case_id: int,
        kind: LetterKind,
        person_id: int | None = None,
        method: SendMethod = SendMethod.POST,
        procedure: Procedure | None = None,
        prepared: PreparedLetter | None = None,
        *,
        paragraph: str = "",
        body: str | None = None,
        confirm_recipient: bool = False,
        confirm_kind: bool = False,
        confirm_post_details: bool = False,
        confirm_restriction: bool = False,
    ) -> IssuedLetter:
        """Record the letter on the case with its PDF: it is *prepared* until it is marked
        sent (``mark_sent``), which moves the case on and starts the reply-by clock. A
        letter to a contact with no parental responsibility, a court order or a contact
        restriction is refused unless ``confirm_restriction`` says it was confirmed."""
        self.ctx.require(
            Permission.LETTERS, case_id=case_id, action="issue letter", detail=kind.value
        )
        self.check_issue(
            case_id,
            kind,
            person_id,
            confirm_recipient=confirm_recipient,
            confirm_kind=confirm_kind,
            confirm_post_details=confirm_post_details,
        )
        if prepared is None or prepared.case_id != case_id or prepared.kind != kind:
            prepared = self.prepare(
                case_id, kind, person_id, method, procedure, paragraph=paragraph, body=body
            )
        if prepared.unprintable:
            raise ValidationError(prepared.unprintable)
        if prepared.restriction and not confirm_restriction:
            raise ValidationError(
                f"{prepared.restriction} Confirm that this letter may go to them before "
                "issuing it.",
                field="recipient",
            )
        with self.ctx.sessions() as session:
            sealed = case_is_sealed(session, case_id)
        stored = self.blobs.put_bytes(prepared.pdf, sealed=sealed)
        info = LETTER_KINDS[kind]
        recipient = prepared.recipient
        assert recipient is not None
        letter_date = london_today(self.ctx.now())
        with self.ctx.sessions.begin() as session:
            case = session.get(CaseRecord, case_id)
            if case is None:
                raise NotFoundError("That case no longer exists.")
            record = LetterRecord(
                case_id=case_id,
                person_id=recipient.id,
                kind=kind.value,
                template_version=prepared.template.version,
                recipient_name=recipient.name,
                subject=prepared.document.subject,
                letter_date=letter_date,
                method=method.value,
                field_values=json.dumps(prepared.values, ensure_ascii=False, sort_keys=True),
                pdf_sha256=stored.sha256,
                pdf_size=stored.size,
                issued_at=self.ctx.now(),
                issued_by=self.ctx.actor,
            )
            session.add(record)
            session.flush()
            add_event(
                session,
                case,
                self.ctx,
                "letter_issued",
                f"Letter issued: {info.label} to {recipient.name} "
                f"({SEND_METHOD_LABELS[method].lower()})",
                {
                    "letter_id": record.id,
                    "kind": kind.value,
                    "template_version": prepared.template.version,
                    "pdf_sha256": stored.sha256,
                    "method": method.value,
                },
            )
            return self._issued(record, case.reference)

    def _advance_case(
        self,
        session: Session,
        case: CaseRecord,
        kind: LetterKind,
        reply_by: date | None,
        outcome: str = "",
    ) -> None:
        info = LETTER_KINDS[kind]
        current = CaseStatus(case.status)
        target = info.moves_to
        follow_up_days = info.follow_up_days
        if kind == LetterKind.OUTCOME and LetterOutcome(outcome) not in OUTCOME_RESOLVES:
            # Telling the author the case goes further, or was closed, moves nothing on.
            target = None
            if outcome == LetterOutcome.ESCALATED:
                follow_up_days = None
        if target is not None and target != current and target in allowed_transitions(current):
            case.status = target.value
            add_event(
                session,
                case,
                self.ctx,
                "status_changed",
                f"Status changed from {STATUS_LABELS[current]} to {STATUS_LABELS[target]}: "
                f"{info.label.lower()} sent",
                {"from": current.value, "to": target.value, "note": "letter sent"},
            )
        if follow_up_days is None:
            return
        due = None if follow_up_days == 0 or not is_open(CaseStatus(case.status)) else reply_by
        if case.follow_up_due != due:
            case.follow_up_due = due
            summary = (
                f"Follow-up date set to {format_long_date(due)}"
                if due
                else "Follow-up date cleared"
            )
            add_event(
                session,
                case,
                self.ctx,
                "follow_up_changed",
                summary,
                {"follow_up_due": due.isoformat() if due else None},
            )

    def calendar(
        self, profile: SchoolProfile | None = None, kind: LetterKind | None = None
    ) -> WorkingCalendar:
        """The school's working days: no weekends, bank holidays or entered closures.

        A safeguarding letter asks for removal within days whatever the school's
        holidays: its reply-by date avoids weekends and bank holidays only.
        """
        if kind == LetterKind.SAFEGUARDING:
            return WorkingCalendar()
        return calendar_from((profile or self.profile.get()).school_closures)

    def _reply_by(self, record: LetterRecord) -> date | None:
        if record.reply_by is not None or record.sent_on is None:
            return record.reply_by
        # Sent before reply-by dates were kept: work it out the same way.
        kind = LetterKind(record.kind)
        days = LETTER_KINDS[kind].follow_up_days or DEFAULT_REPLY_DAYS
        return self.calendar(kind=kind).reply_by(record.sent_on, days)

    def _check_follow_up_time(self, first: LetterRecord, today: date) -> None:
        label = LETTER_KINDS[LetterKind(first.kind)].label
        written = format_long_date(first.letter_date)
        if first.sent_on is None:
            raise ValidationError(
                f"The first letter ({label}, {written}) has not been recorded as sent; "
                "record it as sent first. A follow-up may go once its reply-by date has passed."
            )
        reply_by = self._reply_by(first)
        if reply_by is not None and today <= reply_by:
            from_day = format_weekday_date(reply_by + timedelta(days=1))
            raise ValidationError(
                f"A follow-up may be sent from {from_day}: "
                f"the first letter ({label}, sent {format_long_date(first.sent_on)}) asked for "
                f"a reply by {format_weekday_date(reply_by)}."
            )

    def _default_recipient(
        self, case: CaseDetail, kind: LetterKind, person_id: int | None, *, required: bool
    ) -> Person | None:
        if person_id is not None:
            for link in case.people:
                if link.person.id == person_id:
                    if link.person.kind is PersonKind.PUPIL:
                        raise ValidationError(
                            "Letters are never addressed to pupils; choose a parent or carer.",
                            field="recipient",
                        )
                    return link.person
            raise ValidationError(
                f"That person is not linked to case {case.reference}; link them first."
            )
        role = LETTER_KINDS[kind].recipient_role
        for link in case.people:
            if link.role == role and link.person.kind is not PersonKind.PUPIL:
                return link.person
        if required:
            raise ValidationError(
                f"No one is linked to case {case.reference} as {ROLE_PHRASES[role]}; "
                "link the recipient to the case, or choose who the letter is to."
            )
        return None

    def find_recipient(self, case_id: int, name: str) -> Person:
        """The person linked to the case with this name (for ``--to``).

        Preparing the letter records the one "view case" entry of issuing it; only a
        refusal, which names the people linked, records its own here."""
        self.ctx.require(Permission.LETTERS, case_id=case_id)
        case = self.cases.case_unrecorded(case_id)
        key = name_key(name)
        matches = {
            link.person.id: link.person for link in case.people if name_key(link.person.name) == key
        }
        if not matches:
            self.ctx.audit("view case", case.reference)
            names = ", ".join(sorted({link.person.name for link in case.people})) or "no one"
            raise ValidationError(
                f"No one called {name.strip()} is linked to case {case.reference}; linked: {names}."
            )
        return next(iter(matches.values()))

    def _previous_request(self, case_id: int, person_id: int) -> LetterRecord | None:
        with self.ctx.sessions() as session:
            return session.scalar(
                select(LetterRecord)
                .where(
                    LetterRecord.case_id == case_id,
                    LetterRecord.person_id == person_id,
                    LetterRecord.kind.in_([k.value for k in REQUEST_KINDS]),
                )
                .order_by(LetterRecord.id)
                .limit(1)
            )

    def _previous_of_kind(
        self, case_id: int, person_id: int, kind: LetterKind
    ) -> LetterRecord | None:
        """The latest letter of ``kind`` to this person on this case."""
        with self.ctx.sessions() as session:
            return session.scalar(
                select(LetterRecord)
                .where(
                    LetterRecord.case_id == case_id,
                    LetterRecord.person_id == person_id,
                    LetterRecord.kind == kind.value,
                )
                .order_by(LetterRecord.id.desc())
                .limit(1)
            )

    def _step_taken(self, case_id: int, step_id: str) -> bool:
        with self.ctx.sessions() as session:
            found = session.scalar(
                select(CaseStepRecord.id)
                .where(CaseStepRecord.case_id == case_id, CaseStepRecord.step_id == step_id)
                .limit(1)
            )
        return found is not None

    def letter_outcome(self, case: CaseDetail) -> LetterOutcome | None:
        """How the matter ended, as an outcome letter words it; None while it is open."""
        from app.domain.policy import CaseOutcome  # only here: see load_policy

        with self.ctx.sessions() as session:
            record = session.get(CaseOutcomeRecord, case.id)
            recorded = CaseOutcome(record.outcome) if record is not None else None
        if recorded in (CaseOutcome.REMOVED, CaseOutcome.ACCOUNT_DELETED):
            return LetterOutcome.REMOVED
        if recorded == CaseOutcome.CORRECTED:
            return LetterOutcome.CORRECTED
        if recorded == CaseOutcome.REFUSED or case.status == CaseStatus.ESCALATED:
            return LetterOutcome.ESCALATED
        if recorded == CaseOutcome.NOT_TRACED or case.status == CaseStatus.CLOSED_NO_ACTION:
            return LetterOutcome.CLOSED
        return None

    def _check_kind(self, case: CaseDetail, kind: LetterKind) -> LetterOutcome | None:
        """Refuse, with one sentence, a letter this case cannot have yet."""
        info = LETTER_KINDS[kind]
        if info.after_step and not self._step_taken(case.id, info.after_step):
            raise ValidationError(
                "Letters about access to the school site come only after legal advice: "
                "record the legal advice step on the case’s Follow-up tab first."
            )
        if kind == LetterKind.CORRECTION and not (
            case.inaccurate_text.strip() and case.correct_facts.strip()
        ):
            raise ValidationError(
                "A correction letter states what is wrong and what the facts are: fill in "
                "“What is inaccurate” and “Correct facts” on the case’s details first."
            )
        if kind == LetterKind.OUTCOME:
            outcome = self.letter_outcome(case)
            if outcome is None:
                raise ValidationError(
                    "An outcome letter says how the matter ended: record the outcome on the "
                    "case’s Follow-up tab (removed, corrected or refused), escalate the case "
                    "or close it without action first."
                )
            return outcome
        return None

    def _prepare(
        self,
        case: CaseDetail,
        template: LetterTemplate,
        recipient: Person | None,
        method: SendMethod,
        procedure: Procedure | None,
        *,
        strict: bool,
        paragraph: str = "",
    ) -> PreparedLetter:
        kind = template.kind
        profile = self.profile.get()
        if strict:
            _require_profile(profile, _LAYOUT_FIELDS, "letter")
        outcome = self._check_kind(case, kind) if strict else self.letter_outcome(case)
        today = london_today(self.ctx.now())
        code = self.codes.in_force(today)
        info = LETTER_KINDS[kind]
        standard_id = info.standard_id
        previous = None
        if recipient is not None and kind == LetterKind.FOLLOW_UP:
            previous = self._previous_request(case.id, recipient.id)
        elif recipient is not None and info.after_kind is not None:
            previous = self._previous_of_kind(case.id, recipient.id, info.after_kind)
        if previous is not None and strict and kind == LetterKind.FOLLOW_UP:
            self._check_follow_up_time(previous, today)
        if previous is not None and kind == LetterKind.FOLLOW_UP:
            standard_id = json.loads(previous.field_values).get("standard_id", standard_id)
        elif kind in (LetterKind.FOLLOW_UP, LetterKind.MEETING, LetterKind.OUTCOME):
            standard_id = _standard_for_case(case)
        standard = code.standard(standard_id)
        address: tuple[str, ...] = ()
        if recipient is not None:
            address = recipient.address_lines + (
                (recipient.postcode,) if recipient.postcode else ()
            )
            if strict and method == SendMethod.POST and not address:
                raise ValidationError(
                    f"{recipient.name} has no postal address on record; add it to their "
                    "details, or send the letter by hand or by email."
                )
            if strict and address:
                # A printed address must show whole in the envelope window.
                self._pdf().check_address(recipient.name, address, Branding(profile))
        # A letter never names a pupil: the names of pupils linked to the case are taken
        # out of the case's own words before they reach the template.
        unnamed = _pupil_scrubber(case, recipient)
        proc = procedure or Procedure.COMPLAINTS
        proc_name_field, proc_contact_field = _PROCEDURE_FIELDS[proc]
        reply_days = info.follow_up_days or DEFAULT_REPLY_DAYS
        posted_on = format_long_date(to_london(case.posted_at).date()) if case.posted_at else ""
        reply_by = self.calendar(profile, kind).reply_by(today, reply_days)
        values: dict[str, dict[str, str]] = {
            "school": {
                name: getattr(profile, name)
                for name in (
                    "name",
                    "telephone",
                    "email",
                    "website",
                    "head_teacher",
                    "head_title",
                    "safeguarding_lead",
                    "chair_of_governors",
                )
            },
            "case": {
                "reference": case.reference,
                "title": unnamed(case.title),
                "platform": case.platform,
                "account_handle": unnamed(case.account_handle),
                "post_url": case.post_url,
                "posted_on": posted_on,
                "place": unnamed(case.post_place),
                "where_posted": where_posted(case.platform, unnamed(case.post_place), posted_on),
                "summary": unnamed(case.summary),
                "inaccurate": unnamed(case.inaccurate_text),
                "correct_facts": unnamed(case.correct_facts),
                "outcome": outcome.value if outcome is not None else "",
                "conduct": unnamed(case.barring_conduct),
            },
            "recipient": {"name": recipient.name if recipient else ""},
            "letter": {
                "date": format_long_date(today),
                "reply_by": format_weekday_date(reply_by),
                "review_on": format_long_date(add_months(today, BARRING_REVIEW_MONTHS)),
            },
            "standard": {"number": str(standard.number), "text": standard.text},
            "code": {"title": code.title, "version": code.version},
            "previous_letter": {
                "date": format_long_date(previous.letter_date),
                "subject": previous.subject,
            }
            if previous
            else {},
            "procedure": {
                "name": getattr(profile, proc_name_field) or "",
                "contact": getattr(profile, proc_contact_field) or "",
            },
        }
        filled = fill(
            template,
            values,
            strict=strict,
            safeguarding_case=Category.SAFEGUARDING in case.categories,
        )
        # What the letter cannot say about the post is asked when it is issued (check_issue).
        return self._finish(
            case.id,
            template,
            filled,
            recipient,
            address,
            method,
            case.reference,
            today,
            profile,
            standard_id,
            paragraph,
            code_version=code.version,
            outcome=outcome.value if outcome is not None else "",
        )

    def _prepare_sample(self, template: LetterTemplate) -> PreparedLetter:
        profile = self.profile.get()
        today = london_today(self.ctx.now())
        code = self.codes.in_force(today)
        info = LETTER_KINDS[template.kind]
        standard = code.standard(info.standard_id)
        values: dict[str, dict[str, str]] = {
            **_SAMPLE_VALUES,
            "school": {name: getattr(profile, name) for name in PROFILE_LABELS},
            "letter": {
                "date": format_long_date(today),
                "reply_by": format_weekday_date(
                    self.calendar(profile, template.kind).reply_by(
                        today, info.follow_up_days or DEFAULT_REPLY_DAYS
                    )
                ),
                "review_on": format_long_date(add_months(today, BARRING_REVIEW_MONTHS)),
            },
            "standard": {"number": str(standard.number), "text": standard.text},
            "code": {"title": code.title, "version": code.version},
            "procedure": {
                "name": profile.complaints_procedure,
                "contact": profile.complaints_contact,
            },
        }
        filled = fill(template, values, strict=False)
        person = Person(0, _SAMPLE_VALUES["recipient"]["name"], kind=PersonKind.PARENT)
        return self._finish(
            None,
            template,
            filled,
            person,
            _SAMPLE_ADDRESS,
            SendMethod.POST,
            "SM-2026-0001",
            today,
            profile,
            standard.id,
            code_version=code.version,
        )

    def _finish(
        self,
        case_id: int | None,
        template: LetterTemplate,
        filled: FilledLetter,
        recipient: Person | None,
        address: tuple[str, ...],
        method: SendMethod,
        reference: str,
        today: date,
        profile: SchoolProfile,
        standard_id: str,
        paragraph: str = "",
        *,
        code_version: str,
        outcome: str = "",
    ) -> PreparedLetter:
        kind = template.kind
        name = recipient.name if recipient else "[recipient: to complete]"
        blocks = filled.blocks
        if paragraph:
            # The school's own words go before the letter's last paragraph (its closing
            # thoughts), one block per paragraph typed.
            own = tuple(Block(p.strip()) for p in paragraph.split("\n\n") if p.strip())
            at = max(len(blocks) - 1, 0)
            blocks = blocks[:at] + own + blocks[at:]
        document = LetterDocument(
            branding=self.profile.branding(profile),
            title=f"{LETTER_KINDS[kind].label} — {reference}",
            reference=reference,
            date_text=format_long_date(today),
            recipient_name=name,
            recipient_address=address,
            subject=filled.subject,
            salutation=f"{recipient.salutation if recipient else salutation()},",
            blocks=blocks,
            signatory=profile.head_teacher or "[head teacher’s name: to complete]",
            signatory_title=profile.head_title or "[head teacher’s title: to complete]",
        )
        pdf = self._pdf()
        unprintable = _unprintable(pdf, document)
        values: dict[str, Any] = {
            "fields": filled.used,
            "standard_id": standard_id,
            "code_version": code_version,
            "outcome": outcome,
            "template": {
                "version": template.version,
                "subject": template.subject,
                "body": template.body,
            },
            "document": _document_to_json(document),
            "paragraph": paragraph,
        }
        return PreparedLetter(
            case_id=case_id,
            kind=kind,
            template=template,
            recipient=recipient,
            method=method,
            document=document,
            pdf=pdf.render_letter(document),
            values=values,
            unprintable=unprintable,
        )

    # ----- issued letters ------------------------------------------------------------

    def _issued(self, record: LetterRecord, reference: str) -> IssuedLetter:
        kind = LetterKind(record.kind)
        return IssuedLetter(
            id=record.id,
            case_id=record.case_id,
            case_reference=reference,
            kind=kind,
            label=LETTER_KINDS[kind].label,
            template_version=record.template_version,
            recipient_name=record.recipient_name,
            subject=record.subject,
            letter_date=record.letter_date,
            method=SendMethod(record.method),
            pdf_sha256=record.pdf_sha256,
            pdf_size=record.pdf_size,
            issued_at=record.issued_at,
            issued_by=record.issued_by,
            sent_on=record.sent_on,
            sent_method=SendMethod(record.sent_method) if record.sent_method else None,
            sent_by=record.sent_by,
            code_version=_code_version(record.field_values, self.codes.shipped_version),
            reply_by=record.reply_by,
        )

    def list_letters(self, case_id: int) -> list[IssuedLetter]:
        """Letters issued on a case, oldest first."""
        self.ctx.require(Permission.LETTERS, case_id=case_id)
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(LetterRecord, CaseRecord.reference)
                .join(CaseRecord, CaseRecord.id == LetterRecord.case_id)
                .where(LetterRecord.case_id == case_id)
                .order_by(LetterRecord.id)
            ).all()
            return [self._issued(record, reference) for record, reference in rows]

    def get_letter(self, letter_id: int) -> IssuedLetter:
        """One issued letter."""
        with self.ctx.sessions() as session:
            record = session.get(LetterRecord, letter_id)
            if record is None:
                raise NotFoundError("That letter no longer exists.")
            case = session.get(CaseRecord, record.case_id)
            issued = self._issued(record, case.reference if case else "")
        self.ctx.require(Permission.LETTERS, case_id=record.case_id)
        return issued

    def mark_sent(self, letter_id: int, method: SendMethod, on: date | None = None) -> IssuedLetter:
        """Record that a prepared letter left the school (posted, handed over, emailed).

        ``on`` defaults to today; it may not be before the letter's date or in the
        future. Recording it again with the same details changes nothing; different
        details are refused, so the chronology never holds two sending dates.
        """
        with self.ctx.sessions() as session:
            found = session.get(LetterRecord, letter_id)
            if found is None:
                raise NotFoundError("That letter no longer exists.")
            case_id = found.case_id
        self.ctx.require(
            Permission.LETTERS, case_id=case_id, action="letter sent", detail=method.value
        )
        today = london_today(self.ctx.now())
        sent_on = on or today
        with self.ctx.sessions.begin() as session:
            record = session.get(LetterRecord, letter_id)
            case = session.get(CaseRecord, case_id)
            if record is None or case is None:
                raise NotFoundError("That letter no longer exists.")
            if sent_on > today:
                raise ValidationError("The date sent cannot be in the future.")
            if sent_on < record.letter_date:
                raise ValidationError(
                    f"The date sent cannot be before the letter’s date, "
                    f"{format_long_date(record.letter_date)}."
                )
            if record.sent_on is not None:
                if record.sent_on == sent_on and record.sent_method == method.value:
                    return self._issued(record, case.reference)
                raise ValidationError(
                    f"That letter was already recorded as sent on "
                    f"{format_long_date(record.sent_on)}."
                )
            kind = LetterKind(record.kind)
            days = LETTER_KINDS[kind].follow_up_days
            record.sent_on = sent_on
            record.sent_method = method.value
            record.sent_by = self.ctx.actor
            record.sent_recorded_at = self.ctx.now()
            record.reply_by = self.calendar(kind=kind).reply_by(sent_on, days) if days else None
            label = LETTER_KINDS[kind].label
            add_event(
                session,
                case,
                self.ctx,
                "letter_sent",
                f"Letter sent: {label} to {record.recipient_name} "
                f"({SEND_METHOD_LABELS[method].lower()}) on {format_long_date(sent_on)}",
                {"letter_id": record.id, "method": method.value, "sent_on": sent_on.isoformat()},
            )
            # Sent today: now; sent earlier: the start of that day, so the ladder's clock
            # runs from the day the letter left.
            moment = self.ctx.now() if sent_on == today else london_midnight(sent_on)
            from app.services.workflow import record_letter_sent  # not needed to issue one

            record_letter_sent(session, self.ctx, case, kind, moment)
            outcome = str(json.loads(record.field_values or "{}").get("outcome", ""))
            self._advance_case(session, case, kind, record.reply_by, outcome)
            return self._issued(record, case.reference)

    def letter_pdf(self, letter_id: int) -> bytes:
        """The PDF exactly as issued (re-printing gives the identical file)."""
        letter = self.get_letter(letter_id)
        self.ctx.audit(
            "export letter", letter.case_reference, f"{letter.label} to {letter.recipient_name}"
        )
        pdf = read_intact(self.blobs, letter.pdf_sha256)
        if pdf is None:
            raise NotFoundError(
                f"The stored copy of the letter of {format_long_date(letter.letter_date)} is "
                "missing or damaged; restore the data folder from a backup."
            )
        return pdf

    def letter_docx(self, letter_id: int) -> bytes:
        """An editable Word copy with the same content as the issued PDF."""
        with self.ctx.sessions() as session:
            record = session.get(LetterRecord, letter_id)
            if record is None:
                raise NotFoundError("That letter no longer exists.")
            stored = json.loads(record.field_values)["document"]
            case_id = record.case_id
        self.ctx.require(Permission.LETTERS, case_id=case_id, action="export letter (Word)")
        profile = SchoolProfile(**stored["profile"])
        document = _document_from_json(stored, self.profile.branding(profile))
        docx: bytes = self._pdf().render_docx(document)
        return docx

    def referenced_blobs(self) -> set[str]:
        """Every blob letters and the school profile refer to (for the start-up sweep)."""
        with self.ctx.sessions() as session:
            found = set(session.scalars(select(LetterRecord.pdf_sha256)).all())
            # The messages as sent by email (services/mail.py) are kept with their letters.
            found |= set(session.scalars(select(LetterEmailRecord.eml_sha256)).all())
        profile = self.profile.get()
        found |= {sha for sha in (profile.logo_sha256, profile.signature_sha256) if sha}
        return found

    def prepare_batch(
        self,
        case_ids: Sequence[int],
        kind: LetterKind,
        method: SendMethod = SendMethod.POST,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> BatchPlan:
        """One kind of letter prepared on each case, to its usual recipient (e.g. the post's
        author); a case that cannot have it says why, and the others go on."""
        items: list[BatchItem] = []
        total = len(case_ids)
        for done, case_id in enumerate(case_ids, start=1):
            if cancelled is not None and cancelled():
                return BatchPlan(kind, tuple(items), cancelled=True)
            reference = self.cases.get_case(case_id).reference
            try:
                prepared = self.prepare(case_id, kind, None, method)
                asked = self.confirmations_needed(case_id, kind)
            except (ValidationError, TemplateError, NotFoundError, AccessDenied) as refusal:
                items.append(BatchItem(case_id, reference, None, refusal.message))
            else:
                questions = tuple((q.reason, q.message) for q in asked)
                items.append(BatchItem(case_id, reference, prepared, questions=questions))
            if progress is not None:
                progress(done, total)
        return BatchPlan(kind, tuple(items))

    def issue_batch(
        self,
        plan: BatchPlan,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        *,
        confirmed: frozenset[str] = frozenset(),
    ) -> BatchResult:
        """Issue each ready letter of ``plan`` on its own case, and join them for printing.

        Each letter is recorded on its case as it is issued; cancelling stops before the
        next one, and the letters issued so far stay issued and are in the PDF. A letter
        whose questions (``BatchItem.questions``) were not all answered yes in ``confirmed``
        (their reasons: "kind", "post") is not issued, and is listed as skipped.
        """
        ready = plan.ready
        if not ready:
            raise ValidationError("None of the chosen cases can have this letter.")
        issued: list[IssuedLetter] = []
        pdfs: list[bytes] = []
        stopped = False
        unanswered: list[str] = []
        for done, item in enumerate(ready, start=1):
            if cancelled is not None and cancelled():
                stopped = True
                break
            prepared = item.prepared
            assert prepared is not None
            if any(reason not in confirmed for reason, _ in item.questions):
                unanswered.append(item.reference)
                continue
            try:
                letter = self.issue(
                    item.case_id,
                    plan.kind,
                    prepared.recipient.id if prepared.recipient else None,
                    prepared.method,
                    prepared=prepared,
                    confirm_kind="kind" in confirmed,
                    confirm_post_details="post" in confirmed,
                )
            except ConfirmationNeeded:
                # The case changed after the preview: it asks something new.
                unanswered.append(item.reference)
                continue
            issued.append(letter)
            pdfs.append(prepared.pdf)
            if progress is not None:
                progress(done, len(ready))
        skipped = tuple(
            item.reference
            for item in plan.items
            if item.prepared is None or item.reference in unanswered
        )
        return BatchResult(
            self._join(pdfs) if pdfs else b"",
            tuple(letter.case_reference for letter in issued),
            skipped,
            cancelled=stopped,
            issued=tuple(issued),
        )

    def _join(self, pdfs: Sequence[bytes]) -> bytes:
        """Several letters in one PDF for printing together."""
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        for pdf in pdfs:
            writer.append(PdfReader(io.BytesIO(pdf)))
        writer.add_metadata({"/Title": "Letters for printing", "/Author": self.profile.get().name})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def batch_pdf(
        self,
        case_ids: Sequence[int],
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> BatchResult:
        """The latest letter of each case, in one PDF, for printing together."""
        pdfs: list[bytes] = []
        included: list[str] = []
        skipped: list[str] = []
        total = len(case_ids)
        for done, case_id in enumerate(case_ids, start=1):
            if cancelled is not None and cancelled():
                return BatchResult(b"", tuple(included), tuple(skipped), cancelled=True)
            letters = self.list_letters(case_id)
            if letters:
                pdfs.append(self.letter_pdf(letters[-1].id))
                included.append(letters[-1].case_reference)
            else:
                skipped.append(self.cases.get_case(case_id).reference)
            if progress is not None:
                progress(done, total)
        if not included:
            raise ValidationError("None of the chosen cases has a letter to print yet.")
        return BatchResult(self._join(pdfs), tuple(included), tuple(skipped))

    # ----- the guidance leaflet ----------------------------------------------------------

    def guidance_pdf(self, a5_booklet: bool = False) -> tuple[bytes, tuple[str, ...]]:
        """The parent and carer guidance leaflet from the Code's wording, with any warnings."""
        profile = self.profile.get()
        _require_profile(profile, _GUIDANCE_FIELDS, "guidance leaflet")
        contacts = [
            ContactLine("School office", f"{profile.telephone}  ·  {profile.email}"),
        ]
        if profile.head_teacher:
            contacts.append(ContactLine(profile.head_title or "Head teacher", profile.head_teacher))
        if profile.safeguarding_lead:
            contacts.append(ContactLine("Designated safeguarding lead", profile.safeguarding_lead))
        for proc, (name_field, contact_field) in _PROCEDURE_FIELDS.items():
            name = getattr(profile, name_field)
            if name:
                contact = getattr(profile, contact_field)
                value = f"{name} — contact {contact}" if contact else name
                contacts.append(ContactLine(f"{PROCEDURE_LABELS[proc]}", value))
        code = self.codes.in_force()
        in_force_from = date.fromisoformat(code.in_force_from)
        document = GuidanceDocument(
            branding=self.profile.branding(profile),
            code=code,
            code_date_text=f"in force from {format_long_date(in_force_from)}",
            contacts=tuple(contacts),
        )
        pdf = self._pdf()
        missing = pdf.missing_characters(document.texts())
        warnings = (pdf.describe_missing(missing),) if missing else ()
        return pdf.render_guidance(document, a5_booklet=a5_booklet), warnings


def _clean_paragraph(text: str) -> str:
    """The school's own paragraph for one letter: plain text, at most 2,000 characters."""
    return clean_text(text, "paragraph", 2000, multiline=True).strip()


def _unprintable(pdf: ModuleType, document: LetterDocument) -> str:
    """One sentence naming a character no shipped font can print, and whose it is."""
    missing = pdf.missing_characters(document.texts())
    if not missing:
        return ""
    char = missing[0]
    shown = pdf.character_name(char)
    name = document.recipient_name
    if char in name:
        return (
            f"The name of {name} has {shown}, a character none of the letter's fonts can "
            "print; correct the spelling of the name before issuing the letter."
        )
    if any(char in line for line in document.recipient_address):
        return (
            f"The address of {name} has {shown}, a character none of the letter's fonts can "
            "print; correct the address before issuing the letter."
        )
    return (
        f"The letter has {shown}, a character none of its fonts can print; correct the "
        "school profile or the template before issuing the letter."
    )


def _document_to_json(doc: LetterDocument) -> dict[str, Any]:
    return {
        "profile": asdict(doc.branding.profile),
        "title": doc.title,
        "reference": doc.reference,
        "date_text": doc.date_text,
        "recipient_name": doc.recipient_name,
        "recipient_address": list(doc.recipient_address),
        "subject": doc.subject,
        "salutation": doc.salutation,
        "blocks": [{"text": b.text, "quote": b.quote} for b in doc.blocks],
        "closing": doc.closing,
        "signatory": doc.signatory,
        "signatory_title": doc.signatory_title,
    }


def _document_from_json(data: dict[str, Any], branding: Branding) -> LetterDocument:
    return LetterDocument(
        branding=branding,
        title=data["title"],
        reference=data["reference"],
        date_text=data["date_text"],
        recipient_name=data["recipient_name"],
        recipient_address=tuple(data["recipient_address"]),
        subject=data["subject"],
        salutation=data["salutation"],
        blocks=tuple(Block(b["text"], b["quote"]) for b in data["blocks"]),
        closing=data["closing"],
        signatory=data["signatory"],
        signatory_title=data["signatory_title"],
    )
