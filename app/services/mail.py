"""Letters sent from the school's own mailbox, and the outgoing mail settings.

Sending a letter is recorded in two steps around the network: before the server is
contacted a row is written (state "pending") with the message's Message-ID and the
message itself, sealed in the blob store; after the server's answer the row becomes
"sent" (and the letter is marked sent) or "failed". A row still "pending" when the next
attempt starts belongs to an attempt that was cut off, perhaps after the server took the
message: that attempt may have been delivered, so sending again needs the user's say-so,
and the second attempt is the same message (same Message-ID, which mail programs use to
show a duplicate once).

The password is sealed with the data key (``DataKey.seal``) before it is stored, so it
is never in clear in the database, even in a casebook shared on a PostgreSQL server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db.models import LetterEmailRecord, LetterRecord, SettingRecord
from app.db.sealing import Sealed, case_is_sealed
from app.domain.access import Permission
from app.domain.dates import format_date_time, format_long_date, london_today
from app.domain.errors import NotFoundError, ValidationError
from app.domain.letters import SendMethod
from app.domain.mail import (
    CoveringMessage,
    MailError,
    MailSecurity,
    MailSettings,
    MailUncertain,
    attachment_name,
    check_address,
    check_covering,
    check_settings,
    fill_covering,
)
from app.evidence.blobstore import BlobStorage
from app.security.crypto import DataKey, SealBrokenError
from app.services.context import ServiceContext
from app.services.letters import IssuedLetter, LetterService
from app.services.people import PersonService

log = logging.getLogger(__name__)

MAIL_SETTING = "mail_server"
PASSWORD_SETTING = "mail_password"
COVERING_SETTING = "mail_covering_message"
DEFAULT_TIMEOUT = 30.0

PENDING, FAILED, SENT = "pending", "failed", "sent"

KeySource = Callable[[], DataKey | None]


@dataclass(frozen=True)
class LetterEmail:
    """What the casebook knows about a letter sent (or being sent) by email."""

    letter_id: int
    case_reference: str
    state: str  # "pending" (interrupted: may have gone), "failed" or "sent"
    message_id: str
    to_address: str
    cc_address: str
    eml_sha256: str
    eml_size: int
    attempts: int
    last_attempt_at: datetime
    last_error: str
    sent_at: datetime | None
    server_reply: str

    @property
    def may_have_gone(self) -> bool:
        """True when the last attempt was cut off after the server may have taken it."""
        return self.state == PENDING


@dataclass(frozen=True)
class OutgoingLetter:
    """What Send by email will send, for the user to check first."""

    letter: IssuedLetter
    sender: str
    to_address: str
    cc_address: str
    subject: str
    body: str
    attachment: str
    previous: LetterEmail | None


@dataclass(frozen=True)
class Delivery:
    """The server's acceptance of a message."""

    reply: str
    at: datetime


class _Uncertain(Exception):
    """The connection failed after the message was handed over (inside the transport)."""


