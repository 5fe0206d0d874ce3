"""The parent and carer guidance leaflet: A4 pages, or an A5 booklet with how to print it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_long_date
from app.files import save_user_file
from app.services.casebook import Services
from app.services.letters import BOOKLET_PRINTING
from app.ui.errors import refusals_shown
from app.ui.file_dialogs import save_file_name

A4_PRINTING = "Print it on A4 paper, on one side or both."


class GuidanceLeafletDialog(QDialog):
    """Choose A4 pages or the folded A5 booklet, then save the leaflet as a PDF."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.saved: Path | None = None
        self.setWindowTitle("Parent guidance leaflet")
        code = services.code.in_force()
        since = format_long_date(date.fromisoformat(code.in_force_from))
        intro = QLabel(
            "The guide for parents, carers and visitors, in the words of the Code of Conduct "
            f"(version {code.version}, in force from {since}), with the school’s contacts.",
            self,
        )
        intro.setWordWrap(True)
        self.a4 = QRadioButton("&A4 pages, to print or to send as a PDF", self)
        self.booklet = QRadioButton(
            "A5 &booklet: two pages on each side of an A4 sheet, folded in half", self
        )
        self.a4.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.a4)
        group.addButton(self.booklet)
        self.how_to_print = QLabel(self)
        self.how_to_print.setWordWrap(True)
        self.how_to_print.setAccessibleName("How to print it")
        self.outcome = QLabel(self)
        self.outcome.setWordWrap(True)
        self.outcome.setVisible(False)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("&Save as PDF…")
        self.save_button.clicked.connect(self.choose_file)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.a4)
        layout.addWidget(self.booklet)
        layout.addWidget(self.how_to_print)
        layout.addWidget(self.outcome)
        layout.addWidget(buttons)
        self.booklet.toggled.connect(self._explain)
        self.setMinimumWidth(560)
        self._explain()

    def _explain(self) -> None:
        self.how_to_print.setText(BOOKLET_PRINTING if self.booklet.isChecked() else A4_PRINTING)
        self.adjustSize()

    def choose_file(self) -> None:
        """Ask where to save the leaflet, then save it."""
        name = (
            "Parent guidance - booklet to fold.pdf"
            if self.booklet.isChecked()
            else "Parent guidance - social media.pdf"
        )
        path = save_file_name(
            self, "guidance leaflet", "Save the parent guidance leaflet", name,
            "PDF documents (*.pdf)",
        )  # fmt: skip
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Save the leaflet in the chosen form to ``path`` and say how to print it."""
        booklet = self.booklet.isChecked()
        with refusals_shown(self, "The leaflet was not saved"):
            data, warnings = self.services.letters.guidance_pdf(a5_booklet=booklet)
            save_user_file(path, data)
            self.saved = path
            lines = [f"Saved to {path}." + (" Print it as set out above." if booklet else "")]
            lines += warnings
            self.outcome.setText("\n".join(lines))
            self.outcome.setVisible(True)
            self.adjustSize()
