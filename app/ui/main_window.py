"""The main window: menus, toolbar, the case list beside the case screen, status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QObject,
    QRect,
    QSettings,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolTip,
    QWidget,
)
from shiboken6 import isValid

from app import __version__
from app.domain.access import Permission
from app.domain.dates import format_date_time
from app.domain.records import CaseCounts
from app.services.casebook import Services
from app.services.operations import EVERYTHING, OpChanges
from app.ui.file_dialogs import remember_folders_in
from app.ui.lock import DEFAULT_IDLE_LOCK_MS, IdleWatcher, LockGuard, LockScreen
from app.ui.signals import AppSignals
from app.ui.views.case_detail import CaseDetailView
from app.ui.views.case_list import CaseListView
from app.ui.widgets import (
    available_area,
    fit_to_screen,
    fitted_geometry,
    install_screen_fitting,
    should_maximise,
)

if TYPE_CHECKING:
    from app.services.letters import BatchResult
    from app.ui.letter_batch import BatchPrintWorker

APP_TITLE = "Conduct Casebook"
# A window never painted (hidden, or in a test that does not show it) still does its work.
AFTER_FIRST_PAINT_LATEST_MS = 500
PREFERRED_SIZE = QSize(1280, 800)


class AfterFirstPaint(QObject):
    """Runs ``work`` just after ``watched`` is first painted (or after a moment, if never).

    One step at a time, each in its own turn of the event loop: a key pressed or a click
    made meanwhile is answered between two steps, not after all of them.
    """

    def __init__(self, watched: QWidget, work: list[Callable[[], None]]) -> None:
        super().__init__(watched)
        self._work = work
        self._started = False  # the paint (or the timer) has set the steps going
        self._running = False  # a step is running (it may open a dialog of its own)
        watched.installEventFilter(self)
        QTimer.singleShot(AFTER_FIRST_PAINT_LATEST_MS, self, self._start)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._started:
            # After the paint has reached the screen, not inside it.
            QTimer.singleShot(0, self, self._start)
        return False

    @property
    def started(self) -> bool:
        """True once the paint (or the timer) has set the work going."""
        return self._started

    @property
    def done(self) -> bool:
        """True once the work has run."""
        return not self._work

    def then(self, step: Callable[[], None]) -> None:
        """Run ``step`` too after the first paint (at once if that has happened)."""
        if self._work:
            self._work.append(step)
        else:
            step()

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self._next()

    def _next(self) -> None:
        if self._running or not self._work:
            return
        self._running = True
        step = self._work[0]
        try:
            step()
        finally:
            self._running = False
            # Taken off once it has run: ``done`` stays False until the last step ends.
            self._work.remove(step)
            if self._work:
                QTimer.singleShot(0, self, self._next)
            else:
                parent = self.parent()
                if isinstance(parent, QObject):
                    parent.removeEventFilter(self)


def window_settings(data_dir: Path) -> QSettings:
    """Window layout is kept beside the data, so each casebook remembers its own."""
    return QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)


def _idle_lock_setting(data_dir: Path) -> int:
    """Minutes of idleness before the window locks, from window.ini (default 5)."""
    value = window_settings(data_dir).value("security/idle_lock_minutes", None)
    try:
        minutes = float(str(value)) if value is not None else None
    except ValueError:
        minutes = None
    if minutes is None or minutes <= 0:
        return DEFAULT_IDLE_LOCK_MS
    return int(minutes * 60 * 1000)


class MainWindow(QMainWindow):
    """Case list on the left, the selected case on the right."""

    def __init__(
        self,
        services: Services,
        *,
        demo: bool = False,
        idle_lock_ms: int | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        install_screen_fitting()
        remember_folders_in(services.paths.root / "window.ini")
        self.services = services
        self.signals = AppSignals(self)
        self._demo = demo
        self._batch: BatchPrintWorker | None = None
        # A case made current between the window's showing and its first paint.
        self._selected_before_paint: int | None = None
        self.setWindowTitle(APP_TITLE + (" — demonstration data (fictional)" if demo else ""))

        self.case_list = CaseListView(services, self.signals, self)
        self.case_detail = CaseDetailView(services, self.signals, self)
        self.case_detail.open_case_requested.connect(self._open_from_today)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.case_list)
        self.splitter.addWidget(self.case_detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        # The lock screen replaces everything in the window at once (see lock_now).
        self.lock_screen = LockScreen(services, self)
        self.lock_screen.unlocked.connect(self.unlock)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)
        self._title = self.windowTitle()
        self._focus_before_lock: QWidget | None = None
        self._hidden_while_locked: list[QWidget] = []
        self._disabled_while_locked: list[QAction] = []
        self.lock_guard = LockGuard(self.lock_screen)

        self.counts_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.counts_label)
        self.signals.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.case_list.counts_changed.connect(self._show_counts)
        self.case_list.case_selected.connect(self._case_selected)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._add_workflow()
        self._restore_layout()
        self._show_counts(self.case_list.counts)
        # The list is what a person waits for: the first case's screen (it may have a
        # hundred exhibits to show) and the Today panel's due list follow its first paint.
        self.after_first_paint = AfterFirstPaint(
            self.case_list.viewport, [self.today.refresh, self._open_first_case]
        )
        self.case_list.table.setFocus()
        if idle_lock_ms is None:
            idle_lock_ms = _idle_lock_setting(services.paths.root)
        # Seeing every event of the application costs the start its first paint: it
        # watches from then on (the timer runs from now).
        self.idle = IdleWatcher(idle_lock_ms, self, watching=False)
        self.idle.idle.connect(self.lock_now)
        self.after_first_paint.then(self.idle.watch)
        self._remind_about_backup()

    # ----- actions --------------------------------------------------------------------

    def _action(
        self,
        text: str,
        slot: object,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        self.new_case_action = self._action(
            "&New case…", self.new_case, QKeySequence.StandardKey.New, "Open a new case (Ctrl+N)"
        )
        self.find_action = self._action(
            "&Find…",
            self.focus_search,
            QKeySequence.StandardKey.Find,
            "Search the cases (Ctrl+F)",
        )
        self.next_action = self._action(
            "Ne&xt case",
            lambda: self.case_list.move_selection(1),
            "Ctrl+Down",
            "Next case in the list (Ctrl+Down)",
        )
        self.previous_action = self._action(
            "Pre&vious case",
            lambda: self.case_list.move_selection(-1),
            "Ctrl+Up",
            "Previous case in the list (Ctrl+Up)",
        )
        self.refresh_action = self._action(
            "&Refresh",
            lambda: self.signals.announce(EVERYTHING.by("refresh")),
            QKeySequence.StandardKey.Refresh,
            "Read the cases again (F5)",
        )
        self.overdue_action = self._action(
            "Show &overdue only",
            self._toggle_overdue,
            "Ctrl+Shift+O",
            "Only cases past their follow-up date",
        )
        self.overdue_action.setCheckable(True)
        self.case_list.overdue_only.toggled.connect(self.overdue_action.setChecked)
        self.save_action = self._action(
            "&Save case",
            self.case_detail.save_details,
            QKeySequence.StandardKey.Save,
            "Save changes to the case’s details (Ctrl+S)",
        )
        self.note_action = self._action(
            "Add &note…",
            self.case_detail.add_note,
            "Ctrl+Shift+N",
            "Add a note to the case’s chronology",
        )
        self.link_action = self._action(
            "&Link person…",
            self.case_detail.link_person,
            "Ctrl+L",
            "Link a parent, carer or other person to the case",
        )
        self.profile_action = self._action(
            "School &profile…",
            self.edit_school_profile,
            None,
            "The school’s name, address, head teacher and procedures used in letters",
        )
        self.mail_action = self._action(
            "&Email settings…",
            self.edit_mail_settings,
            None,
            "The school’s outgoing mail server, the covering message and daily reminders",
        )
        self.templates_action = self._action(
            "Letter &templates…",
            self.edit_templates,
            None,
            "Change the wording of the school’s letters",
        )
        self.guidance_action = self._action(
            "Parent guidance lea&flet…",
            self.save_guidance,
            None,
            "Save the parent and carer guidance leaflet made from the Code as a PDF",
        )
        self.batch_issue_action = self._action(
            "&Issue a letter to selected cases…",
            self.issue_letters_to_selected,
            None,
            "The same kind of letter on each selected case, each to its case’s author",
        )
        self.batch_action = self._action(
            "Print &letters of selected cases…",
            self.print_selected_letters,
            "Ctrl+Shift+P",
            "The latest letter of each selected case, as one PDF to print",
        )
        self.lock_action = self._action(
            "Loc&k now",
            self.lock_now,
            "Ctrl+Shift+L",
            "Hide everything until your password is typed again (Ctrl+Shift+L)",
        )
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.about_action = self._action("&About Conduct Casebook", self.about)
        for action in (self.next_action, self.previous_action, self.refresh_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_case_action)
        file_menu.addSeparator()
        file_menu.addAction(self.batch_issue_action)
        file_menu.addAction(self.batch_action)
        file_menu.addAction(self.guidance_action)
        file_menu.addSeparator()
        file_menu.addAction(self.profile_action)
        file_menu.addAction(self.mail_action)
        file_menu.addAction(self.templates_action)
        file_menu.addSeparator()
        # Every user may change their own password, not only the head teacher.
        self.change_password_action = file_menu.addAction(
            "Change my pass&word…", self.change_my_password
        )
        file_menu.addAction(self.lock_action)
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.find_action)
        case_menu = bar.addMenu("&Case")
        case_menu.addAction(self.save_action)
        case_menu.addAction(self.note_action)
        case_menu.addAction(self.link_action)
        case_menu.addSeparator()
        case_menu.addAction(self.next_action)
        case_menu.addAction(self.previous_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.overdue_action)
        view_menu.addAction(self.refresh_action)
        # The head teacher's screens (Retention review joins them in _add_workflow).
        admin_menu = bar.addMenu("&Administration")
        self.users_action = self._action("&Users…", self.manage_users, None, "Users and roles")
        admin_menu.addAction(self.users_action)
        admin_menu.addAction("&Audit trail…", self.show_audit_trail)
        self.sar_action = admin_menu.addAction(
            "&Subject access requests…", self.show_subject_access_requests
        )
        admin_menu.addAction("&Import pupils and contacts from the MIS…", self.import_people)
        self.backup_action = admin_menu.addAction("&Backup && Restore…", self.backup_and_restore)
        self.adopt_code_action = admin_menu.addAction(
            "Adopt a revised &Code…", self.adopt_revised_code
        )
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _make_toolbar(self) -> None:
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.new_case_action)
        toolbar.addAction(self.find_action)
        toolbar.addSeparator()
        toolbar.addAction(self.previous_action)
        toolbar.addAction(self.next_action)
        toolbar.addSeparator()
        toolbar.addAction(self.overdue_action)
        toolbar.addAction(self.refresh_action)
        toolbar.addSeparator()
        toolbar.addAction(self.lock_action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    # ----- behaviour ------------------------------------------------------------------

    def new_case(self) -> None:
        if not self.case_detail.confirm_leave():
            return
        from app.ui.dialogs.new_case import NewCaseDialog

        dialog = NewCaseDialog(self.services, self, signals=self.signals)
        if dialog.exec() and dialog.created is not None:
            created = dialog.created
            if not self.case_list.select_case(created.id):
                # The filters hide the new case: clear them so the user sees it.
                self.case_list.search.clear()
                self.case_list.status_filter.setCurrentIndex(0)
                self.case_list.category_filter.setCurrentIndex(0)
                self.case_list.overdue_only.setChecked(False)
                self.case_list.apply_filter()
                self.case_list.select_case(created.id)
            self.statusBar().showMessage(f"Opened case {created.reference}.", 8000)

    # ----- workflow (issue 6): Today, the wizard, case file and reports ------------------

    def _add_workflow(self) -> None:
        # The wizard and the exports are loaded when first used, not at the window's start.
        from app.ui.views.today import TodayView

        self.today = TodayView(self.services, self.signals, self, refresh=False)
        self.today.case_selected.connect(self._open_from_today)
        self.today_dock = QDockWidget("Today: due and overdue", self)
        self.today_dock.setObjectName("today_dock")
        self.today_dock.setWidget(self.today)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.today_dock)
        self.resizeDocks([self.today_dock], [170], Qt.Orientation.Vertical)
        self.today.collapsed_changed.connect(self._today_folded)
        self._case_file_worker: object | None = None

        def report_post() -> None:
            if not self.case_detail.confirm_leave():
                return
            from app.ui.dialogs.report_wizard import ReportWizard

            wizard = ReportWizard(self.services, self, signals=self.signals)
            if wizard.exec() and wizard.created is not None:
                self._open_from_today(wizard.created.id)
                self.case_detail.show_tab("follow-up")

        def case_file() -> None:
            case_id = self.case_list.selected_case_id()
            if case_id:
                from app.ui.documents import export_case_file

                self._case_file_worker = export_case_file(
                    self, self.services, case_id, self.signals
                )

        self.report_post_action = self._action("&Report a post…", report_post, "Ctrl+Shift+R")
        self.case_file_action = self._action("E&xport case file…", case_file, "Ctrl+E")

        self._report_worker: object | None = None

        def governors_report() -> None:
            # Keep the worker (and its signals) alive until it reports back.
            from app.ui.documents import save_governors_report

            self._report_worker = save_governors_report(self, self.services, self.signals)

        self.governors_action = self._action("&Governors’ report…", governors_report)

        def list_csv() -> None:
            from app.ui.documents import export_case_list

            export_case_list(
                self, self.services, self.case_list.current_filter(), self.case_list.model.case_sort
            )

        self.list_csv_action = self._action("Export case list as &CSV…", list_csv)

        def retention_review() -> None:
            from app.ui.dialogs.retention import RetentionDialog

            RetentionDialog(self.services, self.signals, self).exec()

        self.retention_action = self._action("Retention re&view…", retention_review)
        menus = {m.title(): m for m in self.menuBar().findChildren(QMenu)}
        file_menu = menus["&File"]
        first = file_menu.actions()[1]
        for action in (
            self.report_post_action,
            self.case_file_action,
            self.governors_action,
            self.list_csv_action,
        ):
            file_menu.insertAction(first, action)
        menus["&Administration"].insertAction(self.backup_action, self.retention_action)
        today_toggle = self.today_dock.toggleViewAction()
        today_toggle.setText("&Today panel")
        menus["&View"].addAction(today_toggle)
        toolbar = self.findChild(QToolBar, "main_toolbar")
        if toolbar is not None:
            toolbar.insertAction(toolbar.actions()[1], self.report_post_action)

    def _today_folded(self, collapsed: bool) -> None:
        # Folded, the dock is as tall as its summary line; unfolded, it may grow again.
        if collapsed:
            self.today_dock.setMaximumHeight(
                self.today.sizeHint().height() + self.today_dock.fontMetrics().height() + 12
            )
        else:
            self.today_dock.setMaximumHeight(16_777_215)
            self.resizeDocks([self.today_dock], [170], Qt.Orientation.Vertical)
        settings = window_settings(self.services.paths.root)
        settings.setValue("today/collapsed", collapsed)
        settings.sync()

    def _open_from_today(self, case_id: int) -> None:
        if not self.case_list.select_case(case_id):
            self.case_list.search.clear()
            self.case_list.status_filter.setCurrentIndex(0)
            self.case_list.category_filter.setCurrentIndex(0)
            self.case_list.overdue_only.setChecked(False)
            self.case_list.repeat_authors_only.setChecked(False)
            self.case_list.apply_filter()
            self.case_list.select_case(case_id)

    def import_people(self) -> None:
        from app.ui.dialogs.people_import import PeopleImportDialog

        PeopleImportDialog(self.services, self.signals, self).exec()

    def change_my_password(self) -> None:
        from app.ui.dialogs.users import ChangePasswordDialog

        if ChangePasswordDialog(self.services, self).exec():
            self.statusBar().showMessage("Your password has been changed.", 8000)

    def manage_users(self) -> None:
        from app.ui.dialogs.users import open_users_screen

        open_users_screen(self.services, self.signals, self)

    def edit_school_profile(self) -> None:
        from app.ui.dialogs.school_profile import SchoolProfileDialog

        SchoolProfileDialog(self.services, self.signals, self).exec()

    def edit_mail_settings(self) -> None:
        from app.ui.dialogs.mail_settings import MailSettingsDialog

        MailSettingsDialog(self.services, self).exec()

    def _remind_about_backup(self) -> None:
        # A reminder, not a question: it must never stand between the user and their work.
        reminder = self.services.backups.reminder()
        if reminder:
            self.statusBar().showMessage(reminder, 60_000)

    def show_audit_trail(self) -> None:
        from app.ui.dialogs.audit_trail import open_audit_trail

        open_audit_trail(self, self.services)

    def show_subject_access_requests(self) -> None:
        from app.ui.dialogs.subject_access import SubjectAccessRequestsDialog

        if not self.services.ctx.may(Permission.SAFEGUARDING):
            QMessageBox.information(
                self,
                "Subject access requests",
                "Only the head teacher and the safeguarding lead can see subject access requests.",
            )
            return
        SubjectAccessRequestsDialog(self.services, self).exec()

    def backup_and_restore(self) -> None:
        from app.ui.dialogs.backup import BackupDialog

        if not self.services.ctx.may(Permission.BACKUP):
            QMessageBox.information(
                self, "Backup & Restore", "Only the head teacher can back up or restore."
            )
            return
        dialog = BackupDialog(self.services, self, signals=self.signals)
        dialog.restored.connect(self._after_restore)
        dialog.exec()

    def _after_restore(self) -> None:
        # The window's services now point at the restored files: close without saving anything.
        self._restored = True
        self.close()

    def edit_templates(self) -> None:
        case = self.case_detail.case
        from app.ui.dialogs.template_editor import TemplateEditorDialog

        TemplateEditorDialog(self.services, self, case_id=case.id if case else None).exec()

    def save_guidance(self) -> None:
        from app.ui.dialogs.guidance_leaflet import GuidanceLeafletDialog

        GuidanceLeafletDialog(self.services, self).exec()

    def issue_letters_to_selected(self) -> None:
        from app.ui.letter_batch import BatchLetterDialog

        case_ids = self.case_list.selected_case_ids()
        if not case_ids:
            QMessageBox.information(
                self, "Issue letters", "Select one or more cases in the list first."
            )
            return
        dialog = BatchLetterDialog(self.services, case_ids, self)
        dialog.issued.connect(lambda result: self._batch_issued(dialog, result))
        dialog.exec()

    def _batch_issued(self, dialog: QWidget, result: BatchResult) -> None:
        self.signals.runner.announce(
            OpChanges(cases=True, letters=True, workflow=True, chronology=True), "batch letters"
        )
        if not result.issued:
            return
        answer = QMessageBox.question(
            dialog,
            "Letters issued",
            f"{len(result.issued)} letters were issued and recorded on their cases. "
            "Print them now (one document)?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            from app.ui.views.pdf_preview import print_pdf

            print_pdf(result.pdf, dialog)

    def adopt_revised_code(self) -> None:
        from app.ui.dialogs.code_adopt import AdoptCodeDialog

        if not self.services.ctx.may(Permission.SETTINGS):
            QMessageBox.information(
                self, "Code of Conduct", "Only the head teacher can adopt a revised Code."
            )
            return
        dialog = AdoptCodeDialog(self.services, self)
        if dialog.exec() and dialog.adopted is not None:
            self.statusBar().showMessage(
                f"Version {dialog.adopted.version} of the Code of Conduct is recorded.", 8000
            )

    def print_selected_letters(self) -> None:
        case_ids = self.case_list.selected_case_ids()
        if not case_ids:
            QMessageBox.information(
                self, "Print letters", "Select one or more cases in the list first."
            )
            return
        from app.ui.letter_batch import start_batch_print

        self._batch = start_batch_print(self.services, case_ids, self)
        self._batch.signals.finished.connect(self._batch_ready)
        self._batch.signals.failed.connect(
            lambda message: QMessageBox.warning(self, "Print letters", message)
        )

    def _batch_ready(self, result: BatchResult) -> None:
        if result.cancelled:
            self.statusBar().showMessage("Printing letters was cancelled.", 8000)
            return
        if not result.included:
            QMessageBox.information(
                self, "Print letters", "None of the selected cases has a letter to print yet."
            )
            return
        if result.skipped:
            QMessageBox.information(
                self,
                "Print letters",
                "These cases have no letter yet and are left out: " + ", ".join(result.skipped),
            )
        from app.ui.views.pdf_preview import print_pdf

        print_pdf(result.pdf, self)

    def focus_search(self) -> None:
        self.case_list.search.setFocus()
        self.case_list.search.selectAll()

    def _toggle_overdue(self) -> None:
        self.case_list.overdue_only.setChecked(self.overdue_action.isChecked())

    def _case_selected(self, case_id: int) -> None:
        if self.isVisible() and not self.after_first_paint.started:
            # Shown but not yet painted: the list taking the focus makes its first row
            # current, and opening that case (every tab of it) would hold up the list's
            # first paint. It opens just after the paint (_open_first_case).
            self._selected_before_paint = case_id
            return
        self.case_detail.set_case(case_id)
        shown = self.case_detail.case
        if shown is not None and shown.id != case_id:
            # The user chose to stay on a case with unsaved edits: put the selection back,
            # after the click that moved it has finished (else the click wins).
            QTimer.singleShot(0, lambda: self._reselect_shown(shown.id))

    def _reselect_shown(self, case_id: int) -> None:
        shown = self.case_detail.case
        if shown is not None and shown.id == case_id:
            if self.case_list.selected_case_id() != case_id:
                self.case_list.select_case(case_id)
            self.case_list.table.selectionModel().select(
                self.case_list.table.currentIndex(),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def _show_counts(self, counts: CaseCounts) -> None:
        text = f"{counts.total:,} cases · {counts.open:,} open"
        if counts.overdue:
            text += f" · {counts.overdue:,} case{'s' if counts.overdue != 1 else ''} overdue"
        self.counts_label.setText(text)

    def about(self) -> None:
        QMessageBox.about(self, "About Conduct Casebook", about_text(self.services))

    # ----- locking --------------------------------------------------------------------

    def is_locked(self) -> bool:
        """True while the lock screen hides the casebook."""
        return self.pages.currentWidget() is self.lock_screen

    def lock_now(self) -> None:
        """Blank the window at once: no case, title, menu or open dialog stays visible."""
        if self.is_locked():
            return
        self._focus_before_lock = QApplication.focusWidget()
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        QToolTip.hideText()
        self._hidden_while_locked = [
            w
            for w in QApplication.topLevelWidgets()
            if w is not self and w.isVisible() and w.window() is not self
        ]
        # Docks (Today lists references and titles) go too, and every action is switched
        # off, so no shortcut can reach the casebook behind the lock.
        self._hidden_while_locked += [d for d in self.findChildren(QDockWidget) if d.isVisible()]
        for widget in self._hidden_while_locked:
            widget.hide()
        self._disabled_while_locked = [a for a in self.findChildren(QAction) if a.isEnabled()]
        for action in self._disabled_while_locked:
            action.setEnabled(False)
        self.lock_guard.engage()
        self.pages.setCurrentWidget(self.lock_screen)
        self.menuBar().setVisible(False)
        self.toolbar.setVisible(False)
        self.statusBar().setVisible(False)
        self.setWindowTitle(APP_TITLE + " — locked")
        self.idle.timer.stop()
        self.lock_screen.prepare()
        self.services.ctx.audit("locked window")

    def unlock(self) -> None:
        """Back to exactly where the user was."""
        self.lock_guard.release()
        for action in self._disabled_while_locked:
            if isValid(action):  # a menu refilled meanwhile has deleted its old actions
                action.setEnabled(True)
        self._disabled_while_locked = []
        self.pages.setCurrentWidget(self.splitter)
        self.menuBar().setVisible(True)
        self.toolbar.setVisible(True)
        self.statusBar().setVisible(True)
        self.setWindowTitle(self._title)
        for widget in self._hidden_while_locked:
            widget.show()
        self._hidden_while_locked = []
        if self._focus_before_lock is not None:
            self._focus_before_lock.setFocus()
        self.idle.timer.start()

    # ----- layout memory --------------------------------------------------------------

    def _restore_layout(self) -> None:
        settings = window_settings(self.services.paths.root)
        geometry = settings.value("main/geometry")
        self._first_start = not (isinstance(geometry, QByteArray) and not geometry.isEmpty())
        if isinstance(geometry, QByteArray) and not self._first_start:
            self.restoreGeometry(geometry)
        else:
            self.setGeometry(
                fitted_geometry(PREFERRED_SIZE, self.minimumSizeHint(), available_area(self))
            )
        state = settings.value("main/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        folded = settings.value("today/collapsed")
        if folded is None:
            # Unless told otherwise, a short screen keeps its height for the case.
            collapsed = available_area(self).height() < 800
        else:
            collapsed = str(folded).lower() == "true"
        self.today.set_collapsed(collapsed)
        splitter = settings.value("main/splitter")
        self._split_restored = isinstance(splitter, QByteArray) and not splitter.isEmpty()
        if self._split_restored:
            self.splitter.restoreState(splitter)
        header = settings.value("main/case_list_columns")
        if isinstance(header, QByteArray) and not header.isEmpty():
            view_header = self.case_list.table.horizontalHeader()
            view_header.restoreState(header)
            self.case_list.table.sortByColumn(
                view_header.sortIndicatorSection(), view_header.sortIndicatorOrder()
            )

    def show_on_screen(self, available: QRect | None = None) -> None:
        """Show the window fitted to its screen: maximised on a first start below 1440×900.

        A remembered size is kept unless it no longer fits (a laptop taken off its large
        monitor, a change of scale).
        """
        area = available if available is not None else available_area(self)
        if self._first_start and should_maximise(area):
            self.showMaximized()
            return
        if self._first_start:
            self.setGeometry(fitted_geometry(PREFERRED_SIZE, self.minimumSizeHint(), area))
        elif not self.isMaximized():
            fit_to_screen(self, area)
        self.show()

    def save_layout(self) -> None:
        settings = window_settings(self.services.paths.root)
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/state", self.saveState())
        settings.setValue("main/splitter", self.splitter.saveState())
        settings.setValue(
            "main/case_list_columns", self.case_list.table.horizontalHeader().saveState()
        )
        settings.sync()

    def _open_first_case(self) -> None:
        waiting = self._selected_before_paint
        self._selected_before_paint = None
        if waiting is not None and waiting == self.case_list.selected_case_id():
            self._case_selected(waiting)
        if self.case_detail.case is None and self.case_list.selected_case_id() == 0:
            self.case_list.select_row(0)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._split_restored:
            # First run: the list shows reference, title, status and follow-up whole (at most
            # 55% of the window); the case screen gets the rest.
            self._split_restored = True
            width = self.splitter.width()
            wanted = self.case_list.first_columns_width()
            listed = max(300, min(wanted, int(width * 0.55)))
            listed = min(listed, width - self.case_detail.minimumSizeHint().width())
            self.splitter.setSizes([listed, width - listed])
            self.case_list.fit_first_columns(self.splitter.sizes()[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        if getattr(self, "_restored", False):
            self.idle.stop()
            event.accept()
            return
        if self.is_locked():
            event.ignore()
            return
        if not self.case_detail.confirm_close():
            event.ignore()
            return
        self.save_layout()
        self.idle.stop()
        event.accept()


def about_text(services: Services) -> str:
    """What the About box says: versions, where the records live, the latest backup."""
    import platform

    import PySide6

    from app.services.backup import database_library_version

    records = services.describe_records()
    # The backup record, not whatever copy lies in the folder: the copies taken before a
    # migration are not backups the school made.
    last = services.backups.last_good()
    if last is None:
        last_backup = "Last backup: none made yet"
    else:
        last_backup = f"Last backup: {format_date_time(last[0])} ({last[1].name})"
    return "\n".join(
        [
            f"Conduct Casebook {__version__}",
            "",
            f"Code of Conduct version {services.ctx.code.version}",
            f"Python {platform.python_version()}, Qt {PySide6.__version__}, "
            f"SQLAlchemy {database_library_version()}",
            "",
            f"Data folder: {services.paths.root}",
            records,
            f"Log file: {services.paths.logs / 'casebook.log'}",
            last_backup,
        ]
    )
