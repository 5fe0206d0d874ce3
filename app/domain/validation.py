"""Checks on what a person typed, each failing with one clear sentence."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from app.domain.dates import as_utc
from app.domain.errors import ValidationError
from app.domain.records import MAX_SHORT, MAX_TEXT, MAX_TITLE, CaseDraft, PersonDraft

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


# Characters that change how text is shown without being seen themselves. Directional
# controls reorder what follows them, so the handle "@ad\u202enimda" shows as "@adadmin";
# zero-width characters hide inside a word, so two names that look the same are not.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
ZERO_WIDTH = frozenset("\u00ad\u034f\u180e\u200b\u2060\u2061\u2062\u2063\u2064\ufeff")
# Zero-width joiners are part of how some names are spelt: a ZWNJ inside a Persian name
# (مهر‌ناز), a ZWJ inside a Devanagari or Sinhala one, a ZWJ inside an emoji family. There
# they are kept as typed, because they change how the name is written and not what it
# says; anywhere else (between Latin, Greek or Cyrillic letters, at either end, next to
# a space) they are refused like the rest.
JOINERS = frozenset("\u200c\u200d")
_JOINING_CATEGORIES = frozenset({"Lo", "Lm", "Mn", "Mc", "So", "Sk"})


def joiner_belongs(text: str, index: int) -> bool:
    """Whether the joiner at ``index`` sits inside a word of a script that uses joiners."""
    if index == 0 or index == len(text) - 1:
        return False

    def fits(ch: str) -> bool:
        return ch == "\ufe0f" or (
            ord(ch) > 0x2FF and unicodedata.category(ch) in _JOINING_CATEGORIES
        )

    return fits(text[index - 1]) and fits(text[index + 1])


def hidden_characters(text: str) -> list[str]:
    """The code points (as 'U+202E') in ``text`` that would change how it is shown unseen."""
    found = []
    for index, ch in enumerate(text):
        if (
            ch in BIDI_CONTROLS
            or ch in ZERO_WIDTH
            or (ch in JOINERS and not joiner_belongs(text, index))
        ):
            code = f"U+{ord(ch):04X}"
            if code not in found:
                found.append(code)
    return found


def show_hidden(text: str) -> str:
    """``text`` with every hidden character written out visibly, as ⟨U+202E⟩."""
    return "".join(
        f"⟨U+{ord(ch):04X}⟩" if ch in BIDI_CONTROLS or ch in ZERO_WIDTH else ch for ch in text
    )


def clean_text(value: str, label: str, limit: int, *, multiline: bool = False) -> str:
    """Trim, refuse control and hidden characters, and enforce a length limit."""
    text = value.strip()
    if not multiline and ("\n" in text or "\r" in text):
        raise ValidationError(f"The {label} must be on one line.", field=label)
    if _CONTROL.search(text):
        raise ValidationError(
            f"The {label} contains characters that cannot be stored.", field=label
        )
    hidden = [] if multiline else hidden_characters(text)
    if hidden:
        raise ValidationError(
            f"The {label} contains invisible characters that change how it is shown "
            f"({', '.join(hidden)}); please type it again without them.",
            field=label,
        )
    if len(text) > limit:
        raise ValidationError(
            f"The {label} is too long ({len(text)} characters; at most {limit}).", field=label
        )
    return text


MAX_SEARCH_WORDS = 50
MAX_SEARCH_CHARS = 1_000


def check_search(text: str) -> None:
    """Refuse a search too long to run: each word is a condition of its own, and SQLite
    refuses a query of a few hundred ("Expression tree is too large")."""
    if len(text.split()) > MAX_SEARCH_WORDS or len(text) > MAX_SEARCH_CHARS:
        raise ValidationError(
            f"A search can have at most {MAX_SEARCH_WORDS} words and "
            f"{MAX_SEARCH_CHARS:,} characters; please search for fewer words.",
            field="search",
        )


def check_url(value: str) -> str:
    """Accept an empty value or an http(s) address."""
    url = clean_text(value, "post address", 2000)
    if url and not re.match(r"^https?://[^\s/$.?#][^\s]*$", url, re.IGNORECASE):
        raise ValidationError(
            f"'{url}' is not a web address; it should start with https://.", field="post address"
        )
    return url


def check_case_draft(draft: CaseDraft, today: date, now: datetime) -> CaseDraft:
    """Return a cleaned copy of ``draft`` or raise ``ValidationError``."""
    title = clean_text(draft.title, "title", MAX_TITLE)
    if not title:
        raise ValidationError("Please give the case a short title.", field="title")
    if not draft.categories:
        raise ValidationError(
            "Please choose at least one standard of the Code that the post breaches.",
            field="categories",
        )
    # A time without a zone (as a date-time field gives it) is London wall-clock time.
    posted_at = as_utc(draft.posted_at) if draft.posted_at is not None else None
    if posted_at is not None and posted_at > now:
        raise ValidationError(
            "The date the post was made cannot be in the future.", field="posted_at"
        )
    if draft.reported_on is not None and draft.reported_on > today:
        raise ValidationError("The date reported cannot be in the future.", field="reported_on")
    return CaseDraft(
        title=title,
        categories=frozenset(draft.categories),
        summary=clean_text(draft.summary, "summary", MAX_TEXT, multiline=True),
        platform=clean_text(draft.platform, "platform", 100),
        post_url=check_url(draft.post_url),
        account_handle=clean_text(draft.account_handle, "account handle", MAX_SHORT),
        posted_at=posted_at,
        reported_on=draft.reported_on or today,
        reported_by=clean_text(draft.reported_by, "name of the person who reported it", MAX_SHORT),
        follow_up_due=draft.follow_up_due,
        post_place=clean_text(draft.post_place, "group or page", MAX_SHORT),
        inaccurate_text=clean_text(
            draft.inaccurate_text, "what is inaccurate", MAX_TEXT, multiline=True
        ),
        correct_facts=clean_text(draft.correct_facts, "correct facts", MAX_TEXT, multiline=True),
        barring_conduct=clean_text(
            draft.barring_conduct, "conduct at the school", MAX_TEXT, multiline=True
        ),
    )


def check_person_draft(draft: PersonDraft) -> PersonDraft:
    """Return a cleaned copy of ``draft`` or raise ``ValidationError``."""
    title = clean_text(draft.title, "title", 20)
    forenames = clean_text(draft.forenames, "forenames", MAX_SHORT)
    surname = clean_text(draft.surname, "surname", MAX_SHORT)
    name = clean_text(draft.name, "name", MAX_SHORT) or " ".join(f"{forenames} {surname}".split())
    if not name:
        raise ValidationError("Please give the person's name.", field="name")
    if draft.contact_priority is not None and not 0 < draft.contact_priority < 100:
        raise ValidationError(
            f"'{draft.contact_priority}' is not a contact priority; use 1 for the first "
            "contact, 2 for the next, and so on.",
            field="contact_priority",
        )
    email = clean_text(draft.email, "email address", MAX_SHORT)
    if email and not _EMAIL.match(email):
        raise ValidationError(f"'{email}' is not an email address.", field="email")
    postcode = clean_text(draft.postcode, "postcode", 20).upper()
    if postcode and not _POSTCODE.match(postcode):
        raise ValidationError(f"'{postcode}' is not a UK postcode.", field="postcode")
    if postcode and " " not in postcode:
        postcode = f"{postcode[:-3]} {postcode[-3:]}"
    lines = tuple(
        line for line in (clean_text(x, "address", MAX_SHORT) for x in draft.address_lines) if line
    )
    if len(lines) > 5:
        raise ValidationError("An address can have at most five lines.", field="address")
    return PersonDraft(
        name=name,
        kind=draft.kind,
        address_lines=lines,
        postcode=postcode,
        email=email,
        phone=clean_text(draft.phone, "telephone number", 50),
        relationship=clean_text(draft.relationship, "relationship to pupils", MAX_SHORT),
        title=title,
        forenames=forenames,
        surname=surname,
        preferred_name=clean_text(draft.preferred_name, "preferred name", MAX_SHORT),
        year_group=clean_text(draft.year_group, "year group", 20),
        reg_group=clean_text(draft.reg_group, "class", 50),
        mis_id=clean_text(draft.mis_id, "MIS id", 100),
        parental_responsibility=draft.parental_responsibility,
        contact_priority=draft.contact_priority,
        court_order=draft.court_order,
        contact_restriction=draft.contact_restriction,
    )
