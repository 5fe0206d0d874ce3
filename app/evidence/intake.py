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
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from app.domain.errors import EvidenceRejected
from app.domain.validation import JOINERS, hidden_characters, joiner_belongs, show_hidden

log = logging.getLogger(__name__)

# 12-megapixel photos and 1280×24000 full-page screenshots are normal; a picture many
# times larger is either a mistake or a decompression bomb.
MAX_PIXELS = 80_000_000
MAX_SIDE = 40_000
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_NAME_CHARS = 120

# What intake accepts, every later step (the viewer, the case file, a subject access
# export) must handle within a few seconds, so a file is measured for what it will cost
# later, not only for its size on disk. The figures are what the hostile-file tests time:
# the worst file these limits accept is viewed and exported in well under 5 seconds.
MAX_PDF_PAGES = 500  # a 500-page PDF is a book; screenshots and letters are a few pages
MAX_PDF_PAGE_SIDE = 14_400  # points: 5 m, the largest page the PDF standard describes
MAX_PDF_INFLATED = 64 * 1024 * 1024  # bytes all compressed streams inflate to, together
MAX_PDF_PICTURE_PIXELS = 100_000_000  # pixels of all pictures in one PDF, together
# Bytes of drawing instructions one page may hold (its content and the forms it uses):
# a quarter of a megabyte of dense line drawing takes the viewer about two seconds.
MAX_PDF_PAGE_DRAWING = 256 * 1024
MAX_TEXT_BYTES = 512 * 1024  # a long chat export; larger text is better saved as PDF
MAX_TEXT_LINE = 10_000  # characters on one line

# Pillow checks the same limit itself whenever anything opens a picture.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow keeps big pictures in blocks of rows. At its default 16 MB a block falls below
# glibc's mmap threshold, so blocks freed on a worker thread stayed in that thread's heap:
# viewing one 1280x24000 screenshot held over 800 MB. 64 MB blocks are mapped and unmapped
# whole, and the memory goes back to the system when the picture is dropped.
Image.core.set_block_size(64 * 1024 * 1024)
ImageFile.LOAD_TRUNCATED_IMAGES = False
# The ISO media "brands" of a still HEIC/HEIF photo; other brands (videos, image
# sequences, AVIF) are still refused.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heif", b"mif1"})


def _heif_accept(prefix: bytes) -> bool:
    return prefix[4:8] == b"ftyp" and prefix[8:12] in _HEIF_BRANDS


def _heif_open(fp: Any, filename: Any) -> ImageFile.ImageFile:
    """Open an iPhone photo, loading pillow-heif only when one is first met (it takes
    longer to import than the rest of intake, and most casebook commands never need it)."""
    import pillow_heif
    from pillow_heif.as_plugin import HeifImageFile

    pillow_heif.register_heif_opener(thumbnails=False)  # replaces this stand-in
    return HeifImageFile(fp, filename)


# iPhone photos (HEIC/HEIF) open through Pillow like any other picture; thumbnails, the
# viewer and stripped copies then handle them as they handle JPEG.
Image.register_open("HEIF", _heif_open, _heif_accept)

ACCEPTED_KINDS = (
    "PNG, JPEG, WebP, GIF or HEIC pictures, PDF documents, emails (.eml, .msg) and plain text"
)

PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
GIF = "image/gif"
HEIC = "image/heic"
PDF = "application/pdf"
TEXT = "text/plain"
EMAIL = "message/rfc822"
OUTLOOK_MESSAGE = "application/vnd.ms-outlook"

IMAGE_TYPES = frozenset({PNG, JPEG, WEBP, GIF, HEIC})

TYPE_LABELS = {
    PNG: "PNG picture",
    JPEG: "JPEG photo",
    WEBP: "WebP picture",
    GIF: "GIF picture",
    HEIC: "HEIC photo (iPhone)",
    PDF: "PDF document",
    TEXT: "text",
    EMAIL: "email message (.eml)",
    OUTLOOK_MESSAGE: "Outlook message (.msg)",
}
# Kept exactly as they arrived and listed with their hash, never opened or shown as mail.
MESSAGE_TYPES = frozenset({EMAIL, OUTLOOK_MESSAGE})

