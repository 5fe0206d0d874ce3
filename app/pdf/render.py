"""Every renderer in one place, so callers can import them lazily with one statement."""

from app.pdf.docx_letter import render_docx
from app.pdf.fonts import character_name, describe_missing, missing_characters, register_fonts
from app.pdf.leaflet import render_guidance
from app.pdf.letter import check_address, render_letter

__all__ = [
    "character_name",
    "check_address",
    "describe_missing",
    "missing_characters",
    "register_fonts",
    "render_docx",
    "render_guidance",
    "render_letter",
]
