"""Every renderer in one place, so callers can import them lazily with one statement.

The Word copy (python-docx and lxml) and the guidance leaflet are imported when first
asked for: a letter printed from the command line should not pay for them.
"""

from typing import Any

from app.pdf.fonts import character_name, describe_missing, missing_characters, register_fonts
from app.pdf.letter import check_address, render_letter

__all__ = [
    "character_name",
    "check_address",
    "describe_missing",
    "missing_characters",
    "register_fonts",
    "render_letter",
]


def __getattr__(name: str) -> Any:
    if name == "render_docx":
        from app.pdf.docx_letter import render_docx

        return render_docx
    if name == "render_guidance":
        from app.pdf.leaflet import render_guidance

        return render_guidance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
