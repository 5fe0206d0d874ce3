"""Evidence records: exhibits, what is known about them, and integrity findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class EvidenceDetails:
    """What a person can say about where a piece of evidence came from."""

    captured_at: datetime | None = None
    captured_by: str = ""
    source: str = ""  # who sent it and how
    post_url: str = ""
    posted_at: datetime | None = None
    note: str = ""


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
