"""Every package the Windows program needs, as wheels for CPython 3.11 on 64-bit Windows.

``python installer/windows_lock.py --check`` (run by the test suite) proves that the pins in
pyproject.toml, evaluated as Windows evaluates their markers, still resolve to Windows
wheels: it downloads every wheel of ``requirements-windows.txt`` (the full set, each with
its hash) for win_amd64 with ``--no-deps`` in one pip call, cached in ``.cache/wheels``,
then reads each wheel's own requirements and checks the set is complete. When the package
index cannot be reached it checks the checked-in lock instead and says so.

``python installer/windows_lock.py --update`` writes the lock again after a pin changes.
The Windows build installs exactly this set: ``pip install --require-hashes --no-deps -r
installer/requirements-windows.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "installer" / "requirements-windows.txt"
CACHE = ROOT / ".cache" / "wheels" / "win_amd64"
PLATFORM = "win_amd64"
PYTHON = (3, 11)
# How Windows evaluates an environment marker (`sys_platform == 'win32'` and the like).
WINDOWS = {
    "sys_platform": "win32",
    "platform_system": "Windows",
    "os_name": "nt",
    "platform_machine": "AMD64",
    "python_version": "3.11",
    "python_full_version": "3.11.9",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_release": "10",
    "platform_version": "10.0.19045",
    "implementation_version": "3.11.9",
}
MACOS = {**WINDOWS, "sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
# pip's words when the index cannot be reached (it then also says "no matching distribution").
UNREACHABLE = (
    "Could not fetch URL",
    "NewConnectionError",
    "Failed to establish a new connection",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeout",
    "Read timed out",
)
# pip's answers that mean "no such wheel", as against "the index cannot be reached".
NOT_AVAILABLE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "DO NOT MATCH THE HASHES",
    "is not a supported wheel on this platform",
)


class LockProblem(Exception):
    """The pins and the Windows lock disagree, or a wheel is missing for Windows."""


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    sha256: str
    wheel: str


def windows_pins(
    pyproject: Path = ROOT / "pyproject.toml", environment: dict[str, str] = WINDOWS
) -> list[Requirement]:
    """The runtime dependencies that apply on Windows, as Windows evaluates the markers."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    pins = []
    for line in data["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            pins.append(requirement)
    return pins


def read_lock(path: Path = LOCK) -> dict[str, Locked]:
    entries: dict[str, Locked] = {}
    wheel = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("# wheel: "):
            wheel = line.removeprefix("# wheel: ").strip()
            continue
        if not line or line.startswith("#"):
            continue
        found = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if not found or not wheel:
            raise LockProblem(f"{path.name}: cannot read the line {raw!r}")
        name, version, digest = found.groups()
        entries[canonicalize_name(name)] = Locked(name, version, digest, wheel)
        wheel = ""
    return entries


def windows_tags() -> set[Tag]:
    abis = ["cp311", "abi3", "none"]
    tags = set(cpython_tags(PYTHON, abis=abis, platforms=[PLATFORM]))
    tags |= set(compatible_tags(PYTHON, interpreter="cp311", platforms=[PLATFORM]))
    return tags


def check_pins_against_lock(pins: list[Requirement], lock: dict[str, Locked]) -> None:
    problems = []
    for pin in pins:
        entry = lock.get(canonicalize_name(pin.name))
        if entry is None:
            problems.append(f"{pin} is not in {LOCK.name}")
        elif not pin.specifier.contains(entry.version, prereleases=True):
            problems.append(f"{pin} but {LOCK.name} has {entry.name}=={entry.version}")
    supported = windows_tags()
    for entry in lock.values():
        *_, tags = parse_wheel_filename(entry.wheel)
        if not tags & supported:
            problems.append(f"{entry.wheel} is not a wheel for CPython 3.11 on {PLATFORM}")
    if problems:
        raise LockProblem(
            "The Windows package set is out of step: "
            + "; ".join(problems)
            + " (run python installer/windows_lock.py --update)."
        )


def _metadata(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(name).decode("utf-8"))
    return message.get_all("Requires-Dist") or []


def check_closure(pins: list[Requirement], lock: dict[str, Locked], wheels: Path) -> None:
    """Every requirement of every locked wheel, as Windows evaluates it, is in the lock."""
    extras: dict[str, set[str]] = {canonicalize_name(p.name): set(p.extras) for p in pins}
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    queue = [(name, "") for name in lock] + [(n, e) for n, es in extras.items() for e in es]
    while queue:
        name, extra = queue.pop()
        if (name, extra) in seen or name not in lock:
            continue
        seen.add((name, extra))
        for line in _metadata(wheels / lock[name].wheel):
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is not None and not marker.evaluate({**WINDOWS, "extra": extra}):
                continue
            if marker is None and extra:
                continue  # already counted with no extra
            needed = canonicalize_name(requirement.name)
            entry = lock.get(needed)
            if entry is None:
                problems.append(f"{lock[name].name} needs {requirement} on Windows")
            elif not requirement.specifier.contains(entry.version, prereleases=True):
                problems.append(f"{lock[name].name} needs {requirement}, locked {entry.version}")
            else:
                queue.extend((needed, e) for e in requirement.extras)
    if problems:
        raise LockProblem("The Windows package set is incomplete: " + "; ".join(problems) + ".")


def _pip_download(
    args: list[str], dest: Path, platforms: tuple[str, ...] = (PLATFORM,)
) -> subprocess.CompletedProcess[str]:
    platform_options = [option for tag in platforms for option in ("--platform", tag)]
    command = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
        "--only-binary=:all:", *platform_options, "--python-version", "3.11",
        "--implementation", "cp", "--abi", "cp311", "--abi", "abi3", "--abi", "none",
        "--timeout", "15", "--retries", "1", "-d", str(dest), *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False)


