"""Starting the window: the Qt application, the data folder lock, and refusals at start."""

from __future__ import annotations

import gc
import hashlib
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from app import __version__
from app.config import ENV_USER, DataDirLock, prepare_data_dir, setup_logging
from app.domain.access import Permission
from app.domain.errors import (
    CasebookError,
    DatabaseDamagedError,
    DataDirectoryInUseError,
    KeyFileError,
    UnencryptedCasebookError,
)
from app.ui.errors import install_excepthook
from app.ui.widgets import install_screen_fitting

if TYPE_CHECKING:
    # The services (SQLAlchemy, the tables) and the main window are imported by run_gui
    # once a password given beforehand is being derived, so that the two overlap.
    from app.security.crypto import DerivationAhead
    from app.services.casebook import Services
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def make_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication, set up for high-DPI screens and British English."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName("Conduct Casebook")
    QCoreApplication.setApplicationName("Conduct Casebook")
    QCoreApplication.setApplicationVersion(__version__)
    from PySide6.QtCore import QLocale

    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    app = QApplication(argv if argv is not None else sys.argv[:1])
    install_screen_fitting()
    return app


def open_for_window(
    data_dir: Path, *, demo_if_empty: bool, database_url: str | None = None
) -> tuple[Services, DataDirLock]:
    """Lock the data folder, open (and migrate) the casebook, add demo cases if asked."""
    from app.services.casebook import open_casebook
    from app.services.demo import create_demo, is_empty

    paths = prepare_data_dir(data_dir)
    setup_logging(paths)
    lock = DataDirLock(paths.lock)
    lock.acquire()
    try:
        # The store is tidied on a worker once the list is painted (start_after_sign_in_work).
        services = open_casebook(data_dir, database_url=database_url, sweep=False)
        if demo_if_empty and not services.users.has_users() and is_empty(services):
            # Fictional data only: the demonstration casebook's password is 'demo'.
            services.users.create_first_user("head", "demo", check_strength=False)
            create_demo(services)
    except BaseException:
        lock.release()
        raise
    return services, lock


class _BestEffort(QRunnable):
    """Runs one piece of housekeeping off the GUI thread. A failure is logged, never
    shown: each of them runs again later (the next start, the first search)."""

    def __init__(self, work: Callable[[], object], failure: str) -> None:
        super().__init__()
        self.work = work
        self.failure = failure

    def run(self) -> None:
        try:
            self.work()
        except Exception:
            log.exception(self.failure)


class _OneAfterAnother(QRunnable):
    """Best-effort jobs run in turn on one worker: each starts when the one before ends."""

    def __init__(self, *jobs: _BestEffort) -> None:
        super().__init__()
        self.jobs = jobs

    def run(self) -> None:
        for job in self.jobs:
            job.run()


def _sweep(services: Services, written_before: float) -> _BestEffort:
    """Remove leftovers of earlier runs; nothing this window writes is touched (with 50,000
    exhibits the tidying takes 0.3 s, so it runs off the GUI thread)."""
    return _BestEffort(
        lambda: services.sweep_blobs(written_before),
        "Background sweep of the blob store failed",
    )


def start_after_sign_in_work(services: Services, written_before: float) -> None:
    """Once the list is painted, on a worker: seal the safeguarding records a head's
    sign-in found in clear (users.sign_in with seal_later; over a million cases the
    look-up reads thousands of pages of the file, in SQLite, beside the GUI thread), then
    tidy the blob store. A failure is logged; the next head's sign-in seals again."""
    QThreadPool.globalInstance().start(
        _OneAfterAnother(
            _BestEffort(
                services.users.seal_outstanding,
                "Sealing safeguarding records left in clear failed",
            ),
            _sweep(services, written_before),
        )
    )


def prepare_search_soon(window: QObject, services: Services) -> None:
    """A second after the window opens (its first paint not delayed), open the sealed
    cases' words for a head teacher's first search, off the GUI thread (0.1-0.3 s over
    2,000 of them)."""
    QTimer.singleShot(
        1000,
        window,
        lambda: QThreadPool.globalInstance().start(
            _BestEffort(
                services.cases.prepare_search,
                "Opening the words of sealed cases ahead of a search failed",
            )
        ),
    )


