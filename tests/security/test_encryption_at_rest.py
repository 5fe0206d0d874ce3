"""Encryption at rest: nothing readable on disk, and the right words for each failure.

A casebook is filled with a known name, a known case title, known note text and a known
picture; then every byte under the data folder (database, write-ahead log, blobs, keyring,
logs, pre-migration copies) and a backup file is searched for them.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from app.domain.categories import Category
from app.domain.errors import (
    DatabaseDamagedError,
    DataDirectoryError,
    EvidenceRejected,
    SignInError,
)
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, CaseFilter, PersonDraft
from app.services.casebook import Services, open_casebook
from tests.conftest import Clock

PASSWORD = "tide-marble-orchard-42"
NAME = "Bartholomew Quincey-Fairweather"
TITLE = "Remarks about Miss Featherstonehaugh's class trip"
NOTE = "Spoke to the chair of governors about the Wednesday posts"


def known_picture() -> bytes:
    # Noise-like pixels so the PNG holds long runs of bytes worth searching for.
    image = Image.frombytes("RGB", (64, 64), bytes((i * 37) % 251 for i in range(64 * 64 * 3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def filled(data_dir: Path, clock: Clock) -> tuple[Services, str]:
    services = open_casebook(data_dir, clock=clock)
    recovery = services.users.create_first_user("head", PASSWORD)
    from app.services.demo import DEMO_SCHOOL_PROFILE

    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    parent = services.people.add_person(
        PersonDraft(
            name=NAME,
            kind=PersonKind.PARENT,
            address_lines=("14 Larkspur Crescent", "Townley"),
            postcode="AB1 2CD",
        )
    )
    case = services.cases.open_case(
        CaseDraft(title=TITLE, categories=frozenset({Category.ABUSIVE}), platform="Facebook")
    )
    services.cases.link_person(case.id, parent.id, CaseRole.AUTHOR)
    services.cases.add_note(case.id, NOTE)
    services.evidence.add_bytes(
        case.id, [("post.png", known_picture()), ("post.txt", NOTE.encode() * 3)]
    )
    services.letters.issue(case.id, LetterKind.REMOVAL, parent.id, confirm_post_details=True)
    exhibit = services.evidence.list_evidence(case.id)[0]
    services.evidence.thumbnail(exhibit.id)
    return services, recovery


def needles() -> dict[str, bytes]:
    picture = known_picture()
    found = {
        "name": NAME.encode(),
        "name (UTF-16)": NAME.encode("utf-16-le"),
        "title": TITLE.encode(),
        "note": NOTE.encode(),
        "address": b"Larkspur Crescent",
    }
    middle = len(picture) // 2
    found["picture"] = picture[middle : middle + 48]
    return found


def search(folder: Path) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        blobs = [data]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zipped:
                blobs += [zipped.read(name) for name in zipped.namelist()]
        for what, needle in needles().items():
            if any(needle in blob for blob in blobs):
                hits.append(f"{what} in {path.relative_to(folder)}")
    return hits


def test_the_data_folder_and_a_backup_hold_no_readable_record(
    filled: tuple[Services, str], tmp_path: Path
) -> None:
    services, _ = filled
    services.backups.backup(tmp_path / "backups")
    # While open: the write-ahead log and everything else, as a thief would copy them.
    assert search(services.paths.root) == []
    assert search(tmp_path / "backups") == []
    services.close()
    assert search(services.paths.root) == []
    # The stored file names do not give away the content hash of the known picture.
    import hashlib

    names = {p.parent.name + p.name for p in services.paths.blobs.rglob("*") if p.is_file()}
    assert hashlib.sha256(known_picture()).hexdigest() not in names


def test_the_records_read_back_after_signing_in(filled: tuple[Services, str]) -> None:
    services, _ = filled
    services.close()
    again = open_casebook(services.paths.root)
    try:
        with pytest.raises(SignInError):
            again.cases.count_cases(CaseFilter())  # shut until someone signs in
        again.users.sign_in("head", PASSWORD)
        case = again.cases.find_case("SM-2026-0001")
        assert case.title == TITLE
        exhibit = again.evidence.list_evidence(case.id)[0]
        assert again.evidence.content(exhibit.id) == known_picture()
    finally:
        again.close()


@pytest.mark.parametrize("where", ["first page", "later pages"])
def test_a_wrong_password_says_so_and_a_damaged_database_says_that(
    filled: tuple[Services, str], where: str
) -> None:
    services, _ = filled
    services.close()
    again = open_casebook(services.paths.root)
    try:
        with pytest.raises(SignInError) as wrong:
            again.users.sign_in("head", "not-the-password-at-all")
        assert "password is not right" in wrong.value.message
        assert "damaged" not in wrong.value.message
    finally:
        again.close()
    database = services.paths.database
    services.close()
    data = bytearray(database.read_bytes())
    if where == "first page":
        data[100:140] = bytes(40)
    else:  # every page after the schema's, as a failing disk would leave them
        data[4096 * 2 :] = b"\xa5" * (len(data) - 4096 * 2)
    database.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    damaged = open_casebook(services.paths.root)
    try:
        with pytest.raises(DatabaseDamagedError) as caught:
            damaged.users.sign_in("head", PASSWORD)
        assert "is damaged" in caught.value.message
        assert "not right" not in caught.value.message
    finally:
        damaged.close()


def test_a_damaged_key_file_is_named_and_not_taken_for_a_wrong_password(
    filled: tuple[Services, str],
) -> None:
    services, _ = filled
    services.close()
    keyring = services.paths.keyring
    keyring.write_bytes(keyring.read_bytes()[:200])
    with pytest.raises(DataDirectoryError) as caught:
        open_casebook(services.paths.root)
    assert "key file" in caught.value.message and "is damaged" in caught.value.message
    assert "password" not in caught.value.message


def test_a_missing_key_file_is_named(filled: tuple[Services, str]) -> None:
    services, _ = filled
    services.close()
    services.paths.keyring.unlink()
    before = services.paths.database.read_bytes()
    with pytest.raises(DataDirectoryError) as caught:
        open_casebook(services.paths.root)
    assert "key file casebook.keys" in caught.value.message
    assert services.paths.database.read_bytes() == before


def test_a_changed_blob_is_reported_damaged_not_misread(filled: tuple[Services, str]) -> None:
    services, _ = filled
    case = services.cases.find_case("SM-2026-0001")
    exhibit = services.evidence.list_evidence(case.id)[0]
    path = services.evidence.store.path_for(exhibit.sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(EvidenceRejected, match="damaged"):
        services.evidence.content(exhibit.id)
    report = services.evidence.verify()
    assert not report.ok
    assert any(exhibit.label in line for line in report.sentences())


def test_the_recovery_key_resets_a_password_and_a_wrong_one_is_refused(
    filled: tuple[Services, str],
) -> None:
    services, recovery = filled
    services.close()
    again = open_casebook(services.paths.root)
    try:
        with pytest.raises(SignInError, match="recovery key is not right"):
            again.users.reset_password("head", "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF", "new-Pass-9x")
        again.users.reset_password("head", recovery.lower().replace("-", " "), "quiet-harbour-77")
        assert again.cases.find_case("SM-2026-0001").title == TITLE
    finally:
        again.close()
    third = open_casebook(services.paths.root)
    try:
        third.users.sign_in("head", "quiet-harbour-77")
        with pytest.raises(SignInError):
            third.users.sign_in("head", PASSWORD)
        actions = [e.action for e in third.audit.entries()]
        assert "password reset with recovery key" in actions
        assert "recovery key refused" in actions
    finally:
        third.close()


def test_each_user_opens_the_key_with_their_own_password(filled: tuple[Services, str]) -> None:
    from app.domain.access import Role

    services, _ = filled
    services.users.add_user("office", Role.OFFICE, "copper-lantern-58")
    services.close()
    again = open_casebook(services.paths.root)
    try:
        with pytest.raises(SignInError):
            again.users.sign_in("office", PASSWORD)  # the head's password is not theirs
        user = again.users.sign_in("office", "copper-lantern-58")
        assert user.role is Role.OFFICE
        assert again.cases.count_cases(CaseFilter()) == 1
    finally:
        again.close()


def test_failed_sign_ins_while_shut_reach_the_audit_trail(filled: tuple[Services, str]) -> None:
    services, _ = filled
    services.close()
    again = open_casebook(services.paths.root)
    try:
        for _ in range(2):
            with pytest.raises(SignInError):
                again.users.sign_in("head", "guess-guess-guess")
        with pytest.raises(SignInError):
            again.users.sign_in("nobody", "guess")
        assert os.path.getsize(services.paths.keyring) > 0
        again.users.sign_in("head", PASSWORD)
        failures = [e for e in again.audit.entries() if e.action == "sign-in failed"]
        assert {e.user for e in failures} == {"head", "nobody"}
        assert len(failures) == 3
        assert again.audit.verify().ok
    finally:
        again.close()


def test_an_unfinished_set_up_is_moved_aside_not_deleted(tmp_path: Path) -> None:
    first = open_casebook(tmp_path / "casebook")  # set-up begun, no user ever created
    first.close()
    again = open_casebook(tmp_path / "casebook")
    try:
        assert not again.users.has_users()
        aside = [p for p in (tmp_path / "casebook").iterdir() if p.name.startswith("unfinished")]
        assert len(aside) == 1 and (aside[0] / "casebook.sqlite3").exists()
    finally:
        again.close()


def test_a_backup_of_another_casebook_is_refused_by_the_window_restore(
    filled: tuple[Services, str], tmp_path: Path
) -> None:
    from app.domain.errors import BackupError

    services, _ = filled
    other = open_casebook(tmp_path / "other")
    try:
        other.users.create_first_user("head", PASSWORD)
        foreign = other.backups.backup(tmp_path / "other-backups").path
    finally:
        other.close()
    with pytest.raises(BackupError, match="another casebook") as caught:
        services.backups.restore(foreign, password=PASSWORD)
    assert "nothing was changed" in caught.value.message
    assert services.cases.find_case("SM-2026-0001").title == TITLE


def test_two_sealed_files_swapped_on_disk_are_caught(filled: tuple[Services, str]) -> None:
    services, _ = filled
    case = services.cases.find_case("SM-2026-0001")
    first, second = services.evidence.list_evidence(case.id)[:2]
    one = services.evidence.store.path_for(first.sha256)
    two = services.evidence.store.path_for(second.sha256)
    a, b = one.read_bytes(), two.read_bytes()
    one.write_bytes(b)
    two.write_bytes(a)
    with pytest.raises(EvidenceRejected, match="damaged"):
        services.evidence.content(first.id)
    assert not services.evidence.verify().ok
