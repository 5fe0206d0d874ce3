# Runtime hook of the bundled programs (build.spec): where the bundled Qt finds its plugins,
# set before anything imports Qt. It stands in for PyInstaller's own PySide6 hook, which
# imports PySide6.QtCore in every process to write a qt.conf that PySide6's wheels already
# embed: a command-line letter then loaded Qt and shiboken (about 40 ms) for nothing, and
# ended by tearing the interpreter down, as a window's process does.
import os
import sys


def _set_qt_paths() -> None:
    if sys.platform.startswith("win"):
        qt = os.path.join(sys._MEIPASS, "PySide6")
        # QtNetwork finds the OpenSSL libraries collected beside the program.
        os.environ["PATH"] = sys._MEIPASS + os.pathsep + os.environ.get("PATH", "")
    else:
        qt = os.path.join(sys._MEIPASS, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt, "plugins")
    os.environ["QML2_IMPORT_PATH"] = os.path.join(qt, "qml")


_set_qt_paths()
del _set_qt_paths
