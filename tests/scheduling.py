"""The longest test files first: how the suite's files are dealt to its workers.

``pytest -n auto --dist loadfile`` hands each worker a whole file at a time. xdist deals
them biggest first by their number of tests, which is not their time: a long file with few
tests (the command-line start's real processes, the hostile corpus) came late, and one
worker finished it alone while the other stood idle. Dealing the longest file first to
whichever worker is free (longest processing time first) leaves the short files for the end,
where they even the workers out.

How long each file takes is kept in tests/durations.json (each file's summed setup, call
and teardown seconds), written by ``make test-durations`` (``--store-durations``). A file it
does not know yet (new, or renamed) is reckoned at the table's median seconds per test times
its number of tests, so a stale table only deals a few files less well.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

DURATIONS = Path(__file__).with_name("durations.json")


def read_durations(path: Path = DURATIONS) -> dict[str, dict[str, float]]:
    """Each file's recorded ``{"seconds": ..., "tests": ...}``; nothing if the table is
    missing or unreadable (every file is then reckoned by its number of tests)."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


class ExpectedSeconds:
    """How long a file's tests are expected to take, from the table or its test count."""

    def __init__(self, table: dict[str, dict[str, float]]) -> None:
        self.table = table
        per_test = [row["seconds"] / row["tests"] for row in table.values() if row.get("tests")]
        self.per_test = statistics.median(per_test) if per_test else 0.1

    def __call__(self, scope: str, tests: int) -> float:
        row = self.table.get(scope)
        if row is None or row.get("tests") != tests:
            # New, or its tests have changed since the table was written.
            known = row["seconds"] / row["tests"] if row and row.get("tests") else self.per_test
            return known * tests
        return row["seconds"]


def longest_first_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's file-at-a-time scheduling, dealing the longest remaining file first."""
    from xdist.scheduler import LoadFileScheduling

    expected = ExpectedSeconds(read_durations())

    class LongestFileFirst(LoadFileScheduling):  # type: ignore[misc]
        def _assign_work_unit(self, node: Any) -> None:
            scope = max(
                self.workqueue, key=lambda scope: expected(scope, len(self.workqueue[scope]))
            )
            self.workqueue.move_to_end(scope, last=False)  # the unit xdist hands out next
            super()._assign_work_unit(node)

    return LongestFileFirst(config, log)


class DurationRecorder:
    """Sums each file's test durations over a run (in pytest's own process, where every
    worker's reports arrive) and writes them to the table when the run passed. ``path`` is
    tests/durations.json, or one beside a tests/ folder of the files it names."""

    def __init__(self, path: Path = DURATIONS) -> None:
        self.path = path
        self.seconds: dict[str, float] = defaultdict(float)
        self.tests: dict[str, set[str]] = defaultdict(set)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        scope = report.nodeid.split("::", 1)[0]
        self.seconds[scope] += report.duration
        self.tests[scope].add(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus != 0 or not self.seconds:
            return
        # A run of some files replaces their rows and keeps the others' (of files still
        # there: a removed file's row goes).
        table = {
            scope: row
            for scope, row in read_durations(self.path).items()
            if (self.path.parent.parent / scope).is_file()
        }
        for scope, seconds in self.seconds.items():
            table[scope] = {"seconds": round(seconds, 2), "tests": len(self.tests[scope])}
        self.path.write_text(table_text(dict(sorted(table.items()))), encoding="utf-8")


def table_text(table: dict[str, dict[str, float]]) -> str:
    """The table as JSON, a file a line (a refreshed table's diff shows what changed)."""
    rows = (f"  {json.dumps(scope)}: {json.dumps(row)}" for scope, row in table.items())
    return "{\n" + ",\n".join(rows) + "\n}\n"
