"""File dialogs that remember their folder for each purpose (letters, pictures, exports...).

A dialog for saving a letter opens where the last letter was saved, not in the program's
working folder; the folders are kept in the casebook's window.ini once the main window has
said where that is (``remember_folders_in``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

# QFileDialog and QStandardPaths are imported where a dialog opens: the main window imports
# this module, and PySide creating those two classes (with their enumerations) before the
# window's first paint was work for a dialog nobody had asked for yet.

_SETTINGS_PROPERTY = "casebook_folder_settings"


def remember_folders_in(settings_file: Path) -> None:
    """Keep the folders chosen in file dialogs in this settings file (window.ini)."""
    app = QApplication.instance()
    if app is not None:
        app.setProperty(_SETTINGS_PROPERTY, str(settings_file))


def _settings() -> QSettings | None:
    app = QApplication.instance()
    path = app.property(_SETTINGS_PROPERTY) if app is not None else None
    return QSettings(str(path), QSettings.Format.IniFormat) if path else None


def _key(purpose: str) -> str:
    return "folders/" + "".join(c if c.isalnum() else "_" for c in purpose.lower())


def start_folder(purpose: str) -> Path:
    """Where a dialog for this purpose opens: the last folder used, else Documents."""
    settings = _settings()
    remembered = settings.value(_key(purpose)) if settings is not None else None
    if remembered and Path(str(remembered)).is_dir():
        return Path(str(remembered))
    from PySide6.QtCore import QStandardPaths

    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


def remember_folder(purpose: str, chosen: str | Path) -> None:
    """Note the folder of a chosen file (or a chosen folder) for next time."""
    settings = _settings()
    if settings is None or not chosen:
        return
    path = Path(chosen)
    folder = path if path.is_dir() else path.parent
    settings.setValue(_key(purpose), str(folder))
    settings.sync()


def save_file_name(
    parent: QWidget | None, purpose: str, caption: str, suggested_name: str, filters: str
) -> str:
    """Ask where to save a file; '' when cancelled."""
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getSaveFileName(
        parent, caption, str(start_folder(purpose) / suggested_name), filters
    )
    remember_folder(purpose, path)
    return path


def open_file_name(parent: QWidget | None, purpose: str, caption: str, filters: str) -> str:
    """Ask for one file to open; '' when cancelled."""
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(parent, caption, str(start_folder(purpose)), filters)
    remember_folder(purpose, path)
    return path


def open_file_names(parent: QWidget | None, purpose: str, caption: str, filters: str) -> list[str]:
    """Ask for files to open; [] when cancelled."""
    from PySide6.QtWidgets import QFileDialog

    paths, _ = QFileDialog.getOpenFileNames(parent, caption, str(start_folder(purpose)), filters)
    if paths:
        remember_folder(purpose, paths[0])
    return list(paths)


def existing_folder(parent: QWidget | None, purpose: str, caption: str, start: str = "") -> str:
    """Ask for a folder; '' when cancelled."""
    from PySide6.QtWidgets import QFileDialog

    chosen = QFileDialog.getExistingDirectory(parent, caption, start or str(start_folder(purpose)))
    remember_folder(purpose, chosen)
    return chosen
