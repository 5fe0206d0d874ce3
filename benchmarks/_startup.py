"""The floor under the window's start: what no start of a signed-in window can go below.

A whole process that starts Python, makes the QApplication, derives the key from the
password with Argon2id at the cost the casebook's keyring records (its real cost, read
from the keyring), shows a bare main window with an empty table, and reports its first
paint, timed exactly as the program's own start is timed (``seconds_to_first_paint``).
Printed beside the program's start, from runs alternating with it, so that the two were
taken under the same load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

FLOOR_CODE = """
import base64, json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
from argon2.low_level import Type, hash_secret_raw

app = QApplication(sys.argv[:1])
keyring = json.loads(open(sys.argv[1], "rb").read())
wrap = keyring["wraps"][sys.argv[2]]
cost = wrap["kdf"]
hash_secret_raw(sys.argv[3].encode(), base64.b64decode(wrap["salt"]), time_cost=cost["t"],
                memory_cost=cost["m"], parallelism=cost["p"], hash_len=32, type=Type.ID)
window = QMainWindow()
table = QTableView()
window.setCentralWidget(table)


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            print("first paint", flush=True)
            QTimer.singleShot(0, app.quit)
        return False


watcher = FirstPaint()
table.viewport().installEventFilter(watcher)
window.resize(1280, 800)
window.show()
app.exec()
"""


def floor_seconds(data_dir: Path, env: dict[str, str], user: str, password: str) -> float:
    """Seconds from start to the first paint of a bare window after an Argon2id sign-in."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", FLOOR_CODE, str(data_dir / "casebook.keys"), user, password],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    painted = None
    for line in process.stdout:
        if line.strip() == "first paint" and painted is None:
            painted = time.perf_counter() - started
    _out, err = process.communicate()
    if painted is None:
        raise SystemExit(f"the bare window did not report its first paint: {err}")
    return painted


def machine_load() -> str:
    """Cores and load average, printed with every figure taken on a shared machine."""
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return f"{os.cpu_count()} cores, load unknown"
    return f"{os.cpu_count()} cores, load average {load}"
