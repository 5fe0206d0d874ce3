"""A full disk, a read-only folder, a blob removed by hand, a damaged database file.

Each gives one sentence saying what happened and what to do, never a traceback, and
nothing already saved is lost. The full and read-only disks are real small file systems
(tmpfs) mounted for the test when the tests run as root; otherwise the full-disk test
uses a per-process file size limit, which the kernel reports as "file too large" at the
same point a full disk would fail.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from app.db.engine import connect_encrypted
from app.domain.errors import EvidenceRejected, NotFoundError
from app.evidence.blobstore import TEMP_PREFIX
from app.security.keyring import TEST_COST_SETTING
from tests.conftest import folder_key, open_signed_in
from tests.e2e.cli_runner import run_in_process

ENV = {
    "CASEBOOK_USER": "Head Teacher",
    "CASEBOOK_PASSWORD": "demo",
    "PATH": "/usr/bin:/bin",
    "QT_QPA_PLATFORM": "offscreen",
}


def cli(data: Path, *args: str, limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # pragma: no cover - runs in the child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert limit_bytes is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    env = {**ENV, TEST_COST_SETTING: os.environ.get(TEST_COST_SETTING, "")}
    if limit_bytes is None:
        return run_in_process(["--data-dir", str(data), *args], env)
    # A file size limit is the process's own: that needs a real process.
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        preexec_fn=limit if limit_bytes is not None else None,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def picture(path: Path, size: int = 900) -> Path:
    # Noise does not compress, so the file is as large as it looks.
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(path)
    return path


def integrity_ok(data: Path) -> bool:
    connection = connect_encrypted(
        data / "casebook.sqlite3", folder_key(data, "Head Teacher", "demo")
    )
    try:
        return connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def demo_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demonstration casebook as ``casebook demo`` makes it, once for this module."""
    data = tmp_path_factory.mktemp("demo") / "casebook"
    made = cli(data, "demo")
    assert made.returncode == 0, made.stderr
    return data


@pytest.fixture
def demo_casebook(demo_made: Path) -> Callable[[Path], None]:
    """Put a copy of the module's demonstration casebook (its whole folder) at a path."""

    def copy_to(data: Path) -> None:
        shutil.copytree(demo_made, data)

    return copy_to


def _can_mount() -> bool:
    return sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("mount")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 MB file system of its own, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if not _can_mount():
        pytest.skip("mounting a small file system needs root on Linux")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr!r}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass


def test_a_full_disk_refuses_clearly_and_keeps_what_was_saved(
    small_disk: Path, tmp_path: Path, demo_casebook: Callable[[Path], None]
) -> None:
    data = small_disk / "casebook"
    demo_casebook(data)
    before = cli(data, "cases").stdout
    _fill(small_disk)

    added = cli(data, "evidence", "add", "SM-2026-0001", str(picture(tmp_path / "a.png")))
    assert_one_clear_line(added, "is full", "free some space")
    opened = cli(data, "case", "add", "--title", "Posted on a full disk", "--category", "abusive")
    assert_one_clear_line(opened, "is full")

    (small_disk / "filler").unlink()
    assert integrity_ok(data)
    assert cli(data, "cases").stdout == before
    again = cli(data, "evidence", "add", "SM-2026-0001", str(picture(tmp_path / "b.png")))
    assert again.returncode == 0, again.stderr
    assert not list((data / "blobs").glob(f"{TEMP_PREFIX}*"))
    assert cli(data, "evidence", "verify").returncode == 0


def test_a_file_size_limit_behaves_like_a_full_disk(
    tmp_path: Path, demo_casebook: Callable[[Path], None]
) -> None:
    data = tmp_path / "casebook"
    demo_casebook(data)
    added = cli(
        data, "evidence", "add", "SM-2026-0001", str(picture(tmp_path / "a.png")),
        limit_bytes=200_000,
    )  # fmt: skip
    assert_one_clear_line(added, "is full")
    assert integrity_ok(data)
    listed = cli(data, "evidence", "list", "SM-2026-0001")
    assert "a.png" not in listed.stdout
    assert not list((data / "blobs").glob(f"{TEMP_PREFIX}*"))


