"""Letter templates as data: Jinja2 in a sandbox, every field named, none left to chance.

A template is a subject line and a body. The body is plain text: paragraphs are separated
by a blank line, and a paragraph whose lines start with ``>`` is a quotation (the Code's
words). Nothing in a template is markup, so no value can change how a letter looks.

Templates are edited by the school, so filling one in runs within a budget (see
``LIMITS``): the source size, the letter's size, the time taken, how deep macros may call
each other, how far ``range`` counts and how large a number may be. A template over any
limit is refused with one sentence naming it, at save time and again whenever a stored
one is used; every other failure inside the sandbox (a memory error, a recursion error,
a missing include) also comes out as a ``TemplateError``.

The time limit is enforced by a trace function on the rendering thread: it is called for
every line of the compiled template and stops the render once the deadline has passed,
so loops that produce nothing still end. The deadline counts the rendering thread's own
processor time, not the clock: on a busy office PC an ordinary letter is never refused
because other programs held the processor, and a runaway loop still stops after a second
of its own work. Operations that could take long inside a single
C call (multiplying text, raising to a power, padding to a width, joining) are checked
before they run instead.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.nodes import Concat
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from app.domain.errors import TemplateError
from app.domain.letters import Block, LetterKind

# The budget every template runs in. A letter is a page or two (about 3,000 characters);
# these leave ample room for any real letter and none for a runaway one.
MAX_SOURCE = 20_000  # characters of template text (subject and body each)
MAX_OUTPUT = 50_000  # characters a filled-in subject or body may reach, and any value in it
TIME_BUDGET = 1.0  # seconds to fill in one template
MAX_DEPTH = 10  # macros calling macros (or themselves)
MAX_RANGE = 100  # range() counts at most this far
MAX_NUMBER = 10_000  # widths, counts and repeats given to filters and methods
MAX_ARITHMETIC = 10**12  # the largest number sums may work with
MAX_POWER = 64

LIMITS: dict[str, str] = {
    "source": f"a template may be at most {MAX_SOURCE:,} characters long",
    "output": f"a letter may be at most {MAX_OUTPUT:,} characters long",
    "time": f"a template must be filled in within {TIME_BUDGET:g} second",
    "depth": f"macros may call each other at most {MAX_DEPTH} deep",
    "range": f"range() may count to at most {MAX_RANGE}",
    "number": f"numbers given to filters, methods and macros may be at most {MAX_NUMBER:,}",
    "arithmetic": f"sums may use numbers up to {MAX_ARITHMETIC:,}",
    "power": f"a number may be raised to a power of at most {MAX_POWER}",
}

# Every field a template may use, with the words the editor shows beside it.
FIELDS: dict[str, str] = {
    "school.name": "the school’s name",
    "school.telephone": "the school’s telephone number",
    "school.email": "the school’s email address",
    "school.website": "the school’s website",
    "school.head_teacher": "the head teacher’s name",
    "school.head_title": "the head teacher’s title",
    "school.safeguarding_lead": "the designated safeguarding lead",
    "school.chair_of_governors": "the chair of governors",
    "case.reference": "the case reference",
    "case.title": "the case title",
    "case.platform": "the platform where the post was made",
    "case.account_handle": "the account that posted",
    "case.post_url": "the address of the post",
    "case.posted_on": "the date of the post",
    "case.place": "the group or page where the post was made",
    "case.where_posted": "where the post was made: the platform, and the group or page",
    "case.summary": "the case summary",
    "case.inaccurate": "what the post says that is not correct (correction letters)",
    "case.correct_facts": "the correct facts (correction letters)",
    "case.outcome": "how the matter ended: removed, corrected, escalated or closed "
    "(outcome letters)",
    "case.conduct": "what the person did at or towards the school (barring letters)",
    "recipient.name": "the recipient’s name",
    "letter.date": "the date of this letter",
    "letter.reply_by": "the date by which a reply or action is asked for",
    "letter.review_on": "the date a barring decision will be reviewed (barring letters)",
    "standard.number": "the number of the standard quoted",
    "standard.text": "the standard’s exact words from the Code",
    "code.title": "the Code’s title",
    "code.version": "the Code’s version",
    "previous_letter.date": "the date of the earlier letter (follow-up and barring letters)",
    "previous_letter.subject": "the subject of the earlier letter (follow-up and barring letters)",
    "procedure.name": "the school procedure named (procedure letters)",
    "procedure.contact": "the contact for that procedure (procedure letters)",
}

NAMESPACES = tuple(sorted({name.split(".")[0] for name in FIELDS}))

# Fields that can carry what identifies a child: the case's own words (title, summary)
# and the post's address. None is offered to any letter on a safeguarding case, and a
# safeguarding letter never uses them whatever the case.
CHILD_DETAIL_FIELDS = frozenset({"case.title", "case.summary", "case.post_url"})
FORBIDDEN: dict[LetterKind, frozenset[str]] = {
    LetterKind.SAFEGUARDING: CHILD_DETAIL_FIELDS,
}

# How to fill in a field that is empty, said to the person issuing the letter.
_WHERE_TO_FILL = {
    "school": "complete it in the school profile (Settings).",
    "case": "fill it in on the case’s details.",
    "recipient": "fill it in on the person’s details.",
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
            where = "is on a safeguarding case and " if self._state.safeguarding_case else ""
            raise TemplateError(
                f"This letter {where}must not repeat details that could identify a child, so "
                f"it cannot use the field '{full}' ({field_label(full)})."
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
    safeguarding_case: bool = False


# ----- the budget -----------------------------------------------------------------------


class _OverBudget(Exception):
    """A limit was reached inside the sandbox; carries the sentence shown to the person."""


def _over(limit: str, detail: str = "") -> _OverBudget:
    return _OverBudget(f"The template was refused because {LIMITS[limit]}{detail}.")


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return 0


def _text_size(value: Any) -> int:
    """Characters ``value`` would become in a letter (a list counts its items' text)."""
    if isinstance(value, list | tuple):
        return sum(len(str(item)) for item in value) + len(value)
    return len(str(value))


def _check_number(value: Any, limit: int = MAX_NUMBER, name: str = "number") -> None:
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > limit:
        raise _over(name, f" (it uses {value:,})" if abs(value) < 10**30 else "")


def _bounded_range(*args: Any) -> range:
    for value in args:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _OverBudget("The template gives range() something that is not a whole number.")
    counted = range(*args)
    if len(counted) > MAX_RANGE:
        raise _over("range", f" (it asks for {len(counted):,})")
    return counted


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose arguments are checked before, and result after, it runs."""
    # Filters marked pass_context / pass_eval_context get that object first.
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        given = args[skip:]
        for value in (*given, *kwargs.values()):
            _check_number(value)
        if name == "replace" and len(given) >= 3:
            _check_replace(given[0], given[1], given[2])
        if name == "join" and given and isinstance(given[0], list | tuple):
            _check_output(_text_size(given[0]))
        result = func(*args, **kwargs)
        _check_output(_size(result))
        return result

    return guarded


def _check_output(size: int) -> None:
    if size > MAX_OUTPUT:
        raise _over("output")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    text, old, new = str(text), str(old), str(new)
    count = text.count(old) if old else len(text) + 1
    _check_output(len(text) + count * max(0, len(new) - len(old)))


# Filters a letter can use. Everything else (format, indent, wordwrap, batch, map, attr,
# sum, tojson, xmlattr...) is left out: none is needed to word a letter.
_ALLOWED_FILTERS = (
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "default",
    "d",
    "replace",
    "truncate",
    "length",
    "count",
    "first",
    "last",
    "join",
    "wordcount",
    "string",
    "int",
    "round",
    "abs",
    "list",
    "sort",
    "unique",
    "reverse",
)

# str methods that could build text of any size from a small template.
_REFUSED_METHODS = frozenset({"format", "format_map"})


class _BudgetedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` through the environment, so joined text is measured first."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.join_within_budget((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BudgetedEnvironment(SandboxedEnvironment):
    code_generator_class = _BudgetedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})
    intercepted_unops = frozenset({"-"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self.globals.clear()
        self.globals["range"] = _bounded_range
        self.filters = {name: _guard_filter(name, self.filters[name]) for name in _ALLOWED_FILTERS}
        self._calls = threading.local()

    @property
    def depth(self) -> int:
        return getattr(self._calls, "depth", 0)

    @depth.setter
    def depth(self, value: int) -> None:
        self._calls.depth = value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # format() pads to any width in one C call, before any budget could look.
        if getattr(value, "__name__", "") in _REFUSED_METHODS and isinstance(
            getattr(value, "__self__", None), str
        ):

            def refused(*args: Any, **kwargs: Any) -> str:
                raise _OverBudget("The template was refused because it formats text with format().")

            return refused
        return None

    def join_within_budget(self, parts: tuple[Any, ...]) -> str:
        texts = [str(part) for part in parts]
        _check_output(sum(len(text) for text in texts))
        return "".join(texts)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        for value in (left, right):
            _check_number(value, MAX_ARITHMETIC, "arithmetic")
        if operator == "**":
            _check_number(right, MAX_POWER, "power")
        if operator == "%" and isinstance(left, str):
            raise _OverBudget("The template was refused because it formats text with '%'.")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if _size(seq) and isinstance(times, int):
                    _check_output(_text_size(seq) * max(times, 0))
        if operator == "+" and _size(left) and _size(right):
            _check_output(_text_size(left) + _text_size(right))
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if __obj is not _bounded_range:  # range says itself how far it may count
            for value in (*args, *kwargs.values()):
                _check_number(value)
        name = getattr(__obj, "__name__", "")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and name == "replace" and len(args) >= 2:
            _check_replace(owner, args[0], args[1])
        if isinstance(owner, str) and name == "join" and args:
            _check_output(_text_size(list(args[0])) if _size(args[0]) else 0)
        __self.depth += 1
        try:
            if isinstance(__obj, Macro | LoopContext) and __self.depth > MAX_DEPTH:
                raise _over("depth")
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            __self.depth -= 1
        _check_output(_size(result))
        return result


class _Deadline:
    """Stops the template's own code once its time is up (see the module docstring)."""

    def __init__(self, seconds: float) -> None:
        # This thread's processor time (the trace runs on the thread that renders).
        self.ends = time.thread_time() + seconds
        self.previous: Any = None

    def _line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if time.thread_time() > self.ends:
            raise _over("time")
        return self._line

    def _call(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_filename == "<template>":
            return self._line
        if time.thread_time() > self.ends:
            raise _over("time")
        return None

    def __enter__(self) -> _Deadline:
        self.previous = sys.gettrace()
        sys.settrace(self._call)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.settrace(self.previous)


_ENV = _BudgetedEnvironment()


@lru_cache(maxsize=256)
def _compile(source: str, what: str) -> Template:
    if len(source) > MAX_SOURCE:
        raise TemplateError(
            f"The {what} of the template is {len(source):,} characters long; {LIMITS['source']}."
        )
    try:
        return _ENV.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateError(
            f"The {what} of the template cannot be read at line {error.lineno}: {error.message}."
        ) from None
    except (RecursionError, MemoryError):
        raise TemplateError(f"The {what} of the template is nested too deeply to read.") from None
    except _OverBudget as error:
        raise TemplateError(str(error)) from None


def compile_ahead(template: LetterTemplate) -> None:
    """Compile ``template``'s subject and body now and keep them, as filling it would, so
    that filling it later does not wait for it. One that cannot be compiled is left for
    filling to refuse, in its own words."""
    try:
        _compile(typographic(template.subject), "subject")
        _compile(typographic(template.body), "body")
    except TemplateError:
        return


def _render(template: Template, context: dict[str, Any], deadline: _Deadline) -> str:
    """The template's text, stopped as soon as it passes the size limit."""
    parts: list[str] = []
    total = 0
    _ENV.depth = 0
    with deadline:
        for part in template.generate(context):
            total += len(part)
            if total > MAX_OUTPUT:
                raise _over("output")
            parts.append(part)
    return "".join(parts)


def check_template(template: LetterTemplate) -> None:
    """Refuse a template with a syntax error, an unknown field, or a forbidden field."""
    fill(template, {}, strict=False)


def fill(
    template: LetterTemplate,
    values: Mapping[str, Mapping[str, str]],
    *,
    strict: bool = True,
    safeguarding_case: bool = False,
) -> FilledLetter:
    """Put ``values`` into ``template``, within the budget in ``LIMITS``.

    With ``strict`` an empty field the template needs stops with a ``TemplateError`` naming
    it; without, it shows as "[... : to complete]" (for previews). On a safeguarding case
    the fields in ``CHILD_DETAIL_FIELDS`` are refused, naming the field.
    """
    forbidden = FORBIDDEN.get(template.kind, frozenset())
    if safeguarding_case:
        forbidden = forbidden | CHILD_DETAIL_FIELDS
    state = _RenderState(forbidden, {}, [], safeguarding_case)
    context: dict[str, Any] = {
        ns: _Fields(ns, _offered(ns, values.get(ns, {}), forbidden), state) for ns in NAMESPACES
    }
    subject_t = _compile(typographic(template.subject), "subject")
    body_t = _compile(typographic(template.body), "body")
    # One deadline for the subject and the body together.
    deadline = _Deadline(TIME_BUDGET)
    try:
        subject = " ".join(_render(subject_t, context, deadline).split())
        body = _render(body_t, context, deadline)
    except TemplateError:
        raise
    except _OverBudget as error:
        raise TemplateError(str(error)) from None
    except UndefinedError as error:
        match = re.search(r"'([^']+)' is undefined", str(error))
        name = match.group(1) if match else str(error)
        raise TemplateError(
            f"The template uses the field '{name}', which letters do not have; "
            "choose one from the list of fields."
        ) from None
    except SecurityError:
        raise TemplateError("The template tries to do something templates may not do.") from None
    except MemoryError:
        raise TemplateError(
            "The template was refused because it needs more memory than a letter may use."
        ) from None
    except RecursionError:
        raise TemplateError(f"The template was refused because {LIMITS['depth']}.") from None
    except (JinjaTemplateError, ArithmeticError, LookupError, TypeError, ValueError) as error:
        # Whatever else goes wrong inside the sandbox is the template's fault, told as such.
        reason = " ".join(str(error).split())[:200].rstrip(".") or type(error).__name__
        raise TemplateError(f"The template cannot be filled in: {reason}.") from None
    if strict and state.missing:
        first = state.missing[0]
        others = len(state.missing) - 1
        more = f" (and {others} more field{'s' if others > 1 else ''})" if others else ""
        hint = _WHERE_TO_FILL.get(first.split(".")[0], "")
        if first.startswith("previous_letter."):
            message = (
                "This letter refers to an earlier letter, and none has been issued "
                "to this person on this case yet."
            )
        else:
            message = f"The letter cannot be produced: {field_label(first)} is empty{more}; {hint}"
        raise TemplateError(message.strip())
    if not subject:
        raise TemplateError("The letter’s subject line is empty.")
    return FilledLetter(subject, split_blocks(body), dict(state.used), tuple(state.missing))


_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)


def _curly(text: str) -> str:
    # An apostrophe inside or at the end of a word; quotes opening after a space or bracket.
    text = re.sub(r"(?<=\w)'", "\u2019", text)
    text = re.sub(r"'(?=\w)", "\u2018", text)
    text = text.replace("'", "\u2019")
    text = re.sub(r'(^|(?<=[\s(\[>]))"', "\u201c", text)
    return text.replace('"', "\u201d")


def typographic(source: str) -> str:
    """A template's own words with curly quotes and apostrophes, as the Code uses.

    Only the text outside ``{{ }}``, ``{% %}`` and ``{# #}`` changes: the values put in
    (a name such as O'Brien, the Code's words) stay exactly as they are.
    """
    parts = _TAG.split(source)
    return "".join(part if index % 2 else _curly(part) for index, part in enumerate(parts))


def _offered(
    namespace: str, values: Mapping[str, str], forbidden: frozenset[str]
) -> Mapping[str, str]:
    """The values a template may see: forbidden fields are never handed over at all."""
    return {k: v for k, v in values.items() if f"{namespace}.{k}" not in forbidden}


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
