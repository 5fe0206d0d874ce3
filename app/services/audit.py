"""The audit trail: who viewed, changed, exported or printed what, hash-chained.

Each entry's hash covers its own fields and the previous entry's hash, so an edited,
removed or reordered entry breaks the chain. The newest sequence number and hash are also
written to a file beside the database, so removing the newest entries is noticed too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session

from app.db.models import AuditEntryRecord
from app.domain.access import Permission
from app.domain.dates import format_date_time, format_date_time_seconds, london_midnight
from app.files import replace_file
from app.services.context import ServiceContext

log = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD_FILE = "audit-head.txt"


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail, as the audit view and CSV show it."""

    seq: int
    at: datetime
    user: str
    action: str
    target: str
    detail: str
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: a user (exact), words in the action or record, a time span.

    ``since`` is inclusive and ``until`` exclusive, both in UTC.
    """

    user: str = ""
    action: str = ""
    target: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def for_days(
        cls,
        *,
        user: str = "",
        action: str = "",
        target: str = "",
        first_day: date | None = None,
        last_day: date | None = None,
    ) -> AuditFilter:
        """A filter over whole days in London time, ``last_day`` included."""
        return cls(
            user=user,
            action=action,
            target=target,
            since=london_midnight(first_day) if first_day else None,
            until=london_midnight(last_day + timedelta(days=1)) if last_day else None,
        )


@dataclass(frozen=True)
class AuditCheck:
    """The result of checking the chain: ``problems`` is empty when all is well."""

    entries: int
    problems: tuple[str, ...]
    # The number of the first entry named in ``problems``, when one is still there to show.
    broken_seq: int | None = None

    @property
    def ok(self) -> bool:
        """True when no entry was edited, removed or reordered."""
        return not self.problems


def entry_hash(
    prev_hash: str, seq: int, at: datetime, user: str, action: str, target: str, detail: str
) -> str:
    """The SHA-256 of an entry's fields and the previous entry's hash."""
    payload = json.dumps(
        [prev_hash, seq, at.isoformat(), user, action, target, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _describe(record: Any) -> str:
    what = f"{record.action} {record.target}".strip()
    return f"entry {record.seq} ({format_date_time(record.at)}, {record.user}: {what})"


class AuditService:
    """Appends to, checks, lists and exports the audit trail."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.head_path = ctx.data_dir / HEAD_FILE
        self._head_lock = threading.Lock()  # a worker thread and the window may both write

    # ----- writing --------------------------------------------------------------------

    def record(self, user: str, action: str, target: str = "", detail: str = "") -> None:
        """Append one entry (its own transaction, so a refused change is still recorded)."""
        with self.ctx.sessions() as session:
            self._lock_for_append(session)
            last = session.execute(
                select(AuditEntryRecord.seq, AuditEntryRecord.hash)
                .order_by(AuditEntryRecord.seq.desc())
                .limit(1)
            ).first()
            # Never reuse a number: after entries were removed, the gap stays visible.
            head = self._read_head()
            seq = max(last.seq if last else 0, head[0] if head else 0) + 1
            prev = last.hash if last else GENESIS
            at = self.ctx.now()
            user, action, target = user[:60], action[:60], target[:200]
            digest = entry_hash(prev, seq, at, user, action, target, detail)
            session.add(
                AuditEntryRecord(
                    seq=seq,
                    at=at,
                    user=user,
                    action=action,
                    target=target,
                    detail=detail,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            session.commit()
        self._write_head(seq, digest)

    def _lock_for_append(self, session: Session) -> None:
        # Two processes (the window and a command) must not both take the same number.
        if self.ctx.dialect == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        else:
            session.execute(text("LOCK TABLE audit_entries IN EXCLUSIVE MODE"))

    def _read_head(self) -> tuple[int, str] | None:
        try:
            seq_text, digest = self.head_path.read_text(encoding="ascii").split()
            return int(seq_text), digest
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return (-1, "")

    def _write_head(self, seq: int, digest: str) -> None:
        with self._head_lock:
            current = self._read_head()
            if current is not None and current[0] >= seq:
                return
            # A name of its own, so another process, or another casebook object in this one,
            # writing at the same moment cannot clash (the lock covers one object only).
            temp = self.head_path.with_name(f"{HEAD_FILE}.{secrets.token_hex(8)}.part")
            with open(temp, "w", encoding="ascii") as handle:
                handle.write(f"{seq} {digest}\n")
                handle.flush()
                os.fsync(handle.fileno())
            replace_file(temp, self.head_path)

    # ----- checking -------------------------------------------------------------------

    def verify(self) -> AuditCheck:
        """Walk the chain and name every entry that was edited, removed or reordered."""
        self.ctx.require(Permission.AUDIT, action="check audit trail")
        problems: list[str] = []
        broken_seq: int | None = None
        columns = (
            AuditEntryRecord.seq,
            AuditEntryRecord.at,
            AuditEntryRecord.user,
            AuditEntryRecord.action,
            AuditEntryRecord.target,
            AuditEntryRecord.detail,
            AuditEntryRecord.prev_hash,
            AuditEntryRecord.hash,
        )
        with self.ctx.sessions() as session:
            # Plain rows, streamed: a hundred thousand ORM objects would take seconds.
            records = session.execute(
                select(*columns).order_by(AuditEntryRecord.id).execution_options(yield_per=2000)
            )
            expected_seq, prev_hash, count = 1, GENESIS, 0
            last: Any = None
            for record in records:
                count += 1
                problems_before = len(problems)
                if record.seq < expected_seq:
                    problems.append(f"The audit trail is out of order at {_describe(record)}.")
                elif record.seq > expected_seq:
                    missing = record.seq - expected_seq
                    problems.append(
                        f"{missing} audit entr{'y' if missing == 1 else 'ies'} "
                        f"before {_describe(record)} {'has' if missing == 1 else 'have'} "
                        "been removed."
                    )
                own = entry_hash(
                    record.prev_hash,
                    record.seq,
                    record.at,
                    record.user,
                    record.action,
                    record.target,
                    record.detail,
                )
                if own != record.hash:
                    problems.append(f"The audit trail's {_describe(record)} has been changed.")
                elif record.prev_hash != prev_hash and record.seq == expected_seq:
                    problems.append(
                        f"The audit trail's {_describe(record)} does not follow the entry "
                        "before it (an entry was changed, removed or moved)."
                    )
                if broken_seq is None and len(problems) > problems_before:
                    broken_seq = record.seq
                expected_seq = max(expected_seq, record.seq) + 1
                prev_hash = record.hash
                last = record
        head = self._read_head()
        if head is None:
            if last is not None:
                problems.append(
                    f"The record of the newest audit entry ({HEAD_FILE}) is missing "
                    "from the data folder."
                )
        elif head[0] < 0:
            problems.append(f"The record of the newest audit entry ({HEAD_FILE}) is damaged.")
        else:
            head_seq, head_hash = head
            last_seq = last.seq if last else 0
            if last_seq < head_seq:
                gone = head_seq - last_seq
                problems.append(
                    f"The newest {gone} audit entr{'y' if gone == 1 else 'ies'} "
                    f"(up to number {head_seq}) {'has' if gone == 1 else 'have'} been removed."
                )
            elif last is not None and last_seq == head_seq and last.hash != head_hash:
                problems.append(
                    f"The audit trail's newest {_describe(last)} does not match the "
                    "record kept outside the database."
                )
                broken_seq = last.seq if broken_seq is None else broken_seq
        return AuditCheck(entries=count, problems=tuple(problems), broken_seq=broken_seq)

    # ----- reading --------------------------------------------------------------------

    def entries(
        self,
        audit_filter: AuditFilter | None = None,
        *,
        user: str = "",
        action: str = "",
        target: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int | None = 5000,
    ) -> list[AuditEntry]:
        """The newest entries first, filtered by user, action, target (any part) and time.

        Give either ``audit_filter`` or the separate words; ``offset`` and ``limit`` read one
        page of a long trail; ``limit=None`` reads them all.
        """
        self.ctx.require(Permission.AUDIT)
        if audit_filter is None:
            audit_filter = AuditFilter(user, action, target, since, until)
        query = (
            _filtered(select(AuditEntryRecord), audit_filter)
            .order_by(AuditEntryRecord.seq.desc())
            .offset(max(offset, 0))
            .limit(limit)
        )
        with self.ctx.sessions() as session:
            return [
                AuditEntry(r.seq, r.at, r.user, r.action, r.target, r.detail, r.hash)
                for r in session.scalars(query)
            ]

    def count(self, audit_filter: AuditFilter | None = None) -> int:
        """How many entries the filter lets through."""
        self.ctx.require(Permission.AUDIT)
        query = _filtered(select(func.count(AuditEntryRecord.id)), audit_filter or AuditFilter())
        with self.ctx.sessions() as session:
            return int(session.scalar(query) or 0)

    def position(self, seq: int, audit_filter: AuditFilter | None = None) -> int | None:
        """Where entry ``seq`` stands in the filtered list (0 = newest), or None if not in it."""
        self.ctx.require(Permission.AUDIT)
        audit_filter = audit_filter or AuditFilter()
        with self.ctx.sessions() as session:
            shown = session.scalar(
                _filtered(select(AuditEntryRecord.id), audit_filter).where(
                    AuditEntryRecord.seq == seq
                )
            )
            if shown is None:
                return None
            newer = session.scalar(
                _filtered(select(func.count(AuditEntryRecord.id)), audit_filter).where(
                    AuditEntryRecord.seq > seq
                )
            )
            return int(newer or 0)

    def user_names(self) -> list[str]:
        """Every user name that appears in the trail, in alphabetical order."""
        self.ctx.require(Permission.AUDIT)
        with self.ctx.sessions() as session:
            names = session.scalars(select(AuditEntryRecord.user).distinct()).all()
        return sorted(names, key=str.casefold)

    def open_trail(self) -> int:
        """Record that the user opened the audit trail (refused unless allowed); the count."""
        self.ctx.require(Permission.AUDIT, action="view audit trail")
        return self.count()

    def export_csv(self, entries: list[AuditEntry]) -> bytes:
        """The given entries as CSV (UTF-8 with a byte-order mark, so Excel reads it)."""
        self.ctx.require(Permission.AUDIT, action="export audit trail", detail=f"{len(entries)}")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Number", "Time (UK)", "User", "Action", "Record", "Detail", "Hash"])
        for e in entries:
            writer.writerow(
                [
                    e.seq,
                    format_date_time_seconds(e.at),
                    e.user,
                    e.action,
                    e.target,
                    e.detail,
                    e.hash,
                ]
            )
        return ("\ufeff" + out.getvalue()).encode("utf-8")


def _filtered(query: Select[Any], audit_filter: AuditFilter) -> Select[Any]:
    """``query`` narrowed by the filter, in SQL (case-insensitive words)."""
    if audit_filter.user.strip():
        query = query.where(func.lower(AuditEntryRecord.user) == audit_filter.user.strip().lower())
    if audit_filter.action.strip():
        query = query.where(
            AuditEntryRecord.action.icontains(audit_filter.action.strip(), autoescape=True)
        )
    if audit_filter.target.strip():
        query = query.where(
            AuditEntryRecord.target.icontains(audit_filter.target.strip(), autoescape=True)
        )
    if audit_filter.since is not None:
        query = query.where(AuditEntryRecord.at >= audit_filter.since)
    if audit_filter.until is not None:
        query = query.where(AuditEntryRecord.at < audit_filter.until)
    return query


def head_file(data_dir: Path) -> Path:
    """Where the newest entry's number and hash are kept outside the database."""
    return data_dir / HEAD_FILE
