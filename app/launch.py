"""The front door of both programs: the window straight away when that is all that is asked
for, every other command through the command line's parser (app.cli).

Most starts are a person opening the window, with no arguments or only the data folder.
The command line's full grammar (every command, its modules and their imports) took a
seventh of the window's start, so a request for the window alone is recognised here and
anything else, including anything unusual about the window's own options, goes to
app.cli, which answers it exactly as before (errors and help included).
"""

from __future__ import annotations

# First, before any dataclass is made: the methods dataclasses write are compiled once and
# kept (app.codecache), a tenth of a command's start.
from app import codecache

codecache.install()

import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402

# The command line's exit codes (app.cli.registry), repeated here so that this module stays
# free of the parser: 1 refused, 130 stopped by Ctrl+C.
_EXIT_REFUSED = 1
_EXIT_STOPPED = 130
_VALUED = ("--data-dir", "--database-url")


@dataclass(frozen=True)
class WindowRequest:
    """The options of a start that asks for the window and nothing else."""

    data_dir: str | None = None
    database_url: str | None = None
    demo_if_empty: bool = False


def window_request(argv: Sequence[str]) -> WindowRequest | None:
    """``argv`` read as a request for the window alone, or None when the command line's
    parser must read it (a command, help, a mistake, an abbreviation, anything unusual).

    Accepts what ``casebook [--data-dir DIR] [--database-url URL] [--demo-if-empty] [gui]``
    accepts, with each option's value given once, as the parser would read it.
    """
    values: dict[str, str] = {}
    demo = False
    rest = list(argv)
    if rest and rest[-1] == "gui":
        rest.pop()
    position = 0
    while position < len(rest):
        arg = rest[position]
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return None  # the parser refuses it in one sentence
        name, equals, value = arg.partition("=")
        if arg == "--demo-if-empty":
            demo = True
        elif name in _VALUED and name not in values:
            if not equals:
                position += 1
                if position == len(rest):
                    return None
                value = rest[position]
                # The parser would take a value starting with '-' for an option.
                if value.startswith("-"):
                    return None
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return None
            values[name] = value
        else:
            return None
        position += 1
    return WindowRequest(values.get("--data-dir"), values.get("--database-url"), demo)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m app`` and of the windowed program."""
    args = sys.argv[1:] if argv is None else list(argv)
    request = window_request(args)
    if request is None:
        from app.cli import main as command_line

        # Given no arguments, the command line reads sys.argv itself and, as the whole
        # process, ends it once the command is done without tearing the interpreter down.
        return command_line(argv)
    return _open_window(request)


def _open_window(request: WindowRequest) -> int:
    """What app.cli does for the window, without reading the whole grammar first."""
    import logging

    from app.config import resolve_data_dir, resolve_database_url
    from app.domain.errors import CasebookError

    if os.name == "posix":
        # Everything this process creates is private to the account, as from the
        # command line: 0700 folders, 0600 files.
        os.umask(0o077)
    try:
        try:
            data_dir = resolve_data_dir(request.data_dir)
        except CasebookError as error:
            sys.stderr.write(f"casebook: {error.message}\n")
            return error.exit_code
        from app.ui.app import run_gui

        return run_gui(
            data_dir,
            demo_if_empty=request.demo_if_empty,
            database_url=resolve_database_url(request.database_url),
        )
    except KeyboardInterrupt:
        sys.stderr.write("casebook: stopped.\n")
        return _EXIT_STOPPED
    except Exception as error:  # the outermost edge: never show a traceback
        logging.getLogger("app.cli").exception("Unexpected failure")
        sys.stderr.write(
            f"casebook: the command could not be completed ({type(error).__name__}: {error}); "
            "details are in the log file in the data folder.\n"
        )
        return _EXIT_REFUSED
