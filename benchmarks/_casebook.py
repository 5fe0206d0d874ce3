"""Build large fictional casebooks quickly for the benchmarks (bulk SQL, cached on disk).

Every casebook is encrypted: a benchmark opens it as a person would, signing in as
``head`` with ``BENCH_PASSWORD`` (Argon2id, then the SQLCipher database). A cached folder
carries a stamp naming the schema and cache format it was built with; one made by an
older version (unencrypted, older schema, or no first user) is rebuilt, not reused.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from app.db.engine import SCHEMA_HEAD
from app.services.casebook import Services, open_casebook

OUT = Path(__file__).resolve().parent / "out"
BENCH_USER = "head"
BENCH_PASSWORD = "benchmark"
# Raised whenever the way cached casebooks are built changes, so old caches are rebuilt.
CACHE_FORMAT = 4
STAMP = "benchmark-cache.json"
FIRST = ["Zoë", "Siobhán", "Дмитрий", "Hồng", "Ayşe", "Gareth", "Eleni", "Priya", "Tomasz", "Amara"]
LAST = [
    "Łukasiewicz",
    "O'Brien",
    "Соколов",
    "Nguyễn",
    "Yılmaz",
    "Pryce-Jones",
    "Papadopoulou",
    "Shah",
    "Nowak",
    "Okafor",
]
TOPICS = [
    "comments about a teacher",
    "claim about the nursery",
    "photo of sports day",
    "complaint about homework",
    "post about the school trip",
    "rumour about staff",
    "video of the playground",
    "remarks about a family",
    "post about SATs results",
    "attendance dispute",
]


def _stamp() -> dict[str, object]:
    return {"cache_format": CACHE_FORMAT, "schema": SCHEMA_HEAD, "user": BENCH_USER}


def cache_is_current(folder: Path) -> bool:
    """True when ``folder`` was built by this version: encrypted, at this schema, signed-up.

    A casebook cached by an older version (plain SQLite, an older schema, or a set-up that
    never got its first user) would be refused, migrated or set aside when opened, and the
    benchmark would measure that instead; such a folder is rebuilt.
    """
    stamp = folder / STAMP
    keyring = folder / "casebook.keys"
    database = folder / "casebook.sqlite3"
    if not (stamp.is_file() and keyring.is_file() and database.is_file()):
        return False
    try:
        if json.loads(stamp.read_text(encoding="utf-8")) != _stamp():
            return False
        with open(database, "rb") as handle:
            if handle.read(16) == b"SQLite format 3\0":
                return False  # an unencrypted file from before encryption at rest
    except (OSError, ValueError):
        return False
    return True


def mark_current(folder: Path) -> None:
    """Stamp a freshly built cache folder with the version that built it."""
    (folder / STAMP).write_text(json.dumps(_stamp()), encoding="utf-8")


def cached(
    name: str, build: Callable[[Path], None], root: Path = OUT, *, rebuild: bool = False
) -> Path:
    """The cached data folder ``<root>/<name>``, (re)built by ``build`` when stale (or when
    ``rebuild`` is asked for).

    ``build`` gets an empty folder to fill; it must create the first user (``head`` with
    ``BENCH_PASSWORD``) before closing, or the casebook could never be opened again.
    """
    folder = root / name
    if cache_is_current(folder) and not rebuild:
        return folder
    if folder.exists():
        print(f"Rebuilding {folder.name}: it was made by an older version.", flush=True)
    root.mkdir(parents=True, exist_ok=True)
    building = root / f"{name}.building"
    shutil.rmtree(building, ignore_errors=True)
    build(building)
    mark_current(building)
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return folder


def open_signed_in(data_dir: Path, **options: Any) -> Services:
    """Open an existing benchmark casebook as a person would: sign in as head."""
    services = open_casebook(data_dir, actor="Benchmark", **options)
    try:
        services.users.sign_in(BENCH_USER, BENCH_PASSWORD)
    except BaseException:
        services.close()
        raise
    return services


def set_up(data_dir: Path, **options: Any) -> Services:
    """A new casebook with its head teacher signed up (password ``BENCH_PASSWORD``)."""
    services = open_casebook(data_dir, actor="Benchmark", **options)
    try:
        services.users.create_first_user(BENCH_USER, BENCH_PASSWORD, check_strength=False)
    except BaseException:
        services.close()
        raise
    return services


def casebook_with(count: int) -> Path:
    """A data folder holding ``count`` cases, made once and reused from benchmarks/out.

    Built as the million-case casebook is (``_bulk_build``): its safeguarding cases are
    sealed as the app seals them, so that a benchmark's first start does not seal them.
    """
    return cached(f"casebook-{count}", lambda building: _bulk_build(building, count))


def big_cache_root() -> Path:
    """Where casebooks too large for the checkout are kept: the user's cache folder, one
    folder per schema head, so a new migration builds a new one and old ones can be deleted."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "conduct-casebook-bench" / SCHEMA_HEAD


def million_casebook(count: int = 1_000_000, *, rebuild: bool = False) -> Path:
    """A data folder holding ``count`` (a million) cases, built by bulk insert and cached
    (built again when ``rebuild``)."""
    return cached(
        f"casebook-{count}",
        lambda building: _bulk_build(building, count),
        big_cache_root(),
        rebuild=rebuild,
    )


def _bulk_build(building: Path, count: int) -> None:
    """Fill a new casebook with ``count`` cases by bulk insert (benchmarks/_sqlite_build.py)."""
    from _sqlite_build import build

    build(building, count)


def fresh_copy(count: int, target: Path) -> Path:
    """A private copy of the cached casebook (benchmarks must not share a locked folder)."""
    source = casebook_with(count)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def unattended_start_env(database_url: str | None = None) -> dict[str, str]:
    """The environment of a timed start: signed in with the benchmark password, quitting
    once the list is painted, offscreen, and with bytecode kept as an installed program
    has it (a checkout may run with PYTHONDONTWRITEBYTECODE, which would make every start
    compile the whole app from source)."""
    env = dict(
        os.environ,
        CASEBOOK_QUIT_AFTER_FIRST_PAINT="1",
        QT_QPA_PLATFORM="offscreen",
        CASEBOOK_PASSWORD=BENCH_PASSWORD,
    )
    if database_url:
        env["CASEBOOK_DATABASE_URL"] = database_url
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def seconds_to_first_paint(data_dir: Path, env: dict[str, str]) -> float:
    """Start the program and time it until it reports the case list painted.

    The clock stops at the report, not at exit: work the window does after showing itself
    (tidying the blob store on a worker) is not part of the wait a person sees.
    """
    import subprocess
    import time

    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    painted = None
    for line in process.stdout:
        if line.strip() == "first paint":
            painted = time.perf_counter() - started
    _out, err = process.communicate()
    if painted is None:
        raise SystemExit(f"the window did not report its first paint: {err}")
    return painted
