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
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db.models import AuditEntryRecord
from app.domain.access import Permission
from app.domain.dates import format_date_time
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
class AuditCheck:
    """The result of checking the chain: ``problems`` is empty when all is well."""

    entries: int
    problems: tuple[str, ...]

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


def _describe(record: AuditEntryRecord) -> str:
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
            temp.replace(self.head_path)

    # ----- checking -------------------------------------------------------------------

    def verify(self) -> AuditCheck:
        """Walk the chain and name every entry that was edited, removed or reordered."""
        self.ctx.require(Permission.AUDIT, action="check audit trail")
        problems: list[str] = []
        with self.ctx.sessions() as session:
            records = session.scalars(select(AuditEntryRecord).order_by(AuditEntryRecord.id))
            expected_seq, prev_hash, count = 1, GENESIS, 0
            last: AuditEntryRecord | None = None
            for record in records:
                count += 1
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
        return AuditCheck(entries=count, problems=tuple(problems))

    # ----- reading --------------------------------------------------------------------

    def entries(
        self,
        *,
        user: str = "",
        action: str = "",
        target: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5000,
    ) -> list[AuditEntry]:
        """The newest entries first, filtered by user, action, target (any part) and time."""
        self.ctx.require(Permission.AUDIT)
        query = select(AuditEntryRecord)
        if user:
            query = query.where(func.lower(AuditEntryRecord.user) == user.strip().lower())
        if action:
            query = query.where(AuditEntryRecord.action.contains(action, autoescape=True))
        if target:
            query = query.where(AuditEntryRecord.target.contains(target, autoescape=True))
        if since is not None:
            query = query.where(AuditEntryRecord.at >= since)
        if until is not None:
            query = query.where(AuditEntryRecord.at < until)
        query = query.order_by(AuditEntryRecord.seq.desc()).limit(limit)
        with self.ctx.sessions() as session:
            return [
                AuditEntry(r.seq, r.at, r.user, r.action, r.target, r.detail, r.hash)
                for r in session.scalars(query)
            ]

    def export_csv(self, entries: list[AuditEntry]) -> bytes:
        """The given entries as CSV (UTF-8 with a byte-order mark, so Excel reads it)."""
        self.ctx.require(Permission.AUDIT, action="export audit trail", detail=f"{len(entries)}")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Number", "Time (UK)", "User", "Action", "Record", "Detail", "Hash"])
        for e in entries:
            writer.writerow(
                [e.seq, format_date_time(e.at), e.user, e.action, e.target, e.detail, e.hash]
            )
        return ("\ufeff" + out.getvalue()).encode("utf-8")


def head_file(data_dir: Path) -> Path:
    """Where the newest entry's number and hash are kept outside the database."""
    return data_dir / HEAD_FILE
