"""The built program (``make bundle``) runs on its own: version, demo cases, a letter.

Marked slow: it builds the one-folder program with PyInstaller first when it is missing,
which takes minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from app import __version__, codecache

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
EXE = ".exe" if os.name == "nt" else ""
PROGRAM = ROOT / "dist" / "ConductCasebook" / f"casebook{EXE}"
WINDOW_PROGRAM = PROGRAM.with_name(f"ConductCasebook{EXE}")


@pytest.fixture(scope="module")
def program() -> Path:
    if not PROGRAM.exists():
        subprocess.run(["make", "bundle"], cwd=ROOT, check=True, capture_output=True)
    return PROGRAM


def run(program: Path, data: Path, *args: str, **more_env: str) -> subprocess.CompletedProcess[str]:
    # A bare environment: nothing from the development virtual environment leaks in.
    env = {
        "PATH": os.environ.get("SYSTEMROOT", "") + "\\System32"
        if os.name == "nt"
        else "/usr/bin:/bin",
        # Windows cannot start a process without these two.
        **{name: os.environ[name] for name in ("SYSTEMROOT", "TEMP") if name in os.environ},
        "QT_QPA_PLATFORM": "offscreen",
        "CASEBOOK_USER": "Head",
        "CASEBOOK_PASSWORD": "demo",
        **more_env,
    }
    return subprocess.run(
        [str(program), "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=data.parent,
        check=False,
    )


def test_the_built_program_runs_on_its_own(program: Path, tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    # Beside the command line, the window's own program (no console window on Windows).
    assert WINDOW_PROGRAM.is_file()
    # The dataclass methods compiled at build time are read from the folder, never written.
    folder_before = sorted(program.parent.rglob("*"))
    (table,) = [path for path in folder_before if path.name == codecache.BUNDLED_NAME]
    assert len(codecache._read(table)) > 300
    version = run(program, data, "--version")
    assert version.stdout.strip() == f"casebook {__version__}"
    demo = run(program, data, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "13 fictional demonstration cases" in demo.stdout
    # The built program encrypts too: the key file is there and no name is readable.
    assert (data / "casebook.keys").is_file()
    assert "Łukasiewicz".encode() not in (data / "casebook.sqlite3").read_bytes()
    out = tmp_path / "letter.pdf"
    letter = run(program, data, "letter", "SM-2026-0001", "--kind", "removal", "--out", str(out))
    assert letter.returncode == 0, letter.stderr
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Zoë Łukasiewicz" in text
    shot = tmp_path / "window.png"
    picture = run(program, data, "screenshot", "--out", str(shot), "--case", "SM-2026-0001")
    assert picture.returncode == 0, picture.stderr
    assert shot.stat().st_size > 10_000
    assert sorted(program.parent.rglob("*")) == folder_before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the Linux loader's log")
def test_a_command_that_opens_no_window_never_loads_qt(program: Path, tmp_path: Path) -> None:
    # The dynamic loader names each library it loads (LD_DEBUG=files): a letter loads no Qt
    # library (PyInstaller's own PySide6 hook would import Qt in every process), the window
    # does.
    data = tmp_path / "casebook"
    assert run(program, data, "demo").returncode == 0
    letter = run(
        program, data, "letter", "SM-2026-0001", "--kind", "removal",
        "--out", str(tmp_path / "letter.pdf"), LD_DEBUG="files",
    )  # fmt: skip
    assert letter.returncode == 0, letter.stderr[-2000:]
    assert "libpython" in letter.stderr  # the loader's log is there
    assert "libQt6" not in letter.stderr
    shot = run(program, data, "screenshot", "--out", str(tmp_path / "w.png"), LD_DEBUG="files")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert "libQt6Core" in shot.stderr
