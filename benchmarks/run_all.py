"""Run the benchmarks and print one table: each figure, its target, the ratio, met or missed.

Quick by default (a few minutes): every script here except the million-row ones.
``--scale`` adds ``million.py`` (SQLite) and ``million_postgres.py`` (PostgreSQL), which
build a cached million-case casebook the first time (several minutes each) and need
PostgreSQL installed for the second. ``--only a,b`` runs just the named scripts.

The table names the date, the machine (cores) and its load average at the start and end
of the run, and the load when each script started: on a shared machine a figure is only
comparable with figures taken in the same run. Whole-process figures (a new program
started each time) and warm ones (inside a program already running) are in separate
tables and never compared with each other. ``--markdown`` prints the tables in Markdown,
as the README's performance section holds them.

Run: make bench / make bench-scale, or
     QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/run_all.py [--scale] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import WARM, WHOLE_PROCESS, Figure, parse  # noqa: E402

SCALE = ("million.py", "million_postgres.py")
TIMEOUT_S = 3600  # one script; a million-row build under load takes many minutes
UNITS = r"ms|s|MB/s|MB|%|bytes"
_TARGET = re.compile(
    rf"target\s*(?P<op><=|≤|>=|≥|<|>)?\s*(?P<target>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>{UNITS})(?!\w)"
)
_STAT_TARGET = re.compile(
    rf"\b(?P<stat>median|worst)\s*(?P<op><=|≤)\s*(?P<target>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>{UNITS})(?!\w)"
)
_WHOLE = re.compile(r"whole[ -]proc|first paint|start to first|\bstart-up\b", re.IGNORECASE)


@dataclass
class Result:
    script: str
    load_at_start: str
    seconds: float
    returncode: int
    figures: list[Figure]


def load() -> str:
    """The load average over 1, 5 and 15 minutes, or 'unknown' where the system has none."""
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


def machine() -> str:
    model = ""
    try:
        for row in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return f"{os.cpu_count()} cores{f' ({model})' if model else ''}, {platform.system()}"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _figure_before(text: str, end: int, unit: str) -> tuple[float, int] | None:
    """The figure a target is about, and where it starts: the median when one is given,
    else the last number in ``unit`` before position ``end`` ("8.5 ms CPU (target <= 15 ms)")."""
    number = rf"(\d[\d,]*(?:\.\d+)?)\s*{re.escape(unit)}(?![\w/])"
    median = re.search(rf"\bmedian\s+{number}", text[:end])
    if median:
        return _number(median.group(1)), median.start()
    found = list(re.finditer(number, text[:end]))
    return (_number(found[-1].group(1)), found[-1].start()) if found else None


def read_figures(line: str) -> list[Figure]:
    """The figures in one printed line: ``_report.figure()``'s exactly, others' by the
    word "target" (or "median <=" / "worst <=") and the figure in the same unit before it."""
    exact = parse(line)
    if exact is not None:
        return [exact]
    text = line.strip()
    if "target" not in text and "<=" not in text and "≤" not in text:
        return []
    label = text.split(":", 1)[0].strip(" .0123456789") if ":" in text else text[:60]
    kind = WHOLE_PROCESS if _WHOLE.search(text) else WARM
    figures = []
    for clause in text.split(";"):
        clause_label = label
        head = clause.split(":", 1)[0].strip() if ":" in clause else ""
        if head and head.strip(" .0123456789") != label and len(head) < 60:
            clause_label = f"{label}: {head}"
        for match in [*_TARGET.finditer(clause), *_STAT_TARGET.finditer(clause)]:
            unit, op = match.group("unit"), match.group("op") or "<="
            groups = match.groupdict()
            if groups.get("stat"):
                stated = re.search(
                    rf"\b{groups['stat']}\s+(\d[\d,]*(?:\.\d+)?)\s*{re.escape(unit)}", clause
                )
                measured = _number(stated.group(1)) if stated else None
                name = f"{clause_label} ({groups['stat']})"
            else:
                before = _figure_before(clause, match.start(), unit)
                measured = before[0] if before else None
                name = clause_label
                if before and ":" not in text:  # "label   120 ms  (target 300 ms)"
                    name = clause[: before[1]].strip(" .0123456789") or label
            if measured is None:
                continue
            at_most = op in ("<=", "≤", "<")
            figures.append(
                Figure(name, measured, unit, _number(match.group("target")), at_most, kind)
            )
    return figures


def run(script: Path) -> Result:
    print(f"== {script.name} (load average {load()})", flush=True)
    started_load, started = load(), time.perf_counter()
    figures: list[Figure] = []
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    deadline = started + TIMEOUT_S
    try:
        for printed in process.stdout:
            print("   " + printed.rstrip(), flush=True)
            figures += read_figures(printed)
            if time.perf_counter() > deadline:
                process.kill()
                print(f"   (stopped after {TIMEOUT_S} s)")
                break
    finally:
        if process.poll() is None and sys.exc_info()[0] is not None:
            process.kill()  # the run was stopped: the script goes with it
    returncode = process.wait()
    return Result(script.name, started_load, time.perf_counter() - started, returncode, figures)


def _table(results: list[Result], kind: str, markdown: bool) -> list[str]:
    rows = [
        (
            r.script,
            f.label,
            f"{f.measured:,.3g} {f.unit}" if f.measured < 1000 else f"{f.measured:,.0f} {f.unit}",
            f"{'≤' if f.at_most else '≥'} {f.target:g} {f.unit}",
            f"{f.ratio:.2f}",
            "met" if f.met else "MISSED",
            r.load_at_start.split(" ")[0],
        )
        for r in results
        for f in r.figures
        if f.kind == kind
    ]
    header = ("script", "figure", "measured", "target", "ratio", "met?", "load")
    if not rows:
        return []
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return lines
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    widths[1] = min(widths[1], 70)
    return [
        "  ".join(str(cell)[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row))
        for row in [header, *rows]
    ]


def report(results: list[Result], started: datetime, load_start: str, markdown: bool) -> str:
    """The tables: whole-process figures, then warm ones, with when, where and the load."""
    when = started.strftime("%-d %B %Y, %H:%M UTC") if os.name != "nt" else started.isoformat()
    lines = [
        f"Benchmarks run {when} on {machine()}; load average (1, 5, 15 min) "
        f"{load_start} at the start, {load()} at the end.",
        "Ratio = measured / target (under 1 is inside a time or memory target; over 1 "
        "beats a throughput floor). 'load' is the 1-minute load average as each script began.",
    ]
    for kind, title in (
        (WHOLE_PROCESS, "Whole process (a new program started and timed from outside)"),
        (WARM, "Warm (timed inside a program already running)"),
    ):
        table = _table(results, kind, markdown)
        if table:
            lines += ["", f"**{title}**" if markdown else title, "", *table]
    missing = [r.script for r in results if not r.figures]
    if missing:
        lines += ["", "No figure with a target was read from: " + ", ".join(missing)]
    failed = [f"{r.script} (exit {r.returncode})" for r in results if r.returncode != 0]
    missed = sum(1 for r in results for f in r.figures if not f.met)
    lines += [
        "",
        f"{sum(len(r.figures) for r in results)} figures, {missed} missed"
        + (
            f"; scripts reporting a missed target or an error: {', '.join(failed)}"
            if failed
            else ""
        )
        + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scale", action="store_true", help="add the million-row benchmarks")
    parser.add_argument("--only", default="", help="comma-separated script names to run")
    parser.add_argument("--markdown", action="store_true", help="print the tables in Markdown")
    args = parser.parse_args(argv)
    scripts = [p for p in sorted(HERE.glob("[a-z]*.py")) if p.name != "run_all.py"]
    if args.only:
        wanted = {name if name.endswith(".py") else f"{name}.py" for name in args.only.split(",")}
        unknown = wanted - {p.name for p in scripts}
        if unknown:
            parser.exit(2, f"No such benchmark: {', '.join(sorted(unknown))}.\n")
        scripts = [p for p in scripts if p.name in wanted]
    elif not args.scale:
        scripts = [p for p in scripts if p.name not in SCALE]
    started, load_start = datetime.now(UTC), load()
    # Stopped early (Ctrl+C, or a stop sent to a background run), the table still shows
    # the scripts that finished.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    results: list[Result] = []
    try:
        for script in scripts:
            results.append(run(script))
    except KeyboardInterrupt:
        print(
            f"\nStopped before the end: the table holds the {len(results)} scripts that finished."
        )
    print()
    print(report(results, started, load_start, args.markdown))
    finished = len(results) == len(scripts)
    return 0 if finished and all(r.returncode == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
