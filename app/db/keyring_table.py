"""The keyring of a casebook on a server, kept in the ``keyring`` table (one row)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.models import KeyringRecord


class KeyringTable:
    """Stores the keyring document in the database every PC shares."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self) -> bytes | None:
        """The stored document, or None before the casebook is set up."""
        with Session(self.engine) as session:
            data = session.scalar(select(KeyringRecord.document).where(KeyringRecord.id == 1))
        return bytes(data) if data is not None else None

    def write(self, document: bytes) -> None:
        """Replace the document in one transaction."""
        with Session(self.engine) as session, session.begin():
            session.merge(KeyringRecord(id=1, document=document, updated_at=datetime.now(UTC)))

    def describe(self) -> str:
        """Where the keyring is, for messages."""
        return "the keyring on the database server"
