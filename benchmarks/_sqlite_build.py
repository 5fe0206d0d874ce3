"""The benchmarks' large SQLite casebooks, built by bulk insert on two processes at once.

A casebook of ``count`` fictional cases (benchmarks/million.py: a million) is made as the
app would have made it, but in bulk. A case's number picks its topic, platform, status,
standards, author and dates through stable hashes, so that both processes make the same
cases without passing them to each other:

- the builder (this process) signs the head teacher up, then writes the people, the cases,
  their standards and authors, the status bar's tallies and every index into the
  casebook, in one transaction whose page cache holds every page until the commit
  encrypts and writes it once;
- a helper, forked before the head teacher is signed up, builds the two search indexes
  (FTS5: trigrams and words) of the same search texts in a file of its own, encrypted
  with a key made for the build; the builder then copies their tables in (``INSERT ...
  SELECT`` across ``ATTACH``, which SQLite does page by page when the tables match).
  FTS5 keeps nothing outside its tables, so the copy is the index the app's triggers would
  have made (the tests run FTS5's own integrity check on it, and compare every search with
  a casebook made through the services).

A safeguarding case (one in ``SAFEGUARDING_EVERY``) is stored sealed to the head teacher's
safeguarding key, as the app seals one when it is written: the builder seals its words
and hands the sealed search texts to the helper, so that both indexes hold what the
casebook stores. The triggers that keep the search indexes and tallies are made last, as
the migrations made them. Where ``fork`` is missing (Windows) the helper's part runs in
this process after the builder's.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
from _casebook import FIRST, LAST, TOPICS, set_up

from app.db.engine import connect_encrypted
from app.domain.categories import Category, decode_categories, encode_categories
from app.domain.people import name_key
from app.domain.platforms import known_platforms
from app.domain.search import fold
from app.domain.status import CaseStatus
from app.security.crypto import DataKey, seal_text_to

# One case in this many is a safeguarding case.
SAFEGUARDING_EVERY = 500
# Each process's page cache while building (KiB): more than all it writes (the builder's
# part of a million cases is about 0.8 GB), so no page is spilled to the file, read back
# and encrypted again. Pages are taken only as they are used.
BUILD_CACHE_KIB = 3_000_000
# FTS5 options while each search index is built, put back to FTS5's defaults after. FTS5
# writes a segment for every "hashsize" of words and keeps merging them. Measured on the
# million cases (processor time, each against FTS5's defaults in one run, load 13-16): the
# word index with 64 MB and no merging 20.2 -> 13.4 s (16 MB: 16.2 s); the trigram index
# with 16 MB 34.2 -> 32.0 s (64 MB made it slower: 48.3 s). Merging the trigram index's
# segments 16 at a time (one segment left) or all at the end cost more than FTS5's four
# at a time (8 segments left): 29.9 s and 28.2 s against 25.0 s, in one run at load 13-15.
FTS_BUILD_OPTIONS: dict[str, tuple[tuple[str, int], ...]] = {
    "case_search": (("hashsize", 16 << 20),),
    "case_words": (("hashsize", 64 << 20), ("automerge", 0)),
}
SEARCH_INDEXES = tuple(FTS_BUILD_OPTIONS)
# The tables FTS5 keeps an external-content index in (the index is nothing but these).
FTS_TABLES = ("data", "idx", "docsize", "config")
# The tallies of cases by status, follow-up date (or day of last activity) and kind, as
# migration 0021 fills them (the tests compare the build's with these).
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
# Six years of minutes: how far back a case's last activity may be.
MINUTES = 60 * 24 * 365 * 6
CASE_INSERT = (
    "INSERT INTO cases (id, reference, ref_year, ref_number, title, summary, platform, "
    "post_url, account_handle, posted_at, reported_on, reported_by, status, follow_up_due, "
    "categories, poster, search_text, code_version, created_at, updated_at, last_activity_at, "
    "version) VALUES (?1, ?2, ?3, ?1, ?4, '', ?5, '', ?6, ?7, substr(?7, 1, 10), ?8, ?9, "
    "?10, ?11, ?12, ?13, '1.0', ?7, ?7, ?7, 1)"
)
PERSON_INSERT = (
    "INSERT INTO people (id, name, name_key, address, postcode, relationship, search_name, "
    "kind, email, phone, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'parent', '', '', ?8, ?8)"
)
# A person's details as the bulk build writes them (the app's own form: name_key and
# search_name as app.services.people.write_person sets them).
PERSON_DETAILS = {"address": "1 Example Lane", "postcode": "WA10 1AA", "relationship": "Parent"}


class Steps:
    """Each step's wall and processor time, printed with VERBOSE."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.verbose = bool(os.environ.get("VERBOSE"))
        self.started = time.perf_counter()
        self.cpu = time.process_time()

    def __call__(self, label: str) -> None:
        if self.verbose:
            print(
                f"  {self.name:7} {time.perf_counter() - self.started:6.2f} s "
                f"(cpu {time.process_time() - self.cpu:6.2f} s) {label}",
                flush=True,
            )


