"""Following a case through from the command line: Today, ticks, status, outcome, notes.

Each handler calls the same command as the window (``services.operations``), so the
policy consequences are the same: escalating records its ladder step, an outcome can
resolve the case in the same step.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.cli.registry import EXIT_OK, command
from app.domain.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from app.domain.records import CaseDetail
    from app.services.casebook import Services


def register(commands: Any, case_commands: Any, typed: Any) -> None:
    """Add ``today`` and the ``case`` actions that follow a case through."""
    from app.domain.policy import CaseOutcome
    from app.domain.status import parse_status

    today = commands.add_parser(
        "today", help="list the actions and ladder steps due today or overdue on open cases"
    )
    today.add_argument("--json", action="store_true", help="machine-readable output")

    action = case_commands.add_parser("action", help="tick a checklist action of a case")
    action.add_argument("reference")
    action.add_argument("action_id", metavar="ID", help="the action's id, e.g. capture-evidence")
    done = action.add_mutually_exclusive_group(required=True)
    done.add_argument("--done", action="store_true", help="mark the action done")
    done.add_argument("--not-done", action="store_true", help="mark it as not done after all")
    action.add_argument("--note", default="", help="a short note for the chronology")

    status = case_commands.add_parser("status", help="move a case to another status")
    status.add_argument("reference")
    status.add_argument("status", type=typed(parse_status), metavar="STATUS")
    status.add_argument("--note", default="", help="reason or note for the chronology")
    status.add_argument(
        "--step",
        metavar="ID",
        help="with 'escalated': the ladder step taken (else the ladder's next step)",
    )

    outcome = case_commands.add_parser("outcome", help="record how a case ended")
    outcome.add_argument("reference")
    outcome.add_argument(
        "outcome",
        type=typed(_parse_outcome),
        metavar="OUTCOME",
        help="one of: " + ", ".join(o.value for o in CaseOutcome),
    )
    outcome.add_argument(
        "--resolve", action="store_true", help="also mark the case Resolved (the post has gone)"
    )

    note = case_commands.add_parser("note", help="add a note to a case's chronology")
    note.add_argument("reference")
    note.add_argument("text")


def _parse_outcome(value: str) -> Any:
    from app.domain.policy import CaseOutcome

    cleaned = value.strip().lower().replace(" ", "_").replace("-", "_")
    for outcome in CaseOutcome:
        if cleaned == outcome.value:
            return outcome
    allowed = ", ".join(o.value for o in CaseOutcome)
    raise ValidationError(f"'{value}' is not an outcome; use one of: {allowed}.", field="outcome")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def workflow_json(services: Services, case: CaseDetail) -> dict[str, Any]:
    """The ``checklist`` and ``ladder`` fields of ``case show --json``.

    Takes the case already read, so that showing it puts one "view case" on the audit
    trail, not two.
    """
    workflow = services.workflow
    case_id = case.id
    checklist = [
        {
            "id": item.rule_id,
            "label": item.label,
            "done": item.done,
            "due": _iso(item.due_at),
            "overdue": item.overdue,
            "done_at": _iso(item.done_at),
            "done_by": item.done_by or None,
        }
        for item in workflow.checklist(case_id)
    ]
    escalation = workflow.escalation(case_id)
    taken: dict[str, datetime] = {}
    for step in escalation.steps:
        taken[step.step_id] = step.taken_at  # the latest time each step was taken
    following = escalation.position.next
    ladder = [
        {
            "id": step.id,
            "label": step.label,
            "taken_at": _iso(taken.get(step.id)),
            "due": _iso(escalation.position.next_due)
            if following is not None and step.id == following.id
            else None,
        }
        for step in workflow.policy().ladder
        if step.applies_to(case.categories)
    ]
    return {"checklist": checklist, "ladder": ladder}


@command("today", read_only=True)
def _cmd_today(services: Services, args: argparse.Namespace) -> int:
    from app.domain.dates import format_date_time

    items = services.workflow.due()
    if args.json:
        _print_json(
            [
                {
                    "reference": item.reference,
                    "id": item.rule_id,
                    "label": item.label,
                    "due": _iso(item.due_at),
                    "overdue": item.overdue,
                }
                for item in items
            ]
        )
        return EXIT_OK
    for item in items:
        when = "OVERDUE " if item.overdue else "due     "
        sys.stdout.write(f"{item.reference}  {when}{format_date_time(item.due_at)}  {item.label}\n")
    overdue = sum(1 for item in items if item.overdue)
    sys.stdout.write(f"{len(items)} due today or overdue ({overdue} overdue)\n")
    return EXIT_OK


@command("case action")
def _cmd_case_action(services: Services, args: argparse.Namespace) -> int:
    case_id = services.cases.case_id_for(args.reference)
    items = services.workflow.checklist(case_id)
    found = next((item for item in items if item.rule_id == args.action_id.strip()), None)
    if found is None:
        known = ", ".join(item.rule_id for item in items) or "none"
        raise NotFoundError(
            f"Case {args.reference.strip()} has no action '{args.action_id}'; its actions "
            f"are: {known}."
        )
    operations = services.operations
    if args.done:
        item = operations.tick(case_id, found.id, args.note).value
        sys.stdout.write(f"Done: {item.label}\n")
    else:
        item = operations.untick(case_id, found.id).value
        sys.stdout.write(f"Not done: {item.label}\n")
    return EXIT_OK


@command("case status")
def _cmd_case_status(services: Services, args: argparse.Namespace) -> int:
    from app.domain.status import STATUS_LABELS

    case_id = services.cases.case_id_for(args.reference)
    case = services.operations.change_status(
        case_id, args.status, args.note, step_id=args.step
    ).value
    sys.stdout.write(f"{case.reference} is now '{STATUS_LABELS[case.status]}'.\n")
    return EXIT_OK


@command("case outcome")
def _cmd_case_outcome(services: Services, args: argparse.Namespace) -> int:
    from app.domain.policy import GONE_OUTCOMES
    from app.domain.status import CaseStatus, allowed_transitions

    case_id = services.cases.case_id_for(args.reference)
    info = services.operations.set_outcome(case_id, args.outcome, resolve=args.resolve).value
    case = services.cases.get_case(case_id)
    sys.stdout.write(f"Outcome recorded for {case.reference}: {info.label}.\n")
    if args.resolve:
        sys.stdout.write(f"{case.reference} is now 'Resolved'.\n")
    elif info.outcome in GONE_OUTCOMES and CaseStatus.RESOLVED in allowed_transitions(case.status):
        sys.stdout.write(
            f"The post has gone: to close the case, run "
            f"'casebook case status {case.reference} resolved' (or record the outcome "
            "with --resolve).\n"
        )
    return EXIT_OK


@command("case note")
def _cmd_case_note(services: Services, args: argparse.Namespace) -> int:
    case_id = services.cases.case_id_for(args.reference)
    case = services.operations.add_note(case_id, args.text).value
    sys.stdout.write(f"Note added to {case.reference}.\n")
    return EXIT_OK
