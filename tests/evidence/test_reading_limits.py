"""A scanned PDF longer than the casebook reads: what was left unread is said, not hidden."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from pytestqt.qtbot import QtBot

from app.domain.records import CaseFilter, CaseSort
from app.evidence import reading
from app.services.casebook import Services
from app.ui.views.evidence_words import ExhibitWords

FONT = Path(__file__).resolve().parents[2] / "resources" / "fonts" / "NotoSans-Regular.ttf"

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract (Debian tesseract-ocr) is not installed"
)


def scanned_pdf(words: list[str]) -> bytes:
    """Small pages (4 × 1 inches at 150 dpi), one printed word each, with no text layer."""
    font = ImageFont.truetype(str(FONT), 64)
    pages = []
    for word in words:
        page = Image.new("L", (600, 150), "white")
        ImageDraw.Draw(page).text((30, 30), word, font=font, fill="black")
        pages.append(page)
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=150, save_all=True, append_images=pages[1:])
    return out.getvalue()


def test_pages_beyond_the_limit_are_named_unread_beside_the_words(
    services: Services, case_id: int, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    # The limit is twenty pages; three small pages over a limit of two test the same rule.
    monkeypatch.setattr(reading, "MAX_SCANNED_PAGES", 2)
    services.evidence.add_bytes(case_id, [("scan.pdf", scanned_pdf(["Alpha", "Bravo", "Zebra"]))])
    [read] = services.reading.read_pending(case_id)
    words = services.reading.text_of(read.id)
    assert "Alpha" in words and "Bravo" in words
    assert "Zebra" not in words
    assert read.reading_note == (
        "Only the first 2 of its 3 pages were read; "
        "a search does not find words on the pages after them."
    )
    bravo = services.cases.list_cases(CaseFilter(text="bravo"), CaseSort("reference"))
    assert [row.id for row in bravo] == [case_id]
    assert services.cases.list_cases(CaseFilter(text="zebra"), CaseSort("reference")) == []
    # ... and the exhibit says why, where its words are shown.
    panel = ExhibitWords()
    qtbot.addWidget(panel)
    panel.show_exhibit(read, words)
    assert panel.state.text() == read.reading_note
    assert not panel.state.isHidden()
    if shot := os.environ.get("CASEBOOK_SCREENSHOTS"):
        panel.resize(420, 260)
        panel.grab().save(str(Path(shot) / "exhibit_words_pages_unread.png"))
