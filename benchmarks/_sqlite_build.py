"""The benchmarks' large SQLite casebooks, built by bulk insert on two processes at once.

A casebook of ``count`` fictional cases (benchmarks/million.py: a million) is made as the
app would have made it, but in bulk:

- the rows are made in Python from pools (a case's number picks its topic, platform,
  status, standards, author and dates through stable hashes), the list's search text as
  the app computes it, and each safeguarding case's words sealed to the head teacher's
  safeguarding key as the app seals them when such a case is written;
- one process (the builder) writes the cases, their standards and authors, the status
  bar's tallies and every index into the casebook, in one transaction with a page cache
  large enough that each page is encrypted and written once, at the commit;
- the other (a forked child) builds the two search indexes (FTS5, trigram and words) from
  the same search texts in a file of its own, encrypted with the same key; the builder
  then copies their tables across (``ATTACH``). FTS5 keeps nothing outside its tables,
  so the copy is the index the app's triggers would have made (the tests run FTS5's own
  integrity check on it).

The triggers that keep the search indexes and tallies are made last, as the migrations
made them. Where ``fork`` is missing (Windows) the search indexes are built in turn.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
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
# Each process's page cache while building (KiB): large enough for everything it writes
# (the builder's cases and indexes are about 0.7 GB at a million cases), so no page is
# spilled to the file, read back and encrypted again. Pages are kept only as far as used.
BUILD_CACHE_KIB = 3_000_000
# FTS5 options while each search index is built, put back to FTS5's defaults after. FTS5
# writes a segment for every megabyte of words (its "hashsize") and keeps merging them.
# Measured on the million cases (processor time, each against FTS5's defaults in one run,
# load 13-16): the word index with 64 MB and no merging 20.2 -> 13.4 s (16 MB: 16.2 s);
# the trigram index with 16 MB 34.2 -> 32.0 s (64 MB made it slower: 48.3 s).
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
                f"  {self.name:8} {time.perf_counter() - self.started:6.2f} s "
                f"(cpu {time.process_time() - self.cpu:6.2f} s) {label}",
                flush=True,
            )


def _spread(count: int, salt: int) -> Any:
    """A stable spread of the case numbers 0..count-1 (the same on every build)."""
    n = np.arange(count, dtype=np.int64)
    return (n * 2654435761 + salt * 40503) % 4294967291 * 48271 % 2147483647


class Cases:
    """The fictional cases, made in Python from pools; the same on every build of ``count``
    (the dates follow the day it is built)."""

    def __init__(self, count: int, public: bytes) -> None:
        self.count = count
        rng = random.Random(count)
        people = max(10, count // 20)
        self.names = [f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}" for i in range(people)]
        self.now = datetime.now(UTC).replace(tzinfo=None)
        self.stamp = self.now.strftime("%Y-%m-%d %H:%M:%S.%f")
        topics = [topic.capitalize() for topic in TOPICS]
        platforms = known_platforms()
        statuses = [s.value for s in CaseStatus]
        plain = [c for c in Category if c is not Category.SAFEGUARDING]
        # A quarter of cases breach two standards, the rest one; safeguarding cases (one in
        # SAFEGUARDING_EVERY) are alone, or with abusive posts.
        mixes = [frozenset({c}) for c in plain] * 3 + [
            frozenset({a, b}) for n, a in enumerate(plain) for b in plain[n + 1 :]
        ]
        guarded = [
            frozenset({Category.SAFEGUARDING}),
            frozenset({Category.SAFEGUARDING, Category.ABUSIVE}),
        ]
        self.mixes = [encode_categories(mix) for mix in mixes + guarded]
        self.members = [sorted(c.value for c in decode_categories(m)) for m in self.mixes]
        today = date.today()
        dues = [(today + timedelta(days=d - 30)).isoformat() for d in range(60)]

        n = np.arange(count, dtype=np.int64)
        self.person = (_spread(count, 3) % people).tolist()
        topic = (_spread(count, 4) % len(topics)).tolist()
        platform = (_spread(count, 5) % len(platforms)).tolist()
        self.status = [statuses[k] for k in (_spread(count, 6) % len(statuses)).tolist()]
        has_due = (_spread(count, 7) % 10 < 6).tolist()
        due = (_spread(count, 8) % 60).tolist()
        self.due = [dues[d] if has else None for d, has in zip(due, has_due, strict=True)]
        safeguarding = _spread(count, 9) % SAFEGUARDING_EVERY == 0
        mix = _spread(count, 10)
        self.mix = np.where(safeguarding, len(mixes) + mix % 2, mix % len(mixes)).tolist()
        self.safeguarding = set(np.flatnonzero(safeguarding).tolist())
        # The last activity: up to six years back, to the microsecond.
        latest = np.datetime64(self.now.replace(microsecond=0), "s")
        moments = latest - (_spread(count, 1) % MINUTES) * np.timedelta64(60, "s")
        micro = (_spread(count, 2) % 1_000_000).tolist()
        self.at = [
            f"{moment[:10]} {moment[11:]}.{us:06d}"
            for moment, us in zip(
                np.datetime_as_string(moments, unit="s").tolist(), micro, strict=True
            )
        ]
        years = (2020 + n * 7 // count).tolist()
        self.reference = [f"SM-{year:04d}-{k + 1:04d}" for k, year in enumerate(years)]
        self.year = years
        self.title = [f"{topics[t]} #{k}" for k, t in enumerate(topic)]
        self.platform = [platforms[p] for p in platform]
        # The list's search text as the app computes it (app.services.listing): reference,
        # title, platform, handle and author, folded. Folding works word by word, so each
        # pool's words are folded once.
        folded_topics = [fold(t) for t in topics]
        folded_platforms = [fold(p) for p in platforms]
        folded_names = [fold(name) for name in self.names]
        self.search_text = [
            f"{self.reference[k].lower()} {folded_topics[t]} #{k} {folded_platforms[p]} "
            f"@user{k} {folded_names[a]}"
            for k, (t, p, a) in enumerate(zip(topic, platform, self.person, strict=True))
        ]
        # A safeguarding case's words are stored sealed, as the app writes them.
        self.sealed: dict[int, dict[str, str]] = {}
        for k in sorted(self.safeguarding):
            words = {
                "title": self.title[k],
                "account_handle": f"@user{k}",
                "reported_by": "Office",
                "poster": self.names[self.person[k]],
                "search_text": self.search_text[k],
            }
            self.sealed[k] = {
                column: seal_text_to(public, value, f"cases.{column}")
                for column, value in words.items()
            }
            self.search_text[k] = self.sealed[k]["search_text"]
        # A person named only by safeguarding cases is sealed too (app.db.sealing).
        self.public = public

    def searched(self) -> list[tuple[int, str]]:
        """(id, stored search text) of every case, as the search indexes take them."""
        return list(enumerate(self.search_text, start=1))

    def rows(self) -> list[tuple[object, ...]]:
        """The cases' rows for ``CASE_INSERT``."""
        rows: list[tuple[object, ...]] = []
        sealed = self.sealed
        names = self.names
        mixes = self.mixes
        for k, (
            reference,
            year,
            title,
            platform,
            at,
            status,
            due,
            mix,
            person,
            search,
        ) in enumerate(
            zip(
                self.reference,
                self.year,
                self.title,
                self.platform,
                self.at,
                self.status,
                self.due,
                self.mix,
                self.person,
                self.search_text,
                strict=True,
            )
        ):
            words = sealed.get(k)
            if words is None:
                rows.append(
                    (k + 1, reference, year, title, platform, f"@user{k}", at, "Office",
                     status, due, mixes[mix], names[person], search)
                )  # fmt: skip
            else:
                rows.append(
                    (k + 1, reference, year, words["title"], platform, words["account_handle"],
                     at, words["reported_by"], status, due, mixes[mix], words["poster"], search)
                )  # fmt: skip
        return rows

    def standards(self) -> list[tuple[int, str]]:
        """(case id, category) of every case, in the order of their primary key."""
        members = self.members
        return [(k + 1, c) for k, mix in enumerate(self.mix) for c in members[mix]]

    def authors(self) -> list[tuple[int, int, str]]:
        """(case id, person id, created at) of every case's author."""
        return [
            (k + 1, person + 1, at)
            for k, (person, at) in enumerate(zip(self.person, self.at, strict=True))
        ]

    def people(self) -> list[tuple[object, ...]]:
        """The people's rows for ``PERSON_INSERT``: a person named only by safeguarding
        cases stored sealed, as the app seals them."""
        only_guarded = set(range(len(self.names)))
        for k, person in enumerate(self.person):
            if k not in self.safeguarding:
                only_guarded.discard(person)
        authors = set(self.person)
        rows: list[tuple[object, ...]] = []
        for i, name in enumerate(self.names):
            key = name_key(name)
            words = {
                "name": name,
                "name_key": key,
                "address": "1 Example Lane",
                "postcode": "WA10 1AA",
                "relationship": "Parent",
                "search_name": fold(key),
            }
            if i in only_guarded and i in authors:
                words = {
                    column: seal_text_to(self.public, value, f"people.{column}")
                    for column, value in words.items()
                }
            rows.append((i + 1, *words.values(), self.stamp))
        return rows

    def tallies(self) -> tuple[list[tuple[str, str, int, int]], list[tuple[str, str, int, int]]]:
        """The status bar's tallies (``TALLY_FILL``, ``DAY_TALLY_FILL``), counted here."""
        guarded = [int("safeguarding" in code) for code in self.mixes]
        kinds = [guarded[mix] for mix in self.mix]
        by_due = Counter(zip(self.status, (due or "" for due in self.due), kinds, strict=True))
        by_day = Counter(zip(self.status, (at[:10] for at in self.at), kinds, strict=True))
        return (
            [(*key, cases) for key, cases in sorted(by_due.items())],
            [(*key, cases) for key, cases in sorted(by_day.items())],
        )


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


