"""Writing files as Windows needs: a rename retried while the file is in use, names Windows
accepts, and paths longer than 260 characters.

Linux never reports a file in use, so ``simulated_file_in_use`` makes the next renames fail
exactly as Windows fails one that antivirus or OneDrive holds open (PermissionError,
EACCES); everything else is the app's own code on real files.
"""

from __future__ import annotations

import io
import json
import ntpath
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from app import files
from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from app.files import (
    RETRY_DELAYS,
    file_name_problem,
    long_path,
    replace_file,
    safe_file_name,
    save_user_file,
    simulated_file_in_use,
    windows_extended_path,
    write_file,
)
from app.services.audit import head_file
from app.services.casebook import Services, open_casebook
from tests.conftest import Clock


def picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


# ----- the retry -----------------------------------------------------------------------


def test_a_rename_refused_for_a_moment_goes_through_on_a_later_try(tmp_path: Path) -> None:
    target = tmp_path / "letter.pdf"
    target.write_bytes(b"old")
    source = tmp_path / "letter.pdf.part"
    source.write_bytes(b"new")
    with simulated_file_in_use(3) as in_use:
        replace_file(source, target)
    assert in_use.refused == 3
    assert target.read_bytes() == b"new"
    assert not source.exists()


def test_a_file_held_open_for_good_is_reported_and_the_old_file_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "cases.csv"
    target.write_bytes(b"old list")
    # The waits the retry asks for are added up rather than slept: the same figure, without
    # two idle seconds or a machine's load in it.
    waits: list[float] = []
    monkeypatch.setattr(files, "time", SimpleNamespace(sleep=waits.append))
    with simulated_file_in_use(len(RETRY_DELAYS) + 5) as in_use, pytest.raises(PermissionError):
        write_file(target, b"new list")
    assert in_use.refused == len(RETRY_DELAYS) + 1  # the first try and every retry
    assert len(waits) == len(RETRY_DELAYS)  # a wait between each try and the next
    assert 1.5 < sum(waits) < 5, waits  # a short wait, not a hang
    assert target.read_bytes() == b"old list"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv"]  # no temporary left


def test_every_write_of_the_casebook_survives_a_file_briefly_in_use(
    tmp_path: Path, clock: Clock
) -> None:
    """The blob store, audit head, keyring, backup and restore each meet their rename
    refused twice, and each finishes as if nothing had happened."""
    data_dir = tmp_path / "casebook"
    services: Services = open_casebook(data_dir, actor="Mrs A. Head", clock=clock)
    audit_head = head_file(data_dir).name
    try:
        with simulated_file_in_use(2, matching="blobs") as in_blobs:
            case = services.cases.open_case(
                CaseDraft(title="Comments about Year 5", categories=frozenset({Category.ABUSIVE}))
            )
            services.evidence.add_bytes(case.id, [("post.png", picture("red"))])
        with simulated_file_in_use(2, matching=audit_head) as in_head:
            services.cases.add_note(case.id, "The parent phoned the office.")
        with simulated_file_in_use(2, matching="casebook.keys") as in_keys:
            services.users.create_first_user("head", "a long enough pass phrase 42")
        with simulated_file_in_use(2, matching="casebook-backup-") as in_backup:
            backup = services.backups.backup(tmp_path / "backups")
        services.cases.open_case(
            CaseDraft(title="Opened after the backup", categories=frozenset({Category.INACCURATE}))
        )
        with simulated_file_in_use(4, matching="casebook.sqlite3") as in_restore:
            services.backups.restore(backup.path, password="a long enough pass phrase 42")
        key = services.data_key
    finally:
        services.close()
    refused = [s.refused for s in (in_blobs, in_head, in_keys, in_backup, in_restore)]
    assert refused == [2, 2, 2, 2, 4]
    reopened = open_casebook(data_dir, actor="Mrs A. Head", clock=clock, key=key)
    try:
        rows = reopened.cases.list_cases(CaseFilter(), CaseSort(), limit=100)
        assert [row.title for row in rows] == ["Comments about Year 5"]
        assert reopened.evidence.verify().ok
        assert reopened.audit.verify().ok
    finally:
        reopened.close()


