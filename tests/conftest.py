"""Shared fixtures: a real casebook in a temporary folder, with a clock the test controls."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

# Window tests run without a display, however pytest is started.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Casebooks made by the tests (and by the commands they start) use a cheap Argon2 cost: the
# suite signs in hundreds of times. Only the tests set this; a casebook records its cost and
# one this cheap is refused as damaged wherever the setting is absent (tests/security/
# test_key_costs.py). `CASEBOOK_TESTS_ONLY_CHEAP_KDF=0 pytest` runs at the full cost.
os.environ.setdefault("CASEBOOK_TESTS_ONLY_CHEAP_KDF", "1")
# The tests' casebooks, clusters and files live in memory where the machine offers it
# (Linux's /dev/shm), for this process and every command and worker it starts: a casebook
# commits with synchronous=FULL, and on a shared disk each new casebook spent most of its
# half-second waiting for fsync. No test here is about the disk itself (power cuts are
# simulated by killing processes, which a RAM-backed file survives as a disk's does).
# TMPDIR set by whoever runs the tests wins. A run leaves about 0.6 GB there (pytest keeps
# the last three runs' folders), so a small /dev/shm (a container's 64 MB) is not used.
if (
    "TMPDIR" not in os.environ
    and os.access("/dev/shm", os.W_OK)
    and os.statvfs("/dev/shm").f_bavail * os.statvfs("/dev/shm").f_frsize >= 4 * 1024**3
):
    os.environ["TMPDIR"] = "/dev/shm"
    tempfile.tempdir = None  # worked out again, from TMPDIR, at its next use
# The run keeps compiled bytecode, as an installed program has it, even in a checkout set up
# with PYTHONDONTWRITEBYTECODE: without it each test worker rewrote and compiled every test
# module and the whole app from source at collection (about 5 s of CPU each), and each of the
# commands the tests start as real processes compiled the app again (benchmarks/_casebook.py
# does the same for the timed starts). The files go in __pycache__ folders, which git ignores.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    sys.dont_write_bytecode = False

from app.domain.categories import Category
from app.domain.records import CaseDetail, CaseDraft
from app.services.casebook import Services, open_casebook
from tests import garbage
from tests.answers import GENERATION
from tests.postgres_server import (
    PostgresServer,
    claim_run_folder,
    end_run_folder,
    shared_postgres,
)

# How long a test waits for work on another thread or process before calling it a hang, in
# milliseconds: room for a slow or loaded machine (a wait that is met returns at once), short
# of each test's own time limit (pyproject.toml's timeout, 120 s).
WAIT_MS = 100_000

Made = TypeVar("Made")

# A Tuesday in term time, late morning (GMT).
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ACTOR = "Mrs A. Head"


class Clock:
    """A clock the test can set and move; services read it through ``ctx.clock``."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# The folder of the run's PostgreSQL cluster, in pytest's own process (tests/postgres_server.py).
_RUN_FOLDER = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-durations",
        action="store_true",
        help="after a passing run, write each test file's time to tests/durations.json "
        "(the order in which the files are dealt to the workers: tests/scheduling.py)",
    )


