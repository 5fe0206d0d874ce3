"""Deciding what a file offered as evidence really is, and refusing what is not safe.

The type is decided from the bytes alone, never from the name. Pictures are checked in
full (header, then a complete decode under size limits), PDFs are parsed and their pages
counted, text is decoded with a stated fallback. Every refusal is one sentence that names
the file, raised as ``EvidenceRejected``.
"""

from __future__ import annotations

import io
import logging
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from app.domain.errors import EvidenceRejected

log = logging.getLogger(__name__)

# 12-megapixel photos and 1280×24000 full-page screenshots are normal; a picture many
# times larger is either a mistake or a decompression bomb.
MAX_PIXELS = 80_000_000
MAX_SIDE = 40_000
MAX_PDF_PAGES = 2_000
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_NAME_CHARS = 120

# Pillow checks the same limit itself whenever anything opens a picture.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow keeps big pictures in blocks of rows. At its default 16 MB a block falls below
# glibc's mmap threshold, so blocks freed on a worker thread stayed in that thread's heap:
# viewing one 1280x24000 screenshot held over 800 MB. 64 MB blocks are mapped and unmapped
# whole, and the memory goes back to the system when the picture is dropped.
Image.core.set_block_size(64 * 1024 * 1024)
ImageFile.LOAD_TRUNCATED_IMAGES = False

ACCEPTED_KINDS = "PNG, JPEG, WebP or GIF pictures, PDF documents and plain text"

PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
GIF = "image/gif"
PDF = "application/pdf"
TEXT = "text/plain"
EMAIL = "message/rfc822"
OUTLOOK_MESSAGE = "application/vnd.ms-outlook"

IMAGE_TYPES = frozenset({PNG, JPEG, WEBP, GIF})

TYPE_LABELS = {
    PNG: "PNG picture",
    JPEG: "JPEG photo",
    WEBP: "WebP picture",
    GIF: "GIF picture",
    PDF: "PDF document",
    TEXT: "text",
    EMAIL: "email message (.eml)",
    OUTLOOK_MESSAGE: "Outlook message (.msg)",
}
# Kept exactly as they arrived and listed with their hash, never opened or shown as mail.
MESSAGE_TYPES = frozenset({EMAIL, OUTLOOK_MESSAGE})

_PIL_FORMATS = {"PNG": PNG, "JPEG": JPEG, "WEBP": WEBP, "GIF": GIF}

# Signatures of things that are refused even when renamed to .png or .txt.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\xfe\xed\xfa\xce", "a program"),
    (b"\xfe\xed\xfa\xcf", "a program"),
    (b"\xce\xfa\xed\xfe", "a program"),
    (b"\xcf\xfa\xed\xfe", "a program"),
    (b"\xca\xfe\xba\xbe", "a program"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a compressed archive or office document"),
    (b"PK\x05\x06", "a compressed archive"),
    (b"Rar!\x1a\x07", "a compressed archive"),
    (b"7z\xbc\xaf\x27\x1c", "a compressed archive"),
    (b"\x1f\x8b", "a compressed archive"),
    (b"BZh", "a compressed archive"),
    (b"\xfd7zXZ\x00", "a compressed archive"),
    (b"\x28\xb5\x2f\xfd", "a compressed archive"),
    (b"MSCF", "a compressed archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an office document"),
    (b"{\\rtf", "a word-processor document"),
    (b"II*\x00", "a TIFF picture (not accepted; save it as PNG or JPEG)"),
    (b"MM\x00*", "a TIFF picture (not accepted; save it as PNG or JPEG)"),
    (b"SQLite format 3\x00", "a database file"),
)

_MARKUP_STARTS = ("<!doctype", "<html", "<?xml", "<svg", "<script", "<head", "<body", "<iframe")
_MARKUP_ANYWHERE = ("<html", "<svg", "<script", "<iframe", "<!doctype html")

_TEXT_CONTROL_OK = {"\t", "\n", "\r", "\f"}

# EXIF tags worth showing to a head teacher (others are listed only by count).
_SHOWN_EXIF = (
    "Make",
    "Model",
    "Software",
    "DateTime",
    "DateTimeOriginal",
    "Artist",
    "ImageDescription",
    "Orientation",
)


@dataclass(frozen=True)
class InspectedFile:
    """What a file turned out to be, once it has passed every check."""

    content_type: str  # e.g. "image/png", "text/plain; charset=utf-8"
    size: int
    width: int | None = None
    height: int | None = None
    page_count: int | None = None
    text_note: str = ""  # how text was decoded, when not plain UTF-8
    exif: tuple[tuple[str, str], ...] = ()
    has_location: bool = False

    @property
    def base_type(self) -> str:
        return self.content_type.split(";", 1)[0]

    @property
    def is_image(self) -> bool:
        return self.base_type in IMAGE_TYPES


