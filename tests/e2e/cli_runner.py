"""Run the ``casebook`` command in this process, through its own entry point.

``run_in_process(argv, env)`` calls ``app.cli.main(argv)`` exactly as the console script does,
with the environment it would have, no terminal on stdin, and stdout/stderr captured; it
returns what ``subprocess.run`` would, so a test reads the exit code and the two streams the
same way. It saves starting Python, Qt and SQLAlchemy for each of the suite's hundreds of
commands; a few tests still start a real process (``run_subprocess``) so the console entry
point, ``python -m app`` and a clean interpreter stay covered.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from app.cli import main


def run_in_process(
    argv: Sequence[str], env: Mapping[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``casebook ARGV`` with exactly ``env`` as its environment."""
    saved_environ = dict(os.environ)
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    root_logger = logging.getLogger()
    saved_handlers = list(root_logger.handlers)
    saved_level = root_logger.level
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        try:
            code = main(list(argv))
        except SystemExit as leaving:  # argparse: --version, --help and bad arguments
            code = leaving.code if isinstance(leaving.code, int) else 1
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_environ)
        # The command's log file handler belongs to its run, as it would to its process.
        for handler in root_logger.handlers[:]:
            if handler not in saved_handlers:
                root_logger.removeHandler(handler)
                # A full disk: at a process's exit, logging.shutdown ignores this too.
                with contextlib.suppress(OSError):
                    handler.close()
        root_logger.setLevel(saved_level)
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())


def run_subprocess(
    argv: Sequence[str], env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m app ARGV`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=dict(env),
        timeout=timeout,
        check=False,
    )
