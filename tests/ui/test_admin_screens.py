"""The head teacher's administration screens: the audit trail and the retention periods."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.domain.access import Role
from app.domain.categories import Category
from app.domain.errors import AccessDenied
from app.domain.records import CaseDraft
from app.domain.retention import RetentionRules
from app.domain.status import CaseStatus
from app.services.audit import AuditFilter
from app.services.casebook import Services, open_casebook
from app.ui.dialogs.audit_trail import BROKEN_BACKGROUND, AuditTrailDialog, open_audit_trail
from app.ui.dialogs.retention import RetentionDialog, RetentionRulesDialog
from app.ui.main_window import MainWindow
from app.ui.signals import AppSignals
from tests.conftest import Clock
from tests.ui.conftest import answer_next_dialog

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"
# British Summer Time: 09:30:15 UTC is 10:30:15 in the school.
SUMMER_MORNING = datetime(2026, 7, 1, 9, 30, 15, tzinfo=UTC)


@pytest.fixture
def summer_clock() -> Clock:
    return Clock(SUMMER_MORNING)


@pytest.fixture
def casebook(tmp_path: Path, summer_clock: Clock) -> Iterator[Services]:
    """A casebook with a head teacher and an office user, and a few days of entries."""
    services = open_casebook(tmp_path / "data", clock=summer_clock)
    services.users.create_first_user("head", HEAD_PASSWORD)
    services.users.sign_in("head", HEAD_PASSWORD)
    services.users.add_user("Mrs Office", Role.OFFICE, OFFICE_PASSWORD)
    case = services.cases.open_case(
        CaseDraft(title="Comments about a teacher", categories=frozenset({Category.ABUSIVE}))
    )
    summer_clock.advance(days=1)
    services.cases.add_note(case.id, "Phoned the parent.")
    summer_clock.advance(days=1)
    services.audit.record("Mrs Office", "print letter", case.reference, "letter 1")
    services.cases.add_note(case.id, "Parent removed the post.")
    summer_clock.advance(minutes=1)
    yield services
    services.close()


def _texts(dialog: AuditTrailDialog, column: int) -> list[str]:
    model = dialog.model
    return [model.index(row, column).data() for row in range(model.rowCount())]


def _tamper(services: Services, statement: str) -> None:
    # Someone with a database tool edits the file behind the program's back.
    with services.engine.begin() as connection:
        connection.execute(text(statement))


def test_the_trail_opens_newest_first_with_uk_times(
    qtbot: QtBot, casebook: Services, tmp_path: Path
) -> None:
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    total = casebook.audit.count()
    assert dialog.model.rowCount() == total
    assert dialog.count_label.text() == f"{total:,} entries, newest first."
    # Opening the trail is the newest entry, in the head teacher's name.
    assert _texts(dialog, 3)[0] == "view audit trail"
    assert _texts(dialog, 2)[0] == "head"
    numbers = [int(n) for n in _texts(dialog, 0)]
    assert numbers == sorted(numbers, reverse=True)
    # The first entry was written at 09:30:15 UTC, which is 10:30:15 in London in July.
    assert _texts(dialog, 1)[-1] == "01/07/2026 10:30:15"
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", t) for t in _texts(dialog, 1))
    assert "print letter" in _texts(dialog, 3)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.grab().save(str(tmp_path / "audit-trail.png"))


def test_filters_narrow_the_rows_in_the_database(qtbot: QtBot, casebook: Services) -> None:
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    everything = dialog.model.rowCount()

    dialog.action_filter.setText("NOTE")  # the words are matched whatever their case
    qtbot.waitUntil(lambda: dialog.model.rowCount() < everything)
    assert _texts(dialog, 3) == ["add note", "add note"]
    assert (
        dialog.count_label.text()
        == f"2 of {everything:,} entries match these filters, newest first."
    )

    dialog.action_filter.clear()
    dialog.user_filter.setCurrentText("Mrs Office")
    dialog.apply_filter()
    assert _texts(dialog, 3) == ["print letter"]
    assert _texts(dialog, 5) == ["letter 1"]

    dialog.clear_filters()
    dialog.target_filter.setText("sm-2026-0001")
    dialog.apply_filter()
    assert set(_texts(dialog, 4)) == {"SM-2026-0001"}
    assert dialog.model.rowCount() >= 4

    # Dates are whole days in UK time: only 2 July 2026.
    dialog.clear_filters()
    dialog.from_date.setDate(date(2026, 7, 2))
    dialog.to_date.setDate(date(2026, 7, 2))
    dialog.use_from.setChecked(True)
    dialog.use_to.setChecked(True)
    assert _texts(dialog, 3) == ["add note"]
    assert _texts(dialog, 1) == ["02/07/2026 10:30:15"]

    dialog.action_filter.setText("nothing like this")
    dialog.apply_filter()
    assert dialog.model.rowCount() == 0
    assert dialog.count_label.text() == "No entry matches these filters."


def test_enter_in_a_filter_box_filters_and_keeps_the_window_open(
    qtbot: QtBot, casebook: Services
) -> None:
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.action_filter.setFocus()
    qtbot.keyClicks(dialog.action_filter, "print")
    qtbot.keyClick(dialog.action_filter, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.action_filter.text() == "print"
    assert _texts(dialog, 3) == ["print letter"]


def test_check_says_the_trail_is_intact(qtbot: QtBot, casebook: Services) -> None:
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.check_job is None, timeout=10_000)
    assert dialog.result_label.text().startswith("The audit trail is intact: all ")
    assert "none has been changed, removed or reordered" in dialog.result_label.text()
    # The check itself is recorded and shown at the top.
    assert _texts(dialog, 3)[0] == "check audit trail"


def test_check_names_and_selects_an_edited_entry(
    qtbot: QtBot, casebook: Services, tmp_path: Path
) -> None:
    victim = casebook.audit.entries(AuditFilter(action="print letter"))[0].seq
    _tamper(casebook, f"UPDATE audit_entries SET user = 'head' WHERE seq = {victim}")
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)

    dialog.check_button.click()
    assert not dialog.check_button.isEnabled()  # the walk runs on a worker thread
    qtbot.waitUntil(lambda: dialog.check_job is None, timeout=10_000)
    sentence = dialog.result_label.text()
    assert f"entry {victim} (" in sentence and "has been changed" in sentence
    assert "intact" not in sentence
    row = dialog.table.currentIndex().row()
    assert dialog.model.index(row, 0).data() == str(victim)
    background = dialog.model.index(row, 3).data(Qt.ItemDataRole.BackgroundRole)
    assert background.color() == BROKEN_BACKGROUND
    dialog.grab().save(str(tmp_path / "audit-trail-broken.png"))


def test_check_names_a_removed_entry(qtbot: QtBot, casebook: Services) -> None:
    _tamper(casebook, "DELETE FROM audit_entries WHERE seq = 3")
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    dialog.start_check()
    qtbot.waitUntil(lambda: dialog.check_job is None, timeout=10_000)
    assert "1 audit entry before entry 4 (" in dialog.result_label.text()
    assert dialog.model.index(dialog.table.currentIndex().row(), 0).data() == "4"


def test_export_saves_the_filtered_entries_as_csv(
    qtbot: QtBot, casebook: Services, tmp_path: Path
) -> None:
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    dialog.action_filter.setText("note")
    dialog.apply_filter()
    target = tmp_path / "exports" / "audit.csv"
    target.parent.mkdir()

    dialog.export_to(target)
    qtbot.waitUntil(lambda: dialog.export_job is None, timeout=10_000)
    assert dialog.result_label.text() == f"Saved 2 audit entries to {target}."
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Number,Time (UK),User,Action,Record,Detail,Hash"
    assert len(lines) == 3
    assert all(",head,add note,SM-2026-0001," in line for line in lines[1:])
    assert ",03/07/2026 10:30:15,head,add note," in lines[1]
    assert [p.name for p in target.parent.iterdir()] == ["audit.csv"]  # no temporary file left
    exported = casebook.audit.entries(AuditFilter(action="export audit trail"))
    assert [(e.user, e.detail) for e in exported] == [("head", "2")]


def test_export_to_a_folder_that_is_not_there_says_so(
    qtbot: QtBot, casebook: Services, tmp_path: Path
) -> None:
    dialog = AuditTrailDialog(casebook)
    qtbot.addWidget(dialog)
    dialog.export_to(tmp_path / "missing" / "audit.csv")
    qtbot.waitUntil(lambda: dialog.export_job is None, timeout=10_000)
    assert dialog.result_label.text().startswith("The audit trail could not be saved to audit.csv")
    assert not (tmp_path / "missing").exists()


def test_office_staff_are_refused_the_trail(qtbot: QtBot, casebook: Services) -> None:
    casebook.users.sign_in("Mrs Office", OFFICE_PASSWORD)
    parent = QWidget()
    qtbot.addWidget(parent)
    said: list[str] = []

    def read_and_close(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        said.append(box.text())
        box.accept()

    answer_next_dialog(read_and_close)
    assert open_audit_trail(parent, casebook) is None
    assert said == ["Your role (Office staff) does not allow you to see the audit trail."]
    # The service refuses too, whatever screen asks.
    for attempt in (casebook.audit.entries, casebook.audit.count, casebook.audit.verify):
        with pytest.raises(AccessDenied):
            attempt()
    casebook.users.sign_in("head", HEAD_PASSWORD)
    refused = casebook.audit.entries(AuditFilter(action="refused: view audit trail"))
    assert [e.user for e in refused] == ["Mrs Office"]


# ----- retention periods ------------------------------------------------------------------


@pytest.fixture
def closed_case(casebook: Services, summer_clock: Clock) -> str:
    """A case closed on 3 July 2026; with the default six years it is due in 2032."""
    case = casebook.cases.open_case(
        CaseDraft(title="Post about the school trip", categories=frozenset({Category.ABUSIVE}))
    )
    casebook.cases.change_status(case.id, CaseStatus.CLOSED_NO_ACTION)
    summer_clock.set(datetime(2030, 1, 15, 12, 0, tzinfo=UTC))
    return case.reference


def test_changing_the_review_period_updates_the_list(
    qtbot: QtBot, casebook: Services, closed_case: str, tmp_path: Path
) -> None:
    dialog = RetentionDialog(casebook, AppSignals())
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0
    assert dialog.intro.text().startswith("Closed cases are reviewed 6 years after closing")
    assert dialog.rules_button.isEnabled()

    def shorten(widget: QWidget) -> None:
        assert isinstance(widget, RetentionRulesDialog)
        widget.show()
        widget.grab().save(str(tmp_path / "retention-periods.png"))
        widget.spins["review_after_years"].setValue(3)
        widget.save()

    answer_next_dialog(shorten)
    dialog.edit_rules()
    assert casebook.retention.rules().review_after_years == 3
    assert dialog.intro.text().startswith("Closed cases are reviewed 3 years after closing")
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text() == closed_case
    assert dialog.table.item(0, 3).text() == "03/07/2029"
    changed = casebook.audit.entries(AuditFilter(action="change retention rules"))
    assert [(e.user, e.detail) for e in changed] == [
        ("head", "review period for closed cases: 6 to 3")
    ]
    dialog.show()
    dialog.grab().save(str(tmp_path / "retention-after.png"))


def test_a_period_that_makes_no_sense_is_refused_in_one_sentence(
    qtbot: QtBot, casebook: Services
) -> None:
    dialog = RetentionRulesDialog(casebook)
    qtbot.addWidget(dialog)
    spin = dialog.spins["safeguarding_until_age"]
    assert (spin.minimum(), spin.maximum()) == (18, 100)
    dialog.spins["safeguarding_without_dob_years"].setValue(2)
    dialog.save()
    assert dialog.error.text() == (
        "Safeguarding cases without a date of birth must be kept at least as long as "
        "other closed cases (6 years)."
    )
    assert dialog.result() == 0  # still open, nothing saved
    assert casebook.retention.rules() == RetentionRules()
    assert not casebook.audit.entries(AuditFilter(action="retention"))


def test_the_backup_policy_is_saved_with_the_periods(qtbot: QtBot, casebook: Services) -> None:
    dialog = RetentionRulesDialog(casebook)
    qtbot.addWidget(dialog)
    assert dialog.keep_backups is not None and dialog.warn_days is not None
    dialog.keep_backups.setValue(12)
    dialog.warn_days.setValue(3)
    dialog.save()
    assert dialog.result() == 1
    assert (casebook.backups.keep_count(), casebook.backups.warn_after_days()) == (12, 3)
    assert casebook.retention.rules() == RetentionRules()  # unchanged, so not recorded
    assert not casebook.audit.entries(AuditFilter(action="change retention rules"))


def test_office_staff_cannot_change_the_periods(
    qtbot: QtBot, casebook: Services, closed_case: str
) -> None:
    casebook.users.sign_in("Mrs Office", OFFICE_PASSWORD)
    dialog = RetentionDialog(casebook, AppSignals())
    qtbot.addWidget(dialog)
    assert not dialog.rules_button.isEnabled()
    with pytest.raises(AccessDenied):
        casebook.retention.save_rules(RetentionRules(review_after_years=2))
    assert casebook.retention.rules().review_after_years == 6


# ----- the window's menu ------------------------------------------------------------------


def test_the_administration_menu_holds_the_head_teachers_screens(window: MainWindow) -> None:
    menus = {m.title(): m for m in window.menuBar().findChildren(QMenu)}
    texts = [a.text() for a in menus["&Administration"].actions()]
    assert texts == [
        "&Users…",
        "&Audit trail…",
        "&Subject access requests…",
        "&Import pupils and contacts from the MIS…",
        "Retention re&view…",
        "&Backup && Restore…",
        "Adopt a revised &Code…",
    ]
    file_texts = [a.text() for a in menus["&File"].actions()]
    assert "Retention re&view…" not in file_texts
    assert "&Backup && Restore…" not in file_texts
