"""Subject access export: the person's own data in, other people's details out."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from pypdf import PdfReader

from app.evidence.derivatives import Box
from app.services.casebook import Services
from app.services.subject_access import SubjectAccessExport
from tests.retention.conftest import OTHER, OTHER_ADDRESS, SUBJECT, Filled


def _export(services: Services, person_id: int) -> SubjectAccessExport:
    request = services.subject_access.record_request(person_id, date(2026, 11, 20), "passport")
    return services.subject_access.respond(request.id)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_export_holds_the_persons_data_and_hides_third_parties(
    services: Services, filled: Filled
) -> None:
    export = _export(services, filled.subject_id)
    text = " ".join(_text(export.pdf).split())
    case = services.cases.get_case(filled.closed_id)
    assert SUBJECT in text
    assert "3 Orchard Close" in text
    assert case.reference in text
    assert "Author of post" in text
    assert "Request for immediate removal" in text
    assert f"Phoned {SUBJECT}; [third party] was present." in text
    assert "Exhibit 1" in text and "Exhibit 2" in text
    exhibits = services.evidence.list_evidence(case.id)
    assert exhibits[0].sha256[:32] in text.replace(" ", "")
    for detail in (OTHER, "Shah", "Priya", OTHER_ADDRESS, "07700", "Sam Lonely"):
        assert detail not in text, detail
    assert "[third party]" in text
    assert "2 other people are linked to this case" in text


def test_zip_holds_the_pdf_letters_and_only_redacted_evidence(
    services: Services, filled: Filled
) -> None:
    # Exhibit 2 was redacted for the author; the subject gets it only once redacted for them.
    second = services.evidence.list_evidence(filled.closed_id)[1]
    services.evidence.redact(second.id, [Box(5, 5, 20, 20)], f"person:{filled.subject_id}")
    export = _export(services, filled.subject_id)
    archive = zipfile.ZipFile(io.BytesIO(export.zip_bytes))
    names = archive.namelist()
    assert names[0].startswith("Subject access - Dana Wells")
    assert names[0].endswith(".pdf")
    letters = [n for n in names if n.startswith("letters/")]
    evidence = [n for n in names if n.startswith("evidence/")]
    assert len(letters) == 1
    assert archive.read(letters[0]).startswith(b"%PDF")
    assert evidence == [
        f"evidence/{services.cases.get_case(filled.closed_id).reference} Exhibit 2 (redacted).png"
    ]
    # The unredacted screenshot never leaves the casebook.
    assert filled.shared_png not in [archive.read(n) for n in names]


def test_person_without_cases_gets_a_short_report(services: Services, filled: Filled) -> None:
    person = services.retention.find_person(OTHER.upper())
    export = _export(services, person.id)
    text = " ".join(_text(export.pdf).split())
    assert "No letters have been sent to this person." in text
    assert SUBJECT not in text


def test_the_response_prints_a_name_in_its_script_with_every_font_embedded(
    services: Services, tmp_path
) -> None:
    import subprocess
    import unicodedata

    from app.domain.people import PersonKind
    from app.domain.records import PersonDraft

    person = services.people.add_person(
        PersonDraft(name="আয়েশা রহমান محمد", kind=PersonKind.PARENT, address_lines=("1 Road",))
    )
    export = _export(services, person.id)
    path = tmp_path / "sar.pdf"
    path.write_bytes(export.pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert {r[0].split("+")[1] for r in rows} >= {
        "NotoSans-Regular",
        "NotoSansBengali-Bold",
        "NotoNaskhArabic-Bold",
    }
    assert all(r[-5] == "yes" for r in rows)  # embedded
    assert len({r[0].split("+")[0] for r in rows}) == len(rows)  # distinct subset tags
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "محمد" in unicodedata.normalize("NFKC", text)
    reader = PdfReader(io.BytesIO(export.pdf))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    # No page ends with a section heading.
    for page in reader.pages:
        lines = [x.strip() for x in (page.extract_text() or "").splitlines() if x.strip()]
        body = [x for x in lines if "Page " not in x and "Subject access response" not in x]
        assert not body or not body[-1].startswith(("Why the school", "Your rights", "Making a"))
