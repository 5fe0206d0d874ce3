"""The school's Code of Conduct as versioned data, quoted verbatim, never paraphrased.

The shipped Code is version 1.0 (``resources/code_of_conduct``). A school may adopt a
revised Code: its text is imported as written (``parse_code_text`` reads a plain-text
Code laid out like the shipped one; ``code_from_dict`` reads the JSON form), each of its
standards is mapped to one of the standards the casebook works with (``STANDARD_IDS``),
and it takes effect on a date. Older versions are kept, so a letter can always be shown
with the words it quoted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.domain.errors import ValidationError

# The standards the casebook's categories and letters refer to, in the shipped Code's order.
STANDARD_IDS = ("abusive", "report", "procedure", "inaccurate", "safeguarding")
STANDARD_DESCRIPTIONS = {
    "abusive": "foul, abusive, discriminatory or threatening material",
    "report": "telling the school about posts",
    "procedure": "using the school’s procedures instead of social media",
    "inaccurate": "factually incorrect information",
    "safeguarding": "safeguarding, identifying a child",
}
MAX_CODE_TEXT = 200_000
_BULLET = re.compile(r"^\s*(?:[·•\-\*–]|\d{1,2}[.)])\s+")
_VERSION = re.compile(r"^\d{1,3}(?:\.\d{1,3}){0,2}$")


@dataclass(frozen=True)
class Clause:
    """One quoted passage of the Code (a standard, an aim or a kind of social media)."""

    id: str
    number: int
    text: str


@dataclass(frozen=True)
class CodeOfConduct:
    """The whole Code: every passage exactly as the school adopted it."""

    id: str
    version: str
    received: str
    title: str
    introduction: tuple[str, ...]
    media_intro: str
    media_kinds: tuple[Clause, ...]
    purpose: str
    aims: tuple[Clause, ...]
    standards_intro: str
    standards: tuple[Clause, ...]
    # The day this version took effect (ISO); the shipped Code's is the day it was received.
    effective_on: str = ""

    def standard(self, standard_id: str) -> Clause:
        """Return the standard with this id, or raise ``KeyError``."""
        for clause in self.standards:
            if clause.id == standard_id:
                return clause
        raise KeyError(standard_id)

    @property
    def in_force_from(self) -> str:
        """The ISO date this version took effect."""
        return self.effective_on or self.received


def _clauses(items: list[dict[str, Any]]) -> tuple[Clause, ...]:
    return tuple(
        Clause(id=str(item["id"]), number=int(item.get("number", index + 1)), text=item["text"])
        for index, item in enumerate(items)
    )


def code_from_dict(data: dict[str, Any]) -> CodeOfConduct:
    """A Code from its JSON form (the shipped file, or a stored adopted version)."""
    return CodeOfConduct(
        id=data["id"],
        version=data["version"],
        received=data["received"],
        title=data["title"],
        introduction=tuple(data["introduction"]),
        media_intro=data["media_intro"],
        media_kinds=_clauses(data["media_kinds"]),
        purpose=data["purpose"],
        aims=_clauses(data["aims"]),
        standards_intro=data["standards_intro"],
        standards=_clauses(data["standards"]),
        effective_on=data.get("effective_on", ""),
    )


def code_to_dict(code: CodeOfConduct) -> dict[str, Any]:
    """The JSON form of a Code, every passage as it is."""

    def clauses(items: tuple[Clause, ...]) -> list[dict[str, Any]]:
        return [{"id": c.id, "number": c.number, "text": c.text} for c in items]

    return {
        "id": code.id,
        "version": code.version,
        "received": code.received,
        "effective_on": code.effective_on,
        "title": code.title,
        "introduction": list(code.introduction),
        "media_intro": code.media_intro,
        "media_kinds": clauses(code.media_kinds),
        "purpose": code.purpose,
        "aims": clauses(code.aims),
        "standards_intro": code.standards_intro,
        "standards": clauses(code.standards),
    }


def load_code(path: Path) -> CodeOfConduct:
    """Read the Code from its JSON data file."""
    return code_from_dict(json.loads(path.read_text(encoding="utf-8")))


def normalise_spacing(text: str) -> str:
    """Collapse runs of white space, as a printed page shows them."""
    return " ".join(text.split())


def check_version(version: str) -> str:
    """A version number such as 1.1 or 2.0, or a sentence saying what is expected."""
    cleaned = version.strip()
    if not _VERSION.match(cleaned):
        raise ValidationError(
            f"'{version.strip()}' is not a version number; use numbers such as 1.1 or 2.0.",
            field="version",
        )
    return cleaned


def parse_mapping(value: str) -> dict[int, str]:
    """'1=abusive,2=report,...': which standard of the casebook each numbered clause is."""
    mapping: dict[int, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        number, sep, standard_id = part.partition("=")
        standard_id = standard_id.strip()
        if not sep or not number.strip().isdigit() or standard_id not in STANDARD_IDS:
            raise ValidationError(
                f"'{part.strip()}' is not a clause mapping; write NUMBER=STANDARD, the "
                f"standard one of: {', '.join(STANDARD_IDS)}.",
                field="map",
            )
        mapping[int(number)] = standard_id
    return mapping


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; the lines of one paragraph joined by a space."""
    chunks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [" ".join(line.strip() for line in c.strip().split("\n")) for c in chunks if c.strip()]


