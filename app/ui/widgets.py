"""Small widget recipes shared by several screens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import (
    QEventLoop,
    QObject,
    QRect,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPen,
    QShortcut,
    QWindow,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QDialog,
    QFormLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressDialog,
    QTableWidget,
    QTextEdit,
    QWidget,
)
from shiboken6 import isValid

T = TypeVar("T")


# What a window manager adds around a window's contents: borders and the title bar. Windows
# 10/11 at 100% draw a 31 px title bar and 8 px invisible borders; the allowance covers both.
FRAME_SIDE = 8
FRAME_TOP = 32
FRAME_BOTTOM = 8


def usable_area(available: QRect) -> QRect:
    """The part of a screen's available area that a window's contents may fill."""
    return available.adjusted(FRAME_SIDE, FRAME_TOP, -FRAME_SIDE, -FRAME_BOTTOM)


def fitted_geometry(wanted: QSize, minimum: QSize, available: QRect) -> QRect:
    """Where a window that would like to be ``wanted`` goes on a screen: shrunk, centred.

    ``available`` is the screen less its taskbar. A window never grows below its
    ``minimum`` (its layout's smallest size); a dialog with more to show than fits
    carries its own scroll area so that its minimum stays small.
    """
    area = usable_area(available)
    width = max(min(wanted.width(), area.width()), minimum.width())
    height = max(min(wanted.height(), area.height()), minimum.height())
    x = area.x() + max(0, (area.width() - width) // 2)
    y = area.y() + max(0, (area.height() - height) // 2)
    return QRect(x, y, width, height)


def fits(size: QSize, available: QRect) -> bool:
    """True when a window of this size, frame included, fits the available area."""
    area = usable_area(available)
    return size.width() <= area.width() and size.height() <= area.height()


def should_maximise(available: QRect) -> bool:
    """On a first start below 1440×900 the window takes the whole screen."""
    return available.width() < 1440 or available.height() < 900


def available_area(widget: QWidget) -> QRect:
    """The available geometry (screen less taskbar) of the screen the widget is on."""
    # Found by position, not with QWidget.screen(): calling that here made later dialogs
    # crash in Qt's screen lookup (PySide 6.10, seen in the window tests).
    window = widget.window()
    screen = QGuiApplication.screenAt(window.geometry().center())
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget, available: QRect | None = None) -> None:
    """Shrink and move a top-level window so that all of it is on its screen."""
    area = available if available is not None else available_area(window)
    wanted = window.size()
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    inside = usable_area(area)
    if fits(wanted, area) and inside.contains(QRect(window.pos(), wanted)):
        return
    target = fitted_geometry(wanted, minimum, area)
    if fits(wanted, area):
        # Big enough already: only bring it back onto the screen, keeping its place if it can.
        target = QRect(window.pos(), wanted)
        target.moveLeft(min(max(target.left(), inside.left()), inside.right() - wanted.width()))
        target.moveTop(min(max(target.top(), inside.top()), inside.bottom() - wanted.height()))
    window.resize(target.size())
    window.move(target.topLeft())


FOCUS_COLOUR = QColor("#005a9e")  # the app's blue, 7:1 against white and the grey of dialogs


class FocusRing(QWidget):
    """A clear 2-pixel ring around whichever widget has the keyboard focus.

    Drawn over the widget rather than by the style, so it looks the same in every style
    and at every scale, and a keyboard user can always see where they are.
    """

    def __init__(self) -> None:
        super().__init__(None)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("focus_ring")
        self.target: QWidget | None = None
        self.covers_frame = False
        self.keep_up = QTimer(self)  # follows the widget when a splitter or window moves it
        self.keep_up.setInterval(100)
        self.keep_up.timeout.connect(self.place)

    def follow(self, widget: QWidget | None) -> None:
        self.target = None
        parent = widget.parentWidget() if widget is not None else None
        if widget is None or parent is None or widget.isWindow() or isinstance(widget, QMenu):
            self.keep_up.stop()
            self.hide()
            return
        self.target = widget
        if self.parentWidget() is not parent:
            self.setParent(parent)
        self.place()
        self.keep_up.start()

    def place(self) -> None:
        # Polled rather than watched with an event filter: a filter on the focused widget
        # would be handed it while it is destroyed, which PySide does not survive.
        target = self.target
        if target is None or not isValid(target) or not target.isVisible():
            self.keep_up.stop()
            self.hide()
            return
        around = target.geometry().adjusted(-2, -2, 2, 2)
        # A table, list or text area draws no focus line of its own (a text box does, inside
        # the ring): the ring covers its frame's line instead, so it is as bold everywhere.
        self.covers_frame = isinstance(target, QAbstractScrollArea)
        if self.geometry() != around or not self.isVisible():
            self.setGeometry(around)
            self.raise_()
            self.show()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = 3 if self.covers_frame else 2
        pen = QPen(FOCUS_COLOUR, width)
        painter.setPen(pen)
        inset = width / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(inset, inset, -inset, -inset), 3, 3)


class WindowConventions(QObject):
    """House rules applied to every window as the keyboard focus moves, with no event filter.

    - every dialog is fitted to its screen when it is first activated (as it opens): no
      button is off the screen, at 100%, 125% and 150% and beside a taskbar;
    - the widget with the focus has a visible ring (FocusRing).

    A Python event filter on the whole application would see every event of every object,
    including objects half destroyed, which PySide does not survive.
    """

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.ring: FocusRing | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            # Not focusChanged: its "old" widget can be one being destroyed, and handing
            # that to Python corrupts memory. The new focus object is always alive.
            app.focusObjectChanged.connect(self._focus_changed)
            app.focusWindowChanged.connect(self._window_activated)

    def _focus_changed(self, focused: QObject | None) -> None:
        if self.ring is None or not isValid(self.ring):  # it went with its last dialog
            self.ring = FocusRing()
        self.ring.follow(focused if isinstance(focused, QWidget) else None)

    def _window_activated(self, window: QWindow | None) -> None:
        if window is None:
            return
        # A window made active again keeps its focused widget, and Qt may not report that
        # focus anew: the ring goes back to it here, or it stays hidden.
        QTimer.singleShot(0, lambda: self._focus_changed(QApplication.focusWidget()))
        for widget in QApplication.topLevelWidgets():
            if (
                isinstance(widget, QDialog)
                and widget.windowHandle() is window
                and not widget.property("casebook_fitted")
            ):
                widget.setProperty("casebook_fitted", True)
                fit_to_screen(widget)


def install_screen_fitting() -> None:
    """Apply WindowConventions to the application (once per application)."""
    app = QApplication.instance()
    if app is None or app.property("casebook_conventions"):
        return
    WindowConventions(app)
    app.setProperty("casebook_conventions", True)


def tab_moves_on(box: QPlainTextEdit | QTextEdit) -> None:
    """Tab leaves a text box for the next field; Ctrl+Tab types a tab where one is wanted."""
    box.setTabChangesFocus(True)
    literal = QShortcut(QKeySequence("Ctrl+Tab"), box)
    literal.setContext(Qt.ShortcutContext.WidgetShortcut)
    literal.activated.connect(lambda: box.insertPlainText("\t"))


def roomy_labels(form: QFormLayout) -> None:
    """Give a form's labels a character of slack: hinted text can paint wider than measured."""
    for row in range(form.rowCount()):
        item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        label = item.widget() if item is not None else None
        if isinstance(label, QLabel):
            label.setMinimumWidth(label.sizeHint().width() + label.fontMetrics().averageCharWidth())


def read_only_table(headers: Sequence[str], parent: QWidget | None = None) -> QTableWidget:
    """A table of whole rows that the user selects one at a time and never edits in place.

    Tab leaves the table (arrow keys move within it), as a list does for a keyboard user.
    """
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setTabKeyNavigation(False)
    table.verticalHeader().setVisible(False)
    return table


class _Done(QObject):
    finished = Signal()


def run_while_busy(parent: QWidget | None, label: str, work: Callable[[], T]) -> T:
    """Run ``work`` on a worker thread behind a modal "please wait" box; return its result.

    For one-off jobs that take seconds (encrypting or restoring a casebook): the window
    keeps painting and the user sees that something is happening. ``work`` must not touch
    Qt; whatever it raises is raised again here, on the GUI thread.
    """
    outcome: dict[str, Any] = {}
    done = _Done()
    loop = QEventLoop()
    done.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

    class Job(QRunnable):
        def run(self) -> None:
            try:
                outcome["value"] = work()
            except BaseException as error:  # handed back to the GUI thread below
                outcome["error"] = error
            finally:
                done.finished.emit()

    box = QProgressDialog(label, "", 0, 0, parent)
    box.setCancelButton(None)  # type: ignore[arg-type]
    box.setWindowModality(Qt.WindowModality.ApplicationModal)
    box.setMinimumDuration(400)
    QThreadPool.globalInstance().start(Job())
    loop.exec()
    box.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def with_mnemonic(text: str, part: str) -> str:
    """``text`` with its Alt+letter on the first letter of ``part`` (when it is there)."""
    where = text.find(part)
    return text if where < 0 else text[:where] + "&" + text[where:]
