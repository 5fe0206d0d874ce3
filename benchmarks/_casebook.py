"""Build large fictional casebooks quickly for the benchmarks (bulk SQL, cached on disk).

Every casebook is encrypted: a benchmark opens it as a person would, signing in as
``head`` with ``BENCH_PASSWORD`` (Argon2id, then the SQLCipher database). A cached folder
carries a stamp naming the schema and cache format it was built with; one made by an
older version (unencrypted, older schema, or no first user) is rebuilt, not reused.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from app.db.engine import SCHEMA_HEAD
from app.db.models import CaseCategoryRecord, CasePersonRecord, CaseRecord, PersonRecord
from app.domain.categories import Category, encode_categories
from app.domain.platforms import known_platforms
from app.domain.reference import format_reference
from app.domain.status import CaseStatus
from app.services.casebook import Services, open_casebook

OUT = Path(__file__).resolve().parent / "out"
BENCH_USER = "head"
BENCH_PASSWORD = "benchmark"
# Raised whenever the way cached casebooks are built changes, so old caches are rebuilt.
CACHE_FORMAT = 2
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


def cached(name: str, build: Callable[[Path], None]) -> Path:
    """The cached data folder ``benchmarks/out/<name>``, (re)built by ``build`` when stale.

    ``build`` gets an empty folder to fill; it must create the first user (``head`` with
    ``BENCH_PASSWORD``) before closing, or the casebook could never be opened again.
    """
    folder = OUT / name
    if cache_is_current(folder):
        return folder
    if folder.exists():
        print(f"Rebuilding {folder.name}: it was made by an older version.", flush=True)
    building = OUT / f"{name}.building"
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
    """A data folder holding ``count`` cases, made once and reused from benchmarks/out."""
    return cached(f"casebook-{count}", lambda building: _build_cases(building, count))


def _build_cases(building: Path, count: int) -> None:
    services = set_up(building)
    rng = random.Random(count)
    now = datetime.now(UTC)
    today = date.today()
    statuses = list(CaseStatus)
    categories = list(Category)
    platforms = known_platforms()
    people_count = max(10, count // 3)
    with services.engine.begin() as connection:
        people = []
        for i in range(people_count):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
            people.append(
                {
                    "id": i + 1,
                    "name": name,
                    "name_key": name.casefold(),
                    "kind": "parent",
                    "address": "1 Example Lane\nSt Helens",
                    "postcode": "WA10 1AA",
                    "email": "",
                    "phone": "",
                    "relationship_to_pupils": "Parent",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        connection.execute(insert(PersonRecord), people)
        batch_cases, batch_cats, batch_links = [], [], []
        for i in range(count):
            year = 2020 + i * 7 // max(count, 1)
            cats = frozenset(rng.sample(categories, rng.choice((1, 1, 1, 2))))
            person = people[rng.randrange(people_count)]
            title = f"{rng.choice(TOPICS).capitalize()} #{i}"
            platform = rng.choice(platforms)
            handle = f"@user{i}"
            reference = format_reference(year, i + 1)
            when = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 3))
            due = today + timedelta(days=rng.randrange(-30, 30)) if rng.random() < 0.6 else None
            batch_cases.append(
                {
                    "id": i + 1,
                    "reference": reference,
                    "ref_year": year,
                    "ref_number": i + 1,
                    "title": title,
                    "summary": "Fictional benchmark case.",
                    "platform": platform,
                    "post_url": f"https://example.org/post/{i}",
                    "account_handle": handle,
                    "posted_at": when,
                    "reported_on": when.date(),
                    "reported_by": "Office",
                    "status": rng.choice(statuses).value,
                    "follow_up_due": due,
                    "categories": encode_categories(cats),
                    "poster": person["name"],
                    "search_text": " ".join(
                        [reference, title, platform, handle, person["name"]]
                    ).casefold(),
                    "code_version": "1.0",
                    "created_at": when,
                    "updated_at": when,
                    "last_activity_at": when,
                    "version": 1,
                }
            )
            batch_cats += [{"case_id": i + 1, "category": c.value} for c in cats]
            batch_links.append(
                {"case_id": i + 1, "person_id": person["id"], "role": "author", "created_at": when}
            )
            if len(batch_cases) >= 5000:
                connection.execute(insert(CaseRecord), batch_cases)
                connection.execute(insert(CaseCategoryRecord), batch_cats)
                connection.execute(insert(CasePersonRecord), batch_links)
                batch_cases, batch_cats, batch_links = [], [], []
        if batch_cases:
            connection.execute(insert(CaseRecord), batch_cases)
            connection.execute(insert(CaseCategoryRecord), batch_cats)
            connection.execute(insert(CasePersonRecord), batch_links)
    services.close()


def fresh_copy(count: int, target: Path) -> Path:
    """A private copy of the cached casebook (benchmarks must not share a locked folder)."""
    source = casebook_with(count)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


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
