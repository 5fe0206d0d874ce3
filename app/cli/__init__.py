"""The ``casebook`` command: the window by default, sub-commands for scripts.

Exit codes (a contract schools' scripts rely on):
0 done; 1 refused (bad value, unknown reference, unusable data folder);
2 bad arguments; 3 the data folder is open in another copy of the app.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from app import __version__
from app.cli.registry import (
    COMMANDS,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    command,
    command_name,
)
from app.config import (
    ENV_USER,
    DataDirLock,
    prepare_data_dir,
    resolve_data_dir,
    resolve_database_url,
    set_up_shared_folder,
    setup_logging,
)
from app.domain.categories import CATEGORY_INFO, Category, parse_category
from app.domain.dates import (
    format_date_time,
    format_short_date,
    london_today,
    parse_iso_datetime,
)
from app.domain.errors import BackupError, CasebookError, SignInError, ValidationError
from app.domain.people import PERSON_KIND_LABELS, ROLE_LABELS
from app.domain.records import CaseDetail, CaseDraft, CaseFilter, CaseSort
from app.domain.status import STATUS_LABELS, parse_status
from app.files import file_name_problem, save_user_file

if TYPE_CHECKING:
    # The services (SQLAlchemy, the models, reportlab...) are imported by the command that
    # runs, not by this module: parsing the arguments and starting the window must not pay
    # for them, and a letter from the command line is timed whole process.
    from app.security.crypto import DerivationAhead
    from app.services.casebook import Services

log = logging.getLogger("app.cli")

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "command", "main", "run"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"casebook: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(value: str) -> Any:
        try:
            return parse(value)
        except ValidationError as error:
            raise argparse.ArgumentTypeError(error.message) from None

    return convert


class _Sink:
    """Stands for the parsers of the commands not asked for: every call is accepted and
    builds nothing."""

    def __getattr__(self, name: str) -> Any:
        return self._accept

    def __setattr__(self, name: str, value: Any) -> None:
        pass

    def __getitem__(self, key: Any) -> Any:
        return self

    def _accept(self, *args: Any, **kwargs: Any) -> Any:
        return self


_SINK = _Sink()


class _OnlyCommand:
    """The sub-commands, as the functions that register them see them, when the command line
    names one: only that command's parser (with its own sub-commands) is built. Building all
    eighty took a tenth of a second of every command; what is parsed is the same."""

    def __init__(self, every: Any, wanted: str) -> None:
        self._every = every
        self._wanted = wanted
        self.found = False
        self.choices = self

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name != self._wanted:
            return _SINK
        self.found = True
        return self._every.add_parser(name, **kwargs)

    def __getitem__(self, name: str) -> Any:
        return self._every.choices.get(name, _SINK)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._every, name)


# The options given before the command, and whether each takes a value.
_MAIN_OPTIONS = {
    "--data-dir": True,
    "--database-url": True,
    "--demo-if-empty": False,
    "--help": False,
    "--version": False,
}


def _command_word(argv: Sequence[str]) -> str | None:
    """The command the arguments name, read as argparse reads them (long options may be
    shortened); None where only the whole grammar answers: no command, a help or version
    request before it, or anything argparse would refuse."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if not token.startswith("-"):
            return token
        name, has_value, _ = token.partition("=")
        matches = [option for option in _MAIN_OPTIONS if option.startswith(name)]
        if not name.startswith("--") or len(matches) != 1 or matches[0] in ("--help", "--version"):
            return None
        if _MAIN_OPTIONS[matches[0]] and not has_value:
            index += 1
        index += 1
    return None


