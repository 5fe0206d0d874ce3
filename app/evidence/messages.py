"""Emails kept as evidence: the headers, the text and the attachments of a saved message.

An ``.eml`` is read with the standard library's parser; an Outlook ``.msg`` (a compound
file) with ``olefile``, reading the few MAPI properties that matter. Nothing in a message
is run or shown as HTML: HTML bodies are turned into plain text, and each attachment is
handed back as bytes for the same intake checks as any other file.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import html
import io
import logging
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from app.domain.errors import EvidenceRejected

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 50  # more than this in one email is refused with the email
MAX_BODY_CHARS = 200_000


@dataclass(frozen=True)
class MailAttachment:
    name: str
    data: bytes


@dataclass(frozen=True)
class MailMessage:
    """What is read from one saved email."""

    sender: str = ""
    to: str = ""
    cc: str = ""
    subject: str = ""
    sent_at: datetime | None = None
    message_id: str = ""
    body: str = ""
    attachments: tuple[MailAttachment, ...] = ()
    skipped: tuple[str, ...] = ()  # attachments that could not be taken out, with why

    def header_pairs(self) -> list[tuple[str, str]]:
        """(label, value) for each header present, in the order an email client shows."""
        sent = self.sent_at.isoformat() if self.sent_at else ""
        pairs = [
            ("From", self.sender),
            ("To", self.to),
            ("Cc", self.cc),
            ("Subject", self.subject),
            ("Date", sent),
            ("Message-ID", self.message_id),
        ]
        return [(k, v) for k, v in pairs if v]

    def searchable_text(self) -> str:
        """Headers and body as one text, for the search index and the text panel."""
        head = "\n".join(f"{k}: {v}" for k, v in self.header_pairs())
        return f"{head}\n\n{self.body}".strip()[:MAX_BODY_CHARS]


def _clean(value: object, limit: int = 2000) -> str:
    text = " ".join(str(value or "").split())
    return "".join(ch for ch in text if ch.isprintable())[:limit]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class _TextOnly(HTMLParser):
    """The words of an HTML body, without scripts, styles or markup."""

    _BREAKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "table", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML email body."""
    parser = _TextOnly()
    try:
        parser.feed(markup[: MAX_BODY_CHARS * 4])
        parser.close()
    except (ValueError, AssertionError):
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))[:MAX_BODY_CHARS]
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()[:MAX_BODY_CHARS]


# ----- .eml --------------------------------------------------------------------------


