"""Mail commands: the outgoing mail settings, sending letters by email, daily reminders.

``casebook mail set|show|test|message``, ``casebook send LETTER-ID``, ``casebook remind``,
and ``--email``/``--cc-office`` on ``casebook letter``.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.registry import EXIT_OK, command
from app.domain.errors import SignInError, ValidationError

if TYPE_CHECKING:
    from app.domain.mail import MailSettings
    from app.services.casebook import Services
    from app.services.mail import LetterEmail
    from app.services.reminders import ReminderRun

ENV_MAIL_PASSWORD = "CASEBOOK_MAIL_PASSWORD"


def _preset_ids(setting: Any) -> list[str]:
    # The mail settings are loaded only when the mail command itself is parsed: building a
    # letter's grammar passes a stand-in parser for the commands it does not name.
    if not isinstance(setting, argparse.ArgumentParser):
        return []
    from app.domain.mail import PRESETS

    return [p.id for p in PRESETS]


def register(commands: Any, _case_commands: Any) -> None:
    """Add the mail commands, and ``--email``/``--cc-office`` to ``casebook letter``."""
    parser_class = commands._parser_class
    letter = commands.choices["letter"]
    letter.add_argument(
        "--email",
        action="store_true",
        help="also send it by email to the recipient's address on record (then --out is optional)",
    )
    letter.add_argument(
        "--cc-office", action="store_true", help="with --email: copy the school office"
    )

    send = commands.add_parser(
        "send", help="send an issued letter by email (its id from 'casebook letters --json')"
    )
    send.add_argument("letter_id", metavar="LETTER-ID", type=int)
    send.add_argument("--cc-office", action="store_true", help="copy the school office")
    send.add_argument(
        "--send-again",
        action="store_true",
        help="send even though an earlier attempt was cut off and may have been delivered",
    )

    mail = commands.add_parser("mail", help="the school's outgoing mail: settings and a test")
    actions = mail.add_subparsers(dest="mail_command", parser_class=parser_class, metavar="ACTION")
    actions.required = True
    setting = actions.add_parser(
        "set", help=f"set the outgoing mail server (password from {ENV_MAIL_PASSWORD} or typed)"
    )
    setting.add_argument(
        "--preset",
        choices=_preset_ids(setting),
        help="fill server, port and security for a known service",
    )
    setting.add_argument(
        "--host", metavar="H", help="outgoing (SMTP) server, e.g. smtp.office365.com"
    )
    setting.add_argument("--port", metavar="P", type=int, help="587 for STARTTLS, 465 for TLS")
    security = setting.add_mutually_exclusive_group()
    security.add_argument("--starttls", action="store_true", help="STARTTLS (port 587)")
    security.add_argument("--tls", action="store_true", help="TLS from the start (port 465)")
    setting.add_argument("--user", metavar="U", help="user name, usually the mailbox's address")
    setting.add_argument(
        "--from",
        dest="from_address",
        metavar="ADDRESS",
        help="sending address if not the user name",
    )
    setting.add_argument(
        "--head-address", metavar="ADDRESS", help="where the head teacher's reminders go"
    )
    setting.add_argument(
        "--dsl-address", metavar="ADDRESS", help="where the DSL's reminders (safeguarding) go"
    )
    actions.add_parser("show", help="show the outgoing mail settings (never the password)")
    test = actions.add_parser("test", help="send a test message")
    test.add_argument("--to", required=True, metavar="ADDRESS")
    message = actions.add_parser("message", help="set the covering message letters are sent with")
    message.add_argument("--subject", metavar="TEXT", help="may use {school} and {reference}")
    message.add_argument(
        "--body-file", metavar="FILE", help="UTF-8 text; may use {recipient}, {school}, ..."
    )
    message.add_argument("--default", action="store_true", help="go back to the shipped message")

    remind = commands.add_parser(
        "remind",
        help="email today's digest of actions due and overdue (once a day; for a scheduled task)",
    )
    remind.add_argument("--to", metavar="ADDRESS", help="send the digest here instead")
    remind.add_argument(
        "--dry-run", action="store_true", help="show what would be sent; send nothing"
    )
    remind.add_argument(
        "--user", metavar="NAME", help="the account to sign in as (else CASEBOOK_USER)"
    )
    remind.add_argument(
        "--password-file",
        metavar="FILE",
        help="sign in with the password on the first line of this file (readable only by "
        "the account the scheduled task runs as)",
    )


# ----- settings -------------------------------------------------------------------------


def _print_settings(settings: MailSettings) -> None:
    from app.domain.mail import SECURITY_LABELS

    if not settings.host:
        sys.stdout.write("The school's outgoing mail is not set up (casebook mail set).\n")
        return
    lines = [
        f"Server:            {settings.host}:{settings.port}  {SECURITY_LABELS[settings.security]}",
        f"User:              {settings.user}",
        f"Sending address:   {settings.sender}",
        f"Password:          {'saved (sealed)' if settings.has_password else 'NOT SET'}",
        f"Head's reminders:  {settings.reminder_address}",
        f"DSL's reminders:   {settings.dsl_address or '(none: the head has them all)'}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@command("mail set")
def _cmd_mail_set(services: Services, args: argparse.Namespace) -> int:
    from app.cli import read_secret
    from app.domain.mail import PRESETS, MailSecurity

    current = services.mail.settings()
    values: dict[str, Any] = {}
    if args.preset:
        preset = next(p for p in PRESETS if p.id == args.preset)
        values.update(host=preset.host, port=preset.port, security=preset.security)
    if args.host is not None:
        values["host"] = args.host
    if args.port is not None:
        values["port"] = args.port
    if args.starttls:
        values["security"] = MailSecurity.STARTTLS
    if args.tls:
        values["security"] = MailSecurity.TLS
    for name in ("user", "from_address", "head_address", "dsl_address"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    wanted = current.with_values(**values)
    password: str | None
    if os.environ.get(ENV_MAIL_PASSWORD) or sys.stdin.isatty() or not current.has_password:
        password = read_secret(ENV_MAIL_PASSWORD, f"Mail password for {wanted.user}: ")
    else:
        password = None  # kept as saved
    saved = services.mail.save_settings(wanted, password)
    sys.stdout.write("Saved the outgoing mail settings.\n")
    _print_settings(saved)
    if args.preset:
        preset = next(p for p in PRESETS if p.id == args.preset)
        sys.stdout.write(preset.note + "\n")
    return EXIT_OK


@command("mail show", read_only=True)
def _cmd_mail_show(services: Services, _args: argparse.Namespace) -> int:
    _print_settings(services.mail.settings())
    covering = services.mail.covering()
    sys.stdout.write(
        f"\nCovering message ({'as shipped' if covering.is_default else 'the school’s own'}):\n"
        f"Subject: {covering.subject}\n\n{covering.body}"
    )
    return EXIT_OK


@command("mail test", read_only=True)
def _cmd_mail_test(services: Services, args: argparse.Namespace) -> int:
    delivery = services.mail.test(args.to)
    sys.stdout.write(f"Sent a test message to {args.to}; the server replied: {delivery.reply}\n")
    return EXIT_OK


@command("mail message")
def _cmd_mail_message(services: Services, args: argparse.Namespace) -> int:
    from app.domain.mail import CoveringMessage

    if args.default:
        saved = services.mail.save_covering(CoveringMessage())
    else:
        if args.subject is None and args.body_file is None:
            raise ValidationError("Give --subject, --body-file, or --default.")
        current = services.mail.covering()
        body = current.body
        if args.body_file is not None:
            try:
                body = Path(args.body_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise ValidationError(
                    f"The file {args.body_file} cannot be read as UTF-8 text."
                ) from None
        subject = args.subject if args.subject is not None else current.subject
        saved = services.mail.save_covering(CoveringMessage(subject, body))
    sys.stdout.write(f"Saved the covering message (subject: {saved.subject}).\n")
    return EXIT_OK


# ----- sending letters -------------------------------------------------------------------


def _report_sent(services: Services, sent: LetterEmail) -> None:
    from app.domain.dates import format_short_date

    letter = services.letters.get_letter(sent.letter_id)
    copy = f" (copy to {sent.cc_address})" if sent.cc_address else ""
    sys.stdout.write(
        f"Emailed {letter.label} on {letter.case_reference} to {sent.to_address}{copy}; "
        f"the server replied: {sent.server_reply}. Recorded as sent on "
        f"{format_short_date(letter.sent_on)}.\n"
    )


def _send(services: Services, letter_id: int, cc_office: bool, send_again: bool) -> int:
    from app.domain.mail import MailUncertain

    try:
        sent = services.mail.send_letter(letter_id, cc_office=cc_office, send_again=send_again)
    except MailUncertain as error:
        raise MailUncertain(
            f"{error.message[:-1]}; to send it again anyway, add --send-again "
            f"(casebook send {letter_id} --send-again)."
        ) from None
    _report_sent(services, sent)
    return EXIT_OK


@command("send")
def _cmd_send(services: Services, args: argparse.Namespace) -> int:
    return _send(services, args.letter_id, args.cc_office, args.send_again)


def check_ready_to_email(services: Services, recipient: Any, cc_office: bool) -> None:
    """Before a letter is issued with --email: refuse now what would stop it being sent."""
    from app.domain.mail import check_address

    services.mail.require_configured()
    if recipient is None or not recipient.email.strip():
        name = recipient.name if recipient is not None else "the recipient"
        raise ValidationError(
            f"There is no email address on record for {name}; add it on the case's People "
            "tab, or leave out --email."
        )
    check_address(recipient.email, f"email address of {recipient.name}")
    if cc_office:
        check_address(services.letters.profile.get().email, "school office's email address")


def email_issued_letter(services: Services, letter_id: int, args: argparse.Namespace) -> int:
    """``casebook letter --email``: send the letter just issued."""
    from app.domain.mail import MailError

    try:
        return _send(services, letter_id, args.cc_office, False)
    except MailError as error:
        raise MailError(
            f"{error.message[:-1]}; the letter is recorded as prepared (id {letter_id}): "
            f"send it later with 'casebook send {letter_id}'."
        ) from None


# ----- reminders ------------------------------------------------------------------------


def _read_password_file(path: str) -> str:
    file = Path(path).expanduser()
    try:
        info = file.stat()
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SignInError(
                f"The password file {path} may be read by other accounts; make it private "
                f"(chmod 600 {path}) and try again."
            )
        first = file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SignInError(f"The password file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError):
        raise SignInError(f"The password file {path} cannot be read.") from None
    if not first or not first[0]:
        raise SignInError(f"The password file {path} is empty.")
    return first[0]


@command("remind", read_only=True, signs_in_itself=True)
def _cmd_remind(services: Services, args: argparse.Namespace) -> int:
    from app.cli import ENV_PASSWORD, ENV_USER, read_secret

    if not services.users.has_users():
        raise SignInError("This casebook has no users yet; set it up first with 'casebook init'.")
    name = (
        (args.user or "").strip()
        or os.environ.get(ENV_USER, "").strip()
        or services.users.only_user_name()
        or "head"
    )
    if args.password_file:
        password = _read_password_file(args.password_file)
    else:
        password = read_secret(ENV_PASSWORD, f"Password for {name}: ")
    services.users.sign_in(name, password)
    run = services.reminders.run(args.to, dry_run=args.dry_run)
    _report_reminders(services, run)
    return EXIT_OK


def _report_reminders(services: Services, run: ReminderRun) -> None:
    from app.domain.access import Permission

    if not run.digests:
        sys.stdout.write("Nothing is due today or overdue; no reminder was sent.\n")
        return
    if run.dry_run:
        may_see = services.ctx.may(Permission.SAFEGUARDING)
        for digest in run.digests:
            sys.stdout.write(f"To: {digest.to}\nSubject: {digest.subject}\n\n")
            if digest.sensitive and not may_see:
                sys.stdout.write(
                    f"({digest.items} item(s); the list names safeguarding cases, so it is "
                    "shown only to the head teacher / DSL)\n\n"
                )
            else:
                sys.stdout.write(digest.body + "\n")
        sys.stdout.write("Dry run: nothing was sent.\n")
        return
    for address in run.sent:
        sys.stdout.write(f"Sent today's reminders to {address}.\n")
    if run.already_sent:
        when = services.reminders.describe_earlier(run)
        sys.stdout.write(
            f"Today's reminders were already sent{when} to {', '.join(run.already_sent)}; "
            "not sent again.\n"
        )
