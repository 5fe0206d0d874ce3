"""Letter templates as data: Jinja2 in a sandbox, every field named, none left to chance.

A template is a subject line and a body. The body is plain text: paragraphs are separated
by a blank line, and a paragraph whose lines start with ``>`` is a quotation (the Code's
words). Nothing in a template is markup, so no value can change how a letter looks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.environment import Template
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from app.domain.errors import TemplateError
from app.domain.letters import Block, LetterKind

# Every field a template may use, with the words the editor shows beside it.
FIELDS: dict[str, str] = {
    "school.name": "the school's name",
    "school.telephone": "the school's telephone number",
    "school.email": "the school's email address",
    "school.website": "the school's website",
    "school.head_teacher": "the head teacher's name",
    "school.head_title": "the head teacher's title",
    "school.safeguarding_lead": "the designated safeguarding lead",
    "school.chair_of_governors": "the chair of governors",
    "case.reference": "the case reference",
    "case.title": "the case title",
    "case.platform": "the platform where the post was made",
    "case.account_handle": "the account that posted",
    "case.post_url": "the address of the post",
    "case.posted_on": "the date of the post",
    "case.summary": "the case summary",
    "recipient.name": "the recipient's name",
    "letter.date": "the date of this letter",
    "letter.reply_by": "the date by which a reply or action is asked for",
    "standard.number": "the number of the standard quoted",
    "standard.text": "the standard's exact words from the Code",
    "code.title": "the Code's title",
    "code.version": "the Code's version",
    "previous_letter.date": "the date of the earlier letter (follow-up letters)",
    "previous_letter.subject": "the subject of the earlier letter (follow-up letters)",
    "procedure.name": "the school procedure named (procedure letters)",
    "procedure.contact": "the contact for that procedure (procedure letters)",
}

NAMESPACES = tuple(sorted({name.split(".")[0] for name in FIELDS}))

# A safeguarding letter must not repeat what could identify a child.
FORBIDDEN: dict[LetterKind, frozenset[str]] = {
    LetterKind.SAFEGUARDING: frozenset({"case.title", "case.summary", "case.post_url"}),
}

# How to fill in a field that is empty, said to the person issuing the letter.
_WHERE_TO_FILL = {
    "school": "complete it in the school profile (Settings).",
    "case": "fill it in on the case's details.",
    "recipient": "fill it in on the person's details.",
    "procedure": "complete it in the school profile (Settings).",
}


@dataclass(frozen=True)
class LetterTemplate:
    """One version of a letter template: shipped by default, or the school's own copy."""

    kind: LetterKind
    version: str  # "default-1" or "school-3"
    subject: str
    body: str

    @property
    def is_default(self) -> bool:
        return self.version.startswith("default-")


@dataclass(frozen=True)
class FilledLetter:
    """A template with its values put in: the subject, the paragraphs and what was used."""

    subject: str
    blocks: tuple[Block, ...]
    used: dict[str, str]
    missing: tuple[str, ...]


def parse_template_file(kind: LetterKind, text: str) -> LetterTemplate:
    """Read a shipped template: ``version:`` and ``subject:`` lines, ``---``, then the body."""
    head, sep, body = text.partition("\n---\n")
    if not sep:
        raise TemplateError(f"The shipped {kind.value} template has no '---' line.")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    if "version" not in meta or "subject" not in meta:
        raise TemplateError(f"The shipped {kind.value} template lacks its version or subject.")
    return LetterTemplate(kind, f"default-{meta['version']}", meta["subject"], body.strip())


def field_label(name: str) -> str:
    """How a field is described to a person."""
    return FIELDS.get(name, name)


class _Fields:
    """One namespace of fields (``school``, ``case``...) that notes what a template uses."""

    def __init__(self, prefix: str, values: Mapping[str, str], state: _RenderState) -> None:
        self._prefix = prefix
        self._values = values
        self._state = state

    def _get(self, name: str) -> str:
        full = f"{self._prefix}.{name}"
        if full not in FIELDS:
            raise TemplateError(
                f"The template uses the field '{full}', which letters do not have; "
                "choose one from the list of fields."
            )
        if full in self._state.forbidden:
            raise TemplateError(
                f"This letter must not repeat details that could identify a child, so it "
                f"cannot use the field '{full}'."
            )
        value = self._values.get(name, "")
        if not value.strip():
            if full not in self._state.missing:
                self._state.missing.append(full)
            return f"[{field_label(full)}: to complete]"
        self._state.used[full] = value
        return value

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._get(name)

    def __getitem__(self, name: str) -> str:
        return self._get(str(name))

    def __str__(self) -> str:
        example = next(n for n in FIELDS if n.startswith(self._prefix + "."))
        raise TemplateError(
            f"The template uses '{self._prefix}' on its own; name a field such as '{example}'."
        )


@dataclass
class _RenderState:
    forbidden: frozenset[str]
    used: dict[str, str]
    missing: list[str]


_ENV = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)


@lru_cache(maxsize=256)
def _compile(source: str, what: str) -> Template:
    try:
        return _ENV.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateError(
            f"The {what} of the template cannot be read at line {error.lineno}: {error.message}."
        ) from None


def check_template(template: LetterTemplate) -> None:
    """Refuse a template with a syntax error, an unknown field, or a forbidden field."""
    fill(template, {}, strict=False)


def fill(
    template: LetterTemplate,
    values: Mapping[str, Mapping[str, str]],
    *,
    strict: bool = True,
) -> FilledLetter:
    """Put ``values`` into ``template``.

    With ``strict`` an empty field the template needs stops with a ``TemplateError`` naming
    it; without, it shows as "[... : to complete]" (for previews).
    """
    state = _RenderState(FORBIDDEN.get(template.kind, frozenset()), {}, [])
    context: dict[str, Any] = {ns: _Fields(ns, values.get(ns, {}), state) for ns in NAMESPACES}
    subject_t = _compile(template.subject, "subject")
    body_t = _compile(template.body, "body")
    try:
        subject = " ".join(subject_t.render(context).split())
        body = body_t.render(context)
    except UndefinedError as error:
        match = re.search(r"'([^']+)' is undefined", str(error))
        name = match.group(1) if match else str(error)
        raise TemplateError(
            f"The template uses the field '{name}', which letters do not have; "
            "choose one from the list of fields."
        ) from None
    except SecurityError:
        raise TemplateError("The template tries to do something templates may not do.") from None
    if strict and state.missing:
        first = state.missing[0]
        others = len(state.missing) - 1
        more = f" (and {others} more field{'s' if others > 1 else ''})" if others else ""
        hint = _WHERE_TO_FILL.get(first.split(".")[0], "")
        if first.startswith("previous_letter."):
            message = (
                "A follow-up letter refers to an earlier letter, and none has been issued "
                "to this person on this case yet."
            )
        else:
            message = f"The letter cannot be produced: {field_label(first)} is empty{more}; {hint}"
        raise TemplateError(message.strip())
    if not subject:
        raise TemplateError("The letter's subject line is empty.")
    return FilledLetter(subject, split_blocks(body), dict(state.used), tuple(state.missing))


def split_blocks(body: str) -> tuple[Block, ...]:
    """Paragraphs separated by blank lines; lines starting with '>' make a quotation."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", body.strip()):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith(">") for line in lines):
            text = " ".join(line[1:].strip() for line in lines)
            blocks.append(Block(text, quote=True))
        else:
            blocks.append(Block(" ".join(lines)))
    return tuple(blocks)
