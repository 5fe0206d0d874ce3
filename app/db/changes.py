"""Knowing cheaply whether a casebook may have changed, to keep what was read from it.

A head teacher's search opens the words of every sealed (safeguarding) case; over a large
casebook that is tens of milliseconds, asked again at each keystroke for the count and the
page. What was opened can be kept for as long as nothing has been written since.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


class ChangeWatch:
    """Counts the changes seen through the connections it is asked about.

    ``mark(session)`` returns a number that stays the same for as long as nothing has been
    written to the casebook, by this program or another; something read at one mark can be
    reused at the same mark. On SQLite a connection knows both cheaply: ``PRAGMA
    data_version`` moves when another connection commits, and its own ``total_changes``
    when it writes itself. Each connection remembers the pair it gave this watch last time;
    a connection that differs from it (or never answered before) moves the mark on.

    On PostgreSQL the server's snapshot says it: two snapshots with the same oldest and next
    transaction and the same ones in progress see the same committed rows, and a write by
    any PC takes a new transaction number, so it moves the next one on. (Asking costs one
    small statement; reading a trust's sealed cases again cost every keystroke far more.)
    Other databases give None: nothing is kept.
    """

    def __init__(self) -> None:
        self._generation = 0
        self._key = ("change-watch", id(self))
        self._snapshot: object = None

    def mark(self, session: Session) -> int | None:
        """The current mark, or None when changes cannot be known this way."""
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            snapshot = connection.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar()
            if snapshot is None or snapshot != self._snapshot:
                self._snapshot = snapshot
                self._generation += 1
            return self._generation
        if connection.dialect.name != "sqlite":
            return None
        raw: Any = connection.connection.driver_connection
        version = connection.exec_driver_sql("PRAGMA data_version").scalar()
        now = (version, raw.total_changes)
        if connection.info.get(self._key) != now:
            connection.info[self._key] = now
            self._generation += 1
        return self._generation
