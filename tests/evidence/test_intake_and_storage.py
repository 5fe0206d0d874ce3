"""Evidence intake and storage through the real service, database and blob store."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from app.db.models import EventRecord, EvidenceRecord
from app.domain.errors import EvidenceRejected, OperationCancelled
from app.domain.evidence import EvidenceDetails, EvidenceKind
from app.evidence.derivatives import Box
from app.evidence.intake import inspect_bytes
from app.services.casebook import Services, open_casebook

from .conftest import hostile_files, jpeg_with_gps, pdf_bytes, png_bytes

HOSTILE = hostile_files()


def _rows(services: Services) -> int:
    with services.ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(EvidenceRecord)) or 0


def _store_files(services: Services) -> list[Path]:
    return sorted(p for p in services.paths.blobs.rglob("*") if p.is_file())


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_file_is_refused_quickly_and_leaves_nothing(
    services: Services, case_id: int, tmp_path: Path, kind: str
) -> None:
    name, data = HOSTILE[kind]
    path = tmp_path / "offered" / name
    path.parent.mkdir()
    path.write_bytes(data)
    started = time.process_time()
    with pytest.raises(EvidenceRejected) as caught:
        services.evidence.add_files(case_id, [path])
    elapsed = time.process_time() - started
    assert elapsed < 2.0, f"{kind} took {elapsed:.2f}s"
    message = caught.value.message
    assert name in message and "\n" not in message and message.endswith(".")
    assert _rows(services) == 0
    assert _store_files(services) == []


def test_bomb_is_refused_from_the_header_without_decoding() -> None:
    _name, data = HOSTILE["bomb_png"]
    started = time.process_time()
    with pytest.raises(EvidenceRejected, match="far larger"):
        inspect_bytes(data, "small.png")
    assert time.process_time() - started < 0.5


def test_file_over_the_size_limit_is_refused(services: Services, case_id: int) -> None:
    services.evidence.set_max_file_size(2048)
    with pytest.raises(EvidenceRejected, match="larger than the limit of 2 KB"):
        services.evidence.add_bytes(
            case_id, [("big.png", png_bytes(600, 600, "white") + b"x" * 3000)]
        )
    assert _rows(services) == 0


@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [
        ("shot.txt", lambda: png_bytes(), "image/png"),  # type by content, not by name
        ("photo.jpg", jpeg_with_gps, "image/jpeg"),
        ("doc.pdf", lambda: pdf_bytes(3), "application/pdf"),
        ("note.txt", lambda: "Café — naïve".encode(), "text/plain; charset=utf-8"),
        ("old.txt", lambda: "Café in Windows".encode("cp1252"), "text/plain; charset=windows-1252"),
        ("wide.txt", lambda: "Hello".encode("utf-16"), "text/plain; charset=utf-16"),
    ],
)
def test_accepted_kinds_are_recognised_by_content(
    services: Services, case_id: int, name: str, make: object, content_type: str
) -> None:
    (result,) = services.evidence.add_bytes(case_id, [(name, make())])  # type: ignore[operator]
    assert result.exhibit.content_type == content_type
    if content_type == "application/pdf":
        assert result.exhibit.page_count == 3
    if "windows-1252" in content_type:
        assert "Windows-1252" in result.exhibit.text_note


def test_webp_and_animated_gif_first_frame(services: Services, case_id: int) -> None:
    webp = io.BytesIO()
    Image.new("RGB", (30, 20), "green").save(webp, "WEBP")
    gif = io.BytesIO()
    frames = [Image.new("P", (40, 10), i) for i in range(3)]
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    results = services.evidence.add_bytes(
        case_id, [("a.webp", webp.getvalue()), ("b.gif", gif.getvalue())]
    )
    assert [(r.exhibit.content_type, r.exhibit.width) for r in results] == [
        ("image/webp", 30),
        ("image/gif", 40),
    ]


def test_one_refused_file_means_none_is_added(
    services: Services, case_id: int, tmp_path: Path
) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(png_bytes())
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"MZ" + b"\x00" * 100)
    with pytest.raises(EvidenceRejected, match=r"^bad\.png is a Windows program"):
        services.evidence.add_files(case_id, [good, bad])
    assert _rows(services) == 0
    assert _store_files(services) == []


def test_hostile_names_are_only_text(services: Services, case_id: int) -> None:
    names = [
        "../../etc/passwd.png",
        "..%2F..%2Fsecret.png",
        "C:\\Windows\\evil.png",
        "tab\tnew\nline\x00.png",
        "é" * 250 + ".png",
        "😀 émoji.png",
    ]
    items = [(name, png_bytes(10 + i, 10)) for i, name in enumerate(names)]
    results = services.evidence.add_bytes(case_id, items)
    stored = [r.exhibit.original_name for r in results]
    assert stored[0] == "passwd.png" and stored[2] == "evil.png"
    assert all("/" not in s and "\\" not in s and "\n" not in s and "\x00" not in s for s in stored)
    assert len(stored[4]) <= 120
    for path in _store_files(services):
        assert len(path.name) == 62 and all(c in "0123456789abcdef" for c in path.name)


def test_same_file_twice_points_to_the_existing_exhibit(services: Services, case_id: int) -> None:
    data = png_bytes()
    (first,) = services.evidence.add_bytes(case_id, [("a.png", data)])
    (second,) = services.evidence.add_bytes(case_id, [("copy of a.png", data)])
    assert second.duplicate and second.exhibit.id == first.exhibit.id
    assert len(services.evidence.list_evidence(case_id)) == 1


def test_each_exhibit_is_numbered_and_in_the_chronology(services: Services, case_id: int) -> None:
    details = EvidenceDetails(
        source="Forwarded by a parent on WhatsApp",
        post_url="https://www.facebook.com/groups/x/posts/1",
        captured_by="Mrs A",
    )
    results = services.evidence.add_bytes(
        case_id, [("a.png", png_bytes(10, 10)), ("b.png", png_bytes(11, 10))], details
    )
    assert [r.exhibit.number for r in results] == [1, 2]
    assert results[0].exhibit.details.source == "Forwarded by a parent on WhatsApp"
    events = [e.summary for e in services.cases.get_case(case_id).events]
    assert any(s.startswith("Exhibit 1 added: a.png (PNG picture, 10×10") for s in events)
    assert any(s.startswith("Exhibit 2 added: b.png") for s in events)


def test_a_failing_row_write_removes_the_new_blob(services: Services, case_id: int) -> None:
    with services.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER refuse_evidence BEFORE INSERT ON evidence "
                "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
            )
        )
    with pytest.raises(Exception, match="disk trouble"):
        services.evidence.add_bytes(case_id, [("a.png", png_bytes())])
    assert _store_files(services) == []
    with services.ctx.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(EventRecord)
                .where(EventRecord.kind == "evidence_added")
            )
            == 0
        )


def test_cancelled_import_leaves_nothing(services: Services, case_id: int) -> None:
    calls = iter([False, False, True])
    with pytest.raises(OperationCancelled):
        services.evidence.add_bytes(
            case_id,
            [("a.png", png_bytes(10, 10)), ("b.png", png_bytes(12, 10))],
            cancelled=lambda: next(calls, True),
        )
    assert _rows(services) == 0
    assert _store_files(services) == []


def test_start_up_sweep_removes_orphans_but_keeps_evidence(
    services: Services, case_id: int, tmp_path: Path
) -> None:
    (kept,) = services.evidence.add_bytes(case_id, [("a.png", png_bytes())])
    orphan = services.evidence.store.put_bytes(b"left by a crash")
    temp = services.paths.blobs / ".incoming-deadbeef"
    temp.write_bytes(b"half a file")
    services.close()
    reopened = open_casebook(services.paths.root, actor="Mrs Head", key=services.data_key)
    try:
        assert not temp.exists()
        assert not reopened.evidence.store.exists(orphan.sha256)
        assert reopened.evidence.store.exists(kept.exhibit.sha256)
    finally:
        reopened.close()


def test_verify_reports_ok_then_the_changed_and_missing_exhibits(
    services: Services, case_id: int
) -> None:
    results = services.evidence.add_bytes(
        case_id, [("a.png", png_bytes(10, 10)), ("b.png", png_bytes(20, 10))]
    )
    assert services.evidence.verify().ok
    first, second = (r.exhibit for r in results)
    path = services.evidence.store.path_for(first.sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    services.evidence.store.path_for(second.sha256).unlink()
    report = services.evidence.verify(case_id)
    assert not report.ok
    assert [(f.label, f.problem) for f in report.findings] == [
        ("Exhibit 1", "changed"),
        ("Exhibit 2", "missing"),
    ]
    assert "Exhibit 1 (a.png) has been changed since it was stored." in report.sentences()[0]


def test_redaction_removes_the_pixels_and_keeps_the_original(
    services: Services, case_id: int
) -> None:
    original_data = png_bytes(100, 80, "white")
    (added,) = services.evidence.add_bytes(case_id, [("names.png", original_data)])
    copy = services.evidence.redact(added.exhibit.id, [Box(10, 10, 30, 20)])
    assert copy.kind is EvidenceKind.REDACTED and copy.parent_id == added.exhibit.id
    with Image.open(io.BytesIO(services.evidence.content(copy.id))) as image:
        pixels = image.convert("RGB")
        assert pixels.getpixel((20, 20)) == (0, 0, 0)
        assert pixels.getpixel((39, 29)) == (0, 0, 0)
        assert pixels.getpixel((60, 60)) == (255, 255, 255)
        assert image.mode == "RGB"  # flattened: no layer or alpha to lift the box off
    assert services.evidence.content(added.exhibit.id) == original_data
    events = [e.summary for e in services.cases.get_case(case_id).events]
    assert (
        "Redacted copy of exhibit 1 saved (1 area hidden); the original is unchanged. "
        "Made for the author of the post (or their solicitor)." in events
    )
    assert services.evidence.verify(case_id).checked == 2


def test_exported_copy_has_no_exif_or_gps(services: Services, case_id: int) -> None:
    (added,) = services.evidence.add_bytes(case_id, [("photo.jpg", jpeg_with_gps())])
    assert added.exhibit.has_location
    exported = services.evidence.exported_copy(added.exhibit.id, redacted=False)
    with Image.open(io.BytesIO(exported)) as image:
        assert not image.getexif()
        assert "exif" not in image.info
    copy = services.evidence.redact(added.exhibit.id, [Box(0, 0, 10, 10)])
    redacted = services.evidence.exported_copy(added.exhibit.id, redacted=True)
    with Image.open(io.BytesIO(redacted)) as image:
        assert not image.getexif()
        assert image.getpixel((5, 5))[:3] == (0, 0, 0)
    assert copy.id != added.exhibit.id


def test_exported_pdf_loses_its_author(services: Services, case_id: int) -> None:
    from pypdf import PdfReader

    (added,) = services.evidence.add_bytes(case_id, [("doc.pdf", pdf_bytes(2))])
    exported = services.evidence.exported_copy(added.exhibit.id, redacted=False)
    reader = PdfReader(io.BytesIO(exported))
    assert len(reader.pages) == 2
    assert "/Author" not in (reader.metadata or {})


def test_a_changed_original_is_not_exported(services: Services, case_id: int) -> None:
    (added,) = services.evidence.add_bytes(case_id, [("a.png", png_bytes())])
    services.evidence.store.path_for(added.exhibit.sha256).unlink()
    with pytest.raises(EvidenceRejected, match="is missing"):
        services.evidence.exported_copy(added.exhibit.id, redacted=False)


def test_thumbnail_is_a_small_linked_copy(services: Services, case_id: int) -> None:
    (added,) = services.evidence.add_bytes(case_id, [("tall.png", png_bytes(400, 3000))])
    data = services.evidence.thumbnail(added.exhibit.id)
    assert data is not None
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) <= 240
    with services.ctx.sessions() as session:
        kinds = session.scalars(
            select(EvidenceRecord.kind).where(EvidenceRecord.parent_id == added.exhibit.id)
        ).all()
    assert kinds == ["thumbnail"]
    assert services.evidence.thumbnail(added.exhibit.id) == data
