"""What the renderers print: plain records built by the services, never database rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.code_of_conduct import CodeOfConduct
from app.domain.letters import Block, SchoolProfile

__all__ = ["Block", "Branding", "ContactLine", "GuidanceDocument", "LetterDocument"]


@dataclass(frozen=True)
class Branding:
    """The school's details and images as printed at the top of every page."""

    profile: SchoolProfile
    logo: bytes | None = None
    signature: bytes | None = None


@dataclass(frozen=True)
class LetterDocument:
    """A letter ready to print: every text already filled in."""

    branding: Branding
    title: str  # PDF metadata title, e.g. "Request for immediate removal — SM-2026-0001"
    reference: str
    date_text: str  # "24 November 2026"
    recipient_name: str
    recipient_address: tuple[str, ...]
    subject: str
    salutation: str
    blocks: tuple[Block, ...]
    closing: str = "Yours sincerely"
    signatory: str = ""
    signatory_title: str = ""

    def texts(self) -> list[str]:
        """Every text that will be printed (for the font check)."""
        p = self.branding.profile
        return [
            p.name,
            p.address,
            p.telephone,
            p.email,
            p.website,
            self.reference,
            self.date_text,
            self.recipient_name,
            *self.recipient_address,
            self.subject,
            self.salutation,
            *(b.text for b in self.blocks),
            self.closing,
            self.signatory,
            self.signatory_title,
        ]


@dataclass(frozen=True)
class ContactLine:
    """One row of the leaflet's 'how to raise a concern' table."""

    label: str
    value: str


@dataclass(frozen=True)
class GuidanceDocument:
    """The parent and carer guidance leaflet."""

    branding: Branding
    code: CodeOfConduct
    code_date_text: str
    contacts: tuple[ContactLine, ...] = field(default_factory=tuple)

    def texts(self) -> list[str]:
        p = self.branding.profile
        c = self.code
        return [
            p.name,
            p.address,
            c.title,
            *c.introduction,
            c.media_intro,
            *(k.text for k in c.media_kinds),
            c.purpose,
            *(a.text for a in c.aims),
            c.standards_intro,
            *(s.text for s in c.standards),
            *(f"{x.label} {x.value}" for x in self.contacts),
        ]
