"""Every binary module of the installed wheels finds the system libraries it links against.

A wheel upgrade that brings a new system library (as QtPdf brought libatomic) fails here, on
the developer's machine, instead of on a school's bare PC: ``ldd`` must report nothing
"not found" for any Python extension module in the environment or any Qt plugin the app
loads. The fix is a package in scripts/bootstrap.sh (and the README's list for IT).
"""

from __future__ import annotations

import importlib.machinery
import re
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("ldd") is None,
    reason="ldd and ELF libraries are Linux's",
)

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(sysconfig.get_paths()["platlib"])
PLUGINS = SITE / "PySide6" / "Qt" / "plugins"
# The Qt plugins the app loads: windows (X11, Wayland, offscreen), the picture formats it
# accepts as evidence (no TIFF: refused at intake), printing, input methods, icons.
APP_PLUGINS = [
    "platforms/libqxcb.so",
    "platforms/libqwayland.so",
    "platforms/libqoffscreen.so",
    "platforms/libqminimal.so",
    "imageformats/libqgif.so",
    "imageformats/libqjpeg.so",
    "imageformats/libqwebp.so",
    "imageformats/libqico.so",
    "imageformats/libqsvg.so",
    "imageformats/libqpdf.so",
    "printsupport/*.so",
    "xcbglintegrations/*.so",
    "platforminputcontexts/*.so",
    "iconengines/*.so",
]


def binary_modules() -> list[Path]:
    """Every extension module in the environment and every Qt plugin the app loads."""
    # ".cpython-311-x86_64-linux-gnu.so" and ".abi3.so"; a bare ".so" is a library or plugin.
    suffixes = tuple(s for s in importlib.machinery.EXTENSION_SUFFIXES if s != ".so")
    modules = sorted(p for p in SITE.rglob("*.so") if p.name.endswith(suffixes))
    plugins = sorted(p for pattern in APP_PLUGINS for p in PLUGINS.glob(pattern))
    return modules + plugins


def _links(path: Path) -> tuple[object, ...]:
    """What the loader looks up for ``path``: its ``DT_NEEDED`` names and the folders its
    ``DT_RPATH`` and ``DT_RUNPATH`` add (``$ORIGIN`` made absolute), read from its ELF
    headers. Files that agree on these resolve alike; anything unexpected is its own key."""
    with path.open("rb") as file:

        def read(offset: int, size: int) -> bytes:
            file.seek(offset)
            return file.read(size)

        header = read(0, 64)
        if header[:6] != b"\x7fELF\x02\x01":  # 64-bit little-endian only
            return ("unread", str(path))
        (phoff,) = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        table = read(phoff, phentsize * phnum)
        loads, dynamic = [], None
        for n in range(phnum):
            kind, _, offset, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", table, n * phentsize)
            if kind == 1:  # PT_LOAD
                loads.append((vaddr, offset, filesz))
            elif kind == 2:  # PT_DYNAMIC
                dynamic = read(offset, filesz)
        if dynamic is None:
            return ("unread", str(path))
        entries = [struct.unpack_from("<qQ", dynamic, at) for at in range(0, len(dynamic), 16)]
        values = dict(entries)
        strtab, strsz = values.get(5, -1), values.get(10, 0)  # DT_STRTAB, DT_STRSZ
        where = [o + strtab - v for v, o, size in loads if v <= strtab < v + size]
        if not where:
            return ("unread", str(path))
        strings = read(where[0], strsz)

    def text(at: int) -> str:
        return strings[at : strings.index(b"\0", at)].decode()

    needed = tuple(text(value) for tag, value in entries if tag == 1)
    origin = str(path.parent)
    searched = tuple(
        (tag, text(value).replace("$ORIGIN", origin).replace("${ORIGIN}", origin))
        for tag, value in entries
        if tag in (15, 29)  # DT_RPATH, DT_RUNPATH
    )
    return (needed, searched)


def unresolved(files: list[Path]) -> dict[str, list[str]]:
    """Library name -> the files that need it and where ``ldd`` could not find it.

    ``ldd`` runs once for each different set of links (``_links``): the environment's 380
    modules have far fewer, mypy's two hundred compiled modules nearly all the same one."""
    alike: dict[tuple[object, ...], list[Path]] = {}
    for path in files:
        alike.setdefault(_links(path), []).append(path)
    stands_for = {str(group[0]): group for group in alike.values()}
    missing: dict[str, list[str]] = {}
    checked = list(stands_for)
    for start in range(0, len(checked), 100):
        output = subprocess.run(
            ["ldd", *checked[start : start + 100]], capture_output=True, text=True, check=False
        ).stdout
        current = ""
        for line in output.splitlines():
            if not line.startswith(("\t", " ")):
                current = line.rstrip(":")
            elif "not found" in line:
                name = line.split("=>")[0].strip()
                missing.setdefault(name, []).extend(
                    str(p.relative_to(SITE)) for p in stands_for.get(current, [Path(current)])
                )
    return missing


def test_every_binary_module_finds_its_system_libraries() -> None:
    files = binary_modules()
    names = {p.name for p in files}
    # The check covers what it claims to: Qt, its PDF view, the database and crypto modules.
    for expected in ("QtPdf.abi3.so", "QtWidgets.abi3.so", "libqxcb.so", "libqoffscreen.so"):
        assert expected in names
    folders = {p.relative_to(SITE).parts[0] for p in files}
    assert {"sqlcipher3", "_argon2_cffi_bindings", "cryptography", "PIL", "psycopg_binary"} <= (
        folders
    )
    missing = unresolved(files)
    assert not missing, (
        "system libraries not found (add their Debian packages to scripts/bootstrap.sh and "
        "README.md): "
        + "; ".join(f"{lib} for {', '.join(who[:3])}" for lib, who in missing.items())
    )


def test_the_readme_gives_it_the_packages_bootstrap_installs() -> None:
    script = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    listed = re.search(r"^DEB_PACKAGES=\((.*?)^\)", script, re.S | re.M)
    assert listed is not None
    packages = {
        word for line in listed.group(1).splitlines() for word in line.split("#")[0].split()
    }
    assert {"libatomic1", "libcups2", "libxcb-cursor0", "postgresql"} <= packages
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"apt-get install --no-install-recommends \\\n(.*?)\n```", readme, re.S)
    assert command is not None, "README.md has no apt-get line for IT"
    assert set(command.group(1).replace("\\", " ").split()) == packages