def _building(connection: Any) -> None:
    """One transaction kept in memory: no journal (a failed build is thrown away whole),
    no syncing, and a cache that holds every page until the commit writes it once."""
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
    connection.execute("PRAGMA temp_store = MEMORY")
    connection.execute("PRAGMA secure_delete = OFF")  # nothing is deleted while building
    connection.execute("PRAGMA foreign_keys = OFF")


def build_search_indexes(
    path: Path, key: DataKey, definitions: Sequence[str], searched: list[tuple[int, str]]
) -> None:
    """Build the search indexes (``definitions``, FTS5 over ``cases``) of these search
    texts in a new encrypted file of their own, for the builder to copy into the casebook."""
    step = Steps("search")
    connection = connect_encrypted(path, key)
    try:
        _building(connection)
        connection.execute("BEGIN")
        connection.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, search_text TEXT)")
        connection.executemany("INSERT INTO cases VALUES (?, ?)", searched)
        step(f"{len(searched):,} search texts")
        for sql in definitions:
            connection.execute(sql)
        for index in SEARCH_INDEXES:
            # Fewer segments to write and merge (FTS_BUILD_OPTIONS); the casebook gets
            # FTS5's defaults back once the index is copied in.
            for option, value in FTS_BUILD_OPTIONS[index]:
                connection.execute(
                    f"INSERT INTO {index}({index}, rank) VALUES ('{option}', {value})"
                )
            connection.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
            step(f"rebuild {index}")
        connection.execute("COMMIT")
        step("written")
    finally:
        connection.close()


