"""The editable fields of a case, shared by the New case dialog and the Details tab."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, QDateTime, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.categories import CATEGORY_INFO, Category
from app.domain.code_of_conduct import CodeOfConduct, normalise_spacing
from app.domain.dates import as_utc, london_today, to_london
from app.domain.platforms import known_platforms
from app.domain.records import CaseDetail, CaseDraft
from app.ui.widgets import roomy_labels, tab_moves_on, with_mnemonic

DATE_FORMAT = "dd/MM/yyyy"
DATE_TIME_FORMAT = "dd/MM/yyyy HH:mm"


# Alt+letters for the fields. The New case dialog has letters to spare; the Details tab
# shares the window with the menus (F, E, C, V, A, H), the list and the case's buttons.
DIALOG_LABELS = {
    "title": "&Title",
    "platform": "Pl&atform",
    "post_url": "Post a&ddress",
    "account_handle": "Account &handle",
    "posted_at": "Date &posted",
    "post_place": "Group or page",
    "inaccurate_text": "What is inaccurate",
    "correct_facts": "Correct facts",
    "barring_conduct": "Conduct at the school",
    "reported_on": "Date &reported",
    "reported_by": "Reported &by",
    "follow_up_due": "&Follow up by",
    "summary": "&Summary",
    "not_known": "Not &known",
    "no_follow_up": "No follo&w-up date",
}
WINDOW_LABELS = {
    **DIALOG_LABELS,
    "title": "Title",
    "platform": "Platform",
    "post_url": "Post address",
    "account_handle": "Account handle",
    "posted_at": "&Date posted",
    "reported_on": "Date repor&ted",
    "follow_up_due": "Follow up b&y",
    "summary": "S&ummary",
}
WINDOW_CATEGORY_KEYS = {
    Category.ABUSIVE: "material",
    Category.INACCURATE: "lly",
    Category.PROCEDURE: "procedure",
    Category.SAFEGUARDING: "Identification",
}
DIALOG_CATEGORY_KEYS = {**WINDOW_CATEGORY_KEYS, Category.PROCEDURE: "complaint"}


def qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class OptionalDate(QWidget):
    """A date with a 'not set' tick box, because many dates are genuinely unknown."""

    changed = Signal()

    def __init__(self, none_label: str, parent: QWidget | None = None, *, with_time: bool = False):
        super().__init__(parent)
        self._with_time = with_time
        self._original: datetime | None = None
        self.edit: QDateEdit | QDateTimeEdit
        if with_time:
            self.edit = QDateTimeEdit(self)
            self.edit.setDisplayFormat(DATE_TIME_FORMAT)
        else:
            self.edit = QDateEdit(self)
            self.edit.setDisplayFormat(DATE_FORMAT)
        self.edit.setCalendarPopup(True)
        self.none = QCheckBox(none_label, self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.none)
        layout.addStretch(1)
        # An unknown date shows as blank, not as a made-up "now" greyed out.
        self.edit.setSpecialValueText(" ")
        self._kept = self.edit.dateTime()
        self.none.toggled.connect(self._show_known)
        self.none.toggled.connect(self.changed)
        self.edit.dateTimeChanged.connect(self.changed)

    def _show_known(self, not_known: bool) -> None:
        self.edit.setEnabled(not not_known)
        if not_known:
            if self.edit.dateTime() != self.edit.minimumDateTime():
                self._kept = self.edit.dateTime()
            self.edit.setDateTime(self.edit.minimumDateTime())
        elif self.edit.dateTime() == self.edit.minimumDateTime():
            self.edit.setDateTime(self._kept)

    def _show(self, shown: QDateTime, known: bool) -> None:
        self._kept = shown
        self.edit.setDateTime(shown)
        if self.none.isChecked() != (not known):
            self.none.setChecked(not known)  # blanks or restores through _show_known
        else:
            self._show_known(not known)

    def set_date(self, value: date | None) -> None:
        self._show(QDateTime(qdate(value or london_today()), QTime(0, 0)), value is not None)

    def set_moment(self, value: datetime | None) -> None:
        # The editor shows minutes; remember the exact stored time so that merely showing
        # a case never changes its seconds.
        self._original = value
        local = to_london(value) if value else to_london(datetime.now().astimezone())
        self._show(QDateTime(qdate(local.date()), QTime(local.hour, local.minute)), bool(value))

    def date_value(self) -> date | None:
        return None if self.none.isChecked() else pydate(self.edit.date())

    def moment_value(self) -> datetime | None:
        if self.none.isChecked():
            return None
        d, t = self.edit.date(), self.edit.time()
        shown = as_utc(datetime(d.year(), d.month(), d.day(), t.hour(), t.minute()))
        original = self._original
        if original is not None and original.replace(second=0, microsecond=0) == shown:
            return original
        return shown


class CaseForm(QWidget):
    """Fields of a case; ``draft()`` returns what was typed, the services validate it."""

    changed = Signal()

    def __init__(
        self, code: CodeOfConduct, parent: QWidget | None = None, *, in_window: bool = False
    ):
        super().__init__(parent)
        # In the main window many letters are taken by its menus and buttons, so the
        # Details tab has a set of Alt+letters of its own (see LABELS).
        labels = WINDOW_LABELS if in_window else DIALOG_LABELS
        keys = WINDOW_CATEGORY_KEYS if in_window else DIALOG_CATEGORY_KEYS
        self.title = QLineEdit(self)
        self.title.setMaxLength(200)
        self.title.setPlaceholderText("A short description, e.g. “Comments about Year 4 trip”")

        self.category_boxes: dict[Category, QCheckBox] = {}
        standards = QGroupBox("Standards of the Code breached", self)
        standards_layout = QVBoxLayout(standards)
        for category in Category:
            info = CATEGORY_INFO[category]
            box = QCheckBox(with_mnemonic(info.label, keys[category]), standards)
            clause = code.standard(info.standard_id)
            box.setToolTip(
                f"Standard {clause.number} of the Code:\n\n{normalise_spacing(clause.text)}"
            )
            standards_layout.addWidget(box)
            self.category_boxes[category] = box
            box.toggled.connect(self.changed)

        self.platform = QComboBox(self)
        self.platform.setEditable(True)
        self.platform.addItems(["", *known_platforms()])
        self.post_url = QLineEdit(self)
        self.post_url.setPlaceholderText("https://…")
        self.account_handle = QLineEdit(self)
        self.account_handle.setPlaceholderText("@handle or display name")
        self.post_place = QLineEdit(self)
        self.post_place.setPlaceholderText("The group or page, e.g. “Eccleston Parents Chat”")
        self.post_place.setAccessibleName("Group or page")
        # What a correction letter states: asked for only when the post is inaccurate.
        self.inaccurate_text = QPlainTextEdit(self)
        self.inaccurate_text.setPlaceholderText("What the post says that is not correct")
        self.inaccurate_text.setAccessibleName("What is inaccurate")
        self.correct_facts = QPlainTextEdit(self)
        self.correct_facts.setPlaceholderText("The correct facts, as the letter should state them")
        self.correct_facts.setAccessibleName("Correct facts")
        # What barring letters describe: conduct at or towards the school (standard 1 cases).
        self.barring_conduct = QPlainTextEdit(self)
        self.barring_conduct.setPlaceholderText(
            "Only for letters about access to the school site: what happened, when and where"
        )
        self.barring_conduct.setAccessibleName("Conduct at the school")
        for edit in (self.inaccurate_text, self.correct_facts, self.barring_conduct):
            edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 4)
            tab_moves_on(edit)
        self.posted_at = OptionalDate(labels["not_known"], self, with_time=True)
        self.reported_on = QDateEdit(self)
        self.reported_on.setDisplayFormat(DATE_FORMAT)
        self.reported_on.setCalendarPopup(True)
        self.reported_by = QLineEdit(self)
        self.follow_up_due = OptionalDate(labels["no_follow_up"], self)
        self.summary = QPlainTextEdit(self)
        self.summary.setPlaceholderText("What the post says and why it breaches the Code")
        tab_moves_on(self.summary)
        # Fields inside a container or a combo box have no label of their own to be read.
        platform_text = self.platform.lineEdit()
        if platform_text is not None:
            platform_text.setAccessibleName("Platform")
        self.posted_at.edit.setAccessibleName("Date posted")
        self.posted_at.none.setAccessibleDescription("The date the post was made is not known")
        self.follow_up_due.edit.setAccessibleName("Follow up by")
        for box in self.category_boxes.values():
            box.setAccessibleDescription(box.toolTip())

        form = QFormLayout()
        form.addRow(labels["title"], self.title)
        form.addRow(standards)
        form.addRow(labels["platform"], self.platform)
        form.addRow(labels["post_url"], self.post_url)
        form.addRow(labels["account_handle"], self.account_handle)
        form.addRow(labels["post_place"], self.post_place)
        form.addRow(labels["posted_at"], self.posted_at)
        form.addRow(labels["reported_on"], self.reported_on)
        form.addRow(labels["reported_by"], self.reported_by)
        form.addRow(labels["follow_up_due"], self.follow_up_due)
        form.addRow(labels["summary"], self.summary)
        form.addRow(labels["inaccurate_text"], self.inaccurate_text)
        form.addRow(labels["correct_facts"], self.correct_facts)
        form.addRow(labels["barring_conduct"], self.barring_conduct)
        self._form = form
        self.category_boxes[Category.INACCURATE].toggled.connect(self._show_correction)
        self.category_boxes[Category.ABUSIVE].toggled.connect(self._show_conduct)
        roomy_labels(form)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #a61b1b;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.error)

        for line in (
            self.title,
            self.post_url,
            self.account_handle,
            self.post_place,
            self.reported_by,
        ):
            line.textEdited.connect(self.changed)
        self.platform.currentTextChanged.connect(self.changed)
        self.posted_at.changed.connect(self.changed)
        self.follow_up_due.changed.connect(self.changed)
        self.reported_on.dateChanged.connect(self.changed)
        self.summary.textChanged.connect(self.changed)
        self.inaccurate_text.textChanged.connect(self.changed)
        self.correct_facts.textChanged.connect(self.changed)
        self.barring_conduct.textChanged.connect(self.changed)
        self.clear()

    def _show_correction(self, shown: bool) -> None:
        for edit in (self.inaccurate_text, self.correct_facts):
            self._form.setRowVisible(edit, shown)

    def _show_conduct(self, shown: bool) -> None:
        self._form.setRowVisible(
            self.barring_conduct, shown or bool(self.barring_conduct.toPlainText())
        )

    def clear(self) -> None:
        self.blockSignals(True)
        self.title.clear()
        for box in self.category_boxes.values():
            box.setChecked(False)
        self.platform.setCurrentText("")
        self.post_url.clear()
        self.account_handle.clear()
        self.posted_at.set_moment(None)
        self.reported_on.setDate(qdate(london_today()))
        self.reported_by.clear()
        self.follow_up_due.set_date(None)
        self.summary.clear()
        self.post_place.clear()
        self.inaccurate_text.clear()
        self.correct_facts.clear()
        self.barring_conduct.clear()
        self._show_correction(False)
        self._show_conduct(False)
        self.show_error("")
        self.blockSignals(False)

    def set_case(self, case: CaseDetail) -> None:
        """Fill the fields from a saved case without announcing a change."""
        # Children report edits through self.changed, so blocking self silences them all.
        self.blockSignals(True)
        try:
            self.title.setText(case.title)
            for category, box in self.category_boxes.items():
                box.setChecked(category in case.categories)
            self.platform.setCurrentText(case.platform)
            self.post_url.setText(case.post_url)
            self.account_handle.setText(case.account_handle)
            self.posted_at.set_moment(case.posted_at)
            self.reported_on.setDate(qdate(case.reported_on or london_today()))
            self.reported_by.setText(case.reported_by)
            self.follow_up_due.set_date(case.follow_up_due)
            self.summary.setPlainText(case.summary)
            self.post_place.setText(case.post_place)
            self.inaccurate_text.setPlainText(case.inaccurate_text)
            self.correct_facts.setPlainText(case.correct_facts)
            self.barring_conduct.setPlainText(case.barring_conduct)
            self._show_correction(Category.INACCURATE in case.categories)
            self._show_conduct(Category.ABUSIVE in case.categories)
            self.show_error("")
        finally:
            self.blockSignals(False)

    def draft(self) -> CaseDraft:
        return CaseDraft(
            title=self.title.text(),
            categories=frozenset(c for c, box in self.category_boxes.items() if box.isChecked()),
            summary=self.summary.toPlainText(),
            platform=self.platform.currentText(),
            post_url=self.post_url.text(),
            account_handle=self.account_handle.text(),
            posted_at=self.posted_at.moment_value(),
            reported_on=pydate(self.reported_on.date()),
            reported_by=self.reported_by.text(),
            follow_up_due=self.follow_up_due.date_value(),
            post_place=self.post_place.text(),
            inaccurate_text=self.inaccurate_text.toPlainText(),
            correct_facts=self.correct_facts.toPlainText(),
            barring_conduct=self.barring_conduct.toPlainText(),
        )

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
