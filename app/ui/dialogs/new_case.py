"""New case dialog: the case's details and, optionally, who posted it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.records import CaseDetail
from app.services.casebook import Services
from app.ui.signals import AppSignals
from app.ui.views.case_form import CaseForm


class NewCaseDialog(QDialog):
    """Collects a new case; nothing is saved until every field checks out."""

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        signals: AppSignals | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("New case")
        self._services = services
        self._signals = signals or AppSignals(self)
        self.created: CaseDetail | None = None
        self.form = CaseForm(services.ctx.code, self)
        self.posted_by = QLineEdit(self)
        self.posted_by.setPlaceholderText("Name of the parent or carer, if known")
        extra = QFormLayout()
        extra.addRow("Posted b&y", self.posted_by)

        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(self.form)
        body_layout.addLayout(extra)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Open case")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        self.resize(640, 720)
        self.form.title.setFocus()

    def accept(self) -> None:
        if self.created is not None:  # a second press of OK: the case is already open
            super().accept()
            return
        draft = self.form.draft()
        name = self.posted_by.text().strip()
        # One command opens the case with its author: a refusal (an ambiguous name, a
        # missing title) saves nothing, so pressing OK again cannot make a second case.
        created = self._signals.runner.perform(
            lambda: self._services.operations.open_case(draft, author=name),
            initiator="new case",
            on_refused=lambda refused: self.form.show_error(refused.message),
        )
        if created is None:
            return
        self.created = created
        super().accept()
