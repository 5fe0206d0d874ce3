"""The "Report a post" wizard: a few plain questions, then the standards and first actions."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.domain.categories import CATEGORY_INFO, Category
from app.domain.dates import format_date_time, london_today
from app.domain.errors import CasebookError
from app.domain.people import name_key
from app.domain.policy import IntakeAnswers, propose_categories
from app.domain.records import CaseDetail, CaseDraft
from app.services.casebook import Services
from app.ui.signals import AppSignals
from app.ui.views.case_form import DIALOG_CATEGORY_KEYS
from app.ui.widgets import tab_moves_on, with_mnemonic

# The Code's own names for the kinds of social media stay in letters and the leaflet; the
# question asks in everyday words (by the Code's ids, so a new Code version still works).
PLAIN_MEDIA_KINDS = {
    "blogs": "Blog or microblog (for example X or Threads)",
    "social-networking": "Social network (for example Facebook)",
    "collaboration": "Shared site or forum (for example a wiki or a local forum)",
    "bookmarking": "Social bookmarking (for example Pinterest)",
    "photo-video": "Photo or video sharing (for example Instagram, TikTok or YouTube)",
    "rss": "News feed or aggregator",
}


class ReportWizard(QWizard):
    """Walks the head through a new report and opens the case with its checklist."""

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        signals: AppSignals | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.signals = signals or AppSignals(self)
        self.created: CaseDetail | None = None
        self.setWindowTitle("Report a post")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)

        # 1. What was seen
        seen = QWizardPage(self)
        seen.setTitle("What was seen?")
        seen.setSubTitle("Describe the post in your own words; you can add evidence afterwards.")
        self.title = QLineEdit(seen)
        self.title.setPlaceholderText("A short title, e.g. “Comments about the school trip”")
        self.summary = QPlainTextEdit(seen)
        self.summary.setPlaceholderText("What the post says or shows")
        self.post_url = QLineEdit(seen)
        self.post_url.setPlaceholderText("https://…")
        form = QFormLayout(seen)
        form.addRow("&Title", self.title)
        form.addRow("&What was seen", self.summary)
        form.addRow("Address of the &post", self.post_url)
        seen.registerField("title*", self.title)

        # 2. Where and who
        where = QWizardPage(self)
        where.setTitle("Where was it, and who posted it?")
        self.media_kind = QComboBox(where)
        self.media_kind.addItem("Not sure", "")
        for kind in services.ctx.code.media_kinds:
            self.media_kind.addItem(PLAIN_MEDIA_KINDS.get(kind.id, kind.text), kind.id)
        self.platform = QLineEdit(where)
        self.platform.setPlaceholderText("e.g. Facebook, X, a local forum")
        self.account = QLineEdit(where)
        self.account.setPlaceholderText("The name or handle shown on the post")
        self.posted_by = QLineEdit(where)
        self.posted_by.setPlaceholderText("Name of the parent or carer, if known")
        form = QFormLayout(where)
        form.addRow("&Kind of social media", self.media_kind)
        form.addRow("&Platform", self.platform)
        form.addRow("&Account", self.account)
        form.addRow("Posted b&y", self.posted_by)

        # 3. What it does
        questions = QWizardPage(self)
        questions.setTitle("What does the post do?")
        questions.setSubTitle("Tick everything that applies.")
        self.child = QCheckBox("A child can be &identified (name, photo, class, uniform)")
        self.abusive = QCheckBox("It &threatens or abuses someone")
        self.procedure = QCheckBox(
            "It is about a complaint, bullying, &attendance or additional needs"
        )
        self.inaccurate = QCheckBox("It is &factually wrong")
        box = QVBoxLayout(questions)
        for check in (self.child, self.abusive, self.procedure, self.inaccurate):
            box.addWidget(check)
        box.addStretch(1)

        # 4. Proposal
        self.proposal = QWizardPage(self)
        self.proposal.setTitle("Standards breached and first actions")
        self.proposal.setSubTitle("Confirm or change the standards; the checklist follows them.")
        self.category_checks: dict[Category, QCheckBox] = {}
        box = QVBoxLayout(self.proposal)
        for category, info in CATEGORY_INFO.items():
            check = QCheckBox(
                with_mnemonic(info.label, DIALOG_CATEGORY_KEYS[category]), self.proposal
            )
            check.toggled.connect(self._show_actions)
            self.category_checks[category] = check
            box.addWidget(check)
        self.actions_label = QLabel(self.proposal)
        self.actions_label.setWordWrap(True)
        self.error = QLabel(self.proposal)
        self.error.setStyleSheet("color: #a4262c")
        self.error.setWordWrap(True)
        box.addWidget(self.actions_label)
        # Other cases about the same account, post or person (issue 21).
        self.related_label = QLabel(self.proposal)
        self.related_label.setWordWrap(True)
        self.related_label.setTextFormat(Qt.TextFormat.PlainText)
        self.related_label.hide()
        box.addWidget(self.related_label)
        box.addStretch(1)
        box.addWidget(self.error)

        for page in (seen, where, questions, self.proposal):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Open case")
        self.setButtonText(QWizard.WizardButton.BackButton, "< &Back")
        self.setButtonText(QWizard.WizardButton.NextButton, "&Next >")
        tab_moves_on(self.summary)
        self.currentIdChanged.connect(self._page_shown)
        self.resize(640, 480)

    def typed_something(self) -> bool:
        """True once anything has been typed that closing would throw away."""
        boxes = (self.title, self.post_url, self.platform, self.account, self.posted_by)
        return bool(self.summary.toPlainText().strip()) or any(b.text().strip() for b in boxes)

    def reject(self) -> None:
        # Escape, Cancel and the close box all come here: typed words are never lost unasked.
        if self.typed_something():
            answer = QMessageBox.question(
                self,
                "Discard this report?",
                "What you have typed will be lost. Discard it?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()

    def answers(self) -> IntakeAnswers:
        """The answers to the questions page."""
        return IntakeAnswers(
            child_identified=self.child.isChecked(),
            threatening_or_abusive=self.abusive.isChecked(),
            procedure_matter=self.procedure.isChecked(),
            factually_wrong=self.inaccurate.isChecked(),
        )

    def chosen_categories(self) -> frozenset[Category]:
        return frozenset(c for c, check in self.category_checks.items() if check.isChecked())

    def _page_shown(self, page_id: int) -> None:
        if self.page(page_id) is self.proposal:
            proposed = propose_categories(self.answers())
            for category, check in self.category_checks.items():
                check.setChecked(category in proposed)
            self._show_actions()
            self._show_related()

    def _show_related(self) -> None:
        name = self.posted_by.text().strip()
        key = name_key(name)
        known = [p.id for p in self.services.people.search_people(name) if name_key(p.name) == key]
        try:
            related = self.services.joined_up.related_to(
                self.account.text(), self.post_url.text(), known
            )
        except CasebookError:
            related = []
        lines = [r.describe for r in related[:5]]
        if len(related) > 5:
            lines.append(f"and {len(related) - 5} more")
        self.related_label.setText(
            "Other cases about the same account, post or person:\n" + "\n".join(lines)
        )
        self.related_label.setVisible(bool(related))

    def _show_actions(self) -> None:
        plan = self.services.workflow.policy().plan(
            self.chosen_categories(), self.services.ctx.now()
        )
        if not plan:
            self.actions_label.setText("Tick at least one standard.")
            return
        lines = "".join(f"<li>{p.label} — by {format_date_time(p.due_at)}</li>" for p in plan)
        self.actions_label.setText(f"<b>First actions</b><ul>{lines}</ul>")

    def draft(self) -> CaseDraft:
        """The case the answers describe."""
        summary = self.summary.toPlainText().strip()
        kind = self.media_kind.currentText().split(" (")[0] if self.media_kind.currentData() else ""
        if kind:
            summary = (summary + "\n\n" if summary else "") + f"Kind of social media: {kind}"
        return CaseDraft(
            title=self.title.text(),
            categories=self.chosen_categories(),
            summary=summary,
            platform=self.platform.text(),
            post_url=self.post_url.text(),
            account_handle=self.account.text(),
            reported_on=london_today(self.services.ctx.now()),
        )

    def accept(self) -> None:
        if self.created is not None:  # a second press of Finish: the case is already open
            super().accept()
            return
        draft = self.draft()
        name = self.posted_by.text().strip()
        created = self.signals.runner.perform(
            lambda: self.services.operations.open_case(draft, author=name),
            initiator="report wizard",
            on_refused=lambda refused: self.error.setText(refused.message),
        )
        if created is None:
            return
        self.created = created
        super().accept()
