"""Reading the words in evidence: text in pictures (Tesseract OCR), PDF text layers, faces.

Everything here runs offline. Tesseract never sees the file as it arrived: the picture is
decoded by Pillow (after intake has checked it) and handed over as fresh pixels, so a
hostile file cannot reach a second decoder. A tall screenshot is read in overlapping
bands, because Tesseract's page layout analysis gives up on a page many screens long.
When Tesseract is not installed, pictures are kept unread and say so; nothing is refused.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from app.evidence.derivatives import Box

log = logging.getLogger(__name__)

# A band of a tall screenshot: about two phone screens, with an overlap so a line cut by
# one band's edge is read whole in the next.
BAND_HEIGHT = 2400
BAND_OVERLAP = 120
MAX_TEXT_CHARS = 200_000  # what is kept and indexed of one exhibit's text
OCR_TIMEOUT_SECONDS = 120  # one band; a stuck Tesseract is stopped, the picture kept unread
# Below this width the words of a phone screenshot are too small for Tesseract to read
# well; such pictures are enlarged before reading (boxes are mapped back).
MIN_READ_WIDTH = 1000


@dataclass(frozen=True)
class Word:
    """One word found on a page, with its box in that page's pixels (or PDF points ×1)."""

    text: str
    box: Box
    page: int = 0
    line: int = 0  # words with the same line number were read on one line


@dataclass(frozen=True)
class ReadText:
    """The words read from one exhibit, and how they were read."""

    text: str
    words: tuple[Word, ...] = ()
    method: str = ""  # "ocr", "pdf", "email", "text" or "" when nothing was read
    note: str = ""  # why nothing was read, or what was left unread


def tesseract_program() -> str | None:
    """The Tesseract program to run: the copy bundled with the Windows build, else PATH."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        bundled = Path(bundle) / "tesseract" / "tesseract.exe"
        if bundled.is_file():
            return str(bundled)
    configured = os.environ.get("CASEBOOK_TESSERACT")
    if configured and Path(configured).is_file():
        return configured
    return shutil.which("tesseract")


def _tessdata_dir(program: str) -> str | None:
    folder = Path(program).parent / "tessdata"
    return str(folder) if folder.is_dir() else None


def ocr_picture(data: bytes) -> ReadText:
    """Read the words in a picture that intake has accepted (first frame, upright)."""
    program = tesseract_program()
    if program is None:
        return ReadText("", note="Text in pictures is not read on this PC (Tesseract is missing).")
    with Image.open(io.BytesIO(data)) as opened:
        opened.seek(0)
        upright = ImageOps.exif_transpose(opened) or opened
        grey = upright.convert("L")
    return _ocr(grey, program)


def _ocr(grey: Image.Image, program: str, page: int = 0, points: float = 1.0) -> ReadText:
    """Read a greyscale picture; its boxes are given in its pixels divided by ``points``."""
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = program
    scale = points
    if grey.width < MIN_READ_WIDTH:
        scale = points * MIN_READ_WIDTH / grey.width
        grey = grey.resize(
            (MIN_READ_WIDTH, max(1, round(grey.height * MIN_READ_WIDTH / grey.width))),
            Image.Resampling.BICUBIC,
        )
    config = "--psm 3"
    tessdata = _tessdata_dir(program)
    if tessdata:
        config += f' --tessdata-dir "{tessdata}"'
    words: list[Word] = []
    line_base = 0
    top = 0
    height = grey.height
    # Tesseract runs single-threaded: the office PC has other work, and bands run in turn.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    while top < height:
        bottom = min(height, top + BAND_HEIGHT)
        band = grey.crop((0, top, grey.width, bottom)) if (top, bottom) != (0, height) else grey
        try:
            found = pytesseract.image_to_data(
                band,
                lang="eng",
                config=config,
                output_type=pytesseract.Output.DICT,
                timeout=OCR_TIMEOUT_SECONDS,
            )
        except (pytesseract.TesseractError, RuntimeError, OSError) as error:
            log.warning("Tesseract could not read a picture: %s", type(error).__name__)
            return ReadText("", note="The text in this picture could not be read.")
        # Words starting in the overlap at the bottom of a band are read again, whole, by
        # the next band, so they are left to it.
        keep_below = bottom - BAND_OVERLAP if bottom < height else height
        lines: dict[tuple[int, int, int], int] = {}
        for i, raw in enumerate(found["text"]):
            word = str(raw).strip()
            if not word or float(found["conf"][i]) < 0:
                continue
            y = int(found["top"][i]) + top
            if y >= keep_below:
                continue
            if top and y < top + BAND_OVERLAP // 2 and _already_read(words, y, scale):
                continue
            key = (int(found["block_num"][i]), int(found["par_num"][i]), int(found["line_num"][i]))
            line = lines.setdefault(key, line_base + len(lines))
            words.append(
                Word(
                    word,
                    Box(
                        round(int(found["left"][i]) / scale),
                        round(y / scale),
                        max(1, round(int(found["width"][i]) / scale)),
                        max(1, round(int(found["height"][i]) / scale)),
                    ),
                    page,
                    line,
                )
            )
        line_base += len(lines)
        if bottom >= height:
            break
        top = bottom - BAND_OVERLAP
    return ReadText(_join_lines(words), tuple(words), "ocr")


# A scanned PDF (pictures of pages, no text layer) is read page by page at this resolution,
# up to this many pages: a scanned letter or a printed-out thread, not a book.
SCAN_DPI = 200
MAX_SCANNED_PAGES = 20


def ocr_pdf_pages(data: bytes) -> ReadText:
    """Read a PDF with no text layer by OCR of its rendered pages (boxes in points)."""
    program = tesseract_program()
    if program is None:
        return ReadText("", note="Text in pictures is not read on this PC (Tesseract is missing).")
    from app.evidence.pdf_redaction import page_count, render_page, render_scale

    words: list[Word] = []
    pages = page_count(data)
    for index in range(min(pages, MAX_SCANNED_PAGES)):
        grey = render_page(data, index, SCAN_DPI).convert("L")
        found = _ocr(grey, program, page=index, points=render_scale(data, index, SCAN_DPI))
        if found.note:
            return found
        base = (words[-1].line + 1) if words else 0
        words.extend(Word(w.text, w.box, w.page, w.line + base) for w in found.words)
    if pages > MAX_SCANNED_PAGES:
        # Said beside the words, so nobody takes a search that finds nothing as the
        # whole document searched.
        note = (
            f"Only the first {MAX_SCANNED_PAGES} of its {pages} pages were read; "
            "a search does not find words on the pages after them."
        )
        return ReadText(_join_lines(words), tuple(words), "ocr", note=note)
    return ReadText(_join_lines(words), tuple(words), "ocr" if words else "")


def _already_read(words: list[Word], y: int, scale: float) -> bool:
    """Whether the previous band already kept a word on the line at ``y`` (scaled pixels)."""
    return any(abs(w.box.y * scale - y) < 8 for w in words[-200:])


def _join_lines(words: list[Word] | tuple[Word, ...]) -> str:
    lines: list[str] = []
    current = -1
    for word in words:
        if word.line != current:
            lines.append(word.text)
            current = word.line
        else:
            lines[-1] += " " + word.text
    return "\n".join(lines)[:MAX_TEXT_CHARS]


def pdf_text(data: bytes) -> ReadText:
    """The text layer of a PDF that intake has accepted, with each word's box in points
    measured from the top-left corner of its page."""
    import pypdfium2 as pdfium

    words: list[Word] = []
    pieces: list[str] = []
    line = 0
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return ReadText("", note="The text of this PDF could not be read.")
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                page_height = page.get_height()
                textpage = page.get_textpage()
                try:
                    count = textpage.count_chars()
                    pieces.append(textpage.get_text_range(0, count))
                    line = _pdf_words(textpage, count, index, page_height, words, line)
                finally:
                    textpage.close()
            finally:
                page.close()
            if sum(len(p) for p in pieces) > MAX_TEXT_CHARS:
                break
    finally:
        document.close()
    text = "\n".join(p.replace("\r\n", "\n").strip() for p in pieces if p.strip())
    return ReadText(text[:MAX_TEXT_CHARS], tuple(words), "pdf" if text else "")


def _pdf_words(
    textpage: object, count: int, page: int, page_height: float, out: list[Word], line: int
) -> int:
    """Group a PDF page's characters into words with boxes (points, top-left origin)."""
    text_range = textpage.get_text_range  # type: ignore[attr-defined]
    charbox = textpage.get_charbox  # type: ignore[attr-defined]
    current = ""
    left = top = right = bottom = 0.0
    for i in range(count):
        ch = text_range(i, 1)
        if ch.isspace() or not ch:
            if current:
                out.append(_pdf_word(current, left, top, right, bottom, page, page_height, line))
                current = ""
            if ch in ("\n", "\r"):
                line += 1
            continue
        x0, y0, x1, y1 = charbox(i)
        if not current:
            left, bottom, right, top = x0, y0, x1, y1
        else:
            left, bottom, right, top = min(left, x0), min(bottom, y0), max(right, x1), max(top, y1)
        current += ch
    if current:
        out.append(_pdf_word(current, left, top, right, bottom, page, page_height, line))
    return line + 1


