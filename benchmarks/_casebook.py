"""Build large fictional casebooks quickly for the benchmarks (bulk SQL, cached on disk).

Every casebook is encrypted: a benchmark opens it as a person would, signing in as
``head`` with ``BENCH_PASSWORD`` (Argon2id, then the SQLCipher database). A cached folder
carries a stamp naming the schema and cache format it was built with; one made by an
older version (unencrypted, older schema, or no first user) is rebuilt, not reused.
"""

from __future__ import annotations

import json
import os
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
from app.domain.search import fold
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


def cached(name: str, build: Callable[[Path], None], root: Path = OUT) -> Path:
    """The cached data folder ``<root>/<name>``, (re)built by ``build`` when stale.

    ``build`` gets an empty folder to fill; it must create the first user (``head`` with
    ``BENCH_PASSWORD``) before closing, or the casebook could never be opened again.
    """
    folder = root / name
    if cache_is_current(folder):
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


def big_cache_root() -> Path:
    """Where casebooks too large for the checkout are kept: the user's cache folder, one
    folder per schema head, so a new migration builds a new one and old ones can be deleted."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "conduct-casebook-bench" / SCHEMA_HEAD


def million_casebook(count: int = 1_000_000) -> Path:
    """A data folder holding ``count`` (a million) cases, built by bulk insert and cached."""
    return cached(
        f"casebook-{count}", lambda building: _bulk_build(building, count), big_cache_root()
    )


def _bulk_build(building: Path, count: int) -> None:
    """Fill a new casebook through the database driver's ``executemany`` (no ORM rows):
    about a million cases a minute on the development machine, indexes and triggers
    included."""
    import time

    started = time.perf_counter()
    services = set_up(building)
    rng = random.Random(count)
    now = datetime.now(UTC).replace(tzinfo=None)
    today = date.today()
    statuses = [s.value for s in CaseStatus]
    # Safeguarding cases are sealed under the heads' key, which plain SQL cannot do: a
    # casebook built with them in clear would be sealed, case by case, at the first sign-in.
    categories = [c for c in Category if c is not Category.SAFEGUARDING]
    platforms = known_platforms()
    people_count = max(10, count // 20)
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}" for i in range(people_count)]
    folded_names = [fold(name) for name in names]  # the rest of the search text is ASCII
    case_columns = (
        "id, reference, ref_year, ref_number, title, summary, platform, post_url, "
        "account_handle, posted_at, reported_on, reported_by, status, follow_up_due, "
        "categories, poster, search_text, code_version, created_at, updated_at, "
        "last_activity_at, version"
    )
    case_sql = f"INSERT INTO cases ({case_columns}) VALUES ({', '.join('?' * 22)})"
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    with services.engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA cache_size = -200000")
        raw.execute("PRAGMA secure_delete = OFF")  # nothing is deleted while building
        # Indexes and search triggers are made again once the rows are in: sorting a
        # million keys once, and one 'rebuild' of each full-text index, is several times
        # quicker than keeping them up to date row by row.
        tables = ("cases", "case_categories", "case_people")
        deferred = raw.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN {tables!r}"
        ).fetchall()
        for kind, name, _sql in deferred:
            raw.execute(f'DROP {kind.upper()} "{name}"')
        raw.executemany(
            "INSERT INTO people (id, name, name_key, kind, address, postcode, email, phone, "
            "relationship, created_at, updated_at) "
            "VALUES (?, ?, ?, 'parent', '1 Example Lane', 'WA10 1AA', '', '', 'Parent', ?, ?)",
            [
                (i + 1, name, name.casefold(), now.strftime(stamp), now.strftime(stamp))
                for i, name in enumerate(names)
            ],
        )
        batch = 50_000
        for start in range(0, count, batch):
            cases, cats, links = [], [], []
            for i in range(start, min(count, start + batch)):
                year = 2020 + i * 7 // count
                chosen = rng.sample(categories, 2 if rng.random() < 0.25 else 1)
                person = rng.randrange(people_count)
                title = f"{rng.choice(TOPICS).capitalize()} #{i}"
                platform = rng.choice(platforms)
                reference = format_reference(year, i + 1)
                when = (now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 6))).strftime(
                    stamp
                )
                due = (
                    (today + timedelta(days=rng.randrange(-30, 30))).isoformat()
                    if rng.random() < 0.6
                    else None
                )
                search = f"{reference} {title} {platform} @user{i}".lower()
                search = f"{search} {folded_names[person]}"
                cases.append(
                    (
                        i + 1, reference, year, i + 1, title, "", platform, "",
                        f"@user{i}", when, when[:10], "Office", rng.choice(statuses), due,
                        encode_categories(frozenset(chosen)), names[person], search, "1.0",
                        when, when, when, 1,
                    )
                )  # fmt: skip
                cats += [(i + 1, c.value) for c in chosen]
                links.append((i + 1, person + 1, "author", when))
            raw.executemany(case_sql, cases)
            raw.executemany("INSERT INTO case_categories (case_id, category) VALUES (?, ?)", cats)
            raw.executemany(
                "INSERT INTO case_people (case_id, person_id, role, created_at) "
                "VALUES (?, ?, ?, ?)",
                links,
            )
        for _kind, _name, sql in sorted(deferred, key=lambda entry: entry[0]):
            t0 = time.perf_counter()
            raw.execute(sql)
            if os.environ.get("VERBOSE"):
                print(f"  {time.perf_counter() - t0:6.2f} s {sql[:60]}", flush=True)
        for index in ("case_search", "case_words"):
            t0 = time.perf_counter()
            raw.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
            if os.environ.get("VERBOSE"):
                print(f"  {time.perf_counter() - t0:6.2f} s rebuild {index}", flush=True)
        raw.execute("ANALYZE")
    services.close()
    print(
        f"Built a casebook of {count:,} cases by bulk insert in "
        f"{time.perf_counter() - started:.1f} s (target < 60 s).",
        flush=True,
    )


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
