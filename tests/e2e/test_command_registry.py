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
