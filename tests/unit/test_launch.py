"""The front door opens the window without reading the command line's whole grammar, and
hands everything else to the command line, which answers exactly as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.launch import WindowRequest, window_request


@pytest.mark.parametrize(
    ("argv", "request_"),
    [
        ([], WindowRequest()),
        (["gui"], WindowRequest()),
        (["--data-dir", "/srv/casebook"], WindowRequest(data_dir="/srv/casebook")),
        (["--data-dir=/srv/case book", "gui"], WindowRequest(data_dir="/srv/case book")),
        (["--data-dir="], WindowRequest(data_dir="")),
        (
            ["--demo-if-empty", "--database-url", "postgresql://s/c", "--data-dir", "d"],
            WindowRequest(data_dir="d", database_url="postgresql://s/c", demo_if_empty=True),
        ),
    ],
)
def test_a_request_for_the_window_alone_is_read_here(
    argv: list[str], request_: WindowRequest
) -> None:
    assert window_request(argv) == request_


@pytest.mark.parametrize(
    "argv",
    [
        ["cases"],
        ["--data-dir", "d", "cases", "--json"],
        ["--version"],
        ["-h"],
        ["--help"],
        ["gui", "--data-dir", "d"],  # the parser refuses an option after the command
        ["--data-dir"],  # no value: the parser says so
        ["--data-dir", "--demo-if-empty"],
        ["--data-dir", "a", "--data-dir", "b"],  # the parser's rule for repeats applies
        ["--data", "d"],  # an abbreviation the parser accepts
        ["--demo"],
        ["screenshot", "--out", "x.png"],
        ["gui", "gui"],
        ["--data-dir", "caf\udce9"],  # bytes that are not UTF-8: refused by the parser
    ],
)
def test_anything_else_goes_to_the_command_line(argv: list[str]) -> None:
    assert window_request(argv) is None


def test_the_front_door_does_not_load_the_command_line_for_the_window() -> None:
    code = (
        "import sys, app.launch; "
        "print(sorted(m for m in sys.modules if m == 'argparse' or m.startswith('app.cli')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_commands_and_refusals_still_come_from_the_command_line(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "CASEBOOK_DATA_DIR"}
    data = str(tmp_path / "casebook")
    version = subprocess.run(
        [sys.executable, "-m", "app", "--version"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0 and version.stdout.startswith("casebook ")
    # Not text, with no command: the window's path hands it to the parser's one sentence.
    refused = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", os.fsencode(data) + b"\xff"],
        capture_output=True,
        env=environment,
        timeout=60,
        check=False,
    )
    stderr = refused.stderr.decode("utf-8")
    assert refused.returncode == 2, stderr
    assert stderr.startswith("casebook: argument") and stderr.count("\n") == 1, stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", data, "gui", "--bogus"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1, wrong.stderr
