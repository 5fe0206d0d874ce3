"""The evidence tab of a case: thumbnails, viewer, details, intake, integrity and redaction.

Everything slow (importing files, thumbnails, decoding a huge picture, re-hashing every
file) runs on this tab's own thread pool; the window stays responsive and an import can
be stopped. The tab never writes to the database itself: it calls the evidence service
and the runner announces the change to the other views.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMimeData,
    QObject,
    QPointF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
)
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time, utc_now
from app.domain.errors import CasebookError
from app.domain.evidence import EvidenceKind, Exhibit
from app.domain.sharing import RULES, Recipient, person_audience
from app.services.casebook import Services
from app.services.memory import return_freed_memory, return_large_blocks_at_once
from app.services.operations import Cancelled, OpChanges, OpResult, Progress
from app.ui.file_dialogs import open_file_names
from app.ui.operations import Operation, Refusal
from app.ui.signals import AppSignals
from app.ui.views import evidence_reading
from app.ui.views.evidence_viewer import PictureView, decode_with_pillow, display_text
from app.ui.views.evidence_words import ExhibitWords

log = logging.getLogger(__name__)

THUMB = QSize(96, 120)
THUMBNAILS_PER_JOB = 25
_EXHIBIT_ROLE = Qt.ItemDataRole.UserRole
# How this tab names itself in the change notifications of its commands.
INITIATOR = "evidence tab"


# ----- background work ---------------------------------------------------------------------


class _ThumbSignals(QObject):
    ready = Signal(int, int, QImage)


class ThumbnailJob(QRunnable):
    """Fetches (or makes) the thumbnails of a run of exhibits off the GUI thread."""

    def __init__(self, services: Services, exhibit_ids: list[int], generation: int) -> None:
        super().__init__()
        self.services = services
        self.exhibit_ids = exhibit_ids
        self.generation = generation
        self.signals = _ThumbSignals()

    def run(self) -> None:
        # Answers for every exhibit (a null image when there is none), so the tab knows
        # when the last thumbnail of a list is done.
        try:
            kept = self.services.evidence.kept_thumbnails(self.exhibit_ids)
        except CasebookError as error:
            log.info("Thumbnails could not be read: %s", error.message)
            kept = {}
        for exhibit_id in self.exhibit_ids:
            image = self._image(exhibit_id, kept.get(exhibit_id))
            try:
                self.signals.ready.emit(self.generation, exhibit_id, image)
            except RuntimeError:
                # The tab closed (or the program quit) while these were being made.
                log.debug("Thumbnail of evidence %s was no longer wanted", exhibit_id)
                return

    def _image(self, exhibit_id: int, data: bytes | None) -> QImage:
        if data is None:
            try:
                data = self.services.evidence.thumbnail(exhibit_id)
            except CasebookError as error:
                log.info("No thumbnail for evidence %s: %s", exhibit_id, error.message)
                return QImage()
            except Exception:
                log.exception("Thumbnail failed for evidence %s", exhibit_id)
                return QImage()
        if data is None:
            return QImage()
        try:
            image, _pixels = decode_with_pillow(data)
        except (OSError, ValueError):
            log.info("Thumbnail of evidence %s could not be decoded", exhibit_id)
            return QImage()
        # Framed here, off the GUI thread: after an import a hundred arrive at once, and
        # scaling and painting each on the GUI thread paused the window for their sum.
        return framed_thumbnail(image)


def framed_thumbnail(image: QImage) -> QImage:
    """A picture scaled into the strip's thumbnail size, centred at the top, with a thin
    frame (a QImage, so it can be made on a worker thread)."""
    scaled = image.scaled(
        THUMB,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    canvas = QImage(THUMB, QImage.Format.Format_ARGB32_Premultiplied)
    canvas.fill(QColor(0, 0, 0, 0))  # transparent beside a narrow picture
    painter = QPainter(canvas)
    painter.drawImage(QPointF((THUMB.width() - scaled.width()) / 2, 0), scaled)
    painter.setPen(QColor("#9aa0a6"))
    painter.drawRect(
        (THUMB.width() - scaled.width()) // 2,
        0,
        scaled.width() - 1,
        scaled.height() - 1,
    )
    painter.end()
    return canvas


def _placeholder_icon(label: str) -> QIcon:
    pixmap = QPixmap(THUMB)
    pixmap.fill(QColor("#f1f3f4"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#5f6368"))
    painter.drawRect(0, 0, THUMB.width() - 1, THUMB.height() - 1)
    font = QFont()
    font.setBold(True)
    font.setPointSize(14)
    painter.setFont(font)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, label)
    painter.end()
    return QIcon(pixmap)


def _in_steps(report: Progress, steps: int = 50) -> Progress:
    """``report`` called only when the bar would move by a step (and at the end): each
    call is a turn of the window's event loop, two per file before."""
    shown = -1

    def step(done: int, total: int) -> None:
        nonlocal shown
        at = done * steps // max(1, total)
        if at != shown or done >= total:
            shown = at
            report(done, total)

    return step