def _builds(wanted: str | None, *names: str) -> bool:
    """Whether the grammar being built (the whole of it when ``wanted`` is None) has any of
    the commands ``names``.

    Each command module (app.cli.mail, .people, ...) is imported, which registers its
    handlers, only when the grammar has a command it adds to or adds flags to: a command
    leaves the other modules, and what they import, out of its process (a letter from the
    command line is timed whole process).
    """
    return wanted is None or wanted in names


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command-line grammar: the whole of it, or, given the arguments, as much of it as
    parsing them needs (the main options and the command they name)."""
    wanted = _command_word(argv) if argv is not None else None
    parser = _Parser(
        prog="casebook",
        description="Conduct Casebook: records of social media posts that breach the "
        "school's Code of Conduct. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"casebook {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="data folder (else CASEBOOK_DATA_DIR)")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="a casebook shared by several PCs on PostgreSQL, e.g. "
        "postgresql+psycopg://user:password@server/casebook (else CASEBOOK_DATABASE_URL)",
    )
    parser.add_argument(
        "--demo-if-empty",
        action="store_true",
        help="when the casebook is empty, fill it with fictional demonstration cases first",
    )
    every = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    only = _OnlyCommand(every, wanted) if wanted is not None else None
    commands: Any = only or every

    commands.add_parser("gui", help="open the window (the default)")
    commands.add_parser("demo", help="fill an empty casebook with fictional demonstration cases")

    cases = commands.add_parser("cases", help="list cases")
    cases.add_argument("--json", action="store_true", help="machine-readable output")
    cases.add_argument(
        "--status",
        type=_typed(parse_status),
        action="append",
        default=[],
        help="only cases with this status (may be repeated)",
    )
    cases.add_argument(
        "--category",
        type=_typed(parse_category),
        help="only cases breaching this standard: " + ", ".join(c.value for c in Category),
    )
    cases.add_argument(
        "--overdue", action="store_true", help="only cases past their follow-up date"
    )
    cases.add_argument("--search", default="", help="only cases whose text contains these words")
    cases.add_argument(
        "--frequent-authors",
        action="store_true",
        help="only cases whose author is the author of another case too",
    )
    cases.add_argument(
        "--in-evidence", action="store_true", help="look for the --search words only in evidence"
    )
    cases.add_argument("--csv", metavar="FILE", help="save the list as CSV instead of printing it")

    case = commands.add_parser("case", help="add or show one case")
    case_commands = case.add_subparsers(dest="case_command", parser_class=_Parser, metavar="ACTION")
    case_commands.required = True
    add = case_commands.add_parser("add", help="open a new case and print its reference")
    add.add_argument("--title", required=True)
    add.add_argument(
        "--category",
        type=_typed(parse_category),
        action="append",
        required=True,
        help="standard breached, may be repeated: " + ", ".join(c.value for c in Category),
    )
    add.add_argument("--platform", default="")
    add.add_argument("--url", default="")
    add.add_argument("--handle", default="", help="the account's handle or display name")
    add.add_argument("--summary", default="")
    add.add_argument(
        "--posted-by",
        default="",
        metavar="NAME",
        help="author of the post: matched to a known person by name, else created",
    )
    add.add_argument(
        "--posted-at",
        type=_typed(lambda v: parse_iso_datetime(v, "posted-at")),
        metavar="ISO",
        help="when the post was made, e.g. 2026-11-24T14:05",
    )
    if _builds(wanted, "case"):
        from app.cli.case_details import add_letter_detail_flags

        add_letter_detail_flags(add)
    add.add_argument("--json", action="store_true")
    show = case_commands.add_parser("show", help="show one case")
    show.add_argument("reference")
    show.add_argument("--json", action="store_true")

    _register_evidence(commands, wanted)

    shot = commands.add_parser("screenshot", help="save a picture of the window (1280×800)")
    shot.add_argument("--out", required=True, metavar="FILE.png")
    shot.add_argument("--case", metavar="REF", help="open this case first")
    shot.add_argument(
        "--tab",
        metavar="NAME",
        help="case tab to show: details, people, chronology, evidence, letters",
    )
    _register_letters(commands)
    if _builds(wanted, "letter-sent", "letter"):
        from app.cli import letter_sent

        letter_sent.register(commands)
    if _builds(wanted, "case"):
        from app.cli.letter_sent import register_step

        register_step(case_commands)
    _register_workflow(commands)
    _register_security(commands)
    _register_backups(commands)
    _register_retention(commands, case_commands)
    if _builds(wanted, "letter", "send", "mail", "remind"):
        from app.cli import mail

        mail.register(commands, case_commands)
    if _builds(wanted, "case"):
        from app.cli import case_details

        case_details.register(commands, case_commands)
    if _builds(wanted, "code"):
        from app.cli import code

        code.register(commands, case_commands)
    if _builds(wanted, "today", "case"):
        from app.cli import workflow_commands

        workflow_commands.register(commands, case_commands, _typed)
    if _builds(wanted, "person", "people", "case"):
        from app.cli import people

        people.register(commands, case_commands, _typed)
    if only is not None and not only.found:
        return build_parser()  # not a command: argparse says so, naming them all
    return parser


def _register_workflow(commands: Any) -> None:
    export = commands.add_parser("export", help="save a case's file (bundle) as PDF")
    export.add_argument("reference", help="case reference, e.g. SM-2026-0001")
    export.add_argument("--out", required=True, metavar="FILE", help="PDF file to write")
    export.add_argument(
        "--redacted",
        action="store_true",
        help="copy for the post's author (the same as --for author)",
    )
    export.add_argument(
        "--for",
        dest="recipient",
        metavar="RECIPIENT",
        help="a copy for one recipient under its rule: author, lado, police or platform",
    )
    report = commands.add_parser("report", help="save the governors' report for a period")
    report.add_argument("--from", dest="start", required=True, type=_typed(_report_date))
    report.add_argument("--to", dest="end", required=True, type=_typed(_report_date))
    report.add_argument("--out", required=True, metavar="FILE", help="PDF file to write")
    report.add_argument("--csv", metavar="FILE", help="also save the figures as CSV")
    report.add_argument(
        "--threshold",
        type=int,
        metavar="N",
        help="hide counts below N as 'fewer than N' (default: the school's setting, 3)",
    )


def _report_date(value: str) -> date:
    from app.domain.dates import parse_uk_or_iso_date

    return parse_uk_or_iso_date(value, "date")


@command("export")
def _cmd_export(services: Services, args: argparse.Namespace) -> int:
    _check_writable(args.out)
    from app.domain.sharing import RULES, Recipient, parse_recipient

    recipient = parse_recipient(args.recipient) if args.recipient else None
    if args.redacted and recipient not in (None, Recipient.AUTHOR):
        raise ValidationError("--redacted is the copy for the author; use --for alone instead.")
    if args.redacted:
        recipient = Recipient.AUTHOR
    case = services.cases.find_case(args.reference)
    pdf = services.operations.export_case_file(case.id, recipient=recipient).value
    _write_output(args.out, pdf)
    kind = f"copy for {RULES[recipient].label}" if recipient else "case file"
    sys.stdout.write(f"Saved the {kind} of {case.reference} to {args.out}\n")
    return EXIT_OK


@command("report", read_only=True)
def _cmd_report(services: Services, args: argparse.Namespace) -> int:
    _check_writable(args.out)
    if args.csv:
        _check_writable(args.csv)
    report = services.reports.governors_report(args.start, args.end, args.threshold)
    _write_output(args.out, services.reports.governors_pdf(report))
    if args.csv:
        _write_output(args.csv, services.reports.governors_csv(report).encode("utf-8-sig"))
    sys.stdout.write(
        f"Saved the governors' report ({report.case_count} cases; counts below "
        f"{report.threshold} hidden) to {args.out}\n"
    )
    return EXIT_OK


def _register_evidence(commands: Any, wanted: str | None) -> None:
    evidence = commands.add_parser("evidence", help="add, list and verify a case's evidence")
    actions = evidence.add_subparsers(
        dest="evidence_command", parser_class=_Parser, metavar="ACTION"
    )
    actions.required = True
    add = actions.add_parser("add", help="add files to a case and print the new exhibit ids")
    add.add_argument("reference", metavar="REF")
    add.add_argument("files", nargs="+", metavar="FILE")
    add.add_argument("--url", default="", help="address of the post")
    add.add_argument(
        "--posted-at",
        type=_typed(lambda v: parse_iso_datetime(v, "posted-at")),
        metavar="ISO",
        help="when the post was made, e.g. 2026-11-24T14:05",
    )
    add.add_argument(
        "--captured-at",
        type=_typed(lambda v: parse_iso_datetime(v, "captured-at")),
        metavar="ISO",
        help="when the screenshot or photo was taken",
    )
    add.add_argument("--captured-by", default="", metavar="NAME")
    add.add_argument("--source", default="", help="who sent it and how")
    add.add_argument("--note", default="")
    listing = actions.add_parser("list", help="list a case's exhibits")
    listing.add_argument("reference", metavar="REF")
    listing.add_argument("--json", action="store_true")
    verify = actions.add_parser(
        "verify", help="re-hash stored evidence (one case, or all) and report changes"
    )
    verify.add_argument("reference", metavar="REF", nargs="?")
    if _builds(wanted, "evidence"):
        from app.cli import evidence_words

        evidence_words.register(actions)


# ----- output ---------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_to_json(case: CaseDetail) -> dict[str, Any]:
    """Plain, stable field names for ``case show --json``."""
    return {
        "reference": case.reference,
        "title": case.title,
        "summary": case.summary,
        "platform": case.platform,
        "post_url": case.post_url,
        "account_handle": case.account_handle,
        "posted_at": _iso(case.posted_at),
        "reported_on": _iso(case.reported_on),
        "reported_by": case.reported_by,
        "categories": sorted(c.value for c in case.categories),
        "status": case.status.value,
        "status_label": STATUS_LABELS[case.status],
        "follow_up_due": _iso(case.follow_up_due),
        "overdue": case.overdue,
        "code_version": case.code_version,
        "post_place": case.post_place,
        "inaccurate_text": case.inaccurate_text,
        "correct_facts": case.correct_facts,
        "barring_conduct": case.barring_conduct,
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "last_activity_at": _iso(case.last_activity_at),
        "people": [
            {
                "name": link.person.name,
                "role": link.role.value,
                "kind": link.person.kind.value,
                "address_lines": list(link.person.address_lines),
                "postcode": link.person.postcode,
                "email": link.person.email,
                "phone": link.person.phone,
                "relationship": link.person.relationship,
            }
            for link in case.people
        ],
        "events": [
            {"at": _iso(e.at), "actor": e.actor, "kind": e.kind, "summary": e.summary}
            for e in case.events
        ],
    }


def _count(number: int, noun: str) -> str:
    """'1 case', '3 cases': the closing line of a listing."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _print_case(case: CaseDetail) -> None:
    lines = [
        f"{case.reference}  {case.title}",
        f"Status:        {STATUS_LABELS[case.status]}" + ("  (OVERDUE)" if case.overdue else ""),
        "Standards:     " + "; ".join(CATEGORY_INFO[c].label for c in sorted(case.categories)),
        f"Platform:      {case.platform}",
        f"Post address:  {case.post_url}",
        f"Account:       {case.account_handle}",
        f"Posted:        {format_date_time(case.posted_at)}",
        f"Reported:      {format_short_date(case.reported_on)}"
        + (f" by {case.reported_by}" if case.reported_by else ""),
        f"Follow up by:  {format_short_date(case.follow_up_due)}",
    ]
    if case.summary:
        lines += ["", case.summary]
    if case.people:
        lines += ["", "People:"]
        for link in case.people:
            lines.append(
                f"  {link.person.name} — {ROLE_LABELS[link.role]} "
                f"({PERSON_KIND_LABELS[link.person.kind].lower()})"
            )
    lines += ["", "Chronology:"]
    for event in case.events:
        lines.append(f"  {format_date_time(event.at)}  {event.actor}: {event.summary}")
    sys.stdout.write("\n".join(lines) + "\n")


