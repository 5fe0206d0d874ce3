"""Who a case file is shared with, and the rule of what each of them may see.

The head teacher's own case file holds everything. A copy for anyone else follows the
recipient's rule: the police get the complete file (disclosure for the prevention or
detection of crime); everyone else gets no third party's name, address, contact details or
letters, exhibits only as redacted for that recipient, and a list of what was withheld.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.choices import parse_choice
from app.domain.errors import ValidationError
from app.domain.people import CaseRole
from app.domain.third_parties import ThirdPartyRedactor


class Recipient(StrEnum):
    """Who a copy of the case file is for."""

    AUTHOR = "author"
    LADO = "lado"
    POLICE = "police"
    PLATFORM = "platform"


@dataclass(frozen=True)
class SharingRule:
    """What one kind of recipient is given."""

    recipient: Recipient
    label: str  # "the author of the post (or their solicitor)"
    title: str  # "Copy for the author of the post"
    rule: str  # the rule in a sentence or two, printed on the cover
    named_roles: frozenset[CaseRole]  # whose details they may see
    everything: bool = False  # the police: the complete file, originals included

    @property
    def audience(self) -> str:
        """The tag a redacted copy made for this recipient carries."""
        return self.recipient.value


RULES: dict[Recipient, SharingRule] = {
    Recipient.AUTHOR: SharingRule(
        Recipient.AUTHOR,
        "the author of the post (or their solicitor)",
        "Copy for the author of the post",
        "For the author of the post or their solicitor: the post, the standards of the Code "
        "it breaches, what the school did, and the letters sent to the author. Other people's "
        "names, addresses and contact details, and letters to anyone else, are left out. "
        "Exhibits appear only as redacted for the author, by number, date and fingerprint.",
        frozenset({CaseRole.AUTHOR}),
    ),
    Recipient.LADO: SharingRule(
        Recipient.LADO,
        "the local authority designated officer (LADO)",
        "Copy for the local authority designated officer",
        "For the local authority designated officer: the case as the school holds it, with "
        "the author of the post named. Other people's names, addresses and contact details, "
        "and letters to anyone but the author, are left out. Exhibits appear only as redacted "
        "for the LADO, by number, date and fingerprint.",
        frozenset({CaseRole.AUTHOR}),
    ),
    Recipient.POLICE: SharingRule(
        Recipient.POLICE,
        "the police",
        "Copy for the police",
        "For the police: the complete case file, with the original exhibits and everyone's "
        "details, disclosed for the prevention or detection of crime (Data Protection Act "
        "2018, Schedule 2, paragraph 2).",
        frozenset(CaseRole),
        everything=True,
    ),
    Recipient.PLATFORM: SharingRule(
        Recipient.PLATFORM,
        "the platform",
        "Copy for the platform",
        "For the platform: the post, its address and account, the standards of the Code it "
        "breaches and what the school did. No one is named and no letters are included. "
        "Exhibits appear only as redacted for the platform, by number, date and fingerprint.",
        frozenset(),
    ),
}


def parse_recipient(value: str) -> Recipient:
    """Turn a recipient id into a ``Recipient``, or explain the choices."""
    return parse_choice(Recipient, value, "a recipient", "recipient")


# ----- who a redacted copy is for -----------------------------------------------------------

PERSON_AUDIENCE = "person:"


def person_audience(person_id: int) -> str:
    """The tag of a copy redacted for one person's subject access request."""
    return f"{PERSON_AUDIENCE}{person_id}"


def check_audience(value: str) -> str:
    """A redacted copy's audience: a recipient id or ``person:<id>``, else a refusal."""
    text = value.strip().lower()
    if text in {r.value for r in Recipient if r is not Recipient.POLICE}:
        return text
    if text.startswith(PERSON_AUDIENCE) and text[len(PERSON_AUDIENCE) :].isdigit():
        return text
    allowed = ", ".join(r.value for r in Recipient if r is not Recipient.POLICE)
    raise ValidationError(
        f"'{value}' is not someone a redacted copy can be made for; use one of: {allowed}, "
        "or a person making a subject access request.",
        field="redacted_for",
    )


def audience_label(audience: str, people: dict[int, str] | None = None) -> str:
    """'the author of the post (or their solicitor)' or 'a subject access request by …'."""
    if audience.startswith(PERSON_AUDIENCE):
        person_id = int(audience[len(PERSON_AUDIENCE) :])
        name = (people or {}).get(person_id, "")
        return f"the subject access request of {name}" if name else "a subject access request"
    try:
        return RULES[Recipient(audience)].label
    except ValueError:
        return audience


# ----- scrubbing text for a recipient ---------------------------------------------------------


@dataclass(frozen=True)
class ExhibitName:
    """A file name that must never leave the school, and what to say instead."""

    name: str
    instead: str  # "Exhibit 3"


def _file_name_forms(name: str) -> set[str]:
    """The file name, its stem, and the stem with underscores as spaces."""
    forms = {name}
    stem = name.rsplit(".", 1)[0]
    if len(stem) >= 3:
        forms |= {stem, stem.replace("_", " ")}
    return {f for f in forms if len(f.strip()) >= 3}


class Scrubber:
    """Text for a recipient: exhibit file names become "Exhibit N", and the names and
    contact details of everyone the recipient may not see become "[third party]"."""

    def __init__(
        self,
        allowed_names: Iterable[str],
        others: list[list[str]],
        exhibit_names: Iterable[ExhibitName] = (),
        keep: Iterable[str] = (),
    ) -> None:
        allowed = [n for n in allowed_names if n.strip()]
        # A detail the recipient may see anyway (the school's town, their own street) is
        # not hidden just because someone else shares it.
        kept = {k.strip().casefold() for k in keep if k.strip()}
        others = [
            [details[0], *(d for d in details[1:] if d.strip().casefold() not in kept)]
            for details in others
            if details
        ]
        self._redactor = ThirdPartyRedactor(" ".join(allowed), others)
        pairs: dict[str, str] = {}
        for item in exhibit_names:
            for form in _file_name_forms(item.name):
                pairs.setdefault(form, item.instead)
        self._names = pairs
        ordered = sorted(pairs, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(re.escape(p) for p in ordered), re.IGNORECASE) if ordered else None
        )
        self._lookup = {k.lower(): v for k, v in pairs.items()}

    def __call__(self, text: str) -> str:
        """``text`` fit for the recipient."""
        if not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self._lookup[m.group(0).lower()], text)
        return self._redactor(text)

    def reveals(self, text: str) -> bool:
        """True when ``text`` holds something this recipient may not see."""
        return self(text) != text
