"""The leaflet and booklet as printed: their own date, title and language, and the booklet's
page order for short-edge duplex, read back from each half of each printed side."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.services.casebook import Services, open_casebook
from app.services.context import resources_dir
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CODE_TEXT = (resources_dir() / "code_of_conduct" / "code_of_conduct_social_media.txt").read_text(
    encoding="utf-8"
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=clock)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def test_the_leaflet_is_dated_by_the_code_it_prints(services: Services, clock: Clock) -> None:
    first, _ = services.letters.guidance_pdf()
    booklet, _ = services.letters.guidance_pdf(a5_booklet=True)
    # Printed again, on another day: the same bytes.
    clock.now = NOW + timedelta(days=3)
    assert services.letters.guidance_pdf()[0] == first
    assert services.letters.guidance_pdf(a5_booklet=True)[0] == booklet
    in_force = services.ctx.code.in_force_from.replace("-", "")
    for pdf in (first, booklet):
        info = PdfReader(io.BytesIO(pdf))
        assert info.metadata["/CreationDate"].startswith(f"D:{in_force}")
        assert info.metadata.title == (
            "A guide for parents, carers and visitors — "
            "Parents, Carers and Visitors Code of Conduct: Use of Social Media"
        )
        assert info.trailer["/Root"]["/Lang"] == "en-GB"
    # A revised Code gives a leaflet of its own date, which says so.
    effective = NOW.date() + timedelta(days=7)
    services.code.adopt(CODE_TEXT, "code-2027.txt", "1.1", effective)
    clock.now = NOW + timedelta(days=8)
    services.code.refresh()
    revised, _ = services.letters.guidance_pdf()
    metadata = PdfReader(io.BytesIO(revised)).metadata
    assert metadata["/CreationDate"].startswith(f"D:{effective:%Y%m%d}")
    assert "Code version 1.1 (in force from 1 December 2026)" in _pdftotext(revised)


def _pdftotext(pdf: bytes, *crop: str) -> str:
    done = subprocess.run(
        ["pdftotext", *crop, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")
