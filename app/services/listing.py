"""The columns the case list sorts and searches on, kept in step with cases and people."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FromClause, SelectBase
from sqlalchemy.sql.visitors import replacement_traverse

from app.db.models import CasePersonRecord, CaseRecord, PersonRecord
from app.db.sealing import Unreadable
from app.domain.people import CaseRole
from app.domain.search import fold
from app.security.crypto import SEALED_PREFIX


def refresh_listing_columns(session: Session, case: CaseRecord) -> None:
    """Recompute the columns the case list sorts and searches on."""
    links = session.execute(
        select(PersonRecord.name, CasePersonRecord.role)
        .join(CasePersonRecord, CasePersonRecord.person_id == PersonRecord.id)
        .where(CasePersonRecord.case_id == case.id)
        .order_by(CasePersonRecord.created_at, PersonRecord.id)
    ).all()
    parts = [case.title, case.account_handle, case.summary, *(name for name, _ in links)]
    if any(isinstance(part, Unreadable) for part in parts):
        return  # sealed words this process cannot open: the stored columns stay as they are
    authors = [name for name, role in links if role == CaseRole.AUTHOR.value]
    # The list shows the handle when no author is linked, so sort on what it shows.
    case.poster = authors[0] if authors else case.account_handle
    names = " ".join(name for name, _role in links)
    parts = [case.reference, case.title, case.platform, case.account_handle, names, case.summary]
    case.search_text = fold(" ".join(part for part in parts if part))


def refresh_cases_of_person(session: Session, person_id: int) -> None:
    """Recompute the list columns of every case a person is linked to (after a rename)."""
    cases = session.scalars(
        select(CaseRecord)
        .join(CasePersonRecord, CasePersonRecord.case_id == CaseRecord.id)
        .where(CasePersonRecord.person_id == person_id)
        .distinct()
    ).all()
    for case in cases:
        refresh_listing_columns(session, case)


# ----- the case list at scale (a million cases) ---------------------------------------


def has_word_character(term: str) -> bool:
    """True when ``term`` holds a letter or digit, the only things the word index holds."""
    return any(character.isalnum() for character in term)


def sealed_search_text() -> ColumnElement[bool]:
    """Cases whose search text is sealed, found through ``ix_cases_sealed`` (migration
    0020 indexes exactly this expression), never by reading every case."""
    start = func.substr(
        CaseRecord.search_text, literal_column("1"), literal_column(str(len(SEALED_PREFIX)))
    )
    return start == SEALED_PREFIX


def not_sealed() -> ColumnElement[bool]:
    """Cases whose search text is not sealed, as a test of the case's number alone (among
    the few sealed cases' numbers, read once through ``ix_cases_sealed``): a page read in
    list order tests it from the sort's index, without reading each case passed."""
    sealed = CaseRecord.__table__.alias("sealed_cases")
    start = func.substr(
        sealed.c.search_text, literal_column("1"), literal_column(str(len(SEALED_PREFIX)))
    )
    return CaseRecord.id.not_in(select(sealed.c.id).where(start == SEALED_PREFIX))


def short_term_found(term: str) -> ColumnElement[bool]:
    """Cases with a word beginning with ``term`` (one or two characters), from the
    ``case_words`` prefix index (SQLite only).

    When ``term`` holds punctuation as well ("#4"), the words found are those beginning
    with its letters and digits, and the case's text must also hold ``term`` as typed:
    every such case is among those words, so the index narrows and ``LIKE`` decides.
    Sealed cases are left to the caller (their stored words are not words).
    """
    phrase = '"' + term.replace('"', '""') + '" *'
    in_words: Select[tuple[Any]] = (
        select(literal_column("rowid"))
        .select_from(table("case_words"))
        .where(text("case_words MATCH :words").bindparams(bindparam("words", phrase, unique=True)))
    )
    found = and_(CaseRecord.id.in_(in_words), ~CaseRecord.search_text.startswith(SEALED_PREFIX))
    if all(character.isalnum() for character in term):
        return found
    return and_(found, CaseRecord.search_text.contains(term, autoescape=True))


def after_row(
    column: ColumnElement[Any],
    value: Any,
    case_id: int,
    descending: bool,
    nullable: bool,
    *,
    nulls_last: bool = False,
    inclusive: bool = False,
) -> ColumnElement[bool]:
    """Rows that come after the row (``value``, ``case_id``) in list order, for reading the
    next page from where the last one ended (keyset paging) instead of counting past every
    earlier row with ``OFFSET``.

    Written as a row-value comparison, so SQLite reads a range of the sort's index (an OR
    of the same conditions made it scan every case). SQLite puts empty values (NULL) first
    in ascending order and last in descending order; the conditions follow that.
    PostgreSQL (``nulls_last``) puts them last in ascending order and first in descending;
    there ``inclusive`` starts with the row itself.
    """
    key = tuple_(column, CaseRecord.id)
    if nulls_last:
        if value is None:
            if descending:
                before = CaseRecord.id <= case_id if inclusive else CaseRecord.id < case_id
                return or_(column.is_not(None), before)
            later = CaseRecord.id >= case_id if inclusive else CaseRecord.id > case_id
            return and_(column.is_(None), later)
        row = tuple_(literal(value, column.type), literal(case_id))
        if descending:
            return key <= row if inclusive else key < row
        after = key >= row if inclusive else key > row
        return or_(after, column.is_(None)) if nullable else after
    if value is None:
        if descending:
            return and_(column.is_(None), CaseRecord.id < case_id)
        return or_(column.is_not(None), and_(column.is_(None), CaseRecord.id > case_id))
    if not descending:
        return key > tuple_(literal(value, column.type), literal(case_id))
    before = key < tuple_(literal(value, column.type), literal(case_id))
    return or_(before, column.is_(None)) if nullable else before


