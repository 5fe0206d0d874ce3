"""The audit trail: who viewed, changed, exported or printed what, sealed against an insider.

Each entry's hash covers its own fields and the previous entry's hash (the chain), and
each entry is MACed with a key of its own: the key of the next entry is the one-way hash
of this one's, and only that next key is kept (``audit_seal``). Whoever writes entries,
office staff included, can therefore add entries but cannot redo the MAC of any entry
written before they looked at the key.

A head teacher's sign-in makes a checkpoint: the newest entry's number and hash, and a
fresh starting key for the entries after it sealed under the head teachers' audit key,
all MACed with that key. The newest checkpoint is also written beside the keyring
(``audit-checkpoint.json``) and copied into each backup; the newest entry's number and
hash are written to ``audit-head.txt``. Holding the audit key, ``verify`` re-derives the
key of every entry and names the first one edited, removed, reordered or cut off the end.
A missing head or checkpoint file is reported; only ``reseal`` by a head teacher writes
them again, and it says so in the trail. See docs/audit-trail.md.

The details of an entry about a case (its title, people's names, file names) are sealed
under a key of that case; deleting the case destroys the key, so they are forgotten while
the chain over their sealed form still checks.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Select, func, select, text, update
from sqlalchemy.orm import Session

from app.db.models import (
    AuditCaseKeyRecord,
    AuditCheckpointRecord,
    AuditEntryRecord,
    AuditSealRecord,
)
from app.domain.access import Permission
from app.domain.dates import format_date_time, format_date_time_seconds, london_midnight
from app.domain.errors import AccessDenied
from app.domain.reference import is_reference
from app.files import write_file
from app.security.audit_chain import (
    AuditKey,
    entry_key_after,
    entry_mac,
    is_sealed,
    macs_equal,
    new_case_key,
    new_entry_key,
    next_entry_key,
    open_detail,
    seal_detail,
)
from app.security.crypto import SealBrokenError
from app.services.context import ServiceContext

if TYPE_CHECKING:
    from app.services.csv_file import Cell

log = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD_FILE = "audit-head.txt"
ANCHOR_FILE = "audit-checkpoint.json"
ANCHOR_FORMAT = "conduct-casebook-audit-checkpoint"
FORGOTTEN = "(details removed when the case was deleted)"
# A long list of broken entries helps nobody; the first ones and a count do.
MAX_PROBLEMS = 20
# While a head teacher is signed in, a checkpoint after this many of their own entries too:
# the window in which a copied next-entry key is any use stays short on a busy day.
CHECKPOINT_EVERY = 100


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
    # What the check could and could not vouch for (sealed since, key not held, ...).
    notes: tuple[str, ...] = ()

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


def clean_text(value: str) -> str:
    """Text safe to hash, store and show: undecodable bytes and control characters escaped.

    A user name typed at a failed sign-in may hold anything (bytes that are not UTF-8 come
    in as lone surrogates); it must still reach the trail, readable and unchanged in
    meaning, rather than make the write fail.
    """
    value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    if not any(_is_control(ch) for ch in value):
        return value
    return "".join(f"\\x{ord(ch):02x}" if _is_control(ch) else ch for ch in value)


def _is_control(ch: str) -> bool:
    return ch not in "\n\t" and unicodedata.category(ch) == "Cc"


@dataclass
class _Run:
    """The entries after one checkpoint, and the key to check them with (None if unknown)."""

    checkpoint: AuditCheckpointRecord
    start_key: bytes | None
    _steps: int = -1
    _key: bytes | None = None

    def key_for(self, seq: int) -> bytes | None:
        """The key of entry ``seq`` of this run (moving forward from the last one asked)."""
        if self.start_key is None:
            return None
        steps = seq - self.checkpoint.seq - 1
        if self._key is None or steps < self._steps:
            self._steps, self._key = 0, self.start_key
        self._key = entry_key_after(self._key, steps - self._steps)
        self._steps = steps
        return self._key


class _Problems:
    """Problems found by a check, each with the entry it concerns, first entry first."""

    def __init__(self) -> None:
        self.items: list[tuple[float, int, str]] = []

    def add(self, text_: str, seq: int | None = None) -> None:
        self.items.append((seq if seq is not None else float("inf"), len(self.items), text_))

    def __bool__(self) -> bool:
        return bool(self.items)

    def first_seq(self) -> int | None:
        firsts = [int(seq) for seq, _, _ in self.items if seq != float("inf")]
        return min(firsts) if firsts else None

    def texts(self) -> tuple[str, ...]:
        ordered = [t for _, _, t in sorted(self.items)]
        if len(ordered) > MAX_PROBLEMS:
            more = len(ordered) - MAX_PROBLEMS
            ordered = [*ordered[:MAX_PROBLEMS], f"… and {more} more problems like these."]
        return tuple(ordered)


class AuditService:
    """Appends to, checks, seals, lists and exports the audit trail."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.head_path = ctx.data_dir / HEAD_FILE
        self.anchor_path = ctx.data_dir / ANCHOR_FILE
        self._head_lock = threading.Lock()  # a worker thread and the window may both write
        # The head teachers' audit key, once a head teacher holding it has signed in.
        self.audit_key: AuditKey | None = None
        self._written_since_checkpoint = 0
        self._checkpointing = False

    @property
    def _shared(self) -> bool:
        # On a server every PC writes entries, so this PC's files only know what it saw.
        return self.ctx.dialect == "postgresql"

    # ----- writing --------------------------------------------------------------------

    def record(
        self,
        user: str,
        action: str,
        target: str = "",
        detail: str = "",
        *,
        with_entry: Callable[[Session], None] | None = None,
    ) -> None:
        """Append one entry (its own transaction, so a refused change is still recorded).

        ``with_entry`` makes a small change that belongs with the entry in the same
        transaction (the account's time of sign-in with 'signed in').
        """
        with self.ctx.sessions() as session:
            self._lock_for_append(session)
            seq, digest, first = self._append(session, user, action, target, detail)
            if with_entry is not None:
                with_entry(session)
            session.commit()
        self._appended(seq, digest, first)

    def record_and_checkpoint(
        self,
        user: str,
        action: str,
        target: str = "",
        *,
        with_entry: Callable[[Session], None] | None = None,
    ) -> None:
        """Append one entry and seal the trail up to it, in one transaction: a head teacher's
        sign-in (one commit, one wait for the disk, where an entry and a checkpoint took two).

        The entries since the last checkpoint are checked first, exactly as
        :meth:`checkpoint` checks them; when there is anything to report (or nothing was
        sealed yet) nothing is written here, and the entry and the checkpoint are made
        one after the other as before, so that the problem is recorded the same way.
        """
        audit_key = self.audit_key
        if audit_key is not None and not self._checkpointing:
            with self.ctx.sessions() as session:
                self._lock_for_append(session)
                # Held here, the seal's row is read once (the session keeps loaded rows
                # only while something refers to them).
                state = session.get(AuditSealRecord, 1)
                last = _last_checkpoint(session)
                if (
                    state is not None
                    and last is not None
                    and not self._check_since(session, audit_key, last)
                ):
                    seq, digest, first = self._append(session, user, action, target, "")
                    if with_entry is not None:
                        with_entry(session)
                    anchor = self._add_checkpoint(session, audit_key, self.ctx.current_user.name)
                    session.commit()
                    self._written_since_checkpoint = 0
                    self._write_head(seq, digest, create=first or self._shared)
                    self._write_anchor(anchor)
                    return
                session.rollback()
        self.record(user, action, target, with_entry=with_entry)
        self.checkpoint()

    def _append(
        self, session: Session, user: str, action: str, target: str, detail: str
    ) -> tuple[int, str, bool]:
        """Add one entry in ``session``, which holds the append lock: (its number, its hash,
        whether it is the trail's first)."""
        user = clean_text(user)[:60]
        action = clean_text(action)[:60]
        target = clean_text(target)[:200]
        detail = clean_text(detail)
        last = _newest_entry(session)
        state = session.get(AuditSealRecord, 1)
        # Never reuse a number: after entries were removed, the gap stays visible.
        head = self._read_head()
        seq = max(last.seq if last else 0, head[0] if head else 0) + 1
        if state is not None:
            seq = max(seq, state.key_seq)
        prev = last.hash if last else GENESIS
        at = self.ctx.now()
        stored = self._stored_detail(session, target, detail)
        digest = entry_hash(prev, seq, at, user, action, target, stored)
        mac = None
        if state is not None:
            if state.entry_key:
                key = entry_key_after(bytes.fromhex(state.entry_key), seq - state.key_seq)
                mac = entry_mac(key, seq, digest)
                state.entry_key = next_entry_key(key).hex()
            state.key_seq = seq + 1
        session.add(
            AuditEntryRecord(
                seq=seq,
                at=at,
                user=user,
                action=action,
                target=target,
                detail=stored,
                prev_hash=prev,
                hash=digest,
                mac=mac,
            )
        )
        return seq, digest, last is None

    def _appended(self, seq: int, digest: str, first: bool) -> None:
        """After an entry's commit: the head file, and a checkpoint when one is due."""
        # A missing head file is evidence; only the very first entry (or a shared casebook,
        # where each PC keeps its own) starts one.
        self._write_head(seq, digest, create=first or self._shared)
        if self.audit_key is not None and not self._checkpointing:
            self._written_since_checkpoint += 1
            if self._written_since_checkpoint >= CHECKPOINT_EVERY:
                self.checkpoint()

    def _stored_detail(self, session: Session, target: str, detail: str) -> str:
        """The detail as kept: sealed under the case's key when the entry is about a case."""
        if not detail or not is_reference(target):
            return detail
        row = session.get(AuditCaseKeyRecord, target)
        if row is None:
            row = AuditCaseKeyRecord(reference=target, key=new_case_key())
            session.add(row)
            session.flush()
        if row.key is None:  # the case was deleted: what is written now is about the deletion
            return detail
        return seal_detail(row.key, target, detail)

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

    def _write_head(self, seq: int, digest: str, *, create: bool) -> None:
        with self._head_lock:
            current = self._read_head()
            if current is None and not create:
                return
            if current is not None and current[0] >= seq:
                return
            # A name of its own, so another process, or another casebook object in this one,
            # writing at the same moment cannot clash (the lock covers one object only).
            _write_file(self.head_path, f"{seq} {digest}\n")

    # ----- the head teachers' seal ----------------------------------------------------

    def checkpoint(self, *, new_key: bool = False) -> bool:
        """Seal the trail up to its newest entry (a head teacher holding the audit key).

        The entries since the last checkpoint are checked first; when they, or the files
        kept outside the database, show a problem, no checkpoint is made and the problem is
        written into the trail for ``verify`` to explain. A trail never sealed (a casebook
        from before sealing, ``new_key`` just made) is checked and sealed in. True when a
        checkpoint was made.
        """
        if self.audit_key is None or self._checkpointing:
            return False
        self._checkpointing = True
        try:
            return self._checkpoint(self.audit_key, new_key=new_key)
        finally:
            self._checkpointing = False
            self._written_since_checkpoint = 0

    def _checkpoint(self, audit_key: AuditKey, *, new_key: bool) -> bool:
        user = self.ctx.current_user.name
        sealed_in: str | None = None
        problem: str | None = None
        anchor: AuditCheckpointRecord | None = None
        with self.ctx.sessions() as session:
            self._lock_for_append(session)
            # Only the newest checkpoint is checked from: reading them all made each head
            # teacher's sign-in slower than the one before (one checkpoint per sign-in).
            last = _last_checkpoint(session)
            if last is None:
                ever_sealed = session.scalar(
                    select(AuditEntryRecord.id).where(AuditEntryRecord.mac.is_not(None)).limit(1)
                )
                if new_key and ever_sealed is None:
                    sealed_in, anchor = self._seal_in(session, audit_key, user)
                else:
                    problem = "The head teachers' checkpoints have been removed from the database."
            else:
                problems = self._check_since(session, audit_key, last)
                if problems:
                    problem = problems.texts()[0]
                else:
                    anchor = self._add_checkpoint(session, audit_key, user)
            if problem is None:
                session.commit()
                assert anchor is not None
                self._write_anchor(anchor)
            else:
                session.rollback()
        if problem is not None:
            log.warning("No audit checkpoint made: %s", problem)
            self.record(user, "audit trail problem found", "", problem)
            return False
        if sealed_in is not None:
            self.record(user, "sealed audit trail", "", sealed_in)
        return True

    def reseal(self) -> AuditCheck:
        """After a problem was reported: record it, then seal the trail as it now stands.

        Writes the head and checkpoint files again. Entries found changed stay reported
        by ``verify`` (their MACs do not match); what is lost for good (removed newest
        entries, a deleted file) is kept in the trail as the detail of this entry.
        """
        self.ctx.require(Permission.AUDIT, action="reseal audit trail")
        audit_key = self.audit_key
        if audit_key is None:
            raise_no_key()
        check = self.verify()
        detail = (
            f"{len(check.problems)} problem(s) found before resealing; the first: "
            f"{check.problems[0]}"
            if check.problems
            else "no problems found"
        )
        self.record(self.ctx.current_user.name, "resealed audit trail", "", detail)
        with self.ctx.sessions() as session:
            self._lock_for_append(session)
            if session.get(AuditSealRecord, 1) is None:
                session.add(AuditSealRecord(id=1, key_seq=1, entry_key=None))
                session.flush()
            if _last_checkpoint(session) is not None:
                anchor = self._add_checkpoint(session, audit_key, self.ctx.current_user.name)
            else:
                anchor = self._seal_in(session, audit_key, self.ctx.current_user.name)[1]
            newest = _newest_entry(session)
            session.commit()
            self._write_anchor(anchor)
        if newest is not None:
            with self._head_lock:
                _write_file(self.head_path, f"{newest.seq} {newest.hash}\n")
        return check

    def _seal_in(
        self, session: Session, audit_key: AuditKey, user: str
    ) -> tuple[str | None, AuditCheckpointRecord]:
        """Seal a trail written before sealing: MAC every entry, then checkpoint.

        Returns what to record about it (None for a trail with nothing to seal) and the
        checkpoint to keep outside the database.
        """
        found = self._walk(session, None, [])
        rows = list(
            session.execute(
                select(AuditEntryRecord.id, AuditEntryRecord.seq, AuditEntryRecord.hash).order_by(
                    AuditEntryRecord.seq
                )
            )
        )
        start = new_entry_key()
        anchor = self._store_checkpoint(session, audit_key, 0, GENESIS, user, start)
        # Entry n of the run after checkpoint 0 has the key n - 1 steps on from the start.
        key, steps = start, 0
        for row in rows:
            key = entry_key_after(key, row.seq - 1 - steps)
            steps = row.seq - 1
            session.execute(
                update(AuditEntryRecord)
                .where(AuditEntryRecord.id == row.id)
                .values(mac=entry_mac(key, row.seq, row.hash))
            )
        state = session.get(AuditSealRecord, 1)
        if state is None:
            state = AuditSealRecord(id=1, key_seq=1, entry_key=None)
            session.add(state)
        state.key_seq = (rows[-1].seq if rows else 0) + 1
        state.entry_key = entry_key_after(start, state.key_seq - 1).hex()
        if not rows:
            return None, anchor
        # A fresh run at once: the key that sealed the earlier entries is gone.
        anchor = self._add_checkpoint(session, audit_key, user)
        if found:
            return (
                f"{len(rows)} earlier entries sealed in; {len(found.items)} problem(s) were "
                f"found in them first: {found.texts()[0]}"
            ), anchor
        return f"{len(rows)} earlier entries checked and sealed in", anchor

    def _add_checkpoint(
        self, session: Session, audit_key: AuditKey, user: str
    ) -> AuditCheckpointRecord:
        newest = _newest_entry(session)
        seq, digest = (newest.seq, newest.hash) if newest else (0, GENESIS)
        start = new_entry_key()
        record = self._store_checkpoint(session, audit_key, seq, digest, user, start)
        state = session.get(AuditSealRecord, 1)
        if state is None:
            state = AuditSealRecord(id=1, key_seq=seq + 1, entry_key=None)
            session.add(state)
        state.key_seq = seq + 1
        state.entry_key = start.hex()
        return record

    def _store_checkpoint(
        self,
        session: Session,
        audit_key: AuditKey,
        seq: int,
        digest: str,
        user: str,
        start: bytes,
    ) -> AuditCheckpointRecord:
        at = self.ctx.now()
        sealed = audit_key.seal_entry_key(start, seq)
        record = AuditCheckpointRecord(
            seq=seq,
            hash=digest,
            at=at,
            user=clean_text(user)[:60],
            key_check=audit_key.check_value(),
            entry_key=sealed,
            mac="",
        )
        record.mac = audit_key.checkpoint_mac(_checkpoint_fields(record))
        session.add(record)
        session.flush()
        return record

    def _write_anchor(self, record: AuditCheckpointRecord) -> None:
        _write_anchor(self.anchor_path, record)

    def _read_anchor(self) -> dict[str, Any] | None:
        """The checkpoint kept beside the keyring; {} when it is damaged, None when absent."""
        try:
            document = json.loads(self.anchor_path.read_text(encoding="utf-8"))
            checkpoint = document["checkpoint"]
            if document.get("format") != ANCHOR_FORMAT or not isinstance(checkpoint, dict):
                return {}
            int(checkpoint["seq"]), str(checkpoint["mac"]), str(checkpoint["hash"])
            return dict(checkpoint)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    # ----- checking -------------------------------------------------------------------

    def verify(self) -> AuditCheck:
        """Walk the chain and name every entry that was edited, removed or reordered."""
        self.ctx.require(Permission.AUDIT, action="check audit trail")
        notes: list[str] = []
        with self.ctx.sessions() as session:
            checkpoints = _checkpoints(session)
            problems = self._walk(session, self.audit_key, checkpoints)
            count = int(session.scalar(select(func.count(AuditEntryRecord.id))) or 0)
            newest = _newest_entry(session)
            state = session.get(AuditSealRecord, 1)
        last_seq = newest.seq if newest else 0
        self._check_state(state, checkpoints, last_seq, problems)
        self._check_anchor(checkpoints, problems)
        self._check_head(newest, problems)
        if checkpoints:
            latest = checkpoints[-1]
            notes.append(
                f"Sealed since {format_date_time(checkpoints[0].at)}; the last checkpoint was "
                f"made by {latest.user} on {format_date_time(latest.at)} (up to entry "
                f"{latest.seq})."
            )
            if self.audit_key is None:
                notes.append(
                    "You do not hold the head teachers' audit key, so the entries were checked "
                    "against each other but not against their seals; a head teacher who holds "
                    "it can give it to you by setting your password."
                )
        elif self.audit_key is not None:
            problems.add("The head teachers' checkpoints have been removed from the database.")
        else:
            notes.append(
                "The audit trail is not sealed yet; a head teacher's next sign-in seals it."
            )
        return AuditCheck(
            entries=count,
            problems=problems.texts(),
            broken_seq=problems.first_seq(),
            notes=tuple(notes),
        )

    def _open_runs(
        self,
        audit_key: AuditKey | None,
        checkpoints: list[AuditCheckpointRecord],
        problems: _Problems,
    ) -> list[_Run]:
        runs: list[_Run] = []
        for record in checkpoints:
            start: bytes | None = None
            if audit_key is not None:
                if record.key_check != audit_key.check_value():
                    problems.add(
                        f"The checkpoint of {format_date_time(record.at)} (up to entry "
                        f"{record.seq}) was not made with the head teachers' audit key.",
                        record.seq + 1,
                    )
                elif not macs_equal(
                    record.mac, audit_key.checkpoint_mac(_checkpoint_fields(record))
                ):
                    problems.add(
                        f"The checkpoint of {format_date_time(record.at)} (up to entry "
                        f"{record.seq}) has been changed.",
                        record.seq + 1,
                    )
                else:
                    try:
                        start = audit_key.open_entry_key(record.entry_key, record.seq)
                    except SealBrokenError:
                        problems.add(
                            f"The checkpoint of {format_date_time(record.at)} (up to entry "
                            f"{record.seq}) is damaged.",
                            record.seq + 1,
                        )
            runs.append(_Run(record, start))
        return runs

    def _walk(
        self,
        session: Session,
        audit_key: AuditKey | None,
        checkpoints: list[AuditCheckpointRecord],
        *,
        after: AuditCheckpointRecord | None = None,
    ) -> _Problems:
        """Check the chain (from ``after``, or from the start) and every entry's MAC."""
        problems = _Problems()
        runs = self._open_runs(audit_key, checkpoints, problems)
        run_seqs = [run.checkpoint.seq for run in runs]
        by_seq = {run.checkpoint.seq: run.checkpoint for run in runs if run.checkpoint.seq > 0}
        seen: set[int] = set()
        columns = (
            AuditEntryRecord.seq,
            AuditEntryRecord.at,
            AuditEntryRecord.user,
            AuditEntryRecord.action,
            AuditEntryRecord.target,
            AuditEntryRecord.detail,
            AuditEntryRecord.prev_hash,
            AuditEntryRecord.hash,
            AuditEntryRecord.mac,
        )
        query = select(*columns).order_by(AuditEntryRecord.id)
        expected_seq, prev_hash = 1, GENESIS
        if after is not None:
            query = query.where(AuditEntryRecord.seq >= after.seq)
            expected_seq, prev_hash = after.seq, after.hash
            if after.seq == 0:
                expected_seq = 1
        # Plain rows, streamed: a hundred thousand ORM objects would take seconds.
        records = session.execute(query.execution_options(yield_per=2000))
        for record in records:
            seen.add(record.seq)
            if after is not None and after.seq > 0 and record.seq == after.seq:
                # The checkpointed entry itself: it only has to be the one sealed.
                if record.hash != after.hash:
                    problems.add(
                        f"The audit trail's {_describe(record)} does not match the head "
                        f"teacher's checkpoint of {format_date_time(after.at)}.",
                        record.seq,
                    )
                expected_seq = record.seq + 1
                continue
            if record.seq < expected_seq:
                problems.add(f"The audit trail is out of order at {_describe(record)}.", record.seq)
            elif record.seq > expected_seq:
                missing = record.seq - expected_seq
                numbers = (
                    f"number {expected_seq}"
                    if missing == 1
                    else f"numbers {expected_seq} to {record.seq - 1}"
                )
                problems.add(
                    f"{missing} audit entr{'y' if missing == 1 else 'ies'} "
                    f"before {_describe(record)} {'has' if missing == 1 else 'have'} "
                    f"been removed ({numbers}).",
                    record.seq,
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
                problems.add(f"The audit trail's {_describe(record)} has been changed.", record.seq)
            elif record.prev_hash != prev_hash and record.seq == expected_seq:
                problems.add(
                    f"The audit trail's {_describe(record)} does not follow the entry "
                    "before it (an entry was changed, removed or moved).",
                    record.seq,
                )
            else:
                self._check_mac(record, runs, run_seqs, audit_key, problems)
            checkpoint = by_seq.get(record.seq)
            if checkpoint is not None and record.hash != checkpoint.hash:
                problems.add(
                    f"The audit trail's {_describe(record)} does not match the head teacher's "
                    f"checkpoint of {format_date_time(checkpoint.at)}.",
                    record.seq,
                )
            expected_seq = max(expected_seq, record.seq) + 1
            prev_hash = record.hash
        for seq, checkpoint in by_seq.items():
            if seq not in seen and (after is None or seq >= after.seq):
                problems.add(
                    f"Audit entry {seq}, sealed by the checkpoint of "
                    f"{format_date_time(checkpoint.at)}, has been removed.",
                    seq,
                )
        return problems

    @staticmethod
    def _check_mac(
        record: Any,
        runs: list[_Run],
        run_seqs: list[int],
        audit_key: AuditKey | None,
        problems: _Problems,
    ) -> None:
        index = bisect.bisect_left(run_seqs, record.seq) - 1
        if index < 0:
            if record.mac is not None and not runs:
                problems.add(
                    f"The audit trail's {_describe(record)} is sealed, but the head teachers' "
                    "checkpoints have been removed.",
                    record.seq,
                )
            return
        if record.mac is None:
            problems.add(
                f"The audit trail's {_describe(record)} has lost its seal (it was removed or "
                "the entry was put in later).",
                record.seq,
            )
            return
        key = runs[index].key_for(record.seq) if audit_key is not None else None
        if key is not None and not macs_equal(record.mac, entry_mac(key, record.seq, record.hash)):
            problems.add(
                f"The audit trail's {_describe(record)} has been changed or put in later "
                "(its seal does not match).",
                record.seq,
            )

    def _check_since(
        self, session: Session, audit_key: AuditKey, last: AuditCheckpointRecord
    ) -> _Problems:
        """The quick check at a head teacher's sign-in: everything after the last checkpoint."""
        problems = self._walk(session, audit_key, [last], after=last)
        newest = _newest_entry(session)
        state = session.get(AuditSealRecord, 1)
        self._check_state(state, [last], newest.seq if newest else 0, problems)
        self._check_anchor([last], problems)
        self._check_head(newest, problems)
        return problems

    def _check_state(
        self,
        state: AuditSealRecord | None,
        checkpoints: list[AuditCheckpointRecord],
        last_seq: int,
        problems: _Problems,
    ) -> None:
        """The key kept for the next entry must be the one the newest entry left behind."""
        if not checkpoints:
            return
        if state is None or not state.entry_key:
            problems.add(
                "The key for the next audit entry has been removed from the database, so the "
                "newest entries may have been removed too."
            )
            return
        if state.key_seq - 1 > last_seq:
            gone = state.key_seq - 1 - last_seq
            problems.add(
                f"The newest {gone} audit entr{'y' if gone == 1 else 'ies'} (from number "
                f"{last_seq + 1} on) {'has' if gone == 1 else 'have'} been removed.",
                last_seq + 1,
            )
            return
        if state.key_seq <= last_seq:
            problems.add(
                f"Audit entries from number {state.key_seq} on were put in without their key.",
                state.key_seq,
            )
            return
        audit_key = self.audit_key
        latest = checkpoints[-1]
        if audit_key is None or latest.key_check != audit_key.check_value():
            return
        try:
            start = audit_key.open_entry_key(latest.entry_key, latest.seq)
        except SealBrokenError:
            return  # reported with the checkpoint
        if state.key_seq <= latest.seq:
            return  # reported as entries put in without their key
        expected = entry_key_after(start, state.key_seq - latest.seq - 1)
        if not macs_equal(state.entry_key, expected.hex()):
            problems.add(
                f"The newest audit entries after number {last_seq} have been removed, or the "
                "key for the next entry was replaced.",
                last_seq + 1,
            )

    def _check_anchor(
        self,
        checkpoints: list[AuditCheckpointRecord],
        problems: _Problems,
    ) -> None:
        """The checkpoint kept outside the database must still be in it."""
        if not checkpoints:
            return
        anchor = self._read_anchor()
        if anchor is None:
            if not self._shared:
                problems.add(
                    f"The head teachers' checkpoint kept beside the key file ({ANCHOR_FILE}) "
                    "is missing from the data folder."
                )
            return
        if not anchor:
            problems.add(f"The head teachers' checkpoint file ({ANCHOR_FILE}) is damaged.")
            return
        seq = int(anchor["seq"])
        if any(c.seq == seq and macs_equal(c.mac, str(anchor["mac"])) for c in checkpoints):
            return
        if seq < checkpoints[-1].seq and len(checkpoints) == 1:
            return  # the quick check sees only the last checkpoint
        if seq < checkpoints[-1].seq and not self._shared:
            problems.add(
                f"The head teachers' checkpoint file ({ANCHOR_FILE}) is older than the "
                "newest checkpoint in the database (was it put back from a copy?)."
            )
            return
        if seq < checkpoints[-1].seq:
            return
        problems.add(
            f"The audit trail has been cut back: the head teacher's checkpoint up to entry "
            f"{seq} kept beside the key file is not in the database.",
            min(seq, checkpoints[-1].seq + 1),
        )

    def _check_head(self, newest: Any, problems: _Problems) -> None:
        head = self._read_head()
        if head is None:
            if newest is not None:
                problems.add(
                    f"The record of the newest audit entry ({HEAD_FILE}) is missing "
                    "from the data folder."
                )
        elif head[0] < 0:
            problems.add(f"The record of the newest audit entry ({HEAD_FILE}) is damaged.")
        else:
            head_seq, head_hash = head
            last_seq = newest.seq if newest else 0
            if last_seq < head_seq:
                gone = head_seq - last_seq
                problems.add(
                    f"The newest {gone} audit entr{'y' if gone == 1 else 'ies'} "
                    f"(up to number {head_seq}) {'has' if gone == 1 else 'have'} been removed.",
                    last_seq + 1,
                )
            elif newest is not None and last_seq == head_seq and newest.hash != head_hash:
                problems.add(
                    f"The audit trail's newest entry {last_seq} does not match the "
                    "record kept outside the database.",
                    last_seq,
                )

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
        page of a long trail; ``limit=None`` reads them all. Details sealed under a case's
        key are opened; a deleted case's say that they were removed.
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
            rows = list(session.scalars(query))
            references = {r.target for r in rows if is_sealed(r.detail)}
            keys: dict[str, str | None] = {}
            if references:
                for chunk in _chunks(sorted(references), 500):
                    for key_row in session.scalars(
                        select(AuditCaseKeyRecord).where(AuditCaseKeyRecord.reference.in_(chunk))
                    ):
                        keys[key_row.reference] = key_row.key
            return [
                AuditEntry(r.seq, r.at, r.user, r.action, r.target, _shown_detail(r, keys), r.hash)
                for r in rows
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
            if self._shared:
                # A trust's trail reaches millions of entries: hop from name to name along
                # ix_audit_entries_user (migration 0023) instead of reading every entry.
                names = session.scalars(text(_USER_NAMES_BY_INDEX)).all()
            else:
                names = session.scalars(select(AuditEntryRecord.user).distinct()).all()
        return sorted(names, key=str.casefold)

    def open_trail(self) -> int:
        """Record that the user opened the audit trail (refused unless allowed); the count."""
        self.ctx.require(Permission.AUDIT, action="view audit trail")
        return self.count()

    def export_csv(self, entries: list[AuditEntry]) -> bytes:
        """The given entries as CSV (UTF-8 with a byte-order mark, so Excel reads it).

        Every cell is neutralised against formula injection: a user name typed at a failed
        sign-in can begin with ``=``.
        """
        # Here: the csv module is for exports, not for every command that opens a casebook.
        from app.services.csv_file import csv_bytes

        self.ctx.require(Permission.AUDIT, action="export audit trail", detail=f"{len(entries)}")
        header = ["Number", "Time (UK)", "User", "Action", "Record", "Detail", "Hash"]
        rows: list[list[Cell]] = [
            [e.seq, format_date_time_seconds(e.at), e.user, e.action, e.target, e.detail, e.hash]
            for e in entries
        ]
        return csv_bytes(header, rows)


def forget_case_details(session: Session, reference: str, now: datetime) -> None:
    """Destroy the key sealing a case's audit details (in the deleting transaction).

    The entries keep the fact, the reference, who and when; their sealed details can never
    be opened again, and the chain over them still checks. Later entries about the
    reference (the deletion and its reason) are written in the clear.
    """
    row = session.get(AuditCaseKeyRecord, reference)
    if row is None:
        session.add(AuditCaseKeyRecord(reference=reference, key=None, forgotten_at=now))
    else:
        row.key = None
        row.forgotten_at = now
    session.flush()


def highest_reference_number(session: Session, year: int) -> int:
    """The highest case number of ``year`` the trail has ever sealed details for."""
    column = AuditCaseKeyRecord.reference
    # A range on the key (not LIKE) so the index is used; longer numbers are higher ones.
    newest = session.scalar(
        select(column)
        .where(column >= f"SM-{year:04d}-", column < f"SM-{year:04d}.")
        .order_by(func.length(column).desc(), column.desc())
        .limit(1)
    )
    return int(newest.rsplit("-", 1)[1]) if newest and is_reference(newest) else 0


def raise_no_key() -> NoReturn:
    """Refuse a head teacher's action on the seal to someone without the audit key."""
    raise AccessDenied(
        "You do not hold the head teachers' audit key; a head teacher who holds it can give "
        "it to you by setting your password."
    )


def _checkpoints(session: Session) -> list[AuditCheckpointRecord]:
    return list(
        session.scalars(
            select(AuditCheckpointRecord).order_by(
                AuditCheckpointRecord.seq, AuditCheckpointRecord.id
            )
        )
    )


def _newest_entry(session: Session) -> Any:
    """The newest entry's number and hash (a row with ``seq`` and ``hash``), or None."""
    return session.execute(
        select(AuditEntryRecord.seq, AuditEntryRecord.hash)
        .order_by(AuditEntryRecord.seq.desc())
        .limit(1)
    ).first()


def _last_checkpoint(session: Session) -> AuditCheckpointRecord | None:
    """The newest checkpoint (the last of :func:`_checkpoints`), read through its index."""
    return session.scalar(
        select(AuditCheckpointRecord)
        .order_by(AuditCheckpointRecord.seq.desc(), AuditCheckpointRecord.id.desc())
        .limit(1)
    )


def _checkpoint_fields(record: AuditCheckpointRecord) -> list[Any]:
    return [
        record.seq,
        record.hash,
        record.at.isoformat(),
        record.user,
        record.key_check,
        record.entry_key,
    ]


def _shown_detail(record: Any, keys: dict[str, str | None]) -> str:
    if not is_sealed(record.detail):
        return str(record.detail)
    key = keys.get(record.target)
    if key is None:
        return FORGOTTEN
    try:
        return open_detail(key, record.target, record.detail)
    except SealBrokenError:
        return "(details damaged)"


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _write_file(path: Path, content: str) -> None:
    """Write a small file beside the database: temporary name, fsync, replace."""
    write_file(path, content.encode("utf-8"))


_USER_NAMES_BY_INDEX = """
WITH RECURSIVE names(name) AS (
    (SELECT "user" FROM audit_entries ORDER BY "user" LIMIT 1)
    UNION ALL
    SELECT (SELECT "user" FROM audit_entries WHERE "user" > names.name ORDER BY "user" LIMIT 1)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name FROM names WHERE name IS NOT NULL
"""


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


def anchor_file(data_dir: Path) -> Path:
    """Where the newest head teachers' checkpoint is kept outside the database."""
    return data_dir / ANCHOR_FILE


def write_anchor_row(data_dir: Path, row: Any) -> None:
    """Keep a checkpoint read straight from a database (a restore) beside its keyring.

    ``row`` is (seq, hash, at, user, key_check, entry_key, mac) as stored.
    """
    seq, digest, at, user, key_check, entry_key, mac = row
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    record = AuditCheckpointRecord(
        seq=int(seq),
        hash=str(digest),
        at=at,
        user=str(user),
        key_check=str(key_check),
        entry_key=str(entry_key),
        mac=str(mac),
    )
    _write_anchor(anchor_file(data_dir), record)


def _write_anchor(path: Path, record: AuditCheckpointRecord) -> None:
    document = {
        "format": ANCHOR_FORMAT,
        "checkpoint": {
            "seq": record.seq,
            "hash": record.hash,
            "at": record.at.isoformat(),
            "user": record.user,
            "key_check": record.key_check,
            "entry_key": record.entry_key,
            "mac": record.mac,
        },
    }
    _write_file(path, json.dumps(document, indent=1) + "\n")


def head_file(data_dir: Path) -> Path:
    """Where the newest entry's number and hash are kept outside the database."""
    return data_dir / HEAD_FILE
