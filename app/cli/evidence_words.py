"""``evidence read`` and ``evidence text``: the words in a case's evidence, from scripts.

``evidence read REF`` reads the pictures and PDFs still waiting (as the window does on its
worker) and says which exhibits name a pupil; ``evidence text REF NUMBER`` prints the words
read from one exhibit.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from app.cli.registry import EXIT_OK, command
from app.domain.errors import NotFoundError

if TYPE_CHECKING:
    from app.services.casebook import Services


def register(actions: Any) -> None:
    """Add ``read`` and ``text`` to the ``evidence`` group's actions."""
    read = actions.add_parser(
        "read", help="read the text in a case's new pictures and PDFs (OCR) and report names"
    )
    read.add_argument("reference", metavar="REF")
    words = actions.add_parser("text", help="print the text read from one exhibit")
    words.add_argument("reference", metavar="REF")
    words.add_argument("number", type=int, metavar="NUMBER", help="the exhibit number")


@command("evidence read")
def _cmd_evidence_read(services: Services, args: argparse.Namespace) -> int:
    case_id = services.cases.case_id_for(args.reference)
    read = services.reading.read_pending(case_id)
    noun = "exhibit" if len(read) == 1 else "exhibits"
    sys.stdout.write(f"Read the text of {len(read)} {noun}.\n")
    for exhibit in read:
        if exhibit.reading_note:
            sys.stdout.write(f"{exhibit.label}: {exhibit.reading_note}\n")
        if exhibit.protected_names:
            names = ", ".join(f"{name} ({kind})" for name, kind in exhibit.protected_names)
            warning = " A child may be identified." if exhibit.may_identify_child else ""
            sys.stdout.write(f"{exhibit.label} names {names}.{warning}\n")
    return EXIT_OK


@command("evidence text", read_only=True)
def _cmd_evidence_text(services: Services, args: argparse.Namespace) -> int:
    case_id = services.cases.case_id_for(args.reference)
    exhibit = next(
        (e for e in services.evidence.list_evidence(case_id) if e.number == args.number), None
    )
    if exhibit is None:
        raise NotFoundError(f"{args.reference} has no exhibit {args.number}.")
    words = services.reading.text_of(exhibit.id)
    sys.stdout.write(words + ("\n" if words and not words.endswith("\n") else ""))
    return EXIT_OK
