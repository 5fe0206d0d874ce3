"""Where one letter from the command line goes: a timeline of the whole process.

``casebook letter REF --kind removal --out FILE.pdf`` is run inside a small wrapper that
notes the time (from the moment the parent started the process) when chosen modules
finish importing, when the steps of the command begin and end, each SQL statement and
commit, each fsync made from Python, and the Argon2id derivation on its own thread. The
marks are printed as phases (each from the end of the one before) and as counts.

Used by benchmarks/letters.py (the whole-process part prints the median timeline) and on
its own: ``.venv/bin/python benchmarks/_letter_timeline.py [--runs N] [--compare DIR]``, where
``--compare DIR`` also times another checkout's ``app`` package (main's, for a before/after
comparison), alternately with this one on the same casebook.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _marks import IMPORT_MARKS

# Runs in the measured process; argv: parent's start time, data dir, marks JSON, then the
# command's own arguments. Notes (seconds since the parent started it, thread, what).
WRAPPER = (
    r"""
import time, threading
T0 = float(__import__("sys").argv[1])
import atexit, functools, importlib.abc, json, os, runpy, sys
MARKS = []
COUNTS = {"sql": 0, "commit": 0, "fsync": 0, "sql_ms": 0.0, "fsync_ms": 0.0}
def mark(what):
    thread = threading.current_thread()
    where = "" if thread is threading.main_thread() else f" [{thread.name}]"
    MARKS.append((time.perf_counter() - T0, time.thread_time(), what + where))
mark("python started")
PLAN = json.loads(sys.argv[2])
IMPORTS = set(PLAN["imports"])
STEPS = PLAN["steps"]
def engine_events(module):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    started = []
    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())
    def after(conn, cursor, statement, parameters, context, executemany):
        COUNTS["sql"] += 1
        COUNTS["sql_ms"] += (time.perf_counter() - started.pop()) * 1000
    def commit(conn):
        COUNTS["commit"] += 1
        mark("commit")
    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Engine, "commit", commit)
HOOKS = {"sqlalchemy.engine": engine_events}
"""
    + IMPORT_MARKS
    + r"""
real_fsync = os.fsync
def fsync(fd):
    started = time.perf_counter()
    try:
        return real_fsync(fd)
    finally:
        COUNTS["fsync"] += 1
        COUNTS["fsync_ms"] += (time.perf_counter() - started) * 1000
os.fsync = fsync
def report():
    mark("exit")
    sys.stderr.write("TIMELINE " + json.dumps({"marks": MARKS, "counts": COUNTS}) + "\n")
