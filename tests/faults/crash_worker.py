"""Does real work on a casebook through the command line, for ever, until it is killed.

Started by ``test_crash_safety.py``. After each command returns, one line goes to the
acknowledgement file (flushed and fsynced): everything acknowledged was committed, so it
must still be there after any kill. An edit writes its intended value first, so the check
can tell "changed but not yet acknowledged" from "lost".
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
from pathlib import Path

from PIL import Image

from app.cli import run
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from tests.conftest import open_signed_in


def _note(ack: Path, entry: dict[str, object]) -> None:
    with open(ack, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")
        out.flush()
        os.fsync(out.fileno())


def _cli(data: Path, *args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run(["--data-dir", str(data), *args])
    if code != 0:
        raise SystemExit(f"command {args[0]} failed with {code}")
    return out.getvalue()


def main() -> None:
    data, ack, scratch, seed = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    services = open_signed_in(data, "Crash Tester", "demo")
    try:
        rows = services.cases.list_cases(CaseFilter(), CaseSort("reference", False), 0, 50)
        refs = [row.reference for row in rows]
    finally:
        services.close()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    step = 0
    while True:
        step += 1
        tag = f"{seed}-{step}"
        action = rng.choice(["case", "evidence", "evidence", "letter", "edit"])
        if action == "case":
            title = f"Crash test case {tag}"
            reference = _cli(
                data, "case", "add", "--title", title, "--category", "abusive",
                "--posted-by", "Crash Test Poster",
            ).strip()  # fmt: skip
            _note(ack, {"op": "case", "ref": reference, "title": title})
            refs.append(reference)
        elif action == "evidence":
            picture = scratch / f"shot-{tag}.png"
            colour = tuple(rng.randrange(256) for _ in range(3))
            Image.new("RGB", (rng.randrange(40, 400), rng.randrange(40, 400)), colour).save(picture)
            reference = rng.choice(refs)
            ids = [int(x) for x in _cli(data, "evidence", "add", reference, str(picture)).split()]
            _note(ack, {"op": "evidence", "ref": reference, "ids": ids})
        elif action == "letter":
            reference = refs[0]
            _cli(
                data, "letter", reference, "--kind", "acknowledgement",
                "--out", str(scratch / f"letter-{tag}.pdf"), "--confirm-post-details",
            )  # fmt: skip
            _note(ack, {"op": "letter", "ref": reference})
        else:
            reference = rng.choice(refs)
            summary = f"Summary written at step {tag}"
            _note(ack, {"op": "intent", "ref": reference, "summary": summary})
            services = open_signed_in(data, "Crash Tester", "demo")
            try:
                case = services.cases.find_case(reference)
                draft = CaseDraft(
                    title=case.title,
                    categories=case.categories,
                    summary=summary,
                    platform=case.platform,
                    post_url=case.post_url,
                    account_handle=case.account_handle,
                    posted_at=case.posted_at,
                    reported_on=case.reported_on,
                    reported_by=case.reported_by,
                    follow_up_due=case.follow_up_due,
                )
                services.cases.update_case(case.id, draft, expected_version=case.version)
            finally:
                services.close()
            _note(ack, {"op": "edit", "ref": reference, "summary": summary})


if __name__ == "__main__":
    main()