def _local_files(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


# What Outlook puts on a drag of an attachment (or of a whole message): the names in a
# FILEGROUPDESCRIPTORW and the bytes under FileContents. Qt on Windows offers every
# clipboard format it has no converter for under these names.
OUTLOOK_NAMES = 'application/x-qt-windows-mime;value="FileGroupDescriptorW"'
OUTLOOK_CONTENTS = 'application/x-qt-windows-mime;value="FileContents"'
_DESCRIPTOR_SIZE = 592  # sizeof(FILEDESCRIPTORW)
_NAME_OFFSET = 72  # cFileName, WCHAR[260]


def outlook_file_names(descriptor: bytes) -> list[str]:
    """The file names in a FILEGROUPDESCRIPTORW (a count, then one record per file)."""
    if len(descriptor) < 4:
        return []
    count = int.from_bytes(descriptor[:4], "little")
    names = []
    for index in range(min(count, (len(descriptor) - 4) // _DESCRIPTOR_SIZE)):
        start = 4 + index * _DESCRIPTOR_SIZE + _NAME_OFFSET
        raw = descriptor[start : start + 520].decode("utf-16-le", errors="replace")
        names.append(raw.split("\x00", 1)[0] or f"Outlook attachment {index + 1}")
    return names


def outlook_drop(mime: QMimeData) -> tuple[list[tuple[str, bytes]], str]:
    """(name, bytes) of what was dragged out of Outlook, and a note when some is missing.

    Qt asks Windows for FileContents without an item number, so Outlook hands over the
    first file only; the others are named in the note, to be dragged one at a time.
    """
    names = outlook_file_names(bytes(mime.data(OUTLOOK_NAMES).data()))
    if not names:
        return [], ""
    contents = bytes(mime.data(OUTLOOK_CONTENTS).data())
    if not contents:
        return [], (
            f"Outlook did not hand over {names[0]} itself. Save it from Outlook first "
            "(File › Save As, or Save Attachments) and drop the saved file here."
        )
    note = ""
    if len(names) > 1:
        rest = ", ".join(names[1:])
        note = f" Outlook passed only the first file; please drag {rest} one at a time."
    return [(names[0], contents)], note


# ----- the tab -----------------------------------------------------------------------------


class EvidenceTab(QWidget):
    """Evidence of one case. Hosted by the case screen; refreshes on ``data_changed``."""

    def __init__(self, services: Services, signals: AppSignals, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.signals = signals
        self.case_id: int | None = None
        self.exhibits: list[Exhibit] = []
        self.current: Exhibit | None = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._generation = 0
        self._task: Operation | None = None  # adding evidence or checking files
        self._reading: Operation | None = None  # the words of new pictures and PDFs being read
        self._details_dialog: Any = None
        self._pdf_redaction: Any = None  # the PDF page being redacted (see evidence_redaction)
        self.ask_details = True  # ask where evidence came from once it is added
        self.read_text = True  # read new pictures and PDFs in the background
        self._after_import_note = ""  # said once the import ends (files Outlook kept back)
        self._pdf_buffer: QBuffer | None = None
        self._thumbs_done: set[int] = set()
        self._thumbs_pending: set[int] = set()  # asked for in this list, not yet answered
        self._rows: dict[int, int] = {}  # exhibit id -> its row in the strip
        self._placeholders: dict[str, QIcon] = {}
        return_large_blocks_at_once()  # decoded pictures' memory is given back when freed
        self.setAcceptDrops(True)
        self._build()
        self._shortcuts()
        signals.operation_did_execute.connect(self._on_changed)
        self._update_actions()

    # ----- layout ----------------------------------------------------------------------

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)

        bar = QHBoxLayout()
        self.add_button = QPushButton("Add fi&les…")
        self.add_button.setToolTip("Add screenshots, photos, PDFs or text files to this case")
        self.add_button.clicked.connect(self.choose_files)
        self.paste_button = QPushButton("&Paste")
        self.paste_button.setToolTip("Add the picture or text on the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        self.verify_button = QPushButton("Verif&y integrity")
        self.verify_button.setToolTip("Re-check every stored file against its SHA-256 hash")
        self.verify_button.clicked.connect(self.verify_integrity)
        for button in (self.add_button, self.paste_button, self.verify_button):
            bar.addWidget(button)
        bar.addStretch(1)
        # Viewer controls sit on a second row so the tab fits beside the case list on a
        # 1280-pixel screen.
        view_bar = QHBoxLayout()
        self.zoom_out_button = self._button("−", "Zoom out (-)", self.zoom_out)
        self.zoom_in_button = self._button("+", "Zoom in (+)", self.zoom_in)
        self.fit_width_button = self._button(
            "Fit &width", "Fit the width to the window (W)", self.fit_width
        )
        self.fit_page_button = self._button("Fit pa&ge", "Show the whole page (F)", self.fit_page)
        self.actual_button = self._button("100%", "Actual size (1)", self.actual_size)
        self.rotate_button = self._button("&Rotate", "Turn a quarter to the right (R)", self.rotate)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        view_bar.addWidget(self.zoom_out_button)
        view_bar.addWidget(self.zoom_label)
        for widget in (
            self.zoom_in_button,
            self.fit_width_button,
            self.fit_page_button,
            self.actual_button,
            self.rotate_button,
        ):
            view_bar.addWidget(widget)
        view_bar.addSpacing(12)
        self.prev_button = self._button("◀ Previo&us", "Previous exhibit (Left)", self.previous)
        self.next_button = self._button("Ne&xt ▶", "Next exhibit (Right)", self.next)
        view_bar.addWidget(self.prev_button)
        view_bar.addWidget(self.next_button)
        view_bar.addStretch(1)
        self.redact_button = QPushButton("Re&dact…")
        self.redact_button.setToolTip("Hide names, faces or a child’s image in a new copy")
        self.redact_button.setCheckable(True)
        self.redact_button.toggled.connect(self.set_redacting)
        bar.addWidget(self.redact_button)
        outer.addLayout(bar)
        outer.addLayout(view_bar)

        # Inline messages and progress: nothing here ever blocks the window.
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        outer.addWidget(self.message)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("Adding evidence… %p%")
        self.stop_button = QPushButton("S&top")
        self.stop_button.clicked.connect(self.cancel_import)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.stop_button)
        self.progress_row = QWidget()
        self.progress_row.setLayout(progress_row)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_row.setVisible(False)
        outer.addWidget(self.progress_row)
        self.reading_note = QLabel("")
        self.reading_note.setStyleSheet("color: #5f6368;")
        self.reading_note.setVisible(False)
        outer.addWidget(self.reading_note)
        self.case_flag = QLabel("")
        self.case_flag.setWordWrap(True)
        self.case_flag.setStyleSheet(
            "background: #fef7e0; color: #7a4f01; border: 1px solid #f9ab00; "
            "border-radius: 4px; padding: 6px; font-weight: bold;"
        )
        self.case_flag.setVisible(False)
        outer.addWidget(self.case_flag)

        self.redact_bar = QFrame()
        self.redact_bar.setStyleSheet(
            "QFrame { background: #fef7e0; border: 1px solid #f9ab00; border-radius: 4px; }"
        )
        redact_row = QHBoxLayout(self.redact_bar)
        redact_row.setContentsMargins(8, 4, 8, 4)
        self.redact_hint = QLabel(
            "Drag boxes (or press Insert and use the arrow keys) over names, faces or a "
            "child’s image. The original stays unchanged."
        )
        self.redact_hint.setWordWrap(True)
        self.redact_hint.setStyleSheet("border: none;")
        self.redact_hint.setToolTip(PictureView.KEYBOARD_HELP)
        # Each copy is redacted for one recipient: what the author may see is not what a
        # person asking for their own data may see.
        self.redact_for = QComboBox()
        self.redact_for.setToolTip("Who this redacted copy is for")
        self.undo_box_button = QPushButton("Undo &box")
        self.undo_box_button.clicked.connect(self._undo_box)
        self.save_redacted_button = QPushButton("Save redac&ted copy")
        self.save_redacted_button.clicked.connect(self.save_redacted)
        self.cancel_redact_button = QPushButton("Cancel")
        # Escape, as in a dialog (Alt+letters are all taken on this tab).
        self.cancel_redact_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_redact_button.setToolTip("Stop redacting without saving a copy (Esc)")
        self.cancel_redact_button.clicked.connect(lambda: self.redact_button.setChecked(False))
        redact_row.addWidget(self.redact_hint, 1)
        redact_row.addWidget(self.redact_for)
        for action in (self.undo_box_button, self.save_redacted_button, self.cancel_redact_button):
            redact_row.addWidget(action)
        self.redact_bar.setVisible(False)
        outer.addWidget(self.redact_bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.strip = QListWidget()
        self.strip.setAccessibleName("Exhibits")
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setFlow(QListWidget.Flow.TopToBottom)
        self.strip.setWrapping(False)
        self.strip.setMovement(QListWidget.Movement.Static)
        self.strip.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.strip.setIconSize(THUMB)
        # A narrow strip (names wrap under the pictures) leaves the viewer the width: on a
        # 1366-pixel laptop it was a quarter of the case screen.
        self.strip.setGridSize(QSize(THUMB.width() + 16, THUMB.height() + 48))
        self.strip.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.strip.setWordWrap(True)
        self.strip.setUniformItemSizes(True)
        self.strip.setMinimumWidth(THUMB.width() + 36)
        self.strip.setMaximumWidth(THUMB.width() + 60)
        self.strip.setAcceptDrops(False)
        self.strip.currentRowChanged.connect(self._row_changed)
        split.addWidget(self.strip)

        self.stack = QStackedWidget()
        self.empty = QLabel(
            "No evidence yet.\n\nDrag screenshots, photos, PDFs or text files here, "
            "paste a picture with Ctrl+V, or choose “Add files…”."
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #5f6368; font-size: 11pt;")
        self.picture = PictureView()
        self.picture.zoom_changed.connect(self._zoom_changed)
        self.picture.boxes_changed.connect(lambda _n: self._update_actions())
        self.pdf_document = QPdfDocument(self)
        self.pdf = QPdfView()
        self.pdf.setDocument(self.pdf_document)
        self.pdf.setPageMode(QPdfView.PageMode.SinglePage)
        self.pdf.setZoomMode(QPdfView.ZoomMode.FitInView)
        self.pdf.setAcceptDrops(False)
        pdf_box = QWidget()
        pdf_layout = QVBoxLayout(pdf_box)
        pdf_layout.setContentsMargins(0, 0, 0, 0)
        pdf_nav = QHBoxLayout()
        self.pdf_prev = QPushButton("◀ Bac&k a page")
        self.pdf_prev.clicked.connect(lambda: self.go_to_page(self.pdf_page() - 1))
        self.pdf_next = QPushButton("&Move on a page ▶")
        self.pdf_next.clicked.connect(lambda: self.go_to_page(self.pdf_page() + 1))
        self.pdf_page_label = QLabel("")
        pdf_nav.addWidget(self.pdf_prev)
        pdf_nav.addWidget(self.pdf_page_label)
        pdf_nav.addWidget(self.pdf_next)
        pdf_nav.addStretch(1)
        pdf_layout.addLayout(pdf_nav)
        pdf_layout.addWidget(self.pdf, 1)
        self.text = QPlainTextEdit()
        self.text.setTabChangesFocus(True)
        self.text.setReadOnly(True)
        self.text.setAcceptDrops(False)
        self.text.viewport().setAcceptDrops(False)
        for page in (self.empty, self.picture, pdf_box, self.text):
            self.stack.addWidget(page)
        self.pdf_box = pdf_box
        # An explicit minimum lets the case screen fit beside the list on a 1280-pixel
        # screen; the viewer scrolls or fits whatever width it is given.
        self.stack.setMinimumWidth(260)
        split.addWidget(self.stack)

        details_scroll = QScrollArea()
        details_scroll.setWidgetResizable(True)
        details_scroll.setMinimumWidth(180)
        details_scroll.setMaximumWidth(340)
        panel = QWidget()
        panel_layout = QVBoxLayout(panel)
        panel_layout.setContentsMargins(8, 8, 8, 8)
        self.gps_warning = QLabel(
            "⚠ This photo carries a GPS location (where it was taken). "
            "Copies that leave Conduct Casebook have it removed."
        )
        self.gps_warning.setWordWrap(True)
        self.gps_warning.setStyleSheet(
            "background: #fce8e6; color: #a50e0e; border: 1px solid #d93025; "
            "border-radius: 4px; padding: 6px; font-weight: bold;"
        )
        self.gps_warning.setVisible(False)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        panel_layout.addWidget(self.gps_warning)
        panel_layout.addWidget(self.details)
        self.words = ExhibitWords(panel)
        self.words.decided.connect(self.decide_suggestion)
        self.words.edit_details.connect(self.edit_details)
        panel_layout.addWidget(self.words)
        panel_layout.addStretch(1)
        details_scroll.setWidget(panel)
        split.addWidget(details_scroll)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 0)
        split.setSizes([THUMB.width() + 36, 2000, 180])
        outer.addWidget(split, 1)

    def _shortcuts(self) -> None:
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        bindings: list[tuple[Any, Callable[[], None]]] = [
            (QKeySequence.StandardKey.Paste, self.paste),
            (Qt.Key.Key_Right, self.next),
            (Qt.Key.Key_Left, self.previous),
            (Qt.Key.Key_Plus, self.zoom_in),
            (Qt.Key.Key_Equal, self.zoom_in),
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            (Qt.Key.Key_Minus, self.zoom_out),
            (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
            (Qt.Key.Key_1, self.actual_size),
            (Qt.Key.Key_W, self.fit_width),
            (Qt.Key.Key_F, self.fit_page),
            (Qt.Key.Key_R, self.rotate),
        ]
        self._shortcut_objects = []
        for key, slot in bindings:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)
            self._shortcut_objects.append(shortcut)
        # While redacting, the arrow keys move the current box, not to another exhibit.
        self._exhibit_keys = [
            s
            for s in self._shortcut_objects
            if s.key() in (QKeySequence(Qt.Key.Key_Right), QKeySequence(Qt.Key.Key_Left))
        ]

    # ----- case and list ------------------------------------------------------------------

    def set_case(self, case_id: int | None) -> None:
        """Show the evidence of this case (None shows nothing)."""
        same = case_id == self.case_id
        if not same:
            self.redact_button.setChecked(False)
            self.show_message("")
        self.case_id = case_id
        # The case list shows the same case again when an import's change is announced;
        # the import's own end reloads the list (choosing the new exhibit) a moment later.
        if not (same and self._task is not None):
            self.reload()
        self.read_pending()

    def _on_changed(self, changes: OpChanges) -> None:
        # This tab reloads itself after its own commands (choosing the new exhibit), so
        # it reads the list once; other screens' changes to evidence are read here.
        if changes.initiator == INITIATOR or not changes.evidence:
            return
        if self.case_id is not None and changes.touches(self.case_id):
            self.reload()

    def reload(self, select_id: int | None = None) -> None:
        """Re-read the exhibit list, keeping (or moving to) the chosen exhibit."""
        keep = select_id if select_id is not None else (self.current.id if self.current else None)
        exhibits: list[Exhibit] = []
        if self.case_id is not None:
            try:
                everything = self.services.evidence.list_evidence(self.case_id, include_copies=True)
            except CasebookError as error:
                self.show_message(error.message, error=True)
                everything = []
            exhibits = [e for e in everything if e.kind is not EvidenceKind.STRIPPED]
        if exhibits != self.exhibits or self.strip.count() != len(exhibits):
            self._fill_strip(exhibits)
        row = next((i for i, e in enumerate(self.exhibits) if e.id == keep), 0)
        if self.exhibits:
            if self.strip.currentRow() != row:
                self.strip.blockSignals(True)
                self.strip.setCurrentRow(row)
                self.strip.blockSignals(False)
            if self.current is None or self.current != self.exhibits[row]:
                self._row_changed(row)
        else:
            self.current = None
            self.picture.clear_picture()
            self.stack.setCurrentWidget(self.empty)
            self._show_details(None)
        evidence_reading.show_case_flag(self)
        self._update_actions()

    def _fill_strip(self, exhibits: list[Exhibit]) -> None:
        """Put these exhibits in the strip, their thumbnails made or fetched on the pool."""
        self._generation += 1
        self._thumbs_done = set()
        self._thumbs_pending = set()
        self._rows = {}
        self.exhibits = exhibits
        self.strip.blockSignals(True)
        self.strip.clear()
        for row, exhibit in enumerate(self.exhibits):
            item = QListWidgetItem(self._icon_for(exhibit), self._strip_text(exhibit))
            item.setData(_EXHIBIT_ROLE, exhibit.id)
            item.setToolTip(exhibit.original_name)
            self.strip.addItem(item)
            self._rows[exhibit.id] = row
        pictures = [e.id for e in self.exhibits if e.is_image]
        self._thumbs_pending = set(pictures)
        # A few jobs, each answering for a run of exhibits: one per picture made the pool
        # and the database take turns a hundred times over after a large import.
        for start in range(0, len(pictures), THUMBNAILS_PER_JOB):
            job = ThumbnailJob(
                self.services, pictures[start : start + THUMBNAILS_PER_JOB], self._generation
            )
            job.signals.ready.connect(self._thumbnail_ready)
            self.pool.start(job)

    @staticmethod
    def _strip_text(exhibit: Exhibit) -> str:
        if exhibit.kind is EvidenceKind.REDACTED:
            return f"Redacted {exhibit.number}"
        return f"Exhibit {exhibit.number}"

    def _icon_for(self, exhibit: Exhibit) -> QIcon:
        label = "PDF" if exhibit.is_pdf else "TEXT" if exhibit.is_text else "…"
        if label not in self._placeholders:  # drawn once, not once per exhibit
            self._placeholders[label] = _placeholder_icon(label)
        return self._placeholders[label]

    def _thumbnail_ready(self, generation: int, exhibit_id: int, image: QImage) -> None:
        if generation != self._generation:
            return
        self._thumbs_pending.discard(exhibit_id)
        if not image.isNull():
            self._show_thumbnail(exhibit_id, image)
        self._release_memory_when_idle()

    def _show_thumbnail(self, exhibit_id: int, image: QImage) -> None:
        row = self._rows.get(exhibit_id)
        item = self.strip.item(row) if row is not None else None
        if item is None or item.data(_EXHIBIT_ROLE) != exhibit_id:
            return
        if image.size() != THUMB:  # not framed by a ThumbnailJob
            image = framed_thumbnail(image)
        item.setIcon(QIcon(QPixmap.fromImage(image)))
        self._thumbs_done.add(exhibit_id)

    def _release_memory_when_idle(self) -> None:
        """Once an import, its thumbnails and the reading of its text are done, the memory
        their decoding freed is given back to the system (off the GUI thread)."""
        if self._thumbs_pending or self._task is not None or self._reading is not None:
            return
        self.pool.start(return_freed_memory)

    def thumbnails_loaded(self) -> int:
        """How many strip entries show a real thumbnail (for tests and benchmarks)."""
        return len(self._thumbs_done)

    def thumbnail_bytes(self) -> int:
        """Bytes of pixels the strip's thumbnails hold: one framed picture per exhibit of
        the case on show (about 45 KB each), let go when another case is shown."""
        return len(self._thumbs_done) * THUMB.width() * THUMB.height() * 4

    # ----- showing one exhibit ------------------------------------------------------------

    def _row_changed(self, row: int) -> None:
        if row < 0 or row >= len(self.exhibits):
            return
        self.redact_button.setChecked(False)
        self.show_exhibit(self.exhibits[row])

    def show_exhibit(self, exhibit: Exhibit) -> None:
        """Open one exhibit in the viewer and fill the details panel."""
        self.current = exhibit
        self._show_details(exhibit)
        try:
            data = self.services.evidence.content(exhibit.id)
        except CasebookError as error:
            self.picture.clear_picture()
            self.stack.setCurrentWidget(self.empty)
            self.show_message(error.message, error=True)
            self._update_actions()
            return
        if exhibit.is_image:
            self.stack.setCurrentWidget(self.picture)
            job = self.picture.show_picture(data)
            if job is not None:
                self.pool.start(job)
        elif exhibit.is_pdf:
            self.picture.clear_picture()
            self._show_pdf(data)
        else:
            self.picture.clear_picture()
            from app.services.evidence import TYPE_LABELS, decode_text

            decoded = decode_text(data)
            kept = (
                f"This {TYPE_LABELS.get(exhibit.base_type, 'file')} is kept exactly as it "
                "arrived, with its SHA-256 fingerprint (under Details); it is not shown here."
            )
            self.text.setPlainText(display_text(decoded[0]) if decoded else kept)
            self.stack.setCurrentWidget(self.text)
        self._update_actions()
        self._zoom_changed(self.picture.zoom)

    def _show_pdf(self, data: bytes) -> None:
        self.pdf_document.close()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.pdf_document.load(buffer)
        if self._pdf_buffer is not None:
            self._pdf_buffer.deleteLater()
        self._pdf_buffer = buffer
        self.pdf.setZoomMode(QPdfView.ZoomMode.FitInView)
        self.stack.setCurrentWidget(self.pdf_box)
        self.go_to_page(0)

    def pdf_page(self) -> int:
        return self.pdf.pageNavigator().currentPage()

    def go_to_page(self, page: int) -> None:
        count = self.pdf_document.pageCount()
        if count <= 0:
            self.pdf_page_label.setText("")
            return
        page = max(0, min(count - 1, page))
        self.pdf.pageNavigator().jump(page, QPointF(), self.pdf.pageNavigator().currentZoom())
        self.pdf_page_label.setText(f"Page {page + 1} of {count}")
        self.pdf_prev.setEnabled(page > 0)
        self.pdf_next.setEnabled(page < count - 1)

    def _show_details(self, exhibit: Exhibit | None) -> None:
        if exhibit is None:
            self.details.setText("")
            self.gps_warning.setVisible(False)
            self.words.show_exhibit(None, "")
            return
        from app.services.evidence import TYPE_LABELS, format_size

        e = html.escape
        rows: list[tuple[str, str]] = [
            ("File name", exhibit.original_name),
            ("Type", TYPE_LABELS.get(exhibit.base_type, exhibit.base_type)),
            ("Size", format_size(exhibit.size)),
        ]
        if exhibit.width and exhibit.height:
            rows.append(("Dimensions", f"{exhibit.width} × {exhibit.height} pixels"))
        if exhibit.page_count:
            rows.append(("Pages", str(exhibit.page_count)))
        if exhibit.text_note:
            rows.append(("Text encoding", exhibit.text_note))
        d = exhibit.details
        captured = " by ".join(p for p in (format_date_time(d.captured_at), d.captured_by) if p)
        rows += [
            ("Captured", captured),
            ("Posted", format_date_time(d.posted_at)),
            ("Post address", d.post_url),
            ("Sent by", d.source),
            ("How it came", d.received_via),
            *((f"Custody {n}", hop.sentence()) for n, hop in enumerate(d.custody, start=1)),
            *((f"Email {k}", v) for k, v in exhibit.email_headers),
            ("Note", d.note),
            ("Added", f"{format_date_time(exhibit.added_at)} by {exhibit.added_by}"),
        ]
        if exhibit.parent_id is not None:
            parent = next((x for x in self.exhibits if x.id == exhibit.parent_id), None)
            came = "Attached to" if exhibit.kind is EvidenceKind.ORIGINAL else "Made from"
            rows.append((came, parent.label if parent else f"evidence {exhibit.parent_id}"))
        body = "".join(
            f"<tr><td style='color:#5f6368; padding-right:8px; vertical-align:top'>{e(k)}</td>"
            f"<td>{e(v)}</td></tr>"
            for k, v in rows
            if v
        )
        sha = " ".join(exhibit.sha256[i : i + 16] for i in range(0, 64, 16))
        text = (
            f"<h3 style='margin:0'>{e(exhibit.label)}</h3>"
            f"<table cellspacing='0' cellpadding='2'>{body}</table>"
            f"<p style='margin-top:8px'><b>SHA-256</b><br><span style='font-family:monospace'>"
            f"{e(sha)}</span></p>"
        )
        if exhibit.exif:
            exif_rows = "".join(
                f"<tr><td style='color:#5f6368; padding-right:8px'>{e(k)}</td><td>{e(v)}</td></tr>"
                for k, v in exhibit.exif
            )
            text += (
                "<p style='margin-bottom:2px'><b>Photo metadata (EXIF)</b></p>"
                f"<table>{exif_rows}</table>"
            )
        self.details.setText(text)
        self.gps_warning.setVisible(exhibit.has_location)
        self.words.show_exhibit(exhibit, self._words_of(exhibit))

    def _words_of(self, exhibit: Exhibit) -> str:
        if exhibit.kind is not EvidenceKind.ORIGINAL or not exhibit.text_state:
            return ""
        try:
            return self.services.reading.text_of(exhibit.id)
        except CasebookError:
            return ""

    # ----- viewer actions -----------------------------------------------------------------

    def _zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%" if self.picture.has_picture else "")

    def zoom_in(self) -> None:
        if self._showing_pdf():
            self._pdf_zoom(1.25)
        else:
            self.picture.zoom_in()

    def zoom_out(self) -> None:
        if self._showing_pdf():
            self._pdf_zoom(1 / 1.25)
        else:
            self.picture.zoom_out()

    def _pdf_zoom(self, factor: float) -> None:
        current = self.pdf.zoomFactor()
        self.pdf.setZoomMode(QPdfView.ZoomMode.Custom)
        self.pdf.setZoomFactor(max(0.1, min(8.0, current * factor)))

    def _showing_pdf(self) -> bool:
        return self.stack.currentWidget() is self.pdf_box

    def fit_width(self) -> None:
        if self._showing_pdf():
            self.pdf.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        else:
            self.picture.fit_width()

    def fit_page(self) -> None:
        if self._showing_pdf():
            self.pdf.setZoomMode(QPdfView.ZoomMode.FitInView)
        else:
            self.picture.fit_page()

    def actual_size(self) -> None:
        if self._showing_pdf():
            self.pdf.setZoomMode(QPdfView.ZoomMode.Custom)
            self.pdf.setZoomFactor(1.0)
        else:
            self.picture.actual_size()

    def rotate(self) -> None:
        self.picture.rotate_right()

    def next(self) -> None:
        if self.strip.currentRow() < self.strip.count() - 1:
            self.strip.setCurrentRow(self.strip.currentRow() + 1)

    def previous(self) -> None:
        if self.strip.currentRow() > 0:
            self.strip.setCurrentRow(self.strip.currentRow() - 1)

    def _update_actions(self) -> None:
        has_case = self.case_id is not None
        busy = self._task is not None
        for intake in (self.add_button, self.paste_button):
            intake.setEnabled(has_case and not busy)
        self.verify_button.setEnabled(has_case and not busy)
        picture = self.current is not None and self.current.is_image
        viewable = picture or (self.current is not None and self.current.is_pdf)
        for widget in (
            self.zoom_in_button,
            self.zoom_out_button,
            self.fit_width_button,
            self.fit_page_button,
            self.actual_button,
        ):
            widget.setEnabled(viewable)
        self.rotate_button.setEnabled(picture)
        self.redact_button.setEnabled(viewable and not busy)
        row = self.strip.currentRow()
        self.prev_button.setEnabled(row > 0)
        self.next_button.setEnabled(0 <= row < self.strip.count() - 1)
        boxes = len(self.picture.boxes()) if self.picture.redacting else 0
        self.undo_box_button.setEnabled(boxes > 0)
        self.save_redacted_button.setEnabled(boxes > 0)

    # ----- messages ---------------------------------------------------------------------

    def show_message(self, text: str, *, error: bool = False) -> None:
        """An inline message above the viewer (empty text hides it)."""
        self.message.setText(text)
        colours = ("#fce8e6", "#a50e0e", "#d93025") if error else ("#e6f4ea", "#0d652d", "#34a853")
        self.message.setStyleSheet(
            f"background: {colours[0]}; color: {colours[1]}; border: 1px solid {colours[2]};"
            "border-radius: 4px; padding: 6px;"
        )
        self.message.setVisible(bool(text))

    # ----- intake -----------------------------------------------------------------------

    def choose_files(self) -> None:
        names = open_file_names(
            self,
            "evidence",
            "Add evidence",
            "Evidence (*.png *.jpg *.jpeg *.webp *.gif *.pdf *.txt *.eml *.msg);;All files (*)",
        )
        if names:
            self.import_files([Path(n) for n in names])

    def import_files(self, paths: list[Path]) -> Operation | None:
        """Add files in the background with progress; all or none are added."""
        if self.case_id is None or not paths:
            return None
        case_id = self.case_id
        operations = self.services.operations
        return self._start_import(
            lambda report, cancelled: operations.add_evidence(
                case_id, paths, progress=_in_steps(report), cancelled=cancelled
            ),
            len(paths),
        )

    def import_data(self, items: list[tuple[str, bytes]]) -> Operation | None:
        """Add pasted content in the background."""
        if self.case_id is None or not items:
            return None
        case_id = self.case_id
        operations = self.services.operations
        return self._start_import(
            lambda report, cancelled: operations.add_evidence_bytes(
                case_id, items, progress=_in_steps(report), cancelled=cancelled
            ),
            len(items),
        )

    def _start_import(
        self, command: Callable[[Progress, Cancelled], OpResult[Any]], count: int
    ) -> Operation | None:
        if self._task is not None:
            self.show_message("Please wait until the evidence being added is finished.", error=True)
            return None
        self.progress.setRange(0, max(1, count * 2))
        self.progress.setValue(0)
        self.progress_row.setVisible(True)
        self.show_message("")
        operation = self.signals.runner.run(
            command,
            initiator=INITIATOR,
            on_done=self._import_finished,
            on_refused=self._import_failed,
        )
        operation.progress.connect(self._import_progress)
        self._task = operation
        self._update_actions()
        return operation

    def cancel_import(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.stop_button.setEnabled(False)

    def _import_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _end_import(self) -> None:
        self._task = None
        self.progress_row.setVisible(False)
        self.stop_button.setEnabled(True)
        self._update_actions()

    def _import_finished(self, results: Any) -> None:
        # The window's other views refresh from the change just announced, in this turn of
        # the event loop; the exhibits are listed in the next, so the two pauses never add
        # up. The import counts as running until they are.
        QTimer.singleShot(0, self, lambda: self._show_imported(results))

    def _show_imported(self, results: Any) -> None:
        added = [r for r in results if not r.duplicate]
        duplicates = [r for r in results if r.duplicate]
        parts = []
        if added:
            numbers = ", ".join(str(r.exhibit.number) for r in added)
            noun = "Exhibit" if len(added) == 1 else "Exhibits"
            parts.append(f"{noun} {numbers} added.")
        for r in duplicates:
            parts.append(f"{r.exhibit.original_name} is already on this case as {r.exhibit.label}.")
        self.show_message(" ".join(parts) + self._after_import_note)
        self._after_import_note = ""
        if added and self.ask_details:
            self.ask_where_from([r.exhibit for r in added if r.exhibit.parent_id is None])
        target = (
            added[-1].exhibit.id if added else (duplicates[0].exhibit.id if duplicates else None)
        )
        if self.case_id is not None:
            self.reload(select_id=target)
        # Reading the new exhibits' words starts in a turn of its own: listing them and
        # starting the reading each query the database, and together made one long pause.
        # The import counts as running until then.
        QTimer.singleShot(0, self, lambda: self._start_reading_imported(bool(added)))

    def _start_reading_imported(self, added: bool) -> None:
        self._end_import()
        if added and self.case_id is not None:
            self.read_pending()

    def _import_failed(self, refused: Refusal) -> None:
        self._end_import()
        self._after_import_note = ""
        if refused.cancelled:
            self.show_message(refused.message)
        else:
            self.show_message(refused.message + " Nothing was added.", error=True)

    def paste(self) -> None:
        """Add the picture, files or text on the clipboard."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return
        self.add_from_mime(mime, pasted=True)

    def add_from_mime(self, mime: QMimeData, *, pasted: bool) -> bool:
        if self.case_id is None:
            return False
        files = _local_files(mime) if mime.hasUrls() else []
        if files:
            self.import_files(files)
            return True
        if mime.hasFormat(OUTLOOK_NAMES):
            items, note = outlook_drop(mime)
            if not items:
                self.show_message(note, error=True)
                return False
            self.import_data(items)
            self._after_import_note = note
            return True
        stamp = utc_now().astimezone().strftime("%d-%m-%Y %H.%M.%S")
        verb = "Pasted" if pasted else "Dropped"
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                array = QByteArray()
                buffer = QBuffer(array)
                buffer.open(QIODevice.OpenModeFlag.WriteOnly)
                image.save(buffer, "PNG")  # type: ignore[call-overload]
                buffer.close()
                self.import_data([(f"{verb} picture {stamp}.png", bytes(array.data()))])
                return True
        if mime.hasText() and mime.text().strip():
            self.import_data([(f"{verb} text {stamp}.txt", mime.text().encode("utf-8"))])
            return True
        self.show_message("There is no picture, file or text on the clipboard to add.", error=True)
        return False

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if self.case_id is not None and (
            _local_files(mime)
            or mime.hasFormat(OUTLOOK_NAMES)
            or mime.hasImage()
            or (mime.hasText() and not mime.hasUrls())
        ):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.add_from_mime(event.mimeData(), pasted=False):
            event.acceptProposedAction()
        else:
            event.ignore()

    # ----- integrity ----------------------------------------------------------------------

    def verify_integrity(self) -> Operation | None:
        """Re-hash this case's stored files in the background and report the result."""
        if self.case_id is None or self._task is not None:
            return None
        case_id = self.case_id
        evidence = self.services.evidence
        self._task = self.signals.runner.run(
            lambda _report, _cancelled: OpResult(evidence.verify(case_id)),
            initiator=INITIATOR,
            on_done=self._verified,
            on_refused=self._verify_failed,
        )
        self.show_message("Checking every stored file…")
        self._update_actions()
        return self._task

    def _verified(self, report: Any) -> None:
        self._task = None
        self._update_actions()
        lines = report.sentences()
        if report.ok:
            self.show_message(lines[0])
        else:
            self.show_message(
                "Integrity problem: " + " ".join(lines) + " Restore these files from a backup.",
                error=True,
            )

    def _verify_failed(self, refused: Refusal) -> None:
        self._task = None
        self._update_actions()
        self.show_message(refused.message, error=True)

    # ----- redaction ----------------------------------------------------------------------

    def set_redacting(self, on: bool) -> None:
        if on and not evidence_reading.start_redacting(self):
            self.redact_button.setChecked(False)
            return
        if on:
            self.picture.fit_page()
            self._fill_redact_for()
        self.picture.set_redacting(on)
        if not on:
            evidence_reading.stop_redacting(self)
        self.redact_bar.setVisible(on)
        for shortcut in self._exhibit_keys:
            shortcut.setEnabled(not on)
        if on:
            # Keyboard users draw straight away: Insert adds a box where the picture is shown.
            self.picture.setFocus(Qt.FocusReason.OtherFocusReason)
            self.picture.setAccessibleDescription(PictureView.KEYBOARD_HELP)
        self._update_actions()

    def _fill_redact_for(self) -> None:
        self.redact_for.clear()
        for recipient in (Recipient.AUTHOR, Recipient.LADO, Recipient.PLATFORM):
            self.redact_for.addItem(f"For {RULES[recipient].label}", recipient.value)
        if self.case_id is not None:
            for link in self.services.cases.get_case(self.case_id).people:
                self.redact_for.addItem(
                    f"For {link.person.name}’s subject access request",
                    person_audience(link.person.id),
                )

    def _undo_box(self) -> None:
        self.picture.undo_box()

    def save_redacted(self) -> bool:
        """Save the drawn boxes as a new redacted copy of the exhibit being viewed."""
        if self.current is None:
            return False
        boxes = evidence_reading.boxes_to_save(self)
        audience = str(self.redact_for.currentData() or Recipient.AUTHOR.value)
        exhibit_id = self.current.id
        copy = self.signals.runner.perform(
            lambda: self.services.operations.redact(exhibit_id, boxes, audience),
            initiator=INITIATOR,
            on_refused=lambda refused: self.show_message(refused.message, error=True),
        )
        if copy is None:
            return False
        count = len(boxes)
        self.redact_button.setChecked(False)
        self.show_message(
            f"Redacted copy of exhibit {copy.number} saved "
            f"({count} area{'s' if count != 1 else ''} hidden). The original is unchanged."
        )
        if self.case_id is not None:
            self.reload(select_id=copy.id)
        return True

    def unsaved_boxes(self) -> int:
        """How many redaction boxes are drawn but not yet saved as a redacted copy."""
        if not self.redact_button.isChecked():
            return 0
        return len(self.picture.boxes())

    def confirm_discard_boxes(self) -> bool:
        """Before moving away: offer to save drawn boxes; True when it is fine to go on."""
        count = self.unsaved_boxes()
        if not count or self.current is None:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved redaction",
            f"You have drawn {count} box{'es' if count != 1 else ''} over "
            f"{self.current.label} but not saved the redacted copy. Save it now?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_redacted()
        if answer == QMessageBox.StandardButton.Discard:
            self.redact_button.setChecked(False)
            return True
        return False

    # ----- words, names and capture details (see evidence_reading) ---------------------------

    def read_pending(self) -> Operation | None:
        """Read the text of this case's new pictures and PDFs in the background."""
        reading: Operation | None = evidence_reading.read_pending(self)
        return reading

    def ask_where_from(self, exhibits: list[Exhibit]) -> Any:
        """Ask who sent the evidence just added, how and when (a dialog that does not block)."""
        return evidence_reading.ask_where_from(self, exhibits)

    def edit_details(self) -> Any:
        """Change the capture details of the exhibit on show."""
        return evidence_reading.edit_details(self)

    def decide_suggestion(self, suggestion_id: int, accept: bool) -> None:
        evidence_reading.decide_suggestion(self, suggestion_id, accept)

    # ----- shutting down --------------------------------------------------------------------

    def wait_for_work(self, msecs: int = 30_000) -> bool:
        """Wait for background work to finish (before closing, and in tests)."""
        # Poll instead of QThreadPool.waitForDone: a worker running Python code needs the
        # interpreter lock, which a blocking wait on this thread could hold.
        deadline = time.monotonic() + msecs / 1000
        while self.pool.activeThreadCount() > 0 or self.signals.runner.pool.activeThreadCount():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.read_pending()  # reading waits until the evidence is looked at

    def closeEvent(self, event: Any) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._reading is not None:
            self._reading.cancel()
        self.wait_for_work()
        super().closeEvent(event)
