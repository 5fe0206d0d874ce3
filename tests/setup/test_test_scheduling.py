"""The suite's own scheduling: the longest test files are dealt to the workers first."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.scheduling import (
    DURATIONS,
    DurationRecorder,
    ExpectedSeconds,
    longest_first_scheduler,
    read_durations,
    table_text,
)

TABLE = {
    "tests/a/test_long.py": {"seconds": 12.0, "tests": 4},
    "tests/a/test_short.py": {"seconds": 0.5, "tests": 5},
    "tests/b/test_middle.py": {"seconds": 3.0, "tests": 30},
}


def test_a_known_file_is_expected_to_take_its_recorded_time() -> None:
    expected = ExpectedSeconds(TABLE)
    assert expected("tests/a/test_long.py", 4) == 12.0
    assert expected("tests/a/test_short.py", 5) == 0.5


def test_a_file_the_table_does_not_know_is_reckoned_by_its_number_of_tests() -> None:
    expected = ExpectedSeconds(TABLE)
    # The median of 3.0, 0.1 and 0.1 seconds a test.
    assert expected("tests/c/test_new.py", 20) == pytest.approx(2.0)
    # A known file whose tests changed keeps its own rate.
    assert expected("tests/a/test_long.py", 8) == pytest.approx(24.0)
    assert ExpectedSeconds({})("tests/c/test_new.py", 20) == pytest.approx(2.0)


def test_a_missing_or_damaged_table_deals_by_test_counts(tmp_path: Path) -> None:
    assert read_durations(tmp_path / "none.json") == {}
    damaged = tmp_path / "damaged.json"
    damaged.write_text("{not json", encoding="utf-8")
    assert read_durations(damaged) == {}


def test_the_kept_table_is_readable_and_covers_most_of_the_suite() -> None:
    table = read_durations(DURATIONS)
    assert len(table) > 100
    assert all(row["seconds"] >= 0 and row["tests"] > 0 for row in table.values())
    assert json.loads(table_text(table)) == table


class _Worker:
    """What xdist's scheduler asks of a worker: a name, and taking tests to run."""

    def __init__(self, name: str) -> None:
        self.sent: list[list[int]]
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down, self.sent = False, []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.append(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


def test_a_passing_run_records_each_files_summed_time(tmp_path: Path) -> None:
    for name in ("test_long.py", "test_short.py", "test_kept.py"):
        (tmp_path / "tests" / "a").mkdir(parents=True, exist_ok=True)
        (tmp_path / "tests" / "a" / name).touch()
    table = tmp_path / "tests" / "durations.json"
    # Rows of files not run this time are kept, and those of files no longer there go.
    table.write_text(
        table_text(
            {
                "tests/a/test_kept.py": {"seconds": 1.0, "tests": 2},
                "tests/a/test_long.py": {"seconds": 99.0, "tests": 9},
                "tests/a/test_removed.py": {"seconds": 3.0, "tests": 1},
            }
        ),
        encoding="utf-8",
    )
    recorder = DurationRecorder(table)
    for nodeid, seconds in (
        ("tests/a/test_long.py::test_0", 1.5),  # setup
        ("tests/a/test_long.py::test_0", 4.0),  # call
        ("tests/a/test_long.py::test_1", 2.5),
        ("tests/a/test_short.py::test_0", 0.25),
    ):
        recorder.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=seconds))  # type: ignore[arg-type]
    recorder.pytest_sessionfinish(None, exitstatus=1)  # type: ignore[arg-type]
    # A failed run's times are not kept.
    assert read_durations(table)["tests/a/test_long.py"]["seconds"] == 99.0
    recorder.pytest_sessionfinish(None, exitstatus=0)  # type: ignore[arg-type]
    assert read_durations(table) == {
        "tests/a/test_kept.py": {"seconds": 1.0, "tests": 2},
        "tests/a/test_long.py": {"seconds": 8.0, "tests": 2},
        "tests/a/test_short.py": {"seconds": 0.25, "tests": 1},
    }


class _Options:
    """The options of ``pytest -n 2 --dist loadfile`` that xdist's scheduler reads."""

    def __init__(self) -> None:
        self.option = SimpleNamespace(loadscopereorder=True)

    def getvalue(self, name: str) -> object:
        return {"tx": ["2*popen"], "numprocesses": 2}[name]


def test_the_workers_are_dealt_the_longest_files_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.scheduling.read_durations", lambda: TABLE)
    # In collection order, and by number of tests (xdist's own order), the long file is last.
    collection = [
        *(f"tests/b/test_middle.py::test_{n}" for n in range(30)),
        *(f"tests/a/test_short.py::test_{n}" for n in range(5)),
        *(f"tests/a/test_long.py::test_{n}" for n in range(4)),
    ]
    scheduler = longest_first_scheduler(_Options(), None)  # type: ignore[arg-type]
    first, second = _Worker("gw0"), _Worker("gw1")
    for worker in (first, second):
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    dealt: dict[str, Any] = {"gw0": first.sent[0], "gw1": second.sent[0]}
    assert [collection[i] for i in dealt["gw0"]] == collection[35:]  # the long file
    assert [collection[i] for i in dealt["gw1"]] == collection[:30]  # then the middle one
