"""The evidence tab with the words in evidence: capture details asked once files are added,
the text read on a worker and shown beside the exhibit, the pupil flagged, suggestions
accepted into the redaction tool, and a PDF page redacted from the window."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from app.db.models import EventRecord
from app.domain.categories import Category
from app.domain.evidence import CHILD_WARNING
from app.domain.people import PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.services.casebook import Services
from app.ui.dialogs.capture_details import CaptureDetailsDialog
from app.ui.signals import AppSignals
from app.ui.views.evidence_tab import EvidenceTab
from tests.conftest import WAIT_MS

from .test_reading import screenshot, text_pdf

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract (Debian tesseract-ocr) is not installed"
)
SHOTS = os.environ.get("CASEBOOK_SCREENSHOTS")


@pytest.fixture
def tab(qtbot, services: Services, case_id: int) -> Iterator[EvidenceTab]:
    services.people.add_person(PersonDraft("Tilly Marchbank", PersonKind.PUPIL))
    widget = EvidenceTab(services, AppSignals())
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    widget.set_case(case_id)
    yield widget
    widget.wait_for_work()


def _events(services: Services, kind: str) -> list[str]:
    with services.ctx.sessions() as session:
        return list(
            session.scalars(select(EventRecord.summary).where(EventRecord.kind == kind)).all()
        )


@needs_tesseract
def test_adding_asks_where_it_came_from_then_reads_and_flags_the_pupil(
    qtbot, tab: EvidenceTab, services: Services, tmp_path: Path
) -> None:
    data, _drawn = screenshot()
    path = tmp_path / "post.png"
    path.write_bytes(data)
    tab.import_files([path])
    qtbot.waitUntil(lambda: tab._details_dialog is not None, timeout=WAIT_MS)
    dialog: CaptureDetailsDialog = tab._details_dialog
    assert dialog.isVisible()
    dialog.sent_by.setText("Mrs A. Parent")
    dialog.received_via.setCurrentText("WhatsApp")
    dialog.post_url.setText("https://social.example/p/123")
    dialog.add_hop(None)
    for column, value in enumerate(("Mrs A. Parent", "Mr B. Teacher", "20/11/2026", "WhatsApp")):
        dialog.hops.item(0, column).setText(value)
    dialog.accept()
    changes = _events(services, "evidence_details")
    assert any("sent by changed from (none) to “Mrs A. Parent”" in c for c in changes)
    assert any("Forwarded by Mrs A. Parent to Mr B. Teacher on 20/11/2026" in c for c in changes)
    # The words are read on a worker; the window answers meanwhile.
    # (How long the window may pause meanwhile, 200 ms, depends on the machine and its
    # load: benchmarks/evidence_reading.py measures it against that target.)
    qtbot.waitUntil(lambda: tab._reading is not None, timeout=WAIT_MS)
    answered = 0
    deadline = time.perf_counter() + 90
    while (tab._reading is not None or tab.current.text_state != "read") and (
        time.perf_counter() < deadline
    ):
        QApplication.processEvents()
        answered += tab._reading is not None  # the window's events ran while reading
        time.sleep(0.005)
    assert tab.current.text_state == "read"
    assert answered > 0
    assert "Oakfield Primary" in tab.words.words.toPlainText()
    assert tab.words.warning.isVisible() and CHILD_WARNING in tab.words.warning.text()
    assert tab.case_flag.isVisible() and "Exhibit 1 names a pupil" in tab.case_flag.text()
    assert "How it came" in tab.details.text() and "WhatsApp" in tab.details.text()
    # The head accepts the name; the redaction tool starts with that box drawn.
    accept = next(b for b in tab.words.suggestion_buttons() if b.text() == "Accept")
    accept.click()
    assert "accepted" in _events(services, "evidence_suggestion")[0]
    tab.redact_button.setChecked(True)
    assert len(tab.picture.boxes()) == 1
    if SHOTS:
        tab.grab().save(str(Path(SHOTS) / "evidence_words.png"))
    tab.save_redacted()
    assert services.evidence.redacted_copies(tab.exhibits[0].id)


@needs_tesseract
def test_a_pdf_page_is_redacted_from_the_window(
    qtbot, tab: EvidenceTab, services: Services, case_id: int
) -> None:
    tab.ask_details = False
    data = text_pdf([["Front page"], ["Tilly Marchbank was named here"]])
    tab.import_data([("minutes.pdf", data)])
    qtbot.waitUntil(lambda: tab._task is None and tab._reading is None, timeout=WAIT_MS)
    tab.reload()
    assert tab.current is not None and tab.current.is_pdf
    assert tab.redact_button.isEnabled()
    [name] = tab.current.suggestions
    tab.decide_suggestion(name.id, True)
    tab.go_to_page(1)
    QTimer.singleShot(0, lambda: None)
    qtbot.wait(50)
    tab.redact_button.setChecked(True)
    assert tab.stack.currentWidget() is tab.picture
    assert len(tab.picture.boxes()) == 1
    if SHOTS:
        tab.grab().save(str(Path(SHOTS) / "evidence_pdf_redaction.png"))
    tab.save_redacted()
    [copy] = services.evidence.redacted_copies(tab.exhibits[0].id)
    assert copy.is_pdf
    assert b"Marchbank" not in services.evidence.content(copy.id)


def test_the_case_list_looks_only_in_evidence_when_asked(
    qtbot, services: Services, case_id: int
) -> None:
    from app.ui.views.case_list import CaseListView

    other = services.cases.open_case(
        CaseDraft(title="Remarks about the lunch menu", categories=frozenset({Category.ABUSIVE}))
    )
    services.evidence.add_bytes(case_id, [("chat.txt", b"They said the lunch was cold")])
    view = CaseListView(services, AppSignals())
    qtbot.addWidget(view)
    view.show()
    view.search.setText("lunch")
    view.apply_filter()
    assert view.model.rowCount() == 2
    view.in_evidence.setChecked(True)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    assert view.current_filter().in_evidence
    shown = view.model.case_at(0)
    assert shown is not None and shown.id == case_id and shown.id != other.id