def _spread(count: int, salt: int) -> Any:
    """A stable spread of the case numbers 0..count-1 (the same on every build)."""
    n = np.arange(count, dtype=np.int64)
    return (n * 2654435761 + salt * 40503) % 4294967291 * 48271 % 2147483647


class Cases:
    """The fictional cases, from their numbers (0..count-1, a case's id is its number + 1)
    and the moment of the build: the same in both processes. Each column is made when first
    asked for, so each process makes only what it writes."""

    def __init__(self, count: int, now: datetime) -> None:
        self.count = count
        self.now = now
        self.stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        rng = random.Random(count)
        self.names = [
            f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}" for i in range(max(10, count // 20))
        ]
        self.topics = [topic.capitalize() for topic in TOPICS]
        self.platforms = known_platforms()
        plain = [c for c in Category if c is not Category.SAFEGUARDING]
        # A quarter of cases breach two standards, the rest one; safeguarding cases are
        # alone, or with abusive posts (the last two).
        mixes = [frozenset({c}) for c in plain] * 3 + [
            frozenset({a, b}) for n, a in enumerate(plain) for b in plain[n + 1 :]
        ]
        mixes += [
            frozenset({Category.SAFEGUARDING}),
            frozenset({Category.SAFEGUARDING, Category.ABUSIVE}),
        ]
        self.mixes = [encode_categories(mix) for mix in mixes]
        self.members = [sorted(c.value for c in decode_categories(m)) for m in self.mixes]

    def make(self, *columns: str) -> None:
        """Make these columns now."""
        for column in columns:
            getattr(self, column)

    @cached_property
    def person(self) -> list[int]:
        """The index (in ``names``) of each case's author."""
        return (_spread(self.count, 3) % len(self.names)).tolist()  # type: ignore[no-any-return]

    @cached_property
    def topic(self) -> list[int]:
        return (_spread(self.count, 4) % len(self.topics)).tolist()  # type: ignore[no-any-return]

    @cached_property
    def platform(self) -> list[int]:
        return (_spread(self.count, 5) % len(self.platforms)).tolist()  # type: ignore[no-any-return]

    @cached_property
    def status(self) -> list[str]:
        statuses = [s.value for s in CaseStatus]
        return [statuses[k] for k in (_spread(self.count, 6) % len(statuses)).tolist()]

    @cached_property
    def due(self) -> list[str | None]:
        """Six cases in ten have a follow-up date, within a month either side of today."""
        today = date.today()
        dues = [(today + timedelta(days=d - 30)).isoformat() for d in range(60)]
        has_due = (_spread(self.count, 7) % 10 < 6).tolist()
        due = (_spread(self.count, 8) % 60).tolist()
        return [dues[d] if has else None for d, has in zip(due, has_due, strict=True)]

    @cached_property
    def safeguarding(self) -> list[int]:
        """The numbers of the safeguarding cases."""
        return np.flatnonzero(_spread(self.count, 9) % SAFEGUARDING_EVERY == 0).tolist()  # type: ignore[no-any-return]

    @cached_property
    def mix(self) -> list[int]:
        """The index (in ``mixes``) of each case's standards."""
        spread = _spread(self.count, 10)
        plain = len(self.mixes) - 2
        mix = spread % plain
        mix[self.safeguarding] = plain + spread[self.safeguarding] % 2
        return mix.tolist()  # type: ignore[no-any-return]

    @cached_property
    def at(self) -> list[str]:
        """When each case was opened (and last active): up to six years back, to the
        microsecond, as the app stores a time."""
        latest = np.datetime64(self.now.replace(microsecond=0), "s")
        moments = latest - (_spread(self.count, 1) % MINUTES) * np.timedelta64(60, "s")
        micro = (_spread(self.count, 2) % 1_000_000).tolist()
        return [
            f"{moment[:10]} {moment[11:]}.{us:06d}"
            for moment, us in zip(
                np.datetime_as_string(moments, unit="s").tolist(), micro, strict=True
            )
        ]

    @cached_property
    def year(self) -> list[int]:
        """The numbers run through seven years."""
        return (2020 + np.arange(self.count, dtype=np.int64) * 7 // self.count).tolist()  # type: ignore[no-any-return]

    def reference(self, k: int) -> str:
        return f"SM-{self.year[k]:04d}-{k + 1:04d}"

    def title(self, k: int) -> str:
        return f"{self.topics[self.topic[k]]} #{k}"

    @cached_property
    def search_text(self) -> list[str]:
        """The list's search text of each case, in clear, as the app computes it
        (app.services.listing: reference, title, platform, handle and author, folded).
        Folding works word by word, so each pool's words are folded once."""
        topics = [fold(t) for t in self.topics]
        platforms = [fold(p) for p in self.platforms]
        names = [fold(name) for name in self.names]
        return [
            f"sm-{year:04d}-{k + 1:04d} {topics[t]} #{k} {platforms[p]} @user{k} {names[a]}"
            for k, (year, t, p, a) in enumerate(
                zip(self.year, self.topic, self.platform, self.person, strict=True)
            )
        ]

    def sealed_search_texts(self, public: bytes) -> dict[int, str]:
        """The safeguarding cases' search texts, sealed as the app stores them."""
        return {
            k: seal_text_to(public, self.search_text[k], "cases.search_text")
            for k in self.safeguarding
        }

    def rows(self, public: bytes, search: dict[int, str]) -> list[tuple[object, ...]]:
        """The cases' rows for ``CASE_INSERT``; a safeguarding case's words sealed (its
        search text as given in ``search``)."""
        names, mixes, platforms = self.names, self.mixes, self.platforms
        rows: list[tuple[object, ...]] = [
            (k + 1, f"SM-{year:04d}-{k + 1:04d}", year, self.title(k), platforms[p],
             f"@user{k}", at, "Office", status, due, mixes[mix], names[a], text)
            for k, (year, p, at, status, due, mix, a, text) in enumerate(
                zip(self.year, self.platform, self.at, self.status, self.due, self.mix,
                    self.person, self.search_text, strict=True)
            )
        ]  # fmt: skip
        for k in self.safeguarding:
            row = list(rows[k])
            for place, column in ((3, "title"), (5, "account_handle"), (7, "reported_by"),
                                  (11, "poster")):  # fmt: skip
                row[place] = seal_text_to(public, str(row[place]), f"cases.{column}")
            row[12] = search[k]
            rows[k] = tuple(row)
        return rows

    def searched(self, search: dict[int, str]) -> list[tuple[int, str]]:
        """(id, stored search text) of every case, as the search indexes take them;
        ``search`` holds the safeguarding cases' sealed search texts."""
        texts = list(self.search_text)
        for k, sealed in search.items():
            texts[k] = sealed
        return list(enumerate(texts, start=1))

    def authors(self) -> list[tuple[int, int]]:
        """(case id, person id) of every case's author."""
        return list(zip(range(1, self.count + 1), (a + 1 for a in self.person), strict=True))

    def members_of(self) -> list[tuple[str, str]]:
        """(stored standards, one standard) of every mix of standards (some mixes are
        listed more than once, to be drawn more often)."""
        return sorted(
            {(code, c) for code, mix in zip(self.mixes, self.members, strict=True) for c in mix}
        )

    def people(self, public: bytes) -> list[tuple[object, ...]]:
        """The people's rows for ``PERSON_INSERT``: a person named only by safeguarding
        cases stored sealed, as the app seals them."""
        person = np.array(self.person)
        everyday = np.ones(self.count, dtype=bool)
        everyday[self.safeguarding] = False
        named = set(person.tolist())
        sealed = named - set(person[everyday].tolist())
        rows: list[tuple[object, ...]] = []
        for i, name in enumerate(self.names):
            key = name_key(name)
            words = {"name": name, "name_key": key, **PERSON_DETAILS, "search_name": fold(key)}
            if i in sealed:
                words = {
                    column: seal_text_to(public, value, f"people.{column}")
                    for column, value in words.items()
                }
            rows.append((i + 1, words["name"], words["name_key"], words["address"],
                         words["postcode"], words["relationship"], words["search_name"],
                         self.stamp))  # fmt: skip
        return rows

    def tallies(self) -> tuple[list[tuple[str, str, int, int]], list[tuple[str, str, int, int]]]:
        """The status bar's tallies (``TALLY_FILL``, ``DAY_TALLY_FILL``), counted here."""
        guarded = [int(Category.SAFEGUARDING.value in code) for code in self.mixes]
        kinds = [guarded[mix] for mix in self.mix]
        by_due = Counter(zip(self.status, (due or "" for due in self.due), kinds, strict=True))
        by_day = Counter(zip(self.status, (at[:10] for at in self.at), kinds, strict=True))
        return (
            [(*key, cases) for key, cases in sorted(by_due.items())],
            [(*key, cases) for key, cases in sorted(by_day.items())],
        )


def _building(connection: Any) -> None:
    """One transaction at a time kept in memory: no journal (a failed build is thrown
    away whole), no syncing, and a cache that holds every page until the commit writes it
    once."""
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
    connection.execute("PRAGMA temp_store = MEMORY")
    connection.execute("PRAGMA secure_delete = OFF")  # nothing is deleted while building
    connection.execute("PRAGMA foreign_keys = OFF")
    # Sorting for an index may use a second thread: once the other process has finished,
    # its core is free.
    connection.execute("PRAGMA threads = 2")


def _fts_options(connection: Any, index: str) -> None:
    """Fewer segments to write and merge (FTS_BUILD_OPTIONS); the casebook gets FTS5's
    defaults back once the index is in."""
    for option, value in FTS_BUILD_OPTIONS[index]:
        connection.execute(f"INSERT INTO {index}({index}, rank) VALUES ('{option}', {value})")


def _without_fts_options(connection: Any, index: str) -> None:
    options = ", ".join(f"'{option}'" for option, _value in FTS_BUILD_OPTIONS[index])
    connection.execute(f"DELETE FROM main.{index}_config WHERE k IN ({options})")


def _open_parts(path: Path, key: DataKey) -> Any:
    """The helper's file: encrypted with the build's own key, without SQLCipher's page
    authentication (it lives for a minute, in the building folder, and is read once)."""
    connection = connect_encrypted(path, key)
    connection.execute("PRAGMA cipher_use_hmac = OFF")
    return connection


def build_search_indexes(
    path: Path, key: DataKey, cases: Cases, inbox: Callable[[], tuple[list[str], dict]]
) -> None:
    """The helper's part: the search indexes of the cases, in a new file at ``path``.
    ``inbox`` gives the casebook's definitions of the indexes and the safeguarding cases'
    sealed search texts, once the builder has them."""
    step = Steps("helper")
    cases.make("search_text")  # while the head teacher is signed up
    step("search texts made")
    definitions, search = inbox()
    step("definitions and sealed search texts received")
    connection = _open_parts(path, key)
    try:
        _building(connection)
        connection.execute("BEGIN")
        connection.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, search_text TEXT)")
        connection.executemany("INSERT INTO cases VALUES (?, ?)", cases.searched(search))
        step("search texts")
        for index, sql in zip(SEARCH_INDEXES, definitions, strict=True):
            connection.execute(sql)
            _fts_options(connection, index)
            connection.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
            step(f"{index} built")
        connection.execute("COMMIT")
        step("written")
    finally:
        connection.close()


