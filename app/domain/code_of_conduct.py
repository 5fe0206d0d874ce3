"""The school's Code of Conduct as versioned data, quoted verbatim, never paraphrased."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


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

    def standard(self, standard_id: str) -> Clause:
        """Return the standard with this id, or raise ``KeyError``."""
        for clause in self.standards:
            if clause.id == standard_id:
                return clause
        raise KeyError(standard_id)


def _clauses(items: list[dict[str, str]]) -> tuple[Clause, ...]:
    return tuple(
        Clause(id=item["id"], number=index + 1, text=item["text"])
        for index, item in enumerate(items)
    )


def load_code(path: Path) -> CodeOfConduct:
    """Read the Code from its JSON data file."""
    data = json.loads(path.read_text(encoding="utf-8"))
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
    )


def normalise_spacing(text: str) -> str:
    """Collapse runs of white space, as a printed page shows them."""
    return " ".join(text.split())