# ----- commands ---------------------------------------------------------------------


@command("cases", read_only=True)
def _cmd_cases(services: Services, args: argparse.Namespace) -> int:
    flt = CaseFilter(
        text=args.search,
        statuses=frozenset(args.status),
        category=args.category,
        overdue_only=args.overdue,
        repeat_authors_only=args.frequent_authors,
        in_evidence=args.in_evidence,
    )
    if args.csv:
        _check_writable(args.csv)
        data = services.reports.cases_csv(flt, CaseSort("reference", False))
        _write_output(args.csv, data.encode("utf-8-sig"))
        return EXIT_OK
    rows = services.cases.list_cases(flt, CaseSort("reference", False), 0, 10_000_000)
    if args.json:
        from app.services.cases import describe_row_for_export

        _print_json([describe_row_for_export(r) for r in rows])
        return EXIT_OK
    for r in rows:
        categories = ",".join(sorted(c.value for c in r.categories))
        due = format_short_date(r.follow_up_due)
        flag = " OVERDUE" if r.overdue else ""
        sys.stdout.write(
            f"{r.reference}  {STATUS_LABELS[r.status]:<22} {due:<10} {categories:<24} "
            f"{r.title}{flag}\n"
        )
    sys.stdout.write(f"{_count(len(rows), 'case')}\n")
    return EXIT_OK


@command("case add")
def _cmd_case_add(services: Services, args: argparse.Namespace) -> int:
    draft = CaseDraft(
        title=args.title,
        categories=frozenset(args.category),
        summary=args.summary,
        platform=args.platform,
        post_url=args.url,
        account_handle=args.handle,
        posted_at=args.posted_at,
        post_place=args.place or "",
        inaccurate_text=args.inaccurate or "",
        correct_facts=args.correct_facts or "",
        barring_conduct=args.conduct or "",
    )
    # One command opens the case with its author: an ambiguous name saves nothing.
    case = services.operations.open_case(draft, author=args.posted_by).value
    if args.json:
        _print_json(case_to_json(case))
    else:
        sys.stdout.write(case.reference + "\n")
    return EXIT_OK


@command("case show", read_only=True)
def _cmd_case_show(services: Services, args: argparse.Namespace) -> int:
    case = services.cases.find_case(args.reference)
    if args.json:
        from app.cli.workflow_commands import workflow_json

        _print_json(case_to_json(case) | workflow_json(services, case))
    else:
        _print_case(case)
    return EXIT_OK


@command("demo", signs_in_itself=True)
def _cmd_demo(services: Services, _args: argparse.Namespace) -> int:
    from app.services.demo import check_demo_allowed, create_demo

    note = ""
    if not services.users.has_users():
        # Refuse before creating anyone, so a refusal leaves the casebook as it was.
        check_demo_allowed(services)
        name = os.environ.get(ENV_USER, "").strip() or "head"
        password = os.environ.get(ENV_PASSWORD) or "demo"
        services.users.create_first_user(name, password, check_strength=False)
        source = f"from {ENV_PASSWORD}" if os.environ.get(ENV_PASSWORD) else "'demo'"
        note = f"Sign in as {name} with the password {source} (fictional data only).\n"
    else:
        sign_in(services)
    count = create_demo(services)
    sys.stdout.write(f"Created {count} fictional demonstration cases in {services.paths.root}\n")
    sys.stdout.write(note)
    return EXIT_OK


# ----- letters (issue #5) -------------------------------------------------------------


def _register_letters(commands: Any) -> None:
    from app.domain.letters import (
        LetterKind,
        Procedure,
        SendMethod,
        parse_letter_kind,
        parse_procedure,
        parse_send_method,
    )

    letter = commands.add_parser("letter", help="issue a letter on a case and save it as PDF")
    letter.add_argument("reference", metavar="REF")
    letter.add_argument(
        "--kind",
        required=True,
        type=_typed(parse_letter_kind),
        help="kind of letter: " + ", ".join(k.value for k in LetterKind),
    )
    letter.add_argument("--to", metavar="PERSON", help="recipient's name (else the usual one)")
    letter.add_argument("--out", metavar="FILE.pdf", help="required unless --email")
    letter.add_argument("--docx", metavar="FILE.docx", help="also save an editable Word copy")
    letter.add_argument(
        "--method",
        type=_typed(parse_send_method),
        default=None,
        help="how it is sent: " + ", ".join(m.value for m in SendMethod) + " (default: post, "
        "or email with --email)",
    )
    letter.add_argument(
        "--procedure",
        type=_typed(parse_procedure),
        help="for procedure letters: " + ", ".join(p.value for p in Procedure),
    )
    letter.add_argument(
        "--confirm-restriction",
        action="store_true",
        help="issue it even though the recipient has no parental responsibility, or has a "
        "court order or contact restriction recorded",
    )
    letters = commands.add_parser("letters", help="list the letters issued on a case")
    letters.add_argument("reference", metavar="REF")
    letters.add_argument("--json", action="store_true")
    templates = commands.add_parser("templates", help="list the kinds of letter and versions")
    templates.add_argument("--json", action="store_true")
    guidance = commands.add_parser("guidance", help="save the parent guidance leaflet as PDF")
    guidance.add_argument("--out", required=True, metavar="FILE.pdf")
    guidance.add_argument(
        "--a5-booklet", action="store_true", help="A5 pages on A4 sheets, to fold into a booklet"
    )


