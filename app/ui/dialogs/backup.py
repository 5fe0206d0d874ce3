"""Backup & Restore: make a checked backup to a folder, list the backups there, restore one."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QDir, QStorageInfo, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import format_date_time
from app.domain.errors import CasebookError
from app.services.backup import BackupResult, RestoreResult
from app.services.casebook import Services
from app.ui.file_dialogs import existing_folder, open_file_name
from app.ui.operations import Operation, Refusal
from app.ui.signals import AppSignals
from app.ui.widgets import run_while_busy

log = logging.getLogger(__name__)


# File systems that are not somewhere to keep a backup.
_NOT_DRIVES = {"tmpfs", "devtmpfs", "proc", "sysfs", "overlay", "squashfs", "ramfs", "autofs"}
_NETWORK = {"cifs", "smb3", "smbfs", "nfs", "nfs4"}


def suggested_drives(services: Services) -> list[tuple[str, Path]]:
    """Other drives to back up to (USB and network drives), as (label, folder) pairs.

    Drives on the casebook's own disk are left out: a backup there is lost with it.
    """
    found: list[tuple[str, Path]] = []
    for volume in QStorageInfo.mountedVolumes():
        if not (volume.isValid() and volume.isReady()) or volume.isReadOnly():
            continue
        kind = bytes(volume.fileSystemType().data()).decode("ascii", "replace").lower()
        root = Path(volume.rootPath())
        if kind in _NOT_DRIVES or root.parts[1:2] in (("proc",), ("sys",), ("dev",), ("run",)):
            continue
        if services.backups.folder_advice(root) is not None:
            continue
        name = volume.displayName() or QDir.toNativeSeparators(volume.rootPath())
        what = "network drive" if kind in _NETWORK else "drive"
        free = _size(volume.bytesAvailable())
        shown = QDir.toNativeSeparators(volume.rootPath())
        label = (
            f"{name} ({what} {shown}, {free} free)"
            if name != shown
            else f"{shown} ({what}, {free} free)"
        )
        found.append((label, root / "Casebook backups"))
    return found


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{max(1, size // 1024)} KB"


class BackupDialog(QDialog):
    """The File menu's Backup & Restore page."""

    # Emitted after a restore: the window closes so the casebook is opened afresh.
    restored = Signal()

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
        self.setWindowTitle("Backup & Restore")
        self.setMinimumWidth(620)
        self.worker: Operation | None = None  # the backup being made

        last = services.backups.last_good()
        folder = str(last[1].parent) if last else str(Path.home() / "Casebook backups")
        self.folder_edit = QLineEdit(folder, self)
        self.folder_edit.setAccessibleName("Backup folder")
        choose = QPushButton("C&hoose…", self)
        choose.clicked.connect(self._choose_folder)
        self.backup_button = QPushButton("&Back up now", self)
        self.backup_button.setDefault(True)
        self.backup_button.clicked.connect(self.start_backup)
        row = QHBoxLayout()
        row.addWidget(QLabel("Backup folder:", self))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(choose)

        # A backup is safest away from this PC: offer the USB and network drives present.
        self.drives = QComboBox(self)
        self.drives.setAccessibleName("Suggested drives for backups")
        self.drives.addItem("Suggested drives…", None)
        for label, path in suggested_drives(services):
            self.drives.addItem(label, str(path))
        self.drives.setEnabled(self.drives.count() > 1)
        self.drives.activated.connect(self._use_drive)
        drive_row = QHBoxLayout()
        drive_label = QLabel("&Use a drive:", self)
        drive_label.setBuddy(self.drives)
        drive_row.addWidget(drive_label)
        drive_row.addWidget(self.drives, 1)
        self.advice = QLabel(self)
        self.advice.setWordWrap(True)
        self.advice.setStyleSheet("color: #8a4b00;")
        self.advice.setAccessibleName("Backup folder warning")

        self.status = QLabel(self._last_text(), self)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)

        self.table = QTableWidget(0, 3, self)
        self.table.setAccessibleName("Backups in the folder")
        self.table.setTabKeyNavigation(False)
        self.table.setHorizontalHeaderLabels(["Backup", "Made", "Size"])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.restore_button = QPushButton("&Restore selected backup…", self)
        self.restore_button.clicked.connect(self.restore_selected)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        actions = QHBoxLayout()
        actions.addWidget(self.backup_button)
        actions.addStretch(1)
        actions.addWidget(self.restore_button)

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(drive_row)
        layout.addWidget(self.advice)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(QLabel("Backups in this folder (newest first):", self))
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(buttons)
        self.folder_edit.editingFinished.connect(self.refresh)
        self.refresh()

    def folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser()

    def _last_text(self) -> str:
        last = self.services.backups.last_good()
        if last is None:
            return "No backup of this casebook has been made yet."
        return f"Last good backup: {format_date_time(last[0])}, {last[1]}."

    def _choose_folder(self) -> None:
        chosen = existing_folder(self, "backups", "Backup folder", str(self.folder()))
        if chosen:
            self.folder_edit.setText(chosen)
            self.refresh()

    def _use_drive(self, index: int) -> None:
        folder = self.drives.itemData(index)
        if folder:
            self.folder_edit.setText(folder)
            self.refresh()

    def refresh(self) -> None:
        """List the backups in the chosen folder, warning if it is on the casebook's disk."""
        advice = self.services.backups.folder_advice(self.folder())
        if advice is not None and self.drives.count() <= 1:
            advice += " No USB or network drive is connected at the moment."
        self.advice.setText(advice or "")
        self.advice.setVisible(bool(advice))
        backups = self.services.backups.list_backups(self.folder())
        self.table.setRowCount(len(backups))
        for row, backup in enumerate(backups):
            item = QTableWidgetItem(backup.path.name)
            item.setData(256, str(backup.path))
            self.table.setItem(row, 0, item)
            self.table.setItem(row, 1, QTableWidgetItem(format_date_time(backup.taken_at)))
            self.table.setItem(row, 2, QTableWidgetItem(_size(backup.size)))
        self.table.resizeColumnsToContents()
        self.restore_button.setEnabled(bool(backups))
        if backups:
            self.table.selectRow(0)

    def start_backup(self) -> None:
        """Make a backup in the chosen folder without holding up the window."""
        if self.worker is not None:
            return
        folder = self.folder()
        operations = self.services.operations
        self.backup_button.setEnabled(False)
        self.restore_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.status.setText("Making the backup and checking it…")
        self.worker = self.signals.runner.run(
            lambda progress, _cancelled: operations.backup(folder, progress=progress),
            initiator="backup",
            on_done=self._finished,
            on_refused=self._failed,
        )
        self.worker.progress.connect(self._progress)

    def _progress(self, done: int, total: int) -> None:
        scale = max(1, total // 1000)
        self.progress.setRange(0, max(1, total // scale))
        self.progress.setValue(done // scale)

    def _finished(self, result: BackupResult) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self.backup_button.setEnabled(True)
        removed = f" {len(result.removed)} older backup(s) removed." if result.removed else ""
        self.status.setText(
            f"Backup made and checked: {result.path.name} ({_size(result.size)}).{removed}"
        )
        self.refresh()

    def _failed(self, refused: Refusal) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self.backup_button.setEnabled(True)
        self.status.setText(self._last_text())
        self.refresh()
        QMessageBox.warning(self, "Backup not made", refused.message)

    def selected_backup(self) -> Path | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return Path(item.data(256)) if item is not None else None

    def restore_selected(self) -> None:
        """After a clear confirmation, replace the casebook with the selected backup."""
        archive = self.selected_backup()
        if archive is None:
            return
        answer = QMessageBox.question(
            self,
            "Restore this backup?",
            f"Restore {archive.name}?\n\nEverything recorded since that backup was made will "
            "no longer be in the casebook. The backup is checked first, and the current data "
            "is kept aside in the data folder so it can be recovered.\n\nConduct Casebook "
            "will close afterwards; open it again to carry on.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        confirm = ConfirmHeadDialog(self.services.ctx.current_user.name, self)
        if confirm.exec() != QDialog.DialogCode.Accepted:
            return
        secret, recovery = confirm.secret.text(), confirm.use_recovery.isChecked()
        try:
            result = run_while_busy(
                self,
                "Checking the backup and restoring it…",
                lambda: self.services.backups.restore(
                    archive,
                    password=None if recovery else secret,
                    recovery_key=secret if recovery else None,
                ),
            )
        except CasebookError as error:
            QMessageBox.warning(self, "Backup not restored", error.message)
            return
        QMessageBox.information(
            self,
            "Backup restored",
            f"The casebook has been restored from {archive.name} (made "
            f"{format_date_time(result.taken_at)}). The previous data is kept in "
            f"{result.set_aside}.\n\nConduct Casebook will now close; please open it again.",
        )
        self.restored.emit()
        self.accept()


class ConfirmHeadDialog(QDialog):
    """Before a restore: the head teacher types their password (or the recovery key) again."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Confirm the restore")
        intro = QLabel(
            f"A restore replaces the whole casebook. To confirm it, {name}, type your "
            "password, or tick the box and type the casebook’s recovery key.",
            self,
        )
        intro.setWordWrap(True)
        self.secret = QLineEdit(self)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.use_recovery = QCheckBox("Use the recovery &key instead of my password", self)
        self.use_recovery.toggled.connect(self._recovery_toggled)
        self.secret.setAccessibleName("Password or recovery key")
        self.secret_label = QLabel("&Password:", self)
        self.secret_label.setBuddy(self.secret)
        form = QFormLayout()
        form.addRow(self.secret_label, self.secret)
        form.addRow("", self.use_recovery)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Restore")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _recovery_toggled(self, on: bool) -> None:
        self.secret_label.setText("&Recovery key:" if on else "&Password:")
        self.secret.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)


class RestoreDamagedDialog(QDialog):
    """The casebook will not open (its database or key file is damaged): restore a backup.

    The backup's own keyring is opened with the head teacher's password from when the
    backup was made, or with the recovery key; nothing is changed unless the whole backup
    checks out, and the damaged files are kept aside.
    """

    def __init__(self, data_dir: Path, problem: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.restored: RestoreResult | None = None
        self.setWindowTitle("Restore from a backup")
        self.setMinimumWidth(560)
        intro = QLabel(
            problem + "\n\nChoose a backup of this casebook and sign in as its head teacher "
            "(or tick the box and type the recovery key). If the key file is lost too, or "
            "this is a new PC, use the password or recovery key from when the backup was "
            "made. The damaged files are kept aside, not deleted.",
            self,
        )
        intro.setWordWrap(True)
        self.file = QLineEdit(self)
        self.file.setAccessibleName("Backup file")
        browse = QPushButton("B&rowse…", self)
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        self.name = QLineEdit("head", self)
        self.name.setAccessibleName("User name")
        self.secret = QLineEdit(self)
        self.secret.setAccessibleName("Password or recovery key")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.use_recovery = QCheckBox("Use the recovery &key instead of a password", self)
        self.use_recovery.toggled.connect(self._recovery_toggled)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a4262c;")
        form = QFormLayout()
        form.addRow("Backup file:", row)
        form.addRow("User name:", self.name)
        self.secret_label = QLabel("Password:", self)
        form.addRow(self.secret_label, self.secret)
        form.addRow("", self.use_recovery)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Check and restore")
        buttons.accepted.connect(self.try_restore)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _recovery_toggled(self, on: bool) -> None:
        self.name.setEnabled(not on)
        self.secret_label.setText("Recovery key:" if on else "Password:")
        self.secret.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)

    def browse(self) -> None:
        path = open_file_name(self, "backups", "Choose a backup", "Casebook backups (*.zip)")
        if path:
            self.file.setText(path)

    def try_restore(self) -> None:
        from app.services.casebook import restore_casebook

        if not self.file.text().strip():
            self.message.setText("Choose the backup file to restore.")
            return
        archive = Path(self.file.text().strip()).expanduser()
        name, secret = self.name.text(), self.secret.text()
        recovery = self.use_recovery.isChecked()
        try:
            self.restored = run_while_busy(
                self,
                "Checking the backup and restoring it…",
                lambda: restore_casebook(
                    self.data_dir, archive, name, secret, with_recovery_key=recovery
                ),
            )
        except CasebookError as error:
            self.message.setText(error.message)
            return
        QMessageBox.information(
            self,
            "Backup restored",
            f"The casebook has been restored from {self.restored.backup.name} (made "
            f"{format_date_time(self.restored.taken_at)}). The damaged files are kept in "
            f"{self.restored.set_aside.name} in the data folder.",
        )
        self.accept()
