"""Safeguarding records are sealed under the safeguarding key: an office user with their
own password and a copy of every file reads none of their words, while a head teacher /
DSL works with them as before (open, list, search, change category).

The offline attacker uses the project's own primitives: ``Keyring.open_account`` with the
office password gives the data key; ``connect_encrypted`` opens the database with it;
every table (search-index shadow tables included) is read, and every page of the file,
free pages included, is decrypted and searched as well.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import create_engine, text

from app.db.engine import connect_encrypted
from app.domain.access import Role
from app.domain.categories import Category
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, CaseFilter, CaseSort, PersonDraft
from app.security.crypto import DataKey, is_sealed_text
from app.security.keyring import Keyring
from app.services.casebook import Services, open_casebook
from tests.conftest import Clock
from tests.postgres_server import PostgresServer

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"
TITLE = "Disclosure about Year 3 pupil Ottoline Brackenridge"
SUMMARY = "Parent posted the child's home situation in the Wednesday group"
HANDLE = "@wrenfield_mum_1987"
URL = "https://social.example/posts/9f8e7d6c5b"
NAME = "Cassius Wetherall-Pennington"
ADDRESS = "27 Juniper Mews"
NOTE = "Referred to children's social care by the designated lead"
ORDINARY = "Complaint about the summer fair raffle"
EVIDENCE = b"Screenshot text: Ottoline's mum says the school ignored her. " * 3


def needles() -> dict[str, bytes]:
    return {
        "title": b"Ottoline Brackenridge",
        "summary": b"home situation in the Wednesday",
        "handle": b"wrenfield_mum",
        "url": b"9f8e7d6c5b",
        "name": b"Wetherall-Pennington",
        "name (lower case)": b"wetherall-pennington",
        "address": b"Juniper Mews",
        "note": b"children's social care",
    }


@pytest.fixture
def filled(data_dir: Path, clock: Clock) -> Services:
    services = open_casebook(data_dir, clock=clock)
    services.users.create_first_user("head", HEAD_PASSWORD)
    services.users.add_user("office", Role.OFFICE, OFFICE_PASSWORD)
    services.users.sign_in("head", HEAD_PASSWORD)
    case = services.cases.open_case(
        CaseDraft(
            title=TITLE,
            summary=SUMMARY,
            account_handle=HANDLE,
            post_url=URL,
            platform="Facebook",
            categories=frozenset({Category.SAFEGUARDING}),
        )
    )
    person = services.people.add_person(
        PersonDraft(name=NAME, kind=PersonKind.PARENT, address_lines=(ADDRESS, "Townley"))
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    services.cases.add_note(case.id, NOTE)
    services.evidence.add_bytes(case.id, [("post.txt", EVIDENCE)])
    from app.services.demo import DEMO_SCHOOL_PROFILE

    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    services.letters.issue(
        case.id, LetterKind.REMOVAL, person.id, confirm_kind=True, confirm_post_details=True
    )
    services.cases.open_case(CaseDraft(title=ORDINARY, categories=frozenset({Category.ABUSIVE})))
    return services


def every_blob(data_dir: Path, key: DataKey) -> bytes:
    """Every stored file opened with the data key, as an office user can."""
    out = []
    for path in sorted((data_dir / "blobs").rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            out.append(key.open_sealed(path.read_bytes()))
    return b"\n".join(out)


def office_key(data_dir: Path) -> DataKey:
    keyring = Keyring.parse((data_dir / "casebook.keys").read_bytes())
    opened = keyring.open_account("office", OFFICE_PASSWORD)
    assert opened.head_key is None
    return opened.key


def every_row(data_dir: Path, key: DataKey) -> bytes:
    """Every value of every table, as an office user's data key reads them."""
    connection = connect_encrypted(data_dir / "casebook.sqlite3", key)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).fetchall()
        ]
        out = []
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"').fetchall():
                for value in row:
                    out.append(value if isinstance(value, bytes) else str(value).encode())
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return b"\n".join(out)


def every_page(database: Path, key: DataKey) -> bytes:
    """Every page of the file decrypted (SQLCipher 4: AES-256-CBC, 80 reserved bytes)."""
    raw = database.read_bytes()
    out = []
    for at in range(0, len(raw), 4096):
        page = raw[at : at + 4096]
        iv = page[4096 - 80 : 4096 - 64]
        decryptor = Cipher(algorithms.AES(key.raw), modes.CBC(iv)).decryptor()
        out.append(decryptor.update(page[16 if at == 0 else 0 : 4096 - 80]) + decryptor.finalize())
    return b"".join(out)