def _write_output(path: str, data: bytes) -> None:
    try:
        save_user_file(Path(path), data)
    except OSError as error:
        raise ValidationError(f"The file {path} cannot be written ({error.strerror}).") from None


def _check_writable(path: str | None) -> None:
    if path and not Path(path).expanduser().absolute().parent.is_dir():
        raise ValidationError(f"The folder for {path} does not exist.")
    problem = file_name_problem(Path(path).name) if path else None
    if problem is not None:
        raise ValidationError(problem)


def _ready_to_draw(args: argparse.Namespace) -> None:
    from app.services.letters import ready_to_draw

    ready_to_draw(args.kind)


@command("letter", before_sign_in=_ready_to_draw)
def _cmd_letter(services: Services, args: argparse.Namespace) -> int:
    from app.domain.letters import SendMethod

    # Everything is checked and rendered before anything is recorded.
    if not args.out and not args.email:
        sys.stderr.write("casebook: the following arguments are required: --out\n")
        return EXIT_USAGE
    _check_writable(args.out)
    _check_writable(args.docx)
    from app.cli.letter_sent import explain_refusal, letter_options
    from app.domain.errors import ConfirmationNeeded

    # Only the letter's preparation records the case as viewed: one entry, as for the window.
    case_id = services.cases.case_id_for(args.reference)
    person_id = services.letters.find_recipient(case_id, args.to).id if args.to else None
    # Unless told otherwise, a letter sent with --email is recorded as going by email.
    method = args.method or (SendMethod.EMAIL if args.email else SendMethod.POST)
    options = letter_options(args)
    try:
        services.letters.check_issue(
            case_id,
            args.kind,
            person_id,
            confirm_recipient=options["confirm_recipient"],
            confirm_kind=options["confirm_kind"],
            confirm_post_details=True,  # asked below, once nothing refuses the letter outright
        )
    except ConfirmationNeeded as error:
        raise explain_refusal(error) from None
    prepared = services.letters.prepare(
        case_id,
        args.kind,
        person_id,
        method,
        args.procedure,
        paragraph=options["paragraph"],
    )
    if not options["confirm_post_details"]:
        question = services.letters.post_details_question(case_id, args.kind)
        if question is not None:
            raise explain_refusal(question)
    if prepared.restriction and not args.confirm_restriction:
        raise ValidationError(
            f"{prepared.restriction} Add --confirm-restriction to issue the letter all the same."
        )
    for warning in prepared.warnings:
        sys.stderr.write(f"casebook: warning: {warning}\n")
    if args.email:
        from app.cli.mail import check_ready_to_email

        check_ready_to_email(services, prepared.recipient, args.cc_office)
    issued = services.letters.issue(
        case_id,
        args.kind,
        person_id,
        method,
        args.procedure,
        prepared=prepared,
        confirm_restriction=args.confirm_restriction,
        **options,
    )
    if args.out:
        _write_output(args.out, services.letters.letter_pdf(issued.id))
    if args.docx:
        _write_output(args.docx, services.letters.letter_docx(issued.id))
    saved = f"; saved {args.out}" if args.out else ""
    sys.stdout.write(
        f"{issued.label} to {issued.recipient_name} recorded on {issued.case_reference}{saved}\n"
    )
    if args.email:
        from app.cli.mail import email_issued_letter

        return email_issued_letter(services, issued.id, args)
    return EXIT_OK


@command("letters", read_only=True)
def _cmd_letters(services: Services, args: argparse.Namespace) -> int:
    case = services.cases.find_case(args.reference)
    rows = services.letters.list_letters(case.id)
    if args.json:
        _print_json(
            [
                {
                    "id": r.id,
                    "kind": r.kind.value,
                    "label": r.label,
                    "template_version": r.template_version,
                    "code_version": r.code_version,
                    "recipient": r.recipient_name,
                    "subject": r.subject,
                    "date": r.letter_date.isoformat(),
                    "method": r.method.value,
                    "pdf_sha256": r.pdf_sha256,
                    "issued_at": _iso(r.issued_at),
                    "issued_by": r.issued_by,
                    "state": "sent" if r.is_sent else "prepared",
                    "sent_on": _iso(r.sent_on),
                    "sent_method": r.sent_method.value if r.sent_method else None,
                    "reply_by": _iso(r.reply_by),
                }
                for r in rows
            ]
        )
        return EXIT_OK
    for r in rows:
        state = f"sent {format_short_date(r.sent_on)}" if r.sent_on else "prepared"
        sys.stdout.write(
            f"{r.id:>4}  {format_short_date(r.letter_date)}  {r.kind.value:<16} "
            f"{r.method.value:<6} {state:<15} {r.recipient_name}  ({r.template_version})\n"
        )
    sys.stdout.write(f"{_count(len(rows), 'letter')}\n")
    return EXIT_OK


@command("templates", read_only=True)
def _cmd_templates(services: Services, args: argparse.Namespace) -> int:
    infos = services.letters.templates()
    if args.json:
        _print_json(
            [
                {
                    "kind": t.kind.value,
                    "label": t.label,
                    "version": t.version,
                    "default": t.is_default,
                    "standard": t.standard_number,
                }
                for t in infos
            ]
        )
        return EXIT_OK
    for t in infos:
        sys.stdout.write(f"{t.kind.value:<16} {t.version:<11} {t.label}\n")
    return EXIT_OK


@command("guidance", read_only=True)
def _cmd_guidance(services: Services, args: argparse.Namespace) -> int:
    _check_writable(args.out)
    pdf, warnings = services.letters.guidance_pdf(a5_booklet=args.a5_booklet)
    for warning in warnings:
        sys.stderr.write(f"casebook: warning: {warning}\n")
    _write_output(args.out, pdf)
    sys.stdout.write(f"Saved the guidance leaflet to {args.out}\n")
    if args.a5_booklet:
        from app.services.letters import BOOKLET_PRINTING

        sys.stdout.write(BOOKLET_PRINTING + "\n")
    return EXIT_OK