def run_gui(data_dir: Path, *, demo_if_empty: bool = False, database_url: str | None = None) -> int:
    """Open the main window and run until it is closed."""
    from app.services.memory import return_large_blocks_at_once

    return_large_blocks_at_once()  # before any thread, so that no thread has a heap of its own
    # The start makes hundreds of thousands of objects (modules, classes, the tables'
    # mappings, widgets) and almost no garbage: the collector's passes over them were a
    # tenth of the start. It runs again from the list's first paint (or whatever ends
    # the start sooner, and while the sign-in dialog waits for a password).
    gc.disable()
    try:
        return _run_gui(data_dir, demo_if_empty=demo_if_empty, database_url=database_url)
    finally:
        gc.enable()


def _run_gui(data_dir: Path, *, demo_if_empty: bool, database_url: str | None) -> int:
    started = time.time()
    unattended = bool(os.environ.get(ENV_FIRST_PAINT))
    # Unattended (the benchmarks), the password is given beforehand: its Argon2id starts
    # now and runs beside the imports and the opening of the casebook below.
    ahead = _derive_ahead(data_dir) if unattended and not database_url else None
    app = make_application()
    install_excepthook(data_dir)
    from app.services.demo import is_demo
    from app.services.faults import STORAGE_ERRORS, explain_storage_failure

    if unattended:
        from app.ui.main_window import MainWindow  # beside the derivation
    try:
        services, lock = open_for_window(
            data_dir, demo_if_empty=demo_if_empty, database_url=database_url
        )
    except DataDirectoryInUseError as error:
        # A second start: bring the window that is already open forward instead.
        if bring_first_window_forward(data_dir):
            log.info("Casebook already open; asked its window to come forward")
            return 0
        QMessageBox.critical(None, "Conduct Casebook", error.message)
        return error.exit_code
    except STORAGE_ERRORS as failure:
        refusal = explain_storage_failure(failure, data_dir)
        if refusal is None:
            raise
        log.warning("Could not open the casebook: %s", refusal.message, exc_info=True)
        QMessageBox.critical(None, "Conduct Casebook", refusal.message)
        return refusal.exit_code
    except UnencryptedCasebookError:
        if not encrypt_in_window(data_dir):
            return 0
        return run_gui(data_dir, demo_if_empty=demo_if_empty, database_url=database_url)
    except (DatabaseDamagedError, KeyFileError) as error:
        if database_url or not restore_in_window(data_dir, error.message):
            return error.exit_code
        return run_gui(data_dir, demo_if_empty=demo_if_empty, database_url=database_url)
    except CasebookError as error:
        log.info("Could not open the casebook: %s", error.message)
        QMessageBox.critical(None, "Conduct Casebook", error.message)
        return error.exit_code
    try:
        if unattended:
            # Benchmarks start the window unattended: sign in as the CLI does.
            name = os.environ.get(ENV_USER, "").strip() or services.users.only_user_name() or ""
            services.keys.ahead = ahead
            services.users.sign_in(name, os.environ.get(ENV_PASSWORD, ""), seal_later=True)
        elif not sign_in_window(services):
            return 0
        from app.ui.main_window import MainWindow  # loaded while the sign-in was typed

        if not services.ctx.may(Permission.VIEW_CASES):
            QMessageBox.information(
                None,
                "Conduct Casebook",
                "Your account can see governors’ reports only, and there are none to show in "
                "this window yet.",
            )
            return 0
        window = MainWindow(services, demo=is_demo(services))
        window.after_first_paint.then(gc.enable)
        # A second start is answered once the list is painted: listening costs the first
        # paint a few milliseconds, and a second start in that moment is still refused
        # by the data folder's lock (it says the casebook is open elsewhere).
        window.after_first_paint.then(lambda: _listen_for_second_starts(data_dir, window))
        if unattended:
            _quit_after_first_paint(window)
        # Sealing what the sign-in left for later, then the store's tidying, start once the
        # list is painted (and the first case opened): before it, their queries and imports
        # took the processor from the first paint.
        window.after_first_paint.then(lambda: start_after_sign_in_work(services, started))
        window.show_on_screen()
        prepare_search_soon(window, services)
        result = app.exec()
        QThreadPool.globalInstance().waitForDone(10_000)
        return result
    finally:
        services.close()
        lock.release()


