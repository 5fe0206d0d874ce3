"""The case screen: details, people, chronology, and the evidence and letters tabs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.categories import CATEGORY_INFO
from app.domain.dates import format_date_time, format_short_date
from app.domain.errors import CasebookError, ConflictError, NotFoundError
from app.domain.people import PERSON_KIND_LABELS, ROLE_LABELS
from app.domain.records import CaseDetail, CasePerson
from app.domain.status import STATUS_LABELS, CaseStatus, allowed_transitions, is_open
from app.services.casebook import Services
from app.services.operations import OpChanges
from app.ui.operations import Refusal, in_message_box
from app.ui.signals import AppSignals
from app.ui.views.case_form import CaseForm
from app.ui.widgets import read_only_table

STATUS_KEYS = {
    CaseStatus.NEW: "n",
    CaseStatus.EVIDENCE_GATHERED: "e",
    CaseStatus.LETTER_SENT: "l",
    CaseStatus.AWAITING_REMOVAL: "a",
    CaseStatus.ESCALATED: "c",
    CaseStatus.RESOLVED: "r",
    CaseStatus.CLOSED_NO_ACTION: "w",
}
TAB_NAMES = ("details", "people", "chronology", "evidence", "letters", "follow-up")


def _table(headers: list[str], parent: QWidget) -> QTableWidget:
    table = read_only_table(headers, parent)
    table.setWordWrap(True)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    return item


class CaseDetailView(QWidget):
    """Shows one case; every change goes through the services and is announced."""

    status_changed = Signal(int)
    # Another case to show (picked from the cases joined up with this one).
    open_case_requested = Signal(int)

    def __init__(self, services: Services, signals: AppSignals, parent: QWidget | None = None):
        super().__init__(parent)
        self._services = services
        self._signals = signals
        self.case: CaseDetail | None = None

        # Header: reference, title, status and the actions on the case as a whole.
        self.heading = QLabel(self)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        self.status_line = QLabel(self)
        self.status_line.setTextFormat(Qt.TextFormat.PlainText)
        self.status_line.setWordWrap(True)  # never widen the window for a long status
        self.status_button = QToolButton(self)
        self.status_button.setText("Change &status")
        self.status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.status_menu = QMenu(self.status_button)
        self.status_button.setMenu(self.status_menu)
        self.status_button.setAccessibleDescription("Move the case to another status")
        self.note_button = QPushButton("Add &note…", self)
        self.note_button.clicked.connect(self.add_note)

        # Details tab: the shared form with Save / Revert.
        self.form = CaseForm(services.ctx.code, self, in_window=True)
        self.save_button = QPushButton("Save chan&ges", self)
        self.revert_button = QPushButton("&Revert", self)
        self.save_button.setEnabled(False)
        self.revert_button.setEnabled(False)
        self.form.changed.connect(self._form_changed)
        self.save_button.clicked.connect(self.save_details)
        self.revert_button.clicked.connect(self.revert_details)
        details = QWidget(self)
        details_layout = QVBoxLayout(details)
        scroll = QScrollArea(details)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        details_layout.addWidget(scroll, 1)
        details_buttons = QHBoxLayout()
        details_buttons.addStretch(1)
        details_buttons.addWidget(self.revert_button)
        details_buttons.addWidget(self.save_button)
        details_layout.addLayout(details_buttons)

        # People tab.
        self.people_table = _table(
            ["Name", "Role", "Kind", "Relationship to pupils", "Address", "Contact"], self
        )
        self.link_button = QPushButton("&Link person…", self)
        self.edit_person_button = QPushButton("Change &person…", self)
        self.unlink_button = QPushButton("&Unlink", self)
        self.sar_button = QPushButton("Su&bject access export…", self)
        self.sar_button.clicked.connect(self.subject_access_export)
        self.link_button.clicked.connect(self.link_person)
        self.edit_person_button.clicked.connect(self.edit_person)
        self.unlink_button.clicked.connect(self.unlink_person)
        self.people_table.setAccessibleName("People linked to the case")
        self.people_table.setAccessibleDescription("Press Enter or double-click to change a person")
        self.people_table.itemDoubleClicked.connect(lambda _item: self.edit_person())
        people = QWidget(self)
        people_layout = QVBoxLayout(people)
        people_layout.addWidget(self.people_table, 1)
        people_buttons = QHBoxLayout()
        people_buttons.addWidget(self.link_button)
        people_buttons.addWidget(self.edit_person_button)
        people_buttons.addWidget(self.unlink_button)
        people_buttons.addStretch(1)
        people_buttons.addWidget(self.sar_button)
        people_layout.addLayout(people_buttons)
        # Other cases about the same person, account handle or post address (issue 21).
        self.related_label = QLabel("Other cases about the same person, account or post:", self)
        self.related_list = QListWidget(self)
        self.related_list.setAccessibleName("Other cases about the same person, account or post")
        self.related_list.setAccessibleDescription("Press Enter or double-click to open a case")
        self.related_list.setMaximumHeight(self.fontMetrics().height() * 6)
        self.related_list.itemActivated.connect(
            lambda item: self.open_case_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.related_label.setBuddy(self.related_list)
        people_layout.addWidget(self.related_label)
        people_layout.addWidget(self.related_list)
        self.related_label.hide()
        self.related_list.hide()

        # Chronology tab.
        self.events_table = _table(["When", "Who", "What"], self)
        self.events_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.events_table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.events_table.setAccessibleName("Chronology of the case, newest first")
        chronology = QWidget(self)
        chronology_layout = QVBoxLayout(chronology)
        chronology_layout.addWidget(self.events_table)

        # The Evidence, Letters and Follow-up tabs (and their modules) are made when the
        # first case is shown (_case_tabs): the window's start shows no case, and making
        # them was a tenth of the time to its first painted list.
        self._case_tabs_made: tuple[QWidget, QWidget, QWidget] | None = None

        self.tabs = QTabWidget(self)
        for page, title in ((details, "Details"), (people, "People"), (chronology, "Chronology")):
            self._add_tab(page, title)
        # The tabs are reached with Ctrl+1 to Ctrl+6 (and Ctrl+Tab): letters are kept for
        # the buttons and fields inside them, so that no Alt+letter means two things.
        for number in range(1, len(TAB_NAMES) + 1):
            jump = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
            jump.activated.connect(lambda name=TAB_NAMES[number - 1]: self.show_tab(name))
        # Other cases about the same person are looked up when the People tab is seen: over
        # thousands of sealed cases the look-up opens each one's handle and post address.
        self._people_page = people
        self._related_case = 0  # the case the joined-up list was filled for
        self.tabs.currentChanged.connect(self._fill_related_if_seen)

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.heading)
        titles.addWidget(self.status_line)
        header.addLayout(titles, 1)
        header.addWidget(self.note_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.status_button, 0, Qt.AlignmentFlag.AlignTop)
        case_page = QWidget(self)
        case_layout = QVBoxLayout(case_page)
        case_layout.addLayout(header)
        case_layout.addWidget(self.tabs, 1)

        empty = QLabel(
            "No case selected.\n\nChoose a case from the list, or press Ctrl+N to open a new case.",
            self,
        )
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setStyleSheet("color: #555;")
        self.pages = QStackedWidget(self)
        self.pages.addWidget(empty)
        self.pages.addWidget(case_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        signals.operation_did_execute.connect(self._changed)

    def _add_tab(self, page: QWidget, title: str) -> None:
        number = self.tabs.addTab(page, title) + 1
        self.tabs.setTabToolTip(number - 1, f"{title} (Ctrl+{number})")

    def _case_tabs(self) -> tuple[QWidget, QWidget, QWidget]:
        """The Evidence, Letters and Follow-up tabs, made the first time they are needed."""
        if self._case_tabs_made is None:
            from app.ui.views.evidence_tab import EvidenceTab
            from app.ui.views.letters_tab import LettersTab
            from app.ui.views.workflow_tab import WorkflowTab

            made = (
                EvidenceTab(self._services, self._signals, self),
                LettersTab(self._services, self._signals, self),
                WorkflowTab(self._services, self._signals, self),
            )
            self._case_tabs_made = made
            for page, title in zip(made, ("Evidence", "Letters", "Follow-up"), strict=True):
                self._add_tab(page, title)
        return self._case_tabs_made

    @property
    def evidence_tab(self) -> QWidget:
        """The Evidence tab."""
        return self._case_tabs()[0]

    @property
    def letters_tab(self) -> QWidget:
        """The Letters tab."""
        return self._case_tabs()[1]

    @property
    def workflow_tab(self) -> QWidget:
        """The Follow-up tab."""
        return self._case_tabs()[2]

    # ----- showing a case -------------------------------------------------------------

    def set_case(self, case_id: int) -> None:
        """Show a case (0 for none). Unsaved edits are offered for saving first."""
        if self.case is not None and case_id == self.case.id:
            # The case shown, selected again (the list re-read as a search is typed): its
            # edits are kept, and it is not read again (nor its viewing audited again).
            # Changes to it arrive through operation_did_execute (_changed).
            return
        if self.case is not None and case_id != self.case.id and not self.confirm_leave():
            return
        if not case_id:
            self.case = None
            self.pages.setCurrentIndex(0)
            self._set_tab_case(None)
            return
        try:
            case = self._services.cases.get_case(case_id)
        except NotFoundError:
            self.case = None
            self.pages.setCurrentIndex(0)
            self._set_tab_case(None)
            return
        # The list selects the case again after every change it is told of, just after
        # this screen has shown the change itself: the same case, unchanged, is not redrawn.
        if case != self.case or self.pages.currentIndex() != 1:
            self._show(case)
        self._set_tab_case(case_id)

    def _set_tab_case(self, case_id: int | None) -> None:
        if case_id is None and self._case_tabs_made is None:
            return  # no case shown yet: nothing on the tabs to clear
        for tab in (self.evidence_tab, self.letters_tab):
            tab.set_case(case_id)  # type: ignore[attr-defined]
        categories = self.case.categories if self.case is not None else frozenset()
        self.workflow_tab.set_case(case_id, categories)  # type: ignore[attr-defined]

    def _show(self, case: CaseDetail) -> None:
        self.case = case
        self.pages.setCurrentIndex(1)
        self.heading.setText(f"{case.reference}  {case.title}")
        standards = ", ".join(CATEGORY_INFO[c].short_label for c in sorted(case.categories))
        status = f"Status: {STATUS_LABELS[case.status]}  ·  Standards: {standards}"
        if case.follow_up_due:
            status += f"\nFollow up by: {format_short_date(case.follow_up_due)}"
        if case.overdue:
            status += "  — OVERDUE"
        self.status_line.setText(status)
        self.status_line.setStyleSheet("color: #a61b1b; font-weight: bold;" if case.overdue else "")
        self.form.set_case(case)
        self.workflow_tab.set_categories(case.categories)  # type: ignore[attr-defined]
        self._set_dirty(False)
        self._fill_status_menu()
        self._fill_people(case.people)
        self._related_case = 0
        self._fill_related_if_seen()
        self._fill_events()

    def _fill_status_menu(self) -> None:
        assert self.case is not None
        self.status_menu.clear()
        for target in allowed_transitions(self.case.status):
            label = STATUS_LABELS[target]
            if not is_open(self.case.status):
                label = f"Reopen as {label.lower()}"
            # Each status its own Alt+letter in the menu (Evidence and Escalated share E).
            where = label.lower().find(STATUS_KEYS[target])
            label = label[:where] + "&" + label[where:]
            action = QAction(label, self.status_menu)
            action.triggered.connect(lambda _=False, t=target: self.change_status(t))
            self.status_menu.addAction(action)

    def _fill_people(self, links: tuple[CasePerson, ...]) -> None:
        self.people_table.setRowCount(len(links))
        for row, link in enumerate(links):
            p = link.person
            address = ", ".join([*p.address_lines, p.postcode] if p.postcode else p.address_lines)
            contact = "; ".join(x for x in (p.email, p.phone) if x)
            for column, text in enumerate(
                [
                    p.name,
                    ROLE_LABELS[link.role],
                    PERSON_KIND_LABELS[p.kind],
                    p.relationship,
                    address,
                    contact,
                ]
            ):
                item = _cell(text)
                item.setData(Qt.ItemDataRole.UserRole, row)
                self.people_table.setItem(row, column, item)
        self.people_table.resizeColumnsToContents()
        has_people = bool(links)
        self.edit_person_button.setEnabled(has_people)
        self.unlink_button.setEnabled(has_people)
        self.sar_button.setEnabled(has_people)

    def _fill_related_if_seen(self, _index: int = 0) -> None:
        if self.case is None or self.tabs.currentWidget() is not self._people_page:
            return
        if self._related_case != self.case.id:
            self._fill_related(self.case.id)

    def _fill_related(self, case_id: int) -> None:
        self._related_case = case_id
        self.related_list.clear()
        related = self._services.joined_up.related_cases(case_id)
        for other in related:
            item = QListWidgetItem(other.describe, self.related_list)
            item.setData(Qt.ItemDataRole.UserRole, other.id)
        self.related_label.setVisible(bool(related))
        self.related_list.setVisible(bool(related))

    def _fill_events(self) -> None:
        assert self.case is not None
        events = list(reversed(self.case.events))  # newest first
        self.events_table.setRowCount(len(events))
        for row, event in enumerate(events):
            self.events_table.setItem(row, 0, _cell(format_date_time(event.at)))
            self.events_table.setItem(row, 1, _cell(event.actor))
            self.events_table.setItem(row, 2, _cell(event.summary))
        self.events_table.resizeRowsToContents()

    def show_tab(self, name: str) -> None:
        """Bring a tab to the front by its name (details, people, chronology, ...)."""
        index = TAB_NAMES.index(name)
        if index >= self.tabs.count():
            self._case_tabs()
        self.tabs.setCurrentIndex(index)

    def _changed(self, changes: OpChanges) -> None:
        if self.case is not None and changes.touches(self.case.id) and not self.is_dirty():
            try:
                self._show(self._services.cases.get_case(self.case.id))
            except NotFoundError:
                self.set_case(0)

    # ----- details --------------------------------------------------------------------

    def is_dirty(self) -> bool:
        return self.save_button.isEnabled()

    def _set_dirty(self, dirty: bool) -> None:
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)

    def _form_changed(self) -> None:
        self._set_dirty(self.case is not None)

    def save_details(self) -> bool:
        """Save the Details tab; a refusal is shown beside the form and nothing is saved."""
        if self.case is None:
            return True
        case = self.case
        draft = self.form.draft()
        refusals: list[Refusal] = []
        saved = self._signals.runner.perform(
            lambda: self._services.operations.update_case(
                case.id, draft, expected_version=case.version
            ),
            initiator="case screen",
            on_refused=refusals.append,
        )
        if saved is None:
            refused = refusals[0]
            if isinstance(refused.error, ConflictError):
                answer = QMessageBox.warning(
                    self,
                    "Case changed elsewhere",
                    refused.message + "\n\nReload the case now? Your unsaved changes will be lost.",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.Yes,
                )
                if answer == QMessageBox.StandardButton.Yes:
                    self._set_dirty(False)
                    self._show(self._services.cases.get_case(case.id))
                return False
            self.form.show_error(refused.message)
            self.show_tab("details")
            return False
        self._set_dirty(False)
        self._show(saved)
        self._signals.status_message.emit(f"Saved {saved.reference}.")
        return True

    def revert_details(self) -> None:
        if self.case is not None:
            self.form.set_case(self.case)
            self._set_dirty(False)

    def confirm_leave(self) -> bool:
        """Ask about unsaved edits and drawn redaction boxes; True when fine to move away.

        (A note typed on the Follow-up tab stays with its case instead: see
        ``confirm_close``.)
        """
        made = self._case_tabs_made
        if made is not None and not made[0].confirm_discard_boxes():  # type: ignore[attr-defined]
            return False
        return self._confirm_details()

    def confirm_close(self) -> bool:
        """Before the window closes: unsaved edits, boxes and typed notes are asked about."""
        if not self.confirm_leave():
            return False
        if self._case_tabs_made is None:
            return True  # no case was ever shown: no note can have been typed
        unsaved = self.workflow_tab.unsaved_notes()  # type: ignore[attr-defined]
        if not unsaved:
            return True
        references = []
        for case_id in unsaved:
            try:
                references.append(self._services.cases.get_case(case_id).reference)
            except CasebookError:
                continue
        if not references:
            return True
        answer = QMessageBox.question(
            self,
            "Notes not yet added",
            "A note, call or meeting typed on "
            + ", ".join(references)
            + " has not been added to the chronology. Close and discard it?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Discard:
            return False
        self.workflow_tab.discard_unsaved_notes()  # type: ignore[attr-defined]
        return True

    def _confirm_details(self) -> bool:
        if not self.is_dirty() or self.case is None:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save your changes to {self.case.reference} before leaving it?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_details()
        if answer == QMessageBox.StandardButton.Discard:
            self.revert_details()
            return True
        return False

    # ----- actions on the case ----------------------------------------------------------

    def change_status(self, target: CaseStatus) -> None:
        if self.case is None:
            return
        note, ok = QInputDialog.getText(
            self,
            "Change status",
            f"Move {self.case.reference} to '{STATUS_LABELS[target]}'.\n"
            "Reason or note for the chronology (optional):",
        )
        if not ok:
            return
        step_id: str | None = None
        if target is CaseStatus.ESCALATED:
            step_id = self._choose_ladder_step()
            if step_id is None:
                return
        case_id, version = self.case.id, self.case.version
        changed = self._signals.runner.perform(
            lambda: self._services.operations.change_status(
                case_id, target, note, expected_version=version, step_id=step_id
            ),
            initiator="case screen",
            on_refused=in_message_box(self),
        )
        if changed is not None:
            self._signals.status_message.emit(
                f"{changed.reference} is now '{STATUS_LABELS[changed.status]}'."
            )

    def _choose_ladder_step(self) -> str | None:
        """Ask which escalation step is being taken (the ladder's next step first)."""
        assert self.case is not None
        steps = [
            s for s in self._services.workflow.policy().ladder if s.applies_to(self.case.categories)
        ]
        if not steps:
            return None
        following = self._services.workflow.escalation(self.case.id).position.next
        first = next((i for i, s in enumerate(steps) if following and s.id == following.id), 0)
        label, ok = QInputDialog.getItem(
            self,
            "Escalate",
            f"Which step of the escalation ladder is being taken on {self.case.reference}?",
            [s.label for s in steps],
            first,
            False,
        )
        if not ok:
            return None
        return next(s.id for s in steps if s.label == label)

    def add_note(self) -> None:
        if self.case is None:
            return
        text, ok = QInputDialog.getMultiLineText(
            self, "Add note", f"Note for the chronology of {self.case.reference}:"
        )
        if not ok or not text.strip():
            return
        case_id = self.case.id
        self._signals.runner.perform(
            lambda: self._services.operations.add_note(case_id, text),
            initiator="case screen",
            on_refused=in_message_box(self),
        )

    def _selected_link(self) -> CasePerson | None:
        if self.case is None:
            return None
        row = self.people_table.currentRow()
        if row < 0 or row >= len(self.case.people):
            return None
        return self.case.people[row]

    def link_person(self) -> None:
        if self.case is None:
            return
        from app.ui.dialogs.person import LinkPersonDialog  # loaded on first use

        LinkPersonDialog(self._services, self.case.id, self, signals=self._signals).exec()

    def edit_person(self) -> None:
        link = self._selected_link()
        if link is None or self.case is None:
            return
        from app.ui.dialogs.person import PersonDialog  # loaded on first use

        PersonDialog(self._services, link.person, self, signals=self._signals).exec()

    def subject_access_export(self) -> None:
        link = self._selected_link()
        if link is not None:
            from app.ui.dialogs.retention import export_subject_access

            export_subject_access(self, self._services, link.person)

    def unlink_person(self) -> None:
        link = self._selected_link()
        if link is None or self.case is None:
            return
        answer = QMessageBox.question(
            self,
            "Unlink person",
            f"Remove {link.person.name} ({ROLE_LABELS[link.role]}) from {self.case.reference}? "
            "Their record is kept.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        case_id = self.case.id
        self._signals.runner.perform(
            lambda: self._services.operations.unlink_person(case_id, link.person.id, link.role),
            initiator="case screen",
            on_refused=in_message_box(self),
        )