@command("evidence add")
def _cmd_evidence_add(services: Services, args: argparse.Namespace) -> int:
    from app.domain.evidence import EvidenceDetails

    case_id = services.cases.case_id_for(args.reference)
    details = EvidenceDetails(
        captured_at=args.captured_at,
        captured_by=args.captured_by,
        source=args.source,
        post_url=args.url,
        posted_at=args.posted_at,
        note=args.note,
    )
    paths = [Path(f) for f in args.files]
    results = services.operations.add_evidence(case_id, paths, details).value
    for result in results:
        sys.stdout.write(f"{result.exhibit.id}\n")
        if result.duplicate:
            sys.stderr.write(
                f"casebook: {result.exhibit.original_name} is already on this case as "
                f"{result.exhibit.label} (same SHA-256); it was not added again.\n"
            )
    return EXIT_OK


@command("evidence list", read_only=True)
def _cmd_evidence_list(services: Services, args: argparse.Namespace) -> int:
    case_id = services.cases.case_id_for(args.reference)
    exhibits = services.evidence.list_evidence(case_id, include_copies=True)
    if args.json:
        from app.services.evidence import describe_exhibit

        _print_json([describe_exhibit(e) for e in exhibits])
        return EXIT_OK
    for e in exhibits:
        shape = (
            f"{e.width}×{e.height}" if e.width else (f"{e.page_count} pp" if e.page_count else "")
        )
        gps = "  GPS LOCATION" if e.has_location else ""
        sys.stdout.write(
            f"{e.id:>5}  {e.label:<34} {e.content_type:<28} {shape:<11} "
            f"{e.sha256[:12]}  {e.original_name}{gps}\n"
        )
    sys.stdout.write(f"{_count(len(exhibits), 'item')}\n")
    return EXIT_OK


@command("evidence verify", read_only=True)
def _cmd_evidence_verify(services: Services, args: argparse.Namespace) -> int:
    case_id = services.cases.case_id_for(args.reference) if args.reference else None
    report = services.evidence.verify(case_id)
    stream = sys.stdout if report.ok else sys.stderr
    for line in report.sentences():
        stream.write(("" if report.ok else "casebook: ") + line + "\n")
    return EXIT_OK if report.ok else EXIT_REFUSED


# ----- sign-in, users and the audit trail (issue #7) ------------------------------------

ENV_PASSWORD = "CASEBOOK_PASSWORD"
ENV_NEW_PASSWORD = "CASEBOOK_NEW_PASSWORD"
ENV_RECOVERY_KEY = "CASEBOOK_RECOVERY_KEY"


def read_secret(env_name: str, prompt: str, *, confirm: bool = False) -> str:
    """A password from the environment, else typed without echo at a terminal, else refused."""
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin.isatty():
        raise SignInError(
            f"No password was given: set {env_name}, or run the command in a terminal to type it."
        )
    import getpass  # only to type a password: see app.config.current_user

    typed = getpass.getpass(prompt)
    if confirm and getpass.getpass("Type it again: ") != typed:
        raise ValidationError("The two passwords typed do not match; nothing was changed.")
    return typed


def derive_ahead(keyring_path: Path) -> DerivationAhead | None:
    """Start Argon2id on the password from the environment, before the casebook is opened.

    A command signs in once the services are imported and the database is ready; the
    derivation, which the interpreter does not wait on, runs meanwhile. Only the password
    set in the environment is used (a typed one is asked for where it always was), and only
    for the account :func:`sign_in` will choose. Anything unexpected (no keyring, no such
    user, a locked account, a damaged entry) starts nothing: signing in then says what is
    wrong, as before.
    """
    password = os.environ.get(ENV_PASSWORD)
    if not password:
        return None
    from app.services.keys import derivation_ahead

    return derivation_ahead(keyring_path, password, os.environ.get(ENV_USER, "").strip())


def sign_in(services: Services) -> None:
    """Sign the command in: CASEBOOK_USER (else the only user, else 'head') and password."""
    if not services.users.has_users():
        raise SignInError("This casebook has no users yet; set it up first with 'casebook init'.")
    name = os.environ.get(ENV_USER, "").strip() or services.users.only_user_name() or "head"
    services.users.sign_in(name, read_secret(ENV_PASSWORD, f"Password for {name}: "))


def _register_security(commands: Any) -> None:
    from app.domain.access import Role, parse_role

    init = commands.add_parser("init", help="set up a new casebook with its first user")
    init.add_argument("--user", default="head", metavar="NAME", help="user name (else head)")
    init.add_argument(
        "--shared-with",
        action="append",
        default=[],
        metavar="ACCOUNT",
        help="Windows: keep the casebook in ProgramData for these accounts only (repeat)",
    )
    audit = commands.add_parser("audit", help="check or export the audit trail")
    actions = audit.add_subparsers(dest="audit_command", parser_class=_Parser, metavar="ACTION")
    actions.required = True
    actions.add_parser("verify", help="check that no entry was edited, removed or reordered")
    actions.add_parser(
        "reseal", help="after a reported problem: record it and seal the trail as it stands"
    )
    export = actions.add_parser("export", help="save the audit trail as CSV")
    export.add_argument("--out", required=True, metavar="FILE.csv")
    export.add_argument("--user", default="", metavar="NAME", help="only this user's entries")
    export.add_argument("--action", default="", help="only entries whose action contains this")
    export.add_argument("--target", default="", metavar="REF", help="only this record")
    users = commands.add_parser("users", help="list, add and unlock users; passwords, roles")
    user_actions = users.add_subparsers(
        dest="users_command", parser_class=_Parser, metavar="ACTION"
    )
    user_actions.required = True
    user_actions.add_parser("list", help="list the users and their roles")
    add = user_actions.add_parser(
        "add", help=f"add a user (password from {ENV_NEW_PASSWORD} or typed)"
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--role",
        required=True,
        type=_typed(parse_role),
        help="role: " + ", ".join(r.value for r in Role),
    )
    unlock = user_actions.add_parser("unlock", help="unlock an account after wrong passwords")
    unlock.add_argument("name", metavar="NAME")
    reset = user_actions.add_parser(
        "reset-password",
        help=f"set a new password with the recovery key ({ENV_RECOVERY_KEY} or typed)",
    )
    reset.add_argument("name", metavar="NAME")
    set_password = user_actions.add_parser(
        "set-password", help=f"set another user's password ({ENV_NEW_PASSWORD} or typed)"
    )
    set_password.add_argument("name", metavar="NAME")
    user_actions.add_parser(
        "new-recovery-key",
        help="make a new recovery key (the old one stops working); head teacher only",
    )
    set_role = user_actions.add_parser("set-role", help="change a user's role")
    set_role.add_argument("name", metavar="NAME")
    set_role.add_argument(
        "--role",
        required=True,
        type=_typed(parse_role),
        help="role: " + ", ".join(r.value for r in Role),
    )


