"""Shared pieces of every printed page: styles, escaping, images, numbered pages."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from app.pdf.fonts import BOLD, ITALIC, REGULAR

INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
ACCENT = colors.HexColor("#1f4e79")


def esc(text: str) -> str:
    """Escape text for reportlab's paragraph markup, keeping line breaks."""
    return escape(text).replace("\n", "<br/>")


def styles(base: float = 10.5) -> dict[str, ParagraphStyle]:
    """The paragraph styles of letters and the leaflet."""
    lead = base * 1.38
    body = ParagraphStyle(
        "body",
        fontName=REGULAR,
        bulletFontName=REGULAR,
        fontSize=base,
        leading=lead,
        textColor=INK,
    )
    return {
        "body": ParagraphStyle("body-spaced", parent=body, spaceAfter=base * 0.8),
        "plain": body,
        "bold": ParagraphStyle("bold", parent=body, fontName=BOLD),
        "subject": ParagraphStyle("subject", parent=body, fontName=BOLD, spaceAfter=base),
        "quote": ParagraphStyle(
            "quote", parent=body, fontName=ITALIC, fontSize=base - 0.5, leading=lead - 0.5
        ),
        "small": ParagraphStyle(
            "small", parent=body, fontSize=base - 2.5, leading=(base - 2.5) * 1.3, textColor=MUTED
        ),
        "small-right": ParagraphStyle(
            "small-right",
            parent=body,
            fontSize=base - 2.5,
            leading=(base - 2.5) * 1.3,
            textColor=MUTED,
            alignment=TA_RIGHT,
        ),
        "school": ParagraphStyle(
            "school",
            parent=body,
            fontName=BOLD,
            fontSize=base + 3.5,
            leading=(base + 3.5) * 1.2,
            textColor=ACCENT,
            alignment=TA_RIGHT,
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=BOLD,
            fontSize=base + 7,
            leading=(base + 7) * 1.2,
            textColor=ACCENT,
            spaceAfter=base * 0.6,
            alignment=TA_LEFT,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=base + 2,
            leading=(base + 2) * 1.25,
            textColor=ACCENT,
            spaceBefore=base * 0.9,
            spaceAfter=base * 0.4,
        ),
    }


def image_reader(data: bytes | None) -> ImageReader | None:
    """An image for reportlab from stored bytes (None when there is no image)."""
    if not data:
        return None
    return ImageReader(io.BytesIO(data))


def fit_image(reader: ImageReader, max_w: float, max_h: float) -> tuple[float, float]:
    """The largest size within ``max_w`` x ``max_h`` that keeps the image's proportions."""
    width, height = reader.getSize()
    scale = min(max_w / width, max_h / height)
    return width * scale, height * scale


def numbered_canvas(
    draw_footer: Callable[[Canvas, int, int], None],
) -> type[Canvas]:
    """A canvas that knows the page count when it draws each page's footer ("Page X of Y")."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                draw_footer(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


MM = mm