def check(lock_path: Path = LOCK, cache: Path = CACHE) -> str:
    """Raise LockProblem when a Windows wheel is missing; say how it was checked."""
    started = time.monotonic()
    pins = windows_pins()
    lock = read_lock(lock_path)
    check_pins_against_lock(pins, lock)
    cache.mkdir(parents=True, exist_ok=True)
    done = _pip_download(["--no-deps", "-r", str(lock_path)], cache)
    if done.returncode != 0:
        output = done.stdout + done.stderr
        reachable = not any(words in output for words in UNREACHABLE)
        if reachable and any(words in output for words in NOT_AVAILABLE):
            lines = [line for line in output.splitlines() if line.startswith("ERROR")]
            raise LockProblem("A Windows wheel is missing: " + " ".join(lines[-3:]))
        have = all((cache / entry.wheel).is_file() for entry in lock.values())
        if have:
            check_closure(pins, lock, cache)
        return (
            f"the package index could not be reached; checked the pins against {LOCK.name}"
            + (" and the cached wheels" if have else "")
            + f" ({time.monotonic() - started:.1f} s)"
        )
    check_closure(pins, lock, cache)
    return (
        f"{len(lock)} wheels resolved for {PLATFORM} from the package index "
        f"({time.monotonic() - started:.1f} s)"
    )


def _plain(pins: list[Requirement]) -> list[str]:
    """The pins without their markers: pip would evaluate those for this machine."""
    plain = []
    for pin in pins:
        extras = f"[{','.join(sorted(pin.extras))}]" if pin.extras else ""
        plain.append(f"{pin.name}{extras}{pin.specifier}")
    return plain


def resolve_for_macos(platform: str, dest: Path) -> None:
    """Resolve the pins (as macOS evaluates their markers) to macOS wheels, with their
    dependencies; LockProblem names what is missing. Not locked: no Mac build is made."""
    done = _pip_download(_plain(windows_pins(environment=MACOS)), dest, (platform,))
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        raise LockProblem(f"A {platform} wheel is missing: " + " ".join(lines[-3:]))


def update(lock_path: Path = LOCK) -> None:
    """Resolve the pins for Windows again and write the lock with each wheel's hash."""
    pins = windows_pins()
    work = ROOT / ".cache" / "wheels" / "resolve"
    if work.exists():
        for old in work.iterdir():
            old.unlink()
    done = _pip_download(_plain(pins), work)
    if done.returncode != 0:
        raise LockProblem(done.stderr.strip().splitlines()[-1])
    # pip resolved with this machine's markers; add what Windows alone needs until complete.
    while True:
        lock = _lock_of(work)
        try:
            check_closure(pins, lock, work)
            break
        except LockProblem as problem:
            missing = re.findall(r"needs ([^;,]+?) on Windows", str(problem))
            if not missing:
                raise
            extra = _pip_download(["--no-deps", *[m.split(";")[0] for m in missing]], work)
            if extra.returncode != 0:
                raise LockProblem(extra.stderr.strip().splitlines()[-1]) from None
    lines = [
        "# Every package the Windows program installs: CPython 3.11, win_amd64, wheels only.",
        "# Written by `python installer/windows_lock.py --update` from pyproject.toml;",
        "# checked by the test suite. Install with:",
        "#   pip install --require-hashes --no-deps -r installer/requirements-windows.txt",
    ]
    for entry in sorted(lock.values(), key=lambda e: e.name.lower()):
        pin = f"{entry.name}=={entry.version} --hash=sha256:{entry.sha256}"
        lines += [f"# wheel: {entry.wheel}", pin]
    lock_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _lock_of(folder: Path) -> dict[str, Locked]:
    lock = {}
    for wheel in sorted(folder.glob("*.whl")):
        name, version, *_ = parse_wheel_filename(wheel.name)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        with zipfile.ZipFile(wheel) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            real = Parser().parsestr(archive.read(meta).decode("utf-8"))["Name"]
        lock[canonicalize_name(name)] = Locked(real, str(version), digest, wheel.name)
    return lock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the lock again")
    args = parser.parse_args()
    try:
        if args.update:
            update()
            print(f"wrote {LOCK.relative_to(ROOT)}")
        print(check())
    except LockProblem as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