@dataclass(frozen=True)
class IntakeLimits:
    """Limits on what is accepted; the file size limit is a setting."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = MAX_PIXELS
    max_side: int = MAX_SIDE
    max_pdf_pages: int = MAX_PDF_PAGES


def display_name(name: str) -> str:
    """A file name made safe to show and store as text: no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        ch if unicodedata.category(ch)[0] != "C" else "\N{REPLACEMENT CHARACTER}" for ch in base
    ).strip()
    if not cleaned or cleaned in (".", ".."):
        cleaned = "unnamed file"
    if len(cleaned) > MAX_NAME_CHARS:
        cleaned = cleaned[: MAX_NAME_CHARS - 1] + "…"
    return cleaned


def format_size(size: int) -> str:
    """'412 KB', '3.1 MB' — sizes as the office reads them."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def inspect_bytes(data: bytes, name: str, limits: IntakeLimits | None = None) -> InspectedFile:
    """Decide what ``data`` is from its content; raise ``EvidenceRejected`` when refused."""
    limits = limits or IntakeLimits()
    shown = display_name(name)
    size = len(data)
    if size == 0:
        raise EvidenceRejected(f"{shown} is empty, so there is nothing to keep as evidence.")
    if size > limits.max_bytes:
        raise EvidenceRejected(
            f"{shown} is {format_size(size)}, larger than the limit of "
            f"{format_size(limits.max_bytes)} for one piece of evidence."
        )
    head = data[:64]
    message = _message_type(data)
    if message is not None:
        return InspectedFile(content_type=message, size=size)
    for signature, what in _REFUSED_SIGNATURES:
        if head.startswith(signature):
            raise EvidenceRejected(f"{shown} is {what}, which cannot be kept as evidence.")
    if data[257:262] == b"ustar":
        raise EvidenceRejected(
            f"{shown} is a compressed archive, which cannot be kept as evidence."
        )
    if head[4:8] == b"ftyp":
        raise EvidenceRejected(
            f"{shown} is an HEIC photo or a video, which is not accepted; "
            "please save it as JPEG or PNG first."
        )
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _inspect_image(data, shown, PNG, limits)
    if head.startswith(b"\xff\xd8\xff"):
        return _inspect_image(data, shown, JPEG, limits)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _inspect_image(data, shown, WEBP, limits)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _inspect_image(data, shown, GIF, limits)
    if head.lstrip(b"\x00\t\n\r ")[:5] == b"%PDF-":
        return _inspect_pdf(data, shown, limits)
    return _inspect_text(data, shown)


# ----- pictures ------------------------------------------------------------------------


def _corrupt(shown: str, what: str) -> EvidenceRejected:
    return EvidenceRejected(
        f"{shown} looks like a {what} but it is damaged or incomplete, so it cannot be opened."
    )


def _inspect_image(data: bytes, shown: str, expected: str, limits: IntakeLimits) -> InspectedFile:
    label = TYPE_LABELS[expected]
    try:
        with warnings.catch_warnings():
            # A picture just over Pillow's limit only warns; treat it as the refusal it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Opening reads only the header, so the declared size is checked before any
            # pixel is decoded; a 60000×60000 bomb never allocates its pixels.
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                fmt = probe.format
                _check_dimensions(shown, width, height, limits)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.seek(0)  # first frame only for animations
                image.load()
                exif, has_location = read_exif(image)
    except EvidenceRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(shown) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        log.info("Refused a file the decoder could not read: %s", type(error).__name__)
        raise _corrupt(shown, label) from None
    except Exception as error:  # Pillow's decoders raise a wide variety on hostile input
        log.warning("Refused a file after an unexpected decoder error: %s", type(error).__name__)
        raise _corrupt(shown, label) from None
    if _PIL_FORMATS.get(fmt or "") != expected:
        raise _corrupt(shown, label)
    return InspectedFile(
        content_type=expected,
        size=len(data),
        width=width,
        height=height,
        exif=exif,
        has_location=has_location,
    )


def _too_large(shown: str) -> EvidenceRejected:
    return EvidenceRejected(
        f"{shown} declares a picture far larger than any screenshot or photo, "
        "so it was refused as unsafe to open."
    )


def _check_dimensions(shown: str, width: int, height: int, limits: IntakeLimits) -> None:
    if width <= 0 or height <= 0:
        raise EvidenceRejected(f"{shown} is a picture with no pixels in it.")
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise _too_large(shown)


def read_exif(image: Image.Image) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The EXIF fields worth showing, and whether a GPS location is present."""
    try:
        exif = image.getexif()
    except Exception:  # damaged EXIF must not stop the picture being kept
        log.info("Unreadable EXIF block ignored")
        return (), False
    if not exif:
        return (), False
    shown: list[tuple[str, str]] = []
    by_name = {ExifTags.TAGS.get(tag, str(tag)): value for tag, value in exif.items()}
    try:
        by_name.update(
            {ExifTags.TAGS.get(t, str(t)): v for t, v in exif.get_ifd(ExifTags.IFD.Exif).items()}
        )
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:
        gps = {}
    for name in _SHOWN_EXIF:
        if name in by_name:
            shown.append((name, _exif_text(by_name[name])))
    has_location = bool(gps) and any(
        key in gps for key in (ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLongitude)
    )
    if has_location:
        shown.append(("GPS location", _gps_text(gps)))
    return tuple(shown), has_location