def _pdf_word(
    text: str,
    left: float,
    top: float,
    right: float,
    bottom: float,
    page: int,
    page_height: float,
    line: int,
) -> Word:
    box = Box(
        int(left),
        int(page_height - top),
        max(1, round(right - left + 0.5)),
        max(1, round(top - bottom + 0.5)),
    )
    return Word(text, box, page, line)


# ----- faces ---------------------------------------------------------------------------------

# Photos are scanned at this width at most: faces stay large enough to find, and a 12 MP
# photo is checked in a fraction of a second.
FACE_SCAN_WIDTH = 1200


def find_faces(data: bytes) -> tuple[Box, ...]:
    """Boxes around faces seen from the front, with OpenCV's bundled Haar cascade."""
    import cv2
    import numpy

    cascade_path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(str(cascade_path))  # type: ignore[attr-defined]
    if cascade.empty():
        log.warning("OpenCV's face model is missing; no faces suggested")
        return ()
    with Image.open(io.BytesIO(data)) as opened:
        opened.seek(0)
        upright = ImageOps.exif_transpose(opened) or opened
        grey = upright.convert("L")
    scale = 1.0
    if grey.width > FACE_SCAN_WIDTH:
        scale = FACE_SCAN_WIDTH / grey.width
        grey = grey.resize((FACE_SCAN_WIDTH, max(1, round(grey.height * scale))))
    pixels = numpy.asarray(grey)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = cascade.detectMultiScale(pixels, scaleFactor=1.1, minNeighbors=6, minSize=(40, 40))
    boxes = []
    for x, y, w, h in found:
        # A little margin: a box that only just covers a face leaves the hairline and chin.
        margin = 0.15 * w
        boxes.append(
            Box(
                max(0, round((x - margin) / scale)),
                max(0, round((y - margin) / scale)),
                round((w + 2 * margin) / scale),
                round((h + 2 * margin) / scale),
            )
        )
    return tuple(boxes)
