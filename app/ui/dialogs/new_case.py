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

from app.domain.dates import london_today
from app.domain.errors import CasebookError
from app.domain.people import CaseRole
from app.domain.records import CaseDetail, PersonDraft
from app.domain.validation import check_case_draft, check_person_draft
from app.services.casebook import Services
from app.ui.views.case_form import CaseForm


class NewCaseDialog(QDialog):
    """Collects a new case; nothing is saved until every field checks out."""

    def __init__(self, services: Services, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("New case")
        self._services = services
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
        draft = self.form.draft()
        name = self.posted_by.text().strip()
        try:
            # Check everything first so a refusal writes nothing.
            now = self._services.ctx.now()
            check_case_draft(draft, london_today(now), now)
            if name:
                check_person_draft(PersonDraft(name=name))
            case = self._services.cases.open_case(draft)
            if name:
                person = self._services.people.match_or_create(name)
                case = self._services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
        except CasebookError as error:
            self.form.show_error(error.message)
            return
        self.created = case
        super().accept()
