"""A throwaway PostgreSQL server for the tests: its own cluster in a temporary folder.

Made with ``initdb`` (Debian's ``postgresql`` package), listening on 127.0.0.1 only, its
letters classed as Unicode's (``C.UTF-8``, as a school's server in ``en_GB.UTF-8`` does), with
fsync off (the tests do not survive power cuts, the server under them need not either).
Each test gets a fresh database copied from a migrated template, which takes a few
milliseconds instead of running every migration again.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
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
        self.admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://casebook@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        """A new database copied from the migrated empty casebook, or from ``template`` (the
        URL of a filled one that nothing is connected to)."""
        name = f"casebook_{next(self._numbers)}"
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


def start_postgres() -> Iterator[PostgresServer]:
    """Start a cluster (skipping loudly where PostgreSQL cannot run; failing in CI)."""
    bin_dir = _binaries()
    if bin_dir is None:
        reason = "PostgreSQL is not installed (apt-get install postgresql): its tests did NOT run"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="casebook-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the cluster belongs to the postgres account.
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "cluster"
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, cwd=root)

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "casebook", "-E", "UTF8",
        "--locale=C", "--lc-ctype=C.UTF-8")  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=200"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
        "start")  # fmt: skip
    server = PostgresServer(root, port, as_user)
    try:
        server.prepare_template()
        yield server
    finally:
        server.admin.dispose()
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
