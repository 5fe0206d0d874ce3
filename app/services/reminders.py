"""Reminders outside the window: one email a day of the actions due and overdue.

The digest names case references and action labels only, never a person, a title or the
words of a post: it goes to a mailbox that others may read over a shoulder. The head
teacher's digest has everything; the DSL's has the safeguarding cases' items. A day's
sending is recorded per address before the server is contacted, so a second run that day
(a scheduled task run twice, a PC woken from sleep) sends nothing again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.db.models import CaseActionRecord, CaseRecord, SettingRecord
from app.db.sealing import is_safeguarding
from app.domain.access import Permission
from app.domain.dates import LONDON, format_date_time, london_today, to_london
from app.domain.mail import MailError, MailUncertain, ReminderItem, check_address, digest
from app.domain.status import CLOSED_STATUSES
from app.services.context import ServiceContext
from app.services.mail import MailService

log = logging.getLogger(__name__)

SENT_SETTING = "reminders_sent"


@dataclass(frozen=True)
class Digest:
    """One reminder email: to whom, and what it says."""

    to: str
    role: str  # "head", "dsl" or "chosen" (--to)
    subject: str
    body: str
    items: int
    sensitive: bool = False  # it lists safeguarding cases' references


@dataclass(frozen=True)
class ReminderRun:
    """What ``remind`` did (or, for a dry run, would do)."""

    due: int
    digests: tuple[Digest, ...]
    sent: tuple[str, ...]
    already_sent: tuple[str, ...]
    dry_run: bool
    sent_earlier_at: datetime | None = None


class ReminderService:
    """The daily digest of what is due, sent from the school's mailbox."""

    def __init__(self, ctx: ServiceContext, mail: MailService) -> None:
        self.ctx = ctx
        self.mail = mail

    def due(self) -> list[ReminderItem]:
        """Open actions on open cases due by the end of today (London), oldest first.

        Every case is included (the head's digest has safeguarding items too); only the
        reference and the action's label are read, both stored in clear.
        """
        self.ctx.require(Permission.REPORTS)
        now = self.ctx.now()
        local = to_london(now)
        horizon = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
        horizon = horizon.replace(tzinfo=LONDON)
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(
                    CaseRecord.reference,
                    CaseRecord.categories,
                    CaseActionRecord.label,
                    CaseActionRecord.due_at,
                )
                .join(CaseRecord, CaseRecord.id == CaseActionRecord.case_id)
                .where(
                    CaseActionRecord.done_at.is_(None),
                    CaseActionRecord.due_at < horizon,
                    CaseRecord.status.not_in([s.value for s in CLOSED_STATUSES]),
                )
                .order_by(CaseActionRecord.due_at, CaseRecord.reference)
            ).all()
        return [
            ReminderItem(
                reference=r.reference,
                label=r.label,
                due_at=r.due_at,
                overdue=to_london(r.due_at).date() < local.date(),
                safeguarding=is_safeguarding(r.categories),
            )
            for r in rows
        ]

    def digests(self, to: str | None = None) -> list[Digest]:
        """Today's reminder emails: the head's and the DSL's, or one to ``to``."""
        items = self.due()
        if not items:
            return []
        settings = self.mail.settings()
        today = london_today(self.ctx.now())
        school = self.mail.letters.profile.get().name
        if to is not None:
            address = check_address(to, "address for the reminder")
            # A chosen address gets what the person running the command may see.
            shown = [
                i for i in items if not i.safeguarding or self.ctx.may(Permission.SAFEGUARDING)
            ]
            if not shown:
                return []
            sensitive = any(i.safeguarding for i in shown)
            return [Digest(address, "chosen", *digest(shown, today, school), len(shown), sensitive)]
        sensitive = any(i.safeguarding for i in items)
        head = settings.reminder_address
        found = [Digest(head, "head", *digest(items, today, school), len(items), sensitive)]
        safeguarding = [i for i in items if i.safeguarding]
        dsl = settings.dsl_address
        if safeguarding and dsl and dsl.casefold() != settings.reminder_address.casefold():
            found.append(
                Digest(dsl, "dsl", *digest(safeguarding, today, school), len(safeguarding), True)
            )
        return found

    def run(self, to: str | None = None, *, dry_run: bool = False) -> ReminderRun:
        """Send today's digests that have not been sent today; nothing when nothing is due."""
        if not dry_run:
            self.mail.require_configured()
        digests = self.digests(to)
        due = len(self.due()) if digests else 0
        today = london_today(self.ctx.now())
        sent_to, earlier = self._record(today)
        already = tuple(d.to for d in digests if d.to.casefold() in sent_to)
        todo = [d for d in digests if d.to.casefold() not in sent_to]
        if dry_run or not todo:
            return ReminderRun(
                due,
                tuple(digests),
                (),
                already,
                dry_run,
                datetime.fromisoformat(earlier) if earlier and already else None,
            )
        sent: list[str] = []
        for item in todo:
            # Recorded first: if the program stops while sending, this address is not
            # written to twice today.
            self._note(today, item.to, add=True)
            try:
                self.mail.send_text(item.to, item.subject, item.body)
            except MailError as failure:
                if not isinstance(failure, MailUncertain):
                    self._note(today, item.to, add=False)
                raise
            sent.append(item.to)
            self.ctx.audit("reminder sent", "", f"{item.items} item(s) to {item.role}")
        return ReminderRun(due, tuple(digests), tuple(sent), already, dry_run)

    def _record(self, today: date) -> tuple[list[str], str | None]:
        """The addresses already written to today, and when the last one was."""
        with self.ctx.sessions() as session:
            row = session.get(SettingRecord, SENT_SETTING)
            data = json.loads(row.value) if row is not None else {}
        if data.get("date") != today.isoformat():
            return [], None
        return [str(a).casefold() for a in data.get("sent_to", [])], data.get("at")

    def _note(self, today: date, address: str, *, add: bool) -> None:
        with self.ctx.sessions.begin() as session:
            row = session.get(SettingRecord, SENT_SETTING)
            data = json.loads(row.value) if row is not None else {}
            if data.get("date") != today.isoformat():
                data = {"date": today.isoformat(), "sent_to": []}
            sent_to = [a for a in data.get("sent_to", []) if a != address.casefold()]
            if add:
                sent_to.append(address.casefold())
            data["sent_to"] = sent_to
            data["at"] = self.ctx.now().isoformat()
            session.merge(SettingRecord(key=SENT_SETTING, value=json.dumps(data)))

    def describe_earlier(self, run: ReminderRun) -> str:
        """'at 07:30' for the sentence about a digest already sent today."""
        return f" at {format_date_time(run.sent_earlier_at)[-5:]}" if run.sent_earlier_at else ""