atexit.register(report)
sys.argv = ["app", *sys.argv[3:]]
runpy.run_module("app", run_name="__main__", alter_sys=True)
"""
)

IMPORTS = [
    "app.cli",
    "sqlalchemy",
    "sqlalchemy.orm",
    "app.db.models",
    "app.db.engine",
    "app.services.casebook",
    "app.services.letters",
    "reportlab.platypus",
    "uharfbuzz",
    "app.pdf.render",
]
STEPS = {
    "app.cli": ["build_parser", "derive_ahead", "_write_output"],
    "app.security.crypto": ["DerivationAhead._derive"],
    "app.services.casebook": [
        "open_casebook",
        "Services.open_database",
        "Services.sweep_blobs",
        "migrate",
    ],
    "app.services.code": ["CodeService.refresh"],
    "app.services.keys": ["CasebookKeys.open_with_password"],
    "app.services.users": [
        "UserService.sign_in",
        "UserService._seal_at_sign_in",
        "UserService._seal_outstanding",
    ],
    "app.services.audit": ["AuditService.record"],
    "app.services.cases": ["CaseService.find_case", "CaseService.get_case"],
    "app.services.letters": [
        "LetterService.check_issue",
        "LetterService.prepare",
        "LetterService.issue",
        "LetterService.letter_pdf",
    ],
    "app.pdf.render": ["register_fonts", "render_letter"],
}

# (phase, the mark that ends it); each phase starts where the one before it ended. A mark
# not seen in a run (a step the code no longer takes) leaves its phase out.
PHASES = [
    ("start Python (to the wrapper's first line)", "python started"),
    ("import the command line (app.cli)", "imported app.cli"),
    ("parse the arguments", "< build_parser"),
    ("start Argon2id beside the imports", "< derive_ahead"),
    ("import SQLAlchemy Core", "imported sqlalchemy"),
    ("import SQLAlchemy ORM", "imported sqlalchemy.orm"),
    ("import the tables (app.db.models)", "imported app.db.models"),
    ("import the rest of the services' start", "imported app.services.casebook"),
    ("open the casebook (keyring, engine)", "< open_casebook"),
    ("sign in: wait for Argon2id, unwrap the key", "< CasebookKeys.open_with_password"),
    ("sign in: open SQLCipher, check the schema is at head", "< migrate"),
    # At sign-in until the sweep stopped asking it for the school profile's images.
    ("import the letters service (its templates, Jinja)", "imported app.services.letters"),
    ("sign in: the Code in force (first ORM query)", "< CodeService.refresh"),
    ("sign in: tidy the blob store (sweep)", "< Services.sweep_blobs"),
    ("sign in: account, 'signed in' entry", "> UserService._seal_at_sign_in"),
    ("sign in: head teacher's audit seal", "< UserService._seal_at_sign_in"),
    ("sign in: seal safeguarding records in clear", "< UserService._seal_outstanding"),
    ("sign in: done", "< UserService.sign_in"),
    ("find the case (view case audit entry)", "< CaseService.find_case"),
    ("check the letter may be issued", "< LetterService.check_issue"),
    # Before signing in, beside Argon2id, since the letter command makes ready to draw then
    # (Pillow and HarfBuzz run only for a picture or a shaped script).
    ("import reportlab, our PDF code", "imported app.pdf.render"),
    ("load the fonts", "< register_fonts"),
    ("prepare: read, fill, draw the letter", "< LetterService.prepare"),
    ("issue: store the PDF, record it, audit", "< LetterService.issue"),
    ("read the stored PDF back", "< LetterService.letter_pdf"),
    ("write the PDF file", "< _write_output"),
    ("exit (atexit, interpreter shutdown)", "exit"),
]
# The phases in parts (by the phases' first words), each with its share of the 0.5 s
# whole-process target (ms, a quiet machine): where the letter's time must come from. The
# last part ends when the parent sees the process end, after tearing down and freeing.
PARTS = [
    ("start Python, read the command, start Argon2id", 80,
     ("start Python", "import the command line", "parse", "start Argon2id")),
    ("import the database layer and the services", 150, ("import SQLAlchemy", "import the t",
     "import the rest")),
    ("open the casebook and sign in", 80, ("open the casebook", "sign in")),
    ("import reportlab, our PDF code; fonts", 80, ("import reportlab", "load the")),
    ("find, check, draw, issue, read back, write", 80, ("find", "import the letters", "check",
     "prepare", "issue", "read the", "write")),
    ("exit handlers and the end of the process", 30, ("exit", "after the last mark")),
]  # fmt: skip
LETTER_TARGET_MS = 500


def one_run(
    data_dir: Path, reference: str, env: dict[str, str], app_root: Path, out: Path
) -> tuple[dict[str, float], dict[str, float], float]:
    """One letter: (each mark's first time in ms, counts, whole process in ms). The marks
    also hold, under "cpu " + the mark, the processor time of the thread that made it."""
    plan = json.dumps({"imports": IMPORTS, "steps": STEPS})
    argv = ["--data-dir", str(data_dir), "letter", reference, "--kind", "removal"]
    argv += ["--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, repr(started), plan, *argv],
        env=env, capture_output=True, text=True, cwd=app_root, timeout=300, check=False,
    )  # fmt: skip
    whole = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stderr.splitlines() if line.startswith("TIMELINE ")]
    if done.returncode or not lines:
        raise SystemExit(f"the letter command failed: {done.stderr[-2000:]}")
    found = json.loads(lines[-1][len("TIMELINE ") :])
    marks: dict[str, float] = {}
    audit = 0
    for elapsed, cpu, what in found["marks"]:
        marks.setdefault(what, elapsed * 1000)
        marks.setdefault("cpu " + what, cpu * 1000)
        if what == "> AuditService.record":
            audit += 1
    counts = dict(found["counts"], audit=audit)
    # The whole process's processor time, every thread (Argon2id's too) and the kernel's
    # work for it, up to its very end: the one child run since "before".
    counts["process_cpu_ms"] = (
        after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    ) * 1000
    return marks, counts, whole


def print_timeline(runs: list[tuple[dict[str, float], dict[str, float], float]]) -> None:
    """The median of each phase over the runs, the phases in parts beside their budgets, the
    counts, and the derivation's span."""
    print(
        f"  {'phase (median over ' + str(len(runs)) + ' runs)':<50} {'ms':>6} {'at ms':>7} "
        f"{'CPU ms':>7}"
    )
    seen = [(p, e) for p, e in PHASES if all(e in marks for marks, _, _ in runs)]
    # In the order they happened (a step may move: the letters service came in at sign-in).
    seen.sort(key=lambda phase: statistics.median(marks[phase[1]] for marks, _, _ in runs))
    # Each run's (elapsed, CPU) per phase, from the end of the phase before it.
    spans: dict[str, list[tuple[float, float | None]]] = {}
    for marks, _, whole in runs:
        previous = None
        for phase, end in seen:
            spans.setdefault(phase, []).append(
                (
                    marks[end] - (marks[previous] if previous else 0.0),
                    marks["cpu " + end] - (marks["cpu " + previous] if previous else 0.0),
                )
            )
            previous = end
        tail = "after the last mark, until the parent sees the end"
        spans.setdefault(tail, []).append((whole - marks[previous] if previous else 0.0, None))
    for phase, end in seen:
        at = statistics.median(marks[end] for marks, _, _ in runs)
        elapsed = statistics.median(e for e, _ in spans[phase])
        cpu = statistics.median(c for _, c in spans[phase] if c is not None)
        print(f"  {phase:<50} {elapsed:6.0f} {at:7.0f} {cpu:7.0f}")
    print(f"  {tail:<50} {statistics.median(e for e, _ in spans[tail]):6.0f}")
    whole = statistics.median(w for *_, w in runs)
    cpu_all = statistics.median(m["cpu exit"] for m, _, _ in runs)
    print(f"  {'whole process (seen by the parent)':<50} {whole:6.0f} {'':>7} {cpu_all:7.0f}")
    process_cpu = statistics.median(c["process_cpu_ms"] for _, c, _ in runs)
    print(
        "  (CPU ms: the main thread's processor time in the phase, which a busy machine "
        "changes much less than the elapsed time;\n   the whole process's, every thread and "
        f"its end included: {process_cpu:.0f} ms)"
    )
    print(f"  in parts, each beside its share of the {LETTER_TARGET_MS} ms target:")
    for part, budget, starts in PARTS:
        members = [phase for phase in spans if phase.startswith(starts)]
        elapsed = statistics.median(
            sum(spans[phase][n][0] for phase in members) for n in range(len(runs))
        )
        cpu = statistics.median(
            sum(spans[phase][n][1] or 0.0 for phase in members) for n in range(len(runs))
        )
        print(
            f"    {part:<50} {elapsed:5.0f} ms (CPU {cpu:4.0f}; budget {budget:3d} ms; "
            f"{elapsed / budget:.2f} of it)"
        )
    unplaced = [phase for phase in spans if not any(phase.startswith(s) for *_, s in PARTS)]
    if unplaced:
        print(f"    (in no part: {', '.join(unplaced)})")
    begin, end = "> DerivationAhead._derive [argon2id]", "< DerivationAhead._derive [argon2id]"
    if all(begin in m and end in m for m, _, _ in runs):
        starts = statistics.median(m[begin] for m, _, _ in runs)
        ends = statistics.median(m[end] for m, _, _ in runs)
        print(f"  Argon2id on its thread: {starts:.0f} to {ends:.0f} ms ({ends - starts:.0f} ms)")
    counts = runs[0][1]
    keys = ("sql", "commit", "audit", "fsync")
    same = all(all(c[k] == counts[k] for k in keys) for _, c, _ in runs)
    print(
        f"  counts: {counts['sql']:.0f} SQL statements "
        f"({statistics.median(c['sql_ms'] for _, c, _ in runs):.0f} ms in them), "
        f"{counts['commit']:.0f} commits, {counts['audit']:.0f} audit entries, "
        f"{counts['fsync']:.0f} fsyncs made by Python "
        f"({statistics.median(c['fsync_ms'] for _, c, _ in runs):.0f} ms; SQLite's own "
        f"are inside its commits){'' if same else ' (counts differed between runs)'}"
    )


def main() -> int:
    import argparse
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from letters import child_env, letter_casebook, machine_load

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--app", type=Path, help="checkout whose app package to time")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="DIR",
        help="another checkout (e.g. main's) timed alternately with this one, on one casebook",
    )
    args = parser.parse_args()
    root = (args.app or Path(__file__).resolve().parent.parent).resolve()
    roots = {"this checkout": root}
    if args.compare:
        roots["the other checkout"] = args.compare.resolve()
    with tempfile.TemporaryDirectory() as folder:
        data, reference = letter_casebook(Path(folder))
        env = child_env(root / "app")
        for other in roots.values():
            child_env(other / "app")  # its bytecode compiled too
        print(f"Machine: {machine_load()}")
        runs: dict[str, list[tuple[dict[str, float], dict[str, float], float]]] = {}
        for name, where in roots.items():
            one_run(data, reference, env, where, Path(folder) / "warm.pdf")
            runs[name] = []
        for n in range(args.runs):
            # Alternately, each first in turn: the machine's load falls on both alike.
            order = list(roots.items()) if n % 2 == 0 else list(roots.items())[::-1]
            for name, where in order:
                runs[name].append(one_run(data, reference, env, where, Path(folder) / "o.pdf"))
        for name, where in roots.items():
            print(f"{name} ({where}):")
            print_timeline(runs[name])
        if args.compare:
            mine, theirs = (statistics.median(w for *_, w in r) for r in runs.values())
            print(
                f"whole process: the other checkout's median over this one's: {theirs / mine:.2f}"
            )
        print(f"Machine at the end: {machine_load()}")
    return 0


if __name__ == "__main__":
    os.environ.pop("CASEBOOK_TESTS_ONLY_CHEAP_KDF", None)
    sys.exit(main())