def _exif_text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text[:200]


def _gps_text(gps: dict[int, Any]) -> str:
    def degrees(parts: Any, ref: Any) -> str:
        try:
            d, m, s = (float(p) for p in parts)
            value = d + m / 60 + s / 3600
            return f"{value:.5f}°{_exif_text(ref)}"
        except (TypeError, ValueError, ZeroDivisionError):
            return "?"

    lat = degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef, ""))
    lon = degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef, ""))
    return f"{lat}, {lon}"


# ----- PDF ---------------------------------------------------------------------------


def _inspect_pdf(data: bytes, shown: str, limits: IntakeLimits) -> InspectedFile:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # A PDF cut off in transit loses its trailer; pypdf would try to rebuild it, but a
    # damaged exhibit is better refused than silently repaired.
    if b"%%EOF" not in data[-2048:]:
        raise _corrupt(shown, "PDF document")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise EvidenceRejected(
                    f"{shown} is a password-protected PDF; please save an unprotected copy first."
                )
            pages = len(reader.pages)
            if pages > limits.max_pdf_pages:
                raise EvidenceRejected(
                    f"{shown} has {pages} pages, more than the {limits.max_pdf_pages} "
                    "accepted for one piece of evidence."
                )
            if pages:
                # Reading the first page's size proves the page tree is usable.
                _ = reader.pages[0].mediabox.width
    except EvidenceRejected:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.info("Refused a PDF that could not be read: %s", type(error).__name__)
        raise _corrupt(shown, "PDF document") from None
    except RecursionError:
        raise _corrupt(shown, "PDF document") from None
    if pages == 0:
        raise EvidenceRejected(f"{shown} is a PDF with no pages in it.")
    return InspectedFile(content_type=PDF, size=len(data), page_count=pages)


# ----- text --------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str, str] | None:
    """(text, charset, note) for text evidence, or None when the bytes are not text."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8-sig", "utf-8", "")]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        note = "Read as UTF-16 text (it starts with a byte-order mark)."
        candidates = [("utf-16", "utf-16", note)]
    else:
        candidates = [
            ("utf-8", "utf-8", ""),
            (
                "cp1252",
                "windows-1252",
                "Not valid UTF-8; read as Windows-1252 (Western European) text.",
            ),
        ]
    for codec, charset, note in candidates:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if any(unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROL_OK for ch in text):
            return None
        return text, charset, note
    return None


def _inspect_text(data: bytes, shown: str) -> InspectedFile:
    decoded = decode_text(data)
    if decoded is None:
        raise EvidenceRejected(
            f"{shown} is not a kind of file that can be kept as evidence; "
            f"accepted are {ACCEPTED_KINDS}."
        )
    text, charset, note = decoded
    start = text.lstrip("\ufeff \t\r\n").lower()
    sample = start[:4096]
    if start.startswith(_MARKUP_STARTS) or any(tag in sample for tag in _MARKUP_ANYWHERE):
        raise EvidenceRejected(
            f"{shown} is a web page or SVG drawing, which cannot be kept safely; "
            "please take a screenshot or save it as PDF instead."
        )
    if not text.strip():
        raise EvidenceRejected(f"{shown} contains only blank space, so there is nothing to keep.")
    return InspectedFile(content_type=f"{TEXT}; charset={charset}", size=len(data), text_note=note)


# ----- email messages ------------------------------------------------------------------

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Every Outlook .msg holds streams with these names (UTF-16 in the compound file's folder).
_MSG_STREAMS = ("__properties_version1.0".encode("utf-16-le"), "__substg1.0_".encode("utf-16-le"))
_MAIL_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "received"}
_MAIL_ONLY = {"message-id", "mime-version", "received", "return-path"}


def _message_type(data: bytes) -> str | None:
    """EMAIL or OUTLOOK_MESSAGE when ``data`` is a saved email, else None."""
    if data.startswith(_OLE):
        return OUTLOOK_MESSAGE if all(s in data for s in _MSG_STREAMS) else None
    # An .eml starts with mail headers up to the first blank line; a note that merely
    # begins "From:" has none of the headers only a mail system writes.
    block = data[:16384].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    names: set[str] = set()
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            continue  # a folded header line
        name, colon, _value = line.partition(b":")
        if not colon or not name or not all(33 <= c <= 126 for c in name):
            return None
        names.add(name.decode("ascii").lower())
    if "from" in names and names & _MAIL_ONLY and len(names & _MAIL_HEADERS) >= 3:
        return EMAIL
    return None
