"""Where the window's start goes: one whole-process start to the first painted list, as a
table of phases with their elapsed time and the GUI thread's processor time.

Runs ``python -m app`` on the 10,000-case benchmark casebook (signed in with the password
given beforehand, as benchmarks/case_list.py does) inside a small wrapper that notes the
time when chosen modules finish importing and when the steps of the start begin and end.
Elapsed time on a shared machine depends on its load; the processor time of the GUI thread
depends on it much less, so the table shows both, with the load.

A diagnosis, not a figure with a target: `make bench` (run_all.py) does not run it.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/_start_timeline.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _casebook import fresh_copy, unattended_start_env
from _marks import IMPORT_MARKS
from _startup import machine_load

ROOT = Path(__file__).resolve().parent.parent

# Runs in the measured process: notes (elapsed, GUI thread CPU, what) and prints them at exit.
WRAPPER = (
    r"""
import time, threading
T0 = time.perf_counter()
import atexit, functools, importlib.abc, json, runpy, sys
MARKS = []
def mark(what):
    if threading.current_thread() is threading.main_thread():
        MARKS.append((time.perf_counter() - T0, time.thread_time(), what))
mark("python started")
IMPORTS = set(sys.argv[2].split(","))
STEPS = json.loads(sys.argv[3])
HOOKS = {}
"""
    + IMPORT_MARKS
    + r"""
class Out:
    def __init__(self, inner):
        self.inner = inner
    def write(self, text):
        if "first paint" in text:
            mark("first paint")
        return self.inner.write(text)
    def __getattr__(self, name):
        return getattr(self.inner, name)
sys.stdout = Out(sys.stdout)
atexit.register(lambda: sys.stderr.write("TIMELINE " + json.dumps(MARKS) + "\n"))
sys.argv = ["app", "--data-dir", sys.argv[1]]
runpy.run_module("app", run_name="__main__", alter_sys=True)
"""
)

IMPORTS = [
    "app.launch",
    "PySide6.QtWidgets",
    "app.ui.app",
    "sqlalchemy",
    "app.db.models",
    "app.services.casebook",
    "app.ui.main_window",
]
STEPS = {
    "app.ui.app": ["make_application", "open_for_window"],
    "app.services.users": ["UserService.sign_in"],
    "app.services.keys": ["CasebookKeys.open_with_password"],
    "app.services.casebook": ["Services.open_database"],
    "app.ui.main_window": ["MainWindow.__init__", "MainWindow.show_on_screen"],
    "app.services.cases": ["CaseService.list_cases"],
}

# (phase, the mark that ends it); each phase starts where the one before it ended.
PHASES = [
    ("Python itself, to the wrapper's first line", "python started"),
    ("read the arguments (app.launch: the window alone)", "imported app.launch"),
    ("import PySide6 and the window's start-up code", "imported app.ui.app"),
    ("import SQLAlchemy", "imported sqlalchemy"),
    ("import the tables (app.db.models)", "imported app.db.models"),
    ("import the rest of the services in use", "imported app.services.casebook"),
    ("import the main window, list and case screen", "imported app.ui.main_window"),
    ("open the casebook (keyring, engine)", "< open_for_window"),
    ("sign in: wait for Argon2id, unwrap the key", "< CasebookKeys.open_with_password"),
    ("sign in: open the database, migrate check, Code", "< Services.open_database"),
    ("sign in: account, audit trail, sealing", "< UserService.sign_in"),
    ("make the main window (counts, widgets)", "< MainWindow.__init__"),
    ("show it", "< MainWindow.show_on_screen"),
    ("lay out, polish, to the list's first query", "> CaseService.list_cases"),
    ("first page of the list (query)", "< CaseService.list_cases"),
    ("fill and paint the list", "first paint"),
]


def one_start(folder: Path) -> dict[str, tuple[float, float]]:
    """One start: each mark's (elapsed ms, GUI thread CPU ms), the first of each name."""
    import json

    env = unattended_start_env()
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(folder), ",".join(IMPORTS), json.dumps(STEPS)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("TIMELINE ")]
    if not lines or "first paint" not in result.stdout:
        raise SystemExit(f"the start did not report its first paint: {result.stderr[-2000:]}")
    marks: dict[str, tuple[float, float]] = {}
    for elapsed, cpu, what in json.loads(lines[-1][len("TIMELINE ") :]):
        marks.setdefault(what, (elapsed * 1000, cpu * 1000))
    for line in result.stdout.splitlines():
        if line.startswith("free for input"):
            # "free for input N ms after the first paint; first case shown M ms after it"
            words = line.split()
            marks["key answered after the paint"] = (float(words[3]), 0.0)
            marks["first case shown after the paint"] = (float(words[12]), 0.0)
    return marks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="starts to take the median of")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "app")], check=True)
    with tempfile.TemporaryDirectory() as temp:
        folder = fresh_copy(10_000, Path(temp) / "c10k")
        print(f"Machine: {machine_load()}", flush=True)
        one_start(folder)  # warm-up: the page cache after the copy
        runs = [one_start(folder) for _ in range(args.runs)]
    print(f"Start to first painted list, 10,000 cases, median of {args.runs} whole-process runs")
    print(f"{'phase':<52} {'elapsed ms':>10} {'GUI thread CPU ms':>18}")
    previous = "start"
    for phase, end in PHASES:
        if not all(end in run for run in runs):
            print(f"{phase:<52} {'(not seen)':>10}")
            continue
        walls, cpus = [], []
        for run in runs:
            before = run.get(previous, (0.0, 0.0))
            walls.append(run[end][0] - before[0])
            cpus.append(run[end][1] - before[1])
        print(f"{phase:<52} {statistics.median(walls):>10.0f} {statistics.median(cpus):>18.0f}")
        previous = end
    total = statistics.median(run["first paint"][0] for run in runs)
    cpu = statistics.median(run["first paint"][1] for run in runs)
    print(f"{'whole start (to the report of the first paint)':<52} {total:>10.0f} {cpu:>18.0f}")
    for after in ("key answered after the paint", "first case shown after the paint"):
        if all(after in run for run in runs):
            print(f"{after:<52} {statistics.median(run[after][0] for run in runs):>10.0f}")
    print(f"Machine at the end: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
