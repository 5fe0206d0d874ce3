"""Recording that a letter left the school, and the ladder steps taken outside it.

``casebook letter-sent REF LETTER-ID --method post|hand|email [--on DATE]`` records the date
a prepared letter was sent: it ticks the checklist action asking for that letter, takes its
ladder step and starts the reply-by clock, as marking it sent in the window does.

``casebook case step REF STEP-ID [--outcome O] [--on DATE] [--reference NUMBER]`` records a
step of the escalation ladder, with the reference number a platform or helpline gave.

The ``letter`` command's own flags for these rules (``--paragraph``, ``--confirm-kind``)
are added here too, beside the rest of the workflow's command line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from app.cli import _iso, _print_json, _typed
from app.cli.registry import EXIT_OK, command
from app.domain.dates import LONDON, format_long_date, parse_uk_or_iso_date
from app.domain.errors import ConfirmationNeeded, ValidationError
from app.domain.letters import SEND_METHOD_LABELS, SendMethod, parse_send_method
from app.domain.working_days import format_weekday_date

if TYPE_CHECKING:
    # The ladder's steps are imported by ``case step`` alone: importing the policy cost the
    # letter command (which adds its flags here) about 5 ms of processor time (see
    # app.services.checklist.load_policy).
    from app.domain.policy import StepOutcome
    from app.services.casebook import Services


def _date(value: str) -> Any:
    return parse_uk_or_iso_date(value, "on")


def _step_outcome(value: str) -> StepOutcome:
    from app.domain.policy import StepOutcome

    cleaned = value.strip().lower().replace(" ", "_").replace("-", "_")
    for outcome in StepOutcome:
        if cleaned == outcome.value:
            return outcome
    allowed = ", ".join(o.value for o in StepOutcome)
    raise ValidationError(f"'{value}' is not a step outcome; use one of: {allowed}.")


def register(commands: Any) -> None:
    """Add ``letter-sent`` and the ``letter`` command's workflow flags."""
    sent = commands.add_parser(
        "letter-sent",
        help="record that a prepared letter was sent (posted, handed over or emailed)",
    )
    sent.add_argument("reference", metavar="REF")
    sent.add_argument("letter_id", metavar="LETTER-ID", type=int, help="as `letters` lists it")
    sent.add_argument(
        "--method",
        required=True,
        type=_typed(parse_send_method),
        help="how it was sent: " + ", ".join(m.value for m in SendMethod),
    )
    sent.add_argument(
        "--on",
        type=_typed(_date),
        metavar="DATE",
        help="the date it was sent, e.g. 24/11/2026 (else today)",
    )
    sent.add_argument("--json", action="store_true")

    letter = commands.choices["letter"]
    letter.add_argument(
        "--paragraph",
        default="",
        metavar="TEXT",
        help="the school's own paragraph, set before the letter's last paragraph",
    )
    letter.add_argument(
        "--confirm-kind",
        action="store_true",
        help="issue a kind of letter that does not fit the case's standards",
    )
    letter.add_argument(
        "--confirm-post-details",
        action="store_true",
        help="issue a letter naming a post whose platform, group or page, or date the case "
        "does not record",
    )


def register_step(case_commands: Any) -> None:
    """Add ``case step``."""
    from app.domain.policy import StepOutcome

    step = case_commands.add_parser(
        "step", help="record a step of the escalation ladder (e.g. a report to the platform)"
    )
    step.add_argument("reference", metavar="REF")
    step.add_argument("step", metavar="STEP-ID", help="as in the workflow policy, e.g. helpline")
    step.add_argument(
        "--outcome",
        type=_typed(_step_outcome),
        default=StepOutcome.AWAITING,
        help="what came of it: " + ", ".join(o.value for o in StepOutcome),
    )
    step.add_argument("--on", type=_typed(_date), metavar="DATE", help="the date (else now)")
    step.add_argument(
        "--reference",
        dest="report_reference",
        default="",
        metavar="NUMBER",
        help="the reference number the platform or helpline gave",
    )
    step.add_argument("--note", default="")
    step.add_argument("--json", action="store_true")


