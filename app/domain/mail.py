"""Email from the school's own mailbox: the server settings, presets, the covering message
and the reminder digest. Pure Python: the sending itself is in ``app/services/mail.py``."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from app.domain.choices import parse_choice
from app.domain.dates import format_short_date, to_london
from app.domain.errors import CasebookError, ValidationError


class MailError(CasebookError):
    """The message was not sent (the server said no, or could not be reached); nothing
    was recorded as sent."""


class MailUncertain(MailError):
    """An attempt was cut off after the message was handed to the server: it may have
    been delivered. Sending again needs the user's say-so."""


class MailSecurity(StrEnum):
    """How the connection to the mail server is protected (never in clear)."""

    STARTTLS = "starttls"  # port 587: plain connection upgraded to TLS before signing in
    TLS = "tls"  # port 465: TLS from the first byte


SECURITY_LABELS = {
    MailSecurity.STARTTLS: "STARTTLS (usually port 587)",
    MailSecurity.TLS: "TLS from the start (usually port 465)",
}

APP_PASSWORD_NOTE = (
    "If the mailbox uses two-step sign-in, the mail server needs an app password made for "
    "this program, not the usual password: in Microsoft 365 ask IT to allow 'SMTP AUTH' for "
    "the mailbox and make an app password; in Google Workspace make one at "
    "myaccount.google.com › Security › App passwords."
)


@dataclass(frozen=True)
class MailPreset:
    """A known mail service's outgoing server."""

    id: str
    label: str
    host: str
    port: int
    security: MailSecurity
    note: str


PRESETS: tuple[MailPreset, ...] = (
    MailPreset(
        "microsoft365",
        "Microsoft 365 (Outlook)",
        "smtp.office365.com",
        587,
        MailSecurity.STARTTLS,
        "The user name is the mailbox's full address. " + APP_PASSWORD_NOTE,
    ),
    MailPreset(
        "google",
        "Google Workspace (Gmail)",
        "smtp.gmail.com",
        587,
        MailSecurity.STARTTLS,
        "The user name is the mailbox's full address. " + APP_PASSWORD_NOTE,
    ),
    MailPreset(
        "google-tls",
        "Google Workspace (Gmail), TLS on port 465",
        "smtp.gmail.com",
        465,
        MailSecurity.TLS,
        "The user name is the mailbox's full address. " + APP_PASSWORD_NOTE,
    ),
)


def parse_security(value: str) -> MailSecurity:
    """A connection security from its CLI id."""
    return parse_choice(MailSecurity, value, "connection security")


@dataclass(frozen=True)
class MailSettings:
    """The school's outgoing mail server and who reminders go to (the password is apart)."""

    host: str = ""
    port: int = 587
    security: MailSecurity = MailSecurity.STARTTLS
    user: str = ""
    # The address letters come from; empty means the user name (the usual case).
    from_address: str = ""
    # Who ``casebook remind`` writes to: the head teacher (everything due) and the DSL
    # (safeguarding items); empty head address means the school's mailbox itself.
    head_address: str = ""
    dsl_address: str = ""
    has_password: bool = False

    @property
    def configured(self) -> bool:
        """True once a server, a user and a password are saved."""
        return bool(self.host and self.user and self.has_password)

    @property
    def sender(self) -> str:
        """The From address."""
        return self.from_address or self.user

    @property
    def reminder_address(self) -> str:
        """Where the head teacher's digest goes."""
        return self.head_address or self.sender

    def with_values(self, **values: object) -> MailSettings:
        """A copy with some fields changed."""
        return replace(self, **values)  # type: ignore[arg-type]


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@" + _LABEL + r"(?:\." + _LABEL + r")+\Z")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def check_address(value: str, what: str, *, required: bool = True) -> str:
    """One plain email address (no display name, no list), or a refusal naming ``what``."""
    address = value.strip()
    if not address and not required:
        return ""
    if not address:
        raise ValidationError(f"The {what} is empty; type an email address.")
    if len(address) > 254 or not _ADDRESS.match(address):
        raise ValidationError(
            f"The {what} '{address[:80]}' is not an email address like office@school.sch.uk."
        )
    return address


def check_settings(settings: MailSettings) -> MailSettings:
    """The settings cleaned, or one sentence about the first thing wrong."""
    host = settings.host.strip().rstrip(".")
    if not host:
        raise ValidationError("The mail server is empty; type its name, e.g. smtp.office365.com.")
    if len(host) > 253 or not _HOST.match(host):
        raise ValidationError(f"The mail server '{host[:80]}' is not a server name.")
    if not 1 <= settings.port <= 65535:
        raise ValidationError(f"The port {settings.port} is not a port number (1 to 65535).")
    user = settings.user.strip()
    if not user:
        raise ValidationError("The user name is empty; it is usually the mailbox's address.")
    if len(user) > 254 or any(c.isspace() or ord(c) < 32 for c in user):
        raise ValidationError("The user name may not contain spaces or line breaks.")
    from_address = check_address(settings.from_address, "sending address", required=False)
    if not from_address:
        check_address(user, "user name (which is also the sending address)")
    return replace(
        settings,
        host=host,
        user=user,
        from_address=from_address,
        head_address=check_address(settings.head_address, "head teacher's address", required=False),
        dsl_address=check_address(settings.dsl_address, "DSL's address", required=False),
    )


