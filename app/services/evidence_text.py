"""The words of exhibits in the search index, kept apart so the search can be limited to them.

Only exhibits of cases in clear are indexed: a safeguarding case's words are sealed, and
its exhibits' text is matched in memory, for those who hold the key, like its notes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from app.db.models import EvidenceRecord
from app.db.sealing import Unreadable, case_is_sealed
from app.domain.search import fold

MAX_INDEXED_CHARS = 2_000_000  # of one case's exhibits together


def index_case_evidence(session: Session, case_id: int) -> None:
    """Put (again) the words of one case's exhibits in the search index, as one document
    whose rowid is the case's id; a safeguarding case's are left out."""
    if session.get_bind().dialect.name != "sqlite":
        return
    # Here, not at the top: the letter command imports this module (through the case
    # service) but never indexes evidence, and importing the evidence module (seven
    # dataclasses) cost it about 7 ms of processor time, 2 ms with app.codecache's table.
    from app.domain.evidence import EvidenceKind

    session.flush()
    session.execute(text("DELETE FROM evidence_text WHERE rowid = :id"), {"id": case_id})
    if case_is_sealed(session, case_id):
        return
    bodies = session.scalars(
        select(EvidenceRecord.extracted_text)
        .where(
            EvidenceRecord.case_id == case_id,
            EvidenceRecord.kind == EvidenceKind.ORIGINAL.value,
            EvidenceRecord.extracted_text != "",
        )
        .order_by(EvidenceRecord.number)
    ).all()
    words = "\n".join(str(b) for b in bodies if b and not isinstance(b, Unreadable))
    if words.strip():
        # Folded as the search box folds what is typed: "zoe" finds "Zoë" in a screenshot.
        session.execute(
            text("INSERT INTO evidence_text(rowid, body) VALUES (:id, :body)"),
            {"id": case_id, "body": fold(words[:MAX_INDEXED_CHARS])},
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
        return select(literal_column("rowid")).select_from(source).where(condition)
    return select(EvidenceRecord.case_id).where(
        func.casebook_fold(EvidenceRecord.extracted_text).contains(term, autoescape=True)
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
