"""Following a case through from the command line: the same commands, the same
consequences as the window (evidence ticks its action, escalation records its step, an
outcome offers to resolve), and the checklist, ladder and Today as JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from tests.e2e.conftest import CliDemos
from tests.e2e.test_cli import PASSWORD, USER, assert_refused, cli, set_up

CHECKLIST_FIELDS = {"id", "label", "done", "due", "overdue", "done_at", "done_by"}
LADDER_FIELDS = {"id", "label", "taken_at", "due"}
TODAY_FIELDS = {"reference", "id", "label", "due", "overdue"}


def _show(data: Path, reference: str) -> dict[str, Any]:
    shown = cli("case", "show", reference, "--json", data_dir=data)
    assert shown.returncode == 0, shown.stderr
    case: dict[str, Any] = json.loads(shown.stdout)
    return case


def _action(case: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(a for a in case["checklist"] if a["id"] == rule_id)


def _open(data: Path, *extra: str) -> str:
    opened = cli(
        "case", "add", "--title", "Comments about the head", "--category", "abusive", *extra,
        data_dir=data,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    return opened.stdout.strip()


def test_checklist_and_ladder_in_case_show(tmp_path: Path) -> None:
    data = set_up(tmp_path / "casebook")
    reference = _open(data)
    case = _show(data, reference)
    assert case["checklist"] and all(set(a) == CHECKLIST_FIELDS for a in case["checklist"])
    capture = _action(case, "capture-evidence")
    assert capture["done"] is False and capture["done_at"] is None and capture["due"]
    assert [step["id"] for step in case["ladder"]][:2] == ["first-letter", "follow-up-letter"]
    assert all(set(step) == LADDER_FIELDS for step in case["ladder"])
    assert "police" in [step["id"] for step in case["ladder"]]  # abusive: police applies


def test_adding_evidence_ticks_capture_evidence_end_to_end(tmp_path: Path) -> None:
    data = set_up(tmp_path / "casebook")
    reference = _open(data)
    picture = tmp_path / "post.png"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "PNG")
    picture.write_bytes(out.getvalue())
    added = cli("evidence", "add", reference, str(picture), data_dir=data)
    assert added.returncode == 0, added.stderr
    capture = _action(_show(data, reference), "capture-evidence")
    assert capture["done"] is True and capture["done_by"] == "Mrs A. Head"
    assert capture["done_at"]


def test_ticking_an_action_and_adding_a_note(tmp_path: Path) -> None:
    data = set_up(tmp_path / "casebook")
    reference = _open(data)
    ticked = cli("case", "action", reference, "send-letter-removal", "--done", data_dir=data)
    assert ticked.returncode == 0, ticked.stderr
    assert ticked.stdout.startswith("Done: Send the letter asking for removal")
    assert _action(_show(data, reference), "send-letter-removal")["done"] is True
    again = cli("case", "action", reference, "send-letter-removal", "--done", data_dir=data)
    assert_refused(again, 1, "already done")
    unknown = cli("case", "action", reference, "no-such-action", "--done", data_dir=data)
    assert_refused(unknown, 1, "no action 'no-such-action'", "capture-evidence")
    noted = cli("case", "note", reference, "Phoned the parent; no answer.", data_dir=data)
    assert noted.returncode == 0, noted.stderr
    events = _show(data, reference)["events"]
    assert any("Phoned the parent; no answer." in e["summary"] for e in events)


def test_escalating_records_the_ladder_step_end_to_end(tmp_path: Path) -> None:
    data = set_up(tmp_path / "casebook")
    reference = _open(data)
    moved = cli("case", "status", reference, "escalated", data_dir=data)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout == f"{reference} is now 'Escalated'.\n"
    case = _show(data, reference)
    ladder = {step["id"]: step for step in case["ladder"]}
    assert ladder["first-letter"]["taken_at"] is not None
    assert ladder["follow-up-letter"]["due"] is not None  # the next step, with its date
    wrong = cli("case", "status", reference, "letter_sent", "--step", "police", data_dir=data)
    assert_refused(wrong, 1, "Escalated only")
    bad = cli("case", "status", reference, "sideways", data_dir=data)
    assert_refused(bad, 2, "'sideways' is not a status")


def test_outcome_removed_offers_to_resolve_and_resolves_with_the_flag(tmp_path: Path) -> None:
    data = set_up(tmp_path / "casebook")
    first = _open(data)
    assert cli("case", "status", first, "evidence_gathered", data_dir=data).returncode == 0
    said = cli("case", "outcome", first, "removed", data_dir=data)
    assert said.returncode == 0, said.stderr
    assert f"casebook case status {first} resolved" in said.stdout
    assert _show(data, first)["status"] == "evidence_gathered"

    second = _open(data)
    assert cli("case", "status", second, "evidence_gathered", data_dir=data).returncode == 0
    resolved = cli("case", "outcome", second, "removed", "--resolve", data_dir=data)
    assert resolved.returncode == 0, resolved.stderr
    assert _show(data, second)["status"] == "resolved"
    bad = cli("case", "outcome", second, "vanished", data_dir=data)
    assert_refused(bad, 2, "'vanished' is not an outcome")


def test_today_lists_due_work_but_not_finished_work(tmp_path: Path) -> None:
    data = set_up(tmp_path / "casebook")
    reference = _open(data)
    listed = cli("today", "--json", data_dir=data)
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert all(set(item) == TODAY_FIELDS for item in items)
    # Just opened: nothing is due yet today except what the policy asks within hours.
    assert all(item["reference"] == reference for item in items)
    assert cli("case", "status", reference, "evidence_gathered", data_dir=data).returncode == 0
    assert cli("case", "outcome", reference, "removed", "--resolve", data_dir=data).returncode == 0
    after = json.loads(cli("today", "--json", data_dir=data).stdout)
    assert after == []
    text = cli("today", data_dir=data)
    assert text.returncode == 0 and text.stdout.endswith("0 due today or overdue (0 overdue)\n")


def test_today_on_the_demonstration_casebook_drops_what_is_ticked(
    tmp_path: Path, cli_demos: CliDemos
) -> None:
    data = cli_demos.copy_to(
        tmp_path / "demo",
        lambda folder: cli("demo", data_dir=folder),
        user=USER,
        password=PASSWORD,
    )
    items = json.loads(cli("today", "--json", data_dir=data).stdout)
    assert items and all(item["overdue"] for item in items)
    first = items[0]
    ticked = cli("case", "action", first["reference"], first["id"], "--done", data_dir=data)
    assert ticked.returncode == 0, ticked.stderr
    after = json.loads(cli("today", "--json", data_dir=data).stdout)
    assert len(after) == len(items) - 1
    assert (first["reference"], first["id"]) not in {(i["reference"], i["id"]) for i in after}
    text = cli("today", data_dir=data).stdout
    assert f"{len(after)} due today or overdue ({len(after)} overdue)" in text
