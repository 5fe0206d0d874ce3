"""The words of exhibits in the search index, kept apart so the search can be limited to them.

Only exhibits of cases in clear are indexed: a safeguarding case's words are sealed, and
its exhibits' text is matched in memory, for those who hold the key, like its notes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from app.db.models import EvidenceRecord
from app.db.sealing import Unreadable
from app.domain.search import fold

MAX_INDEXED_CHARS = 200_000


def index_exhibit_text(session: Session, case_id: int, evidence_id: int, body: str) -> None:
    """Put (or put again) one exhibit's words in the search index."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("DELETE FROM evidence_text WHERE evidence_id = :id"), {"id": evidence_id})
    if not body.strip() or isinstance(body, Unreadable):
        return
    # Folded as the search box folds what is typed: "zoe" finds "Zoë" in a screenshot.
    session.execute(
        text("INSERT INTO evidence_text(body, case_id, evidence_id) VALUES (:b, :c, :e)"),
        {"b": fold(body[:MAX_INDEXED_CHARS]), "c": case_id, "e": evidence_id},
    )


def evidence_matches(term: str, trigram_index: bool) -> Select[tuple[Any]]:
    """Ids of cases with an exhibit whose words contain ``term`` (already folded)."""
    if trigram_index:
        source = table("evidence_text")
        if len(term) >= 3:
            phrase = '"' + term.replace('"', '""') + '"'
            condition = text("evidence_text MATCH :phrase").bindparams(
                bindparam("phrase", phrase, unique=True)
            )
        else:
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            condition = text("body LIKE :pattern ESCAPE '\\'").bindparams(
                bindparam("pattern", f"%{escaped}%", unique=True)
            )
        return select(literal_column("case_id")).select_from(source).where(condition)
    return select(EvidenceRecord.case_id).where(
        func.lower(EvidenceRecord.extracted_text).contains(term, autoescape=True)
    )


def sealed_evidence_texts(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    """The opened exhibit words of sealed cases (only readable with the key), by case."""
    found: dict[int, list[str]] = {}
    if not case_ids:
        return found
    rows = session.execute(
        select(EvidenceRecord.case_id, EvidenceRecord.extracted_text).where(
            EvidenceRecord.case_id.in_(case_ids), EvidenceRecord.extracted_text != ""
        )
    ).all()
    for case_id, body in rows:
        if body and not isinstance(body, Unreadable):
            found.setdefault(int(case_id), []).append(str(body))
    return found
