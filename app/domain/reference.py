"""Case references of the form SM-YYYY-NNNN."""

from __future__ import annotations

import re

from app.domain.errors import ValidationError

_PATTERN = re.compile(r"^SM-(\d{4})-(\d{4,})$")


def format_reference(year: int, number: int) -> str:
    """'SM-2026-0007' for the seventh case of 2026."""
    return f"SM-{year:04d}-{number:04d}"


def parse_reference(text: str) -> tuple[int, int]:
    """Split a reference into (year, number), or explain its form."""
    match = _PATTERN.match(text.strip().upper())
    if not match:
        raise ValidationError(
            f"'{text}' is not a case reference; references look like SM-2026-0001.",
            field="reference",
        )
    return int(match.group(1)), int(match.group(2))


def is_reference(text: str) -> bool:
    """True when ``text`` is exactly a case reference as the casebook writes it."""
    return bool(_PATTERN.match(text)) and text == text.strip().upper()
