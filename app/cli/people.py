"""``casebook person add``, ``casebook people``, ``casebook people import`` and
``casebook case link``: people for scripts and checks (issue 21)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.registry import EXIT_OK, command
from app.domain.errors import ValidationError
from app.domain.people import (
    PERSON_KIND_LABELS,
    ROLE_LABELS,
    PersonKind,
    parse_person_kind,
    parse_role,
)
from app.domain.records import Person, PersonDraft

if TYPE_CHECKING:
    from app.services.casebook import Services
    from app.services.people_import import ImportPreview


def register(commands: Any, case_commands: Any, typed: Any) -> None:
    """Add the people commands to the parser (``typed`` turns a parser into an argparse type)."""
    person = commands.add_parser("person", help="add a person (parent, carer, pupil, ...)")
    person_actions = person.add_subparsers(
        dest="person_command", parser_class=type(person), metavar="ACTION"
    )
    person_actions.required = True
    add = person_actions.add_parser("add", help="record a person and print their number")
    add.add_argument("--name", required=True, help="full name as it should be shown")
    add.add_argument("--title", default="", help="Mr, Mrs, Miss, Ms, Mx, Dr, ...")
    add.add_argument("--forenames", default="")
    add.add_argument("--surname", default="")
    add.add_argument(
        "--kind",
        type=typed(parse_person_kind),
        default=PersonKind.PARENT,
        help="who they are to the school: " + ", ".join(k.value for k in PersonKind),
    )
    add.add_argument(
        "--address-line",
        action="append",
        default=[],
        metavar="LINE",
        help="a line of the postal address (may be repeated, at most five)",
    )
    add.add_argument("--postcode", default="")
    add.add_argument("--email", default="")
    add.add_argument("--phone", default="")
    add.add_argument("--json", action="store_true", help="machine-readable output")

    people = commands.add_parser("people", help="list people, or import them from the MIS")
    people.add_argument("--search", default="", metavar="TEXT", help="names containing TEXT")
    people.add_argument("--json", action="store_true", help="machine-readable output")
    people_actions = people.add_subparsers(
        dest="people_command", parser_class=type(people), metavar="ACTION"
    )
    people_actions.required = False
    mis = people_actions.add_parser(
        "import", help="import pupils and contacts from a SIMS, Arbor or Bromcom CSV export"
    )
    mis.add_argument("file", metavar="FILE.csv")
    mis.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    mis.add_argument("--json", action="store_true", help="machine-readable output")

    link = case_commands.add_parser("link", help="link a person to a case in a role")
    link.add_argument("reference", metavar="REF")
    link.add_argument("--person", required=True, metavar="NAME-OR-ID")
    link.add_argument(
        "--role",
        required=True,
        type=typed(parse_role),
        help="their part in the case: author, reporter, subject, witness",
    )


def person_to_json(person: Person) -> dict[str, Any]:
    """Plain, stable field names for a person."""
    return {
        "id": person.id,
        "name": person.name,
        "title": person.title,
        "forenames": person.forenames,
        "surname": person.surname,
        "kind": person.kind.value,
        "address_lines": list(person.address_lines),
        "postcode": person.postcode,
        "email": person.email,
        "phone": person.phone,
        "relationship": person.relationship,
        "preferred_name": person.preferred_name,
        "year_group": person.year_group,
        "class": person.reg_group,
        "mis_id": person.mis_id,
        "parental_responsibility": person.parental_responsibility,
        "contact_priority": person.contact_priority,
        "court_order": person.court_order,
        "contact_restriction": person.contact_restriction,
        "salutation": person.salutation,
    }


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


@command("person add")
def _cmd_person_add(services: Services, args: argparse.Namespace) -> int:
    person = services.people.add_person(
        PersonDraft(
            name=args.name,
            kind=args.kind,
            title=args.title,
            forenames=args.forenames,
            surname=args.surname,
            address_lines=tuple(args.address_line),
            postcode=args.postcode,
            email=args.email,
            phone=args.phone,
        )
    )
    if args.json:
        _print_json(person_to_json(person))
    else:
        sys.stdout.write(f"{person.id}\n")
    return EXIT_OK


@command("people", read_only=True)
def _cmd_people(services: Services, args: argparse.Namespace) -> int:
    people = services.people.search_people(args.search, limit=1_000_000)
    if args.json:
        _print_json([person_to_json(p) for p in people])
        return EXIT_OK
    for p in people:
        kind = PERSON_KIND_LABELS[p.kind]
        extra = f"  {p.year_group} {p.reg_group}".rstrip() if p.kind is PersonKind.PUPIL else ""
        where = f"  {p.postcode}" if p.postcode else ""
        sys.stdout.write(f"{p.id:>6}  {p.name}  ({kind}){where}{extra}\n")
    sys.stdout.write(f"{len(people)} {'person' if len(people) == 1 else 'people'}\n")
    return EXIT_OK


def _preview_json(preview: ImportPreview, import_id: int | None, dry_run: bool) -> dict[str, Any]:
    return {
        "file": preview.file_name,
        "system": preview.system,
        "encoding": preview.encoding,
        "dry_run": dry_run,
        "import_id": import_id,
        "counts": preview.counts(),
        "review": [
            {
                "line": item.line,
                "name": item.name,
                "kind": item.kind.value,
                "postcode": item.postcode,
                "maybe_person_id": item.candidate_id,
                "maybe_name": item.candidate_name,
                "reason": item.reason,
            }
            for item in preview.review
        ],
        "ignored_columns": list(preview.ignored_columns),
    }


def _print_preview(preview: ImportPreview, written: bool, dry_run: bool) -> None:
    counts = preview.counts()
    lines = [
        f"{preview.file_name}: {preview.system} export ({preview.encoding}), "
        f"{counts['rows']} rows, {counts['pupils']} pupils, {counts['contacts']} contacts",
        f"  new: {counts['new']}   updated: {counts['updated']}   unchanged: "
        f"{counts['unchanged']}   to review: {counts['to_review']}   "
        f"new family links: {counts['links_new']}",
    ]
    for item in preview.review:
        lines.append(
            f"  review line {item.line}: {item.name} ({item.postcode or 'no postcode'}) may be "
            f"person {item.candidate_id}, {item.candidate_name} — {item.reason}"
        )
    if preview.review:
        lines.append(
            "  People to review are left out; decide on them on the import screen in the window."
        )
    if dry_run:
        lines.append("Nothing was written (dry run).")
    elif not written:
        lines.append("Nothing to change.")
    else:
        lines.append("Imported. It can be undone as a whole from the import screen.")
    sys.stdout.write("\n".join(lines) + "\n")


@command("people import")
def _cmd_people_import(services: Services, args: argparse.Namespace) -> int:
    path = Path(args.file).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"There is no file {args.file}.") from None
    except OSError as error:
        raise ValidationError(f"The file {args.file} cannot be read ({error.strerror}).") from None
    if args.dry_run:
        preview = services.people_import.preview(data, path.name)
        import_id = None
    else:
        result = services.people_import.import_file(data, path.name)
        preview, import_id = result.preview, result.import_id
    if args.json:
        _print_json(_preview_json(preview, import_id, args.dry_run))
    else:
        _print_preview(preview, import_id is not None, args.dry_run)
    return EXIT_OK


@command("case link")
def _cmd_case_link(services: Services, args: argparse.Namespace) -> int:
    case = services.cases.find_case(args.reference)
    person = services.people.find_person(args.person)
    services.cases.link_person(case.id, person.id, args.role)
    sys.stdout.write(f"{person.name} linked to {case.reference} as {ROLE_LABELS[args.role]}\n")
    return EXIT_OK
