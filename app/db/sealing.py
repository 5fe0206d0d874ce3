"""Safeguarding records sealed under the safeguarding key, below the services.

The words of a safeguarding case, and of what belongs to it (its chronology, evidence
details, letters, checklist and step notes, and the people only safeguarding cases name),
are stored as sealed tokens (``app.security.crypto.seal_text_to``): the database file,
readable with the data key that every user holds, then holds no title, name, address or
note of them. Reference, status, dates, categories and platform stay in clear, so lists,
counts and deadlines work for everyone.

How: columns that may hold a token are ``SealedText``. Before each flush, every new or
changed row of those tables is checked against the rule (``row_is_sealed``); a value that
must be sealed is marked ``Sealed`` and the column type seals it as it is written. Reading
opens a token with the safeguarding key when this process holds it (a head teacher / DSL
signed in) and hands back ``Sealed(text)``, so that a later write keeps it sealed; without
the key it hands back ``Unreadable``, which is never written back. The keys come from the
engine's dialect (``attach_keys``): each open casebook has its own engine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Engine, Text, event, func, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.types import TypeDecorator

from app.domain.categories import Category
from app.security.crypto import (
    SEALED_PREFIX,
    SafeguardingKey,
    SealBrokenError,
    is_sealed_text,
    seal_text_to,
)

log = logging.getLogger(__name__)

UNREADABLE_TEXT = "(sealed safeguarding record)"
_KEYS_ATTRIBUTE = "casebook_seal_keys"


class SealKeys(Protocol):
    """Where the sealing keys of one open casebook are asked for at the moment of use."""

    def get_head(self) -> SafeguardingKey | None: ...
    def get_head_public(self) -> bytes | None: ...


class Sealed(str):
    """Text that is (or is to be) stored sealed."""

    __slots__ = ()


class Unreadable(str):
    """A sealed value this process cannot open; shown as a placeholder, never written."""

    __slots__ = ()


class SealingError(Exception):
    """A sealed value could not be written or read as it should."""


def attach_keys(engine: Engine, keys: SealKeys) -> None:
    """Let ``SealedText`` columns of this engine ask ``keys`` for the safeguarding key."""
    setattr(engine.dialect, _KEYS_ATTRIBUTE, keys)


def _keys(dialect: Dialect) -> SealKeys | None:
    keys: SealKeys | None = getattr(dialect, _KEYS_ATTRIBUTE, None)
    return keys


class SealedText(TypeDecorator[str]):
    """Text that holds a sealed token when its row is a safeguarding record."""

    impl = Text
    cache_ok = True

    def __init__(self, label: str, unreadable: str = UNREADABLE_TEXT) -> None:
        super().__init__()
        self.label = label
        self.unreadable = unreadable

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if isinstance(value, Unreadable):
            raise SealingError(f"a sealed {self.label} cannot be written back unopened")
        if isinstance(value, Sealed) and value:
            keys = _keys(dialect)
            public = keys.get_head_public() if keys is not None else None
            if public is None:
                # A casebook from before the safeguarding key: sealed at a head's sign-in.
                log.warning("No safeguarding key yet; %s stored unsealed", self.label)
                return str(value)
            return seal_text_to(public, str(value), self.label)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if not is_sealed_text(value):
            return value  # type: ignore[no-any-return]
        keys = _keys(dialect)
        head = keys.get_head() if keys is not None else None
        if head is None:
            return Unreadable(self.unreadable)
        try:
            return Sealed(head.open_text(value, self.label))
        except SealBrokenError:
            log.warning("A sealed %s does not authenticate", self.label)
            return Unreadable(self.unreadable)


# ----- which rows are sealed ---------------------------------------------------------------


def is_safeguarding(categories: str | None) -> bool:
    """True for the stored categories of a safeguarding case."""
    return Category.SAFEGUARDING.value in (categories or "").split(",")


def sealed_columns(record: object) -> tuple[str, ...]:
    """The attribute names of ``record`` that are ``SealedText`` columns."""
    mapper = getattr(type(record), "__mapper__", None)
    if mapper is None:
        return ()
    return _SEALED_BY_CLASS.setdefault(
        type(record),
        tuple(
            attr.key for attr in mapper.column_attrs if isinstance(attr.columns[0].type, SealedText)
        ),
    )


_SEALED_BY_CLASS: dict[type, tuple[str, ...]] = {}


def apply_seal(record: object, sealed: bool) -> bool:
    """Mark each sealed column of ``record`` for storing sealed (or in clear); True if any
    stored form changes. Values that could not be opened are left as they are."""
    changed = False
    for name in sealed_columns(record):
        value = getattr(record, name)
        if not value or isinstance(value, Unreadable):
            continue
        if sealed and not isinstance(value, Sealed):
            setattr(record, name, Sealed(value))
        elif not sealed and isinstance(value, Sealed):
            setattr(record, name, str(value))
        else:
            continue
        flag_modified(record, name)
        changed = True
    return changed


def case_is_sealed(session: Session, case_id: int | None) -> bool:
    """True when the case with this id is a safeguarding case."""
    from app.db.models import CaseRecord

    if case_id is None:
        return False
    with session.no_autoflush:
        case = session.get(CaseRecord, case_id)
    return case is not None and is_safeguarding(case.categories)


def person_is_sealed(session: Session, person_id: int | None) -> bool:
    """True when a person appears on cases and every one of them is a safeguarding case."""
    from app.db.models import CasePersonRecord, CaseRecord

    if person_id is None:
        return False
    with session.no_autoflush:
        categories = session.scalars(
            select(CaseRecord.categories)
            .join(CasePersonRecord, CasePersonRecord.case_id == CaseRecord.id)
            .where(CasePersonRecord.person_id == person_id)
        ).all()
    return bool(categories) and all(is_safeguarding(c) for c in categories)


def row_is_sealed(session: Session, record: object) -> bool | None:
    """Whether ``record`` is a safeguarding record; None for a table that is never sealed."""
    from app.db.models import CaseRecord, PersonImportChangeRecord, PersonRecord

    if not sealed_columns(record):
        return None
    if isinstance(record, CaseRecord):
        return is_safeguarding(record.categories)
    if isinstance(record, PersonRecord):
        return person_is_sealed(session, record.id)
    if isinstance(record, PersonImportChangeRecord):
        # Sealed as the person is: read from the person's row in this session (an import
        # writes thousands of these, and a query for each would cost seconds).
        with session.no_autoflush:
            person = session.get(PersonRecord, record.person_id)
        return person is not None and isinstance(person.name, (Sealed, Unreadable))
    return case_is_sealed(session, getattr(record, "case_id", None))


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for record in list(session.new) + list(session.dirty):
        sealed = row_is_sealed(session, record)
        if sealed is not None:
            apply_seal(record, sealed)


def install_sealing(sessions: sessionmaker[Session]) -> None:
    """Seal safeguarding rows on every flush of sessions made by ``sessions``."""
    event.listen(sessions, "before_flush", _before_flush)


def reseal_case(session: Session, case_id: int) -> int:
    """Bring every row of one case (and its people) to the form its category asks for,
    after the case became, or stopped being, a safeguarding case; return rows changed."""
    from app.db.models import (
        CaseActionRecord,
        CasePersonRecord,
        CaseRecord,
        CaseStepRecord,
        EventRecord,
        EvidenceRecord,
        LetterEmailRecord,
        LetterRecord,
        PersonRecord,
    )

    case = session.get(CaseRecord, case_id)
    if case is None:
        return 0
    sealed = is_safeguarding(case.categories)
    changed = int(apply_seal(case, sealed))
    for model in (
        EventRecord,
        EvidenceRecord,
        LetterRecord,
        LetterEmailRecord,
        CaseActionRecord,
        CaseStepRecord,
    ):
        rows: Iterable[object] = session.scalars(select(model).where(model.case_id == case_id))
        changed += sum(apply_seal(row, sealed) for row in rows)
    people = session.scalars(
        select(PersonRecord)
        .join(CasePersonRecord, CasePersonRecord.person_id == PersonRecord.id)
        .where(CasePersonRecord.case_id == case_id)
    ).all()
    for person in people:
        changed += reseal_person(session, person)
    return changed


def reseal_person(session: Session, person: object) -> int:
    """Seal or unseal one person (and what an import kept of their details before) after
    their links to cases changed; 1 if the person's row changed."""
    from app.db.models import PersonImportChangeRecord

    person_id = getattr(person, "id", None)
    sealed = person_is_sealed(session, person_id)
    if person_id is not None:
        for change in session.scalars(
            select(PersonImportChangeRecord).where(PersonImportChangeRecord.person_id == person_id)
        ):
            apply_seal(change, sealed)
    return int(apply_seal(person, sealed))


