"""Redacting a PDF exhibit: each page with boxes becomes a picture with the boxes burnt in.

A box drawn over a PDF page is not enough on its own: the text and drawings under it stay
in the file and can be copied out. So every page that has a box is rendered (PDFium, the
engine Chrome uses), the boxes are painted black into its pixels, and the page is replaced
by that picture alone: no text, font or drawing of the original page survives. Pages
without boxes are copied as they are into a new document, which carries nothing else of
the original (no outline, metadata, forms or scripts). The original is never changed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image, ImageDraw

from app.evidence.derivatives import Box

RENDER_DPI = 150  # sharp enough to read and print; a page is about 1240×1754 pixels
# A page up to 5 m a side is accepted; rendered at 150 dpi it would be 1.6 billion pixels,
# so a big page is rendered at a lower resolution, never more than this many pixels.
MAX_RENDER_PIXELS = 40_000_000


def render_scale(data: bytes, index: int, dpi: int = RENDER_DPI) -> float:
    """Pixels a point that page ``index`` is rendered at: ``dpi``/72, less for a big page."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        page = document[index]
        try:
            width, height = page.get_size()
        finally:
            page.close()
    finally:
        document.close()
    scale = dpi / 72
    area = max(1.0, width * height)
    return min(scale, (MAX_RENDER_PIXELS / area) ** 0.5)


def page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return len(document)
    finally:
        document.close()


def render_page(data: bytes, index: int, dpi: int = RENDER_DPI) -> Image.Image:
    """One page as an RGB picture, as it is shown (the page's rotation applied)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        page = document[index]
        try:
            width, height = page.get_size()
            scale = min(dpi / 72, (MAX_RENDER_PIXELS / max(1.0, width * height)) ** 0.5)
            bitmap = page.render(scale=scale)
            try:
                return bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        document.close()


def render_page_png(data: bytes, index: int, dpi: int = RENDER_DPI) -> bytes:
    """One page as PNG bytes (for the redaction tool)."""
    out = io.BytesIO()
    render_page(data, index, dpi).save(out, "PNG")
    return out.getvalue()


def _burnt_page(image: Image.Image, boxes: list[Box], dpi: float) -> bytes:
    """A one-page PDF holding only ``image`` with black boxes painted into its pixels."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    scale = dpi / 72  # pixels a point, as the page was rendered
    draw = ImageDraw.Draw(image)
    for box in boxes:
        left = max(0, int(box.x * scale))
        top = max(0, int(box.y * scale))
        right = min(image.width, int((box.x + box.width) * scale + 0.999))
        bottom = min(image.height, int((box.y + box.height) * scale + 0.999))
        if right > left and bottom > top:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=(0, 0, 0))
    width, height = image.width / scale, image.height / scale
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width, height), pageCompression=1)
    pdf.setCreator("Conduct Casebook")
    pdf.setProducer("Conduct Casebook")
    # Lossless: a JPEG page would smear the box edges into the words beside them.
    pdf.drawImage(ImageReader(image), 0, 0, width=width, height=height)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def redacted_pdf(data: bytes, boxes: Iterable[Box], dpi: int = RENDER_DPI) -> tuple[bytes, int]:
    """(new PDF, pages flattened): boxes are in points from each page's top-left corner."""
    import pikepdf

    by_page: dict[int, list[Box]] = {}
    for box in boxes:
        by_page.setdefault(box.page, []).append(box)
    burnt = {
        index: _burnt_page(
            render_page(data, index, dpi), page_boxes, render_scale(data, index, dpi) * 72
        )
        for index, page_boxes in by_page.items()
    }
    with pikepdf.open(io.BytesIO(data)) as original, pikepdf.new() as copy:
        pages = len(original.pages)
        if any(index < 0 or index >= pages for index in burnt):
            raise ValueError("a box is on a page the PDF does not have")
        opened = []
        for index, page in enumerate(original.pages):
            if index in burnt:
                flat = pikepdf.open(io.BytesIO(burnt[index]))
                opened.append(flat)
                copy.pages.append(flat.pages[0])
            else:
                copy.pages.append(page)
        out = io.BytesIO()
        copy.save(out)
        for flat in opened:
            flat.close()
    return out.getvalue(), len(burnt)