# ----- the covering message ------------------------------------------------------------------

# What the covering message may say. The subject line may name only the school and the
# case reference: it is what shows in a shared inbox and in notifications on a lock screen.
SUBJECT_FIELDS = ("school", "reference")
BODY_FIELDS = (
    "school",
    "reference",
    "recipient",
    "letter_date",
    "telephone",
    "office_email",
    "head_teacher",
    "head_title",
)

DEFAULT_SUBJECT = "A letter from {school}"
DEFAULT_BODY = (
    "Dear {recipient},\n\n"
    "Please find attached a letter from {school}, dated {letter_date} (our reference "
    "{reference}). Please read it carefully; it is a PDF file that opens on any computer, "
    "tablet or phone.\n\n"
    "If you would like to talk about it, please reply to this email or telephone the school "
    "office on {telephone}.\n\n"
    "Yours sincerely,\n\n"
    "{head_teacher}\n"
    "{head_title}\n"
    "{school}\n"
)


@dataclass(frozen=True)
class CoveringMessage:
    """The school's template for the short message a letter is attached to."""

    subject: str = DEFAULT_SUBJECT
    body: str = DEFAULT_BODY

    @property
    def is_default(self) -> bool:
        """True while the school has not changed it."""
        return self.subject == DEFAULT_SUBJECT and self.body == DEFAULT_BODY


def _fields_of(text: str, what: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise ValidationError(
            f"The {what} has a stray {{ or }}; fields are written like {{school}}."
        ) from None
    found = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or spec or conversion:
            raise ValidationError(
                f"The {what} has a field '{{{name}}}' this program does not know; "
                "fields are written like {school}."
            )
        found.add(name)
    return found


def check_covering(message: CoveringMessage) -> CoveringMessage:
    """The template cleaned, or one sentence about what is wrong with it."""
    subject = " ".join(message.subject.split())
    body = message.body.replace("\r\n", "\n").strip() + "\n"
    if not subject:
        raise ValidationError("The subject line is empty.")
    if len(subject) > 200:
        raise ValidationError("The subject line is longer than 200 characters.")
    if len(body) > 5000:
        raise ValidationError("The covering message is longer than 5,000 characters.")
    if not body.strip():
        raise ValidationError("The covering message is empty.")
    for name in sorted(_fields_of(subject, "subject line")):
        if name not in SUBJECT_FIELDS:
            allowed = ", ".join("{" + f + "}" for f in SUBJECT_FIELDS)
            raise ValidationError(
                f"The subject line may not use {{{name}}}: it shows in inboxes and on lock "
                f"screens, so it may name only {allowed}."
            )
    for name in sorted(_fields_of(body, "covering message")):
        if name not in BODY_FIELDS:
            allowed = ", ".join("{" + f + "}" for f in BODY_FIELDS)
            raise ValidationError(
                f"The covering message uses {{{name}}}, which this program does not fill; "
                f"it may use {allowed}."
            )
    return CoveringMessage(subject, body)


def fill_covering(message: CoveringMessage, values: dict[str, str]) -> tuple[str, str]:
    """The subject and body with the fields filled."""
    checked = check_covering(message)
    subject = checked.subject.format_map({k: values.get(k, "") for k in SUBJECT_FIELDS})
    body = checked.body.format_map({k: values.get(k, "") for k in BODY_FIELDS})
    # A value may not break the header onto a second line.
    return " ".join(subject.split()), body


def attachment_name(reference: str, letter_date: date) -> str:
    """The letter's file name in the email: no one's name in it."""
    return f"Letter {reference} {letter_date.isoformat()}.pdf"


# ----- the reminder digest -----------------------------------------------------------------


@dataclass(frozen=True)
class ReminderItem:
    """One action due: only its case's reference, the action's label and when."""

    reference: str
    label: str
    due_at: datetime
    overdue: bool
    safeguarding: bool


def digest(items: list[ReminderItem], today: date, school: str) -> tuple[str, str]:
    """The subject and text of one reminder email: references and actions, never names."""
    overdue = [i for i in items if i.overdue]
    due_today = [i for i in items if not i.overdue]
    parts = []
    if overdue:
        parts.append(f"{len(overdue)} overdue")
    if due_today:
        parts.append(f"{len(due_today)} due today")
    subject = f"Conduct Casebook: {' and '.join(parts)} ({format_short_date(today)})"
    lines = [
        f"Actions in the Conduct Casebook of {school or 'the school'}, {format_short_date(today)}.",
        "",
    ]
    for title, group in (("Overdue", overdue), ("Due today", due_today)):
        if not group:
            continue
        lines.append(f"{title}:")
        for item in group:
            due = to_london(item.due_at)
            lines.append(f"  {item.reference}  {item.label}  (due {format_short_date(due.date())})")
        lines.append("")
    lines += [
        "Open the casebook to see the cases. This email names no one on purpose; it was sent "
        "by 'casebook remind'.",
    ]
    return subject, "\n".join(lines) + "\n"