def refresh_search_index(
    session: Session, case_id: int, sealed: bool, searched_kinds: tuple[str, ...]
) -> None:
    """After a case was sealed or unsealed: its notes' words leave (or rejoin) the SQLite
    search index, and the index is rewritten so no word of the old form stays in it."""
    from sqlalchemy import text

    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    session.flush()
    session.execute(text("DELETE FROM case_text WHERE case_id = :id"), {"id": case_id})
    # The words read from its exhibits leave (or rejoin) the index with it.
    session.execute(text("DELETE FROM evidence_text WHERE rowid = :id"), {"id": case_id})
    if not sealed:
        from app.db.models import EventRecord, EvidenceRecord
        from app.domain.search import fold

        bodies = session.scalars(
            select(EvidenceRecord.extracted_text)
            .where(
                EvidenceRecord.case_id == case_id,
                EvidenceRecord.kind == "original",
                EvidenceRecord.extracted_text != "",
            )
            .order_by(EvidenceRecord.number)
        ).all()
        words = "\n".join(str(b) for b in bodies if b and not isinstance(b, Unreadable))
        if words.strip():
            session.execute(
                text("INSERT INTO evidence_text(rowid, body) VALUES (:id, :body)"),
                {"id": case_id, "body": fold(words[:2_000_000])},
            )

        for summary in session.scalars(
            select(EventRecord.summary).where(
                EventRecord.case_id == case_id, EventRecord.kind.in_(searched_kinds)
            )
        ):
            session.execute(
                text("INSERT INTO case_text(body, case_id) VALUES (:body, :id)"),
                {"body": fold(str(summary)), "id": case_id},
            )
    session.execute(text("INSERT INTO case_search(case_search) VALUES ('optimize')"))
    session.execute(text("INSERT INTO case_text(case_text) VALUES ('optimize')"))
    session.execute(text("INSERT INTO evidence_text(evidence_text) VALUES ('optimize')"))