def deliver(
    settings: MailSettings,
    password: str,
    sender: str,
    recipients: list[str],
    message: bytes,
    timeout: float,
) -> str:
    """Hand ``message`` to the school's mail server; return its reply to the message.

    Raises MailError with one sentence when the server did not take the message, and
    MailUncertain when the connection broke after the message was handed over.
    """
    host = settings.host
    context = ssl.create_default_context()
    local = socket.gethostname() or "localhost"
    phase = "connect"
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security is MailSecurity.TLS:
            smtp = smtplib.SMTP_SSL(
                host, settings.port, local_hostname=local, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(host, settings.port, local_hostname=local, timeout=timeout)
            phase = "starttls"
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise MailError(
                    f"The mail server {host} does not offer a secure connection (STARTTLS) "
                    "on this port, so nothing was sent; check the port and the security setting."
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        phase = "login"
        smtp.login(settings.user, password)
        phase = "envelope"
        code, answer = smtp.mail(sender)
        if code != 250:
            raise MailError(
                f"The mail server refused to send from {sender} ({code} {_text(answer)}); "
                "nothing was sent."
            )
        for address in recipients:
            code, answer = smtp.rcpt(address)
            if code not in (250, 251):
                raise MailError(
                    f"The mail server refused the address {address} ({code} {_text(answer)}); "
                    "check the address. Nothing was sent."
                )
        phase = "data"
        code, answer = smtp.data(message)
        reply = f"{code} {_text(answer)}"
    except MailError:
        _close(smtp)
        raise
    except smtplib.SMTPAuthenticationError as error:
        _close(smtp)
        raise MailError(
            f"The mail server refused the user name or password for {settings.user} "
            f"({error.smtp_code}); check them in the mail settings (with two-step sign-in, "
            "use an app password). Nothing was sent."
        ) from None
    except smtplib.SMTPNotSupportedError:
        _close(smtp)
        raise MailError(
            f"The mail server {host} does not accept a user name and password on this "
            "connection; check the port and the security setting. Nothing was sent."
        ) from None
    except smtplib.SMTPDataError as error:
        _close(smtp)
        raise MailError(
            f"The mail server refused the message ({error.smtp_code} "
            f"{_text(error.smtp_error)}); nothing was sent."
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        _close(smtp)
        refused = ", ".join(error.recipients)
        raise MailError(
            f"The mail server refused the address {refused}; check it. Nothing was sent."
        ) from None
    except ssl.SSLError as error:
        _close(smtp)
        if phase == "data":
            raise _Uncertain(str(error)) from error
        log.info("TLS with %s failed: %s", host, error)
        raise MailError(
            f"A secure connection to the mail server {host} could not be made (its "
            "certificate is not trusted, or it does not speak TLS on this port); nothing was "
            "sent. Check the server name, port and security setting."
        ) from None
    except TimeoutError as error:
        _close(smtp)
        if phase == "data":
            raise _Uncertain("timed out") from error
        raise MailError(
            f"The mail server {host} did not answer within {max(1, int(timeout))} seconds; nothing "
            "was sent. Check the network connection and try again."
        ) from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as error:
        _close(smtp)
        if phase == "data":
            raise _Uncertain(str(error)) from error
        if isinstance(error.__context__, TimeoutError):  # smtplib wraps a read that timed out
            raise MailError(
                f"The mail server {host} did not answer within {max(1, int(timeout))} seconds; "
                "nothing was sent. Check the network connection and try again."
            ) from None
        if phase == "connect" and isinstance(error, socket.gaierror):
            raise MailError(
                f"The mail server {host} could not be found; check its name and the network "
                "connection. Nothing was sent."
            ) from None
        if phase == "connect" and not isinstance(error, smtplib.SMTPException):
            raise MailError(
                f"The mail server {host} could not be reached on port {settings.port}; check "
                "the network connection and the mail settings. Nothing was sent."
            ) from None
        raise MailError(
            f"The mail server {host} closed the connection before taking the message; "
            "nothing was sent. Try again in a moment."
        ) from None
    _close(smtp, polite=True)
    return reply


def _text(answer: bytes | str) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return " ".join(text.split())[:300]


def _close(smtp: smtplib.SMTP | None, *, polite: bool = False) -> None:
    if smtp is None:
        return
    try:
        if polite:
            smtp.quit()
        else:
            smtp.close()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class MailService:
    """The school's outgoing mail: settings, the covering message, sending letters."""

    def __init__(
        self,
        ctx: ServiceContext,
        blobs: BlobStorage,
        letters: LetterService,
        people: PersonService,
        key: KeySource,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.ctx = ctx
        self.blobs = blobs
        self.letters = letters
        self.people = people
        self._key = key
        self.timeout = timeout

    # ----- settings ---------------------------------------------------------------------

    def settings(self) -> MailSettings:
        """The saved outgoing mail settings (empty until the school sets them)."""
        with self.ctx.sessions() as session:
            record = session.get(SettingRecord, MAIL_SETTING)
            has_password = session.get(SettingRecord, PASSWORD_SETTING) is not None
            data = json.loads(record.value) if record is not None else {}
        return MailSettings(
            host=str(data.get("host", "")),
            port=int(data.get("port", 587)),
            security=MailSecurity(data.get("security", MailSecurity.STARTTLS.value)),
            user=str(data.get("user", "")),
            from_address=str(data.get("from_address", "")),
            head_address=str(data.get("head_address", "")),
            dsl_address=str(data.get("dsl_address", "")),
            has_password=has_password,
        )

    def save_settings(self, settings: MailSettings, password: str | None = None) -> MailSettings:
        """Check and save the settings; ``password`` None keeps the saved one."""
        self.ctx.require(Permission.SETTINGS, action="change mail settings")
        clean = check_settings(settings)
        if password is not None and not password:
            raise ValidationError("The mail password is empty.")
        if password is not None and (len(password) > 1000 or "\n" in password):
            raise ValidationError("That is not a mail password (too long, or several lines).")
        data = asdict(clean)
        data.pop("has_password")
        data["security"] = clean.security.value
        text = json.dumps(data, sort_keys=True)
        sealed = (
            base64.b64encode(self._data_key().seal(password.encode("utf-8"))).decode("ascii")
            if password is not None
            else None
        )
        with self.ctx.sessions.begin() as session:
            session.merge(SettingRecord(key=MAIL_SETTING, value=text))
            if sealed is not None:
                session.merge(SettingRecord(key=PASSWORD_SETTING, value=sealed))
        log.info("Saved the outgoing mail settings (%s:%d)", clean.host, clean.port)
        return self.settings()

    def _data_key(self) -> DataKey:
        key = self._key()
        if key is None:
            raise MailError("Sign in first.")
        return key

    def _password(self) -> str:
        with self.ctx.sessions() as session:
            record = session.get(SettingRecord, PASSWORD_SETTING)
            stored = record.value if record is not None else None
        if stored is None:
            raise MailError(
                "The school's outgoing mail is not set up yet; set it in Settings › Email "
                "(or with 'casebook mail set')."
            )
        try:
            return self._data_key().open_sealed(base64.b64decode(stored)).decode("utf-8")
        except (SealBrokenError, ValueError):
            raise MailError(
                "The saved mail password cannot be read (it was changed outside the program); "
                "type it again in the mail settings."
            ) from None

    def _configured(self) -> MailSettings:
        settings = self.settings()
        if not settings.host or not settings.user:
            raise MailError(
                "The school's outgoing mail is not set up yet; set it in Settings › Email "
                "(or with 'casebook mail set')."
            )
        return settings

    def covering(self) -> CoveringMessage:
        """The covering message letters are sent with (the school's copy, else the default)."""
        with self.ctx.sessions() as session:
            record = session.get(SettingRecord, COVERING_SETTING)
            data = json.loads(record.value) if record is not None else None
        if not data:
            return CoveringMessage()
        return CoveringMessage(str(data["subject"]), str(data["body"]))

    def save_covering(self, message: CoveringMessage) -> CoveringMessage:
        """Check and keep the school's covering message."""
        self.ctx.require(Permission.SETTINGS, action="change covering message")
        clean = check_covering(message)
        text = json.dumps({"subject": clean.subject, "body": clean.body}, ensure_ascii=False)
        with self.ctx.sessions.begin() as session:
            session.merge(SettingRecord(key=COVERING_SETTING, value=text))
        return clean

    # ----- sending ----------------------------------------------------------------------

    def send_message(
        self, settings: MailSettings, recipients: list[str], message: EmailMessage
    ) -> Delivery:
        """Send one message with the saved password; MailError/MailUncertain if not taken."""
        data = message.as_bytes(policy=SMTP_POLICY)
        try:
            reply = deliver(
                settings, self._password(), settings.sender, recipients, data, self.timeout
            )
        except _Uncertain:
            raise MailUncertain(
                "The connection to the mail server broke after the message was handed over, "
                "so it may have been sent; check the mailbox's Sent folder before sending again."
            ) from None
        return Delivery(reply, self.ctx.now())

    def require_configured(self) -> MailSettings:
        """The settings, when a server, a user and a readable password are saved."""
        settings = self._configured()
        self._password()
        return settings

    def send_text(self, to: str, subject: str, body: str) -> Delivery:
        """Send a short plain-text message from the school's mailbox (tests, reminders)."""
        settings = self._configured()
        message = self._message(settings, [to], [], self.letters.profile.get().name)
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=_domain(settings))
        message.set_content(body)
        return self.send_message(settings, [to], message)

    def test(self, to: str) -> Delivery:
        """Send a short test message, to check the settings."""
        address = check_address(to, "test address")
        school = self.letters.profile.get().name or "the school"
        delivery = self.send_text(
            address,
            "Test message from Conduct Casebook",
            f"This is a test message from the Conduct Casebook of {school}.\n\n"
            "It shows that letters can be sent from this mailbox. No reply is needed.\n",
        )
        self.ctx.audit("mail test", "", f"to {address}")
        return delivery

    def _message(
        self, settings: MailSettings, to: list[str], cc: list[str], school: str
    ) -> EmailMessage:
        message = EmailMessage(policy=SMTP_POLICY)
        message["From"] = formataddr((school, settings.sender)) if school else settings.sender
        message["To"] = ", ".join(to)
        if cc:
            message["Cc"] = ", ".join(cc)
        message["Date"] = format_datetime(self.ctx.now())
        message["MIME-Version"] = "1.0"
        return message

    def letter_email(self, letter_id: int) -> LetterEmail | None:
        """The email record of a letter, if it was ever sent (or tried) by email."""
        letter = self.letters.get_letter(letter_id)
        with self.ctx.sessions() as session:
            record = session.scalar(
                select(LetterEmailRecord).where(LetterEmailRecord.letter_id == letter_id)
            )
            return _email(record, letter.case_reference) if record is not None else None

    def prepare_letter(self, letter_id: int, *, cc_office: bool = False) -> OutgoingLetter:
        """What sending this letter by email would send; refuses what cannot be sent."""
        letter = self.letters.get_letter(letter_id)
        previous = self.letter_email(letter_id)
        if letter.sent_on is not None and not (previous and previous.state == SENT):
            raise ValidationError(
                f"That letter was already recorded as sent on {format_long_date(letter.sent_on)}; "
                "nothing was emailed."
            )
        settings = self._configured()
        profile = self.letters.profile.get()
        with self.ctx.sessions() as session:
            record = session.get(LetterRecord, letter_id)
            person_id = record.person_id if record is not None else None
        if person_id is None:
            raise ValidationError(
                f"The recipient of that letter ({letter.recipient_name}) is no longer in the "
                "casebook, so there is no email address to send it to."
            )
        person = self.people.get_person(person_id)
        if not person.email.strip():
            raise ValidationError(
                f"There is no email address on record for {person.name}; add it on the "
                "case's People tab, or send the letter by post."
            )
        to_address = check_address(person.email, f"email address of {person.name}")
        cc_address = ""
        if cc_office:
            if not profile.email.strip():
                raise ValidationError(
                    "The school office's email address is empty; complete it in the school "
                    "profile (Settings) to copy the office."
                )
            cc_address = check_address(profile.email, "school office's email address")
        values = {
            "school": profile.name,
            "reference": letter.case_reference,
            "recipient": person.name,
            "letter_date": format_long_date(letter.letter_date),
            "telephone": profile.telephone,
            "office_email": profile.email,
            "head_teacher": profile.head_teacher,
            "head_title": profile.head_title,
        }
        subject, body = fill_covering(self.covering(), values)
        return OutgoingLetter(
            letter=letter,
            sender=settings.sender,
            to_address=to_address,
            cc_address=cc_address,
            subject=subject,
            body=body,
            attachment=attachment_name(letter.case_reference, letter.letter_date),
            previous=previous,
        )

    def send_letter(
        self, letter_id: int, *, cc_office: bool = False, send_again: bool = False
    ) -> LetterEmail:
        """Email the letter PDF to its recipient; on the server's acceptance, mark it sent.

        A failure leaves the letter prepared. When an earlier attempt may have been
        delivered, refuses (MailUncertain) unless ``send_again``.
        """
        outgoing = self.prepare_letter(letter_id, cc_office=cc_office)
        letter = outgoing.letter
        self.ctx.require(
            Permission.LETTERS, case_id=letter.case_id, action="email letter", detail=letter.label
        )
        previous = outgoing.previous
        if previous is not None and previous.state == SENT:
            # Accepted by the server, but the letter was not yet marked (the program
            # stopped in between): finish the record, send nothing.
            self.letters.mark_sent(letter_id, SendMethod.EMAIL, on=_london_day(previous))
            return previous
        if previous is not None and previous.may_have_gone and not send_again:
            raise MailUncertain(
                f"An earlier attempt to email this letter, on "
                f"{format_date_time(previous.last_attempt_at)}, was cut off after the message "
                f"was handed to the server, so it may have reached {previous.to_address}; check "
                "the mailbox's Sent folder, and send it again only if it is not there."
            )
        settings = self._configured()
        password = self._password()  # refuses before anything is recorded
        message_id = (
            previous.message_id if previous is not None else make_msgid(domain=_domain(settings))
        )
        school = self.letters.profile.get().name
        message = self._message(
            settings,
            [outgoing.to_address],
            [outgoing.cc_address] if outgoing.cc_address else [],
            school,
        )
        message["Subject"] = outgoing.subject
        message["Message-ID"] = message_id
        message.set_content(outgoing.body)
        pdf = self.letters.letter_pdf(letter_id)
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=outgoing.attachment
        )
        eml = message.as_bytes(policy=SMTP_POLICY)
        with self.ctx.sessions() as session:
            sealed = case_is_sealed(session, letter.case_id)
        stored = self.blobs.put_bytes(eml, sealed=sealed)
        now = self.ctx.now()
        # Recorded before the server is contacted: if the program stops while sending, the
        # next attempt knows this one may have gone. Claimed with a compare-and-set on the
        # attempt count, so two copies of the program cannot both send it.
        seen = previous.attempts if previous is not None else 0
        busy = ValidationError(
            "This letter is being sent from another window or command at this moment; "
            "nothing more was sent. Look again in a minute."
        )
        values = {
            "state": PENDING,
            "to_address": outgoing.to_address,
            "cc_address": outgoing.cc_address,
            "eml_sha256": stored.sha256,
            "eml_size": stored.size,
            "attempts": seen + 1,
            "last_attempt_at": now,
            "last_attempt_by": self.ctx.actor,
            "last_error": "",
        }
        try:
            with self.ctx.sessions.begin() as session:
                if previous is None:
                    session.add(
                        LetterEmailRecord(
                            letter_id=letter_id,
                            case_id=letter.case_id,
                            message_id=message_id,
                            **values,
                        )
                    )
                    session.flush()
                else:
                    # The claim: only one writer moves the attempt count on from ``seen``.
                    # (A Core UPDATE skips the ORM's sealing hook, so the case's rule is
                    # applied to the sealed columns here.)
                    for name in ("to_address", "cc_address"):
                        if sealed and values[name]:
                            values[name] = Sealed(str(values[name]))
                    claimed = session.execute(
                        update(LetterEmailRecord)
                        .where(
                            LetterEmailRecord.letter_id == letter_id,
                            LetterEmailRecord.attempts == seen,
                            LetterEmailRecord.state != SENT,
                        )
                        .values(**values)
                        .execution_options(synchronize_session=False)
                    )
                    if claimed.rowcount != 1:  # type: ignore[attr-defined]
                        raise busy
        except IntegrityError:
            raise busy from None
        recipients = [outgoing.to_address] + ([outgoing.cc_address] if outgoing.cc_address else [])
        try:
            reply = deliver(settings, password, settings.sender, recipients, eml, self.timeout)
        except MailError as failure:
            self._finish(letter_id, FAILED, error=failure.message)
            log.info("Emailing letter %d failed: %s", letter_id, type(failure).__name__)
            raise
        except _Uncertain as cut_off:
            self._finish(letter_id, PENDING, error=f"cut off: {cut_off}")
            raise MailUncertain(
                f"The connection to the mail server broke just after the letter was handed "
                f"over, so it may have reached {outgoing.to_address}; it is not recorded as "
                "sent. Check the mailbox's Sent folder, and send it again only if it is not there."
            ) from None
        self._finish(letter_id, SENT, reply=reply)
        self.letters.mark_sent(letter_id, SendMethod.EMAIL)
        done = self.letter_email(letter_id)
        assert done is not None
        return done

    def _finish(self, letter_id: int, state: str, *, error: str = "", reply: str = "") -> None:
        with self.ctx.sessions.begin() as session:
            record = session.scalar(
                select(LetterEmailRecord).where(LetterEmailRecord.letter_id == letter_id)
            )
            if record is None:
                raise NotFoundError("That letter no longer exists.")
            record.state = state
            record.last_error = error
            if state == SENT:
                record.sent_at = self.ctx.now()
                record.server_reply = reply

    def sent_message(self, letter_id: int) -> bytes:
        """The message exactly as it was handed to the server (.eml)."""
        found = self.letter_email(letter_id)
        if found is None:
            raise NotFoundError("That letter was never sent by email.")
        data = self.blobs.read_bytes(found.eml_sha256)
        if hashlib.sha256(data).hexdigest() != found.eml_sha256:
            raise NotFoundError("The stored copy of the email is damaged.")
        return data


def _domain(settings: MailSettings) -> str:
    return settings.sender.rpartition("@")[2] or "casebook.invalid"


def _london_day(email: LetterEmail) -> date:
    return london_today(email.sent_at or email.last_attempt_at)


def _email(record: LetterEmailRecord, reference: str) -> LetterEmail:
    return LetterEmail(
        letter_id=record.letter_id,
        case_reference=reference,
        state=record.state,
        message_id=record.message_id,
        to_address=str(record.to_address),
        cc_address=str(record.cc_address or ""),
        eml_sha256=record.eml_sha256,
        eml_size=record.eml_size,
        attempts=record.attempts,
        last_attempt_at=record.last_attempt_at,
        last_error=record.last_error or "",
        sent_at=record.sent_at,
        server_reply=str(record.server_reply or ""),
    )
