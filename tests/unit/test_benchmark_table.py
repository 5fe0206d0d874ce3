"""``make bench``'s table: every figure a benchmark prints, beside its target, read right."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _report import WARM, WHOLE_PROCESS, Figure, figure
from run_all import Result, read_figures, report


def test_a_figure_printed_by_the_report_helper_is_read_back_exactly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert figure("start to first painted list", 0.72, "s", 0.8, kind=WHOLE_PROCESS)
    assert not figure("sealing", 150, "MB/s", 200, at_most=False)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (
        "= start to first painted list: 0.72 s (target <= 0.80 s; 0.90 of it) met [whole process]"
    )
    assert read_figures(printed[0]) == [
        Figure("start to first painted list", 0.72, "s", 0.8, True, WHOLE_PROCESS)
    ]
    [sealing] = read_figures(printed[1])
    assert (sealing.measured, sealing.target, sealing.at_most, sealing.met) == (
        150,
        200,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("line", "label", "measured", "target", "met"),
    [
        # The figure a target follows is the one in its unit just before it (CPU, not elapsed).
        ("one letter rendered, Latin name: 27.0 ms elapsed, 8.5 ms CPU (target <= 15 ms)",
         "one letter rendered, Latin name", 8.5, 15, True),
        # A median is what a median target is about, not the worst.
        ("Filter/search keystroke, 100,000 cases: median 30.0 ms, worst 85.0 ms over 20 "
         "keystrokes (target <= 50 ms)", "Filter/search keystroke, 100,000 cases", 30, 50, True),
        ("Open 1280×24000 screenshot to first view: 400 ms  (target ≤ 300 ms)",
         "Open 1280×24000 screenshot to first view", 400, 300, False),
        ("  window start                        1,120 ms  (target 1500 ms) ok",
         "window start", 1120, 1500, True),
        ("seal 100 MB of blobs in memory (AES-GCM): 1900 MB/s (target >= 200 MB/s)",
         "seal 100 MB of blobs in memory (AES-GCM)", 1900, 200, True),
    ],
)  # fmt: skip
def test_other_benchmarks_lines_are_read_by_their_target(
    line: str, label: str, measured: float, target: float, met: bool
) -> None:
    [found] = read_figures(line)
    assert (found.label, found.measured, found.target, found.met) == (label, measured, target, met)


def test_lines_without_a_target_are_not_figures() -> None:
    assert read_figures("filter 'letter' in the action: 0.050 s (1,234 rows; no target)") == []
    assert read_figures("Casebook ready in 0.0 s (/var/tmp/casebook)") == []


def test_the_table_names_the_date_machine_and_load_and_keeps_whole_process_apart() -> None:
    results = [
        Result("case_list.py", "3.2 2.0 1.5", 12.0, 0, [
            Figure("start to first painted list", 0.74, "s", 0.8, True, WHOLE_PROCESS),
            Figure("search keystroke", 60, "ms", 50, True, WARM),
        ]),
        Result("backup.py", "4.0 2.0 1.5", 3.0, 0, []),
    ]  # fmt: skip
    text = report(results, datetime(2026, 12, 5, 6, 0, tzinfo=UTC), "3.1 2.0 1.4", markdown=True)
    assert "5 December 2026" in text and "cores" in text and "3.1 2.0 1.4 at the start" in text
    whole, warm = text.index("**Whole process"), text.index("**Warm")
    assert whole < text.index("start to first painted list") < warm < text.index("search keystroke")
    assert "| case_list.py | search keystroke | 60 ms | ≤ 50 ms | 1.20 | MISSED | 3.2 |" in text
    assert "No figure with a target was read from: backup.py" in text
    assert "2 figures, 1 missed." in text
