"""Case categories: each is one standard of the Code that a post breaches."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.choices import parse_choice


class Category(StrEnum):
    """The ids used everywhere: CLI, JSON, templates and the database."""

    ABUSIVE = "abusive"
    INACCURATE = "inaccurate"
    PROCEDURE = "procedure"
    SAFEGUARDING = "safeguarding"


@dataclass(frozen=True)
class CategoryInfo:
    """How a category is named and which standard of the Code it refers to."""

    category: Category
    label: str
    short_label: str
    standard_id: str


CATEGORY_INFO: dict[Category, CategoryInfo] = {
    Category.ABUSIVE: CategoryInfo(
        Category.ABUSIVE,
        "Abusive, offensive or threatening material",
        "Abusive",
        "abusive",
    ),
    Category.INACCURATE: CategoryInfo(
        Category.INACCURATE,
        "Factually inaccurate information",
        "Inaccurate",
        "inaccurate",
    ),
    Category.PROCEDURE: CategoryInfo(
        Category.PROCEDURE,
        "Matter for a school procedure (complaint, bullying, attendance, additional needs)",
        "Procedure",
        "procedure",
    ),
    Category.SAFEGUARDING: CategoryInfo(
        Category.SAFEGUARDING,
        "Identification of a child (safeguarding)",
        "Safeguarding",
        "safeguarding",
    ),
}


def parse_category(value: str) -> Category:
    """Turn a category id typed by a person into a ``Category``, or explain the choices."""
    return parse_choice(Category, value, "a category", "category")


def encode_categories(categories: frozenset[Category] | set[Category]) -> str:
    """Store categories as a stable, sorted comma list (used for display and sorting)."""
    return ",".join(sorted(c.value for c in categories))


def decode_categories(text: str) -> frozenset[Category]:
    """Read categories back from their stored comma list."""
    return frozenset(Category(part) for part in text.split(",") if part)
