"""Evidence records: exhibits, what is known about them, and integrity findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class EvidenceKind(StrEnum):
    """An original as received, or a copy made from it."""

    ORIGINAL = "original"
    REDACTED = "redacted"
    STRIPPED = "stripped"
    THUMBNAIL = "thumbnail"


KIND_LABELS = {
    EvidenceKind.ORIGINAL: "original",
    EvidenceKind.REDACTED: "redacted copy",
    EvidenceKind.STRIPPED: "copy without metadata",
    EvidenceKind.THUMBNAIL: "thumbnail",
}


# How evidence reaches the school; the dialog offers these and accepts any other words.
RECEIVED_VIA = (
    "email",
    "WhatsApp",
    "text message",
    "in person",
    "phone call",
    "social media message",
    "letter",
    "seen by staff",
)


@dataclass(frozen=True)
class CustodyHop:
    """One step in a chain of custody: forwarded by one person to another, on a date, how."""

    from_person: str
    to_person: str
    on: date | None = None
    means: str = ""

    def sentence(self) -> str:
        """'Forwarded by A to B on 24/11/2026 by email'."""
        when = f" on {self.on.strftime('%d/%m/%Y')}" if self.on else ""
        how = f" by {self.means}" if self.means else ""
        who = f"{self.from_person or 'someone'} to {self.to_person or 'someone'}"
        return f"Forwarded by {who}{when}{how}"


@dataclass(frozen=True)
class EvidenceDetails:
    """What a person can say about where a piece of evidence came from."""

    captured_at: datetime | None = None  # when the school received (or captured) it
    captured_by: str = ""
    source: str = ""  # who sent it
    post_url: str = ""
    posted_at: datetime | None = None
    note: str = ""
    received_via: str = ""  # how it came: email, WhatsApp, in person...
    custody: tuple[CustodyHop, ...] = ()


# Said on an exhibit, and on its case, when a pupil's name is found in its text.
CHILD_WARNING = "A child may be identified: consider the safeguarding standard."

# What has happened to the words in an exhibit.
TEXT_PENDING = "pending"  # a picture or PDF waiting to be read
TEXT_READ = "read"
TEXT_UNREAD = "unread"  # could not be read (no Tesseract, a damaged page)


@dataclass(frozen=True)
class Suggestion:
    """An area the casebook suggests hiding: a protected name's words, or a face.

    The head teacher accepts or rejects each one; an accepted one becomes a box in the
    redaction tool, and nothing is hidden until she saves a redacted copy.
    """

    id: int
    kind: str  # "name" or "face"
    label: str  # the name found, or "face"
    page: int  # 0 for pictures; the page of a PDF
    box: tuple[int, int, int, int]  # x, y, width, height in the picture's (or page's) pixels
    state: str = "pending"  # "pending", "accepted" or "rejected"


@dataclass(frozen=True)
class Exhibit:
    """One stored piece of evidence (an original or one of its copies)."""

    id: int
    case_id: int
    number: int
    kind: EvidenceKind
    parent_id: int | None
    original_name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    page_count: int | None
    sha256: str
    details: EvidenceDetails
    added_by: str
    added_at: datetime
    exif: tuple[tuple[str, str], ...] = ()
    has_location: bool = False
    text_note: str = ""
    redacted_for: str = ""  # a redacted copy's recipient: author, lado, platform, person:<id>
    text_state: str = ""  # TEXT_PENDING, TEXT_READ, TEXT_UNREAD, or "" (nothing to read)
    reading_note: str = ""  # why its text was not read, or what of it was left unread
    protected_names: tuple[tuple[str, str], ...] = ()  # (name, "pupil" or "staff") found
    suggestions: tuple[Suggestion, ...] = ()
    email_headers: tuple[tuple[str, str], ...] = ()  # From, To, Date, Message-ID...

    @property
    def may_identify_child(self) -> bool:
        return any(kind == "pupil" for _name, kind in self.protected_names)

    @property
    def label(self) -> str:
        """'Exhibit 3' or 'Exhibit 3 (redacted copy)'."""
        if self.kind is EvidenceKind.ORIGINAL:
            return f"Exhibit {self.number}"
        return f"Exhibit {self.number} ({KIND_LABELS[self.kind]})"

    @property
    def base_type(self) -> str:
        return self.content_type.split(";", 1)[0]

    @property
    def is_image(self) -> bool:
        return self.base_type.startswith("image/")

    @property
    def is_pdf(self) -> bool:
        return self.base_type == "application/pdf"

    @property
    def is_text(self) -> bool:
        return self.base_type == "text/plain"


@dataclass(frozen=True)
class AddedEvidence:
    """The outcome for one file offered: the exhibit, and whether it was already there."""

    exhibit: Exhibit
    duplicate: bool


@dataclass(frozen=True)
class IntegrityFinding:
    """One stored file whose content no longer matches its recorded hash, or is missing."""

    exhibit_id: int
    case_reference: str
    label: str
    original_name: str
    problem: str  # "changed" or "missing"


@dataclass(frozen=True)
class IntegrityReport:
    """The result of re-hashing stored evidence."""

    checked: int
    findings: tuple[IntegrityFinding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def sentences(self) -> list[str]:
        """One line per problem, or one line saying all is well."""
        if self.ok:
            return [f"All {self.checked} stored files are intact (SHA-256 checked)."]
        lines = []
        for f in self.findings:
            what = (
                "has been changed since it was stored"
                if f.problem == "changed"
                else "is missing from the evidence store"
            )
            lines.append(f"{f.case_reference} {f.label} ({f.original_name}) {what}.")
        return lines
