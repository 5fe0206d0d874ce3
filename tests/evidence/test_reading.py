"""Evidence the casebook reads: text in screenshots (real Tesseract), PDF text layers,
emails and Outlook messages with attachments, iPhone photos, names it must protect.

The screenshots are drawn here with a known text (a fake post naming a fictional pupil),
in the bundled Noto Sans font at a size a phone shows, and read by the real OCR engine.
"""

from __future__ import annotations

import io
import os
import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageFont
from sqlalchemy import select, text

from app.db.models import EventRecord, EvidenceRecord
from app.domain.categories import Category
from app.domain.evidence import (
    CHILD_WARNING,
    TEXT_PENDING,
    TEXT_READ,
    CustodyHop,
    EvidenceDetails,
)
from app.domain.people import PersonKind
from app.domain.records import CaseDraft, CaseFilter, CaseSort, PersonDraft
from app.evidence.derivatives import Box
from app.evidence.intake import HEIC
from app.services.casebook import Services

from .conftest import pdf_bytes, png_bytes
from .outlook_file import make_msg

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "resources" / "fonts" / "NotoSans-Regular.ttf"

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract (Debian tesseract-ocr) is not installed"
)

POST = [
    "Dana Whitlow posted",
    "Everyone should know what",
    "Tilly Marchbank did at",
    "Oakfield Primary today.",
    "Shocking behaviour again",
]


def screenshot(lines: list[str] = POST, size: tuple[int, int] = (1080, 2400)) -> tuple[bytes, dict]:
    """A fake post as a phone screenshot, and where each line's words were drawn."""
    font = ImageFont.truetype(str(FONT), 44)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 120), fill=(59, 89, 152))
    drawn = {}
    for index, line in enumerate(lines):
        y = 220 + index * 90
        draw.text((60, y), line, fill="black", font=font)
        x = 60
        for word in line.split():
            box = draw.textbbox((x, y), word, font=font)
            drawn[word] = box
            x = draw.textbbox((x, y), word + " ", font=font)[2]
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue(), drawn


@pytest.fixture
def pupil(services: Services) -> int:
    return services.people.add_person(PersonDraft("Tilly Marchbank", PersonKind.PUPIL)).id


def _search(services: Services, words: str, *, in_evidence: bool = False) -> list[int]:
    rows = services.cases.list_cases(
        CaseFilter(text=words, in_evidence=in_evidence), CaseSort("reference")
    )
    return [r.id for r in rows]


@needs_tesseract
def test_screenshot_is_read_searched_and_names_the_pupil(
    services: Services, case_id: int, pupil: int
) -> None:
    data, drawn = screenshot()
    [added] = services.evidence.add_bytes(case_id, [("post.png", data)])
    assert added.exhibit.text_state == TEXT_PENDING
    # The words are not searchable until read.
    assert _search(services, "shocking") == []
    [read] = services.reading.read_pending(case_id)
    assert read.text_state == TEXT_READ
    words = services.reading.text_of(read.id)
    assert "Everyone should know what" in words and "Oakfield Primary" in words
    # Search finds the words, in the case list and with the "in evidence" filter.
    assert _search(services, "shocking behaviour") == [case_id]
    assert _search(services, "oakfield", in_evidence=True) == [case_id]
    assert _search(services, "Comments", in_evidence=True) == []  # the title is not evidence
    assert _search(services, "Comments") == [case_id]
    # The pupil is flagged on the exhibit and in the case's chronology.
    assert read.may_identify_child
    assert read.protected_names == (("Tilly Marchbank", "pupil"),)
    assert services.reading.child_named_exhibits(case_id) == [read.number]
    with services.ctx.sessions() as session:
        said = session.scalars(
            select(EventRecord.summary).where(EventRecord.kind == "evidence_names_found")
        ).all()
    assert len(said) == 1 and CHILD_WARNING in said[0] and "Tilly Marchbank" in said[0]
    # The suggested box covers the pixels of the name as drawn.
    [name] = [s for s in read.suggestions if s.kind == "name"]
    x, y, w, h = name.box
    left = min(drawn["Tilly"][0], drawn["Marchbank"][0])
    top = min(drawn["Tilly"][1], drawn["Marchbank"][1])
    right = max(drawn["Tilly"][2], drawn["Marchbank"][2])
    bottom = max(drawn["Tilly"][3], drawn["Marchbank"][3])
    assert x <= left and y <= top and x + w >= right and y + h >= bottom
    assert w < (right - left) + 40 and h < (bottom - top) + 40  # over the name, not the line
    assert x + w < drawn["did"][0] + 10  # "did" stays visible
    # Nothing is redacted until the head decides, and her decision is recorded.
    assert services.evidence.redacted_copies(read.id) == []
    decided = services.reading.decide(read.id, name.id, accept=True)
    assert [s.state for s in decided.suggestions if s.id == name.id] == ["accepted"]