def letter_options(args: argparse.Namespace) -> dict[str, Any]:
    """The workflow's options of ``casebook letter`` as ``LetterService.issue`` takes them.

    Naming the recipient with ``--to`` is the confirmation that a request may go to
    someone who is not the author of the post.
    """
    return {
        "paragraph": getattr(args, "paragraph", "") or "",
        "confirm_recipient": bool(getattr(args, "to", None)),
        "confirm_kind": bool(getattr(args, "confirm_kind", False)),
        "confirm_post_details": bool(getattr(args, "confirm_post_details", False)),
    }


def explain_refusal(error: ConfirmationNeeded) -> ValidationError:
    """A ``ConfirmationNeeded`` as the CLI's refusal, naming the flag that confirms it."""
    how = {
        "recipient": "name them with --to to send it anyway.",
        "post": "add --confirm-post-details to issue it anyway.",
    }.get(error.reason, "add --confirm-kind to issue it anyway.")
    return ValidationError(f"{error.message} Not issued; {how}")


@command("letter-sent")
def _cmd_letter_sent(services: Services, args: argparse.Namespace) -> int:
    case = services.cases.find_case(args.reference)
    letters = {x.id: x for x in services.letters.list_letters(case.id)}
    if args.letter_id not in letters:
        listed = ", ".join(str(i) for i in letters) or "none"
        raise ValidationError(
            f"Case {case.reference} has no letter {args.letter_id}; its letters: {listed}."
        )
    sent = services.letters.mark_sent(args.letter_id, args.method, args.on)
    if args.json:
        _print_json(
            {
                "id": sent.id,
                "reference": case.reference,
                "kind": sent.kind.value,
                "sent_on": _iso(sent.sent_on),
                "sent_method": sent.sent_method.value if sent.sent_method else None,
                "reply_by": _iso(sent.reply_by),
            }
        )
        return EXIT_OK
    assert sent.sent_on is not None and sent.sent_method is not None
    line = (
        f"{sent.label} to {sent.recipient_name} recorded as sent "
        f"({SEND_METHOD_LABELS[sent.sent_method].lower()}) on {format_long_date(sent.sent_on)}"
    )
    if sent.reply_by is not None:
        line += f"; reply by {format_weekday_date(sent.reply_by)}"
    sys.stdout.write(line + ".\n")
    return EXIT_OK


@command("case step")
def _cmd_case_step(services: Services, args: argparse.Namespace) -> int:
    case = services.cases.find_case(args.reference)
    when = None
    if args.on is not None:
        # A past day counts from its start; today is now.
        today = services.ctx.now().astimezone(LONDON).date()
        if args.on != today:
            when = datetime.combine(args.on, time.min, tzinfo=LONDON)
    escalation = services.workflow.take_step(
        case.id,
        args.step,
        args.outcome,
        when=when,
        note=args.note,
        reference=args.report_reference,
    )
    taken = max(escalation.steps, key=lambda s: s.id) if escalation.steps else None
    if args.json:
        _print_json(
            {
                "reference": case.reference,
                "steps": [
                    {
                        "id": s.step_id,
                        "label": s.label,
                        "taken_at": _iso(s.taken_at),
                        "outcome": s.outcome.value,
                        "report_reference": s.reference,
                    }
                    for s in escalation.steps
                ],
                "next": escalation.position.next.id if escalation.position.next else None,
                "next_due": _iso(escalation.position.next_due),
            }
        )
        return EXIT_OK
    if taken is not None:
        from app.domain.policy import STEP_OUTCOME_LABELS

        text = f"{taken.label} ({STEP_OUTCOME_LABELS[taken.outcome].lower()})"
        if taken.reference:
            text += f", reference {taken.reference}"
        sys.stdout.write(f"Recorded on {case.reference}: {text}.\n")
    sys.stdout.write(escalation.position.describe() + "\n")
    return EXIT_OK
