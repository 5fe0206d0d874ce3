"""Edit the school's own copy of a letter template, with the list of fields and a live preview."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasebookError
from app.domain.letter_templates import CHILD_DETAIL_FIELDS, FIELDS, FORBIDDEN
from app.domain.letters import LETTER_KINDS, LetterKind
from app.services.casebook import Services
from app.ui.views.pdf_preview import PdfPreview
from app.ui.widgets import tab_moves_on

PREVIEW_DELAY_MS = 400


class TemplateEditorDialog(QDialog):
    """Saving checks the whole template first; a template with an error saves nothing."""

    def __init__(
        self, services: Services, parent: QWidget | None = None, case_id: int | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.case_id = case_id
        self.setWindowTitle("Letter templates")
        self.resize(1200, 800)

        self.kind_box = QComboBox()
        for k in LetterKind:
            self.kind_box.addItem(LETTER_KINDS[k].label, k)
        self.version_label = QLabel()
        self.subject = QLineEdit()
        self.body = QPlainTextEdit()
        tab_moves_on(self.body)
        self.body.setFont(QFont("DejaVu Sans Mono", 10))
        self.body.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.fields = QListWidget()
        for name, label in FIELDS.items():
            if name in CHILD_DETAIL_FIELDS:
                label += " (left out of every letter on a safeguarding case)"
            item = QListWidgetItem(f"{{{{ {name} }}}}  —  {label}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.fields.addItem(item)
        self.fields.itemDoubleClicked.connect(self._insert_field)
        self.fields.itemActivated.connect(self._insert_field)
        self.fields.setAccessibleName("Fields")
        self.fields.setAccessibleDescription("Press Enter to insert the field into the letter")
        self.body.setAccessibleName("Letter text")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.preview = PdfPreview()
        self.preview.set_accessible_name("Preview with sample values")

        form = QFormLayout()
        form.addRow("Letter", self.kind_box)
        form.addRow("In use", self.version_label)
        form.addRow("Subject", self.subject)
        hint = QLabel(
            "Separate paragraphs with a blank line. Start a paragraph’s lines with '>' to "
            "quote the Code. Double-click a field to insert it."
        )
        hint.setWordWrap(True)
        editor = QWidget()
        editor_layout = QVBoxLayout(editor)
        editor_layout.addLayout(form)
        editor_layout.addWidget(hint)
        editor_layout.addWidget(self.body, 3)
        editor_layout.addWidget(QLabel("Fields"))
        editor_layout.addWidget(self.fields, 2)
        editor_layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(editor)
        splitter.addWidget(self.preview)
        splitter.setSizes([600, 600])

        self.restore_button = QPushButton("&Restore the default")
        self.restore_button.clicked.connect(self.restore_default)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.addButton(
            "Save as &new version", QDialogButtonBox.ButtonRole.ApplyRole
        )
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.restore_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PREVIEW_DELAY_MS)
        self.timer.timeout.connect(self.update_preview)
        self.subject.textChanged.connect(self._edited)
        self.body.textChanged.connect(self._edited)
        self.kind_box.currentIndexChanged.connect(self.load_kind)
        self.load_kind()

    @property
    def kind(self) -> LetterKind:
        return LetterKind(self.kind_box.currentData())

    def load_kind(self) -> None:
        """Show the template letters of the chosen kind use now."""
        template = self.services.letters.template(self.kind)
        self.version_label.setText(
            template.version + (" (shipped with the app)" if template.is_default else "")
        )
        self.subject.blockSignals(True)
        self.body.blockSignals(True)
        self.subject.setText(template.subject)
        self.body.setPlainText(template.body)
        self.subject.blockSignals(False)
        self.body.blockSignals(False)
        forbidden = FORBIDDEN.get(self.kind, frozenset())
        for row in range(self.fields.count()):
            item = self.fields.item(row)
            item.setHidden(item.data(Qt.ItemDataRole.UserRole) in forbidden)
        self.update_preview()

    def _edited(self) -> None:
        self.timer.start()

    def _insert_field(self, item: QListWidgetItem) -> None:
        self.body.insertPlainText(f"{{{{ {item.data(Qt.ItemDataRole.UserRole)} }}}}")
        self.body.setFocus()

    def update_preview(self) -> None:
        """Render the text being edited; a problem shows in red under the editor."""
        try:
            prepared = self.services.letters.preview_template(
                self.kind, self.subject.text(), self.body.toPlainText(), self.case_id
            )
        except CasebookError as error:
            self.message.setText(error.message)
            self.message.setStyleSheet("color:#a4262c;")
            self.save_button.setEnabled(False)
            return
        self.save_button.setEnabled(True)
        self.preview.set_pdf(prepared.pdf)
        text = "Preview with sample values."
        if prepared.warnings:
            text += " " + " ".join(prepared.warnings)
        self.message.setText(text)
        self.message.setStyleSheet("color:#444;")

    def save(self) -> None:
        self.timer.stop()
        try:
            saved = self.services.letters.save_template(
                self.kind, self.subject.text(), self.body.toPlainText()
            )
        except CasebookError as error:
            self.message.setText(error.message)
            self.message.setStyleSheet("color:#a4262c;")
            QMessageBox.warning(self, "The template was not saved", error.message)
            return
        self.version_label.setText(saved.version)
        self.message.setText(f"Saved as {saved.version}. New letters of this kind will use it.")
        self.message.setStyleSheet("color:#107c10;")

    def restore_default(self) -> None:
        self.timer.stop()
        self.services.letters.restore_default(self.kind)
        self.load_kind()