_PIL_FORMATS = {"PNG": PNG, "JPEG": JPEG, "WEBP": WEBP, "GIF": GIF, "HEIF": HEIC}

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
    max_pdf_inflated: int = MAX_PDF_INFLATED
    max_text_bytes: int = MAX_TEXT_BYTES


def display_name(name: str) -> str:
    """A file name made safe to show and store as text: no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Joiners that belong in a name (see app.domain.validation) are kept as typed.
    cleaned = "".join(
        ch
        if unicodedata.category(ch)[0] != "C" or (ch in JOINERS and joiner_belongs(base, i))
        else "\N{REPLACEMENT CHARACTER}"
        for i, ch in enumerate(base)
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


def inspect_bytes(
    data: bytes,
    name: str,
    limits: IntakeLimits | None = None,
    decoded: Callable[[Image.Image], None] | None = None,
) -> InspectedFile:
    """Decide what ``data`` is from its content; raise ``EvidenceRejected`` when refused.

    A picture is decoded whole to check it; ``decoded`` (when given) is then handed that
    decoded first frame, once the picture has passed every check, so a caller can make
    its thumbnail without decoding it again.
    """
    limits = limits or IntakeLimits()
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    hidden = hidden_characters(base)
    if hidden:
        raise EvidenceRejected(
            f"{display_name(show_hidden(base))} has invisible characters in its name "
            f"({', '.join(hidden)}) that change how it is shown; please rename the file and "
            "add it again."
        )
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
        if head[8:12] in _HEIF_BRANDS:
            return _inspect_image(data, shown, HEIC, limits, decoded)
        raise EvidenceRejected(
            f"{shown} is a video or a moving picture, which is not accepted; "
            "please take a screenshot of it or save it as JPEG or PNG first."
        )
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _inspect_image(data, shown, PNG, limits, decoded)
    if head.startswith(b"\xff\xd8\xff"):
        return _inspect_image(data, shown, JPEG, limits, decoded)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _inspect_image(data, shown, WEBP, limits, decoded)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _inspect_image(data, shown, GIF, limits, decoded)
    if head.lstrip(b"\x00\t\n\r ")[:5] == b"%PDF-":
        return _inspect_pdf(data, shown, limits)
    return _inspect_text(data, shown, limits)


# ----- pictures ------------------------------------------------------------------------


def _corrupt(shown: str, what: str) -> EvidenceRejected:
    return EvidenceRejected(
        f"{shown} looks like a {what} but it is damaged or incomplete, so it cannot be opened."
    )


def _inspect_image(
    data: bytes,
    shown: str,
    expected: str,
    limits: IntakeLimits,
    decoded: Callable[[Image.Image], None] | None = None,
) -> InspectedFile:
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
    if decoded is not None:
        decoded(image)
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
    _measure_pdf(data, shown, limits)
    return InspectedFile(content_type=PDF, size=len(data), page_count=pages)


# Filters that only make data smaller or a little larger, with their worst growth.
_GROWTH = {"/ASCIIHexDecode": 1, "/ASCII85Decode": 1, "/RunLengthDecode": 64, "/LZWDecode": 2730}
_PICTURE_CODECS = frozenset({"/DCTDecode", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode"})


def _too_costly(shown: str, what: str) -> EvidenceRejected:
    return EvidenceRejected(
        f"{shown} is a PDF that {what}, more than can be shown or printed safely; "
        "please print it to a new PDF and add that instead."
    )


def _inflated_size(raw: bytes, budget: int) -> int:
    """How many bytes a Flate stream inflates to, stopping once it passes ``budget``."""
    inflater = zlib.decompressobj()
    total = 0
    pending = raw
    while pending and total <= budget:
        chunk = inflater.decompress(pending, 1024 * 1024)
        total += len(chunk)
        pending = inflater.unconsumed_tail
        if not chunk and not pending:
            break
    if total <= budget and not inflater.eof:
        total += len(inflater.flush())
    return total


def _measure_pdf(data: bytes, shown: str, limits: IntakeLimits) -> None:
    """Refuse a PDF whose pages or streams would cost far more to show than their bytes.

    Every stream is inflated to count its size, never kept, and the count stops as soon
    as the budget is passed, so a 1 MB file that inflates to 1 GB costs a fraction of a
    second to refuse.
    """
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                box = [float(v) for v in page.mediabox]
                width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
                if width > MAX_PDF_PAGE_SIDE or height > MAX_PDF_PAGE_SIDE:
                    raise _too_costly(shown, "has a page more than 5 metres on a side")
                if width < 1 or height < 1:
                    raise _corrupt(shown, "PDF document")
                if _drawing_cost(page) > MAX_PDF_PAGE_DRAWING:
                    raise _too_costly(
                        shown,
                        f"has a page with more than {format_size(MAX_PDF_PAGE_DRAWING)} "
                        "of drawing instructions",
                    )
            inflated = 0
            pixels = 0
            for obj in pdf.objects:
                if not isinstance(obj, pikepdf.Stream):
                    continue
                inflated += _stream_cost(obj, limits.max_pdf_inflated - inflated)
                if inflated > limits.max_pdf_inflated:
                    raise _too_costly(
                        shown,
                        f"unpacks to more than {format_size(limits.max_pdf_inflated)}",
                    )
                if obj.get("/Subtype") == pikepdf.Name.Image:
                    w, h = int(obj.get("/Width", 0)), int(obj.get("/Height", 0))
                    if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
                        raise _too_costly(shown, "holds a picture far larger than any photo")
                    pixels += w * h
                    if pixels > MAX_PDF_PICTURE_PIXELS:
                        raise _too_costly(shown, "holds more picture than hundreds of photos")
    except EvidenceRejected:
        raise
    except (pikepdf.PdfError, ValueError, TypeError, OverflowError, zlib.error) as error:
        log.info("Refused a PDF that could not be measured: %s", type(error).__name__)
        raise _corrupt(shown, "PDF document") from None


def _drawing_cost(page: Any) -> int:
    """Bytes of drawing instructions on one page: its content streams and form XObjects."""
    import pikepdf

    contents = page.obj.get("/Contents")
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    resources = page.obj.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if isinstance(xobjects, pikepdf.Dictionary):
        streams += [
            x
            for x in xobjects.values()
            if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == pikepdf.Name.Form
        ]
    total = 0
    for stream in streams:
        if isinstance(stream, pikepdf.Stream):
            total += _stream_cost(stream, MAX_PDF_PAGE_DRAWING - total)
            if total > MAX_PDF_PAGE_DRAWING:
                break
    return total


def _stream_cost(stream: Any, budget: int) -> int:
    """Bytes the stream becomes once its general filters are undone (up to past ``budget``)."""
    import pikepdf

    filters = stream.get("/Filter")
    names = (
        [str(f) for f in filters]
        if isinstance(filters, pikepdf.Array)
        else ([str(filters)] if filters is not None else [])
    )
    raw = stream.read_raw_bytes()
    general = [n for n in names if n not in _PICTURE_CODECS]
    if not general:
        return len(raw)
    if general == ["/FlateDecode"] and names[0] == "/FlateDecode":
        return _inflated_size(raw, budget)
    worst = len(raw)
    for name in general:
        worst *= _GROWTH.get(name, 1100 if name == "/FlateDecode" else 1)
    if worst > budget:
        # Decoding a chain (ASCII85 then Flate, or LZW) to measure it could itself cost
        # what is being guarded against, so its worst case is what counts.
        return worst
    try:
        return len(stream.read_bytes(pikepdf.StreamDecodeLevel.generalized))
    except pikepdf.PdfError:
        return len(raw)


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


def _inspect_text(data: bytes, shown: str, limits: IntakeLimits) -> InspectedFile:
    if len(data) > limits.max_text_bytes:
        raise EvidenceRejected(
            f"{shown} holds more text than the {format_size(limits.max_text_bytes)} accepted "
            "as one text exhibit; please save it as PDF or add it in parts."
        )
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
    longest = max(len(line) for line in text.splitlines())
    if longest > MAX_TEXT_LINE:
        raise EvidenceRejected(
            f"{shown} has a line of {longest:,} characters, longer than the "
            f"{MAX_TEXT_LINE:,} accepted in text evidence; please save it as PDF instead."
        )
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
