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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from app.db.engine import SCHEMA_HEAD
from app.domain.categories import Category, decode_categories, encode_categories
from app.domain.platforms import known_platforms
from app.domain.search import fold
from app.domain.status import CaseStatus
from app.services.casebook import Services, open_casebook

OUT = Path(__file__).resolve().parent / "out"
BENCH_USER = "head"
BENCH_PASSWORD = "benchmark"
# Raised whenever the way cached casebooks are built changes, so old caches are rebuilt.
CACHE_FORMAT = 3
# One case in this many is a safeguarding case in the million-case casebook.
SAFEGUARDING_EVERY = 500
STAMP = "benchmark-cache.json"
# The build's page cache (1 GB): the cases stay in memory while their indexes are made.
BUILD_CACHE_KIB = 1_000_000
# FTS5 options while each search index is built, put back to FTS5's defaults after. FTS5
# writes a segment for every megabyte of words (its "hashsize") and keeps merging them.
# Measured on the million cases (processor time, each against FTS5's defaults in one run,
# load 13-16): the word index with 64 MB and no merging 20.2 -> 13.4 s (16 MB: 16.2 s);
# the trigram index with 16 MB 34.2 -> 32.0 s (64 MB made it slower: 48.3 s).
FTS_BUILD_OPTIONS = {
    "case_search": (("hashsize", 16 << 20),),
    "case_words": (("hashsize", 64 << 20), ("automerge", 0)),
}
# The tallies of cases by status, follow-up date (or day of last activity) and kind, as
# migration 0021 fills them.
TALLY_FILL = (
    "INSERT INTO case_tallies (status, due, safeguarding, cases) "
    "SELECT status, coalesce(follow_up_due, ''), instr(categories, 'safeguarding') > 0, "
    "count(*) FROM cases GROUP BY 1, 2, 3"
)
DAY_TALLY_FILL = (
    "INSERT INTO case_activity_tallies (status, day, safeguarding, cases) "
    "SELECT status, substr(last_activity_at, 1, 10), instr(categories, 'safeguarding') > 0, "
    "count(*) FROM cases GROUP BY 1, 2, 3"
)
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
    """Fill a new casebook by ``INSERT ... SELECT`` inside SQLite (no row is made in Python)
    in one transaction, make the indexes and the search indexes once the rows are in, then
    seal the safeguarding cases as the app does: by a head teacher signing in.

    One case in ``SAFEGUARDING_EVERY`` is a safeguarding case. The rows are spread by a
    hash of their number (stable from build to build); the people (one for every twenty
    cases) are made in Python, their names folded as the app folds them.
    """
    import time

    started, cpu_started = time.perf_counter(), time.process_time()
    verbose = bool(os.environ.get("VERBOSE"))

    def step(label: str) -> None:
        if verbose:
            print(
                f"  {time.perf_counter() - started:6.2f} s (cpu {time.process_time():6.2f} s) "
                f"{label}",
                flush=True,
            )

    services = set_up(building)
    step("set up (head teacher signed up)")
    rng = random.Random(count)
    now = datetime.now(UTC).replace(tzinfo=None)
    people_count = max(10, count // 20)
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}" for i in range(people_count)]
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    pick: dict[str, list[tuple[int, str]]] = {
        "topics": list(enumerate(topic.capitalize() for topic in TOPICS)),
        "platforms": list(enumerate(known_platforms())),
        "statuses": list(enumerate(s.value for s in CaseStatus)),
    }
    plain = [c for c in Category if c is not Category.SAFEGUARDING]
    # A quarter of cases breach two standards, the rest one; SAFEGUARDING_EVERY-th ones are
    # safeguarding cases (alone, or with abusive posts).
    mixes = [frozenset({c}) for c in plain] * 3 + [
        frozenset({a, b}) for n, a in enumerate(plain) for b in plain[n + 1 :]
    ]
    pick["mixes"] = list(enumerate(encode_categories(mix) for mix in mixes))
    guarded = [
        encode_categories(frozenset({Category.SAFEGUARDING})),
        encode_categories(frozenset({Category.SAFEGUARDING, Category.ABUSIVE})),
    ]
    pick["guarded"] = list(enumerate(guarded))
    members = sorted({(code, c.value) for code in {m for _, m in pick["mixes"]} | set(guarded)
                      for c in decode_categories(code)})  # fmt: skip

    # h(n, salt): a spread of the case number, in 64-bit integers (no overflow to REAL).
    def h(salt: int) -> str:
        return f"(((g.n * 2654435761 + {salt * 40503}) % 4294967291) * 48271 % 2147483647)"

    minutes = 60 * 24 * 365 * 6
    engine = services.engine
    engine.dispose()  # leaving the WAL needs the only connection to the file
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        # One transaction, kept in memory: the WAL would take every page twice (and spill
        # the cache into it); the casebook goes back to WAL, as the app keeps it, at the end.
        raw.execute("PRAGMA journal_mode = OFF")
        raw.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
        raw.execute("PRAGMA temp_store = MEMORY")
        raw.execute("PRAGMA threads = 2")
        raw.execute("PRAGMA secure_delete = OFF")  # nothing is deleted while building
        raw.execute("BEGIN")
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
            [(i + 1, name, name.casefold(), stamp, stamp) for i, name in enumerate(names)],
        )
        raw.execute("CREATE TEMP TABLE folded (id INTEGER PRIMARY KEY, words TEXT)")
        raw.executemany(
            "INSERT INTO folded VALUES (?, ?)", [(i + 1, fold(n)) for i, n in enumerate(names)]
        )
        for name, rows in pick.items():
            raw.execute(f"CREATE TEMP TABLE {name} (k INTEGER PRIMARY KEY, v TEXT)")
            raw.executemany(f"INSERT INTO {name} VALUES (?, ?)", rows)
        raw.execute("CREATE TEMP TABLE members (code TEXT, category TEXT)")
        raw.executemany("INSERT INTO members VALUES (?, ?)", members)
        step("people")
        # The rows, made by SQLite from a counter: a case's number n (from 0) gives its id
        # n + 1, its year (the numbers run through seven years), and through hashes of n
        # its topic, platform, status, standards, author, dates and follow-up.
        raw.execute(
            f"""
            INSERT INTO cases (id, reference, ref_year, ref_number, title, summary, platform,
                post_url, account_handle, posted_at, reported_on, reported_by, status,
                follow_up_due, categories, poster, search_text, code_version, created_at,
                updated_at, last_activity_at, version)
            WITH RECURSIVE counter(n) AS (
                SELECT 0 UNION ALL SELECT n + 1 FROM counter WHERE n < {count - 1}
            ), g AS (
                SELECT n, 2020 + n * 7 / {count} AS year,
                    strftime('%Y-%m-%d %H:%M:%S', julianday(:now)
                        - ({h(1)} % {minutes}) / 1440.0)
                        || printf('.%06d', {h(2)} % 1000000) AS at,
                    1 + {h(3)} % {people_count} AS person
                FROM counter AS g
            ), r AS (
                SELECT g.n, g.year, g.at, g.person,
                    printf('SM-%04d-%04d', g.year, g.n + 1) AS reference,
                    (SELECT v FROM topics WHERE k = {h(4)} % {len(pick["topics"])})
                        || ' #' || g.n AS title,
                    (SELECT v FROM platforms WHERE k = {h(5)} % {len(pick["platforms"])})
                        AS platform,
                    (SELECT v FROM statuses WHERE k = {h(6)} % {len(pick["statuses"])})
                        AS status,
                    CASE WHEN {h(7)} % 10 < 6
                        THEN date(:today, ({h(8)} % 60 - 30) || ' days') END AS due,
                    CASE WHEN {h(9)} % {SAFEGUARDING_EVERY} = 0
                        THEN (SELECT v FROM guarded WHERE k = {h(10)} % 2)
                        ELSE (SELECT v FROM mixes WHERE k = {h(10)} % {len(pick["mixes"])})
                    END AS categories
                FROM g
            )
            SELECT r.n + 1, r.reference, r.year, r.n + 1, r.title, '', r.platform, '',
                '@user' || r.n, r.at, substr(r.at, 1, 10), 'Office', r.status, r.due,
                r.categories, p.name,
                lower(r.reference || ' ' || r.title || ' ' || r.platform || ' @user' || r.n)
                    || ' ' || f.words,
                '1.0', r.at, r.at, r.at, 1
            FROM r JOIN people p ON p.id = r.person JOIN folded f ON f.id = r.person
            """,
            {"now": now.isoformat(sep=" "), "today": date.today().isoformat()},
        )
        step(f"{count:,} cases")
        raw.execute(
            "INSERT INTO case_categories (case_id, category) SELECT c.id, m.category "
            "FROM cases c JOIN members m ON m.code = c.categories ORDER BY c.id"
        )
        raw.execute(
            "INSERT INTO case_people (case_id, person_id, role, created_at) "
            f"SELECT c.id, 1 + {h(3).replace('g.n', '(c.id - 1)')} % {people_count}, "
            "'author', c.created_at FROM cases c"
        )
        step("standards and authors")
        # The status bar's tallies, which triggers keep as cases change (migration 0021).
        raw.execute("DELETE FROM case_tallies")
        raw.execute(TALLY_FILL)
        raw.execute("DELETE FROM case_activity_tallies")
        raw.execute(DAY_TALLY_FILL)
        step("tallies")
        # Indexes now (sealing below finds cases and people through them); the search
        # triggers and full-text indexes after sealing, so no word of a safeguarding case
        # is ever indexed in clear.
        for _kind, _name, sql in deferred:
            if _kind == "index":
                raw.execute(sql)
                step(f"index {_name}")
        raw.execute("COMMIT")
        step("indexes")
        raw.execute("PRAGMA journal_mode = WAL")
    services.close()
    # A head teacher's sign-in seals safeguarding records still in clear (the app's own
    # seal_outstanding): these cases, their words and the people only they name.
    services = open_signed_in(building)
    step("safeguarding cases sealed at the head teacher's sign-in")
    with services.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
        raw.execute("PRAGMA temp_store = MEMORY")
        raw.execute("BEGIN")
        for _kind, _name, sql in deferred:
            if _kind == "trigger":
                raw.execute(sql)
        for index in ("case_search", "case_words"):
            # Fewer segments to write and merge (FTS_BUILD_OPTIONS); FTS5's defaults are put
            # back below, so the casebook is configured as the app's own.
            for option, value in FTS_BUILD_OPTIONS[index]:
                raw.execute(f"INSERT INTO {index}({index}, rank) VALUES ('{option}', {value})")
            raw.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
            step(f"rebuild {index}")
        raw.execute("COMMIT")
        step("search indexes written")
        raw.execute("BEGIN")
        for index in ("case_search", "case_words"):
            options = ", ".join(f"'{option}'" for option, _value in FTS_BUILD_OPTIONS[index])
            raw.execute(f"DELETE FROM {index}_config WHERE k IN ({options})")
        raw.execute("COMMIT")
    services.close()
    wall = time.perf_counter() - started
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    print(
        f"Built a casebook of {count:,} cases by bulk insert in {wall:.1f} s "
        f"(target < 60 s; ratio {wall / 60:.2f}; {time.process_time() - cpu_started:.1f} s "
        f"of processor time; load average {load}).",
        flush=True,
    )


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