def _derive_ahead(data_dir: Path) -> DerivationAhead | None:
    """Argon2id on the password in the environment, started before anything heavy."""
    password = os.environ.get(ENV_PASSWORD, "")
    if not password:
        return None
    from app.services.keys import derivation_ahead

    paths = prepare_data_dir(data_dir)
    return derivation_ahead(paths.keyring, password, os.environ.get(ENV_USER, "").strip())


def _listen_for_second_starts(data_dir: Path, window: QWidget) -> None:
    FirstWindow(data_dir, window)  # kept alive by the window, its parent


def instance_name(data_dir: Path) -> str:
    """The local socket a window listens on, one per data folder (and per user)."""
    folder = str(data_dir.resolve()).encode("utf-8")
    return "conduct-casebook-" + hashlib.sha256(folder).hexdigest()[:24]


class FirstWindow(QObject):
    """Listens for a second start on the same data folder and brings the window forward."""

    def __init__(self, data_dir: Path, window: QWidget) -> None:
        from PySide6.QtNetwork import QLocalServer

        super().__init__(window)
        self.window = window
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        name = instance_name(data_dir)
        # A crash can leave the name behind on Unix; the data folder lock says we are first.
        QLocalServer.removeServer(name)
        if not self.server.listen(name):
            log.warning("Second starts cannot reach this window: %s", self.server.errorString())
        self.server.newConnection.connect(self._knocked)

    def _knocked(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.disconnectFromServer()
            connection.deleteLater()
        self.bring_forward()

    def bring_forward(self) -> None:
        window = self.window
        if window.isMinimized():
            window.showNormal()
        window.show()
        window.raise_()
        window.activateWindow()
        QApplication.alert(window)  # Windows may refuse to activate: the taskbar flashes


def bring_first_window_forward(data_dir: Path, timeout_ms: int = 1500) -> bool:
    """Ask the window already open on this data folder to come forward; True if it heard."""
    from PySide6.QtNetwork import QLocalSocket

    socket = QLocalSocket()
    socket.connectToServer(instance_name(data_dir))
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(b"forward\n")
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


def restore_in_window(data_dir: Path, problem: str) -> bool:
    """The casebook will not open: offer to restore a backup. False if not restored."""
    from app.ui.dialogs.backup import RestoreDamagedDialog

    log.info("Offering a restore: the casebook could not be opened")
    box = QMessageBox(QMessageBox.Icon.Critical, "Conduct Casebook", problem)
    restore = box.addButton("Restore from a backup…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is not restore:
        return False
    paths = prepare_data_dir(data_dir)
    lock = DataDirLock(paths.lock)
    try:
        lock.acquire()
    except CasebookError as error:
        QMessageBox.critical(None, "Conduct Casebook", error.message)
        return False
    try:
        return bool(RestoreDamagedDialog(paths.root, problem).exec())
    finally:
        lock.release()


def encrypt_in_window(data_dir: Path) -> bool:
    """A casebook from before encryption: its head teacher encrypts it. False if cancelled."""
    from app.ui.dialogs.sign_in import EncryptCasebookDialog

    paths = prepare_data_dir(data_dir)
    lock = DataDirLock(paths.lock)
    try:
        lock.acquire()
    except CasebookError as error:
        QMessageBox.critical(None, "Conduct Casebook", error.message)
        return False
    try:
        return bool(EncryptCasebookDialog(paths).exec())
    finally:
        lock.release()


def sign_in_window(services: Services) -> bool:
    """First run: create the head teacher's account; otherwise sign in. False if cancelled."""
    from app.services.demo import is_demo
    from app.ui.dialogs.sign_in import FirstUserDialog, SignInDialog

    dialog: QDialog
    if not services.users.has_users():
        dialog = FirstUserDialog(services)
    else:
        name = os.environ.get(ENV_USER, "").strip() or services.users.only_user_name() or ""
        hint = (
            "Demonstration casebook (fictional): sign in as head with the password demo."
            if is_demo(services)
            else ""
        )
        dialog = SignInDialog(services, name, hint, seal_later=True)
    # Once the dialog is showing, the main window's code is loaded while the person types
    # (Python lets the dialog run between its steps; Argon2id, once they press Sign in,
    # releases the interpreter), so the window follows the sign-in sooner.
    QTimer.singleShot(0, dialog, _load_main_window_meanwhile)
    collecting = gc.isenabled()
    gc.enable()  # the dialog may wait a long time
    try:
        return bool(dialog.exec())
    finally:
        if not collecting:
            gc.disable()


def _load_main_window_meanwhile() -> None:
    threading.Thread(
        target=importlib.import_module,
        args=("app.ui.main_window",),
        name="load-main-window",
        daemon=True,
    ).start()


# For benchmarks/startup.py: print a line and quit once the case list has been painted.
ENV_FIRST_PAINT = "CASEBOOK_QUIT_AFTER_FIRST_PAINT"
# The password an unattended start signs in with (as the command line's).
ENV_PASSWORD = "CASEBOOK_PASSWORD"


class _FirstPaint(QObject):
    """Reports the list's first paint; how long after it a key pressed then would have
    been answered (the work that follows the paint runs one step at a time); how long
    until that work was done (the first case shown, Today filled); then quits."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.seen = False
        self.painted = 0.0
        self.answered = 0.0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            self.painted = time.perf_counter()
            QTimer.singleShot(0, self._report)
        return False

    def _report(self) -> None:
        sys.stdout.write("first paint\n")
        sys.stdout.flush()
        # Queued behind what the paint set going, as a key pressed now would be.
        QTimer.singleShot(0, self._answer)

    def _answer(self) -> None:
        self.answered = (time.perf_counter() - self.painted) * 1000
        self._when_done()

    def _when_done(self) -> None:
        if not self.window.after_first_paint.done:
            QTimer.singleShot(5, self._when_done)
            return
        done = (time.perf_counter() - self.painted) * 1000
        sys.stdout.write(
            f"free for input {self.answered:.0f} ms after the first paint; "
            f"first case shown {done:.0f} ms after it\n"
        )
        sys.stdout.flush()
        QApplication.quit()


def _quit_after_first_paint(window: MainWindow) -> None:
    watcher = _FirstPaint(window)
    window.case_list.viewport.installEventFilter(watcher)


def run_screenshot(
    data_dir: Path,
    out: Path,
    *,
    sign_in: Callable[[Services], None],
    case_ref: str | None = None,
    tab: str | None = None,
) -> int:
    """Render the window offscreen at 1280×800 and save it as a PNG."""
    from app.services.demo import is_demo
    from app.ui.main_window import MainWindow

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application()
    try:
        services, lock = open_for_window(data_dir, demo_if_empty=False)
    except CasebookError as error:
        sys.stderr.write(f"casebook: {error.message}\n")
        return error.exit_code
    try:
        try:
            sign_in(services)
        except CasebookError as error:
            sys.stderr.write(f"casebook: {error.message}\n")
            return error.exit_code
        window = MainWindow(services, demo=is_demo(services))
        window.resize(1280, 800)
        window.show()
        if case_ref:
            try:
                case = services.cases.find_case(case_ref)
            except CasebookError as error:
                sys.stderr.write(f"casebook: {error.message}\n")
                return error.exit_code
            window.case_list.select_case(case.id)
        if tab:
            from app.ui.views.case_detail import TAB_NAMES

            if tab not in TAB_NAMES:
                sys.stderr.write(
                    f"casebook: '{tab}' is not a tab; use one of: {', '.join(TAB_NAMES)}.\n"
                )
                return 2
            window.case_detail.show_tab(tab)
        # Let thumbnails and previews made on worker threads arrive before the picture.
        for _ in range(10):
            app.processEvents()
            QThreadPool.globalInstance().waitForDone(100)
            for pool in window.findChildren(QThreadPool):
                pool.waitForDone(100)
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out), "PNG"):
            sys.stderr.write(f"casebook: the picture could not be saved to {out}.\n")
            return 1
        sys.stdout.write(f"{out}\n")
        return 0
    finally:
        window_ref = locals().get("window")
        if window_ref is not None:
            window_ref.close()
        services.close()
        lock.release()
