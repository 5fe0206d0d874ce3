"""The test clusters of a run that was killed are stopped and removed by the next run; a
live run's cluster, and a folder just being made, are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.postgres_server import ABANDONED_AFTER, OWNER, PREFIX, reap_abandoned_clusters


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
