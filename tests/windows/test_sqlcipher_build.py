"""The Windows build of SQLCipher is the one tested here, so a casebook moves between PCs.

Linux installs ``sqlcipher3-binary``, Windows and macOS ``sqlcipher3`` (the same project's
wheels under two names). The Windows module cannot be loaded here, so its version strings
are read from the wheel: the SQLCipher version and the exact SQLite source it was built
from must match what this machine runs, and this machine's settings must be SQLCipher 4's
defaults, which the app relies on (it sets no cipher settings of its own).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlcipher3

ROOT = Path(__file__).resolve().parents[2]
WHEELS = ROOT / ".cache" / "wheels" / "win_amd64"
CIPHER_VERSION = "4.12.0"
SQLCIPHER_4_DEFAULTS = [
    "PRAGMA cipher_default_kdf_iter = 256000;",
    "PRAGMA cipher_default_page_size = 4096;",
    "PRAGMA cipher_default_use_hmac = 1;",
    "PRAGMA cipher_default_plaintext_header_size = 0;",
    "PRAGMA cipher_default_hmac_algorithm = HMAC_SHA512;",
    "PRAGMA cipher_default_kdf_algorithm = PBKDF2_HMAC_SHA512;",
]


def this_build() -> tuple[str, str, list[str]]:
    connection = sqlcipher3.connect(":memory:")
    try:
        connection.execute("PRAGMA key = 'probe'")
        version = connection.execute("PRAGMA cipher_version").fetchone()[0]
        source = connection.execute("SELECT sqlite_source_id()").fetchone()[0]
        defaults = [row[0] for row in connection.execute("PRAGMA cipher_default_settings")]
    finally:
        connection.close()
    return version, source, defaults


def windows_module() -> bytes:
    wheel = next(WHEELS.glob("sqlcipher3-*-cp311-cp311-win_amd64.whl"), None)
    if wheel is None:
        WHEELS.mkdir(parents=True, exist_ok=True)
        pin = next(
            line.split()[0]
            for line in (ROOT / "installer" / "requirements-windows.txt").read_text().splitlines()
            if line.startswith("sqlcipher3==")
        )
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--platform", "win_amd64", "--python-version", "3.11", "--timeout", "15",
             "-d", str(WHEELS), pin],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        wheel = next(WHEELS.glob("sqlcipher3-*-cp311-cp311-win_amd64.whl"), None)
        if wheel is None:
            pytest.skip(f"the Windows wheel could not be fetched: {done.stderr[-200:]}")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".pyd"))
        return archive.read(name)


def test_this_machine_runs_sqlcipher_4_with_its_default_settings() -> None:
    version, _source, defaults = this_build()
    assert version == f"{CIPHER_VERSION} community"
    assert defaults == SQLCIPHER_4_DEFAULTS


def test_the_windows_wheel_is_the_same_sqlcipher_on_the_same_sqlite() -> None:
    _version, source, _defaults = this_build()
    module = windows_module()
    assert b"community\x00" in module
    assert f"\x00{CIPHER_VERSION}\x00".encode() in module
    # The full SQLite source id (date, time and check-in hash) of the build here.
    assert source.encode() in module