@command("init", signs_in_itself=True)
def _cmd_init(services: Services, args: argparse.Namespace) -> int:
    if services.users.has_users():
        raise ValidationError("This casebook is already set up; sign in instead.")
    password = read_secret(ENV_PASSWORD, f"Choose a password for {args.user}: ", confirm=True)
    key = services.users.create_first_user(args.user, password)
    sys.stdout.write(
        f"Set up the casebook in {services.paths.root} with the user {args.user}.\n"
        f"Recovery key: {key}\n"
        "Print the recovery key and keep it in the school safe; it is shown only this once. "
        "It lets you set a new password if the head teacher's is forgotten.\n"
    )
    return EXIT_OK


@command("audit verify", read_only=True)
def _cmd_audit_verify(services: Services, _args: argparse.Namespace) -> int:
    check = services.audit.verify()
    if check.ok:
        sys.stdout.write(f"The audit trail is intact ({check.entries} entries checked).\n")
    for note in check.notes:
        sys.stdout.write(f"{note}\n")
    if check.ok:
        return EXIT_OK
    for problem in check.problems:
        sys.stderr.write(f"casebook: {problem}\n")
    return EXIT_REFUSED


@command("audit reseal")
def _cmd_audit_reseal(services: Services, _args: argparse.Namespace) -> int:
    check = services.audit.reseal()
    found = f"{len(check.problems)} problem(s) recorded in the trail" if check.problems else ""
    sys.stdout.write(
        f"The audit trail is sealed again{' (' + found + ')' if found else ''}; the files "
        "beside the database have been written afresh.\n"
    )
    return EXIT_OK


@command("audit export", read_only=True)
def _cmd_audit_export(services: Services, args: argparse.Namespace) -> int:
    _check_writable(args.out)
    entries = services.audit.entries(
        user=args.user, action=args.action, target=args.target, limit=10_000_000
    )
    _write_output(args.out, services.audit.export_csv(entries))
    sys.stdout.write(f"Saved {len(entries)} audit entries to {args.out}\n")
    return EXIT_OK


@command("users list")
def _cmd_users_list(services: Services, _args: argparse.Namespace) -> int:
    from app.domain.access import ROLE_LABELS

    for user in services.users.list_users():
        state = "  LOCKED" if user.locked else ""
        sys.stdout.write(f"{user.name:<30} {ROLE_LABELS[user.role]}{state}\n")
    return EXIT_OK


@command("users add")
def _cmd_users_add(services: Services, args: argparse.Namespace) -> int:
    password = read_secret(ENV_NEW_PASSWORD, f"Password for {args.name}: ", confirm=True)
    user = services.users.add_user(args.name, args.role, password)
    sys.stdout.write(f"Added the user {user.name}.\n")
    return EXIT_OK


@command("users unlock")
def _cmd_users_unlock(services: Services, args: argparse.Namespace) -> int:
    services.users.unlock_user(args.name)
    sys.stdout.write(f"Unlocked the account {args.name}.\n")
    return EXIT_OK


@command("users reset-password", signs_in_itself=True)
def _cmd_users_reset(services: Services, args: argparse.Namespace) -> int:
    key = read_secret(ENV_RECOVERY_KEY, "Recovery key: ")
    password = read_secret(ENV_NEW_PASSWORD, f"New password for {args.name}: ", confirm=True)
    services.users.reset_password(args.name, key, password)
    sys.stdout.write(f"Set a new password for {args.name}; the account is unlocked.\n")
    return EXIT_OK


@command("users set-password")
def _cmd_users_set_password(services: Services, args: argparse.Namespace) -> int:
    password = read_secret(ENV_NEW_PASSWORD, f"New password for {args.name}: ", confirm=True)
    services.users.set_password(args.name, password)
    sys.stdout.write(f"Set a new password for {args.name}; the account is unlocked.\n")
    return EXIT_OK


@command("users set-role")
def _cmd_users_set_role(services: Services, args: argparse.Namespace) -> int:
    from app.domain.access import ROLE_LABELS

    user = services.users.set_role(args.name, args.role)
    sys.stdout.write(f"{user.name} is now {ROLE_LABELS[user.role]}.\n")
    return EXIT_OK


@command("users new-recovery-key")
def _cmd_users_new_recovery_key(services: Services, _args: argparse.Namespace) -> int:
    key = services.users.replace_recovery_key()
    sys.stdout.write(
        f"Recovery key: {key}\nPrint it and keep it locked away; the old one no longer works.\n"
    )
    return EXIT_OK


# ----- backups (issue #7) ------------------------------------------------------------


def _register_backups(commands: Any) -> None:
    backup = commands.add_parser("backup", help="make a checked backup file in a folder")
    backup.add_argument("--to", required=True, metavar="DIR", help="folder for the backup")
    backup.add_argument(
        "--keep", type=int, metavar="N", help="keep only the newest N backups there (else 10)"
    )
    restore = commands.add_parser(
        "restore", help="replace the casebook with a backup (the current data is kept aside)"
    )
    restore.add_argument("file", metavar="FILE")
    commands.add_parser(
        "encrypt",
        help="encrypt a casebook made before records were encrypted (head teacher, once)",
    )


@command("backup", read_only=True)
def _cmd_backup(services: Services, args: argparse.Namespace) -> int:
    if args.keep is not None:
        services.backups.set_policy(keep=args.keep)
    folder = Path(args.to).expanduser().absolute()
    result = services.backups.backup(folder)
    sys.stdout.write(f"{result.path}\n")
    advice = services.backups.folder_advice(folder)
    if advice:
        # A warning, not a refusal: the backup was made and scripts rely on exit code 0.
        sys.stderr.write(f"casebook: warning: {advice}\n")
    return EXIT_OK


def encrypt_plain_casebook(data_dir: Path) -> int:
    """Encrypt a casebook from before encryption, signing in with that version's password."""
    from app.services.legacy import encrypt_casebook, finish_interrupted, is_plain_casebook

    paths = prepare_data_dir(data_dir)
    finish_interrupted(paths)
    if not is_plain_casebook(paths):
        raise ValidationError(
            f"The casebook in {paths.root} is not one made before records were encrypted; "
            "nothing was changed."
        )
    name = os.environ.get(ENV_USER, "").strip() or "head"
    recovery = encrypt_casebook(paths, name, read_secret(ENV_PASSWORD, f"Password for {name}: "))
    sys.stdout.write(
        f"Encrypted the casebook in {paths.root}.\n"
        f"New recovery key: {recovery}\n"
        "Print it and keep it in the school safe; it is shown only this once, and the old "
        "recovery key no longer works. Other users need a new password from the head "
        "teacher (casebook users set-password NAME).\n"
    )
    return EXIT_OK


