"""The evidence tab under pytest-qt: intake by drop and paste, viewing, redaction."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from app.services.casebook import Services
from app.services.operations import case_changes
from app.ui.signals import AppSignals
from app.ui.views.evidence_tab import EvidenceTab
from tests.conftest import WAIT_MS

from .conftest import jpeg_with_gps, pdf_bytes, png_bytes


@pytest.fixture
def signals() -> AppSignals:
    return AppSignals()


@pytest.fixture
def tab(qtbot, services: Services, signals: AppSignals, case_id: int) -> Iterator[EvidenceTab]:
    widget = EvidenceTab(services, signals)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    widget.set_case(case_id)
    yield widget
    widget.wait_for_work()


def _wait_import(qtbot, tab: EvidenceTab) -> None:
    qtbot.waitUntil(lambda: tab._task is None, timeout=WAIT_MS)


def _drop(tab: EvidenceTab, mime: QMimeData) -> None:
    point = QPointF(tab.width() / 2, tab.height() / 2)
    enter = QDragEnterEvent(
        point.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(tab, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(tab, drop)


def test_empty_case_invites_evidence(tab: EvidenceTab) -> None:
    assert tab.stack.currentWidget() is tab.empty
    assert "Drag screenshots" in tab.empty.text()
    assert not tab.redact_button.isEnabled()


def test_dropping_files_adds_them_and_announces_the_change(
    qtbot, tab: EvidenceTab, signals: AppSignals, tmp_path: Path, case_id: int
) -> None:
    files = []
    for i in range(3):
        path = tmp_path / f"shot{i}.png"
        path.write_bytes(png_bytes(100 + i, 200))
        files.append(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    with qtbot.waitSignal(signals.data_changed, timeout=None) as changed:
        _drop(tab, mime)
    assert changed.args == [case_id]
    _wait_import(qtbot, tab)
    assert tab.strip.count() == 3
    assert "Exhibits 1, 2, 3 added." in tab.message.text()
    qtbot.waitUntil(lambda: tab.thumbnails_loaded() == 3, timeout=WAIT_MS)


def test_dropping_a_refused_file_adds_nothing_and_says_why(
    qtbot, tab: EvidenceTab, tmp_path: Path
) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(png_bytes())
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"<html><script>x</script></html>")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(good)), QUrl.fromLocalFile(str(bad))])
    _drop(tab, mime)
    _wait_import(qtbot, tab)
    assert tab.strip.count() == 0
    assert tab.message.isVisible()
    assert tab.message.text().startswith("bad.png is a web page or SVG drawing")
    assert tab.message.text().endswith("Nothing was added.")


def test_pasting_a_picture_and_text(qtbot, tab: EvidenceTab) -> None:
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkGreen)
    QGuiApplication.clipboard().setImage(image)
    tab.paste()
    _wait_import(qtbot, tab)
    assert tab.strip.count() == 1
    assert tab.current is not None and tab.current.content_type == "image/png"
    assert tab.current.original_name.startswith("Pasted picture ")
    QGuiApplication.clipboard().setText("Screenshot text copied from the group chat")
    tab.paste()
    _wait_import(qtbot, tab)
    assert tab.strip.count() == 2
    assert tab.stack.currentWidget() is tab.text
    assert tab.text.toPlainText() == "Screenshot text copied from the group chat"
    assert tab.text.isReadOnly()


def test_zoom_fit_rotate_and_keyboard_navigation(
    qtbot, tab: EvidenceTab, services: Services, case_id: int, signals: AppSignals
) -> None:
    services.evidence.add_bytes(
        case_id,
        [
            ("photo.png", png_bytes(1600, 1200)),
            ("tall.png", png_bytes(400, 4000)),
            ("doc.pdf", pdf_bytes(3)),
        ],
    )
    signals.announce(case_changes(case_id, evidence=True).by("another screen"))
    assert tab.strip.currentRow() == 0
    view = tab.picture
    viewport = view.viewport().size()
    assert view.zoom == pytest.approx(
        min((viewport.width() - 8) / 1600, (viewport.height() - 8) / 1200), rel=0.02
    )
    tab.zoom_in()
    assert view.zoom == pytest.approx(
        min((viewport.width() - 8) / 1600, (viewport.height() - 8) / 1200) * 1.25, rel=0.02
    )
    tab.actual_size()
    assert view.zoom == 1.0
    tab.fit_width()
    assert view.zoom * 1600 == pytest.approx(view.viewport().width() - 8, abs=2)
    tab.rotate()
    assert view.rotation == 90
    from PySide6.QtGui import QWheelEvent

    before = view.zoom
    wheel = QWheelEvent(
        QPointF(50, 50),
        QPointF(50, 50),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom == pytest.approx(before * 1.25)

    tab.strip.setFocus()
    qtbot.keyClick(tab.picture, Qt.Key.Key_Right)
    assert tab.strip.currentRow() == 1
    # A tall screenshot opens fitted to the width.
    assert tab.picture.zoom * 400 == pytest.approx(tab.picture.viewport().width() - 8, abs=2)
    qtbot.keyClick(tab.picture, Qt.Key.Key_Right)
    assert tab.stack.currentWidget() is tab.pdf_box
    assert tab.pdf_page_label.text() == "Page 1 of 3"
    tab.pdf_next.click()
    assert tab.pdf_page_label.text() == "Page 2 of 3"
    qtbot.keyClick(tab.pdf, Qt.Key.Key_Left)
    assert tab.strip.currentRow() == 1


def test_drawing_boxes_saves_a_redacted_copy(
    qtbot, tab: EvidenceTab, services: Services, case_id: int, signals: AppSignals
) -> None:
    services.evidence.add_bytes(case_id, [("names.png", png_bytes(400, 300, "white"))])
    signals.announce(case_changes(case_id, evidence=True).by("another screen"))
    original = tab.current
    assert original is not None
    tab.redact_button.setChecked(True)
    assert tab.redact_bar.isVisible()
    assert not tab.save_redacted_button.isEnabled()
    view = tab.picture
    start = view.mapFromScene(QPointF(50, 40))
    end = view.mapFromScene(QPointF(150, 90))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    (box,) = view.boxes()
    assert abs(box.x - 50) <= 2 and abs(box.y - 40) <= 2
    assert abs(box.width - 100) <= 3 and abs(box.height - 50) <= 3
    assert tab.save_redacted_button.isEnabled()
    with qtbot.waitSignal(signals.data_changed, timeout=None):
        tab.save_redacted_button.click()
    assert "Redacted copy of exhibit 1 saved (1 area hidden)" in tab.message.text()
    assert tab.current is not None and tab.current.parent_id == original.id
    copy = Image.open(io.BytesIO(services.evidence.content(tab.current.id))).convert("RGB")
    assert copy.getpixel((100, 65)) == (0, 0, 0)
    assert copy.getpixel((300, 200)) == (255, 255, 255)
    assert services.evidence.content(original.id) == png_bytes(400, 300, "white")


def _check_integrity(qtbot, tab: EvidenceTab) -> None:
    """Press Verify integrity and wait for that check to end (its own signal, however long a
    loaded machine takes; pytest-timeout bounds a hang)."""
    checking = tab.verify_integrity()
    assert checking is not None  # nothing else was running on the tab
    if not checking.done:
        with qtbot.waitSignal(checking.finished, timeout=None):
            pass
    assert tab._task is None


def test_gps_warning_and_verify_integrity(
    qtbot, tab: EvidenceTab, services: Services, case_id: int, signals: AppSignals
) -> None:
    # Reading the photo's words (tested in test_evidence_words_ui.py) would share the
    # runner's two threads with the check; on a loaded machine the check then waited for it.
    tab.read_text = False
    (added,) = services.evidence.add_bytes(case_id, [("photo.jpg", jpeg_with_gps())])
    signals.announce(case_changes(case_id, evidence=True).by("another screen"))
    assert tab.gps_warning.isVisible()
    assert "GPS location" in tab.details.text()
    assert added.exhibit.sha256[:16] in tab.details.text()
    _check_integrity(qtbot, tab)
    assert "All 1 stored files are intact" in tab.message.text()
    services.evidence.store.path_for(added.exhibit.sha256).unlink()
    _check_integrity(qtbot, tab)
    assert "Exhibit 1 (photo.jpg) is missing from the evidence store" in tab.message.text()


def test_switching_cases_while_thumbnails_are_made_never_hangs(
    qtbot, services: Services, signals: AppSignals, case_id: int
) -> None:
    """Regression: a thumbnail worker decoding with Qt while the GUI thread read a picture
    through a Python QBuffer deadlocked on the interpreter lock (seen in about one start in
    three). Workers now decode with Pillow; pytest-timeout turns a hang into a failure."""
    pictures = [png_bytes(1080, 2400, colour) for colour in ("white", "beige", "lavender")]
    services.evidence.add_bytes(case_id, [(f"shot{i}.png", d) for i, d in enumerate(pictures)])
    for _ in range(15):
        widget = EvidenceTab(services, signals)
        # The deadlock was between thumbnails and the picture on show; reading the words
        # (three tall screenshots through Tesseract in each round) only made it slower.
        widget.read_text = False
        qtbot.addWidget(widget)
        widget.resize(900, 600)
        widget.show()
        widget.set_case(case_id)  # starts thumbnail jobs and shows the first picture at once
        widget.show_exhibit(widget.exhibits[-1])
        widget.wait_for_work()
        assert widget.current is not None
        widget.close()


def test_redaction_boxes_are_drawn_moved_and_resized_with_the_keyboard(
    qtbot, tab: EvidenceTab, services: Services, case_id: int, signals: AppSignals
) -> None:
    pictures = [("names.png", png_bytes(400, 300, "white")), ("other.png", png_bytes(40, 30))]
    services.evidence.add_bytes(case_id, pictures)
    signals.announce(case_changes(case_id, evidence=True).by("another screen"))
    tab.strip.setCurrentRow(0)
    first = tab.current
    tab.redact_button.setChecked(True)
    view = tab.picture
    assert view.focusPolicy() == Qt.FocusPolicy.StrongFocus
    qtbot.keyClick(view, Qt.Key.Key_Insert)
    (box,) = view.boxes()
    assert view.current_box() == box
    # Right moves the box, not to the next exhibit; Ctrl+Down moves by one pixel.
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert tab.current == first
    (moved,) = view.boxes()
    assert moved.x > box.x and moved.y == box.y and moved.width == box.width
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert view.boxes()[0].y == moved.y + 1
    # Shift+Right widens it; it never leaves the picture however far it is pushed.
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert view.boxes()[0].width > moved.width
    for _ in range(200):
        qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.boxes()[0].x == 0
    # A second box, Page Up back to the first, Delete removes the chosen one.
    qtbot.keyClick(view, Qt.Key.Key_N)
    assert len(view.boxes()) == 2
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert view.current_box() == view.boxes()[0]
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    (left,) = view.boxes()
    assert left.x != 0
    with qtbot.waitSignal(signals.data_changed, timeout=None):
        tab.save_redacted_button.click()
    copy = Image.open(io.BytesIO(services.evidence.content(tab.current.id))).convert("RGB")
    assert copy.getpixel((left.x + left.width // 2, left.y + left.height // 2)) == (0, 0, 0)
    # After redacting, the arrow keys go back to moving between exhibits.
    tab.redact_button.setChecked(False)
    assert all(shortcut.isEnabled() for shortcut in tab._exhibit_keys)


def test_the_pixels_the_tab_holds_are_what_it_shows(
    qtbot, tab: EvidenceTab, services: Services, case_id: int
) -> None:
    """Thumbnails are kept for the case on show only, one per picture, and the viewer holds
    the one picture viewed: nothing grows with the imports made before."""
    from app.domain.categories import Category
    from app.domain.records import CaseDraft

    tab.read_text = False
    colours = ("beige", "lavender", "khaki", "salmon")  # four different files
    pictures = [(f"shot{i}.png", png_bytes(300, 650, c)) for i, c in enumerate(colours)]
    services.evidence.add_bytes(case_id, pictures)
    tab.reload()
    qtbot.waitUntil(lambda: tab.thumbnails_loaded() == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab.picture.full_resolution, timeout=WAIT_MS)
    assert tab.thumbnail_bytes() == 4 * 96 * 120 * 4
    assert 300 * 650 * 3 <= tab.picture.pixel_bytes() <= 300 * 650 * 4  # 3 or 4 bytes a pixel
    other = services.cases.open_case(CaseDraft("Another case", frozenset({Category.ABUSIVE})))
    tab.set_case(other.id)
    assert tab.thumbnail_bytes() == 0
    assert tab.picture.pixel_bytes() == 0
