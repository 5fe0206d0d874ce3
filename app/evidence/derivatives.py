"""Copies made from an original: thumbnails, metadata-stripped copies and redacted copies.

Each function takes the original's bytes and returns new bytes; the original is never
changed. Every copy is re-encoded from pixels alone, so no EXIF, GPS, XMP or text chunk
from the original survives into it.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from app.evidence.intake import GIF, HEIC, JPEG, PDF, PNG, TEXT, WEBP

THUMBNAIL_SIZE = (240, 240)


@dataclass(frozen=True)
class Box:
    """A rectangle in the picture's own pixels (after EXIF orientation is applied)."""

    x: int
    y: int
    width: int
    height: int
    page: int = 0  # the page of a PDF (its boxes are in points from the page's top left)


@dataclass(frozen=True)
class ImageSlice:
    """Raw RGBA pixels of the top rows of a picture, for a quick first view."""

    width: int
    height: int  # rows decoded
    full_height: int
    rgba: bytes


def _open_upright(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.seek(0)
    upright = ImageOps.exif_transpose(image)
    return upright if upright is not None else image


def _pixels_only(image: Image.Image) -> Image.Image:
    """A copy carrying pixels and nothing else (no EXIF, ICC, text chunks or comments)."""
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    clean.info = {}
    return clean


def make_thumbnail(data: bytes) -> bytes:
    """A small PNG of the picture's first frame, upright; tall screenshots show their top."""
    with Image.open(io.BytesIO(data)) as probe:
        width, height = probe.size
    if height > 2 * width:
        top = decode_top(data, 2 * width)
        if top is not None:
            image = Image.frombytes("RGBA", (top.width, top.height), top.rgba)
            image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.BILINEAR, reducing_gap=2.0)
            out = io.BytesIO()
            _pixels_only(image).save(out, "PNG")
            return out.getvalue()
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        if image.format == "JPEG":
            image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
        upright = ImageOps.exif_transpose(image) or image
        thumb = upright.convert("RGBA") if upright.mode in ("P", "LA", "PA") else upright
        if thumb.mode not in ("RGB", "RGBA", "L"):
            thumb = thumb.convert("RGB")
        thumb = thumb.copy()
        if thumb.height > 2 * thumb.width:
            thumb = thumb.crop((0, 0, thumb.width, 2 * thumb.width))
        thumb.thumbnail(THUMBNAIL_SIZE, Image.Resampling.BILINEAR, reducing_gap=2.0)
        out = io.BytesIO()
        _pixels_only(thumb).save(out, "PNG", optimize=False)
        return out.getvalue()


def stripped_copy(data: bytes, content_type: str) -> tuple[bytes, str]:
    """(bytes, content type) of a copy with all metadata removed, fit to leave the app."""
    base = content_type.split(";", 1)[0]
    if base == PDF:
        return _stripped_pdf(data), PDF
    if base == TEXT:
        charset = content_type.partition("charset=")[2] or "utf-8"
        codec = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "windows-1252": "cp1252"}.get(
            charset, "utf-8"
        )
        return data.decode(codec).encode("utf-8"), f"{TEXT}; charset=utf-8"
    with _open_upright(data) as upright:
        clean = _pixels_only(upright)
    out = io.BytesIO()
    # A HEIC photo leaves as JPEG: every PC and printer opens that.
    if base in (JPEG, HEIC) and clean.mode in ("RGB", "L"):
        clean.save(out, "JPEG", quality=92)
        return out.getvalue(), JPEG
    clean.save(out, "PNG")
    return out.getvalue(), PNG


def _stripped_pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(io.BytesIO(data), strict=False)
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        # No /Info author, producer or XMP packet from the original travels with the copy.
        writer.add_metadata({"/Producer": "Conduct Casebook"})
        out = io.BytesIO()
        writer.write(out)
    return out.getvalue()


def redacted_copy(data: bytes, boxes: Iterable[Box]) -> tuple[bytes, tuple[int, int]]:
    """A flattened PNG (and its size) with opaque black boxes painted over the given areas.

    The boxes are burnt into a single opaque layer, so the hidden pixels are gone from
    the copy rather than covered by something that could be removed.
    """
    with _open_upright(data) as upright:
        flat = upright.convert("RGBA")
    if flat.mode == "RGBA":
        background = Image.new("RGB", flat.size, "white")
        background.paste(flat, mask=flat.getchannel("A"))
        flat = background
    draw = ImageDraw.Draw(flat)
    width, height = flat.size
    for box in boxes:
        left = max(0, min(width, box.x))
        top = max(0, min(height, box.y))
        right = max(0, min(width, box.x + box.width))
        bottom = max(0, min(height, box.y + box.height))
        if right > left and bottom > top:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=(0, 0, 0))
    out = io.BytesIO()
    _pixels_only(flat).save(out, "PNG")
    return out.getvalue(), flat.size


def decode_top(data: bytes, rows: int) -> ImageSlice | None:
    """Decode only the first ``rows`` rows of a tall PNG, for a fast first view.

    Returns None when the picture is not a plain PNG this can slice (the caller then
    decodes it whole). The full picture is decoded afterwards, off the GUI thread.
    """
    with Image.open(io.BytesIO(data)) as image:
        if image.format != "PNG" or len(image.tile) != 1 or image.info.get("interlace"):
            return None
        width, full_height = image.size
        if rows >= full_height:
            return None
        tile = image.tile[0]
        # Pillow's PNG decoder fills the image row by row, so a shorter canvas stops it
        # after the rows we need without reading the rest of the file.
        image._size = (width, rows)
        image.tile = [tile._replace(extents=(0, 0, width, rows))]
        image.load()
        rgba = image.convert("RGBA")
        return ImageSlice(width, rows, full_height, rgba.tobytes())


__all__ = [
    "GIF",
    "JPEG",
    "PNG",
    "WEBP",
    "Box",
    "ImageSlice",
    "decode_top",
    "make_thumbnail",
    "redacted_copy",
    "stripped_copy",
]
