"""Letters: their kinds, how they are sent, what they do to a case, and the school profile."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum

from app.domain.choices import parse_choice
from app.domain.people import CaseRole
from app.domain.status import CaseStatus


class LetterKind(StrEnum):
    """The letters the school sends; the values are the CLI ids."""

    REMOVAL = "removal"
    CORRECTION = "correction"
    PROCEDURE = "procedure"
    SAFEGUARDING = "safeguarding"
    FOLLOW_UP = "follow-up"
    MEETING = "meeting"
    ACKNOWLEDGEMENT = "acknowledgement"
    OUTCOME = "outcome"
    # The rare barring sequence (DfE, "Controlling access to school premises"): optional,
    # and only after the school has taken legal advice on the case.
    BARRING_INTENT = "barring-intent"
    BARRING_REPRESENTATIONS = "barring-representations"
    BARRING_DECISION = "barring-decision"
    BARRING_REVIEW = "barring-review"


@dataclass(frozen=True)
class LetterKindInfo:
    """How a kind of letter is named, which standard it quotes, and what it does to a case."""

    kind: LetterKind
    label: str
    standard_id: str
    recipient_role: CaseRole
    # Where the case moves when the letter is issued (if the workflow allows it).
    moves_to: CaseStatus | None
    # Days until the follow-up date; None leaves the date alone, 0 clears it.
    follow_up_days: int | None
    # Optional kinds are offered apart from the usual letters, never suggested.
    optional: bool = False
    # The escalation step (policy ladder id) the case must have reached first.
    after_step: str = ""
    # The letter of the sequence this one follows (it refers to it by date).
    after_kind: LetterKind | None = None


_K = LetterKind
LETTER_KINDS: dict[LetterKind, LetterKindInfo] = {
    _K.REMOVAL: LetterKindInfo(
        _K.REMOVAL,
        "Request for immediate removal",
        "abusive",
        CaseRole.AUTHOR,
        CaseStatus.LETTER_SENT,
        7,
    ),
    _K.CORRECTION: LetterKindInfo(
        _K.CORRECTION,
        "Request to remove or correct inaccurate information",
        "inaccurate",
        CaseRole.AUTHOR,
        CaseStatus.LETTER_SENT,
        7,
    ),
    _K.PROCEDURE: LetterKindInfo(
        _K.PROCEDURE,
        "Redirect to the proper procedure",
        "procedure",
        CaseRole.AUTHOR,
        CaseStatus.LETTER_SENT,
        7,
    ),
    _K.SAFEGUARDING: LetterKindInfo(
        _K.SAFEGUARDING,
        "Urgent removal of material that identifies a child",
        "safeguarding",
        CaseRole.AUTHOR,
        CaseStatus.LETTER_SENT,
        2,
    ),
    _K.FOLLOW_UP: LetterKindInfo(
        _K.FOLLOW_UP,
        "Follow-up: second request",
        "abusive",
        CaseRole.AUTHOR,
        CaseStatus.LETTER_SENT,
        7,
    ),
    _K.MEETING: LetterKindInfo(
        _K.MEETING,
        "Invitation to a meeting with the head teacher",
        "procedure",
        CaseRole.AUTHOR,
        None,
        7,
    ),
    _K.ACKNOWLEDGEMENT: LetterKindInfo(
        _K.ACKNOWLEDGEMENT,
        "Acknowledgement to the person who reported a post",
        "report",
        CaseRole.REPORTER,
        None,
        None,
    ),
    _K.OUTCOME: LetterKindInfo(
        _K.OUTCOME,
        "Outcome of the matter",
        "abusive",
        CaseRole.AUTHOR,
        # Only a post removed or corrected resolves the case (see OUTCOME_RESOLVES).
        CaseStatus.RESOLVED,
        0,
    ),
    _K.BARRING_INTENT: LetterKindInfo(
        _K.BARRING_INTENT,
        "Barring: notice of intention to withdraw permission to enter the school",
        "abusive",
        CaseRole.AUTHOR,
        None,
        10,
        optional=True,
        after_step="legal-advice",
    ),
    _K.BARRING_REPRESENTATIONS: LetterKindInfo(
        _K.BARRING_REPRESENTATIONS,
        "Barring: invitation to make representations",
        "abusive",
        CaseRole.AUTHOR,
        None,
        10,
        optional=True,
        after_step="legal-advice",
        after_kind=_K.BARRING_INTENT,
    ),
    _K.BARRING_DECISION: LetterKindInfo(
        _K.BARRING_DECISION,
        "Barring: decision",
        "abusive",
        CaseRole.AUTHOR,
        None,
        None,
        optional=True,
        after_step="legal-advice",
        after_kind=_K.BARRING_INTENT,
    ),
    _K.BARRING_REVIEW: LetterKindInfo(
        _K.BARRING_REVIEW,
        "Barring: outcome of the review",
        "abusive",
        CaseRole.AUTHOR,
        None,
        None,
        optional=True,
        after_step="legal-advice",
        after_kind=_K.BARRING_DECISION,
    ),
}

BARRING_KINDS = tuple(kind for kind, info in LETTER_KINDS.items() if info.optional)
# How long after a barring decision the school reviews it.
BARRING_REVIEW_MONTHS = 3


class LetterOutcome(StrEnum):
    """How the matter ended, as the outcome letter words it."""

    REMOVED = "removed"
    CORRECTED = "corrected"
    ESCALATED = "escalated"  # not removed; the school is taking it further
    CLOSED = "closed"  # closed without action


OUTCOME_RESOLVES = frozenset({LetterOutcome.REMOVED, LetterOutcome.CORRECTED})

# Kinds whose letter asks for something to be done; a follow-up letter refers to the first.
REQUEST_KINDS = (_K.REMOVAL, _K.CORRECTION, _K.PROCEDURE, _K.SAFEGUARDING)

# Kinds that ask the author to take their own post down: sent to anyone else, the school
# confirms it means to.
AUTHOR_KINDS = (_K.REMOVAL, _K.CORRECTION, _K.SAFEGUARDING)


def kind_fits(kind: LetterKind, standard_ids: frozenset[str] | set[str]) -> bool:
    """Whether a letter of ``kind`` fits a case breaching these standards: a request quotes
    one standard, which the case must breach; the other kinds fit any case."""
    return kind not in REQUEST_KINDS or LETTER_KINDS[kind].standard_id in standard_ids


def suggested_kind(standard_ids: frozenset[str] | set[str]) -> LetterKind:
    """The first letter a case usually needs, from the standards it breaches."""
    for standard_id, kind in (
        ("safeguarding", _K.SAFEGUARDING),
        ("abusive", _K.REMOVAL),
        ("inaccurate", _K.CORRECTION),
        ("procedure", _K.PROCEDURE),
    ):
        if standard_id in standard_ids:
            return kind
    return _K.REMOVAL


def parse_letter_kind(value: str) -> LetterKind:
    """Turn a kind id typed by a person into a ``LetterKind``, or explain the choices."""
    return parse_choice(LetterKind, value, "a kind of letter", "kind")


class SendMethod(StrEnum):
    """How a letter reached its recipient."""

    POST = "post"
    HAND = "hand"
    EMAIL = "email"


SEND_METHOD_LABELS: dict[SendMethod, str] = {
    SendMethod.POST: "By post",
    SendMethod.HAND: "By hand",
    SendMethod.EMAIL: "By email",
}


def parse_send_method(value: str) -> SendMethod:
    """Turn a method id into a ``SendMethod``, or explain the choices."""
    return parse_choice(SendMethod, value, "a way of sending", "method")


class Procedure(StrEnum):
    """The school procedures a parent can be directed to (standard 3)."""

    COMPLAINTS = "complaints"
    ANTI_BULLYING = "anti-bullying"
    ATTENDANCE = "attendance"
    SEND = "send"


PROCEDURE_LABELS: dict[Procedure, str] = {
    Procedure.COMPLAINTS: "Complaints",
    Procedure.ANTI_BULLYING: "Anti-bullying",
    Procedure.ATTENDANCE: "Attendance",
    Procedure.SEND: "Special educational needs and disabilities (SEND)",
}


def parse_procedure(value: str) -> Procedure:
    """Turn a procedure id into a ``Procedure``, or explain the choices."""
    return parse_choice(Procedure, value, "a school procedure", "procedure")


@dataclass(frozen=True)
class SchoolProfile:
    """The school's details printed on letters and the leaflet; empty means 'to complete'."""

    name: str = ""
    address: str = ""  # several lines
    telephone: str = ""
    email: str = ""
    website: str = ""
    head_teacher: str = ""
    head_title: str = ""
    safeguarding_lead: str = ""
    chair_of_governors: str = ""
    complaints_procedure: str = ""
    complaints_contact: str = ""
    anti_bullying_procedure: str = ""
    anti_bullying_contact: str = ""
    attendance_procedure: str = ""
    attendance_contact: str = ""
    send_procedure: str = ""
    send_contact: str = ""
    # One term a line, "Autumn 2026: 01/09/2026 to 18/12/2026": the governors' report's
    # periods and its time to removal per term.
    term_dates: str = ""
    # Periods the school is closed, one a line ("Christmas holidays: 19/12/2026 to
    # 03/01/2027"): a reply-by date never falls in one (nor on a weekend or bank holiday).
    school_closures: str = ""
    # "yes" lets whoever issues a letter edit its body before issuing (else only a
    # paragraph may be added); the template itself is unchanged.
    letter_body_editable: str = ""
    logo_sha256: str = ""
    signature_sha256: str = ""

    def address_lines(self) -> tuple[str, ...]:
        """The school's address, one line per item."""
        return tuple(line.strip() for line in self.address.splitlines() if line.strip())

    def missing(self) -> tuple[str, ...]:
        """Field names still to complete (images are optional)."""
        return tuple(
            name
            for name in PROFILE_LABELS
            if not getattr(self, name).strip() and name not in _OPTIONAL_FIELDS
        )

    def allows_body_edit(self) -> bool:
        """Whether a letter's body may be edited before it is issued."""
        return self.letter_body_editable.strip().lower() == "yes"

    def with_values(self, **values: str) -> SchoolProfile:
        """A copy with some fields changed."""
        return replace(self, **values)


