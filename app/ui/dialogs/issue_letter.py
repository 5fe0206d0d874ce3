"""Issue a letter: choose the kind, the recipient and how it is sent, check the preview, issue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.categories import CATEGORY_INFO
from app.domain.errors import CasebookError, ConfirmationNeeded
from app.domain.letters import (
    BARRING_KINDS,
    LETTER_KINDS,
    PROCEDURE_LABELS,
    SEND_METHOD_LABELS,
    LetterKind,
    Procedure,
    SendMethod,
    suggested_kind,
)
from app.domain.people import ROLE_LABELS, PersonKind
from app.services.casebook import Services
from app.ui.views.pdf_preview import PdfPreview

if TYPE_CHECKING:
    from app.services.letters import IssuedLetter, PreparedLetter

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
        # The wording edited for this one letter (None: the template's), where allowed.
        self.body: str | None = None
        self.body_editable = services.letters.profile.get().allows_body_edit()
        self.setWindowTitle(f"Issue a letter — {self.case.reference}")
        self.resize(1000, 760)

        self.kind_box = QComboBox()
        for k in LetterKind:
            if not LETTER_KINDS[k].optional:
                self.kind_box.addItem(LETTER_KINDS[k].label, k)
        # The rare letters about access to the school site, apart from the usual ones.
        self.kind_box.insertSeparator(self.kind_box.count())
        for k in BARRING_KINDS:
            self.kind_box.addItem(LETTER_KINDS[k].label, k)
        self.recipient_box = QComboBox()
        seen: set[int] = set()
        for link in self.case.people:
            if link.person.id in seen or link.person.kind is PersonKind.PUPIL:
                continue  # letters are never addressed to pupils
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

        # The school's own words for this letter, printed before its last paragraph.
        self.paragraph = QPlainTextEdit()
        self.paragraph.setPlaceholderText(
            "Optional: a paragraph of your own for this letter, printed before its last "
            "paragraph and kept with the letter."
        )
        self.paragraph.setAccessibleName("Your own paragraph")
        self.paragraph.setTabChangesFocus(True)
        self.paragraph.setFixedHeight(110)
        self._paragraph_timer = QTimer(self)
        self._paragraph_timer.setSingleShot(True)
        self._paragraph_timer.setInterval(500)
        self._paragraph_timer.timeout.connect(self.refresh)
        self.paragraph.textChanged.connect(self._paragraph_timer.start)
        self.wording_button = QPushButton("Edit the &wording…")
        self.wording_button.setVisible(self.body_editable)
        self.wording_button.clicked.connect(self.edit_wording)
        self.question = QLabel()
        self.question.setWordWrap(True)
        self.question.setTextFormat(Qt.TextFormat.PlainText)
        self.question.setStyleSheet("color:#5c4400;")

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
        left.addWidget(QLabel("Your own paragraph"))
        left.addWidget(self.paragraph)
        left.addWidget(self.wording_button)
        left.addWidget(self.question)
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
        self.body = None
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
                self.case_id,
                kind,
                person_id,
                SendMethod(self.method_box.currentData()),
                procedure,
                paragraph=self.paragraph.toPlainText(),
                body=self.body,
            )
        except CasebookError as error:
            self.message.setText(error.message)
            self.message.setStyleSheet("color:#a4262c;")
            self.preview.set_pdf(b"")
        else:
            version = self.prepared.values.get("code_version", "")
            code = self.services.code.by_version(version) if version else self.services.ctx.code
            standard = code.standard(self.prepared.values["standard_id"])
            self.message.setText(
                f"Quotes standard {standard.number} of the Code (version {code.version}). "
                f"Template {self.prepared.template.version}."
            )
            self.message.setStyleSheet("color:#444;")
            self.preview.set_pdf(self.prepared.pdf)
        warnings = self.prepared.warnings if self.prepared else ()
        if self.prepared is not None and self.prepared.restriction:
            warnings = (self.prepared.restriction, *warnings)
        if self.prepared is not None and self.prepared.unprintable:
            warnings = (self.prepared.unprintable,)
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))
        unprintable = self.prepared is not None and bool(self.prepared.unprintable)
        self.issue_button.setEnabled(self.prepared is not None and not unprintable)
        self.correct_button.setVisible(
            unprintable and self.prepared is not None and self.prepared.recipient is not None
        )
        self._show_questions(kind, person_id)

    def _show_questions(self, kind: LetterKind, person_id: int | None) -> None:
        """Say before 'Issue letter' what the school will be asked to confirm."""
        try:
            asks = [
                q.message
                for q in self.services.letters.confirmations_needed(self.case_id, kind, person_id)
            ]
        except CasebookError:
            asks = []
        self.question.setText("You will be asked to confirm:\n" + "\n".join(asks) if asks else "")
        self.question.setVisible(bool(asks))

    def edit_wording(self) -> None:
        """Edit this one letter's wording (the school profile allows it); the template stays."""
        kind = LetterKind(self.kind_box.currentData())
        dialog = QDialog(self)
        dialog.setWindowTitle(f"Wording of this letter — {LETTER_KINDS[kind].label}")
        dialog.resize(640, 520)
        edit = QPlainTextEdit(self.body or self.services.letters.template(kind).body)
        edit.setAccessibleName("Wording of this letter")
        note = QLabel(
            "Changes apply to this letter only and are kept with it. Fields such as "
            "{{ letter.reply_by }} are filled in as usual."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(note)
        layout.addWidget(edit, 1)
        layout.addWidget(buttons)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.body = edit.toPlainText()
            self.refresh()

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
        if prepared.restriction:
            answer = QMessageBox.warning(
                self,
                "Check before this letter goes",
                prepared.restriction + "\n\nIssue the letter to them all the same?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        confirmed: dict[str, bool] = {"recipient": False, "kind": False, "post": False}
        while True:
            try:
                self.issued = self.services.letters.issue(
                    self.case_id,
                    prepared.kind,
                    prepared.recipient.id if prepared.recipient else None,
                    prepared.method,
                    self._procedure(prepared.kind),
                    prepared=prepared,
                    confirm_recipient=confirmed["recipient"],
                    confirm_kind=confirmed["kind"],
                    confirm_post_details=confirmed["post"],
                    confirm_restriction=bool(prepared.restriction),
                )
            except ConfirmationNeeded as question:
                if not self._confirm(question):
                    return
                confirmed[question.reason] = True
                continue
            except CasebookError as error:
                log.info("Letter not issued: %s", type(error).__name__)
                QMessageBox.warning(self, "The letter was not issued", error.message)
                return
            break
        self.accept()

    def _confirm(self, question: ConfirmationNeeded) -> bool:
        title = {
            "recipient": "Send it to someone who did not write the post?",
            "post": "Send it without the post’s full details?",
        }.get(question.reason, "Send a letter about a different standard?")
        answer = QMessageBox.question(
            self,
            title,
            question.message + "\n\nIssue the letter anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes
