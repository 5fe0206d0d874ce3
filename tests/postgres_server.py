"""A throwaway PostgreSQL server for the tests: its own cluster in a temporary folder.

Made with ``initdb`` (Debian's ``postgresql`` package), listening on 127.0.0.1 only, its
letters classed as Unicode's (``C.UTF-8``, as a school's server in ``en_GB.UTF-8`` does), with
fsync off (the tests do not survive power cuts, the server under them need not either).
Each test gets a fresh database copied from a migrated template, which takes a few
milliseconds instead of running every migration again.

A run's test workers share one cluster (``shared_postgres``): each starting its own cost
about two and a half seconds apiece. The run's first process makes the cluster's folder and
is named its owner (``claim_run_folder``); the first worker to need a server starts it, under
a lock the others wait on; the owner stops it once every worker has ended
(``end_run_folder``), and a run killed before then leaves an owner file naming a process
that has ended, so the next run reaps it.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


def _binaries() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A running cluster; ``new_database()`` gives the URL of a fresh migrated casebook."""

    def __init__(self, root: Path, port: int, as_user: list[str]) -> None:
        self.root, self.port, self.as_user = root, port, as_user
        self._numbers = itertools.count(1)
        # Several processes make databases on a shared cluster: each names its own.
        self._prefix = f"casebook_{os.getpid()}_"
        self.admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://casebook@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        """A new database copied from the migrated empty casebook, or from ``template`` (the
        URL of a filled one that nothing is connected to)."""
        name = f"{self._prefix}{next(self._numbers)}"
        source = template.rsplit("/", 1)[1] if template else "casebook_template"
        with self.admin.connect() as connection:
            # Copying the template's files (its checkpoint costs little with fsync off) was
            # about twice as quick as PostgreSQL 15's default of logging every block.
            version = connection.execute(text("SHOW server_version_num")).scalar_one()
            strategy = " STRATEGY FILE_COPY" if int(version) >= 150000 else ""
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {source}{strategy}"))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Remove a test's database once it is done with, so the cluster stays small: a
        hundred copies left for the end took minutes to delete on a loaded machine."""
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def prepare_template(self) -> None:
        from app.db.engine import make_server_engine, migrate_server

        with self.admin.connect() as connection:
            connection.execute(text("CREATE DATABASE casebook_template"))
        engine = make_server_engine(self.url("casebook_template"))
        try:
            migrate_server(engine)
        finally:
            engine.dispose()


PREFIX = "casebook-pg-"
OWNER = "owner"  # in a cluster's folder: the process id (and its start) of the run that made it
ABANDONED_AFTER = 3600  # seconds: a folder older than this with no owner and no server is left over


def _process_start(pid: int) -> str:
    """When process ``pid`` started (Linux's clock ticks since boot), or "" where unknown:
    told apart from a later process given the same number."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(pid: int, started: str = "") -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    return not started or _process_start(pid) in ("", started)


def _server_pid(cluster: Path) -> int | None:
    try:
        return int((cluster / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def reap_abandoned_clusters(
    bin_dir: Path, as_user: list[str], folders: list[Path] | None = None
) -> list[Path]:
    """Stop and remove the clusters of test runs that were killed before they could (their
    folders held hundreds of megabytes each, some with a server still running). A cluster
    is abandoned when the run named in its owner file has ended, or, for a folder without
    one, when no server runs on it and nothing in it has changed for an hour. A live run's
    cluster is never touched."""
    reaped = []
    if folders is None:
        folders = sorted({Path(tempfile.gettempdir()), Path("/tmp"), Path("/dev/shm")})
    for folder in folders:
        for root in folder.glob(PREFIX + "*") if folder.is_dir() else ():
            cluster = root / "cluster"
            try:
                pid_text, _, started = (root / OWNER).read_text().partition(" ")
                owner_gone = not _alive(int(pid_text), started.strip())
            except (OSError, ValueError):
                server = _server_pid(cluster)
                newest = max(
                    (p.stat().st_mtime for p in (root, cluster, root / "log") if p.exists()),
                    default=0.0,
                )
                owner_gone = (server is None or not _alive(server)) and (
                    time.time() - newest > ABANDONED_AFTER
                )
            if not owner_gone:
                continue
            server = _server_pid(cluster)
            if server is not None and _alive(server):
                subprocess.run(
                    [*as_user, str(bin_dir / "pg_ctl"), "-D", str(cluster), "-m", "immediate",
                     "stop"], capture_output=True, check=False,
                )  # fmt: skip
            shutil.rmtree(root, ignore_errors=True)
            reaped.append(root)
    return reaped


def _as_user() -> list[str]:
    # PostgreSQL refuses to run as root: the cluster belongs to the postgres account.
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return ["runuser", "-u", "postgres", "--"] if as_root else []


def _bin_dir_or_skip() -> Path:
    """Where PostgreSQL's programs are (skipping loudly where it cannot run; failing in CI)."""
    bin_dir = _binaries()
    if bin_dir is None:
        reason = "PostgreSQL is not installed (apt-get install postgresql): its tests did NOT run"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return bin_dir


def _own(root: Path, as_user: list[str]) -> None:
    """Name this process the owner of ``root`` (and give the folder to the server's account)."""
    (root / OWNER).write_text(f"{os.getpid()} {_process_start(os.getpid())}")
    if as_user:
        shutil.chown(root, "postgres")


def _start_cluster(root: Path, bin_dir: Path, as_user: list[str]) -> int:
    """Make and start a cluster in ``root``/cluster; the port it listens on."""
    data = root / "cluster"
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, cwd=root)

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "casebook", "-E", "UTF8",
        "--locale=C", "--lc-ctype=C.UTF-8")  # fmt: skip
    # A run's workers share the cluster: room for each of them to hold as many connections
    # as one worker's cluster used to allow.
    options = f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=400"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
        "start")  # fmt: skip
    return port


def _stop_cluster(root: Path, bin_dir: Path, as_user: list[str]) -> None:
    """Stop the cluster in ``root`` (if one runs) and remove the folder."""
    if (root / "cluster" / "postmaster.pid").exists():
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(root / "cluster"), "-m", "immediate",
             "stop"], capture_output=True, check=False,
        )  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


def start_postgres() -> Iterator[PostgresServer]:
    """Start a cluster of this process's own, stopped when the generator is closed (a
    benchmark's; the tests share one a run, ``shared_postgres``)."""
    bin_dir = _bin_dir_or_skip()
    as_user = _as_user()
    reap_abandoned_clusters(bin_dir, as_user)
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    _own(root, as_user)
    port = _start_cluster(root, bin_dir, as_user)
    server = PostgresServer(root, port, as_user)
    try:
        server.prepare_template()
        yield server
    finally:
        server.admin.dispose()
        _stop_cluster(root, bin_dir, as_user)


RUN_SETTING = "CASEBOOK_TESTS_POSTGRES_FOLDER"  # the run's cluster folder, for its workers
READY = "ready"  # in a run's folder: the port of its cluster, once started and migrated


def claim_run_folder() -> Path:
    """Make this run's cluster folder, owned by this process (the run's first: pytest
    itself, before it starts any worker), and name it to the workers it will start."""
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    _own(root, _as_user())
    os.environ[RUN_SETTING] = str(root)
    return root


def end_run_folder(root: Path) -> None:
    """Stop the run's cluster, if a worker started one, once every worker has ended."""
    if os.environ.get(RUN_SETTING) == str(root):
        del os.environ[RUN_SETTING]
    bin_dir = _binaries()
    if bin_dir is None:
        shutil.rmtree(root, ignore_errors=True)
        return
    _stop_cluster(root, bin_dir, _as_user())


def shared_postgres() -> Iterator[PostgresServer]:
    """The run's cluster, started by the first process to ask for it; the others wait for
    it (a lock on a file in the run's folder) and then share it."""
    import fcntl  # PostgreSQL's tests run on Linux (a Windows run skips them above)

    bin_dir = _bin_dir_or_skip()
    as_user = _as_user()
    named = os.environ.get(RUN_SETTING)
    if not named or not Path(named).is_dir():  # not started by pytest's own process
        yield from start_postgres()
        return
    root = Path(named)
    with open(root / "lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                port = int((root / READY).read_text())
            except (OSError, ValueError):
                reap_abandoned_clusters(bin_dir, as_user)
                # A worker that died while starting it left half a cluster: start afresh.
                _stop_cluster_only(root, bin_dir, as_user)
                port = _start_cluster(root, bin_dir, as_user)
                starter = PostgresServer(root, port, as_user)
                try:
                    starter.prepare_template()
                finally:
                    starter.admin.dispose()
                (root / READY).write_text(str(port))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    server = PostgresServer(root, port, as_user)
    try:
        yield server
    finally:
        server.admin.dispose()  # the run's owner stops the cluster (end_run_folder)


def _stop_cluster_only(root: Path, bin_dir: Path, as_user: list[str]) -> None:
    """Stop and remove a cluster left half made in ``root``, keeping the folder itself."""
    data = root / "cluster"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, check=False,
        )  # fmt: skip
    shutil.rmtree(data, ignore_errors=True)