def test_a_read_only_disk_is_refused_clearly_and_left_unchanged(
    small_disk: Path, demo_casebook: Callable[[Path], None]
) -> None:
    data = small_disk / "casebook"
    demo_casebook(data)
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    assert subprocess.run(remount, capture_output=True, check=False).returncode == 0
    try:
        for args in (("cases",), ("case", "add", "--title", "T", "--category", "abusive")):
            result = cli(data, *args)
            assert_one_clear_line(result, "read-only", str(data))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=False)
    assert cli(data, "cases").stdout.strip().endswith("13 cases")


def test_a_blob_deleted_by_hand_is_reported_never_hidden(
    tmp_path: Path, demo_casebook: Callable[[Path], None]
) -> None:
    data = tmp_path / "casebook"
    demo_casebook(data)
    added = cli(data, "evidence", "add", "SM-2026-0002", str(picture(tmp_path / "post.png", 60)))
    exhibit_id = int(added.stdout.split()[0])
    letter = cli(
        data, "letter", "SM-2026-0002", "--kind", "acknowledgement",
        "--out", str(tmp_path / "letter.pdf"), "--confirm-post-details",
    )  # fmt: skip
    assert letter.returncode == 0, letter.stderr
    services = open_signed_in(data, "Head Teacher", "demo")
    try:
        exhibit = services.evidence.get(exhibit_id)
        case_id = services.cases.case_id_for("SM-2026-0002")
        issued = services.letters.list_letters(case_id)[0]
        services.evidence.store.path_for(exhibit.sha256).unlink()
        services.evidence.store.path_for(issued.pdf_sha256).unlink()
        with pytest.raises(EvidenceRejected, match="missing; run “Verify integrity”"):
            services.evidence.content(exhibit_id)
        with pytest.raises(NotFoundError, match="missing or damaged; restore"):
            services.letters.letter_pdf(issued.id)
    finally:
        services.close()

    verify = cli(data, "evidence", "verify")
    assert verify.returncode == 1
    assert "Traceback" not in verify.stderr
    assert exhibit.label in verify.stderr and "post.png" in verify.stderr
    # The record stays: nothing is silently dropped to hide the loss.
    assert "post.png" in cli(data, "evidence", "list", "SM-2026-0002").stdout
    assert cli(data, "letters", "SM-2026-0002").stdout.strip().endswith("1 letter")


def _keep_a_backup(data: Path) -> Path:
    target = data / "backups" / "casebook-before-migration-0003_evidence-20261120-090000.sqlite3"
    key = folder_key(data, "Head Teacher", "demo")
    source = connect_encrypted(data / "casebook.sqlite3", key)
    dest = connect_encrypted(target, key)
    try:
        source.backup(dest)
    finally:
        source.close()
        dest.close()
    return target


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_a_damaged_database_names_the_backup_and_is_left_as_found(
    tmp_path: Path, damage: str, demo_casebook: Callable[[Path], None]
) -> None:
    data = tmp_path / "casebook"
    demo_casebook(data)
    backup = _keep_a_backup(data)
    database = data / "casebook.sqlite3"
    raw = bytearray(database.read_bytes())
    if damage == "header":
        raw[:100] = b"\x13" * 100
    else:
        # Keep the header and schema page; scribble over the pages holding the cases.
        raw[4096 * 2 :] = b"\xa5" * (len(raw) - 4096 * 2)
    database.write_bytes(bytes(raw))

    for args in (("cases",), ("case", "show", "SM-2026-0001")):
        result = cli(data, *args)
        assert_one_clear_line(result, "is damaged", backup.name, "copy it over casebook.sqlite3")
    assert database.read_bytes() == bytes(raw)

    # The way forward works: the backup copied over the damaged file opens again.
    shutil.copyfile(backup, database)
    assert cli(data, "cases").stdout.strip().endswith("13 cases")
