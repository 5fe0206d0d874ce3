"""A casebook indexed before accent folding finds "zoe" and "lukas" once migrated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.config import DataPaths, prepare_data_dir
from app.db.engine import connect_encrypted, make_engine, migrate, upgrade_to
from app.domain.records import CaseFilter, CaseSort
from app.security.crypto import DataKey
from app.security.keyring import Keyring, KeyringFile, KeyringStore
from app.services.casebook import Services, open_casebook

BEFORE = "0020_list_at_scale"
STAMP = "2026-11-24 10:00:00"


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    return prepare_data_dir(tmp_path / "casebook")


@pytest.fixture
def key(paths: DataPaths) -> DataKey:
    new = DataKey.new()
    KeyringStore(KeyringFile(paths.keyring)).save(Keyring.new(new))
    return new


@pytest.fixture
def engine(paths: DataPaths, key: DataKey) -> Iterator[Engine]:
    engine = make_engine(paths.database, lambda: key)
    yield engine
    engine.dispose()


def _add_case(connection, number: int, title: str, search_text: str) -> None:  # type: ignore[no-untyped-def]
    connection.execute(
        text(
            "INSERT INTO cases (id, reference, ref_year, ref_number, title, status, categories,"
            " search_text, code_version, created_at, updated_at, last_activity_at)"
            " VALUES (:id, :ref, 2026, :id, :title, 'new', 'abusive', :words, '1.0',"
            " :at, :at, :at)"
        ),
        {
            "id": number,
            "ref": f"SM-2026-{number:04d}",
            "title": title,
            "words": search_text,
            "at": STAMP,
        },
    )
    connection.execute(
        text("INSERT INTO case_categories (case_id, category) VALUES (:id, 'abusive')"),
        {"id": number},
    )


@pytest.fixture
def old_casebook(paths: DataPaths, engine: Engine, key: DataKey) -> Iterator[Services]:
    """A casebook at 0020 whose words were stored with their accents, as before folding."""
    upgrade_to(engine, BEFORE)
    with engine.begin() as connection:
        # 1: the name is in the case's own words (the list's search text).
        _add_case(
            connection,
            1,
            "Post about the fair",
            "sm-2026-0001 post about the fair facebook zoë łukasiewicz",
        )
        connection.execute(
            text(
                "INSERT INTO people (id, name, name_key, kind, address, postcode, email, phone,"
                " relationship, created_at, updated_at)"
                " VALUES (1, 'Zoë Łukasiewicz', 'zoë łukasiewicz', 'parent', '', '', '', '',"
                " '', :at, :at)"
            ),
            {"at": STAMP},
        )
        connection.execute(
            text(
                "INSERT INTO case_people (case_id, person_id, role, created_at)"
                " VALUES (1, 1, 'author', :at)"
            ),
            {"at": STAMP},
        )
        # 2: only a note names her (the note trigger copied it into case_text as written).
        _add_case(connection, 2, "Comment on the trip", "sm-2026-0002 comment on the trip")
        connection.execute(
            text(
                "INSERT INTO events (case_id, at, actor, kind, summary, data)"
                " VALUES (2, :at, 'office', 'note', 'Rang Zoë Łukasiewicz back', '{}')"
            ),
            {"at": STAMP},
        )
        # 3: only an exhibit's words name her.
        _add_case(connection, 3, "Screenshot", "sm-2026-0003 screenshot")
        connection.execute(
            text("INSERT INTO evidence_text(rowid, body) VALUES (3, 'shared by Zoë Łukasiewicz')")
        )
    assert migrate(engine, paths.database, paths.backups, key) is not None
    engine.dispose()
    services = open_casebook(paths.root, key=key)
    yield services
    services.close()


@pytest.mark.parametrize("typed", ["zoe", "ZOE", "Zoë", "lukas", "łukasiewicz", "Lukasiewicz"])
def test_an_old_casebook_finds_accented_names_typed_without_accents(
    old_casebook: Services, typed: str
) -> None:
    found = old_casebook.cases.list_cases(CaseFilter(text=typed), CaseSort())
    assert {c.reference for c in found} == {"SM-2026-0001", "SM-2026-0002", "SM-2026-0003"}
    assert old_casebook.cases.count_cases(CaseFilter(text=typed)) == 3
    in_evidence = old_casebook.cases.list_cases(
        CaseFilter(text=typed, in_evidence=True), CaseSort()
    )
    assert [c.reference for c in in_evidence] == ["SM-2026-0003"]


def test_two_letters_find_the_folded_words_too(old_casebook: Services) -> None:
    # One- and two-letter terms use the word index (case_words), rebuilt from the new words.
    assert old_casebook.cases.count_cases(CaseFilter(text="lu")) == 1
    assert old_casebook.cases.count_cases(CaseFilter(text="zo")) == 1


def test_the_migrated_words_are_stored_folded(
    paths: DataPaths, old_casebook: Services, key: DataKey
) -> None:
    connection = connect_encrypted(paths.database, key)
    try:
        (words,) = connection.execute("SELECT search_text FROM cases WHERE id = 1").fetchone()
        (note,) = connection.execute("SELECT body FROM case_text WHERE case_id = 2").fetchone()
        (exhibit,) = connection.execute("SELECT body FROM evidence_text WHERE rowid = 3").fetchone()
        (name,) = connection.execute("SELECT search_name FROM people WHERE id = 1").fetchone()
        triggers = {
            n
            for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    finally:
        connection.close()
    assert words.endswith("zoe lukasiewicz")
    assert note == "rang zoe lukasiewicz back"
    assert exhibit == "shared by zoe lukasiewicz"
    assert name == "zoe lukasiewicz"
    # Notes are indexed by the service, folded; the trigger that copied them as written is gone.
    assert "events_case_text" not in triggers


def test_a_note_written_after_the_migration_is_found_folded(old_casebook: Services) -> None:
    old_casebook.cases.add_note(3, "Agreed with Siobhán Ó Súilleabháin")
    found = old_casebook.cases.list_cases(CaseFilter(text="siobhan suilleabhain"), CaseSort())
    assert [c.reference for c in found] == ["SM-2026-0003"]


def test_people_search_folds_accents_in_an_old_casebook(old_casebook: Services) -> None:
    for typed in ("zoe", "lukas", "Zoë Ł", "ZOE LUKASIEWICZ"):
        assert [p.name for p in old_casebook.people.search_people(typed)] == ["Zoë Łukasiewicz"]
    assert old_casebook.people.search_people("zoey") == []


def test_people_search_folds_accents_of_a_person_added_now(old_casebook: Services) -> None:
    from app.domain.records import PersonDraft

    old_casebook.people.add_person(PersonDraft(name="Nguyễn Thị Hồng"))
    assert [p.name for p in old_casebook.people.search_people("nguyen thi")] == ["Nguyễn Thị Hồng"]