def _in_child(work: Callable[[], None]) -> Callable[[], None]:
    """Run ``work`` in a forked process now; the returned call waits for it (or, without
    ``fork``, runs it then)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return work
    process = multiprocessing.get_context("fork").Process(target=work, daemon=True)
    process.start()

    def wait() -> None:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"building the search indexes failed ({process.exitcode})")

    return wait


def build(building: Path, count: int) -> None:
    """Fill a new casebook in ``building`` with ``count`` cases, as the app would have made
    them (one in ``SAFEGUARDING_EVERY`` a safeguarding case, sealed), signed up by the head
    teacher; print the time it took."""
    started, cpu_started = time.perf_counter(), time.process_time()
    children = os.times()
    step = Steps("builder")
    services = set_up(building)
    key = services.data_key
    public = services.keys.holder.get_head_public()
    assert key is not None and public is not None
    database = services.paths.database
    services.close()
    step("set up (head teacher signed up)")
    cases = Cases(count, public)
    step(f"{count:,} cases made")

    connection = connect_encrypted(database, key)
    try:
        definitions = [
            sql
            for (sql,) in connection.execute(
                "SELECT sql FROM sqlite_master WHERE name IN (?, ?) ORDER BY name",
                SEARCH_INDEXES,
            )
        ]
        tables = ("cases", "case_categories", "case_people")
        deferred = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN {tables!r}"
        ).fetchall()
    finally:
        connection.close()  # the child is forked with no connection open
    search_file = building / "search-indexes.sqlite3"
    wait = _in_child(partial(build_search_indexes, search_file, key, definitions, cases.searched()))
    connection = connect_encrypted(database, key)
    try:
        _building(connection)
        connection.execute("BEGIN")
        for kind, name, _sql in deferred:
            connection.execute(f'DROP {kind.upper()} "{name}"')
        connection.executemany(PERSON_INSERT, cases.people())
        step("people")
        connection.executemany(CASE_INSERT, cases.rows())
        step("cases")
        connection.executemany("INSERT INTO case_categories VALUES (?, ?)", cases.standards())
        connection.executemany(
            "INSERT INTO case_people (case_id, person_id, role, created_at) "
            "VALUES (?, ?, 'author', ?)",
            cases.authors(),
        )
        step("standards and authors")
        by_due, by_day = cases.tallies()
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
        wait()
        step("search indexes built")
        connection.execute(
            f"ATTACH DATABASE ? AS built KEY {key.sqlcipher_key()}", (str(search_file),)
        )
        for index in SEARCH_INDEXES:
            for table in FTS_TABLES:
                connection.execute(f"DELETE FROM main.{index}_{table}")
                connection.execute(
                    f"INSERT INTO main.{index}_{table} SELECT * FROM built.{index}_{table}"
                )
            # FTS5's defaults back: the casebook is configured as the app's own.
            options = ", ".join(f"'{option}'" for option, _value in FTS_BUILD_OPTIONS[index])
            connection.execute(f"DELETE FROM main.{index}_config WHERE k IN ({options})")
        step("search indexes copied in")
        for kind, _name, sql in deferred:
            if kind == "trigger":
                connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE built")
        step("written")
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()
    search_file.unlink(missing_ok=True)
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
        f"(target < 60 s; ratio {wall / 60:.2f}; {cpu:.1f} s of processor time on two "
        f"processes; load average {load}).",
        flush=True,
    )
