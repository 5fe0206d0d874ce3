"""Audit trail viewer benchmark, printed with its target.

A casebook whose audit trail holds 100,000 entries (a busy office's several years). Measured:
opening the Audit trail window until its first page is painted (target: under 1.0 s),
narrowing it with a filter, and checking the whole chain (which runs on a worker thread,
so the window stays usable; reported, no target).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/audit_viewer.py
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _casebook import cached, open_signed_in, set_up
from sqlalchemy import func, insert, select

from app.db.models import AuditEntryRecord, AuditSealRecord
from app.security.audit_chain import entry_key_after, entry_mac, next_entry_key
from app.services.audit import GENESIS, entry_hash, head_file

ENTRIES = 100_000
TARGET_SECONDS = 1.0
USERS = ["head", "Mrs Office", "Mr Deputy", "Governor"]
ACTIONS = ["view case", "add note", "issue letter", "view exhibit", "signed in", "print letter"]


def casebook_with_audit(count: int) -> Path:
    """A data folder whose audit trail holds ``count`` chained entries (cached in out/)."""
    return cached(f"audit-{count}", lambda building: _build(building, count))


def _build(building: Path, count: int) -> None:
    # Signing up first writes the trail's first entries; the bulk entries chain on from them.
    services = set_up(building)
    rng = random.Random(count)
    with services.ctx.sessions() as session:
        last = session.execute(
            select(AuditEntryRecord.seq, AuditEntryRecord.hash)
            .order_by(AuditEntryRecord.seq.desc())
            .limit(1)
        ).first()
        existing = int(session.scalar(select(func.count(AuditEntryRecord.id))) or 0)
        state = session.get(AuditSealRecord, 1)
        assert state is not None and state.entry_key is not None
        # The bulk entries are MACed exactly as the app would have: the key ratchets on.
        key = entry_key_after(bytes.fromhex(state.entry_key), 0)
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    at = datetime(2023, 9, 1, 8, 0, tzinfo=UTC)
    rows = []
    with services.engine.begin() as connection:
        for _ in range(count - existing):
            seq += 1
            at += timedelta(seconds=rng.randrange(20, 1800))
            user, action = rng.choice(USERS), rng.choice(ACTIONS)
            target = f"SM-{at.year}-{rng.randrange(1, 400):04d}"
            digest = entry_hash(prev, seq, at, user, action, target, "")
            rows.append(
                {
                    "seq": seq,
                    "at": at,
                    "user": user,
                    "action": action,
                    "target": target,
                    "detail": "",
                    "prev_hash": prev,
                    "hash": digest,
                    "mac": entry_mac(key, seq, digest),
                }
            )
            key = next_entry_key(key)
            prev = digest
            if len(rows) >= 10_000:
                connection.execute(insert(AuditEntryRecord), rows)
                rows = []
        if rows:
            connection.execute(insert(AuditEntryRecord), rows)
        connection.execute(
            AuditSealRecord.__table__.update().values(key_seq=seq + 1, entry_key=key.hex())
        )
    services.close()
    head_file(building).write_text(f"{seq} {prev}\n", encoding="ascii")


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from app.ui.dialogs.audit_trail import AuditTrailDialog

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as temp:
        data = Path(temp) / "data"
        shutil.copytree(casebook_with_audit(ENTRIES), data)
        services = open_signed_in(data)

        started = time.perf_counter()
        dialog = AuditTrailDialog(services)
        dialog.show()
        dialog.table.viewport().repaint()
        app.processEvents()
        opened = time.perf_counter() - started
        everything = dialog.model.rowCount()

        started = time.perf_counter()
        dialog.action_filter.setText("letter")
        dialog.apply_filter()
        dialog.table.viewport().repaint()
        filtered = time.perf_counter() - started
        narrowed = dialog.model.rowCount()

        started = time.perf_counter()
        check = services.audit.verify()
        checked = time.perf_counter() - started
        dialog.close()
        services.close()
    print(
        f"audit trail window with {everything:,} entries: first page painted in "
        f"{opened:.3f} s (target {TARGET_SECONDS:.1f} s)"
    )
    print(f"filter 'letter' in the action: {filtered:.3f} s ({narrowed:,} rows; no target)")
    print(
        f"checking the whole chain: {checked:.2f} s, on a worker thread "
        f"({'intact' if check.ok else 'BROKEN'}; no target)"
    )
    return 0 if opened < TARGET_SECONDS and check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
