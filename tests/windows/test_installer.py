"""The NSIS installer script compiles, against a stand-in program folder, into an installer
carrying the app's version; its uninstaller removes the program and never the casebooks.

NSIS's ``makensis`` runs on Linux (Debian package ``nsis``); without it the test is
skipped. The installer itself can only run on Windows (the CI workflow builds the real
one); here it is compiled with warnings treated as errors.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "installer" / "casebook.nsi"


def section(name: str) -> list[str]:
    text = SCRIPT.read_text(encoding="utf-8")
    body = re.search(rf'^Section "{re.escape(name)}".*?^SectionEnd', text, re.M | re.S)
    assert body is not None
    return [line.strip() for line in body.group(0).splitlines()]


def fixed_file_version(exe: bytes) -> tuple[int, ...]:
    """The version numbers in the VS_FIXEDFILEINFO resource Explorer shows."""
    at = exe.index(struct.pack("<I", 0xFEEF04BD))
    _signature, _struct, high, low = struct.unpack_from("<4I", exe, at)
    return (high >> 16, high & 0xFFFF, low >> 16, low & 0xFFFF)


@pytest.mark.skipif(
    shutil.which("makensis") is None,
    reason="makensis is not installed (Debian package nsis: apt-get install nsis)",
)
def test_the_installer_compiles_with_the_version_and_the_program_inside(tmp_path: Path) -> None:
    payload = tmp_path / "ConductCasebook"
    (payload / "_internal").mkdir(parents=True)
    (payload / "ConductCasebook.exe").write_bytes(b"MZ window stand-in")
    (payload / "casebook.exe").write_bytes(b"MZ command-line stand-in")
    (payload / "_internal" / "base_library.zip").write_bytes(b"PK stand-in" * 1000)
    installer = tmp_path / f"ConductCasebook-{__version__}-setup.exe"
    done = subprocess.run(
        ["makensis", "-WX", "-V2", f"-DVERSION={__version__}", f"-DSOURCE={payload}",
         f"-DOUTFILE={installer}", str(SCRIPT)],
        capture_output=True, text=True, timeout=120, check=False, cwd=SCRIPT.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    exe = installer.read_bytes()
    assert exe[:2] == b"MZ"
    numbers = tuple(int(n) for n in __version__.split("."))
    assert fixed_file_version(exe) == (*numbers, 0)
    for text in ("Conduct Casebook", __version__):
        assert text.encode("utf-16-le") in exe


def test_the_start_menu_opens_the_window_program() -> None:
    lines = section("${PRODUCT}")
    shortcuts = [line for line in lines if line.startswith("CreateShortcut")]
    assert any(
        '"$SMPROGRAMS\\${PRODUCT}\\${PRODUCT}.lnk" "$INSTDIR\\ConductCasebook.exe"' in line
        for line in shortcuts
    )
    assert 'WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"' in lines


def test_the_uninstaller_removes_the_program_and_keeps_every_casebook() -> None:
    removals = [
        line for line in section("Uninstall") if line.split(" ", 1)[0] in ("Delete", "RMDir")
    ]
    assert removals
    for line in removals:
        target = line.split('"')[1]
        # Only the program folder and the Start-menu folder, never a data folder.
        assert target.startswith(("$INSTDIR", "$SMPROGRAMS")), line
        assert not re.search(r"APPDATA|ProgramData|COMMONAPPDATA|ConductCasebook\\", target)
    assert 'RMDir "$INSTDIR"' in removals  # without /r: a folder with anything else stays