@needs_tesseract
def test_a_tall_screenshot_is_read_in_bands(services: Services, case_id: int) -> None:
    # 30 lines are two bands with one edge between them (line 19 starts in the overlap);
    # CI reads 60, four bands and three edges.
    count = 60 if os.environ.get("CI") else 30
    lines = [f"Comment number {n} about the fete" for n in range(count)]
    font = ImageFont.truetype(str(FONT), 40)
    image = Image.new("RGB", (1080, count * 120 + 200), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((40, 100 + index * 120), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    services.evidence.add_bytes(case_id, [("long.png", out.getvalue())])
    [read] = services.reading.read_pending(case_id)
    words = services.reading.text_of(read.id)
    found = [n for n in range(count) if f"Comment number {n} about" in words]
    assert len(found) >= count - count // 20, words  # each line once, across band edges
    assert words.count("Comment number 19 about") == 1  # read whole by the second band
    assert words.count("Comment number 20 about") == 1


def text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with a real text layer: each page's lines in Helvetica 14 pt."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for lines in pages:
        pdf.setFont("Helvetica", 14)
        for index, line in enumerate(lines):
            pdf.drawString(72, 760 - index * 24, line)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def test_pdf_text_layer_is_extracted_and_searched(
    services: Services, case_id: int, pupil: int
) -> None:
    data = text_pdf([["Minutes of the meeting"], ["Tilly Marchbank was mentioned by name"]])
    services.evidence.add_bytes(case_id, [("letter.pdf", data), ("blank.pdf", pdf_bytes(1))])
    read, blank = services.reading.read_pending(case_id)
    assert read.text_state == TEXT_READ
    words = services.reading.text_of(read.id)
    assert "Minutes of the meeting" in words and "mentioned by name" in words
    assert _search(services, "mentioned by", in_evidence=True) == [case_id]
    assert read.may_identify_child
    [name] = read.suggestions
    assert name.page == 1 and 60 < name.box[0] < 80  # on the second page, 1 inch in
    assert services.reading.text_of(blank.id) == ""


def _eml(attachments: list[tuple[str, str, bytes]]) -> bytes:
    message = EmailMessage()
    message["From"] = "Pat Reporter <pat@example.org>"
    message["To"] = "office@oakfield.example"
    message["Subject"] = "Post about Year 4"
    message["Date"] = "Fri, 20 Nov 2026 09:30:00 +0000"
    message["Message-ID"] = "<post-42@example.org>"
    message.set_content("Please see the screenshot of the unpleasant comments below.")
    for name, kind, data in attachments:
        main, sub = kind.split("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return message.as_bytes()


def test_an_email_is_kept_whole_with_its_headers_text_and_attachments(
    services: Services, case_id: int
) -> None:
    program = b"MZ" + b"\x00" * 200
    data = _eml(
        [
            ("shot.png", "image/png", png_bytes(120, 200)),
            ("notes.txt", "text/plain", b"Said at the gate on Monday."),
            ("invoice.exe", "application/octet-stream", program),
        ]
    )
    results = services.evidence.add_bytes(case_id, [("forwarded.eml", data)])
    mail, shot, notes = (r.exhibit for r in results)
    assert services.evidence.content(mail.id) == data  # stored whole, byte for byte
    headers = dict(mail.email_headers)
    assert headers["From"] == "Pat Reporter <pat@example.org>"
    assert headers["To"] == "office@oakfield.example"
    assert headers["Message-ID"] == "<post-42@example.org>"
    assert mail.details.source == "Pat Reporter <pat@example.org>"
    assert mail.details.received_via == "email"
    assert mail.details.captured_at == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    # Each attachment is an exhibit linked to the email, through the same intake.
    assert (shot.parent_id, notes.parent_id) == (mail.id, mail.id)
    assert shot.content_type == "image/png" and shot.text_state == TEXT_PENDING
    assert shot.details.source == mail.details.source
    # The program was refused the same way as if it had been added on its own.
    with services.ctx.sessions() as session:
        refused = session.scalars(
            select(EventRecord.summary).where(EventRecord.kind == "evidence_attachment_refused")
        ).all()
    assert len(refused) == 1 and "invoice.exe is a Windows program" in refused[0]
    # The email's words and the text attachment's are searchable.
    assert _search(services, "unpleasant comments", in_evidence=True) == [case_id]
    assert _search(services, "post-42@example.org") == [case_id]
    assert _search(services, "gate on monday", in_evidence=True) == [case_id]


def test_a_hostile_attachment_alone_is_refused_and_nothing_else_changes(
    services: Services, case_id: int
) -> None:
    bomb = Image.new("1", (1, 1))
    out = io.BytesIO()
    bomb.save(out, "PNG")
    declared = bytearray(out.getvalue())
    declared[16:24] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")
    data = _eml([("bomb.png", "image/png", bytes(declared))])
    results = services.evidence.add_bytes(case_id, [("mail.eml", data)])
    assert len(results) == 1  # the email only
    with services.ctx.sessions() as session:
        count = session.scalar(select(text("count(*)")).select_from(EvidenceRecord))
    assert count == 1


def test_an_outlook_message_is_read_with_its_attachments(services: Services, case_id: int) -> None:
    data = make_msg(
        subject="Screenshot from the class group",
        sender_name="Sam Parent",
        sender_address="sam@example.org",
        to="office@oakfield.example",
        body="Forwarding what was posted last night.",
        sent_at=datetime(2026, 11, 21, 18, 0, tzinfo=UTC),
        message_id="<msg-7@example.org>",
        attachments=[("group.png", png_bytes(300, 5000)), ("extra.txt", b"Second message")],
    )
    results = services.evidence.add_bytes(case_id, [("forwarded.msg", data)])
    mail, picture, note = (r.exhibit for r in results)
    assert mail.content_type == "application/vnd.ms-outlook"
    headers = dict(mail.email_headers)
    assert headers["From"] == "Sam Parent <sam@example.org>"
    assert headers["Message-ID"] == "<msg-7@example.org>"
    assert headers["Date"].startswith("2026-11-21T18:00")
    assert picture.parent_id == mail.id and picture.height == 5000
    assert note.parent_id == mail.id
    assert _search(services, "posted last night", in_evidence=True) == [case_id]


def test_a_damaged_outlook_message_is_kept_and_said_to_be_unread(
    services: Services, case_id: int
) -> None:
    data = make_msg(
        subject="x",
        sender_name="a",
        sender_address="a@example.org",
        to="b",
        body="c",
        sent_at=datetime(2026, 11, 21, tzinfo=UTC),
        message_id="<m@x>",
        attachments=[],
    )
    broken = data[:512] + b"\xff" * 64 + data[576:1536]
    # Kept exactly as it arrived, and the chronology says in one sentence why it is unread.
    [kept] = services.evidence.add_bytes(case_id, [("broken.msg", broken)])
    assert services.evidence.content(kept.exhibit.id) == broken
    with services.ctx.sessions() as session:
        said = session.scalars(
            select(EventRecord.summary).where(EventRecord.kind == "evidence_attachment_refused")
        ).all()
    assert len(said) == 1 and "broken.msg looks like an Outlook message" in said[0]


def _heic(with_gps: bool) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()  # to write one; the app only ever reads them
    image = Image.new("RGB", (400, 300), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    if with_gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(
            {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 30.0)}
        )
    out = io.BytesIO()
    image.save(out, "HEIF", exif=exif.tobytes(), quality=80)
    return out.getvalue()


def test_an_iphone_photo_is_accepted_with_its_exif_and_gps(
    services: Services, case_id: int
) -> None:
    [added] = services.evidence.add_bytes(case_id, [("IMG_0042.HEIC", _heic(True))])
    photo = added.exhibit
    assert photo.content_type == HEIC and (photo.width, photo.height) == (400, 300)
    assert dict(photo.exif)["Model"] == "iPhone 15"
    assert photo.has_location
    assert services.evidence.thumbnail(photo.id)
    # A copy that leaves the app is a JPEG without the location, as for a JPEG photo.
    copy = services.evidence.exported_copy(photo.id, redacted=False)
    with Image.open(io.BytesIO(copy)) as opened:
        assert opened.format == "JPEG"
        assert not opened.getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_capture_details_are_editable_and_each_change_is_in_the_chronology(
    services: Services, case_id: int
) -> None:
    [added] = services.evidence.add_bytes(
        case_id,
        [("shot.png", png_bytes())],
        EvidenceDetails(source="Mrs Parent", received_via="WhatsApp"),
    )
    hops = (
        CustodyHop("Mrs Parent", "Mr Class Teacher", datetime(2026, 11, 20).date(), "WhatsApp"),
        CustodyHop("Mr Class Teacher", "Mrs Head", datetime(2026, 11, 21).date(), "email"),
    )
    changed = services.reading.update_details(
        added.exhibit.id,
        EvidenceDetails(
            source="Mrs Parent",
            received_via="in person",
            post_url="https://social.example/p/1",
            note="Shown on her phone at the gate.",
            custody=hops,
        ),
    )
    assert changed.details.received_via == "in person"
    assert changed.details.custody == hops
    with services.ctx.sessions() as session:
        said = session.scalars(
            select(EventRecord.summary).where(EventRecord.kind == "evidence_details")
        ).all()
    assert any("how it came changed from “WhatsApp” to “in person”" in s for s in said)
    assert any("post address changed" in s for s in said)
    assert any(
        "Forwarded by Mrs Parent to Mr Class Teacher on 20/11/2026 by WhatsApp" in s for s in said
    )
    assert len(said) == 4  # how, address, note, custody


def test_evidence_words_of_a_safeguarding_case_are_sealed_and_not_indexed(
    services: Services,
) -> None:
    case = services.cases.open_case(
        CaseDraft(title="Concern", categories=frozenset({Category.SAFEGUARDING}))
    )
    services.evidence.add_bytes(case.id, [("note.txt", b"Pickup arrangements changed")])
    with services.ctx.sessions() as session:
        indexed = session.execute(text("SELECT count(*) FROM evidence_text")).scalar()
        stored = session.execute(text("SELECT extracted_text FROM evidence")).scalar()
    assert indexed == 0
    assert "Pickup" not in str(stored)
    # A head (who holds the key) still finds it.
    assert _search(services, "pickup", in_evidence=True) == [case.id]


def test_a_pdf_exhibit_is_redacted_with_nothing_left_under_the_box(
    services: Services, case_id: int, pupil: int, tmp_path: Path
) -> None:
    import subprocess

    data = text_pdf(
        [["Cover page, nothing private"], ["Tilly Marchbank was upset", "Signed by the office"]]
    )
    [added] = services.evidence.add_bytes(case_id, [("statement.pdf", data)])
    [read] = services.reading.read_pending(case_id)
    [name] = read.suggestions
    x, y, w, h = name.box
    copy = services.evidence.redact(added.exhibit.id, [Box(x, y, w, h, page=name.page)])
    assert copy.is_pdf and copy.page_count == 2
    redacted = services.evidence.content(copy.id)
    assert services.evidence.content(added.exhibit.id) == data  # the original is kept
    path = tmp_path / "redacted.pdf"
    path.write_bytes(redacted)
    words = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Cover page, nothing private" in words  # a page without boxes keeps its text
    assert "Tilly" not in words and "Marchbank" not in words
    assert "Signed by the office" not in words  # a flattened page has no text at all
    assert b"Marchbank" not in redacted
    subprocess.run(
        ["pdftoppm", "-r", "72", "-f", "2", "-l", "2", "-png", str(path), str(tmp_path / "p")],
        check=True,
    )
    [png] = list(tmp_path.glob("p*.png"))
    with Image.open(png) as page:
        grey = page.convert("L")
        # Every pixel well inside the box is black; the words beside it are still there.
        inside = [
            grey.getpixel((px, py))
            for px in range(x + 2, x + w - 2, 3)
            for py in range(y + 2, y + h - 2, 2)
        ]
        assert max(inside) < 20
        below = grey.crop((72, y + 20, 300, y + 40))
        assert min(below.getdata()) < 100  # "Signed by the office" still shows, as pixels
    # A bundle for the author can now show the redacted PDF instead of withholding it.
    assert copy.redacted_for == "author"


def test_pillow_heif_is_loaded_only_when_an_iphone_photo_arrives(tmp_path: Path) -> None:
    import subprocess
    import sys

    photo = tmp_path / "IMG_1.HEIC"
    photo.write_bytes(_heic(False))
    code = (
        "import sys; from pathlib import Path; "
        "from app.evidence.intake import inspect_bytes; "
        "assert 'pillow_heif' not in sys.modules; "
        f"info = inspect_bytes(Path({str(photo)!r}).read_bytes(), 'IMG_1.HEIC'); "
        "print(info.content_type, info.width, info.height)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [HEIC, "400", "300"]


@needs_tesseract
def test_a_scanned_pdf_without_a_text_layer_is_read_by_ocr(
    services: Services, case_id: int, pupil: int
) -> None:
    data, drawn = screenshot(size=(1240, 1754))  # an A4 page scanned at 150 dpi
    with Image.open(io.BytesIO(data)) as page:
        out = io.BytesIO()
        page.save(out, "PDF", resolution=150)
    services.evidence.add_bytes(case_id, [("scan.pdf", out.getvalue())])
    [read] = services.reading.read_pending(case_id)
    assert "Oakfield Primary" in services.reading.text_of(read.id)
    assert read.reading_note == ""  # one page: nothing left unread to mention
    [name] = [s for s in read.suggestions if s.kind == "name"]
    # The box is in points on the page: the drawn pixels divided by 150/72.
    left = drawn["Tilly"][0] * 72 / 150
    assert name.page == 0 and abs(name.box[0] - left) < 6


@needs_tesseract
def test_a_face_in_a_photo_is_offered_for_redaction(services: Services, case_id: int) -> None:
    photo = (Path(__file__).parent / "fixtures" / "astronaut.jpg").read_bytes()
    services.evidence.add_bytes(case_id, [("photo.jpg", photo)])
    [read] = services.reading.read_pending(case_id)
    [face] = [s for s in read.suggestions if s.kind == "face"]
    x, y, w, h = face.box
    # The face (eyes to chin) sits around (112, 60) in this 256×256 portrait.
    assert x < 100 < 125 < x + w and y < 45 < 80 < y + h
    assert w < 140 and h < 140  # the face, not the whole photo
    assert face.state == "pending" and not read.may_identify_child
    # Nothing is redacted without the head: rejecting it is recorded and hides nothing.
    decided = services.reading.decide(read.id, face.id, accept=False)
    assert [s.state for s in decided.suggestions] == ["rejected"]
    assert services.evidence.redacted_copies(read.id) == []


def test_pictures_and_pdfs_kept_before_reading_existed_are_read_next_time(
    tmp_path: Path,
) -> None:
    from sqlalchemy import create_engine

    from app.db.engine import upgrade_to

    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade_to(engine, "0013_letter_sent")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cases (id, reference, ref_year, ref_number, title, status, "
                "categories, search_text, code_version, created_at, updated_at, "
                "last_activity_at) VALUES (1, 'SM-2026-0001', 2026, 1, 'x', 'new', 'abusive', "
                "'', '1.0', '2026-11-20', '2026-11-20', '2026-11-20')"
            )
        )
        for number, kind in enumerate(("image/png", "application/pdf", "text/plain"), 1):
            connection.execute(
                text(
                    "INSERT INTO evidence (case_id, number, kind, original_name, content_type, "
                    "size, sha256, captured_by, source, post_url, note, metadata_json, "
                    "added_by, added_at) VALUES (1, :n, 'original', 'f', :t, 1, :sha, '', '', "
                    "'', '', '{}', 'head', '2026-11-20')"
                ),
                {"n": number, "t": kind, "sha": f"{number:064x}"},
            )
    upgrade_to(engine, "0018_evidence_text")
    with engine.connect() as connection:
        states = connection.execute(
            text("SELECT content_type, text_state FROM evidence ORDER BY number")
        ).all()
    engine.dispose()
    assert [s for _t, s in states] == [TEXT_PENDING, TEXT_PENDING, ""]
