"""Reading the words back out of a PDF, to check what a document would give away."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PyPdfError


def pdf_text(data: bytes) -> str:
    """All the text of a PDF's pages (empty when it cannot be read)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, OSError):
        return ""
