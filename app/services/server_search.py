"""The case search on a shared (PostgreSQL) casebook: SQLite's answers, PostgreSQL's indexes.

SQLite answers a search from FTS5 indexes (services/listing.py, services/cases.py); here
the same questions are asked so that ``pg_trgm``'s trigram indexes (migration 0023) answer
them instead of reading every case:

- one or two characters: a case with a *word beginning* with them (words are runs of
  letters and digits, as FTS5's ``unicode61`` words are), in the case's own details; with
  punctuation in the term, the text must hold the term as typed too (``#4``);
- three or more: the term anywhere in the case's details, its notes or its exhibits' words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Text,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.db.models import CaseRecord, EventRecord
from app.security.crypto import SEALED_PREFIX
from app.services.evidence_text import evidence_matches

# A term held by this share of the cases is common: the list is walked in its order.
COMMON_SHARE = 0.02
# Cases found by their notes and exhibits beyond which a search asks for them by a subquery
# rather than by their ids (services/cases.py; see ``long_term_condition``).
NOTED_MOST = 2_000
# What comes before a word: the start of the text or a character that is not a letter or
# digit (so "_" and "@" begin words too, as they do for FTS5).
_WORD_START = "(^|[^[:alnum:]])"


def short_term_letters(term: str) -> str:
    """The letters and digits of a short term: what its words must begin with."""
    return "".join(character for character in term if character.isalnum())


def short_term_condition(term: str, *, common: bool) -> ColumnElement[bool]:
    """Cases with a word beginning with the letters and digits of ``term`` (one or two
    characters, at least one a letter or digit); sealed cases are left to the caller.

    A rare beginning is looked up in the index of words' first characters (migration
    0023); a ``common`` one is checked row by row while the list is read in its order
    (working out each row's first characters again would cost more than the pattern).
    """
    letters = short_term_letters(term)
    words = CaseRecord.search_text
    # Cheapest test first (the server keeps the order of tests that cost alike): a text
    # without the term as typed, then without its letters anywhere, is passed over before
    # the pattern of a word's beginning is tried on it, a test several times slower. A
    # count to 1,000 over a million walked for "łu" took 29 ms, 9 ms so; for "#4" 16 ms,
    # 2 ms so. In the "C" collation, which the trigram index is not made in: it cannot
    # narrow one or two characters, but offered a plain LIKE the planner read the whole
    # index for it ("#4": 113 ms).
    anywhere = words.collate("C")
    found = and_(
        *([] if letters == term else [anywhere.contains(term, autoescape=True)]),
        anywhere.contains(letters, autoescape=True),
        words.regexp_match(_WORD_START + letters),
        ~words.startswith(SEALED_PREFIX, autoescape=True),
    )
    if not common:
        # Read through the index once, not worked out row by row (another form of the
        # term, "l" beside "ł", may be common and have the list walked in order).
        # Only a server search loads the PostgreSQL dialect (its ARRAY has contains()).
        from sqlalchemy.dialects.postgresql import ARRAY

        starts = func.casebook_word_starts(words, type_=ARRAY(Text))
        narrowed: Select[tuple[Any]] = select(CaseRecord.id).where(starts.contains([letters]))
        found = and_(CaseRecord.id.in_(narrowed), found)
    return found


def _elsewhere(term: str, searched_events: tuple[str, ...]) -> CompoundSelect[tuple[Any]]:
    """Ids of cases whose notes or exhibits' words contain ``term``."""
    in_notes: Select[tuple[Any]] = select(EventRecord.case_id).where(
        EventRecord.kind.in_(searched_events),
        func.casebook_fold(EventRecord.summary).contains(term, autoescape=True),
    )
    return in_notes.union_all(evidence_matches(term, False))


def noted_cases(
    session: Session, term: str, searched_events: tuple[str, ...], most: int | None = None
) -> list[int] | None:
    """Ids of the cases whose notes or exhibits' words contain ``term`` (three or more
    characters), read through their trigram indexes; None when more than ``most`` (by
    default ``NOTED_MOST``) do."""
    most = NOTED_MOST if most is None else most
    found: Sequence[Any] = session.scalars(
        select(literal_column("case_id")).select_from(
            _elsewhere(term, searched_events).limit(most + 1).subquery()
        )
    ).all()
    return None if len(found) > most else sorted({int(case_id) for case_id in found})


def long_term_condition(
    term: str,
    searched_events: tuple[str, ...],
    *,
    common: bool,
    noted: list[int] | None = None,
) -> ColumnElement[bool]:
    """Cases whose details, notes or exhibits' words contain ``term`` (three or more
    characters).

    With ``noted`` (``noted_cases``: the few cases found by their notes and exhibits) the
    condition is the details' own test or one of those ids: the planner then reads a rare
    term's cases through the trigram and primary key indexes together, and walks the list
    in its order for a commoner one, stopping after a page. (Asking for the cases "in"
    the union of all three made it gather every match and look each case up again:
    11,000 cases and 160 ms for "#42" over a million, against 40 ms.) Without, a rare
    term is looked up in each trigram index and the cases read by id; a ``common`` one
    is checked row by row while the list is read in its order.
    """
    words = CaseRecord.search_text
    in_case = and_(
        words.contains(term, autoescape=True), ~words.startswith(SEALED_PREFIX, autoescape=True)
    )
    if noted is not None:
        return or_(in_case, CaseRecord.id.in_(noted)) if noted else in_case
    in_notes: Select[tuple[Any]] = select(EventRecord.case_id).where(
        EventRecord.kind.in_(searched_events),
        func.casebook_fold(EventRecord.summary).contains(term, autoescape=True),
    )
    in_evidence = evidence_matches(term, False)
    if common:
        return or_(in_case, CaseRecord.id.in_(in_notes.union_all(in_evidence)))
    in_details: Select[tuple[Any]] = select(CaseRecord.id).where(in_case)
    return CaseRecord.id.in_(in_details.union_all(in_notes, in_evidence))


def word_start_is_common(session: Session, letters: str, share: float = 0.01) -> bool:
    """True when the planner's statistics of the word-start index say that at least
    ``share`` of the cases have a word beginning with ``letters`` (no case is read)."""
    row = session.execute(
        text(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'ix_cases_word_starts'"
        )
    ).first()
    if row is None or row[0] is None:
        return False  # never analysed: a small casebook, where either way is quick
    frequencies = dict(zip(row[0], row[1], strict=False))
    return bool(frequencies.get(letters, 0.0) >= share)


def is_common(session: Session, term: str, share: float | None = None) -> bool:
    """True when the planner expects at least ``share`` of the cases to hold ``term``
    (three or more characters) in their details: asked of its statistics, no case read.

    Walking the list in order finds a page of such a term's cases within a few thousand
    rows; a rarer term's are quicker fetched through the trigram index and sorted.
    """
    share = COMMON_SHARE if share is None else share
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    plan = session.execute(
        text("EXPLAIN (FORMAT JSON) SELECT 1 FROM cases WHERE search_text LIKE :pattern"),
        {"pattern": f"%{escaped}%"},
    ).scalar()
    total = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'cases'"))
    expected = float(plan[0]["Plan"]["Plan Rows"]) if plan else 0.0
    return bool(total and total > 0 and expected >= share * float(total))