def test_an_office_password_and_the_files_read_no_safeguarding_words(
    filled: Services, data_dir: Path
) -> None:
    filled.close()
    key = office_key(data_dir)
    rows = every_row(data_dir, key)
    assert ORDINARY.encode() in rows  # the office's own work is readable, as it should be
    assert b"SM-2026-0001" in rows  # the reference stays in clear, with status and dates
    pages = every_page(data_dir / "casebook.sqlite3", key)
    assert ORDINARY.encode() in pages  # the page reader does read the file
    found = {what for what, needle in needles().items() if needle in rows or needle in pages}
    assert found == set()
    files = every_blob(data_dir, key)
    assert files  # the files are there, and open with the data key: one layer only
    assert b"Ottoline" not in files
    assert b"%PDF" not in files  # the letter's PDF (name and address) is sealed too


def test_a_head_opens_sealed_files_and_verify_passes(filled: Services) -> None:
    case = filled.cases.find_case("SM-2026-0001")
    exhibit = filled.evidence.list_evidence(case.id)[0]
    assert filled.evidence.content(exhibit.id) == EVIDENCE
    assert filled.evidence.verify().ok
    filled.users.sign_in("office", OFFICE_PASSWORD)
    assert filled.evidence.verify().ok  # the data key's seal is checked without the key


def test_a_head_works_with_sealed_records_as_before(filled: Services) -> None:
    rows = filled.cases.list_cases(CaseFilter(text="brackenridge"), CaseSort("reference", False))
    assert [r.title for r in rows] == [TITLE]
    assert [r.poster for r in rows] == [NAME]
    noted = filled.cases.list_cases(CaseFilter(text="social care"), CaseSort("reference", False))
    assert [r.title for r in noted] == [TITLE]
    case = filled.cases.find_case("SM-2026-0001")
    assert (case.title, case.summary, case.account_handle, case.post_url) == (
        TITLE,
        SUMMARY,
        HANDLE,
        URL,
    )
    assert case.people[0].person.address_lines == (ADDRESS, "Townley")
    assert any(e.summary == NOTE for e in case.events)
    assert [p.name for p in filled.people.search_people("Wetherall")] == [NAME]
    assert filled.people.match_or_create(NAME).id == case.people[0].person.id


def test_the_office_cannot_find_a_sealed_person_by_any_route(filled: Services) -> None:
    filled.users.sign_in("office", OFFICE_PASSWORD)
    assert filled.people.search_people("Wetherall") == []
    assert [
        r.title for r in filled.cases.list_cases(CaseFilter(), CaseSort("reference", False))
    ] == [ORDINARY]


def test_a_case_leaving_and_rejoining_safeguarding_is_unsealed_and_sealed_again(
    filled: Services, data_dir: Path
) -> None:
    case = filled.cases.find_case("SM-2026-0001")
    plain = filled.cases.update_case(
        case.id, _draft(case, frozenset({Category.ABUSIVE})), case.version
    )
    assert plain.title == TITLE
    key = office_key(data_dir)
    assert b"Ottoline Brackenridge" in every_row(data_dir, key)
    assert b"Wetherall-Pennington" in every_row(data_dir, key)
    assert EVIDENCE in every_blob(data_dir, key)  # an ordinary case's files are in clear
    filled.users.sign_in("office", OFFICE_PASSWORD)
    assert filled.cases.find_case("SM-2026-0001").title == TITLE
    assert [p.name for p in filled.people.search_people("Wetherall")] == [NAME]
    filled.users.sign_in("head", HEAD_PASSWORD)
    again = filled.cases.update_case(
        case.id, _draft(plain, frozenset({Category.SAFEGUARDING})), plain.version
    )
    assert again.title == TITLE
    filled.close()
    rows, pages = every_row(data_dir, key), every_page(data_dir / "casebook.sqlite3", key)
    found = {what for what, needle in needles().items() if needle in rows or needle in pages}
    assert found == set()
    assert b"Ottoline" not in every_blob(data_dir, key)
    assert b"%PDF" not in every_blob(data_dir, key)


