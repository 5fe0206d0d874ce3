"""Kill the command line with SIGKILL at random moments while it works; nothing may be lost.

Each kill is followed by a full check of the data folder: SQLite's own integrity check,
every evidence and letter row against its blob's SHA-256, no temporary file left after
the start-up sweep, and every acknowledged change still there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db.engine import connect_encrypted
from app.db.models import CaseRecord, EvidenceRecord, LetterRecord
from app.evidence.blobstore import TEMP_PREFIX
from tests.conftest import folder_key, open_signed_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = int(os.environ.get("CASEBOOK_CRASH_KILLS", "300"))
LANES = 2  # two data folders side by side: one per core
# Hang guards only, not speed targets: how long one command may take before the worker is
# taken for stuck, and how long a lane may run (a busy 2-core CI machine needs about 6 minutes).
ACK_WAIT = 120
LANE_TIME = 1500


def _start(data: Path, ack: Path, scratch: Path, seed: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CASEBOOK_USER": "Crash Tester",
        "CASEBOOK_PASSWORD": "demo",
        "PYTHONPATH": str(Path.cwd()),
    }
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(data), str(ack), str(scratch), seed],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line == "ready\n", process.stderr.read() if process.stderr else line
    return process


def _acknowledged(ack: Path) -> list[dict[str, object]]:
    if not ack.exists():
        return []
    return [json.loads(line) for line in ack.read_text(encoding="utf-8").splitlines() if line]


def _check(data: Path, ack: Path) -> dict[str, int]:
    connection = connect_encrypted(
        data / "casebook.sqlite3", folder_key(data, "Crash Tester", "demo")
    )
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    services = open_signed_in(data, "Crash Tester", "demo")  # runs the start-up sweep
    try:
        store = services.evidence.store
        assert not list(store.root.glob(f"{TEMP_PREFIX}*")), "a half-written blob survived"
        with services.ctx.sessions() as session:
            evidence = session.execute(select(EvidenceRecord.id, EvidenceRecord.sha256)).all()
            letters = session.execute(
                select(CaseRecord.reference, LetterRecord.pdf_sha256).join(
                    CaseRecord, CaseRecord.id == LetterRecord.case_id
                )
            ).all()
            cases = {
                ref: (title, summary)
                for ref, title, summary in session.execute(
                    select(CaseRecord.reference, CaseRecord.title, CaseRecord.summary)
                )
            }
            assert session.scalar(select(func.count()).select_from(CaseRecord)) == len(cases)
        for exhibit_id, sha in evidence:
            assert store.hash_of_stored(sha) == sha, f"evidence {exhibit_id} lost its file"
        for reference, sha in letters:
            assert store.hash_of_stored(sha) == sha, f"a letter on {reference} lost its PDF"
        evidence_ids = {row[0] for row in evidence}
        letters_by_case: dict[str, int] = {}
        for reference, _sha in letters:
            letters_by_case[reference] = letters_by_case.get(reference, 0) + 1
        wanted_letters: dict[str, int] = {}
        # Once an edit is acknowledged, a case shows it or an edit begun after it.
        allowed: dict[str, set[str]] = {}
        for entry in _acknowledged(ack):
            op, ref = entry["op"], str(entry["ref"])
            if op == "case":
                assert cases.get(ref, ("",))[0] == entry["title"], f"case {ref} was lost"
            elif op == "evidence":
                ids = entry["ids"]
                assert isinstance(ids, list)
                missing = set(ids) - evidence_ids
                assert not missing, f"exhibits {missing} on {ref} were lost"
            elif op == "letter":
                wanted_letters[ref] = wanted_letters.get(ref, 0) + 1
            elif op == "intent" and ref in allowed:
                allowed[ref].add(str(entry["summary"]))
            elif op == "edit":
                allowed[ref] = {str(entry["summary"])}
        for ref, count in wanted_letters.items():
            assert letters_by_case.get(ref, 0) >= count, f"a letter on {ref} was lost"
        for ref, summaries in allowed.items():
            assert cases[ref][1] in summaries, f"the edit to {ref} was lost"
        return {"cases": len(cases), "evidence": len(evidence), "letters": len(letters)}
    finally:
        services.close()


def _wait_for_acknowledgement(process: subprocess.Popen[str], ack: Path, before: int) -> None:
    """Until the worker acknowledges one more command (however slow the machine is)."""
    deadline = time.monotonic() + ACK_WAIT
    while len(_acknowledged(ack)) <= before:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"no command finished in {ACK_WAIT} s"
        time.sleep(0.02)


def _lane(root: Path, lane: int, kills: int) -> dict[str, int]:
    """Kill a worker at least ``kills`` times, until it has acknowledged ``kills`` commands
    (a letter among them).

    Most kills land at a random moment (start-up, the sweep, the middle of a command). How
    many commands finish between kills depends on the machine's speed, so whenever the lane
    has fewer acknowledged commands than kills, the next kill waits for one command to
    finish first and then lands a random moment into the next one: the work gets done on a
    slow machine too, and no kill is spent on nothing but start-up for ever.
    """
    rng = random.Random(8000 + lane)
    data, ack, scratch = root / "data", root / "ack.jsonl", root / "scratch"
    scratch.mkdir(parents=True)
    demo = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), "demo"],
        capture_output=True,
        text=True,
        env={**os.environ, "CASEBOOK_USER": "Crash Tester", "CASEBOOK_PASSWORD": "demo"},
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    figures: dict[str, int] = {}
    done = acknowledged = waited = 0
    lettered = False
    deadline = time.monotonic() + LANE_TIME
    while done < kills or acknowledged < kills or not lettered:
        assert time.monotonic() < deadline, (
            f"lane {lane} ran out of time after {done} kills and {acknowledged} acknowledged "
            "commands (nothing was lost)"
        )
        process = _start(data, ack, scratch, f"{lane}.{done}")
        if acknowledged < done or (done >= kills and not lettered):
            _wait_for_acknowledgement(process, ack, acknowledged)
            waited += 1
            time.sleep(rng.uniform(0, 0.15))
        else:
            # Mostly short waits, so kills land in start-up, the sweep and the first commands.
            time.sleep(rng.choice([rng.uniform(0, 0.15), rng.uniform(0, 1.0)]))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, process.stderr.read()
        process.stdout.close()
        process.stderr.close()
        done += 1
        figures = _check(data, ack)
        entries = _acknowledged(ack)
        acknowledged = len(entries)
        lettered = any(entry["op"] == "letter" for entry in entries)
        for leftover in scratch.iterdir():
            leftover.unlink()
    return {**figures, "kills": done, "acknowledged": acknowledged, "waited": waited}


def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    per_lane = -(-KILLS // LANES)
    started = time.monotonic()
    with ThreadPoolExecutor(LANES) as pool:
        results = list(pool.map(lambda n: _lane(tmp_path / f"lane{n}", n, per_lane), range(LANES)))
    kills = sum(r["kills"] for r in results)
    print(f"{kills} kills in {time.monotonic() - started:.0f} s: {results}")
    for figures in results:
        # The work really happened between kills, and every kill was checked.
        assert figures["kills"] >= per_lane
        assert figures["acknowledged"] >= per_lane
        assert figures["letters"] > 0
