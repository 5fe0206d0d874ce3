"""Evidence straight out of Outlook, and saved emails (.eml, .msg), arrive on the case.

Outlook offers a dragged attachment as two Windows clipboard formats, the names in a
FILEGROUPDESCRIPTORW and the bytes as FileContents; Qt on Windows hands any format it
has no converter for to the app under 'application/x-qt-windows-mime;value="..."', which
is what these drops carry. The tab, the services and the store are the app's own.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.domain.errors import EvidenceRejected
from app.domain.records import CaseDetail
from app.evidence.intake import inspect_bytes
from app.services.casebook import Services
from app.ui.signals import AppSignals
from app.ui.views.evidence_tab import (
    OUTLOOK_CONTENTS,
    OUTLOOK_NAMES,
    EvidenceTab,
    outlook_file_names,
)

EML = (
    b"Return-Path: <parent@example.org>\r\n"
    b"Received: from mail.example.org by mx.school.example; Tue, 24 Nov 2026 09:14:02 +0000\r\n"
    b"From: A Parent <parent@example.org>\r\n"
    b"To: office@school.example\r\n"
    b"Subject: About the post\r\n"
    b"Date: Tue, 24 Nov 2026 09:14:00 +0000\r\n"
    b"Message-ID: <abc123@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<html><body><script>alert('x')</script><p>I will not take it down.</p></body></html>\r\n"
)


def outlook_msg() -> bytes:
    """The parts of an Outlook .msg that identify it: the compound-file signature and the
    property streams every saved message has (names are UTF-16 in the file's folder)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    folder = b"".join(
        name.encode("utf-16-le").ljust(64, b"\x00") + bytes(64)
        for name in ("Root Entry", "__properties_version1.0", "__substg1.0_0037001F")
    )
    return header + folder + "Subject: About the post".encode("utf-16-le")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (90, 60), "orange").save(out, "PNG")
    return out.getvalue()


def file_group_descriptor(*names: str) -> bytes:
    """A FILEGROUPDESCRIPTORW as Outlook writes it: a count, then 592-byte records with the
    name at offset 72 (WCHAR[260])."""
    records = b""
    for name in names:
        record = bytearray(592)
        record[0:4] = (0x4000 | 0x40).to_bytes(4, "little")  # FD_UNICODE | FD_FILESIZE
        encoded = name.encode("utf-16-le")
        record[72 : 72 + len(encoded)] = encoded
        records += bytes(record)
    return len(names).to_bytes(4, "little") + records


def outlook_mime(names: list[str], contents: bytes) -> QMimeData:
    mime = QMimeData()
    mime.setData(OUTLOOK_NAMES, QByteArray(file_group_descriptor(*names)))
    mime.setData(OUTLOOK_CONTENTS, QByteArray(contents))
    return mime


@pytest.fixture
def case(make_case: Callable[..., CaseDetail]) -> CaseDetail:
    return make_case(title="Comments after the Year 6 trip")


@pytest.fixture
def tab(qtbot, services: Services, case: CaseDetail) -> Iterator[EvidenceTab]:
    widget = EvidenceTab(services, AppSignals())
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    widget.set_case(case.id)
    yield widget
    widget.wait_for_work()


def drop(qtbot, tab: EvidenceTab, mime: QMimeData) -> bool:
    point = QPointF(tab.width() / 2, tab.height() / 2)
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(tab, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(tab, QDropEvent(point, Qt.DropAction.CopyAction, mime, buttons, keys))
    qtbot.waitUntil(lambda: tab._task is None, timeout=20_000)
    return True


def test_an_attachment_dragged_out_of_outlook_becomes_an_exhibit(
    qtbot, tab: EvidenceTab, services: Services, case: CaseDetail
) -> None:
    picture = png()
    assert drop(qtbot, tab, outlook_mime(["Screenshot of the post.png"], picture))
    assert tab.message.text() == "Exhibit 1 added."
    [exhibit] = services.evidence.list_evidence(case.id)
    assert exhibit.original_name == "Screenshot of the post.png"
    assert exhibit.base_type == "image/png"
    assert services.evidence.content(exhibit.id) == picture


def test_several_attachments_keep_the_first_and_name_the_rest(
    qtbot, tab: EvidenceTab, services: Services, case: CaseDetail
) -> None:
    mime = outlook_mime(["first.png", "second.pdf", "third.png"], png())
    assert drop(qtbot, tab, mime)
    assert [e.original_name for e in services.evidence.list_evidence(case.id)] == ["first.png"]
    assert tab.message.text() == (
        "Exhibit 1 added. Outlook passed only the first file; please drag second.pdf, "
        "third.png one at a time."
    )


def test_a_message_outlook_does_not_hand_over_is_explained_and_nothing_added(
    qtbot, tab: EvidenceTab, services: Services, case: CaseDetail
) -> None:
    # A whole message dragged from the list comes as a storage Qt cannot read: no bytes.
    assert drop(qtbot, tab, outlook_mime(["About the post.msg"], b"")) is True
    assert services.evidence.list_evidence(case.id) == []
    assert tab.message.text().startswith("Outlook did not hand over About the post.msg itself.")


def test_dropped_eml_and_msg_files_are_kept_as_they_arrived(
    qtbot, tab: EvidenceTab, services: Services, case: CaseDetail, tmp_path: Path
) -> None:
    eml = tmp_path / "About the post.eml"
    eml.write_bytes(EML)
    msg = tmp_path / "Reply from the parent.msg"
    msg.write_bytes(outlook_msg())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(eml)), QUrl.fromLocalFile(str(msg))])
    assert drop(qtbot, tab, mime)
    assert tab.message.text() == "Exhibits 1, 2 added."
    exhibits = services.evidence.list_evidence(case.id)
    assert [(e.original_name, e.base_type) for e in exhibits] == [
        ("About the post.eml", "message/rfc822"),
        ("Reply from the parent.msg", "application/vnd.ms-outlook"),
    ]
    assert services.evidence.content(exhibits[0].id) == EML
    assert services.evidence.content(exhibits[1].id) == outlook_msg()
    # Shown as plain text at most: the message's HTML is never rendered.
    tab.strip.setCurrentRow(0)
    assert tab.stack.currentWidget() is tab.text
    assert "<script>alert('x')</script>" in tab.text.toPlainText()
    tab.strip.setCurrentRow(1)
    assert tab.text.toPlainText().startswith("This Outlook message (.msg) is kept exactly as")
    # The case file lists both with their fingerprints.
    pdf = services.reports.case_file(case.id)
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    for name in ("About the post.eml", "Reply from the parent.msg"):
        assert name in text
    assert exhibits[0].sha256[:16] in text.replace(" ", "").replace("\n", "")


def test_other_office_documents_and_plain_notes_are_not_taken_for_mail() -> None:
    word = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le")
    with pytest.raises(EvidenceRejected, match="is an office document"):
        inspect_bytes(word, "minutes.doc")
    note = b"From: Mum\nSubject: pick-up\nDate: Tuesday\n\nSam is going home with Jo."
    assert inspect_bytes(note, "note.txt").base_type == "text/plain"


def test_the_descriptor_is_read_however_it_is_cut() -> None:
    full = file_group_descriptor("a.png", "Zoë's screenshot.jpg")
    assert outlook_file_names(full) == ["a.png", "Zoë's screenshot.jpg"]
    assert outlook_file_names(full[:-10]) == ["a.png"]  # a short second record is skipped
    assert outlook_file_names(b"\x05\x00") == []
    assert outlook_file_names((2).to_bytes(4, "little") + bytes(592)) == ["Outlook attachment 1"]