def test_a_person_linked_to_an_ordinary_case_is_unsealed(filled: Services) -> None:
    person = filled.cases.find_case("SM-2026-0001").people[0].person
    ordinary = filled.cases.find_case("SM-2026-0002")
    filled.cases.link_person(ordinary.id, person.id, CaseRole.REPORTER)
    filled.users.sign_in("office", OFFICE_PASSWORD)
    assert [p.name for p in filled.people.search_people("Wetherall")] == [NAME]
    # Unlinked again (by the office, who cannot seal it back), it disappears from their view,
    # and the head's next sign-in seals it.
    filled.cases.unlink_person(ordinary.id, person.id, CaseRole.REPORTER)
    assert filled.people.search_people("Wetherall") == []
    filled.users.sign_in("head", HEAD_PASSWORD)
    assert [p.name for p in filled.people.search_people("Wetherall")] == [NAME]


def test_office_staff_opening_a_safeguarding_case_seal_it_as_they_write(
    filled: Services, data_dir: Path
) -> None:
    filled.users.sign_in("office", OFFICE_PASSWORD)
    opened = filled.cases.open_case(
        CaseDraft(
            title="Report naming Peregrine Oakhampton-Vale",
            categories=frozenset({Category.SAFEGUARDING}),
        )
    )
    assert "Peregrine" not in opened.title  # written, but not readable back by them
    filled.close()
    key = office_key(data_dir)
    assert b"Oakhampton" not in every_row(data_dir, key)
    services = open_casebook(data_dir)
    try:
        services.users.sign_in("head", HEAD_PASSWORD)
        assert services.cases.find_case(opened.reference).title.endswith("Oakhampton-Vale")
    finally:
        services.close()


def _draft(case: object, categories: frozenset[Category]) -> CaseDraft:
    fields = {
        name: getattr(case, name)
        for name in (
            "title",
            "summary",
            "platform",
            "post_url",
            "account_handle",
            "posted_at",
            "reported_on",
            "reported_by",
            "follow_up_due",
        )
    }
    return CaseDraft(categories=categories, **fields)


def test_the_keyring_holds_nothing_about_a_case(filled: Services, data_dir: Path) -> None:
    document = json.loads((data_dir / "casebook.keys").read_bytes())
    text = json.dumps(document).encode()
    assert not any(needle in text for needle in needles().values())


@pytest.mark.parametrize("descending", [False, True])
def test_sealed_titles_sort_and_page_among_the_others(services: Services, descending: bool) -> None:
    titles = [
        "Apple orchard post",
        "Zebra crossing complaint",
        "Mango stall remark",
        "Banana split joke",
        "Kiwi class comment",
        "Cherry tree photo",
        "Lemon sale post",
        "Damson jam remark",
        "Fig roll thread",
    ]
    for number, title in enumerate(titles):
        safeguarding = number % 3 == 1
        category = Category.SAFEGUARDING if safeguarding else Category.ABUSIVE
        services.cases.open_case(CaseDraft(title=title, categories=frozenset({category})))
    sort = CaseSort("title", descending)
    expected = sorted(titles, reverse=descending)
    pages = [services.cases.list_cases(CaseFilter(), sort, offset, 4) for offset in (0, 4, 8)]
    assert [r.title for page in pages for r in page] == expected
    ids = services.cases.all_case_ids(CaseFilter(), sort)
    assert ids == [r.id for page in pages for r in page]


