"""The test clusters of a run that was killed are stopped and removed by the next run; a
live run's cluster, and a folder just being made, are left alone. A run's workers share one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.postgres_server import (
    ABANDONED_AFTER,
    OWNER,
    PREFIX,
    RUN_SETTING,
    PostgresServer,
    reap_abandoned_clusters,
)


def _cluster(folder: Path, name: str, owner: str | None = None, age: float = 0.0) -> Path:
    root = folder / (PREFIX + name)
    (root / "cluster").mkdir(parents=True)
    (root / "log").write_text("")
    if owner is not None:
        (root / OWNER).write_text(owner)
    if age:
        old = time.time() - age
        for path in (root / "cluster", root / "log", root):
            os.utime(path, (old, old))
    return root


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="a process's start time is read from /proc"
)
def test_only_the_clusters_of_ended_runs_are_reaped(tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = _cluster(tmp_path, "dead", owner=f"{ended.stdout.strip()} ")
    live = _cluster(tmp_path, "live", owner=f"{os.getpid()} ")
    # This process's number with another start time: a later process given the same number.
    reused = _cluster(tmp_path, "reused", owner=f"{os.getpid()} 1")
    old = _cluster(tmp_path, "old-without-owner", age=ABANDONED_AFTER + 60)
    new = _cluster(tmp_path, "being-made")  # no owner file yet, no server yet
    serving = _cluster(tmp_path, "old-but-serving", age=ABANDONED_AFTER + 60)
    (serving / "cluster" / "postmaster.pid").write_text(f"{os.getpid()}\n")
    other = tmp_path / "something-else"
    other.mkdir()

    reaped = reap_abandoned_clusters(Path("/nonexistent"), [], folders=[tmp_path])

    assert sorted(reaped) == sorted([dead, reused, old])
    assert not dead.exists() and not reused.exists() and not old.exists()
    assert live.exists() and new.exists() and serving.exists() and other.exists()


def test_a_runs_workers_share_one_cluster_that_outlives_each_of_them(
    postgres_server: PostgresServer,
) -> None:
    """Another worker of this run (a process given the run's folder) is handed the running
    cluster, not a new one, and leaving does not stop it: the run's owner does, at the end."""
    assert postgres_server.root == Path(os.environ[RUN_SETTING])
    worker = (
        "from tests.postgres_server import shared_postgres\n"
        "servers = shared_postgres()\n"
        "server = next(servers)\n"
        "server.drop_database(server.new_database())\n"
        "print(server.port, server.root)\n"
        "servers.close()\n"
    )
    other = subprocess.run([sys.executable, "-c", worker], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parents[2])  # fmt: skip
    assert other.stdout.split() == [str(postgres_server.port), str(postgres_server.root)]
    # Still serving this worker after the other has gone.
    assert postgres_server.new_database().startswith("postgresql+psycopg://")
