"""Backups: a checked copy of everything, restored only once it is known to be good."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from pathlib import Path

import pytest

from app.config import DataDirLock
from app.db.engine import connect_encrypted
from app.domain.access import Role
from app.domain.categories import Category
from app.domain.errors import AccessDenied, BackupError, DataDirectoryInUseError
from app.domain.records import CaseDraft, CaseFilter, CaseRow, CaseSort
from app.security.crypto import DataKey
from app.services.backup import MANIFEST, _signed_part, check_archive
from app.services.casebook import Services, open_casebook
from tests.backup.conftest import blob_files
from tests.conftest import Clock

PASSWORD = "tide-marble-orchard-42"


def all_cases(services: Services) -> list[CaseRow]:
    return services.cases.list_cases(CaseFilter(), CaseSort(), limit=10_000)


def titles(services: Services) -> list[str]:
    return sorted(case.title for case in all_cases(services))


def test_backup_then_restore_brings_back_cases_evidence_and_letters(
    services: Services, data_dir: Path, tmp_path: Path, clock: Clock
) -> None:
    before_titles = titles(services)
    before_blobs = blob_files(data_dir)
    assert len(before_blobs) >= 7  # six pictures and a letter, plus their derivatives
    result = services.backups.backup(tmp_path / "backups")
    assert result.path.name.startswith("casebook-backup-20261124-")
    check = tmp_path / "check"
    check.mkdir()
    assert check_archive(result.path, services.data_key, check)["blobs"]
    assert services.backups.last_good() == (clock.now, result.path)

    # Later work that the restore will take away again.
    clock.advance(hours=1)
    services.cases.open_case(
        CaseDraft(title="Opened after the backup", categories=frozenset({Category.INACCURATE}))
    )
    restored = services.backups.restore(result.path)
    services.close()

    assert restored.set_aside.name.startswith("before-restore-20261124-")
    assert (restored.set_aside / "casebook.sqlite3").is_file()
    reopened = open_casebook(data_dir, actor="Mrs A. Head", clock=clock, key=services.data_key)
    try:
        assert titles(reopened) == before_titles
        assert blob_files(data_dir) == before_blobs
        case = next(c for c in all_cases(reopened) if c.title.endswith("Year 3"))
        exhibits = reopened.evidence.list_evidence(case.id)
        assert exhibits and reopened.evidence.verify().ok
        assert reopened.letters.list_letters(case.id)
        assert reopened.audit.verify().ok
    finally:
        reopened.close()


def _rewrite(archive: Path, change: dict[str, bytes], *, key: DataKey | None = None) -> None:
    """Write the archive again with some entries replaced; with ``key``, the manifest is
    given the new hash and signed again, as only someone holding the key could."""
    with zipfile.ZipFile(archive) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    entries.update(change)
    if key is not None:
        manifest = json.loads(entries[MANIFEST])
        data = entries["casebook.sqlite3"]
        manifest["database"].update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        manifest["signature"] = key.sign(_signed_part(manifest))
        entries[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(archive, "w") as target:
        for name, data in entries.items():
            target.writestr(name, data)


def _flip_blob_byte(archive: Path, _key: DataKey) -> None:
    # A byte changed inside a stored exhibit: the zip is still readable, the content is not ours.
    with zipfile.ZipFile(archive) as source:
        name = next(n for n in source.namelist() if n.startswith("blobs/"))
        content = source.read(name)
    data = bytearray(archive.read_bytes())
    offset = data.find(content) + len(content) // 2
    assert offset > len(content) // 2
    data[offset] ^= 0xFF
    archive.write_bytes(bytes(data))


def _truncate(archive: Path, _key: DataKey) -> None:
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])


def _corrupt_database(archive: Path, key: DataKey) -> None:
    with zipfile.ZipFile(archive) as source:
        database = bytearray(source.read("casebook.sqlite3"))
    # Scribble over the second page (the first table's b-tree) but keep the header.
    database[4096 : 4096 + 600] = b"\x5a" * 600
    _rewrite(archive, {"casebook.sqlite3": bytes(database)}, key=key)


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (_flip_blob_byte, "is damaged"),
        (_truncate, "is damaged"),
        (_corrupt_database, "integrity check"),
    ],
    ids=["flipped-byte-in-blob", "truncated", "corrupt-database"],
)
def test_a_damaged_backup_is_refused_and_the_current_data_is_untouched(
    services: Services, data_dir: Path, tmp_path: Path, damage: object, words: str
) -> None:
    archive = services.backups.backup(tmp_path / "backups").path
    damage(archive, services.data_key)  # type: ignore[operator]
    services.cases.open_case(
        CaseDraft(title="Still here afterwards", categories=frozenset({Category.ABUSIVE}))
    )
    before_titles, before_blobs = titles(services), blob_files(data_dir)
    with pytest.raises(BackupError) as refused:
        services.backups.restore(archive)
    message = refused.value.message
    assert words in message and "nothing was changed" in message
    assert "\n" not in message
    assert titles(services) == before_titles
    assert blob_files(data_dir) == before_blobs
    assert not list(data_dir.glob("before-restore-*"))
    assert not list(data_dir.glob(".restore-*"))


def test_a_file_that_is_not_a_backup_is_refused(services: Services, tmp_path: Path) -> None:
    other = tmp_path / "holiday.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("photo.txt", "sunshine")
    with pytest.raises(BackupError, match="not a Conduct Casebook backup"):
        services.backups.restore(other)


def test_a_backup_from_a_newer_version_is_refused(services: Services, tmp_path: Path) -> None:
    archive = services.backups.backup(tmp_path / "backups").path
    with zipfile.ZipFile(archive) as source:
        database = source.read("casebook.sqlite3")
    copy = tmp_path / "newer.sqlite3"
    copy.write_bytes(database)
    connection = connect_encrypted(copy, services.data_key)
    connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    connection.commit()
    connection.close()
    _rewrite(archive, {"casebook.sqlite3": copy.read_bytes()}, key=services.data_key)
    with pytest.raises(BackupError, match="newer version"):
        services.backups.restore(archive)


def test_a_backup_taken_while_cases_are_being_written_is_consistent(
    services: Services, data_dir: Path, tmp_path: Path, clock: Clock
) -> None:
    writer = open_casebook(
        data_dir, actor="Office", clock=clock, may_migrate=False, key=services.data_key
    )
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        while not stop.is_set():
            case = writer.cases.open_case(
                CaseDraft(
                    title=f"Written during the backup {len(written)}",
                    categories=frozenset({Category.PROCEDURE}),
                )
            )
            written.append(case.id)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        while len(written) < 3:
            stop.wait(0.01)
        results = [services.backups.backup(tmp_path / "backups") for _ in range(3)]
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert len(written) > 3
    for number, result in enumerate(results):
        check = tmp_path / f"check-{number}"
        check.mkdir()
        check_archive(result.path, services.data_key, check)  # integrity_check, every hash
    restored = services.backups.restore(results[-1].path)
    services.close()
    assert restored.set_aside.is_dir()
    reopened = open_casebook(data_dir, actor="Mrs A. Head", clock=clock, key=services.data_key)
    try:
        during = [c for c in all_cases(reopened) if c.title.startswith("Written")]
        assert 0 < len(during) <= len(written)
        assert reopened.evidence.verify().ok
    finally:
        reopened.close()


def test_only_the_newest_backups_are_kept(services: Services, tmp_path: Path, clock: Clock) -> None:
    folder = tmp_path / "backups"
    services.backups.set_policy(keep=3)
    made = []
    for _ in range(5):
        made.append(services.backups.backup(folder).path)
        clock.advance(days=1)
    listed = services.backups.list_backups(folder)
    assert [b.path for b in listed] == list(reversed(made[2:]))
    assert all(b.size > 0 for b in listed)
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in made[2:])


def test_the_reminder_appears_when_there_is_no_recent_backup(
    services: Services, tmp_path: Path, clock: Clock
) -> None:
    reminder = services.backups.reminder()
    assert reminder is not None and "No backup" in reminder
    services.backups.backup(tmp_path / "backups")
    assert services.backups.reminder() is None
    clock.advance(days=6, hours=23)
    assert services.backups.reminder() is None
    clock.advance(hours=2)
    reminder = services.backups.reminder()
    assert reminder is not None and "24/11/2026" in reminder and "7 days ago" in reminder
    services.backups.set_policy(warn_after_days=30)
    assert services.backups.reminder() is None


def test_office_staff_may_not_back_up_or_restore(services: Services, tmp_path: Path) -> None:
    archive = services.backups.backup(tmp_path / "backups").path
    services.users.create_first_user("head", PASSWORD)
    services.users.add_user("office", Role.OFFICE, PASSWORD)
    services.users.sign_in("office", PASSWORD)
    with pytest.raises(AccessDenied, match="back up or restore"):
        services.backups.backup(tmp_path / "more")
    with pytest.raises(AccessDenied, match="back up or restore"):
        services.backups.restore(archive)
    assert not (tmp_path / "more").exists()


def test_restore_is_refused_while_the_casebook_is_open_elsewhere(
    services: Services, data_dir: Path, tmp_path: Path
) -> None:
    from app.cli import run

    archive = services.backups.backup(tmp_path / "backups").path
    with DataDirLock(data_dir / "casebook.lock"):
        assert run(["--data-dir", str(data_dir), "restore", str(archive)]) == (
            DataDirectoryInUseError.exit_code
        )
    assert not list(data_dir.glob("before-restore-*"))
