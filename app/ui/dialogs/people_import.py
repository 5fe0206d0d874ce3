"""People > Import from the MIS: choose an export, match its columns once if the casebook
does not know them, see what would change, decide on near matches, import, undo."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time
from app.domain.errors import CasebookError
from app.domain.mis_import import FIELD_LABELS, Field, ImportRefused, MappingNeeded
from app.domain.people import PERSON_KIND_LABELS
from app.services.casebook import Services
from app.services.people_import import NEW, SKIP, Decision, ImportPreview
from app.ui.file_dialogs import open_file_name
from app.ui.signals import AppSignals
from app.ui.widgets import run_while_busy

log = logging.getLogger(__name__)

_LATER = ""
_COUNTS = (
    ("new", "New people"),
    ("updated", "Updated"),
    ("unchanged", "Unchanged"),
    ("to_review", "To review"),
    ("links_new", "New family links"),
)


class PeopleImportDialog(QDialog):
    """Preview with counts, a review list for near matches, import and undo."""

    def __init__(
        self, services: Services, signals: AppSignals | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.signals = signals
        self.data: bytes = b""
        self.file_name = ""
        self.preview: ImportPreview | None = None
        self.headings: tuple[str, ...] = ()
        self.setWindowTitle("Import pupils and contacts from the MIS")
        self.setMinimumWidth(760)

        intro = QLabel(
            "Choose a pupil or contact export saved as CSV from SIMS, Arbor or Bromcom (or "
            "any CSV). Nothing is written until you press Import; an import can be undone.",
            self,
        )
        intro.setWordWrap(True)
        self.choose_button = QPushButton("&Choose file…", self)
        self.choose_button.clicked.connect(self.choose_file)
        self.file_label = QLabel("No file chosen.", self)
        self.file_label.setTextFormat(Qt.TextFormat.PlainText)
        self.file_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.choose_button)
        top.addWidget(self.file_label, 1)

        # Page 0: the preview. Page 1: matching the columns of an unknown CSV.
        self.pages = QStackedWidget(self)
        preview_page = QWidget(self)
        counts_box = QGroupBox("What the import would do", preview_page)
        grid = QGridLayout(counts_box)
        self.count_labels: dict[str, QLabel] = {}
        for column, (key, label) in enumerate(_COUNTS):
            number = QLabel("–", counts_box)
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            number.setStyleSheet("font-size: 18pt; font-weight: bold;")
            number.setAccessibleName(label)
            caption = QLabel(label, counts_box)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(number, 0, column)
            grid.addWidget(caption, 1, column)
            self.count_labels[key] = number
        self.review_label = QLabel(
            "People who may already be recorded: choose for each, or leave them for later "
            "(they are then not imported).",
            preview_page,
        )
        self.review_label.setWordWrap(True)
        self.review_table = QTableWidget(0, 5, preview_page)
        self.review_table.setHorizontalHeaderLabels(
            ["Line", "In the file", "May be", "Why", "Decision"]
        )
        self.review_table.verticalHeader().setVisible(False)
        self.review_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.review_table.setAccessibleName("People to review")
        self.review_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.review_label.setBuddy(self.review_table)
        self.problems = QPlainTextEdit(preview_page)
        self.problems.setReadOnly(True)
        self.problems.setAccessibleName("Why the file cannot be imported")
        self.problems.hide()
        preview_layout = QVBoxLayout(preview_page)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(counts_box)
        preview_layout.addWidget(self.review_label)
        preview_layout.addWidget(self.review_table, 1)
        preview_layout.addWidget(self.problems, 1)

        mapping_page = QWidget(self)
        mapping_intro = QLabel(
            "The casebook does not know these columns. Say what each holds; the matching is "
            "remembered for the next file with the same columns.",
            mapping_page,
        )
        mapping_intro.setWordWrap(True)
        self.mapping_table = QTableWidget(0, 2, mapping_page)
        self.mapping_table.setHorizontalHeaderLabels(["Column in the file", "Holds"])
        self.mapping_table.verticalHeader().setVisible(False)
        self.mapping_table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch
        )
        self.mapping_table.setAccessibleName("Columns of the file")
        self.remember_button = QPushButton("&Remember and preview", mapping_page)
        self.remember_button.clicked.connect(self.remember_mapping)
        mapping_layout = QVBoxLayout(mapping_page)
        mapping_layout.setContentsMargins(0, 0, 0, 0)
        mapping_layout.addWidget(mapping_intro)
        mapping_layout.addWidget(self.mapping_table, 1)
        mapping_layout.addWidget(self.remember_button, 0, Qt.AlignmentFlag.AlignRight)
        self.pages.addWidget(preview_page)
        self.pages.addWidget(mapping_page)

        self.last_label = QLabel(self)
        self.last_label.setWordWrap(True)
        self.last_label.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton(
            "&Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.undo_button = self.buttons.addButton(
            "&Undo last import…", QDialogButtonBox.ButtonRole.ActionRole
        )
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setText("C&lose")
        self.import_button.clicked.connect(self.run_import)
        self.undo_button.clicked.connect(self.undo_last)
        close.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.last_label)
        layout.addWidget(self.buttons)
        self.import_button.setEnabled(False)
        self._show_last_import()
        self.resize(820, 560)

    # ----- choosing and previewing -----------------------------------------------------

    def choose_file(self) -> None:
        chosen = open_file_name(
            self, "mis-import", "Choose the MIS export", "CSV files (*.csv *.txt);;All files (*)"
        )
        if chosen:
            self.load(Path(chosen))

    def load(self, path: Path) -> None:
        """Read a file and show what importing it would do."""
        try:
            self.data = path.read_bytes()
        except OSError as error:
            self._refused(f"The file {path.name} cannot be read ({error.strerror}).")
            return
        self.file_name = path.name
        self.refresh_preview()

    def decisions(self) -> dict[str, Decision]:
        """What was chosen for each person on the review list."""
        chosen: dict[str, Decision] = {}
        for row in range(self.review_table.rowCount()):
            box = self.review_table.cellWidget(row, 4)
            item = self.review_table.item(row, 0)
            if isinstance(box, QComboBox) and item is not None and box.currentData() != _LATER:
                chosen[str(item.data(Qt.ItemDataRole.UserRole))] = box.currentData()
        return chosen

    def refresh_preview(self) -> None:
        """Preview the current file with the current decisions."""
        if not self.data:
            return
        decisions = self.decisions()
        try:
            preview = run_while_busy(
                self,
                "Reading the file…",
                lambda: self.services.people_import.preview(self.data, self.file_name, decisions),
            )
        except MappingNeeded as needed:
            self._ask_mapping(needed.headings)
            return
        except ImportRefused as refused:
            self._refused(refused.message, [str(p) for p in refused.problems])
            return
        except CasebookError as error:
            self._refused(error.message)
            return
        self._show_preview(preview)

    def _show_preview(self, preview: ImportPreview) -> None:
        self.preview = preview
        self.pages.setCurrentIndex(0)
        self.problems.hide()
        self.review_table.show()
        self.file_label.setText(
            f"{preview.file_name}: {preview.system} export ({preview.encoding}), "
            f"{preview.rows} rows — {preview.pupils} pupils and {preview.contacts} contacts."
        )
        counts = preview.counts()
        for key, label in self.count_labels.items():
            label.setText(str(counts[key]))
        rows = list(preview.review)
        self.review_table.setRowCount(len(rows))
        for row, item in enumerate(rows):
            line = QTableWidgetItem(str(item.line))
            line.setData(Qt.ItemDataRole.UserRole, item.key)
            self.review_table.setItem(row, 0, line)
            kind = PERSON_KIND_LABELS[item.kind].lower()
            here = f"{item.name} ({kind}, {item.postcode or 'no postcode'})"
            there = f"{item.candidate_name} ({item.candidate_postcode or 'no postcode'})"
            self.review_table.setItem(row, 1, QTableWidgetItem(here))
            self.review_table.setItem(row, 2, QTableWidgetItem(there))
            self.review_table.setItem(row, 3, QTableWidgetItem(item.reason))
            box = QComboBox(self.review_table)
            box.setAccessibleName(f"Decision for line {item.line}")
            box.addItem("Decide later", _LATER)
            box.addItem(f"Same person as {item.candidate_name}", item.candidate_id)
            box.addItem("A different person: add them", NEW)
            box.addItem("Leave out of this import", SKIP)
            if item.decision is not None:
                box.setCurrentIndex(max(0, box.findData(item.decision)))
            box.currentIndexChanged.connect(self._decision_changed)
            self.review_table.setCellWidget(row, 4, box)
        for column in (0, 1, 2, 4):  # the reason takes what is left
            self.review_table.resizeColumnToContents(column)
        self.review_label.setVisible(bool(rows))
        self.review_table.setVisible(bool(rows))
        changes = preview.new + preview.updated + preview.links_new
        self.import_button.setEnabled(changes > 0)
        self.import_button.setToolTip("" if changes else "Nothing in the file would change.")

    def _decision_changed(self) -> None:
        """A decision changes the counts: preview again with it (once this signal is done,
        as the preview rebuilds the box that sent it)."""
        QTimer.singleShot(0, self.refresh_preview)

    def _refused(self, message: str, problems: list[str] | None = None) -> None:
        self.preview = None
        self.pages.setCurrentIndex(0)
        for label in self.count_labels.values():
            label.setText("–")
        self.review_label.hide()
        self.review_table.hide()
        self.problems.setPlainText(message + ("\n\n" + "\n".join(problems) if problems else ""))
        self.problems.show()
        self.import_button.setEnabled(False)

    # ----- matching columns -------------------------------------------------------------

    def _ask_mapping(self, headings: tuple[str, ...]) -> None:
        self.headings = headings
        self.pages.setCurrentIndex(1)
        self.file_label.setText(f"{self.file_name}: columns not recognised.")
        self.mapping_table.setRowCount(len(headings))
        for row, heading in enumerate(headings):
            self.mapping_table.setItem(row, 0, QTableWidgetItem(heading))
            box = QComboBox(self.mapping_table)
            box.setAccessibleName(f"What the column {heading} holds")
            for field in Field:
                box.addItem(FIELD_LABELS[field], field.value)
            box.setCurrentIndex(box.findData(Field.IGNORE.value))
            self.mapping_table.setCellWidget(row, 1, box)
        self.mapping_table.resizeColumnToContents(0)
        self.import_button.setEnabled(False)

    def remember_mapping(self) -> None:
        """Keep the matching chosen for these columns, then preview the file with it."""
        mapping: dict[str, Field] = {}
        for row, heading in enumerate(self.headings):
            box = self.mapping_table.cellWidget(row, 1)
            if isinstance(box, QComboBox):
                mapping[heading] = Field(box.currentData())
        try:
            self.services.people_import.remember_mapping(self.headings, mapping)
        except CasebookError as error:
            QMessageBox.warning(self, "The columns are not matched yet", error.message)
            return
        self.refresh_preview()

    # ----- importing and undoing ----------------------------------------------------------

    def run_import(self) -> None:
        """Import the file as previewed, with the decisions made."""
        if self.preview is None:
            return
        decisions = self.decisions()
        try:
            result = run_while_busy(
                self,
                "Importing…",
                lambda: self.services.people_import.import_file(
                    self.data, self.file_name, decisions
                ),
            )
        except CasebookError as error:
            log.info("Import refused: %s", type(error).__name__)
            QMessageBox.warning(self, "Nothing was imported", error.message)
            return
        counts = result.preview.counts()
        self._changed()
        QMessageBox.information(
            self,
            "Imported",
            f"{counts['new']} added, {counts['updated']} updated, {counts['unchanged']} "
            f"unchanged, {counts['to_review']} left for review.",
        )
        self.refresh_preview()
        self._show_last_import()

    def undo_last(self) -> None:
        """Undo the latest import, after asking."""
        imports = [i for i in self.services.people_import.imports() if i.undone_at is None]
        if not imports:
            QMessageBox.information(self, "Nothing to undo", "There is no import to undo.")
            return
        last = imports[0]
        answer = QMessageBox.question(
            self,
            "Undo the import",
            f"Undo the import of {last.file_name} on {format_date_time(last.at)}? People it "
            "added are removed (unless a case names them now) and people it changed go back "
            "as they were.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            undone = run_while_busy(self, "Undoing…", self.services.people_import.undo_last)
        except CasebookError as error:
            QMessageBox.warning(self, "The import was not undone", error.message)
            return
        self._changed()
        QMessageBox.information(
            self,
            "Import undone",
            f"{undone.removed} removed, {undone.restored} put back as they were, "
            f"{undone.kept} kept (on a case now, or changed since).",
        )
        self.refresh_preview()
        self._show_last_import()

    def _changed(self) -> None:
        if self.signals is not None:
            self.signals.data_changed.emit(0)

    def _show_last_import(self) -> None:
        try:
            imports = self.services.people_import.imports()
        except CasebookError:
            imports = []
        live = [i for i in imports if i.undone_at is None]
        self.undo_button.setEnabled(bool(live))
        if not imports:
            self.last_label.setText("No import has been made yet.")
            return
        last = imports[0]
        state = " (undone)" if last.undone_at else ""
        self.last_label.setText(
            f"Last import: {last.file_name}, {last.system}, {format_date_time(last.at)} by "
            f"{last.by}: {last.counts.get('new', 0)} added, {last.counts.get('updated', 0)} "
            f"updated{state}."
        )
