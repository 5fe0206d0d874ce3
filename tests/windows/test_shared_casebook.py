"""Several Windows accounts on one office PC share one casebook, when the head chooses so
at set-up: a folder under ProgramData whose permissions name those accounts only.

The permissions are set with icacls, which exists on Windows only: the commands are
built (and checked here) by one function, and run on the Windows CI runner, where the
last test reads the folder's permissions back. Finding the shared casebook is the same
code on every system and is tried here with PROGRAMDATA pointing at a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import (
    APP_NAME,
    SHARED_MARKER,
    check_account_names,
    default_data_dir,
    icacls_commands,
    resolve_data_dir,
    set_up_shared_folder,
)
from app.domain.errors import DataDirectoryError, ValidationError
from tests.e2e.cli_runner import run_in_process


def test_the_folder_is_given_to_the_named_accounts_windows_and_administrators() -> None:
    folder = Path("C:/ProgramData/ConductCasebook")
    commands = icacls_commands(folder, ["OFFICE-PC\\jsmith", "head", " HEAD ", "SCHOOL\\bursar"])
    assert commands == [
        [
            "icacls",
            str(folder),
            "/grant:r",
            "*S-1-5-18:(OI)(CI)F",  # SYSTEM, whatever the language of Windows
            "*S-1-5-32-544:(OI)(CI)F",  # the PC's administrators
            "OFFICE-PC\\jsmith:(OI)(CI)M",
            "head:(OI)(CI)M",
            "SCHOOL\\bursar:(OI)(CI)M",
        ],
        # Only then are the permissions ProgramData passes down (all users may read) cut.
        ["icacls", str(folder), "/inheritance:r"],
    ]


@pytest.mark.parametrize("name", ["", "office:pc", 'jo"smith', "a\\b\\c", "jo*", "(everyone)"])
def test_a_name_that_is_not_a_windows_account_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="is not a Windows account name"):
        check_account_names([name])


def test_the_shared_casebook_is_found_by_every_account_without_a_data_folder_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CASEBOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("PROGRAMDATA", str(tmp_path / "ProgramData"))
    shared = tmp_path / "ProgramData" / APP_NAME
    # Not set up for sharing: each account keeps its own casebook.
    assert resolve_data_dir(None) == default_data_dir()
    shared.mkdir(parents=True)
    (shared / SHARED_MARKER).write_text("OFFICE-PC\\jsmith\n", encoding="utf-8")
    assert resolve_data_dir(None) == shared
    # A folder given, on the command line or in the environment, still wins.
    assert resolve_data_dir(str(tmp_path / "elsewhere")) == tmp_path / "elsewhere"
    monkeypatch.setenv("CASEBOOK_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None) == tmp_path / "env"


def test_the_command_line_opens_the_shared_casebook(tmp_path: Path) -> None:
    shared = tmp_path / "ProgramData" / APP_NAME
    shared.mkdir(parents=True)
    (shared / SHARED_MARKER).write_text("OFFICE-PC\\jsmith\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CASEBOOK_DATA_DIR"}
    env.update(PROGRAMDATA=str(tmp_path / "ProgramData"), CASEBOOK_PASSWORD="demo")
    done = run_in_process(["demo"], env)  # the command's own entry point, as a process runs it
    assert done.returncode == 0, done.stderr
    assert (shared / "casebook.keys").is_file()
    assert (shared / "casebook.sqlite3").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="the refusal is for other systems")
def test_elsewhere_sharing_is_refused_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DataDirectoryError, match="is set up on Windows"):
        set_up_shared_folder(["head"], tmp_path / "shared")
    assert not (tmp_path / "shared").exists()


@pytest.mark.skipif(sys.platform != "win32", reason="icacls and Windows permissions")
def test_on_windows_the_folder_opens_for_the_named_accounts_only(tmp_path: Path) -> None:
    me = os.environ["USERNAME"]
    folder = set_up_shared_folder([me], tmp_path / APP_NAME)
    shown = subprocess.run(
        ["icacls", str(folder)], capture_output=True, text=True, check=True
    ).stdout
    assert f"{me}:(OI)(CI)(M)" in shown
    assert "(OI)(CI)(F)" in shown  # SYSTEM and Administrators
    assert "BUILTIN\\Users" not in shown
    assert "(I)" not in shown  # nothing inherited from the folder above
    assert (folder / SHARED_MARKER).is_file()
