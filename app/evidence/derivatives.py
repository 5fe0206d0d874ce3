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

from PIL import ExifTags, Image, ImageDraw, ImageOps

from app.evidence.intake import GIF, HEIC, JPEG, PDF, PNG, TEXT, WEBP

THUMBNAIL_SIZE = (240, 240)
# About 200 dpi across the body of an A4 page: wider pictures are printed from a copy this
# wide. A tall screenshot keeps its full height (it is printed over several pages).
PRINT_WIDTH = 1400
# JPEG cannot hold a picture taller than this.
JPEG_MAX_SIDE = 65_500


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


def thumbnail_of(image: Image.Image) -> bytes:
    """A small PNG of a picture already decoded (its first frame), as ``make_thumbnail``
    makes from its bytes: upright, and only the top of a tall screenshot.

    Intake decodes every picture whole to check it; this makes the thumbnail from those
    pixels in a few milliseconds, where decoding the stored file again took tens.
    """
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    upright = image if orientation in (None, 1) else ImageOps.exif_transpose(image)
    if upright.mode in ("P", "LA", "PA"):
        upright = upright.convert("RGBA")
    elif upright.mode not in ("RGB", "RGBA", "L"):
        upright = upright.convert("RGB")
    width, height = upright.size
    shown = (0, 0, width, min(height, 2 * width))  # a tall screenshot shows its top
    scale = min(THUMBNAIL_SIZE[0] / width, THUMBNAIL_SIZE[1] / shown[3], 1.0)
    size = (max(1, round(width * scale)), max(1, round(shown[3] * scale)))
    small = upright.resize(size, Image.Resampling.BILINEAR, box=shown, reducing_gap=2.0)
    out = io.BytesIO()
    _pixels_only(small).save(out, "PNG", optimize=False)
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


def printable_copy(data: bytes) -> bytes:
    """A JPEG of the picture's first frame for a printed document: upright, at most
    ``PRINT_WIDTH`` wide, with no metadata.

    A JPEG that holds nothing but its picture (no EXIF, XMP, ICC profile, comment or
    trailing bytes) and is no wider than print size is returned as it is: re-encoding it
    would only lose quality and time. Any other picture is decoded once and encoded once.
    """
    bare = bare_jpeg_size(data)
    if bare is not None and bare[0] <= PRINT_WIDTH:
        return data
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        if image.format == "JPEG":
            # Let the decoder scale a large photo down by 2, 4 or 8 as it reads it.
            image.draft("RGB", (PRINT_WIDTH, image.height * PRINT_WIDTH // image.width))
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        image.load()
        picture: Image.Image = image
        if orientation != 1:
            picture = ImageOps.exif_transpose(image)
        if picture.mode in ("RGBA", "LA", "PA") or (
            picture.mode == "P" and "transparency" in picture.info
        ):
            rgba = picture.convert("RGBA")
            picture = Image.new("RGB", rgba.size, "white")
            picture.paste(rgba, mask=rgba.getchannel("A"))
        elif picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        scale = min(1.0, PRINT_WIDTH / picture.width, JPEG_MAX_SIDE / picture.height)
        if scale < 1.0:
            size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
            picture = picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        # The encoder would copy a comment from the source; the copy carries pixels only.
        picture.info = {}
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=88)
    return out.getvalue()


# Markers a JPEG needs to be drawn: start and end, quantisation and Huffman tables, a
# baseline, extended or progressive Huffman frame, restart interval, scans.
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_TABLES = frozenset({0xC4, 0xDB, 0xDD})


def bare_jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG that carries its picture and nothing else, else None.

    Every segment is walked: an APP segment other than a plain JFIF header (EXIF, XMP, ICC,
    Photoshop, a JFIF thumbnail), a comment, an unusual frame type, RGB-coded components
    or any byte after the end marker makes it "not bare", and it is then re-encoded from
    its pixels rather than passed on.
    """
    if data[:2] != b"\xff\xd8":
        return None
    size: tuple[int, int] | None = None
    at, end = 2, len(data)
    while at + 2 <= end:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == _EOI:
            return size if at + 2 == end else None
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2 or at + 2 + length > end:
            return None
        body = data[at + 4 : at + 2 + length]
        if marker == 0xE0:
            # JFIF 1.0x with no thumbnail (its last two bytes are the thumbnail's size).
            if length != 16 or body[:5] != b"JFIF\x00" or body[12:14] != b"\x00\x00":
                return None
        elif marker in _FRAMES:
            components = body[5] if len(body) > 5 else 0
            ids = bytes(body[6 + 3 * i] for i in range(components)) if components else b""
            if components not in (1, 3) or len(body) != 6 + 3 * components:
                return None
            if components == 3 and ids != b"\x01\x02\x03":
                return None  # RGB-coded or unusual: a PDF reader might show it wrongly
            if size is not None:
                return None
            size = (int.from_bytes(body[3:5], "big"), int.from_bytes(body[1:3], "big"))
            if body[0] != 8 or 0 in size:
                return None
        elif marker not in _TABLES and marker != _SOS:
            return None
        at += 2 + length
        if marker == _SOS:
            # Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte) or a restart
            # marker inside it; any other marker ends the scan.
            while True:
                at = data.find(b"\xff", at)
                if at < 0 or at + 1 >= end:
                    return None
                follower = data[at + 1]
                if follower == 0x00 or 0xD0 <= follower <= 0xD7:
                    at += 2
                    continue
                break
    return None


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
    "bare_jpeg_size",
    "decode_top",
    "make_thumbnail",
    "printable_copy",
    "redacted_copy",
    "stripped_copy",
]