class Helper:
    """The helper's part running in a forked process (or, without ``fork``, in this one
    when waited for)."""

    def __init__(self, work: Callable[[Callable[[], Any]], None]) -> None:
        self.work = work
        self.process: Any = None
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self.receiving, self.sending = context.Pipe(duplex=False)
            # A daemon: ended with this process should the build fail before it is done.
            self.process = context.Process(target=work, args=(self.receiving.recv,), daemon=True)
            self.process.start()

    def send(self, message: Any) -> None:
        if self.process is None:
            self.message = message
        else:
            self.sending.send(message)

    def stop(self) -> None:
        """End the helper if it is still at work (the build failed)."""
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join()

    def wait(self) -> None:
        if self.process is None:
            self.work(lambda: self.message)
            return
        self.process.join()
        if self.process.exitcode != 0:
            raise RuntimeError(f"the build's helper process failed ({self.process.exitcode})")


def _fill(building: Path, cases: Cases, helper: Helper, parts: Path, parts_key: DataKey) -> None:
    """The builder's part (see the module's docstring)."""
    step = Steps("builder")
    count = cases.count
    services = set_up(building)
    key = services.data_key
    public = services.keys.holder.get_head_public()
    assert key is not None and public is not None
    database = services.paths.database
    services.close()
    step("set up (head teacher signed up)")
    search = cases.sealed_search_texts(public)
    connection = connect_encrypted(database, key)
    try:
        definitions = [
            sql
            for index in SEARCH_INDEXES
            for (sql,) in connection.execute(
                "SELECT sql FROM sqlite_master WHERE name = ?", (index,)
            )
        ]
        helper.send((definitions, search))
        step("sealed search texts sent to the helper")
        rows, people = cases.rows(public, search), cases.people(public)
        authors, members = cases.authors(), cases.members_of()
        by_due, by_day = cases.tallies()
        step(f"{count:,} cases made")
        _building(connection)
        connection.execute("BEGIN")
        tables = ("cases", "case_categories", "case_people")
        deferred = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN {tables!r}"
        ).fetchall()
        for kind, name, _sql in deferred:
            connection.execute(f'DROP {kind.upper()} "{name}"')
        connection.executemany(PERSON_INSERT, people)
        connection.executemany(CASE_INSERT, rows)
        del rows, people
        step("people and cases")
        # Each case's standards, in the order of their primary key, made inside SQLite.
        connection.execute(
            "CREATE TEMP TABLE members (code TEXT, category TEXT, PRIMARY KEY (code, category))"
        )
        connection.executemany("INSERT INTO members VALUES (?, ?)", members)
        connection.execute(
            "INSERT INTO case_categories (case_id, category) SELECT c.id, m.category "
            "FROM cases c JOIN members m ON m.code = c.categories ORDER BY c.id, m.category"
        )
        connection.executemany(
            "INSERT INTO case_people (case_id, person_id, role, created_at) "
            "VALUES (?1, ?2, 'author', (SELECT created_at FROM cases WHERE id = ?1))",
            authors,
        )
        del authors
        step("standards and authors")
        connection.execute("DELETE FROM case_tallies")
        connection.executemany("INSERT INTO case_tallies VALUES (?, ?, ?, ?)", by_due)
        connection.execute("DELETE FROM case_activity_tallies")
        connection.executemany("INSERT INTO case_activity_tallies VALUES (?, ?, ?, ?)", by_day)
        step("tallies")
        del cases
        for kind, name, sql in deferred:
            if kind == "index":
                connection.execute(sql)
                step(f"index {name}")
        connection.execute("COMMIT")
        step("written")
        helper.wait()
        step("helper done")
        # The helper's file has no page authentication (see _open_parts).
        connection.execute("PRAGMA cipher_default_use_hmac = OFF")
        try:
            connection.execute(
                f"ATTACH DATABASE ? AS parts KEY {parts_key.sqlcipher_key()}", (str(parts),)
            )
        finally:
            connection.execute("PRAGMA cipher_default_use_hmac = ON")
        connection.execute("BEGIN")
        for index in SEARCH_INDEXES:
            for table in FTS_TABLES:
                # Whole tables copied page by page (SQLite's transfer of matching tables).
                connection.execute(f"DELETE FROM main.{index}_{table}")
                connection.execute(
                    f"INSERT INTO main.{index}_{table} SELECT * FROM parts.{index}_{table}"
                )
            _without_fts_options(connection, index)
        step("search indexes copied in")
        for kind, _name, sql in deferred:
            if kind == "trigger":
                connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE parts")
        step("written")
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()


