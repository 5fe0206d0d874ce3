"""The case list and the audit trail over a million rows on PostgreSQL, as the window uses them.

A trust's shared casebook (several schools on one server) reaches these sizes in its audit
and exhibit tables long before its cases; this measures both at 1,000,000 rows.

Targets (issue 24), the same as ``million.py`` on SQLite:
- the benchmark casebook is built by bulk load (COPY, indexes after) in under a minute,
  then cached (a kept PostgreSQL data directory);
- start to first painted list <= 0.8 s (whole process, signing in);
- a search keystroke, 1-2 characters and common words included: median <= 30 ms, worst
  <= 80 ms (query, model reset, repaint);
- a filter change <= 100 ms; selecting any case (one far down the list) <= 50 ms;
- the next page while scrolling read by keyset (never OFFSET); the overdue count;
- the audit trail window's first page over 1,000,000 entries <= 1.0 s (as audit_viewer.py).

The build (``--build-only``; with VERBOSE=1 each step prints its time and the server's
processor time for it): initdb; the product's own migrations and the head teacher's sign-up;
then at the same time the cases made by the server from a counter (``generate_series``,
each case's details drawn from a spread of its number as in the SQLite casebook, so both
hold the same cases, safeguarding ones left out) and the million audit entries chained in
Python and copied in; then the indexes on ``INDEX_BUILDERS`` connections, the two inverted
indexes first (the longest steps: 20 s of processor time each since migration 0029, where
the word starts' took 27-28 s), beside the cases' standards, authors and totals;
``VACUUM (ANALYZE)``. The rows go into tables emptied in the same transaction with
``wal_level=minimal``, so they are not written twice; the server runs without fsync while
building, stops cleanly (a checkpoint), and the folder is synced before it is stamped; the
measuring run starts it with the ordinary settings.

The server is started for the run from a data directory kept in
~/.cache/conduct-casebook-bench/<schema head>/postgres-<count>/ (XDG_CACHE_HOME is
honoured). PostgreSQL refuses to run as root: run as root, the data directory is kept in
/var/tmp/conduct-casebook-bench/ instead (owned by the ``postgres`` account, which cannot
enter root's home). The load of the machine is printed at the start and the end.

The first start after a build is slow (a minute or more): the head teacher's sign-in checks
the million audit entries loaded since the last checkpoint, once, and makes a checkpoint;
the start figure is the median of three, so it is the starts after that one. The cluster is
rebuilt when the schema head or any migration's source changes.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/million_postgres.py
     (--build-only builds the cache and stops; --keep-running prints the URL and waits;
     --folder DIR keeps the cluster in DIR instead, which must be a folder the postgres
     account can enter when run as root, e.g. under /var/tmp)
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _casebook import (
    FIRST,
    LAST,
    TOPICS,
    big_cache_root,
    open_signed_in,
    seconds_to_first_paint,
    set_up,
    unattended_start_env,
)
from _report import WHOLE_PROCESS, figure

from app.db.engine import SCHEMA_HEAD
from app.domain.categories import Category, encode_categories
from app.domain.platforms import known_platforms
from app.domain.search import fold
from app.domain.status import CaseStatus

COUNT = 1_000_000
AUDIT_ENTRIES = 1_000_000
KEYSTROKE_MEDIAN_MS, KEYSTROKE_WORST_MS, FILTER_MS, SELECT_MS, START_S = 30, 80, 100, 50, 0.8
AUDIT_FIRST_PAGE_S = 1.0
# The same keystrokes as million.py: one and two characters, punctuation, a letter outside
# ASCII, common words, rare ones, and clearing the search.
TYPED = ["s", "so", "sok", "", "#4", "#42", "#421", "", "ł", "łu", "łuk", "", "facebook", ""]
# Raised whenever the way the cached cluster is built changes, so old ones are rebuilt.
CACHE_FORMAT = 4
STAMP = "benchmark-cache.json"
USERS = ["head", "Mrs Office", "Mr Deputy", "Governor"]
ACTIONS = ["view case", "add note", "issue letter", "view exhibit", "signed in", "print letter"]
# The server's memory: a modest shared server's, not a tuned one's.
SERVER_OPTIONS = "-c shared_buffers=256MB -c max_connections=50"
# Connections making the indexes at once (see _bulk_load). The steps after the cases are in
# take about 56 s of processor time over the million: the word starts' index 20 (27-28
# before migration 0029; it starts first), the trigram index 20, the btree indexes 9, the
# standards, authors and totals 6. Two connections or three end at about the same time on
# two idle cores (the queue keeps both busy); on a shared machine three get a larger share
# of it (before 0029: 124 s with three at load 9-11, 140 s with two at load 13-15, for the
# same 97-99 s of processor time).
INDEX_BUILDERS = 3


def load() -> str:
    try:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load unknown"


# ----- the server ------------------------------------------------------------------------


def _binaries() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    if not found:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql).")
    return Path(found).parent


def _as_postgres() -> list[str]:
    # PostgreSQL refuses to run as root: its files belong to the postgres account.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def cache_folder(count: int = COUNT) -> Path:
    """Where the kept cluster and its PC's data folder live (see the module's docstring)."""
    if os.geteuid() == 0:
        return Path("/var/tmp/conduct-casebook-bench") / SCHEMA_HEAD / f"postgres-{count}"
    return big_cache_root() / f"postgres-{count}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(cluster: Path, *, fast_writes: bool = False) -> Iterator[int]:
    """Start the cluster in ``cluster`` on a free port for the ``with`` block; its port."""
    bin_dir, port = _binaries(), _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {cluster.parent} {SERVER_OPTIONS}"
    if fast_writes:
        # Rows copied into a table emptied in the same transaction skip the write-ahead log.
        options += (
            " -F -c maintenance_work_mem=512MB -c max_wal_size=4GB -c wal_level=minimal"
            " -c max_wal_senders=0 -c synchronous_commit=off"
        )
    subprocess.run(
        [*_as_postgres(), str(bin_dir / "pg_ctl"), "-D", str(cluster), "-o", options,
         "-l", str(cluster.parent / "server.log"), "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield port
    finally:
        subprocess.run(
            [*_as_postgres(), str(bin_dir / "pg_ctl"), "-D", str(cluster), "-m", "fast", "stop"],
            capture_output=True,
            check=False,
        )


def url(port: int, database: str = "casebook") -> str:
    return f"postgresql+psycopg://casebook@127.0.0.1:{port}/{database}"


def _migrations_digest() -> str:
    """A digest of the migration sources: a migration changed under the same head (as when
    branches are merged) changes the schema a kept cluster must have, so it is rebuilt."""
    import hashlib

    versions = Path(__file__).resolve().parent.parent / "app" / "db" / "migrations" / "versions"
    digest = hashlib.sha256()
    for source in sorted(versions.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def _stamp(count: int, audit: int) -> dict[str, object]:
    return {
        "cache_format": CACHE_FORMAT,
        "schema": SCHEMA_HEAD,
        "migrations": _migrations_digest(),
        "cases": count,
        "audit": audit,
    }


def cached_cluster(
    count: int = COUNT, audit: int = AUDIT_ENTRIES, folder: Path | None = None
) -> Path:
    """The kept folder (``cluster``: the data directory; ``pc``: the PC's data folder),
    built by bulk load when missing or made by an older version; ``folder`` instead of the
    cache's (to try a change to the build beside the cluster others measure)."""
    folder = cache_folder(count) if folder is None else folder
    try:
        if json.loads((folder / STAMP).read_text(encoding="utf-8")) == _stamp(count, audit):
            return folder
    except (OSError, ValueError):
        pass
    if folder.exists():
        print(f"Rebuilding {folder}: it was made by an older version.", flush=True)
    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    if _as_postgres():
        shutil.chown(building, "postgres")
    _build(building, count, audit)
    (building / STAMP).write_text(json.dumps(_stamp(count, audit)), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return folder


# ----- building the casebook -------------------------------------------------------------


def _build(building: Path, count: int, audit: int) -> None:
    started = time.perf_counter()
    cluster = building / "cluster"
    # No sync at the end of initdb: the whole folder is synced once the build is done.
    subprocess.run(
        [*_as_postgres(), str(_binaries() / "initdb"), "-D", str(cluster), "-A", "trust",
         "-U", "casebook", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        check=True, capture_output=True, cwd=building,
    )  # fmt: skip
    print(f"  initdb: {time.perf_counter() - started:.1f} s", flush=True)
    with running_server(cluster, fast_writes=True) as port:
        from sqlalchemy import create_engine, text

        admin = create_engine(url(port, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE casebook"))
        admin.dispose()
        # The schema, the keyring and the head teacher, as a new shared casebook gets them.
        set_up(building / "pc", database_url=url(port)).close()
        print(f"  schema and head teacher: {time.perf_counter() - started:.1f} s", flush=True)
        _bulk_load(url(port), count, audit)
        stopping = time.perf_counter()
        server_seconds = _server_total_seconds(cluster)
    # The server was stopped cleanly (a shutdown checkpoint), but written without fsync:
    # the files are synced now, before the stamp says the cluster is whole.
    _sync_tree(building)
    print(
        f"  stopped (checkpoint) and synced: {time.perf_counter() - stopping:.1f} s; "
        f"processor time: the server {server_seconds:.1f} s (before stopping), this process "
        f"{time.process_time():.1f} s",
        flush=True,
    )
    figure(
        f"building the PostgreSQL casebook ({count:,} cases, {audit:,} audit entries, bulk load)",
        time.perf_counter() - started,
        "s",
        60,
    )


def _sync_tree(folder: Path) -> None:
    """Every file and folder under ``folder`` written to the disk."""
    for root, folders, files in os.walk(folder):
        for name in [*files, *folders, "."]:
            path = os.path.join(root, name)
            if os.path.islink(path) or not (os.path.isfile(path) or os.path.isdir(path)):
                continue  # a link, or the server's socket
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def _copy(cursor: Any, table: str, columns: str, lines: Iterator[str]) -> None:
    """COPY rows given as tab-separated lines (no tab, newline or backslash in the data)."""
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        block = io.StringIO()
        for number, line in enumerate(lines, 1):
            block.write(line)
            if number % 20_000 == 0:
                copy.write(block.getvalue())
                block = io.StringIO()
        copy.write(block.getvalue())


# A spread of the case number n (from 0), in 64-bit integers: _casebook.py's ``h`` for the
# SQLite casebook, so both databases hold the same cases (here without safeguarding ones).
def _spread(salt: int) -> str:
    return f"(((g.n * 2654435761 + {salt * 40503}) % 4294967291) * 48271 % 2147483647)"


def _case_rows(count: int, people_count: int) -> str:
    """The cases, made by the server from a counter (no row is made in Python): case n's id
    is n + 1, its year follows n through seven years, and spreads of n give its topic,
    platform, status, standards, author, dates and follow-up, as in _casebook.py."""
    minutes = 60 * 24 * 365 * 6
    h = _spread
    sql = f"""
        INSERT INTO cases (id, reference, ref_year, ref_number, title, summary, platform,
            post_url, account_handle, posted_at, reported_on, reported_by, status,
            follow_up_due, categories, poster, search_text, code_version, created_at,
            updated_at, last_activity_at, version)
        SELECT r.n + 1, r.reference, r.year, r.n + 1, r.title, '', r.platform, '',
            '@user' || r.n, r.at, r.at::date, 'Office', r.status, r.due, r.categories,
            a.name, lower(r.reference || ' ' || r.title || ' ' || r.platform || ' @user' || r.n)
                || ' ' || a.words,
            '1.0', r.at, r.at, r.at, 1
        FROM (
            SELECT g.n, g.year, g.person,
                date_trunc('second', :now::timestamp - ({h(1)} % {minutes}) * interval '1 minute')
                    + ({h(2)} % 1000000) * interval '1 microsecond' AS at,
                'SM-' || g.year || '-'
                    || lpad((g.n + 1)::text, greatest(4, length((g.n + 1)::text)), '0')
                    AS reference,
                (:topics::text[])[1 + {h(4)} % :topic_count] || ' #' || g.n AS title,
                (:platforms::text[])[1 + {h(5)} % :platform_count] AS platform,
                (:statuses::text[])[1 + {h(6)} % :status_count] AS status,
                CASE WHEN {h(7)} % 10 < 6 THEN :today::date + ({h(8)} % 60 - 30)::int END AS due,
                (:mixes::text[])[1 + {h(10)} % :mix_count] AS categories
            FROM (
                SELECT n, 2020 + n * 7 / {count} AS year, 1 + {h(3)} % {people_count} AS person
                FROM generate_series(0::bigint, {count - 1}) AS g(n)
            ) AS g
        ) AS r
        JOIN pg_temp.authors AS a ON a.id = r.person
    """
    # psycopg's placeholders for the :names; the modulo operators doubled for it.
    return re.sub(r"(?<!:):([a-z_]+)\b", r"%(\1)s", sql.replace("%", "%%"))


# The standards of a case: one (three times as likely) or two of those below, as
# _casebook.py's mixes (a quarter of cases breach two); no safeguarding case, which the
# first sign-in would seal.
def _mixes() -> list[frozenset[Category]]:
    plain = [c for c in Category if c is not Category.SAFEGUARDING]
    return [frozenset({c}) for c in plain] * 3 + [
        frozenset({a, b}) for n, a in enumerate(plain) for b in plain[n + 1 :]
    ]


def _bulk_load(address: str, count: int, audit: int) -> None:
    """The cases (made by the server) and the audit entries (chained in Python) loaded at
    the same time, then the indexes made on ``INDEX_BUILDERS`` connections, the longest
    first, beside the cases' standards, authors and totals."""
    import psycopg

    dsn = address.replace("+psycopg", "")
    tables = ("cases", "case_categories", "case_people", "people", "audit_entries")
    with psycopg.connect(dsn, autocommit=True) as connection:
        # Indexes are made again once the rows are in: sorting a million keys once is
        # several times quicker than keeping every index up to date row by row.
        deferred = connection.execute(
            "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (list(tables),),
        ).fetchall()
    linked = ("case_categories", "case_people")
    on_cases = [(name, sql) for table, name, sql in deferred if table in ("cases", "people")]
    on_links = [(name, sql) for table, name, sql in deferred if table in linked]
    on_audit = [(name, sql) for table, name, sql in deferred if table == "audit_entries"]
    started = time.perf_counter()

    def links() -> None:
        _load_links(dsn, count, on_links)
        for name, sql in on_links:
            _make_index(dsn, name, sql)

    with ThreadPoolExecutor(max_workers=INDEX_BUILDERS) as pool:

        def cases_then_the_rest() -> list[Any]:
            _load_cases(dsn, count, on_cases + on_links)
            print(f"  cases in: {time.perf_counter() - started:.1f} s", flush=True)
            # The two inverted indexes take longest (the word starts' the longest of all):
            # they start first, and the rest follow on whichever connection is free.
            first = _longest_first(on_cases)
            return [
                *(pool.submit(_make_index, dsn, name, sql) for name, sql in first[:2]),
                pool.submit(_fill_tallies, dsn),
                pool.submit(links),
                *(pool.submit(_make_index, dsn, name, sql) for name, sql in first[2:]),
            ]

        # The server makes the cases while this process chains the audit entries.
        cases_in = pool.submit(cases_then_the_rest)
        _load_audit(dsn, audit, on_audit)
        print(f"  audit entries chained and copied: {time.perf_counter() - started:.1f} s")
        made = [pool.submit(_make_index, dsn, name, sql) for name, sql in on_audit]
        made += cases_in.result()
        for future in made:
            future.result()
    print(f"  loaded and indexed: {time.perf_counter() - started:.1f} s", flush=True)
    with psycopg.connect(dsn, autocommit=True) as connection:
        t0 = time.perf_counter()
        before = _server_seconds(connection)
        # VACUUM sets the visibility map, so counts are answered from indexes alone.
        connection.execute("VACUUM (ANALYZE)")
        used = _server_seconds(connection) - before
        print(f"  vacuum and analyse: {time.perf_counter() - t0:.1f} s ({used:.1f} s cpu)")


def _load_cases(dsn: str, count: int, deferred: list[tuple[str, str]]) -> None:
    """The people and the cases, in one transaction."""
    import psycopg

    t0 = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None)
    people_count = max(10, count // 20)
    rng = random.Random(count)
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}" for i in range(people_count)]
    when_now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    with psycopg.connect(dsn, autocommit=False) as connection:
        cursor = connection.cursor()
        # Foreign keys are not checked row by row while loading (the rows are made whole).
        cursor.execute("SET session_replication_role = replica")
        for name, _sql in deferred:
            cursor.execute(f'DROP INDEX "{name}"')
        # Emptied in this transaction: with wal_level=minimal the rows skip the log.
        cursor.execute("TRUNCATE people, cases, case_categories, case_people CASCADE")
        _copy(
            cursor, "people",
            "id, name, name_key, kind, address, postcode, email, phone, relationship, "
            "created_at, updated_at",
            (
                f"{i + 1}\t{name}\t{name.casefold()}\tparent\t1 Example Lane\tWA10 1AA\t\t\t"
                f"Parent\t{when_now}\t{when_now}\n"
                for i, name in enumerate(names)
            ),
        )  # fmt: skip
        cursor.execute("CREATE TEMP TABLE authors (id integer PRIMARY KEY, name text, words text)")
        _copy(cursor, "pg_temp.authors", "id, name, words",
              (f"{i + 1}\t{name}\t{fold(name)}\n" for i, name in enumerate(names)))  # fmt: skip
        cursor.execute("ANALYZE pg_temp.authors")
        topics = [topic.capitalize() for topic in TOPICS]
        platforms = known_platforms()
        statuses = [s.value for s in CaseStatus]
        codes = [encode_categories(mix) for mix in _mixes()]
        cursor.execute(
            _case_rows(count, people_count),
            {
                "now": now, "today": date.today(),
                "topics": topics, "topic_count": len(topics),
                "platforms": platforms, "platform_count": len(platforms),
                "statuses": statuses, "status_count": len(statuses),
                "mixes": codes, "mix_count": len(codes),
            },
        )  # fmt: skip
        for table in ("cases", "people"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        _commit_step(connection, "cases made", t0)


def _load_links(dsn: str, count: int, deferred: list[tuple[str, str]]) -> None:
    """The cases' standards and authors, from the cases (their indexes dropped earlier)."""
    import psycopg

    t0 = time.perf_counter()
    people_count = max(10, count // 20)
    members = sorted({(encode_categories(mix), c.value) for mix in _mixes() for c in mix})
    with psycopg.connect(dsn, autocommit=False) as connection:
        cursor = connection.cursor()
        cursor.execute("SET session_replication_role = replica")
        # Emptied (again) in this transaction, so that the rows skip the log.
        cursor.execute("TRUNCATE case_categories, case_people")
        cursor.execute(
            "INSERT INTO case_categories (case_id, category) SELECT c.id, m.category "
            "FROM cases c JOIN unnest(%s::text[], %s::text[]) AS m(code, category) "
            "ON m.code = c.categories ORDER BY c.id, m.category",
            ([code for code, _ in members], [category for _, category in members]),
        )
        cursor.execute(
            "INSERT INTO case_people (case_id, person_id, role, created_at) "
            f"SELECT c.id, 1 + {_spread(3).replace('g.n', '(c.id - 1)')} % {people_count}, "
            "'author', c.created_at FROM cases c ORDER BY c.id"
        )
        _commit_step(connection, "standards and authors", t0)


def _load_audit(dsn: str, audit: int, deferred: list[tuple[str, str]]) -> None:
    import psycopg

    rng = random.Random(audit)
    with psycopg.connect(dsn, autocommit=False) as connection:
        cursor = connection.cursor()
        cursor.execute("SET session_replication_role = replica")
        for name, _sql in deferred:
            cursor.execute(f'DROP INDEX "{name}"')
        _copy_audit(cursor, audit, rng)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_entries', 'id'), "
            "(SELECT max(id) FROM audit_entries))"
        )
        connection.commit()


def _longest_first(deferred: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The inverted (GIN) indexes first, the word starts' before the trigrams': each takes
    20-30 s of processor time over the million, the others under one."""
    return sorted(
        deferred,
        key=lambda item: (" USING gin " not in item[1], "casebook_word_starts" not in item[1]),
    )


def _make_index(address: str, name: str, sql: str) -> None:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(address.replace("+psycopg", ""), autocommit=True) as connection:
        before = _server_seconds(connection)
        connection.execute(sql)
        used = _server_seconds(connection) - before
    if os.environ.get("VERBOSE"):
        print(f"  {time.perf_counter() - started:6.2f} s ({used:5.2f} s cpu) {name}", flush=True)


def _commit_step(connection: Any, step: str, started: float) -> None:
    """Commit a build step's transaction and print its time and the server's processor time."""
    connection.commit()
    print(
        f"  {step}: {time.perf_counter() - started:.1f} s "
        f"({_server_seconds(connection):.1f} s cpu)",
        flush=True,
    )


def _server_seconds(connection: Any) -> float:
    """The processor time the server process serving ``connection`` has used so far (on
    this machine; 0 where it cannot be read): the build's figures are shared out by load,
    this is what each step costs."""
    pid = connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_total_seconds(cluster: Path) -> float:
    """The processor time of the whole server so far: the postmaster's own and that of the
    server processes which have ended (0 where it cannot be read)."""
    try:
        pid = int((cluster / "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _fill_tallies(dsn: str) -> None:
    """The totals the triggers keep (migration 0025), counted once: the cases were made
    with triggers off."""
    import importlib

    import psycopg

    migration = importlib.import_module("app.db.migrations.versions.0025_postgres_tallies")
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=False) as connection:
        for table in (
            "case_tally_changes",
            "case_tally_totals",
            "case_activity_changes",
            "case_activity_totals",
        ):
            connection.execute(f"DELETE FROM {table}")
        connection.execute(migration.FILL)
        connection.execute(migration.DAY_FILL)
        connection.commit()
        used = _server_seconds(connection)
    print(f"  totals counted: {time.perf_counter() - t0:.1f} s ({used:.1f} s cpu)", flush=True)


def _copy_audit(cursor: Any, count: int, rng: random.Random) -> None:
    """Audit entries chained and MACed as the app writes them, on from the set-up's.

    The chain is the app's (``entry_hash``, ``entry_mac``, ``next_entry_key``) written out
    for these plain fields (no quote, backslash or control character to escape): the same
    hashes at a third of the cost; the first entry is checked against the app's own.
    """
    from app.security.audit_chain import entry_key_after, entry_mac, next_entry_key
    from app.services.audit import entry_hash

    cursor.execute("SELECT count(*), max(seq) FROM audit_entries")
    existing, last_seq = cursor.fetchone()
    cursor.execute("SELECT hash FROM audit_entries WHERE seq = %s", (last_seq,))
    prev = cursor.fetchone()[0]
    cursor.execute("SELECT key_seq, entry_key FROM audit_seal WHERE id = 1")
    key_seq, entry_key = cursor.fetchone()
    key = entry_key_after(bytes.fromhex(entry_key), 0)
    seq = max(last_seq, key_seq - 1)
    first_seq, first_prev, first_key = seq + 1, prev, key
    sha256, hmac_digest = hashlib.sha256, hmac.digest
    ratchet = b"conduct-casebook audit ratchet\0"
    randrange, choice = rng.randrange, rng.choice
    # Whole seconds on from 1 September 2019, 08:00 UTC: the text of each time is made from
    # a few integers rather than through a datetime.
    first_day, total, days, when, year = date(2019, 9, 1).toordinal(), 8 * 3600, -1, "", 0
    block: list[str] = []
    chunk = 20_000
    with cursor.copy(
        'COPY audit_entries (seq, at, "user", action, target, detail, prev_hash, hash, mac) '
        "FROM STDIN"
    ) as copy:
        for _ in range(count - existing):
            seq += 1
            total += randrange(20, 200)
            if total // 86_400 != days:
                days = total // 86_400
                day = date.fromordinal(first_day + days)
                when, year = day.isoformat(), day.year
            moment = total % 86_400
            clock = f"{moment // 3600:02d}:{moment // 60 % 60:02d}:{moment % 60:02d}"
            user, action = choice(USERS), choice(ACTIONS)
            target = f"SM-{year}-{randrange(1, 40_000):04d}"
            payload = f'["{prev}",{seq},"{when}T{clock}+00:00","{user}","{action}","{target}",""]'
            digest = sha256(payload.encode()).hexdigest()
            mac = hmac_digest(key, f"audit entry\0{seq}\0{digest}".encode(), "sha256").hex()
            block.append(
                f"{seq}\t{when} {clock}\t{user}\t{action}\t{target}\t\t{prev}\t{digest}\t{mac}\n"
            )
            if seq == first_seq:
                at = datetime.fromisoformat(f"{when}T{clock}+00:00")
                assert digest == entry_hash(first_prev, seq, at, user, action, target, "")
                assert mac == entry_mac(first_key, seq, digest)
                assert sha256(ratchet + key).digest() == next_entry_key(key)
            key = sha256(ratchet + key).digest()
            prev = digest
            if len(block) == chunk:
                copy.write("".join(block))
                block = []
        copy.write("".join(block))
    cursor.execute(
        "UPDATE audit_seal SET key_seq = %s, entry_key = %s WHERE id = 1", (seq + 1, key.hex())
    )


# ----- measuring -------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(pc: Path, address: str) -> dict[str, list[float]]:
    """The warm figures: the window's case list, the counts, and the audit trail window."""
    from PySide6.QtWidgets import QApplication

    from app.domain.records import CaseFilter, CaseSort
    from app.ui.app import make_application
    from app.ui.dialogs.audit_trail import AuditTrailDialog
    from app.ui.main_window import MainWindow

    app = make_application(["bench"])
    services = open_signed_in(pc, database_url=address)
    window = MainWindow(services)
    window.resize(1280, 800)
    window.show()
    QApplication.processEvents()
    # What the window does once it is painted (the first case opened beside the list) and
    # a second later on a worker (the sealed cases' words opened, app.ui.app's
    # prepare_search_soon) is done before the first keystroke, as it is before a person
    # types: otherwise the first keystroke's figure is the start's work.
    while not window.after_first_paint.done:
        QApplication.processEvents()
    services.cases.prepare_search()
    QApplication.processEvents()
    lst = window.case_list
    figures: dict[str, list[float]] = {
        "keystroke": [], "filter": [], "select": [], "page": [], "counts": [], "audit": [],
    }  # fmt: skip

    def repaint() -> None:
        lst.table.viewport().repaint()
        QApplication.processEvents()

    for typed in TYPED:

        def keystroke(typed: str = typed) -> None:
            lst.search.setText(typed)
            lst.apply_filter()
            repaint()

        figures["keystroke"].append(timed(keystroke))
        if os.environ.get("VERBOSE"):
            print(f"  {typed!r}: {figures['keystroke'][-1]:.1f} ms, {lst.counts_label.text()}")
    for index in range(lst.status_filter.count()):
        figures["filter"].append(
            timed(lambda index=index: (lst.status_filter.setCurrentIndex(index), repaint()))
        )
    lst.status_filter.setCurrentIndex(0)
    for case_id in [1 + step * 99_991 for step in range(10)]:
        figures["select"].append(timed(lambda case_id=case_id: lst.select_case(case_id)))
        if os.environ.get("VERBOSE"):
            print(f"  select case {case_id}: {figures['select'][-1]:.1f} ms", flush=True)
    rows = services.cases.list_cases(CaseFilter(), CaseSort(), 250_000, 200)
    keyset = services.cases.pages_by_keyset(CaseSort())
    for number in range(10):
        after = rows[-1].id
        started = time.perf_counter()
        if keyset:
            rows = services.cases.list_cases(CaseFilter(), CaseSort(), limit=200, after=after)
        else:  # where keyset paging is not offered, the page by its position (OFFSET)
            rows = services.cases.list_cases(CaseFilter(), CaseSort(), 250_200 + number * 200)
        figures["page"].append((time.perf_counter() - started) * 1000)
    if not keyset:
        print("  (next page read by OFFSET: keyset paging is not offered here)")
    for _ in range(5):
        figures["counts"].append(timed(lambda: services.cases.counts(CaseFilter(), shown=0)))
    for _ in range(3):

        def audit_window() -> None:
            dialog = AuditTrailDialog(services)
            dialog.show()
            dialog.table.viewport().repaint()
            QApplication.processEvents()
            assert dialog.model.rowCount() > 0
            dialog.close()

        figures["audit"].append(timed(audit_window) / 1000)
    window.close()
    settle(app)
    services.close()
    return figures


def settle(app: Any) -> None:
    """Let the workers the window and its dialogs started finish, and their answers be
    delivered and the closed windows deleted, before the process ends.

    An answer still queued at exit is destroyed by Qt's own clean-up while it holds the
    queue's lock; the window it refers to then asks for that lock to drop its own queued
    events, and the process waits on itself for ever (``make bench-scale`` hung there).
    """
    from PySide6.QtCore import QEvent, QThreadPool

    pools = [QThreadPool.globalInstance(), *app.findChildren(QThreadPool)]
    for widget in app.topLevelWidgets():
        pools.extend(widget.findChildren(QThreadPool))
        widget.deleteLater()
    # Polled: a blocking wait could hold the interpreter lock a worker needs to finish.
    while any(pool.activeThreadCount() for pool in pools):
        time.sleep(0.01)
    for _ in range(3):
        app.processEvents()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(f"Machine: {os.cpu_count()} cores, {load()}", flush=True)
    started = time.perf_counter()
    chosen = args[args.index("--folder") + 1] if "--folder" in args else None
    folder = cached_cluster(folder=Path(chosen).resolve() if chosen else None)
    print(f"Casebook ready in {time.perf_counter() - started:.1f} s ({folder})", flush=True)
    if "--build-only" in args:
        return 0
    with running_server(folder / "cluster") as port:
        address = url(port)
        if "--keep-running" in args:
            print(f"Running: {address} (data folder {folder / 'pc'}); Ctrl+C stops it.")
            # A stop sent to a background run stops the server too.
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        env = unattended_start_env(address)
        starts = []
        for _ in range(3):
            starts.append(seconds_to_first_paint(folder / "pc", env))
            print(f"  start to first paint: {starts[-1]:.2f} s", flush=True)
        figures = measure(folder / "pc", address)
    median, worst = statistics.median, max
    pg = "PostgreSQL, 1,000,000 cases"
    met = [
        figure(f"{pg}: start to first painted list (median of 3)", median(starts), "s", START_S,
               kind=WHOLE_PROCESS),
        figure(f"{pg}: search keystroke, median of 14", median(figures["keystroke"]), "ms",
               KEYSTROKE_MEDIAN_MS),
        figure(f"{pg}: search keystroke, worst of 14", worst(figures["keystroke"]), "ms",
               KEYSTROKE_WORST_MS),
        figure(f"{pg}: status filter change, median of 9", median(figures["filter"]), "ms",
               FILTER_MS),
        figure(f"{pg}: selecting a case far down the list, median of 10",
               median(figures["select"]), "ms", SELECT_MS),
        figure(f"{pg}: next page while scrolling, median of 10", median(figures["page"]), "ms",
               FILTER_MS),
        figure(f"{pg}: total, open and overdue counts, median of 5", median(figures["counts"]),
               "ms", FILTER_MS),
        figure("PostgreSQL, 1,000,000 audit entries: audit trail window to first page, "
               "median of 3", median(figures["audit"]), "s", AUDIT_FIRST_PAGE_S),
    ]  # fmt: skip
    for name, values in figures.items():
        print(f"  {name}: " + ", ".join(f"{value:.0f}" for value in values))
    ok = all(met)
    print(f"After: {load()}")
    print("All targets met." if ok else "Some targets NOT met.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