def read_email(data: bytes, shown: str) -> MailMessage:
    """Read a saved ``.eml`` message; raise ``EvidenceRejected`` when it is not one."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except (ValueError, TypeError, IndexError, LookupError) as error:
        log.info("An email could not be parsed: %s", type(error).__name__)
        raise EvidenceRejected(f"{shown} looks like an email but it cannot be read.") from None
    assert isinstance(message, EmailMessage)
    try:
        sent_at = _utc(email.utils.parsedate_to_datetime(str(message.get("Date", ""))))
    except (TypeError, ValueError, IndexError):
        sent_at = None
    body = ""
    attachments: list[MailAttachment] = []
    skipped: list[str] = []
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is not None:
            content = part.get_content()
            body = html_to_text(content) if part.get_content_subtype() == "html" else content
        for index, item in enumerate(message.iter_attachments(), start=1):
            name = item.get_filename() or f"attachment {index}"
            if len(attachments) >= MAX_ATTACHMENTS:
                raise EvidenceRejected(
                    f"{shown} has more than {MAX_ATTACHMENTS} attachments; please add the "
                    "files that matter one by one."
                )
            payload = item.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                attachments.append(MailAttachment(name, payload))
            elif item.get_content_type() == "message/rfc822":
                inner = item.get_payload()
                if isinstance(inner, list) and inner and not isinstance(inner[0], str):
                    raw = inner[0].as_bytes()
                    attachments.append(MailAttachment(name if "." in name else name + ".eml", raw))
            else:
                skipped.append(f"{name} is empty")
    except EvidenceRejected:
        raise
    except (ValueError, TypeError, LookupError, AttributeError, KeyError) as error:
        log.info("An email's parts could not be read: %s", type(error).__name__)
        raise EvidenceRejected(
            f"{shown} looks like an email but its parts cannot be read."
        ) from None
    return MailMessage(
        sender=_clean(message.get("From", "")),
        to=_clean(message.get("To", "")),
        cc=_clean(message.get("Cc", "")),
        subject=_clean(message.get("Subject", ""), 1000),
        sent_at=sent_at,
        message_id=_clean(message.get("Message-ID", ""), 1000),
        body=str(body).replace("\r\n", "\n").strip()[:MAX_BODY_CHARS],
        attachments=tuple(attachments),
        skipped=tuple(skipped),
    )


# ----- Outlook .msg --------------------------------------------------------------------------

# MAPI property ids (the first four hex digits of a stream's name).
_SUBJECT = 0x0037
_SENDER_NAME = 0x0C1A
_SENDER_ADDRESS = 0x0C1F
_SENDER_SMTP = 0x5D01
_DISPLAY_TO = 0x0E04
_DISPLAY_CC = 0x0E03
_BODY = 0x1000
_HTML = 0x1013
_MESSAGE_ID = 0x1035
_HEADERS = 0x007D
_CLIENT_SUBMIT_TIME = 0x0039
_DELIVERY_TIME = 0x0E06
_ATTACH_DATA = 0x3701
_ATTACH_LONG_NAME = 0x3707
_ATTACH_NAME = 0x3704

_STRING_TYPES = {0x001F: "utf-16-le", 0x001E: "cp1252"}
_PT_SYSTIME = 0x0040
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def _ole_string(ole: object, folder: str, prop: int) -> str:
    """A string property under ``folder`` ('' for the message itself)."""
    for kind, codec in _STRING_TYPES.items():
        path = f"{folder}__substg1.0_{prop:04X}{kind:04X}"
        if ole.exists(path):  # type: ignore[attr-defined]
            raw = ole.openstream(path).read()  # type: ignore[attr-defined]
            return str(raw.decode(codec, errors="replace").rstrip("\x00"))
    return ""


def _ole_binary(ole: object, folder: str, prop: int) -> bytes | None:
    path = f"{folder}__substg1.0_{prop:04X}0102"
    if ole.exists(path):  # type: ignore[attr-defined]
        return bytes(ole.openstream(path).read())  # type: ignore[attr-defined]
    return None


def _ole_times(ole: object) -> dict[int, datetime]:
    """The date properties held in the message's fixed-length property stream."""
    path = "__properties_version1.0"
    if not ole.exists(path):  # type: ignore[attr-defined]
        return {}
    raw = ole.openstream(path).read()  # type: ignore[attr-defined]
    found: dict[int, datetime] = {}
    for offset in range(32, len(raw) - 15, 16):
        tag, _flags, value = struct.unpack_from("<IIQ", raw, offset)
        if tag & 0xFFFF == _PT_SYSTIME and value:
            try:
                found[tag >> 16] = _FILETIME_EPOCH + timedelta(microseconds=value // 10)
            except OverflowError:
                continue
    return found


def read_outlook(data: bytes, shown: str) -> MailMessage:
    """Read a saved Outlook ``.msg``; raise ``EvidenceRejected`` when it cannot be read."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, ValueError, IndexError, struct.error) as error:
        log.info("An Outlook message could not be opened: %s", type(error).__name__)
        raise EvidenceRejected(
            f"{shown} looks like an Outlook message but it is damaged, so it cannot be read."
        ) from None
    try:
        headers = _ole_string(ole, "", _HEADERS)
        parsed: Any = (
            email.message_from_string(headers, policy=email.policy.default) if headers else {}
        )
        times = _ole_times(ole)
        sent_at = times.get(_CLIENT_SUBMIT_TIME) or times.get(_DELIVERY_TIME)
        if sent_at is None and parsed:
            try:
                sent_at = _utc(email.utils.parsedate_to_datetime(str(parsed.get("Date", ""))))
            except (TypeError, ValueError, IndexError):
                sent_at = None
        name = _ole_string(ole, "", _SENDER_NAME)
        address = _ole_string(ole, "", _SENDER_SMTP) or _ole_string(ole, "", _SENDER_ADDRESS)
        sender = f"{name} <{address}>" if name and address and name != address else name or address
        if not sender and parsed:
            sender = str(parsed.get("From", ""))
        body = _ole_string(ole, "", _BODY)
        if not body.strip():
            markup = _ole_binary(ole, "", _HTML)
            if markup:
                body = html_to_text(markup.decode("utf-8", errors="replace"))
        attachments: list[MailAttachment] = []
        skipped: list[str] = []
        folders = sorted(
            {
                entry[0]
                for entry in ole.listdir(streams=True, storages=True)
                if entry and entry[0].startswith("__attach_version1.0_#")
            }
        )
        if len(folders) > MAX_ATTACHMENTS:
            raise EvidenceRejected(
                f"{shown} has more than {MAX_ATTACHMENTS} attachments; please add the files "
                "that matter one by one."
            )
        for index, folder in enumerate(folders, start=1):
            prefix = folder + "/"
            filename = (
                _ole_string(ole, prefix, _ATTACH_LONG_NAME)
                or _ole_string(ole, prefix, _ATTACH_NAME)
                or f"attachment {index}"
            )
            payload = _ole_binary(ole, prefix, _ATTACH_DATA)
            if payload:
                attachments.append(MailAttachment(filename, payload))
            else:
                skipped.append(
                    f"{filename} is an item embedded by Outlook, not a file, so it was not "
                    "taken out (it stays inside the message)"
                )
        to = _ole_string(ole, "", _DISPLAY_TO) or (str(parsed.get("To", "")) if parsed else "")
        message_id = _ole_string(ole, "", _MESSAGE_ID) or (
            str(parsed.get("Message-ID", "")) if parsed else ""
        )
        return MailMessage(
            sender=_clean(sender),
            to=_clean(to),
            cc=_clean(_ole_string(ole, "", _DISPLAY_CC)),
            subject=_clean(_ole_string(ole, "", _SUBJECT), 1000),
            sent_at=_utc(sent_at),
            message_id=_clean(message_id, 1000),
            body=body.replace("\r\n", "\n").strip()[:MAX_BODY_CHARS],
            attachments=tuple(attachments),
            skipped=tuple(skipped),
        )
    except EvidenceRejected:
        raise
    except (OSError, ValueError, IndexError, struct.error, KeyError) as error:
        log.info("An Outlook message could not be read: %s", type(error).__name__)
        raise EvidenceRejected(
            f"{shown} looks like an Outlook message but it is damaged, so it cannot be read."
        ) from None
    finally:
        ole.close()
