"""Reading a choice typed by a person (a category, a role, a kind of letter...)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from app.domain.errors import ValidationError

E = TypeVar("E", bound=StrEnum)


def parse_choice(choices: type[E], value: str, what: str, field: str | None = None) -> E:
    """The choice whose id was typed (any case, spaces trimmed), or one sentence naming the
    allowed ids: "'x' is not a category; use one of: abusive, inaccurate, ..."."""
    try:
        return choices(value.strip().lower())
    except ValueError:
        allowed = ", ".join(choice.value for choice in choices)
        raise ValidationError(
            f"'{value}' is not {what}; use one of: {allowed}.", field=field
        ) from None
