"""Making a PDF fit to leave the app: nothing in it can run, open, fetch, submit or attach.

Evidence PDFs come from strangers. Before any PDF leaves the app (an exported copy, a case
file, a subject access zip) it goes through ``sanitise_pdf``, which uses qpdf (through
pikepdf) to rewrite the file without:

- JavaScript (document-level name tree, actions, form field scripts);
- automatic actions (the document's OpenAction, document, page and field AA entries);
- Launch, ImportData, SubmitForm, ResetForm, GoToR/GoToE, media and rendition actions;
- embedded and attached files, and portfolios;
- interactive forms (their visible values are kept: fields are flattened into the page);
- every annotation as a live object. Annotations are first drawn into the page (so a
  highlight or a note stays visible), then removed. A web or email link loses its live
  area; its address is printed in small type below it, so the reader sees where it went.

Only objects reachable from the rewritten document are written, so a script left
somewhere unreferenced does not travel either.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from urllib.parse import quote

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream

log = logging.getLogger(__name__)

# Links to these are shown as text; anything else (file:, javascript:, smb:, data:...) is
# dropped without trace.
SHOWN_SCHEMES = ("http://", "https://", "mailto:")
MAX_SHOWN_ADDRESS = 180

_ROOT_ACTIVE = ("/OpenAction", "/AA", "/AcroForm", "/Outlines", "/Collection", "/URI")
_NAMES_ACTIVE = (
    "/JavaScript",
    "/EmbeddedFiles",
    "/AlternatePresentations",
    "/Renditions",
)
ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/SubmitForm",
        "/ResetForm",
        "/GoToR",
        "/GoToE",
        "/Rendition",
        "/Sound",
        "/Movie",
        "/RichMediaExecute",
        "/Hide",
        "/SetOCGState",
        "/Trans",
        "/GoTo3DView",
        "/URI",
        "/Named",
    }
)
_FONT_KEY = "/CasebookLinkFont"


@dataclass(frozen=True)
class _Link:
    page: int
    rect: tuple[float, float, float, float]
    address: str


def sanitise_pdf(data: bytes) -> bytes:
    """The same pages with nothing active left in them (see the module's docstring).

    Raises ``pikepdf.PdfError`` when the bytes are not a PDF qpdf can read.
    """
    with Pdf.open(io.BytesIO(data)) as pdf:
        links = _shown_links(pdf)
        _remove_document_actions(pdf)
        _flatten_and_drop_annotations(pdf)
        for link in links:
            _print_address(pdf, link)
        _neutralise_leftovers(pdf)
        out = io.BytesIO()
        pdf.save(
            out,
            compress_streams=True,
            deterministic_id=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
    return out.getvalue()


def _action_type(action: object) -> str:
    if isinstance(action, Dictionary):
        kind = action.get("/S")
        if isinstance(kind, Name):
            return str(kind)
    return ""


def _shown_links(pdf: Pdf) -> list[_Link]:
    """Web and email links worth printing as text, before their annotations go."""
    found: list[_Link] = []
    for number, page in enumerate(pdf.pages):
        annots = page.obj.get("/Annots")
        if not isinstance(annots, Array):
            continue
        for annot in annots:
            if not isinstance(annot, Dictionary) or annot.get("/Subtype") != Name.Link:
                continue
            action = annot.get("/A")
            if _action_type(action) != "/URI":
                continue
            assert isinstance(action, Dictionary)
            try:
                address = bytes(action.get("/URI", b"")).decode("utf-8", "replace").strip()
                rect = tuple(float(v) for v in annot.get("/Rect", [0, 0, 0, 0]))[:4]
            except (TypeError, ValueError, pikepdf.PdfError):
                continue
            if len(rect) == 4 and address.lower().startswith(SHOWN_SCHEMES):
                found.append(_Link(number, (rect[0], rect[1], rect[2], rect[3]), address))
    return found


def _remove_document_actions(pdf: Pdf) -> None:
    root = pdf.Root
    for key in _ROOT_ACTIVE:
        if key == "/AcroForm":
            continue  # removed after its fields are flattened into the pages
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key in _NAMES_ACTIVE:
            if key in names:
                del names[key]
    if root.get("/PageMode") == Name.UseAttachments:
        root.PageMode = Name.UseNone
    # Metadata can name the author's device and software; none of it travels.
    if "/Metadata" in root:
        del root["/Metadata"]
    for key in list(pdf.docinfo.keys()):
        del pdf.docinfo[key]
    pdf.docinfo["/Producer"] = "Conduct Casebook"


def _flatten_and_drop_annotations(pdf: Pdf) -> None:
    try:
        # Draws each annotation's appearance (form values, highlights, stamps) into the
        # page content, where it is only ink.
        pdf.flatten_annotations(mode="all")
    except pikepdf.PdfError as error:
        log.info("Annotations could not be flattened (%s); they are removed", error)
    for page in pdf.pages:
        for key in ("/Annots", "/AA"):
            if key in page.obj:
                del page.obj[key]
    if "/AcroForm" in pdf.Root:
        del pdf.Root["/AcroForm"]


def _pdf_text(address: str) -> bytes:
    """'[link: address]' as a PDF literal string in plain ASCII (anything else in the
    address is percent-encoded, as a browser would show it)."""
    ascii_text = quote(address, safe="/:?&=#%@+.,;~!$'*[]-_()")
    if len(ascii_text) > MAX_SHOWN_ADDRESS:
        ascii_text = ascii_text[: MAX_SHOWN_ADDRESS - 3] + "..."
    ascii_text = f"[link: {ascii_text}]"
    escaped = ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("ascii") + b")"


def _print_address(pdf: Pdf, link: _Link) -> None:
    page = pdf.pages[link.page]
    resources = page.obj.get("/Resources")
    if not isinstance(resources, Dictionary):
        resources = Dictionary()
        page.obj.Resources = resources
    fonts = resources.get("/Font")
    if not isinstance(fonts, Dictionary):
        fonts = Dictionary()
        resources.Font = fonts
    if _FONT_KEY not in fonts:
        fonts[_FONT_KEY] = pdf.make_indirect(
            Dictionary(
                Type=Name.Font,
                Subtype=Name.Type1,
                BaseFont=Name.Helvetica,
                Encoding=Name.WinAnsiEncoding,
            )
        )
    x0, y0, x1, y1 = link.rect
    left, bottom, top = min(x0, x1), min(y0, y1), max(y0, y1)
    size = 6.0
    y = bottom - size - 1 if bottom - size - 1 > 2 else top + 1
    label = _pdf_text(link.address)
    width = size * 0.5 * (len(label) - 2)
    overlay = (
        b"q 1 1 1 rg "
        + f"{left:.2f} {y - 1.5:.2f} {width:.2f} {size + 2:.2f} re f ".encode()
        + b"0 0 0.55 rg BT "
        + _FONT_KEY.encode()
        + f" {size:.1f} Tf {left:.2f} {y:.2f} Td ".encode()
        + label
        + b" Tj ET Q\n"
    )
    # The page's own drawing is wrapped in q/Q so whatever state it leaves behind (a
    # transformation, a clip) cannot move or hide the address.
    page.contents_add(Stream(pdf, b"q\n"), prepend=True)
    page.contents_add(Stream(pdf, b"\nQ\n" + overlay))


def _neutralise_leftovers(pdf: Pdf) -> None:
    """Clear any action or script still reachable some other way (outline-like trees,
    annotations referenced from odd places, actions chained through /Next)."""
    for obj in pdf.objects:
        if not isinstance(obj, Dictionary):
            continue
        try:
            is_action = _action_type(obj) in ACTIVE_ACTIONS or "/JS" in obj
            is_file = obj.get("/Type") in (Name.EmbeddedFile, Name.Filespec) or "/EF" in obj
        except pikepdf.PdfError:
            continue
        if is_action:
            # An empty dictionary does nothing wherever it is still referenced from.
            for key in list(obj.keys()):
                del obj[key]
        elif is_file:
            for key in ("/EF", "/RF", "/F", "/UF"):
                if key in obj:
                    del obj[key]
        if "/AA" in obj:
            del obj["/AA"]


def active_parts(data: bytes) -> list[str]:
    """What in a PDF could act on its own: used to check a file before it leaves."""
    found: list[str] = []
    with Pdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        for key in ("/OpenAction", "/AA", "/AcroForm"):
            if key in root:
                found.append(key[1:])
        names = root.get("/Names")
        if isinstance(names, Dictionary):
            found += [key[1:] for key in _NAMES_ACTIVE if key in names]
        for number, page in enumerate(pdf.pages, start=1):
            if "/AA" in page.obj:
                found.append(f"page {number} AA")
            annots = page.obj.get("/Annots")
            if isinstance(annots, Array) and len(annots):
                found.append(f"page {number} annotations")
        for obj in pdf.objects:
            if isinstance(obj, (Dictionary, Stream)):
                kind = _action_type(obj)
                if kind in ACTIVE_ACTIONS or "/JS" in obj:
                    found.append(f"action {kind or 'JS'}")
                if obj.get("/Type") == Name.EmbeddedFile:
                    found.append("embedded file")
    return found