def parse_code_text(
    text: str,
    version: str,
    effective_on: str,
    mapping: dict[int, str] | None = None,
    received: str = "",
) -> CodeOfConduct:
    """A revised Code from its plain text, laid out as the shipped Code is.

    The first line is the title; then paragraphs; three bulleted lists follow the
    paragraphs that introduce them: the kinds of social media, the aims and the standards.
    The words are kept exactly (a bullet mark is not part of them). The standards are
    mapped to ``STANDARD_IDS`` by ``mapping`` (clause number to id), or in order when
    there are exactly as many as the casebook has.
    """
    if len(text) > MAX_CODE_TEXT:
        raise ValidationError(
            f"The Code's text is {len(text):,} characters long; at most {MAX_CODE_TEXT:,}."
        )
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            code = code_from_dict(data)
        except (ValueError, KeyError, TypeError):
            raise ValidationError(
                "The file looks like JSON but is not a Code of Conduct in the casebook's form."
            ) from None
        return check_code(replace(code, version=check_version(version), effective_on=effective_on))
    title, introduction, lists = _sections(text)
    (media_intro, media), (purpose, aims), (standards_intro, standards) = lists
    if mapping is None:
        if len(standards) != len(STANDARD_IDS):
            raise ValidationError(
                f"The revised Code has {len(standards)} standards; say which is which with "
                "a mapping such as 1=abusive,2=report,3=procedure,4=inaccurate,5=safeguarding."
            )
        mapping = {n: sid for n, sid in enumerate(STANDARD_IDS, start=1)}
    clauses = []
    for number, words in enumerate(standards, start=1):
        if number in mapping:
            clauses.append(Clause(mapping[number], number, words))
    code = CodeOfConduct(
        id="social-media-code",
        version=check_version(version),
        received=received or effective_on,
        title=title,
        introduction=tuple(introduction),
        media_intro=media_intro,
        media_kinds=tuple(Clause(f"media-{n}", n, words) for n, words in enumerate(media, start=1)),
        purpose=purpose,
        aims=tuple(Clause(f"aim-{n}", n, words) for n, words in enumerate(aims, start=1)),
        standards_intro=standards_intro,
        standards=tuple(clauses),
        effective_on=effective_on,
    )
    for number in mapping:
        if number > len(standards):
            raise ValidationError(
                f"The mapping names clause {number}, but the revised Code has only "
                f"{len(standards)} standards."
            )
    return check_code(code)


def standards_in_text(text: str) -> tuple[str, ...]:
    """The standards of a Code's plain text, in order, word for word (to map them)."""
    if text.lstrip().startswith("{"):
        try:
            return tuple(c.text for c in code_from_dict(json.loads(text)).standards)
        except (ValueError, KeyError, TypeError):
            raise ValidationError(
                "The file looks like JSON but is not a Code of Conduct in the casebook's form."
            ) from None
    return tuple(_sections(text)[2][2][1])


def _sections(text: str) -> tuple[str, list[str], list[tuple[str, list[str]]]]:
    """The title, the introduction and the three introduced lists of a Code's text."""
    paragraphs = _paragraphs(text.lstrip("\ufeff"))
    if not paragraphs:
        raise ValidationError("The file holds no text; choose the revised Code's text file.")
    title = paragraphs[0].strip()
    lists: list[tuple[str, list[str]]] = []  # (introducing paragraph, items)
    introduction: list[str] = []
    pending = ""
    for para in paragraphs[1:]:
        if _BULLET.match(para):
            item = _BULLET.sub("", para, count=1)
            if lists and lists[-1][0] == pending and pending:
                lists[-1][1].append(item)
            else:
                lists.append((pending, [item]))
            continue
        if pending and not (lists and lists[-1][0] == pending):
            introduction.append(pending)
        pending = para
    if len(lists) != 3:
        raise ValidationError(
            f"The Code's text has {len(lists)} bulleted lists; the casebook reads three "
            "(kinds of social media, aims, standards), each after the sentence that "
            "introduces it."
        )
    return title, introduction, lists


def check_code(code: CodeOfConduct) -> CodeOfConduct:
    """Refuse a Code in which a standard the casebook uses is missing or mapped twice."""
    seen = [c.id for c in code.standards]
    for standard_id in STANDARD_IDS:
        count = seen.count(standard_id)
        if count != 1:
            what = "no clause is" if count == 0 else f"{count} clauses are"
            raise ValidationError(
                f"In the revised Code {what} mapped to the standard “{standard_id}” "
                f"({STANDARD_DESCRIPTIONS[standard_id]}); map exactly one clause to it."
            )
    if not code.title.strip():
        raise ValidationError("The revised Code has no title line.")
    return code
