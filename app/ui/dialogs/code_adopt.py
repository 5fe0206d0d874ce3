"""Adopt a revised Code of Conduct: its text, which standard each clause is, when it starts."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.code_of_conduct import (
    MAX_CODE_TEXT,
    STANDARD_DESCRIPTIONS,
    STANDARD_IDS,
    normalise_spacing,
    standards_in_text,
)
from app.domain.dates import format_short_date, london_today
from app.domain.errors import CasebookError, ValidationError
from app.services.casebook import Services
from app.services.code import CodeVersionInfo

log = logging.getLogger(__name__)


class AdoptCodeDialog(QDialog):
    """Choose the revised Code's text, map its clauses to the standards, set the date."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.text = ""
        self.source_name = ""
        self.adopted: CodeVersionInfo | None = None
        self.setWindowTitle("Adopt a revised Code of Conduct")
        self.resize(820, 760)

        versions = services.code.versions()
        listing = "; ".join(
            f"version {v.version} from {format_short_date(v.effective_on)}"
            + (" (in force)" if v.in_force else "")
            for v in versions
        )
        intro = QLabel(
            "The revised Code’s words are kept exactly as written, and every earlier version "
            f"is kept: letters already issued keep the words they quoted. Recorded: {listing}.",
            self,
        )
        intro.setWordWrap(True)

        self.file_label = QLabel("No file chosen", self)
        choose = QPushButton("&Choose the Code’s text file…", self)
        choose.clicked.connect(self.choose_file)
        file_row = QHBoxLayout()
        file_row.addWidget(choose)
        file_row.addWidget(self.file_label, 1)

        newest = versions[-1].version
        major, _, minor = newest.partition(".")
        self.version = QLineEdit(f"{major}.{int(minor.split('.')[0] or 0) + 1}", self)
        self.version.setAccessibleName("Version number")
        today = london_today(services.ctx.now())
        start = today + timedelta(days=1)
        self.effective = QDateEdit(QDate(start.year, start.month, start.day), self)
        self.effective.setDisplayFormat("dd/MM/yyyy")
        self.effective.setCalendarPopup(True)
        self.effective.setMinimumDate(QDate(today.year, today.month, today.day))
        form = QFormLayout()
        form.addRow("&Version", self.version)
        form.addRow("&In force from", self.effective)

        self.mapping_box = QWidget(self)
        self.mapping_grid = QGridLayout(self.mapping_box)
        self.mapping_grid.setColumnStretch(0, 3)
        self.mapping_grid.setColumnStretch(1, 2)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.mapping_box)
        mapping_group = QGroupBox("Which standard is each clause?", self)
        QVBoxLayout(mapping_group).addWidget(scroll)
        self.clause_boxes: list[QComboBox] = []

        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet("color:#a4262c;")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.adopt_button = self.buttons.addButton("&Adopt", QDialogButtonBox.ButtonRole.AcceptRole)
        self.adopt_button.setEnabled(False)
        self.buttons.accepted.connect(self.adopt)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(file_row)
        layout.addLayout(form)
        layout.addWidget(mapping_group, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "The revised Code of Conduct", "", "Text files (*.txt *.json)"
        )
        if path:
            self.load(Path(path))

    def load(self, path: Path) -> None:
        """Read the revised Code's text and list its standards to be mapped."""
        self.message.clear()
        try:
            if path.stat().st_size > MAX_CODE_TEXT * 4:
                raise ValidationError(f"{path.name} is too large to be a Code of Conduct.")
            text = path.read_bytes().decode("utf-8")
            clauses = standards_in_text(text)
        except OSError:
            self.message.setText(f"{path.name} could not be read.")
            return
        except UnicodeDecodeError:
            self.message.setText(f"{path.name} is not UTF-8 text; save it as UTF-8 first.")
            return
        except CasebookError as error:
            self.message.setText(error.message)
            return
        self.text, self.source_name = text, path.name
        self.file_label.setText(path.name)
        while self.mapping_grid.count():
            item = self.mapping_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.clause_boxes = []
        for row, words in enumerate(clauses):
            label = QLabel(f"{row + 1}. {normalise_spacing(words)}", self.mapping_box)
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignTop)
            box = QComboBox(self.mapping_box)
            box.setAccessibleName(f"Standard of clause {row + 1}")
            box.addItem("(not a standard the casebook uses)", "")
            for standard_id in STANDARD_IDS:
                box.addItem(STANDARD_DESCRIPTIONS[standard_id].capitalize(), standard_id)
            if len(clauses) == len(STANDARD_IDS):
                box.setCurrentIndex(row + 1)
            box.currentIndexChanged.connect(self.message.clear)
            self.mapping_grid.addWidget(label, row, 0)
            self.mapping_grid.addWidget(box, row, 1)
            self.clause_boxes.append(box)
        self.adopt_button.setEnabled(True)

    def mapping(self) -> dict[int, str]:
        return {
            number: box.currentData()
            for number, box in enumerate(self.clause_boxes, start=1)
            if box.currentData()
        }

    def adopt(self) -> None:
        if not self.text:
            return
        chosen = self.effective.date()
        day = date(chosen.year(), chosen.month(), chosen.day())
        try:
            self.adopted = self.services.code.adopt(
                self.text, self.source_name, self.version.text(), day, self.mapping()
            )
        except CasebookError as error:
            log.info("Revised Code not adopted: %s", type(error).__name__)
            self.message.setText(error.message)
            return
        self.accept()