def build(building: Path, count: int) -> None:
    """Fill a new casebook in ``building`` with ``count`` cases, as the app would have made
    them, signed up by the head teacher; print the time it took."""
    started, cpu_started = time.perf_counter(), time.process_time()
    children = os.times()
    building.mkdir(parents=True, exist_ok=True)
    cases = Cases(count, datetime.now(UTC).replace(tzinfo=None))
    parts, parts_key = building / "build-parts.sqlite3", DataKey.new()
    # Forked before any database is open: the helper makes the search texts while the
    # head teacher is signed up here.
    helper = Helper(partial(build_search_indexes, parts, parts_key, cases))
    try:
        _fill(building, cases, helper, parts, parts_key)
    finally:
        helper.stop()
        parts.unlink(missing_ok=True)
    wall = time.perf_counter() - started
    ended = os.times()
    cpu = (
        time.process_time()
        - cpu_started
        + ended.children_user
        + ended.children_system
        - children.children_user
        - children.children_system
    )
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    print(
        f"Built a casebook of {count:,} cases by bulk insert in {wall:.1f} s "
        f"(target < 60 s; ratio {wall / 60:.2f}; {cpu:.1f} s of processor time"
        f"{' on two processes' if helper.process is not None else ''}; load average {load}).",
        flush=True,
    )
