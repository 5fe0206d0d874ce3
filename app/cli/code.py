"""``casebook code``: adopt a revised Code of Conduct and list the versions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.registry import EXIT_OK, EXIT_REFUSED, command
from app.domain.code_of_conduct import MAX_CODE_TEXT, parse_mapping
from app.domain.dates import format_short_date, parse_uk_or_iso_date
from app.domain.errors import ValidationError

if TYPE_CHECKING:
    from app.services.casebook import Services
    from app.services.code import CodeVersionInfo


def _typed(parse: Any) -> Any:
    def convert(value: str) -> Any:
        try:
            return parse(value)
        except ValidationError as error:
            raise argparse.ArgumentTypeError(error.message) from None

    return convert


def register(commands: Any, case_commands: Any) -> None:
    """Add ``code adopt`` and ``code list``."""
    del case_commands
    code = commands.add_parser("code", help="the versions of the Code of Conduct")
    actions = code.add_subparsers(dest="code_command", parser_class=type(code), metavar="ACTION")
    actions.required = True
    adopt = actions.add_parser(
        "adopt", help="adopt a revised Code from its text (head teacher only)"
    )
    adopt.add_argument("file", metavar="FILE", help="the revised Code as text (or JSON)")
    adopt.add_argument(
        "--effective",
        required=True,
        type=_typed(lambda v: parse_uk_or_iso_date(v, "effective")),
        metavar="DATE",
        help="the day it takes effect, e.g. 2027-01-04",
    )
    adopt.add_argument(
        "--version",
        dest="code_version",
        metavar="V",
        help="its version number (default: the next, e.g. 1.1)",
    )
    adopt.add_argument(
        "--map",
        type=_typed(parse_mapping),
        metavar="N=STANDARD,...",
        help="which standard each numbered clause is, e.g. 1=abusive,2=report,3=procedure,"
        "4=inaccurate,5=safeguarding (default: in that order)",
    )
    adopt.add_argument("--json", action="store_true")
    listing = actions.add_parser("list", help="every version, and which is in force")
    listing.add_argument("--json", action="store_true")


def _info_json(info: CodeVersionInfo) -> dict[str, Any]:
    return {
        "version": info.version,
        "title": info.title,
        "effective_on": info.effective_on.isoformat(),
        "in_force": info.in_force,
        "adopted_by": info.adopted_by,
        "source": info.source_name,
        "standards": {str(number): sid for number, sid in info.standards},
    }


def _next_version(services: Services) -> str:
    newest = services.code.versions()[-1].version
    major, _, minor = newest.partition(".")
    return f"{major}.{int(minor.split('.')[0] or 0) + 1}"


@command("code adopt")
def _cmd_code_adopt(services: Services, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        size = path.stat().st_size
        if size > MAX_CODE_TEXT * 4:
            raise ValidationError(f"{path.name} is too large to be a Code of Conduct.")
        text = path.read_bytes().decode("utf-8")
    except OSError:
        sys.stderr.write(f"casebook: cannot read {args.file}.\n")
        return EXIT_REFUSED
    except UnicodeDecodeError:
        sys.stderr.write(f"casebook: {path.name} is not UTF-8 text; save it as UTF-8 first.\n")
        return EXIT_REFUSED
    version = args.code_version or _next_version(services)
    info = services.code.adopt(text, path.name, version, args.effective, args.map)
    if args.json:
        sys.stdout.write(json.dumps(_info_json(info), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(
            f"Version {info.version} of the Code adopted; in force from "
            f"{format_short_date(info.effective_on)}.\n"
        )
    return EXIT_OK


@command("code list", read_only=True)
def _cmd_code_list(services: Services, args: argparse.Namespace) -> int:
    versions = services.code.versions()
    if args.json:
        sys.stdout.write(
            json.dumps([_info_json(v) for v in versions], ensure_ascii=False, indent=2) + "\n"
        )
        return EXIT_OK
    for v in versions:
        mark = "  (in force)" if v.in_force else ""
        who = f", adopted by {v.adopted_by}" if v.adopted_by else ", shipped with the app"
        sys.stdout.write(f"{v.version:<6} from {format_short_date(v.effective_on)}{who}{mark}\n")
    return EXIT_OK
