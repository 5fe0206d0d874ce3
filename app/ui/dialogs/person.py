"""Adding or changing a person, and linking a person to a case in a role."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
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
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.people import (
    COMMON_TITLES,
    PERSON_KIND_LABELS,
    ROLE_LABELS,
    CaseRole,
    PersonKind,
    Restriction,
)
from app.domain.records import Person, PersonDraft, draft_of
from app.services.casebook import Services
from app.ui.operations import Refusal
from app.ui.signals import AppSignals
from app.ui.widgets import roomy_labels, tab_moves_on


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setStyleSheet("color: #a61b1b;")
    label.setWordWrap(True)
    label.hide()
    return label


class PersonDialog(QDialog):
    """Name, kind, postal address and contact details of one person."""

    def __init__(
        self,
        services: Services,
        person: Person | None = None,
        parent: QWidget | None = None,
        *,
        signals: AppSignals | None = None,
    ):
        super().__init__(parent)
        self._services = services
        self._signals = signals or AppSignals(self)
        self._person = person
        self.saved: Person | None = None
        self.setWindowTitle("Change person" if person else "New person")
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("As it should be shown, e.g. Karen Whitfield")
        self.title = QComboBox(self)
        self.title.setEditable(True)
        line = self.title.lineEdit()
        if line is not None:
            line.setAccessibleName("Title")
        self.title.addItems(["", *COMMON_TITLES])
        self.title.setToolTip("Letters say “Dear Mrs Whitfield” when a title and surname are given")
        self.forenames = QLineEdit(self)
        self.surname = QLineEdit(self)
        self.kind = QComboBox(self)
        for kind in PersonKind:
            self.kind.addItem(PERSON_KIND_LABELS[kind], kind.value)
        self.address = QPlainTextEdit(self)
        self.address.setPlaceholderText("One line per line of the address (without the postcode)")
        tab_moves_on(self.address)
        self.address.setFixedHeight(self.fontMetrics().height() * 6)
        self.postcode = QLineEdit(self)
        self.email = QLineEdit(self)
        self.phone = QLineEdit(self)
        self.relationship = QLineEdit(self)
        self.relationship.setPlaceholderText("e.g. Mother of a Year 4 pupil")
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("T&itle", self.title)
        form.addRow("&Forenames", self.forenames)
        form.addRow("S&urname", self.surname)
        form.addRow("&Kind", self.kind)
        form.addRow("&Address", self.address)
        form.addRow("&Postcode", self.postcode)
        form.addRow("&Email", self.email)
        form.addRow("&Telephone", self.phone)
        form.addRow("&Relationship to pupils", self.relationship)
        roomy_labels(form)
        self.error = _error_label(self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(buttons)
        if person and person.mis_id:
            facts = [f"MIS id {person.mis_id}"]
            if person.kind is PersonKind.PUPIL:
                facts += [x for x in (person.year_group, person.reg_group) if x]
                if person.preferred_name:
                    facts.append(f"known as {person.preferred_name}")
            else:
                if person.parental_responsibility is not None:
                    facts.append(
                        "parental responsibility"
                        if person.parental_responsibility
                        else "no parental responsibility"
                    )
                if person.contact_priority:
                    facts.append(f"contact priority {person.contact_priority}")
                facts += [
                    r.value.replace("_", " ")
                    for r in person.restrictions
                    if r is not Restriction.NO_PARENTAL_RESPONSIBILITY
                ]
            mis = QLabel("From the MIS: " + ", ".join(facts) + ".", self)
            mis.setWordWrap(True)
            form.addRow("", mis)
        if person:
            self.name.setText(person.name)
            self.title.setCurrentText(person.title)
            self.forenames.setText(person.forenames)
            self.surname.setText(person.surname)
            self.kind.setCurrentIndex(self.kind.findData(person.kind.value))
            self.address.setPlainText("\n".join(person.address_lines))
            self.postcode.setText(person.postcode)
            self.email.setText(person.email)
            self.phone.setText(person.phone)
            self.relationship.setText(person.relationship)
        self.resize(max(480, self.sizeHint().width()), self.sizeHint().height())

    def draft(self) -> PersonDraft:
        # What the MIS said (and this dialog does not show as fields) is kept as it was.
        kept = draft_of(self._person) if self._person is not None else PersonDraft(name="")
        return replace(
            kept,
            name=self.name.text(),
            title=self.title.currentText(),
            forenames=self.forenames.text(),
            surname=self.surname.text(),
            kind=PersonKind(self.kind.currentData()),
            address_lines=tuple(self.address.toPlainText().splitlines()),
            postcode=self.postcode.text(),
            email=self.email.text(),
            phone=self.phone.text(),
            relationship=self.relationship.text(),
        )

    def accept(self) -> None:
        draft = self.draft()
        operations = self._services.operations
        person = self._person
        saved = self._signals.runner.perform(
            (lambda: operations.add_person(draft))
            if person is None
            else (lambda: operations.update_person(person.id, draft)),
            initiator="person",
            on_refused=self._refused,
        )
        if saved is None:
            return
        self.saved = saved
        super().accept()

    def _refused(self, refused: Refusal) -> None:
        self.error.setText(refused.message)
        self.error.show()


class LinkPersonDialog(QDialog):
    """Pick someone already known (or add someone new) and the part they play in the case."""

    def __init__(
        self,
        services: Services,
        case_id: int,
        parent: QWidget | None = None,
        *,
        signals: AppSignals | None = None,
    ):
        super().__init__(parent)
        self._services = services
        self._signals = signals or AppSignals(self)
        self._case_id = case_id
        self.setWindowTitle("Link a person to the case")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Type part of a name")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find a person by name")
        self.people = QListWidget(self)
        self.people.setAccessibleName("People found")
        self.new_person = QPushButton("&New person…", self)
        self.role = QComboBox(self)
        for role in CaseRole:
            self.role.addItem(ROLE_LABELS[role], role.value)
        self.error = _error_label(self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Link")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.new_person)
        form = QFormLayout()
        form.addRow("&Role in this case", self.role)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.people, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._fill)
        self.new_person.clicked.connect(self._add_new)
        self.people.itemDoubleClicked.connect(lambda _item: self.accept())
        self._fill()
        self.resize(460, 460)

    def _fill(self, select_id: int = 0) -> None:
        self.people.clear()
        for person in self._services.people.search_people(self.search.text()):
            detail = person.relationship or PERSON_KIND_LABELS[person.kind]
            item = QListWidgetItem(f"{person.name} — {detail}")
            item.setData(Qt.ItemDataRole.UserRole, person.id)
            self.people.addItem(item)
            if person.id == select_id:
                self.people.setCurrentItem(item)
        if self.people.currentItem() is None and self.people.count():
            self.people.setCurrentRow(0)

    def _add_new(self) -> None:
        dialog = PersonDialog(self._services, parent=self, signals=self._signals)
        dialog.name.setText(self.search.text())
        if dialog.exec() and dialog.saved:
            self.search.blockSignals(True)
            self.search.setText(dialog.saved.name)
            self.search.blockSignals(False)
            self._fill(dialog.saved.id)

    def accept(self) -> None:
        item = self.people.currentItem()
        if item is None:
            self.error.setText("Choose a person from the list, or add a new person.")
            self.error.show()
            return
        person_id = int(item.data(Qt.ItemDataRole.UserRole))
        role = CaseRole(self.role.currentData())
        linked = self._signals.runner.perform(
            lambda: self._services.operations.link_person(self._case_id, person_id, role),
            initiator="link person",
            on_refused=self._refused,
        )
        if linked is None:
            return
        super().accept()

    def _refused(self, refused: Refusal) -> None:
        self.error.setText(refused.message)
        self.error.show()
