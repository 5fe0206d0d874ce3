"""Beside an exhibit: the words read from it, the names it must protect, and suggested
areas to hide, each accepted or rejected by the head teacher.

The panel only shows and asks; the evidence tab calls the services and refreshes it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.evidence import CHILD_WARNING, TEXT_PENDING, TEXT_UNREAD, Exhibit, Suggestion

_WARNING_STYLE = (
    "background: #fef7e0; color: #7a4f01; border: 1px solid #f9ab00; "
    "border-radius: 4px; padding: 6px; font-weight: bold;"
)


class ExhibitWords(QWidget):
    """The words in one exhibit, its protected names and its suggestions."""

    decided = Signal(int, bool)  # suggestion id, accepted
    edit_details = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit_button = QPushButton("Edit deta&ils…", self)
        self.edit_button.setToolTip("Who sent it, how and when, the post, and its custody")
        self.edit_button.clicked.connect(self.edit_details)
        layout.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.warning = QLabel(self)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(_WARNING_STYLE)
        self.warning.setVisible(False)
        layout.addWidget(self.warning)
        self.suggestion_box = QWidget(self)
        self.suggestion_rows = QVBoxLayout(self.suggestion_box)
        self.suggestion_rows.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.suggestion_box)
        self.heading = QLabel("<b>Text in this exhibit</b>", self)
        layout.addWidget(self.heading)
        self.state = QLabel(self)
        self.state.setWordWrap(True)
        self.state.setStyleSheet("color: #5f6368;")
        layout.addWidget(self.state)
        self.words = QPlainTextEdit(self)
        self.words.setReadOnly(True)
        self.words.setAccessibleName("Text in this exhibit")
        self.words.setTabChangesFocus(True)
        self.words.setMinimumHeight(120)
        layout.addWidget(self.words, 1)
        self._buttons: list[QPushButton] = []

    def show_exhibit(self, exhibit: Exhibit | None, words: str) -> None:
        """Fill the panel for ``exhibit`` (None empties it)."""
        for index in reversed(range(self.suggestion_rows.count())):
            item = self.suggestion_rows.takeAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._buttons = []
        if exhibit is None:
            self.warning.setVisible(False)
            self.words.setPlainText("")
            self.state.setText("")
            self.edit_button.setEnabled(False)
            return
        self.edit_button.setEnabled(exhibit.parent_id is None or exhibit.kind.value == "original")
        pupils = [name for name, kind in exhibit.protected_names if kind == "pupil"]
        staff = [name for name, kind in exhibit.protected_names if kind != "pupil"]
        lines = []
        if pupils:
            lines.append(f"⚠ {CHILD_WARNING} Pupil named: {', '.join(pupils)}.")
        if staff:
            lines.append(f"Staff named: {', '.join(staff)}.")
        self.warning.setText("\n".join(lines))
        self.warning.setVisible(bool(lines))
        for suggestion in exhibit.suggestions:
            self.suggestion_rows.addWidget(self._suggestion_row(suggestion))
        if exhibit.text_state == TEXT_PENDING:
            self.state.setText("Waiting to be read…")
        elif exhibit.text_state == TEXT_UNREAD:
            self.state.setText(exhibit.reading_note or "The text could not be read.")
        elif not words:
            self.state.setText(
                exhibit.reading_note or ("No text was found in it." if exhibit.text_state else "")
            )
        else:
            self.state.setText(exhibit.reading_note)  # what was left unread, if anything
        self.state.setVisible(bool(self.state.text()))
        self.words.setPlainText(words)
        self.heading.setVisible(bool(exhibit.text_state))
        self.words.setVisible(bool(words))

    def _suggestion_row(self, suggestion: Suggestion) -> QWidget:
        row = QWidget(self.suggestion_box)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        what = "A face" if suggestion.kind == "face" else f"“{suggestion.label}”"
        page = f" (page {suggestion.page + 1})" if suggestion.page else ""
        label = QLabel(f"Hide {what}{page}?", row)
        label.setWordWrap(True)
        line.addWidget(label, 1)
        if suggestion.state == "pending":
            for text, accept in (("Accept", True), ("Reject", False)):
                button = QPushButton(text, row)
                button.setAccessibleName(f"{text} hiding {what}")
                button.clicked.connect(
                    lambda _=False, s=suggestion.id, a=accept: self.decided.emit(s, a)
                )
                line.addWidget(button)
                self._buttons.append(button)
        else:
            line.addWidget(QLabel("accepted" if suggestion.state == "accepted" else "rejected"))
        return row

    def suggestion_buttons(self) -> list[QPushButton]:
        """The Accept and Reject buttons shown (for tests and keyboard users)."""
        return list(self._buttons)