# ----- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "written"),
    [
        ("CON.pdf", "_CON.pdf"),
        ("nul", "_nul"),
        ("com1.csv", "_com1.csv"),
        ("LPT9 .docx", "_LPT9.docx"),
        ("aux.tar.gz", "_aux.tar.gz"),
        ("COM¹.txt", "_COM¹.txt"),
        ("Letter to Mrs O'Neill: 24/11/2026.pdf", "Letter to Mrs O'Neill- 24-11-2026.pdf"),
        ('Report "final" <draft>?.pdf', "Report 'final' _draft__.pdf"),
        ("Subject access - Sam Smith. .zip", "Subject access - Sam Smith.zip"),
        ("notes...", "notes"),
        ("tab\there\x07.txt", "tab_here_.txt"),
        ("...", "document"),
        ("SM-2026-0001 removal 2026-11-24.pdf", "SM-2026-0001 removal 2026-11-24.pdf"),
        ("Console.pdf", "Console.pdf"),
        ("Zoë Łukasiewicz.pdf", "Zoë Łukasiewicz.pdf"),
    ],
)
def test_names_written_for_the_user_are_names_windows_accepts(offered: str, written: str) -> None:
    assert safe_file_name(offered) == written
    assert file_name_problem(written) is None


def test_a_very_long_name_is_shortened_and_keeps_its_extension() -> None:
    name = safe_file_name("Subject access - " + "Bartholomew-" * 30 + ".zip")
    assert name.endswith(".zip")
    assert len(name) <= 160


def test_a_name_windows_refuses_is_refused_with_a_suggestion_and_nothing_written(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValidationError) as refused:
        save_user_file(tmp_path / "CON.pdf", b"%PDF-")
    assert refused.value.message == (
        "“CON.pdf” is a name Windows keeps for a device; choose another name, such as “_CON.pdf”."
    )
    with pytest.raises(ValidationError, match="ends with a dot or a space"):
        save_user_file(tmp_path / "letter. ", b"%PDF-")
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_refuses_a_device_name_before_recording_a_letter(
    tmp_path: Path,
) -> None:
    data = tmp_path / "casebook"
    env = {**os.environ, "CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # Through the command's own entry point, in this process (tests/e2e/cli_runner.py).
        from tests.e2e.cli_runner import run_in_process

        return run_in_process(["--data-dir", str(data), *args], env)

    assert run("demo").returncode == 0
    before = json.loads(run("letters", "SM-2026-0001", "--json").stdout)
    out = tmp_path / "NUL.pdf"
    done = run("letter", "SM-2026-0001", "--kind", "removal", "--out", str(out))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "casebook: “NUL.pdf” is a name Windows keeps for a device; choose another name, "
        "such as “_NUL.pdf”."
    ]
    assert not out.exists()
    assert json.loads(run("letters", "SM-2026-0001", "--json").stdout) == before


# ----- long paths ----------------------------------------------------------------------


def test_a_file_deeper_than_260_characters_is_written_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path
    while len(str(folder)) < 300:
        folder = folder / ("Safeguarding records for the autumn term " + str(len(str(folder))))
    os.makedirs(long_path(folder))
    target = folder / "SM-2026-0001 case file.pdf"
    assert len(str(target)) > 260
    save_user_file(target, [b"%PDF-1.4\n", b"case file"])
    assert Path(long_path(target)).read_bytes() == b"%PDF-1.4\ncase file"


@pytest.mark.parametrize(
    ("path", "opened_as"),
    [
        ("C:\\Users\\office\\Documents\\letter.pdf", "C:\\Users\\office\\Documents\\letter.pdf"),
        ("C:\\" + "a\\" * 130 + "x.pdf", "\\\\?\\C:\\" + "a\\" * 130 + "x.pdf"),
        (
            "\\\\server\\share\\" + "b\\" * 130 + "y.pdf",
            "\\\\?\\UNC\\server\\share\\" + "b\\" * 130 + "y.pdf",
        ),
        ("C:\\" + "c\\..\\" * 60 + "z.pdf", "\\\\?\\C:\\z.pdf"),
        ("\\\\?\\C:\\" + "d\\" * 130, "\\\\?\\C:\\" + "d\\" * 130),
    ],
    ids=["short", "long-drive", "long-share", "dot-dot-resolved", "already-prefixed"],
)
def test_windows_paths_over_the_limit_get_the_extended_prefix(path: str, opened_as: str) -> None:
    assert windows_extended_path(path) == opened_as
    if opened_as.startswith("\\\\?\\"):
        # The prefix turns off Windows' own clean-up, so the path must already be clean.
        assert ".." not in opened_as.split("\\")
        assert ntpath.isabs(opened_as)
