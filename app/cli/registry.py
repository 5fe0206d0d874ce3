"""One registry of the ``casebook`` sub-commands: each is described once, where it is written.

A command module decorates its handler with :func:`command`, naming the command as typed
(``"case show"``), whether it only reads (it may then run beside an open window, and does
not migrate a casebook it cannot lock), and whether it signs in itself (``init``,
``demo``, ``users reset-password``). :func:`app.cli.run` looks the command up here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services.casebook import Services

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

Handler = Callable[["Services", argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """How ``run`` treats one sub-command."""

    name: str
    handler: Handler
    read_only: bool = False
    signs_in_itself: bool = False
    # Work the command will need that reads no casebook (imports, fonts): done while the
    # password's key is derived on its own thread, instead of after signing in.
    before_sign_in: Callable[[argparse.Namespace], None] | None = None


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    *,
    read_only: bool = False,
    signs_in_itself: bool = False,
    before_sign_in: Callable[[argparse.Namespace], None] | None = None,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the sub-command ``name`` (e.g. ``"case show"``)."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"The command {name!r} is registered twice.")
        COMMANDS[name] = Command(name, handler, read_only, signs_in_itself, before_sign_in)
        return handler

    return register


def command_name(args: argparse.Namespace) -> str:
    """The command as typed, e.g. ``"users add"``, from parsed arguments.

    A group of commands (``case``, ``users``, ...) keeps its action in
    ``<group>_command``, with hyphens in the group's name as underscores.
    """
    top = getattr(args, "command", None) or "gui"
    action = getattr(args, f"{top.replace('-', '_')}_command", None)
    return f"{top} {action}" if action else top
