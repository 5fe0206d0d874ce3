"""Nothing active leaves the app: crafted PDFs with scripts, actions, attachments and links
are accepted as evidence, and every PDF that leaves (exported copy, case file, subject
access zip) is read back to prove none of it travelled."""

from __future__ import annotations

import io
import subprocess
import zipfile

import pikepdf
import pytest
from pikepdf import Dictionary, Name

from app.domain.dates import london_today
from app.domain.people import CaseRole, PersonKind
from app.domain.records import PersonDraft
from app.pdf.sanitise import sanitise_pdf
from app.services.casebook import Services

from .hostile_files import (
    ACTIVE_PDFS,
    FORM_VALUE,
    LINK_TEXT,
    PAGE_TEXT,
    TRACKER,
    everything_active_pdf,
)

_ACTIVE = {
    "/JavaScript",
    "/Launch",
    "/ImportData",
    "/SubmitForm",
    "/ResetForm",
    "/GoToR",
    "/GoToE",
    "/Rendition",
    "/URI",
}
_SCRIPT_WORDS = (b"app.alert", b"launchURL", b"cmd.exe", b"MZ pretend", b"calc")


def what_is_active(data: bytes) -> list[str]:
    """Everything in the file that could act, found by reading every object qpdf sees."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        found += [k for k in ("/OpenAction", "/AA", "/AcroForm") if k in root]
        names = root.get("/Names")
        if isinstance(names, Dictionary):
            found += [k for k in ("/JavaScript", "/EmbeddedFiles") if k in names]
        for page in pdf.pages:
            found += [k for k in ("/AA", "/Annots") if k in page.obj]
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                if obj.get("/Type") == Name.EmbeddedFile:
                    found.append("embedded file")
                try:
                    decoded = obj.read_bytes()
                except pikepdf.PdfError:
                    decoded = obj.read_raw_bytes()
                found += [w.decode() for w in _SCRIPT_WORDS if w in decoded]
            elif isinstance(obj, Dictionary):
                if obj.get("/S") in {Name(n) for n in _ACTIVE}:
                    found.append(f"action {obj.get('/S')}")
                found += [k for k in ("/JS", "/AA", "/EF") if k in obj]
    return found


def text_of(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")


@pytest.mark.parametrize("kind", sorted(ACTIVE_PDFS))
def test_each_crafted_pdf_is_really_active_before_and_inert_after(kind: str) -> None:
    data = ACTIVE_PDFS[kind]()
    assert what_is_active(data), f"the crafted {kind} file has nothing active in it"
    clean = sanitise_pdf(data)
    assert what_is_active(clean) == []
    text = text_of(clean)
    assert PAGE_TEXT in text and LINK_TEXT in text
    if kind == "form_js":
        assert FORM_VALUE in text  # the form's visible value is kept as ink
    if kind in ("tracking_link", "everything"):
        assert f"[link: {TRACKER}]" in text
    assert "file:" not in text and "C:/Windows" not in text


@pytest.mark.parametrize("kind", sorted(ACTIVE_PDFS))
def test_exported_copy_is_inert(services: Services, case_id: int, kind: str) -> None:
    (added,) = services.evidence.add_bytes(case_id, [(f"{kind}.pdf", ACTIVE_PDFS[kind]())])
    exported = services.evidence.exported_copy(added.exhibit.id, redacted=False)
    assert what_is_active(exported) == []
    assert PAGE_TEXT in text_of(exported)
    # The original is kept exactly as received, for the record.
    assert what_is_active(services.evidence.content(added.exhibit.id))


def _case_with_every_active_pdf(services: Services, case_id: int) -> None:
    files = [(f"{kind}.pdf", make()) for kind, make in sorted(ACTIVE_PDFS.items())]
    services.evidence.add_bytes(case_id, files)


@pytest.mark.parametrize("for_sharing", [False, True])
def test_case_file_carries_no_script_link_or_attachment(
    services: Services, case_id: int, for_sharing: bool
) -> None:
    _case_with_every_active_pdf(services, case_id)
    pdf = services.reports.case_file(case_id, for_sharing=for_sharing)
    assert what_is_active(pdf) == []
    text = text_of(pdf)
    if not for_sharing:
        assert PAGE_TEXT in text and FORM_VALUE in text
        assert f"[link: {TRACKER}]" in text


def test_subject_access_zip_carries_nothing_active(services: Services, case_id: int) -> None:
    person = services.people.add_person(PersonDraft(name="Alex Sender", kind=PersonKind.PARENT))
    services.cases.link_person(case_id, person.id, CaseRole.AUTHOR)
    services.evidence.add_bytes(case_id, [("active.pdf", everything_active_pdf())])
    request = services.subject_access.record_request(person.id, london_today(services.ctx.now()))
    export = services.subject_access.respond(request.id)
    with zipfile.ZipFile(io.BytesIO(export.zip_bytes)) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        assert pdfs
        for name in pdfs:
            assert what_is_active(archive.read(name)) == [], name
