"""Issue a letter: choose the kind, the recipient and how it is sent, check the preview, issue."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.categories import CATEGORY_INFO
from app.domain.errors import CasebookError
from app.domain.letters import (
    LETTER_KINDS,
    PROCEDURE_LABELS,
    SEND_METHOD_LABELS,
    LetterKind,
    Procedure,
    SendMethod,
    suggested_kind,
)
from app.domain.people import ROLE_LABELS
from app.services.casebook import Services
from app.services.letters import IssuedLetter, PreparedLetter
from app.ui.views.pdf_preview import PdfPreview

log = logging.getLogger(__name__)


class IssueLetterDialog(QDialog):
    """The preview updates as choices change; nothing is recorded until 'Issue letter'."""

    def __init__(
        self,
        services: Services,
        case_id: int,
        parent: QWidget | None = None,
        kind: LetterKind | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.case_id = case_id
        self.case = services.cases.get_case(case_id)
        self.prepared: PreparedLetter | None = None
        self.issued: IssuedLetter | None = None
        self.setWindowTitle(f"Issue a letter — {self.case.reference}")
        self.resize(1000, 760)

        self.kind_box = QComboBox()
        for k in LetterKind:
            self.kind_box.addItem(LETTER_KINDS[k].label, k)
        self.recipient_box = QComboBox()
        seen: set[int] = set()
        for link in self.case.people:
            if link.person.id in seen:
                continue
            seen.add(link.person.id)
            self.recipient_box.addItem(
                f"{link.person.name} — {ROLE_LABELS[link.role]}", link.person.id
            )
        self.method_box = QComboBox()
        for m in SendMethod:
            self.method_box.addItem(SEND_METHOD_LABELS[m], m)
        self.procedure_box = QComboBox()
        for p in Procedure:
            self.procedure_box.addItem(PROCEDURE_LABELS[p], p)
        self.procedure_label = QLabel("Procedure")

        for box in (self.kind_box, self.recipient_box, self.method_box, self.procedure_box):
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(16)
        form = QFormLayout()
        form.addRow("Letter", self.kind_box)
        form.addRow("To", self.recipient_box)
        form.addRow("Sent", self.method_box)
        form.addRow(self.procedure_label, self.procedure_box)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setStyleSheet(
            "background:#fff4ce; color:#5c4400; padding:6px; border:1px solid #e0c060;"
        )
        # When a name or address holds a character no font can print, the letter cannot be
        # issued; this opens the person to correct the spelling.
        self.correct_button = QPushButton("&Correct the spelling…")
        self.correct_button.clicked.connect(self._correct_spelling)
        self.correct_button.setVisible(False)
        self.preview = PdfPreview()
        self.preview.set_accessible_name("Preview of the letter")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.issue_button = self.buttons.addButton(
            "&Issue letter", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self._issue)
        self.buttons.rejected.connect(self.reject)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.message)
        left.addWidget(self.warning)
        left.addWidget(self.correct_button, 0, Qt.AlignmentFlag.AlignLeft)
        left.addStretch(1)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(360)
        top = QHBoxLayout()
        top.addWidget(left_widget)
        top.addWidget(self.preview, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.buttons)

        if kind is None:
            kind = suggested_kind({CATEGORY_INFO[c].standard_id for c in self.case.categories})
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind))
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.recipient_box.currentIndexChanged.connect(self.refresh)
        self.method_box.currentIndexChanged.connect(self.refresh)
        self.procedure_box.currentIndexChanged.connect(self.refresh)
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = LetterKind(self.kind_box.currentData())
        role = LETTER_KINDS[kind].recipient_role
        for link in self.case.people:
            if link.role == role:
                self.recipient_box.blockSignals(True)
                self.recipient_box.setCurrentIndex(self.recipient_box.findData(link.person.id))
                self.recipient_box.blockSignals(False)
                break
        is_procedure = kind == LetterKind.PROCEDURE
        self.procedure_box.setVisible(is_procedure)
        self.procedure_label.setVisible(is_procedure)
        self.refresh()

    def _procedure(self, kind: LetterKind) -> Procedure | None:
        if kind != LetterKind.PROCEDURE:
            return None
        return Procedure(self.procedure_box.currentData())

    def refresh(self) -> None:
        """Render the letter again with the current choices."""
        kind = LetterKind(self.kind_box.currentData())
        person_id = self.recipient_box.currentData()
        procedure = self._procedure(kind)
        self.prepared = None
        try:
            self.prepared = self.services.letters.prepare(
                self.case_id, kind, person_id, SendMethod(self.method_box.currentData()), procedure
            )
        except CasebookError as error:
            self.message.setText(error.message)
            self.message.setStyleSheet("color:#a4262c;")
            self.preview.set_pdf(b"")
        else:
            standard = self.services.ctx.code.standard(self.prepared.values["standard_id"])
            self.message.setText(
                f"Quotes standard {standard.number} of the Code. "
                f"Template {self.prepared.template.version}."
            )
            self.message.setStyleSheet("color:#444;")
            self.preview.set_pdf(self.prepared.pdf)
        warnings = self.prepared.warnings if self.prepared else ()
        if self.prepared is not None and self.prepared.unprintable:
            warnings = (self.prepared.unprintable,)
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))
        unprintable = self.prepared is not None and bool(self.prepared.unprintable)
        self.issue_button.setEnabled(self.prepared is not None and not unprintable)
        self.correct_button.setVisible(
            unprintable and self.prepared is not None and self.prepared.recipient is not None
        )

    def _correct_spelling(self) -> None:
        from app.ui.dialogs.person import PersonDialog

        if self.prepared is None or self.prepared.recipient is None:
            return
        dialog = PersonDialog(self.services, self.prepared.recipient, self)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.saved is None:
            return
        person = dialog.saved
        index = self.recipient_box.findData(person.id)
        if index >= 0:
            label = self.recipient_box.itemText(index)
            role = label.split(" — ", 1)[1] if " — " in label else ""
            self.recipient_box.setItemText(
                index, f"{person.name} — {role}" if role else person.name
            )
        self.refresh()

    def _issue(self) -> None:
        if self.prepared is None:
            return
        prepared = self.prepared
        if prepared.warnings:
            answer = QMessageBox.warning(
                self,
                "Some characters will not print",
                prepared.warnings[0] + "\n\nIssue the letter anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            self.issued = self.services.letters.issue(
                self.case_id,
                prepared.kind,
                prepared.recipient.id if prepared.recipient else None,
                prepared.method,
                self._procedure(prepared.kind),
                prepared=prepared,
            )
        except CasebookError as error:
            log.info("Letter not issued: %s", type(error).__name__)
            QMessageBox.warning(self, "The letter was not issued", error.message)
            return
        self.accept()
