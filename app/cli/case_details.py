"""``casebook case set``: change what letters need to know about a case's post."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.cli.registry import EXIT_OK, EXIT_REFUSED, command
from app.domain.dates import parse_iso_datetime
from app.domain.errors import ValidationError
from app.domain.records import CaseDetail, CaseDraft

if TYPE_CHECKING:
    from app.services.casebook import Services

# Flag -> CaseDraft field, for the details a letter names (and a few plain ones).
SETTABLE = {
    "platform": "platform",
    "url": "post_url",
    "handle": "account_handle",
    "summary": "summary",
    "posted_at": "posted_at",
    "place": "post_place",
    "inaccurate": "inaccurate_text",
    "correct_facts": "correct_facts",
    "conduct": "barring_conduct",
}


def _posted_at(value: str) -> Any:
    try:
        return parse_iso_datetime(value, "posted-at")
    except ValidationError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def add_letter_detail_flags(parser: argparse.ArgumentParser) -> None:
    """The flags ``case add`` and ``case set`` share for what letters say about a post."""
    parser.add_argument("--place", metavar="TEXT", help="the group or page the post was made in")
    parser.add_argument(
        "--inaccurate", metavar="TEXT", help="what the post says that is not correct"
    )
    parser.add_argument(
        "--correct-facts", metavar="TEXT", help="the correct facts, as a correction letter states"
    )
    parser.add_argument(
        "--conduct",
        metavar="TEXT",
        help="what the person did at or towards the school (letters about access to the site)",
    )


def register(commands: Any, case_commands: Any) -> None:
    """Add ``case set`` to the ``case`` group."""
    del commands
    parser = case_commands.add_parser(
        "set", help="change a case's details (only the ones given; an empty value clears)"
    )
    parser.add_argument("reference", help="case reference, e.g. SM-2026-0001")
    parser.add_argument("--platform", metavar="P")
    parser.add_argument("--url", metavar="U")
    parser.add_argument("--handle", metavar="H", help="the account's handle or display name")
    parser.add_argument("--summary", metavar="TEXT")
    parser.add_argument(
        "--posted-at",
        type=_posted_at,
        metavar="ISO",
        help="when the post was made, e.g. 2026-11-24T14:05",
    )
    add_letter_detail_flags(parser)
    parser.add_argument("--json", action="store_true")


def draft_of(case: CaseDetail) -> CaseDraft:
    """The case's details as a draft, to change some of them."""
    return CaseDraft(
        title=case.title,
        categories=case.categories,
        summary=case.summary,
        platform=case.platform,
        post_url=case.post_url,
        account_handle=case.account_handle,
        posted_at=case.posted_at,
        reported_on=case.reported_on,
        reported_by=case.reported_by,
        follow_up_due=case.follow_up_due,
        post_place=case.post_place,
        inaccurate_text=case.inaccurate_text,
        correct_facts=case.correct_facts,
        barring_conduct=case.barring_conduct,
    )


@command("case set")
def _cmd_case_set(services: Services, args: argparse.Namespace) -> int:
    from app.cli import case_to_json

    changes = {
        field: getattr(args, flag)
        for flag, field in SETTABLE.items()
        if getattr(args, flag) is not None
    }
    if not changes:
        flags = ", ".join("--" + flag.replace("_", "-") for flag in SETTABLE)
        sys.stderr.write(f"casebook: nothing to change; give at least one of {flags}.\n")
        return EXIT_REFUSED
    case = services.cases.find_case(args.reference)
    saved = services.cases.update_case(
        case.id, replace(draft_of(case), **changes), expected_version=case.version
    )
    if args.json:
        import json

        sys.stdout.write(json.dumps(case_to_json(saved), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(f"{saved.reference} changed\n")
    return EXIT_OK