def restore_from_backup(data_dir: Path, args: argparse.Namespace) -> int:
    """Restore without opening the current casebook, which may be the thing that is damaged.

    Over an existing casebook its head teacher signs in as it is now (CASEBOOK_USER and
    CASEBOOK_PASSWORD, or CASEBOOK_RECOVERY_KEY) and only its own backups are taken; into
    an empty data folder the backup's own keyring is opened with a password of its time
    or its recovery key. The restore is then written into the restored audit trail.
    """
    from app.security.keyring import KeyringDamagedError, KeyringFile, KeyringStore
    from app.services.casebook import restore_casebook

    archive = Path(args.file).expanduser().absolute()
    recovery = os.environ.get(ENV_RECOVERY_KEY, "").strip()
    if recovery:
        result = restore_casebook(data_dir, archive, "", recovery, with_recovery_key=True)
    else:
        from app.services.backup import backup_keyring

        try:
            here = KeyringStore(KeyringFile(data_dir / "casebook.keys")).load()
        except KeyringDamagedError:
            here = None
        names = (here if here and here.wraps else backup_keyring(archive)).user_names()
        name = os.environ.get(ENV_USER, "").strip() or (names[0] if len(names) == 1 else "head")
        secret = read_secret(ENV_PASSWORD, f"Password for {name}: ")
        result = restore_casebook(data_dir, archive, name, secret)
    return _report_restore(result)


def _report_restore(result: Any) -> int:
    sys.stdout.write(
        f"Restored the casebook from {result.backup.name} "
        f"(made {format_date_time(result.taken_at)}); the previous data is kept in "
        f"{result.set_aside}.\n"
    )
    return EXIT_OK


# ----- retention, deletion and subject access (issue #7) --------------------------------


def _register_retention(commands: Any, case_commands: Any) -> None:
    retention = commands.add_parser(
        "retention", help="list closed cases due for review under the retention rules"
    )
    retention.add_argument("--json", action="store_true", help="machine-readable output")
    retention.add_argument(
        "--all", action="store_true", help="every closed case with its review date"
    )
    delete = case_commands.add_parser(
        "delete", help="securely delete a closed case, keeping only a deletion record"
    )
    delete.add_argument("reference", metavar="REF")
    delete.add_argument("--reason", required=True, help="why the case is being deleted")
    sar = commands.add_parser(
        "sar", help="record and answer a subject access request (Article 15 of the UK GDPR)"
    )
    sar.add_argument("--person", metavar="NAME", help="the person asking for their data")
    sar.add_argument("--out", metavar="FILE.zip", help="save the response as a zip")
    sar.add_argument(
        "--received", type=_typed(_report_date), metavar="DATE", help="when the request came in"
    )
    sar.add_argument("--identity", default="", metavar="HOW", help="how identity was checked")
    sar.add_argument(
        "--extend", type=int, metavar="MONTHS", help="extend the time by 1 or 2 months"
    )
    sar.add_argument("--reason", default="", help="why the time is extended")
    sar.add_argument(
        "--draft", action="store_true", help="make the response to review; not marked as sent"
    )
    sar.add_argument("--list", action="store_true", help="list the requests and their due dates")
    sar.add_argument("--json", action="store_true", help="machine-readable output, with counts")


@command("retention", read_only=True)
def _cmd_retention(services: Services, args: argparse.Namespace) -> int:
    items = services.retention.schedule() if args.all else services.retention.due_for_review()
    if args.json:
        _print_json(
            [
                {
                    "reference": i.reference,
                    "reason": i.review.text,
                    "reason_id": i.review.reason.value,
                    "review_date": i.due_on.isoformat(),
                    "closed_on": i.closed_on.isoformat(),
                    "dob_missing": i.review.dob_missing,
                    "legal_hold": i.legal_hold,
                }
                for i in items
            ]
        )
        return EXIT_OK
    for i in items:
        hold = f"  ON LEGAL HOLD: {i.legal_hold}" if i.legal_hold else ""
        sys.stdout.write(
            f"{i.reference:<14} {format_short_date(i.due_on):<11} {i.review.text}{hold}\n"
        )
    plural = "s" if len(items) != 1 else ""
    what = f"closed case{plural}" if args.all else f"case{plural} due for review"
    sys.stdout.write(f"{len(items)} {what}\n")
    return EXIT_OK


@command("case delete")
def _cmd_case_delete(services: Services, args: argparse.Namespace) -> int:
    case_id = services.cases.case_id_for(args.reference)
    record = services.operations.delete_case(case_id, args.reason).value
    sys.stdout.write(f"Deleted case {record.reference}; only a record of its deletion remains.\n")
    return EXIT_OK


@command("sar")
def _cmd_sar(services: Services, args: argparse.Namespace) -> int:
    requests = services.subject_access
    if args.list:
        found = requests.requests()
        if args.json:
            _print_json([_sar_request_json(r) for r in found])
            return EXIT_OK
        for r in found:
            state = f"answered {format_short_date(r.responded_on)}" if r.responded_on else "open"
            sys.stdout.write(
                f"{r.id:>4}  {r.requester_name:<30} received {format_short_date(r.received_on)}"
                f"  due {format_short_date(r.deadline)}  {state}\n"
            )
        sys.stdout.write(f"{_count(len(found), 'request')}\n")
        return EXIT_OK
    if not args.person:
        raise ValidationError("Please name the person with --person NAME.")
    if args.extend is None and not args.out:
        raise ValidationError("Please say where to save the response with --out FILE.zip.")
    _check_writable(args.out)
    person = services.retention.find_person(args.person)
    request = requests.open_request_for(person.id)
    if request is None:
        today = london_today(services.ctx.now())
        request = requests.record_request(person.id, args.received or today, args.identity)
    elif args.identity:
        request = requests.record_identity(request.id, args.identity)
    if args.extend is not None:
        request = requests.extend(request.id, args.extend, args.reason)
        sys.stdout.write(
            f"The subject access request of {person.name} is now due by "
            f"{format_short_date(request.deadline)}.\n"
        )
        if not args.out:
            return EXIT_OK
    if not request.identity_checked:
        sys.stderr.write(
            "casebook: warning: the requester's identity is not recorded as checked "
            "(use --identity HOW).\n"
        )
    export = requests.respond(request.id, mark_answered=not args.draft)
    _write_output(args.out, export.zip_bytes)
    counts = export.counts()
    if args.json:
        _print_json({**counts, "out": args.out, "draft": bool(args.draft)})
        return EXIT_OK
    exhibits = export.exhibits_included + export.exhibits_withheld
    grounds = "; ".join(f"{w.count} — {w.detail}" for w in export.response.withheld)
    sys.stdout.write(
        f"Saved the response to {person.name}'s subject access request to {args.out}: "
        f"{_count(len(export.file_names), 'file')}, {export.exhibits_included} of "
        f"{_count(exhibits, 'exhibit')} included, {export.response.withheld_count} item(s) "
        f"withheld{': ' + grounds if grounds else ''}. Due by "
        f"{format_short_date(request.deadline)}.\n"
    )
    for item in counts["to_review"]:
        sys.stdout.write(
            f"  to review and redact for {person.name}: {item['case']} {item['item']}\n"
        )
    return EXIT_OK


