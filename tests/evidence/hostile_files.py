"""Hostile files made on the fly (nothing binary is committed): active PDFs, PDF and text
bombs, animated pictures. Each is a real file a stranger could send."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream, String
from PIL import Image

PAGE_TEXT = "Screenshot of the post"
LINK_TEXT = "Click here"
TRACKER = "https://tracker.example.net/pixel?id=parent-42"
JS_ALERT = "app.alert('page opened');"
JS_LAUNCH = "app.launchURL('https://evil.example.com/steal', true);"


def _font(pdf: Pdf) -> Dictionary:
    return pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )


def _page_pdf(pages: int = 1) -> Pdf:
    pdf = Pdf.new()
    font = _font(pdf)
    for number in range(1, pages + 1):
        content = (
            f"BT /F1 18 Tf 72 760 Td ({PAGE_TEXT} {number}) Tj ET "
            f"BT /F1 12 Tf 72 700 Td ({LINK_TEXT}) Tj ET"
        ).encode()
        page = Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, 595, 842]),
            Resources=Dictionary(Font=Dictionary(F1=font)),
            Contents=Stream(pdf, content),
        )
        pdf.pages.append(pikepdf.Page(page))
    return pdf


def _js(pdf: Pdf, script: str) -> Dictionary:
    return pdf.make_indirect(Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(script)))


def _link(pdf: Pdf, action: Dictionary) -> Dictionary:
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=Array([70, 695, 140, 715]),
            Border=Array([0, 0, 0]),
            A=action,
        )
    )


def _save(pdf: Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _add_annot(pdf: Pdf, annot: Dictionary, page: int = 0) -> None:
    obj = pdf.pages[page].obj
    if "/Annots" not in obj:
        obj.Annots = Array()
    obj.Annots.append(annot)


def page_open_js_pdf() -> bytes:
    pdf = _page_pdf()
    pdf.pages[0].obj.AA = Dictionary(O=_js(pdf, JS_ALERT))
    return _save(pdf)


def open_action_js_pdf() -> bytes:
    pdf = _page_pdf()
    pdf.Root.OpenAction = _js(pdf, JS_ALERT)
    pdf.Root.AA = Dictionary(WC=_js(pdf, JS_ALERT))
    return _save(pdf)


def js_link_pdf() -> bytes:
    pdf = _page_pdf()
    _add_annot(pdf, _link(pdf, _js(pdf, JS_LAUNCH)))
    return _save(pdf)


def tracking_link_pdf() -> bytes:
    pdf = _page_pdf()
    uri = Dictionary(Type=Name.Action, S=Name.URI, URI=String(TRACKER))
    _add_annot(pdf, _link(pdf, uri))
    return _save(pdf)


def file_link_pdf() -> bytes:
    pdf = _page_pdf()
    uri = Dictionary(
        Type=Name.Action, S=Name.URI, URI=String("file:///C:/Windows/System32/calc.exe")
    )
    _add_annot(pdf, _link(pdf, uri))
    return _save(pdf)


def launch_pdf() -> bytes:
    pdf = _page_pdf()
    launch = Dictionary(
        Type=Name.Action,
        S=Name.Launch,
        F=String("cmd.exe"),
        Win=Dictionary(F=String("cmd.exe"), P=String("/c calc")),
    )
    pdf.Root.OpenAction = pdf.make_indirect(launch)
    _add_annot(pdf, _link(pdf, pdf.make_indirect(Dictionary(launch))))
    return _save(pdf)


def embedded_file_pdf() -> bytes:
    pdf = _page_pdf()
    payload = Stream(pdf, b"MZ pretend program")
    payload.Type = Name.EmbeddedFile
    spec = pdf.make_indirect(
        Dictionary(
            Type=Name.Filespec,
            F=String("invoice.exe"),
            UF=String("invoice.exe"),
            EF=Dictionary(F=payload),
        )
    )
    pdf.Root.Names = Dictionary(
        EmbeddedFiles=Dictionary(Names=Array([String("invoice.exe"), spec]))
    )
    pdf.Root.PageMode = Name.UseAttachments
    attachment = Dictionary(
        Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([300, 700, 320, 720]), FS=spec
    )
    _add_annot(pdf, pdf.make_indirect(attachment))
    return _save(pdf)


FORM_VALUE = "Filled in by sender"


def form_js_pdf() -> bytes:
    pdf = _page_pdf()
    font = pdf.pages[0].obj.Resources.Font.F1
    appearance = Stream(pdf, f"BT /F1 10 Tf 2 5 Td ({FORM_VALUE}) Tj ET".encode())
    appearance.Type = Name.XObject
    appearance.Subtype = Name.Form
    appearance.BBox = Array([0, 0, 200, 20])
    appearance.Resources = Dictionary(Font=Dictionary(F1=font))
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("name"),
            V=String(FORM_VALUE),
            Rect=Array([72, 600, 272, 620]),
            AP=Dictionary(N=appearance),
            AA=Dictionary(K=_js(pdf, JS_LAUNCH), F=_js(pdf, JS_ALERT)),
            P=pdf.pages[0].obj,
        )
    )
    _add_annot(pdf, field)
    pdf.Root.AcroForm = Dictionary(
        Fields=Array([field]),
        DA=String("/Helv 0 Tf 0 g"),
        XFA=Stream(pdf, b"<xdp:xdp><script>app.alert(1)</script></xdp:xdp>"),
    )
    return _save(pdf)


def names_js_pdf() -> bytes:
    pdf = _page_pdf()
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), _js(pdf, JS_ALERT)]))
    )
    return _save(pdf)


def outline_js_pdf() -> bytes:
    pdf = _page_pdf()
    item = pdf.make_indirect(Dictionary(Title=String("Open me"), A=_js(pdf, JS_LAUNCH)))
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, First=item, Last=item, Count=1))
    item.Parent = outlines
    pdf.Root.Outlines = outlines
    return _save(pdf)


def everything_active_pdf() -> bytes:
    """Page-open JavaScript, a JavaScript link and a tracking link, as found in the report."""
    pdf = _page_pdf(2)
    pdf.pages[0].obj.AA = Dictionary(O=_js(pdf, JS_ALERT))
    _add_annot(pdf, _link(pdf, _js(pdf, JS_LAUNCH)))
    uri = Dictionary(Type=Name.Action, S=Name.URI, URI=String(TRACKER))
    tracking = _link(pdf, uri)
    tracking.Rect = Array([70, 660, 200, 680])
    _add_annot(pdf, tracking)
    pdf.Root.OpenAction = _js(pdf, JS_ALERT)
    return _save(pdf)


ACTIVE_PDFS = {
    "page_open_js": page_open_js_pdf,
    "open_action_js": open_action_js_pdf,
    "js_link": js_link_pdf,
    "tracking_link": tracking_link_pdf,
    "file_link": file_link_pdf,
    "launch": launch_pdf,
    "embedded_file": embedded_file_pdf,
    "form_js": form_js_pdf,
    "names_js": names_js_pdf,
    "outline_js": outline_js_pdf,
    "everything": everything_active_pdf,
}


# ----- things that cost later ----------------------------------------------------------


def _flate_of_spaces(megabytes: int) -> bytes:
    """A valid zlib stream of ``megabytes`` MB of spaces, made in milliseconds: after a
    full flush each further megabyte compresses to the same bytes, so they are repeated."""
    chunk = b" " * (1024 * 1024)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflater.compress(chunk) + deflater.flush(zlib.Z_FULL_FLUSH)
    again = deflater.compress(chunk) + deflater.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(megabytes):
        checksum = zlib.adler32(chunk, checksum)
    body = first + again * (megabytes - 1) + deflater.flush()
    return b"\x78\xda" + body + struct.pack(">I", checksum)


def inflating_pdf(inflated_mb: int = 1024, side: int = 4000) -> bytes:
    """A small file holding one grey picture of side x side pixels whose data inflates to
    ``inflated_mb`` MB (far more than the picture needs when ``inflated_mb`` is large)."""
    pdf = _page_pdf()
    image = Stream(pdf, _flate_of_spaces(inflated_mb))
    image.Filter = Name.FlateDecode
    image.Type = Name.XObject
    image.Subtype = Name.Image
    image.Width = side
    image.Height = side
    image.ColorSpace = Name.DeviceGray
    image.BitsPerComponent = 8
    page = pdf.pages[0].obj
    page.Resources.XObject = Dictionary(Im0=image)
    page.Contents = Array([page.Contents, Stream(pdf, b"q 400 0 0 400 100 100 cm /Im0 Do Q")])
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def many_pages_pdf(pages: int) -> bytes:
    pdf = Pdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    return _save(pdf)


def huge_page_pdf(side: float = 14_400) -> bytes:
    pdf = Pdf.new()
    page = Dictionary(Type=Name.Page, MediaBox=Array([0, 0, side, side]))
    pdf.pages.append(pikepdf.Page(page))
    return _save(pdf)


def many_images_pdf(count: int = 400, side: int = 2000) -> bytes:
    """Many large pictures that compress to almost nothing (each a 2000x2000 grey square)."""
    pdf = _page_pdf()
    pixels = zlib.compress(b"\x80" * (side * side), 9)
    resources = pdf.pages[0].obj.Resources
    resources.XObject = Dictionary()
    content = []
    for n in range(count):
        image = Stream(pdf, pixels)
        image.Type = Name.XObject
        image.Subtype = Name.Image
        image.Width = side
        image.Height = side
        image.ColorSpace = Name.DeviceGray
        image.BitsPerComponent = 8
        image.Filter = Name.FlateDecode
        resources.XObject[f"/Im{n}"] = image
        content.append(f"q 100 0 0 100 {n % 5 * 100} {n // 5 % 7 * 100} cm /Im{n} Do Q")
    page = pdf.pages[0].obj
    page.Contents = Array([page.Contents, Stream(pdf, " ".join(content).encode())])
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def one_line_text(size: int) -> bytes:
    return (b"word " * (size // 5 + 1))[:size]


def animated_gif(frames: int = 300, side: int = 400) -> bytes:
    """An animated GIF whose every frame differs (one palette, a different colour each).

    Written block by block around frames that Pillow's LZW encoder compresses: Pillow's own
    animated writer compared each frame with the last and took over a second for 300
    frames; the frames decode to the same pixels as the ones it wrote.
    """
    palette = bytes(value for n in range(256) for value in (n, 255 - n, 90))
    size = struct.pack("<HH", side, side)
    # Header, screen with a 256-colour global palette, then loop forever.
    blocks = [b"GIF89a", size, b"\xf7\x00\x00", palette]
    blocks.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")
    compressed: dict[int, bytes] = {}
    for n in range(frames):
        colour = n % 256
        if colour not in compressed:
            compressed[colour] = Image.new("P", (side, side), colour).tobytes("gif", "P")
        blocks.append(b"\x21\xf9\x04\x00\x04\x00\x00\x00")  # shown for 40 ms
        blocks += [b"\x2c\x00\x00\x00\x00", size, b"\x00"]  # the whole screen
        blocks += [b"\x08", compressed[colour], b"\x00"]  # 8-bit codes, data, end
    blocks.append(b"\x3b")
    return b"".join(blocks)


def many_jpegs_pdf(count: int, side: int = 2000) -> bytes:
    """``count`` JPEG pictures of side x side on one page (small files, many pixels)."""
    pdf = _page_pdf()
    out = io.BytesIO()
    Image.new("RGB", (side, side), "teal").save(out, "JPEG", quality=30)
    jpeg = out.getvalue()
    resources = pdf.pages[0].obj.Resources
    resources.XObject = Dictionary()
    content = []
    for n in range(count):
        image = Stream(pdf, jpeg)
        image.Type = Name.XObject
        image.Subtype = Name.Image
        image.Width = side
        image.Height = side
        image.ColorSpace = Name.DeviceRGB
        image.BitsPerComponent = 8
        image.Filter = Name.DCTDecode
        resources.XObject[f"/Im{n}"] = image
        content.append(f"q 80 0 0 80 {n % 7 * 80} {n // 7 % 9 * 80} cm /Im{n} Do Q")
    page = pdf.pages[0].obj
    page.Contents = Array([page.Contents, Stream(pdf, " ".join(content).encode())])
    return _save(pdf)


def drawing_pdf(kilobytes: int) -> bytes:
    """One page whose drawing is ``kilobytes`` KB of line strokes across the page, the
    slowest kind of drawing to show (compressed, so the file itself is small)."""
    pdf = _page_pdf()
    ops = b"".join(
        f"{n % 500} {n % 700} m {(n * 7) % 500} {(n * 3) % 700} l S\n".encode()
        for n in range(20000)
    )
    body = (ops * (kilobytes * 1024 // len(ops) + 1))[: kilobytes * 1024]
    body = body[: body.rfind(b"\n") + 1]
    stream = Stream(pdf, body)
    page = pdf.pages[0].obj
    page.Contents = Array([page.Contents, stream])
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


def lines_of_text(size: int, line: int) -> bytes:
    """``size`` bytes of chat-like text in lines of ``line`` characters."""
    row = (("Message from a parent about the school trip " * (line // 40 + 1))[: line - 1]) + "\n"
    return (row * (size // len(row) + 1))[:size].encode()


def corpus() -> dict[str, tuple[str, Callable[[], bytes], bool]]:
    """Files beyond the refused set: id -> (file name, maker, accepted?)."""
    from app.evidence.intake import (
        MAX_PDF_INFLATED,
        MAX_PDF_PAGE_DRAWING,
        MAX_PDF_PAGES,
        MAX_TEXT_BYTES,
        MAX_TEXT_LINE,
    )

    mb = 1024 * 1024
    items: dict[str, tuple[str, Callable[[], bytes], bool]] = {
        f"active_{kind}": (f"{kind}.pdf", make, True) for kind, make in ACTIVE_PDFS.items()
    }
    items.update(
        {
            "pdf_inflating_to_1gb": ("small.pdf", lambda: inflating_pdf(1024), False),
            "pdf_inflating_just_under": (
                "spaces.pdf",
                # A 7,900 x 7,900 grey picture: 62 MB once inflated.
                lambda: inflating_pdf(MAX_PDF_INFLATED // mb - 2, 7_900),
                True,
            ),
            "pdf_8mb_of_drawing": ("drawing.pdf", lambda: drawing_pdf(8 * 1024), False),
            "pdf_most_drawing": (
                "chart.pdf",
                lambda: drawing_pdf(MAX_PDF_PAGE_DRAWING // 1024 - 16),
                True,
            ),
            "pdf_max_pages": ("book.pdf", lambda: many_pages_pdf(MAX_PDF_PAGES), True),
            "pdf_too_many_pages": ("longer.pdf", lambda: many_pages_pdf(MAX_PDF_PAGES + 1), False),
            "pdf_largest_page": ("poster.pdf", lambda: huge_page_pdf(14_400), True),
            "pdf_page_too_large": ("banner.pdf", lambda: huge_page_pdf(20_000), False),
            "pdf_24_large_jpegs": ("photos.pdf", lambda: many_jpegs_pdf(24), True),
            "pdf_30_large_jpegs": ("more-photos.pdf", lambda: many_jpegs_pdf(30), False),
            "pdf_400_flate_pictures": ("grey.pdf", lambda: many_images_pdf(400), False),
            "text_10mb_one_line": ("dump.txt", lambda: one_line_text(10 * mb), False),
            "text_1mb_one_line": ("chat.txt", lambda: one_line_text(mb), False),
            "text_line_too_long": ("line.txt", lambda: one_line_text(MAX_TEXT_LINE + 1), False),
            "text_largest_lines": (
                "wide.txt",
                lambda: lines_of_text(MAX_TEXT_BYTES, MAX_TEXT_LINE),
                True,
            ),
            "text_largest_chat": (
                "chat-export.txt",
                lambda: lines_of_text(MAX_TEXT_BYTES, 80),
                True,
            ),
            "text_too_large": ("bigger.txt", lambda: lines_of_text(MAX_TEXT_BYTES + 1, 80), False),
            "gif_300_frames": ("animated.gif", lambda: animated_gif(300, 400), True),
            "gif_large_animated": ("big-animated.gif", lambda: animated_gif(3, 2500), True),
        }
    )
    return items