def seal_outstanding(session: Session, searched_kinds: tuple[str, ...]) -> int:
    """Seal safeguarding rows still in clear: those of a casebook made before sealing, and
    those written while no one held the key (a person left only on safeguarding cases by
    someone without it). Needs the safeguarding key's public half; returns rows sealed."""
    from sqlalchemy import exists

    from app.db.models import CaseCategoryRecord, CasePersonRecord, CaseRecord, PersonRecord

    safeguarding = CaseRecord.categories.contains(Category.SAFEGUARDING.value)
    # Found through the categories' index (ix_case_categories_category), not by reading the
    # categories of every case: this runs at each head's sign-in, over any number of cases.
    safeguarding_ids = select(CaseCategoryRecord.case_id).where(
        CaseCategoryRecord.category == Category.SAFEGUARDING.value
    )
    # Most sign-ins find every safeguarding case sealed already: the ids of both are read
    # from indexes alone (ix_case_categories_category, ix_cases_sealed), and only the cases
    # in the first and not the second are read (over a million cases, reading all 2,000
    # safeguarding cases took 0.1-0.2 s of every head's sign-in). One statement (EXCEPT)
    # rather than two sets taken apart in Python: each statement is compiled afresh in
    # every process, which cost a command more than running it.
    sealed_start = func.substr(
        CaseRecord.search_text, literal_column("1"), literal_column(str(len(SEALED_PREFIX)))
    )
    outstanding = set(
        session.scalars(
            safeguarding_ids.except_(select(CaseRecord.id).where(sealed_start == SEALED_PREFIX))
        )
    )
    case_ids: list[int] = []
    ordered = sorted(outstanding)
    for start in range(0, len(ordered), 500):
        case_ids += session.scalars(
            select(CaseRecord.id).where(
                CaseRecord.id.in_(ordered[start : start + 500]),
                safeguarding,
                ~CaseRecord.search_text.startswith(SEALED_PREFIX),
            )
        ).all()
    changed = 0
    for case_id in case_ids:
        changed += reseal_case(session, case_id)
        refresh_search_index(session, case_id, True, searched_kinds)
    linked = exists().where(CasePersonRecord.person_id == PersonRecord.id)
    on_open_case = exists().where(
        CasePersonRecord.person_id == PersonRecord.id,
        CasePersonRecord.case_id == CaseRecord.id,
        ~safeguarding,
    )
    # Only someone linked to a safeguarding case can be linked to no other kind.
    on_safeguarding_case = select(CasePersonRecord.person_id).where(
        CasePersonRecord.case_id.in_(safeguarding_ids)
    )
    people = session.scalars(
        select(PersonRecord).where(
            PersonRecord.id.in_(on_safeguarding_case),
            linked,
            ~on_open_case,
            ~PersonRecord.name_key.startswith(SEALED_PREFIX),
        )
    ).all()
    for person in people:
        changed += reseal_person(session, person)
    return changed