def _sar_request_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "person": r.requester_name,
        "received_on": r.received_on.isoformat(),
        "identity_checked_on": r.identity_checked_on.isoformat() if r.identity_checked_on else None,
        "identity_note": r.identity_note,
        "due_on": r.due_on.isoformat(),
        "extended_to": r.extended_to.isoformat() if r.extended_to else None,
        "extension_reason": r.extension_reason,
        "responded_on": r.responded_on.isoformat() if r.responded_on else None,
    }


def _refuse_undecodable(argv: Sequence[str]) -> None:
    """Stop at an argument that is not valid text (bytes that are not UTF-8 reach Python as
    lone surrogates, which nothing downstream can print or store)."""
    for number, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            sys.stderr.write(
                f"casebook: argument {number} ({shown}) is not valid text; "
                "type it again, or rename the file so its name is UTF-8.\n"
            )
            raise SystemExit(EXIT_USAGE) from None


@contextlib.contextmanager
def _collector_set_aside() -> Iterator[Callable[[], None]]:
    """Keep Python's cycle collector off the start of a command, and off what it made.

    Opening a casebook imports the database and document libraries and maps the models:
    hundreds of thousands of objects that live as long as the process. The collector would
    walk them again and again for nothing (a tenth of a letter's time), so it is paused
    until the command is signed in (call the function given), and what the start made is
    then frozen out of later collections. On leaving, the collector is as it was and the
    frozen objects are ordinary again (commands also run in one process, in the tests).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    frozen = False

    def start_done() -> None:
        nonlocal frozen
        gc.freeze()
        frozen = True
        if was_enabled:
            gc.enable()

    try:
        yield start_done
    finally:
        if frozen:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command, translating domain errors at this edge."""
    _refuse_undecodable(sys.argv[1:] if argv is None else argv)
    args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    name = command_name(args)
    try:
        data_dir = resolve_data_dir(args.data_dir)
        if name == "init" and args.shared_with:
            chosen = Path(args.data_dir) if args.data_dir else None
            data_dir = set_up_shared_folder(args.shared_with, chosen)
    except CasebookError as error:
        sys.stderr.write(f"casebook: {error.message}\n")
        return error.exit_code
    database_url = resolve_database_url(args.database_url)
    if name in ("gui", "screenshot"):
        from app.ui.app import run_gui, run_screenshot

        if name == "gui":
            return run_gui(data_dir, demo_if_empty=args.demo_if_empty, database_url=database_url)
        return run_screenshot(
            data_dir, Path(args.out), sign_in=sign_in, case_ref=args.case, tab=args.tab
        )
    lock = DataDirLock(data_dir / "casebook.lock")
    try:
        paths = prepare_data_dir(data_dir)
        setup_logging(paths)
        # encrypt and restore work on the files before any casebook is opened.
        entry = COMMANDS.get(name)
        if entry is not None and entry.read_only:
            # Reading alongside an open window is safe (SQLite WAL); changing the schema is not.
            try:
                lock.acquire()
                may_migrate = True
            except CasebookError:
                may_migrate = False
        else:
            lock.acquire()
            may_migrate = True
        if name == "encrypt":
            return encrypt_plain_casebook(data_dir)
        if name == "restore":
            if database_url:
                from app.services.backup import SERVER_REFUSAL

                raise BackupError(SERVER_REFUSAL)
            return restore_from_backup(data_dir, args)
        assert entry is not None, name
        ahead = None if entry.signs_in_itself or database_url else derive_ahead(paths.keyring)
        with _collector_set_aside() as start_done:
            from app.services.casebook import open_casebook

            services = open_casebook(data_dir, may_migrate=may_migrate, database_url=database_url)
            try:
                if not entry.signs_in_itself:
                    services.keys.ahead = ahead
                    if ahead is not None and entry.before_sign_in is not None:
                        entry.before_sign_in(args)
                    sign_in(services)
                start_done()
                return entry.handler(services, args)
            finally:
                services.close()
    except CasebookError as error:
        # The log is plain text: the kind of refusal, never the names in its sentence.
        log.info("Refused %s: %s", name, type(error).__name__)
        sys.stderr.write(f"casebook: {error.message}\n")
        return error.exit_code
    except Exception as error:
        from app.services.faults import STORAGE_ERRORS, explain_storage_failure

        if not isinstance(error, STORAGE_ERRORS):
            raise
        refusal = explain_storage_failure(error, data_dir)
        if refusal is None:
            raise
        log.warning("Refused %s: %s", name, refusal.message, exc_info=True)
        sys.stderr.write(f"casebook: {refusal.message}\n")
        return refusal.exit_code
    finally:
        lock.release()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``casebook`` command.

    Called with no ``argv`` (the console script, ``python -m app``) it is the whole
    process: a sub-command then ends the process as soon as it is done (see
    :func:`_end_process`). Called with ``argv`` (tests, other Python code) it returns.
    """
    if os.name == "posix":
        # Everything this process creates (data folder, key file, database, backups,
        # letters, exports, logs) is private to the account: 0700 folders, 0600 files.
        os.umask(0o077)
    try:
        code = run(argv)
    except KeyboardInterrupt:
        sys.stderr.write("casebook: stopped.\n")
        code = 130
    except Exception as error:  # the outermost edge: never show a traceback
        log.exception("Unexpected failure")
        sys.stderr.write(
            f"casebook: the command could not be completed ({type(error).__name__}: {error}); "
            "details are in the log file in the data folder.\n"
        )
        code = EXIT_REFUSED
    if argv is None:
        _end_process(code)
    return code


def _end_process(code: int) -> None:
    """End a command-line process at once, without tearing the interpreter down.

    By now the command has closed the casebook and written and flushed its files. What
    Python would still do is free every module and object one by one and collect them (the
    database and PDF libraries are a few hundred thousand objects): a quarter of a letter's
    whole-process time on a busy machine, for nothing. The exit handlers still run (the log is
    flushed and closed) and standard output and error are flushed; only the teardown is
    skipped. The window ends normally, so that Qt takes its own objects down in order, and
    so does a process with a thread still at work (Python waits for it, and tells a pool's
    idle threads to stop, in its own order).
    """
    import threading

    working = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not thread.daemon
    ]
    if "PySide6" in sys.modules or working:
        return
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # output was lost (a closed pipe): the code Python itself gives
    os._exit(code)
