"""Every sub-command the parser knows is registered once, with how ``run`` treats it."""

from __future__ import annotations

import argparse

from app.cli import COMMANDS, build_parser
from app.cli.registry import command_name

# Handled before any casebook is opened (the window, and file-level operations).
BEFORE_OPENING = {"gui", "screenshot", "encrypt", "restore"}


def _typed_commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                inner = _typed_commands(sub, full + " ")
                names |= inner or {full}
                if inner and not _actions_required(sub):
                    names.add(full)  # e.g. "people" lists; "people import" imports
    return names


def _actions_required(parser: argparse.ArgumentParser) -> bool:
    return any(isinstance(a, argparse._SubParsersAction) and a.required for a in parser._actions)


def test_every_command_the_parser_accepts_has_one_registry_entry() -> None:
    typed = _typed_commands(build_parser())
    assert typed - BEFORE_OPENING == set(COMMANDS)


def test_the_command_name_is_read_from_any_group() -> None:
    parser = build_parser()
    assert command_name(parser.parse_args(["users", "list"])) == "users list"
    assert command_name(parser.parse_args(["case", "show", "SM-2026-0001"])) == "case show"
    assert command_name(parser.parse_args([])) == "gui"


def test_reading_commands_are_marked_and_writing_ones_are_not() -> None:
    assert COMMANDS["case show"].read_only and COMMANDS["cases"].read_only
    assert not COMMANDS["case add"].read_only and not COMMANDS["letter"].read_only
    assert COMMANDS["init"].signs_in_itself and not COMMANDS["cases"].signs_in_itself


# Run in a fresh process: for each command, the command modules are forgotten and the
# registry is put back to what importing app.cli registers, then only that command's
# grammar is built, as `run` builds it.
ONE_COMMAND_AT_A_TIME = """
import json, sys
import app.cli as cli
from app.cli import build_parser
from app.cli.registry import COMMANDS
own = dict(COMMANDS)
modules = sorted(m for m in sys.modules if m.startswith("app.cli.") and m != "app.cli.registry")
missing = []
for name in json.loads(sys.argv[1]):
    for module in [m for m in sys.modules if m.startswith("app.cli.") and m != "app.cli.registry"]:
        del sys.modules[module]
        cli.__dict__.pop(module.rpartition(".")[2], None)
    COMMANDS.clear()
    COMMANDS.update(own)
    build_parser(name.split())
    if name not in COMMANDS:
        missing.append(name)
print(json.dumps({"imported with app.cli": modules, "missing": missing}))
"""


def test_the_grammar_built_for_one_command_registers_its_handler() -> None:
    """A command module (app.cli.mail, .people, ...) is imported only when the grammar has a
    command it adds to, so that a letter does not load the others; whichever command is
    asked for, its handler is registered by then, for `run` to find."""
    import json
    import subprocess
    import sys

    names = sorted(_typed_commands(build_parser()) - BEFORE_OPENING)
    done = subprocess.run(
        [sys.executable, "-c", ONE_COMMAND_AT_A_TIME, json.dumps(names)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found == {"imported with app.cli": [], "missing": []}
