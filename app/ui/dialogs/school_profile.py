"""The school's details printed on letters: name, address, people, procedures, logo, signature."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.letters import (
    MULTILINE_FIELDS,
    PROFILE_LABELS,
    TO_COMPLETE,
    YES_NO_FIELDS,
    SchoolProfile,
)
from app.services.casebook import Services
from app.ui.file_dialogs import open_file_name
from app.ui.operations import in_message_box
from app.ui.signals import AppSignals
from app.ui.widgets import tab_moves_on, with_mnemonic

IMAGE_FILTER = "Pictures (*.png *.jpg *.jpeg *.gif *.bmp)"


class SchoolProfileDialog(QDialog):
    """Empty fields show 'to complete'; a letter that needs one will say so."""

    def __init__(
        self, services: Services, signals: AppSignals | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.signals = signals
        self.runner = (signals or AppSignals(self)).runner
        self.setWindowTitle("School profile")
        self.resize(900, 760)  # the form whole, without a sideways scroll, at 150% too
        profile = services.letters.profile.get()
        self.edits: dict[str, QLineEdit | QPlainTextEdit | QCheckBox] = {}
        form = QFormLayout()
        for name, label in PROFILE_LABELS.items():
            edit: QLineEdit | QPlainTextEdit | QCheckBox
            if name in YES_NO_FIELDS:
                # The one yes/no field: "Letters’ &wording may be edited before issuing".
                edit = QCheckBox(with_mnemonic(label[0].upper() + label[1:], "wording"))
                edit.setChecked(getattr(profile, name) == "yes")
                self.edits[name] = edit
                form.addRow("", edit)
                continue
            if name in MULTILINE_FIELDS:
                edit = QPlainTextEdit(getattr(profile, name))
                tab_moves_on(edit)
                edit.setPlaceholderText(f"{TO_COMPLETE} (one line each)")
                edit.setFixedHeight(84)
            else:
                edit = QLineEdit(getattr(profile, name))
                edit.setPlaceholderText(TO_COMPLETE)
            self.edits[name] = edit
            form.addRow(label[0].upper() + label[1:], edit)

        self.images: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, which in enumerate(("logo", "signature")):
            preview = QLabel()
            preview.setFixedSize(220, 70)
            preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
            preview.setStyleSheet("border:1px solid #ccc; background:white;")
            self.images[which] = preview
            choose = QPushButton("Choose &logo…" if which == "logo" else "Choose si&gnature…")
            choose.clicked.connect(lambda _=False, w=which: self.choose_image(w))
            remove = QPushButton("Remove l&ogo" if which == "logo" else "Remove signat&ure")
            remove.clicked.connect(lambda _=False, w=which: self.set_image(w, None))
            grid.addWidget(QLabel(which.capitalize()), row, 0)
            grid.addWidget(preview, row, 1)
            grid.addWidget(choose, row, 2)
            grid.addWidget(remove, row, 3)
        self._show_images(profile)

        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#a4262c;")
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.addLayout(form)
        inner_layout.addLayout(grid)
        inner_layout.addWidget(self.problem)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.missing)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self._show_missing(profile)

    def _show_missing(self, profile: SchoolProfile) -> None:
        names = [PROFILE_LABELS[n] for n in profile.missing()]
        self.missing.setText(
            "Still to complete: " + ", ".join(names) + "." if names else "Every field is complete."
        )

    def _show_images(self, profile: SchoolProfile) -> None:
        for which, sha in (("logo", profile.logo_sha256), ("signature", profile.signature_sha256)):
            label = self.images[which]
            data = self.services.letters.profile.image(sha)
            if data:
                pixmap = QPixmap()
                pixmap.loadFromData(data)
                label.setPixmap(
                    pixmap.scaled(
                        label.size(),
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
            else:
                label.setPixmap(QPixmap())
                label.setText("none")

    def values(self) -> SchoolProfile:
        """The profile as typed."""
        typed = {}
        for name, edit in self.edits.items():
            if isinstance(edit, QCheckBox):
                typed[name] = "yes" if edit.isChecked() else ""
            elif isinstance(edit, QPlainTextEdit):
                typed[name] = edit.toPlainText()
            else:
                typed[name] = edit.text()
        return self.services.letters.profile.get().with_values(**typed)

    def choose_image(self, which: str) -> None:
        path = open_file_name(self, "pictures", f"Choose the {which}", IMAGE_FILTER)
        if path:
            try:
                data = Path(path).read_bytes()
            except OSError as error:
                QMessageBox.warning(self, "The picture was not read", str(error.strerror))
                return
            self.set_image(which, data)

    def set_image(self, which: str, data: bytes | None) -> None:
        profile = self.runner.perform(
            lambda: self.services.operations.set_school_image(which, data),
            initiator="school profile",
            on_refused=lambda refused: self.problem.setText(refused.message),
        )
        if profile is None:
            return
        self.problem.setText("")
        self._show_images(profile)

    def save(self) -> None:
        values = self.values()
        profile = self.runner.perform(
            lambda: self.services.operations.save_school_profile(values),
            initiator="school profile",
            on_refused=in_message_box(self, "The profile was not saved"),
        )
        if profile is None:
            return
        self._show_missing(profile)
        self.accept()