# ----- common words over a million cases: the list walked in its order -----------------
#
# A word that most cases hold ("s": every reference begins "SM-") would be found in the
# search indexes hundreds of thousands of times, and every match fetched and sorted for a
# page of 200. Instead the list is read in its own order through the sort's index and each
# case's search text tested as it passes, until the page is full: at a density of one case
# in a hundred that is 20,000 rows at most, a few tens of milliseconds. The test is the
# index's own rule, so a walked page holds exactly what the index would have found.

WALK_FUNCTION = "case_term_found"
# A term is walked when its index finds at least one case in WALK_DENSITY, counted in
# WALK_WINDOWS spans of WALK_PROBE ids spread over all the cases (a word's cases may
# cluster by number: "#42" is in 42,000-42,999); rarer terms are read from the index and
# their matches sorted.
WALK_PROBE = 2_000
WALK_WINDOWS = 5
WALK_DENSITY = 40


def term_in_text(search_text: str | None, form: str, short: int) -> int:
    """1 when a case's search text holds ``form`` as the search indexes find it: a word
    beginning with it for a term of one or two characters (``case_words``: the letters and
    digits of the term, and the term as typed when it holds punctuation), anywhere for a
    longer one (``case_search``, trigrams). Sealed text holds no words (0)."""
    if not search_text or search_text.startswith(SEALED_PREFIX):
        return 0
    text = search_text.lower()
    if not short:
        return int(form in text)
    word = "".join(character for character in form if character.isalnum())
    if not word or (word != form and form not in text):
        return 0
    start = text.find(word)
    while start != -1:
        if start == 0 or not text[start - 1].isalnum():
            return 1
        start = text.find(word, start + 1)
    return 0


def register_walk_function(session: Session) -> None:
    """Make ``term_in_text`` callable from SQL on this session's connection (SQLite)."""
    raw = session.connection().connection.driver_connection
    raw.create_function(WALK_FUNCTION, 3, term_in_text, deterministic=True)  # type: ignore[union-attr]


def term_walked(form: str) -> ColumnElement[bool]:
    """The SQL test of ``term_in_text`` on each case as the list passes it: SQLite's own
    ``instr`` first (a longer term is exactly that; a short one must hold the term's
    letters somewhere before its word test in Python is asked)."""
    sealed = func.substr(
        CaseRecord.search_text, literal_column("1"), literal_column(str(len(SEALED_PREFIX)))
    )
    if len(form) >= 3:
        return and_(func.instr(CaseRecord.search_text, literal(form)) > 0, sealed != SEALED_PREFIX)
    word = "".join(character for character in form if character.isalnum())
    found: ColumnElement[bool] = getattr(func, WALK_FUNCTION)(
        CaseRecord.search_text, literal(form), literal_column("1")
    ) == literal_column("1")
    return and_(func.instr(CaseRecord.search_text, literal(word)) > 0, found)


def index_for(form: str) -> tuple[str, str]:
    """The search index that serves ``form`` and the phrase it is asked for."""
    quoted = '"' + form.replace('"', '""') + '"'
    if len(form) >= 3:
        return "case_search", quoted
    return "case_words", quoted + " *"


def looked_up_by_number(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """``condition`` with its tests of a case's number among the matches ("cases.id IN
    (...)") written ``+cases.id``, so that SQLite cannot read those matches first and sort
    them: it reads the sort's index in list order instead, looking each case's number up
    among the matches (from the index alone), and stops when the page is full.

    (SQLAlchemy's ``with_hint`` renders nothing on SQLite, so ``INDEXED BY`` is not an
    option; the unary plus is SQLite's documented way to keep a term off an index.)
    Subqueries are left as they are.
    """
    return kept_off_indexes(condition, "id")


def kept_off_indexes(condition: ColumnElement[bool], *columns: str) -> ColumnElement[bool]:
    """``condition`` with the cases' ``columns`` written with a unary plus (``+cases.x``):
    SQLite then finds no index for its tests of them and reads the list in its order,
    testing each case it passes. Subqueries are left as they are."""
    table = CaseRecord.__table__
    plain = {
        name: literal_column(f"+{CaseRecord.__tablename__}.{name}", table.c[name].type)
        for name in columns
    }

    def swap(element: Any, **_kw: Any) -> Any:
        if isinstance(element, SelectBase | FromClause):
            return element  # a subquery's own columns are its business
        if isinstance(element, Column) and element.table is table and element.key in plain:
            return plain[element.key]
        return None

    return replacement_traverse(condition, {}, swap)