class _WorkerEnd:
    """A test worker's process ends as soon as pytest has finished with it.

    By then the worker has sent its last report and run every other hook; what is left is
    the interpreter freeing the whole run's objects one by one and Qt tearing down, which
    kept the run waiting about 4 s at its end. The command line ends the same way
    (``_end_process`` in app/cli)."""

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        import logging

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        config.pluginmanager.register(_WorkerEnd(), "casebook-worker-end")
    else:  # pytest's own process, not one of its workers
        config.stash[_RUN_FOLDER] = claim_run_folder()
        if config.getoption("store_durations"):
            from tests.scheduling import DurationRecorder

            config.pluginmanager.register(DurationRecorder(), "casebook-durations")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` deals the longest test files first (tests/scheduling.py)."""
    if config.getoption("dist") != "loadfile":
        return None
    from tests.scheduling import longest_first_scheduler

    return longest_first_scheduler(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _RUN_FOLDER in config.stash:  # every worker has ended by now
        end_run_folder(config.stash[_RUN_FOLDER])


def pytest_sessionstart(session: pytest.Session) -> None:
    garbage.start()  # survivors of a full collection are left out of the next (tests/garbage.py)


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    garbage.between_tests()


def pytest_sessionfinish(session: pytest.Session) -> None:
    garbage.finish()


@pytest.fixture(scope="session", autouse=True)
def migrated_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every Alembic migration, run once per test worker on a real casebook; the casebooks
    the tests then make (in this process or in the commands it starts) get the schema it
    left, replayed from a record checked row by row against it (tests/schema_template.py).
    ``migrations_only`` runs the migrations again where a test is about them."""
    from tests.schema_template import TEST_SCHEMA_SETTING, write_record

    folder = tmp_path_factory.mktemp("migrated-once")
    os.environ.pop(TEST_SCHEMA_SETTING, None)
    migrated = open_casebook(folder / "casebook", actor=ACTOR)
    try:
        connection = connect_database(migrated)
        try:
            record = write_record(connection, folder / "schema.json")
        finally:
            connection.close()
    finally:
        migrated.close()
    os.environ[TEST_SCHEMA_SETTING] = str(record)
    yield folder / "casebook"
    os.environ.pop(TEST_SCHEMA_SETTING, None)


@pytest.fixture
def migrations_only() -> Iterator[None]:
    """New casebooks made during this test run every Alembic migration themselves."""
    from tests.schema_template import migrations_only

    with migrations_only():
        yield


@pytest.fixture(autouse=True)
def _forget_unused_dialog_answers() -> Iterator[None]:
    """After each test, answers still looking for a dialog stop (see tests/answers.py)."""
    yield
    GENERATION[0] += 1


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def actor() -> str:
    """Who the ``services`` fixture records against every change."""
    return ACTOR


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "casebook"


# Service and CLI test modules that run twice: on a SQLite file and on a PostgreSQL server.
BOTH_DATABASES = {
    "test_services_cases",
    "test_services_people",
    "test_services_demo",
    "test_letters",
    "test_send_letter",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "database_kind" in metafunc.fixturenames and module in BOTH_DATABASES:
        metafunc.parametrize("database_kind", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the whole run, shared by its workers."""
    yield from shared_postgres()


@pytest.fixture
def database_kind(request: pytest.FixtureRequest) -> str:
    """Which database this test's casebook is on, "sqlite" or "postgresql" (each in turn for
    the modules in BOTH_DATABASES), named without making one."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, database_kind: str) -> Iterator[str | None]:
    """None for a SQLite file in the data folder, else a fresh PostgreSQL database."""
    if database_kind == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def services(
    data_dir: Path, clock: Clock, actor: str, database_url: str | None
) -> Iterator[Services]:
    """A freshly created casebook (SQLite file, or PostgreSQL where parametrised)."""
    opened = open_casebook(data_dir, actor=actor, clock=clock, database_url=database_url)
    try:
        yield opened
    finally:
        opened.close()


def case_draft(
    title: str = "Rude comments about the school",
    categories: frozenset[Category] | set[Category] | None = None,
    **fields: Any,
) -> CaseDraft:
    """A valid draft; any field can be overridden."""
    return CaseDraft(
        title=title,
        categories=frozenset(categories or {Category.ABUSIVE}),
        **fields,
    )


@pytest.fixture
def make_case(services: Services) -> Callable[..., CaseDetail]:
    """Open a case through the service: ``make_case(title=..., categories=..., platform=...)``."""

    def make(
        title: str = "Rude comments about the school",
        categories: frozenset[Category] | set[Category] | None = None,
        **fields: Any,
    ) -> CaseDetail:
        return services.cases.open_case(case_draft(title, categories, **fields))

    return make


def reopen(services: Services, **options: Any) -> Services:
    """Open the same casebook again (as another process would), with its data key."""
    options.setdefault("database_url", services.database_url)
    return open_casebook(services.paths.root, key=services.data_key, **options)


def connect_database(services: Services) -> Any:
    """A raw SQLCipher connection to the casebook's database, as a test that tampers needs."""
    from app.db.engine import connect_encrypted

    key = services.data_key
    assert key is not None
    return connect_encrypted(services.paths.database, key)


def open_signed_in(data_dir: Path, user: str, password: str, **options: Any) -> Services:
    """Open an existing casebook as a user would: its database opens once they sign in."""
    services = open_casebook(data_dir, **options)
    try:
        services.users.sign_in(user, password)
    except BaseException:
        services.close()
        raise
    return services


def folder_key(data_dir: Path, user: str, password: str) -> Any:
    """The data key of a casebook folder, opened from its keyring with a user's password."""
    from app.security.keyring import KeyringFile, KeyringStore

    keyring = KeyringStore(KeyringFile(data_dir / "casebook.keys")).load()
    assert keyring is not None
    return keyring.open_with(user, password)


class SavedCasebook:
    """A casebook filled once (for a module's tests, say) and copied for each test.

    Filling one case by case for every test cost more than the tests; a copy of the whole
    data folder (the same encrypted database, key file and sealed files) opened with the
    same data key costs a file copy. On PostgreSQL the filled database is the template of
    each copy (``CREATE DATABASE ... TEMPLATE``, a copy of its files). A new casebook's
    process holds the safeguarding key until a head teacher signs up, so each copy's process
    is given it as well (as in tests/demo_casebook.py, whose test checks such a copy against
    a casebook filled afresh).
    """

    def __init__(self, services: Services, server: PostgresServer | None = None) -> None:
        """Close ``services`` and keep what opens a copy of it (``server``: the PostgreSQL
        cluster its database is on, when it is on one)."""
        self.url = services.database_url
        assert (self.url is None) == (server is None), "a server's casebook needs its server"
        self.server = server
        self.folder = services.paths.root
        self.key, self.head = services.keys.holder.key, services.keys.holder.head
        assert self.key is not None
        services.close()

    def copy_to(self, data_dir: Path, **options: Any) -> Services:
        """A copy in ``data_dir``, open as the original was when it was saved. A copy on
        PostgreSQL is given back with ``remove_copy``, which drops its database."""
        import shutil

        shutil.copytree(self.folder, data_dir)
        if self.server is not None:
            assert self.url is not None
            options["database_url"] = self.server.new_database(template=self.url)
        services = open_casebook(data_dir, key=self.key, **options)
        services.keys.holder.head = self.head
        return services

    def remove_copy(self, services: Services) -> None:
        """Close a copy made by ``copy_to`` (and drop its database, on a server)."""
        services.close()
        if self.server is not None and services.database_url is not None:
            self.server.drop_database(services.database_url)

    def remove(self) -> None:
        """Drop the saved database (on a server; a SQLite folder goes with its tmp_path)."""
        if self.server is not None and self.url is not None:
            self.server.drop_database(self.url)


def saved_casebook(
    request: pytest.FixtureRequest,
    database_kind: str,
    fill: Callable[[Services], None],
    *,
    clock: Clock | None = None,
) -> SavedCasebook:
    """A new casebook on ``database_kind``, filled by ``fill`` and saved for copying. The
    caller removes it (``SavedCasebook.remove``) when its tests are done."""
    folder = request.getfixturevalue("tmp_path_factory").mktemp("saved") / "casebook"
    server: PostgresServer | None = None
    url: str | None = None
    if database_kind == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.new_database()
    services = open_casebook(folder, actor=ACTOR, clock=clock or Clock(), database_url=url)
    try:
        fill(services)
    except BaseException:
        services.close()
        if server is not None and url is not None:
            server.drop_database(url)
        raise
    return SavedCasebook(services, server)


@dataclass(frozen=True)
class Filled(Generic[Made]):
    """A casebook filled once, what its filling returned, and its clock's time at the end."""

    saved: SavedCasebook
    made: Made
    moment: datetime


@pytest.fixture(scope="module")
def filled_per_database() -> Iterator[dict[str, Filled[Any]]]:
    """A test module's filled casebook on each database it runs on (``copy_of_filled``),
    removed when the module's tests are done."""
    filled: dict[str, Filled[Any]] = {}
    yield filled
    for each in filled.values():
        each.saved.remove()


@contextmanager
def copy_of_filled(
    request: pytest.FixtureRequest,
    fill: Callable[[Services, Clock], Made],
    *,
    kind: str,
    clock: Clock,
    actor: str,
) -> Iterator[tuple[Services, Made]]:
    """A copy of the casebook ``fill`` filled (with its own clock, from ``START``) on the
    database ``kind`` (the fixture asking for it takes ``database_kind``, so that its tests
    run on each database of BOTH_DATABASES), and what ``fill`` returned. The first test of
    the module to ask fills it; the others copy it. ``clock`` is set to where the filling
    left its own."""
    filled: dict[str, Filled[Made]] = request.getfixturevalue("filled_per_database")
    if kind not in filled:
        filling = Clock()
        made: list[Made] = []
        saved = saved_casebook(
            request, kind, lambda s: made.append(fill(s, filling)), clock=filling
        )
        filled[kind] = Filled(saved, made[0], filling.now)
    each = filled[kind]
    clock.set(each.moment)
    services = each.saved.copy_to(request.getfixturevalue("data_dir"), actor=actor, clock=clock)
    try:
        yield services, each.made
    finally:
        each.saved.remove_copy(services)


def new_or_saved_copy(
    request: pytest.FixtureRequest, data_dir: Path, actor: str, clock: Clock, *, copy_for: str
) -> Iterator[Services]:
    """A ``services`` fixture's casebook: a new one, or, for a test that asks for the
    fixture ``copy_for``, a copy of the one saved by ``saved_<copy_for>`` (so that every
    fixture of that test works on the same copy)."""
    if copy_for in request.fixturenames:
        saved = request.getfixturevalue(f"saved_{copy_for}")[0]
        opened = saved.copy_to(data_dir, actor=actor, clock=clock)
    else:
        opened = open_casebook(data_dir, actor=actor, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def examples(normal: int, in_ci: int) -> int:
    """How many examples a property test tries: fewer in the normal suite, which must stay
    quick, and more where CI (``CI=true``) runs every test."""
    return in_ci if os.environ.get("CI") else normal
