"""Crafted backups: odd entry names, another casebook's backup, and zips that expand hugely.

Each is refused in one sentence before anything outside a staging folder in the data
folder is written, and without the memory or disk the file claims.
"""

from __future__ import annotations

import json
import signal
import stat
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.domain.errors import BackupError, SignInError
from app.domain.records import CaseFilter, CaseSort
from app.security.crypto import DataKey
from app.services.backup import _signed_part
from app.services.casebook import Services, open_casebook, restore_casebook
from tests.backup.conftest import fill

PASSWORD = "tide-marble-orchard-42"
OTHER_PASSWORD = "harbour-violet-lantern-9"


def rewrite(
    archive: Path,
    target: Path,
    key: DataKey | None,
    *,
    edit_manifest: Callable[[dict[str, Any]], None] | None = None,
    extra: list[tuple[zipfile.ZipInfo, bytes]] = (),  # type: ignore[assignment]
    replace: dict[str, bytes] | None = None,
    compress: int = zipfile.ZIP_STORED,
) -> Path:
    """Copy a backup with changes; the manifest is signed again with ``key`` when given."""
    with zipfile.ZipFile(archive) as source:
        manifest = json.loads(source.read("manifest.json"))
        entries = [(info, source.read(info)) for info in source.infolist()]
    if edit_manifest is not None:
        edit_manifest(manifest)
    if key is not None:
        manifest["signature"] = key.sign(_signed_part(manifest))
    with zipfile.ZipFile(target, "w", compression=compress) as out:
        for info, data in entries:
            if info.filename == "manifest.json":
                continue
            data = (replace or {}).get(info.filename, data)
            out.writestr(info.filename, data)
        for info, data in extra:
            out.writestr(info, data)
        out.writestr("manifest.json", json.dumps(manifest))
    return target


@pytest.fixture
def head(services: Services) -> Iterator[Services]:
    services.users.create_first_user("head", PASSWORD)
    yield services


@pytest.fixture
def archive(head: Services, tmp_path: Path) -> Path:
    return head.backups.backup(tmp_path / "backups").path


