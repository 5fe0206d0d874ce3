"""Printing sends a page in bands, honours the page range, and stays small in memory.

The window prints a PDF by rendering it with QtPdf and painting it on the printer. A
whole A4 page at 600 dpi is a 140 MB bitmap; the bands keep a 20-page case file within
300 MB for the whole process. Here the printer is Qt's own PDF printer writing a file (the
same QPrinter and QPainter calls as a Windows printer); the figure is the print process's
peak resident memory, measured in a process of its own.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat
from pypdf import PdfReader

from app.domain.categories import Category
from app.domain.records import CaseDraft
from app.services.casebook import Services

ROOT = Path(__file__).resolve().parents[2]
LIMIT_MB = 300


def phone_screenshot(seed: int, scale: int = 1) -> bytes:
    """A phone screenshot (1080 x 2400, or 1/``scale`` of that), each seed its own."""
    rng = random.Random(seed)
    image = Image.new("RGB", (1080 // scale, 2400 // scale), (rng.randrange(256), 200, 220))
    # Photo-like, so it compresses badly.
    noise = Image.effect_noise((1080 // scale, 600 // scale), 60).convert("RGB")
    image.paste(noise, (0, (300 + seed * 10) // scale))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_case_file(folder: Path, screenshots: int, scale: int = 1) -> Path:
    """A real case file: cover, standards, chronology and one page per screenshot."""
    from app.services.casebook import open_casebook

    services: Services = open_casebook(folder / "casebook", actor="Mrs A. Head")
    try:
        case = services.cases.open_case(
            CaseDraft(title="A long thread of posts", categories=frozenset({Category.ABUSIVE}))
        )
        shots = [(f"screenshot {n}.png", phone_screenshot(n, scale)) for n in range(screenshots)]
        services.evidence.add_bytes(case.id, shots)
        pdf = services.reports.case_file(case.id)
    finally:
        services.close()
    path = folder / "case file.pdf"
    path.write_bytes(pdf)
    return path


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real case file of 21 pages: cover, standards, chronology and 15 screenshots."""
    path = make_case_file(tmp_path_factory.mktemp("print"), 15)
    assert len(PdfReader(path).pages) >= 20
    return path


@pytest.fixture(scope="module")
def short_case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real case file of 11 pages, its 5 screenshots a quarter of a phone's size."""
    path = make_case_file(tmp_path_factory.mktemp("print-short"), 5, scale=4)
    assert len(PdfReader(path).pages) >= 10
    return path


def print_to_file(source: Path, target: Path, dpi: int, *pages: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.windows.print_worker", str(source), str(target), str(dpi)]
        + [str(page) for page in pages],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["printed"]
    return result


needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed"
)


def page_picture(pdf: Path, number: int) -> Image.Image:
    """Page ``number`` (from 1) of ``pdf`` as a small grey picture, rendered by poppler."""
    done = subprocess.run(
        ["pdftoppm", "-r", "20", "-gray", "-f", str(number), "-l", str(number), str(pdf)],
        capture_output=True,
        check=True,
    )
    # Blurred, so the two renderers' different anti-aliasing of text does not count.
    return Image.open(io.BytesIO(done.stdout)).convert("L").filter(ImageFilter.GaussianBlur(2))


def difference(a: Image.Image, b: Image.Image) -> float:
    b = b.resize(a.size)
    return float(ImageStat.Stat(ImageChops.difference(a, b)).mean[0])


# A soak of memory and time (a minute or more on a 2-core machine): CI runs it. Every run
# keeps the page-choice test below, which prints through the same path at 150 dpi.
@needs_poppler
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_20_page_case_file_prints_at_600_dpi_within_300_mb(
    case_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "printed.pdf"
    pages = len(PdfReader(case_file).pages)
    result = print_to_file(case_file, out, 600)
    print(f"\n{pages} pages at 600 dpi: peak {result['peak_mb']:.0f} MB, {result['seconds']:.1f} s")
    assert result["peak_mb"] < LIMIT_MB
    printed = PdfReader(out)
    assert len(printed.pages) == pages
    # Each page is A4 and looks like its original (more than like any other page): the
    # bands join up in the right places.
    for number in (1, pages // 2, pages):
        box = printed.pages[number - 1].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)
        original = page_picture(case_file, number)
        same = difference(original, page_picture(out, number))
        other = difference(original, page_picture(out, 2 if number != 2 else 3))
        assert same < 3 and same < other / 2, (number, same, other)


@needs_poppler
def test_only_the_chosen_pages_are_printed_in_order(
    qapp: object, short_case_file: Path, tmp_path: Path
) -> None:
    # The same print path as the soak above, in this process: its memory is not measured.
    from tests.windows.print_worker import print_to_file as print_here

    out = tmp_path / "pages 3 to 5.pdf"
    assert print_here(short_case_file.read_bytes(), str(out), 150, 3, 5)
    assert len(PdfReader(out).pages) == 3
    for printed, original in ((1, 3), (2, 4), (3, 5)):
        same = difference(page_picture(short_case_file, original), page_picture(out, printed))
        other = difference(page_picture(short_case_file, original + 5), page_picture(out, printed))
        assert same < 3 and same < other / 2, (printed, same, other)