def test_a_casebook_from_before_sealing_is_sealed_at_the_heads_next_sign_in(
    data_dir: Path, clock: Clock
) -> None:
    # A casebook as the previous version left it: one data key, no safeguarding key,
    # users' records without seals, safeguarding rows in clear.
    from app.config import prepare_data_dir
    from app.security.keyring import KeyringFile, KeyringStore

    paths = prepare_data_dir(data_dir)
    key = DataKey.new()
    KeyringStore(KeyringFile(paths.keyring)).save(Keyring.new(key))
    services = open_casebook(data_dir, clock=clock, key=key)
    try:
        services.users.create_first_user("head", HEAD_PASSWORD)
        services.users.add_user("office", Role.OFFICE, OFFICE_PASSWORD)
        case = services.cases.open_case(
            CaseDraft(title=TITLE, summary=SUMMARY, categories=frozenset({Category.SAFEGUARDING}))
        )
        person = services.people.add_person(PersonDraft(name=NAME, kind=PersonKind.PARENT))
        services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
        services.cases.add_note(case.id, NOTE)
        services.evidence.add_bytes(case.id, [("post.txt", EVIDENCE)])
    finally:
        services.close()
    assert EVIDENCE in every_blob(data_dir, key)
    document = json.loads(paths.keyring.read_bytes())
    assert not document["head_check"]
    document["notes"].pop("users_sealed", None)
    for entry in document["wraps"].values():  # the previous format had no key pairs
        for field in ("pub", "priv_nonce", "priv_wrapped", "head"):
            entry.pop(field, None)
    paths.keyring.write_text(json.dumps(document))
    assert b"Ottoline Brackenridge" in every_row(data_dir, office_key(data_dir))

    upgraded = open_casebook(data_dir, clock=clock)
    try:
        upgraded.users.sign_in("head", HEAD_PASSWORD)
        assert upgraded.cases.find_case(case.reference).title == TITLE
        # The old recovery key cannot be given the new key: the head is told to replace it.
        told = upgraded.audit.entries(action="recovery key cannot open")
        assert [e.detail for e in told] == ["make a new one: casebook users new-recovery-key"]
        assert [
            r.title
            for r in upgraded.cases.list_cases(
                CaseFilter(text="brackenridge"), CaseSort("reference", False)
            )
        ] == [TITLE]
        upgraded.users.sign_in("office", OFFICE_PASSWORD)
        assert upgraded.keys.holder.head is None
    finally:
        upgraded.close()
    keyring = Keyring.parse(paths.keyring.read_bytes())
    assert keyring.open_account("head", HEAD_PASSWORD).head_key is not None
    office = office_key(data_dir)
    rows, pages = every_row(data_dir, office), every_page(paths.database, office)
    found = {what for what, needle in needles().items() if needle in rows or needle in pages}
    assert found == set()
    assert b"Ottoline" not in every_blob(data_dir, office)


def test_on_a_database_server_the_sealed_words_are_tokens_there_too(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.new_database()
    services = open_casebook(tmp_path / "office-pc", database_url=url)
    try:
        services.users.create_first_user("head", HEAD_PASSWORD)
        services.users.add_user("office", Role.OFFICE, OFFICE_PASSWORD)
        case = services.cases.open_case(
            CaseDraft(title=TITLE, summary=SUMMARY, categories=frozenset({Category.SAFEGUARDING}))
        )
        services.evidence.add_bytes(case.id, [("post.txt", EVIDENCE)])
        data_key = services.data_key
        assert data_key is not None
    finally:
        services.close()
    # What the server (and whoever administers it) holds: tokens and sealed files.
    server = create_engine(url)
    try:
        with server.connect() as connection:
            titles = connection.execute(text("SELECT title, summary FROM cases")).all()
            blobs = connection.execute(text("SELECT data FROM blobs")).scalars().all()
    finally:
        server.dispose()
    assert all(is_sealed_text(v) for row in titles for v in row)
    assert not any(b"Ottoline" in data_key.open_sealed(bytes(blob)) for blob in blobs)
    # A second PC signs in as the head teacher and reads them.
    other = open_casebook(tmp_path / "deputy-pc", database_url=url)
    try:
        other.users.sign_in("head", HEAD_PASSWORD)
        opened = other.cases.find_case(case.reference)
        assert opened.title == TITLE
        exhibit = other.evidence.list_evidence(case.id)[0]
        assert other.evidence.content(exhibit.id) == EVIDENCE
    finally:
        other.close()


def test_the_audit_trail_names_no_file_or_word_of_a_sealed_case(
    filled: Services, data_dir: Path
) -> None:
    case = filled.cases.find_case("SM-2026-0001")
    filled.evidence.add_bytes(case.id, [("Ottoline-at-home.txt", b"more words")])
    exhibit = filled.evidence.list_evidence(case.id)[0]
    filled.evidence.content(exhibit.id)
    filled.close()
    key = office_key(data_dir)
    connection = connect_encrypted(data_dir / "casebook.sqlite3", key)
    try:
        trail = " ".join(
            " ".join(str(v) for v in row)
            for row in connection.execute("SELECT target, detail FROM audit_entries")
        )
    finally:
        connection.close()
    assert "SM-2026-0001" in trail  # the reference is what the trail names
    assert "Ottoline" not in trail
    assert "post.txt" not in trail