def _listing(folder: Path) -> list[str]:
    """What is in a data folder, apart from SQLite's own -wal and -shm files."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm")))


def case_count(services: Services) -> int:
    return len(services.cases.list_cases(CaseFilter(), CaseSort("reference", False), 0, 100))


def _blob_entry(name: str, data: bytes) -> dict[str, Any]:
    import hashlib

    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


HOSTILE_NAMES = [
    "blobs/../../../escaped.txt",
    "/tmp/casebook-escaped-absolute.txt",
    "blobs\\..\\..\\..\\escaped.txt",
    "C:/escaped.txt",
    "blobs/ab/../../../../escaped.txt",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_an_entry_name_that_leaves_the_staging_folder_is_refused_before_anything_is_written(
    head: Services, archive: Path, tmp_path: Path, name: str
) -> None:
    payload = b"written by a crafted backup"
    key = head.data_key
    assert key is not None
    crafted = rewrite(
        archive,
        tmp_path / "crafted.zip",
        key,
        edit_manifest=lambda m: m["blobs"].append(_blob_entry(name, payload)),
        extra=[(zipfile.ZipInfo(name), payload)],
    )
    before = _listing(head.paths.root)
    with pytest.raises(BackupError, match=r"damaged|not a Conduct Casebook backup"):
        head.backups.restore(crafted, password=PASSWORD)
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/casebook-escaped-absolute.txt").exists()
    assert not list(tmp_path.rglob("escaped.txt"))
    again = open_casebook(head.paths.root)
    try:
        again.users.sign_in("head", PASSWORD)
        assert case_count(again) == 3
    finally:
        again.close()
    assert _listing(head.paths.root) == before


def test_a_link_or_a_duplicate_entry_is_refused(
    head: Services, archive: Path, tmp_path: Path
) -> None:
    key = head.data_key
    assert key is not None
    with zipfile.ZipFile(archive) as zipped:
        blob_name = next(n for n in zipped.namelist() if n.startswith("blobs/"))
        blob = zipped.read(blob_name)
    link = zipfile.ZipInfo(blob_name.replace(blob_name[-4:], "0000"))
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    linked = rewrite(
        archive,
        tmp_path / "link.zip",
        key,
        edit_manifest=lambda m: m["blobs"].append(_blob_entry(link.filename, b"/etc/passwd")),
        extra=[(link, b"/etc/passwd")],
    )
    with pytest.raises(BackupError, match="damaged"):
        head.backups.restore(linked, password=PASSWORD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        duplicate = rewrite(
            archive, tmp_path / "dup.zip", key, extra=[(zipfile.ZipInfo(blob_name), blob)]
        )
    with pytest.raises(BackupError, match="damaged"):
        head.backups.restore(duplicate, password=PASSWORD)


def test_a_backup_of_another_casebook_is_refused_over_this_one(
    data_dir: Path, tmp_path: Path, clock: Any
) -> None:
    ours = open_casebook(data_dir, actor="Mrs A. Head", clock=clock)
    ours.users.create_first_user("head", PASSWORD)
    fill(ours)
    ours.close()
    theirs_dir = tmp_path / "elsewhere"
    theirs = open_casebook(theirs_dir, actor="Mr Intruder", clock=clock)
    theirs.users.create_first_user("head", OTHER_PASSWORD)
    theirs_backup = theirs.backups.backup(tmp_path / "their-backups").path
    theirs.close()

    # Their own password opens their backup, but not this casebook.
    with pytest.raises(SignInError):
        restore_casebook(data_dir, theirs_backup, "head", OTHER_PASSWORD)
    # This casebook's head teacher, with a backup of another casebook: one sentence.
    with pytest.raises(BackupError, match="another casebook") as refused:
        restore_casebook(data_dir, theirs_backup, "head", PASSWORD)
    assert refused.value.message.count(". ") <= 1
    again = open_casebook(data_dir)
    try:
        again.users.sign_in("head", PASSWORD)
        assert case_count(again) == 3
    finally:
        again.close()


def test_an_empty_data_folder_takes_a_backup_with_its_own_password(
    archive: Path, tmp_path: Path
) -> None:
    new_pc = tmp_path / "new-pc"
    restore_casebook(new_pc, archive, "head", PASSWORD)
    opened = open_casebook(new_pc)
    try:
        opened.users.sign_in("head", PASSWORD)
        assert case_count(opened) == 3
    finally:
        opened.close()


def test_a_backup_made_before_casebooks_had_an_identity_still_restores(
    head: Services, archive: Path, tmp_path: Path
) -> None:
    """An older version wrote no identity into the keyring or the manifest."""
    key = head.data_key
    assert key is not None
    keys_file = head.paths.keyring
    document = json.loads(keys_file.read_bytes())
    document.pop("identity", None)
    document.pop("identity_mac", None)
    keys_file.write_text(json.dumps(document), encoding="utf-8")
    old_keys = json.dumps(document).encode("utf-8")

    def as_old(manifest: dict[str, Any]) -> None:
        manifest.pop("casebook_id", None)
        manifest["keyring"] = _blob_entry("casebook.keys", old_keys)

    old = rewrite(
        archive, tmp_path / "old.zip", key, edit_manifest=as_old,
        replace={"casebook.keys": old_keys},
    )  # fmt: skip
    head.close()
    restore_casebook(head.paths.root, old, "head", PASSWORD)
    reopened = open_casebook(head.paths.root)
    try:
        reopened.users.sign_in("head", PASSWORD)
        assert case_count(reopened) == 3
        # And a new backup of the upgraded casebook restores over it too.
        again = reopened.backups.backup(tmp_path / "after-upgrade").path
    finally:
        reopened.close()
    restore_casebook(head.paths.root, again, "head", PASSWORD)


def _bomb_entry(out: zipfile.ZipFile, name: str, size: int, filler: bytes = b" ") -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = filler * (1024 * 1024)
    with out.open(info, "w", force_zip64=True) as stream:
        for _ in range(size // len(chunk)):
            stream.write(chunk)


def test_a_manifest_that_expands_hugely_is_refused_without_reading_it(
    head: Services, archive: Path, tmp_path: Path
) -> None:
    bomb = tmp_path / "manifest-bomb.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(bomb, "w") as out:
        for info in source.infolist():
            if info.filename != "manifest.json":
                out.writestr(info.filename, source.read(info))
        _bomb_entry(out, "manifest.json", 256 * 1024 * 1024)
    assert bomb.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(BackupError):
            head.backups.restore(bomb, password=PASSWORD)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


@pytest.fixture
def file_size_limit() -> Iterator[int]:
    """No file this process writes may grow past 64 MB while the test runs."""
    resource = pytest.importorskip("resource")  # POSIX only
    limit = 64 * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_database_entry_that_expands_hugely_writes_nothing_big(
    head: Services, archive: Path, tmp_path: Path, file_size_limit: int
) -> None:
    bomb = tmp_path / "database-bomb.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(bomb, "w") as out:
        for info in source.infolist():
            if info.filename != "casebook.sqlite3":
                out.writestr(info, source.read(info))
        _bomb_entry(out, "casebook.sqlite3", 512 * 1024 * 1024, b"\0")
    assert bomb.stat().st_size < 4_000_000
    with pytest.raises(BackupError, match="damaged"):
        head.backups.restore(bomb, password=PASSWORD)
    leftovers = [p for p in head.paths.root.iterdir() if p.name.startswith(".restore")]
    assert leftovers == []


def test_a_backup_bigger_than_the_free_disk_space_is_refused_first(
    head: Services, archive: Path, tmp_path: Path
) -> None:
    claimed = tmp_path / "claims-a-petabyte.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(claimed, "w") as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
        for info in out.filelist:
            if info.filename == "casebook.sqlite3":
                info.file_size = 10**15
    with pytest.raises(BackupError, match="free"):
        head.backups.restore(claimed, password=PASSWORD)