PROFILE_LABELS: dict[str, str] = {
    "name": "school name",
    "address": "school address",
    "telephone": "school telephone number",
    "email": "school email address",
    "website": "school website",
    "head_teacher": "head teacher’s name",
    "head_title": "head teacher’s title",
    "safeguarding_lead": "designated safeguarding lead",
    "chair_of_governors": "chair of governors",
    "complaints_procedure": "complaints procedure (name or link)",
    "complaints_contact": "complaints procedure contact",
    "anti_bullying_procedure": "anti-bullying procedure (name or link)",
    "anti_bullying_contact": "anti-bullying procedure contact",
    "attendance_procedure": "attendance procedure (name or link)",
    "attendance_contact": "attendance procedure contact",
    "send_procedure": "SEND procedure (name or link)",
    "send_contact": "SEND procedure contact",
    "term_dates": "term dates (one a line: Autumn 2026: 01/09/2026 to 18/12/2026)",
    "school_closures": "school closures, e.g. Christmas: 19/12/2026 to 03/01/2027",
    "letter_body_editable": "letters’ wording may be edited before issuing",
}

_OPTIONAL_FIELDS = frozenset({"website", "term_dates", "school_closures", "letter_body_editable"})

# Fields typed on several lines (the rest are one line each).
MULTILINE_FIELDS = frozenset({"address", "term_dates", "school_closures"})

# Fields that are a yes or no: "yes" or empty.
YES_NO_FIELDS = frozenset({"letter_body_editable"})

PROFILE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SchoolProfile))

DEFAULT_PROFILE = SchoolProfile(
    name="Eccleston Lane Ends Primary School",
    head_title="Head teacher",
)

TO_COMPLETE = "to complete"


@dataclass(frozen=True)
class Block:
    """One paragraph of a letter's body; ``quote`` marks the Code's own words."""

    text: str
    quote: bool = False
