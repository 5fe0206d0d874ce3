"""The ``casebook`` command, black box: its entry point on a temporary data folder.

Most commands run in this process through ``app.cli.main``; the tests marked as real
processes start ``python -m app`` so the interpreter-level behaviour stays covered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import __version__
from app.config import DataDirLock, DataPaths
from app.domain.categories import Category
from app.domain.records import CaseDraft, CaseFilter, PersonDraft
from app.services.casebook import open_casebook
from tests.conftest import open_signed_in
from tests.e2e.cli_runner import run_in_process, run_subprocess

USER = "Mrs A. Head"
PASSWORD = "tide-marble-orchard-42"
ROW_FIELDS = {
    "reference",
    "title",
    "poster",
    "platform",
    "categories",
    "status",
    "follow_up_due",
    "follow_up_due_uk",
    "overdue",
    "last_activity_at",
}
CASE_FIELDS = {
    "reference",
    "title",
    "summary",
    "platform",
    "post_url",
    "account_handle",
    "posted_at",
    "reported_on",
    "reported_by",
    "categories",
    "status",
    "status_label",
    "follow_up_due",
    "overdue",
    "code_version",
    "post_place",
    "inaccurate_text",
    "correct_facts",
    "barring_conduct",
    "created_at",
    "updated_at",
    "last_activity_at",
    "people",
    "events",
    "checklist",
    "ladder",
}


def cli(
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``casebook [--data-dir DIR] ARGS`` and capture what a script would see.

    In this process through the command's own entry point (tests/e2e/cli_runner.py), or as
    a real ``python -m app`` process with ``process=True``.
    """
    environment = {k: v for k, v in os.environ.items() if k != "CASEBOOK_DATA_DIR"}
    environment["CASEBOOK_USER"] = USER
    environment["CASEBOOK_PASSWORD"] = PASSWORD
    environment.update(env or {})
    argv = ["--data-dir", str(data_dir)] if data_dir is not None else []
    argv += args
    if process:
        return run_subprocess(argv, environment)
    return run_in_process(argv, environment)


def assert_refused(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """One line on stderr starting 'casebook:', nothing on stdout, the given exit code."""
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("casebook: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in result.stderr


def add_case(data_dir: Path, title: str, reported_by: str = "") -> None:
    """Set a casebook up quickly, in this process (the command runs separately)."""
    services = open_signed_in(data_dir, USER, PASSWORD)
    try:
        services.cases.open_case(
            CaseDraft(
                title=title, categories=frozenset({Category.ABUSIVE}), reported_by=reported_by
            )
        )
    finally:
        services.close()


def case_count(data_dir: Path) -> int:
    services = open_signed_in(data_dir, USER, PASSWORD)
    try:
        return services.cases.count_cases(CaseFilter())
    finally:
        services.close()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demonstration casebook shared by the read-only tests of this module."""
    folder = tmp_path_factory.mktemp("demo") / "casebook"
    result = cli("demo", data_dir=folder, process=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Created 13 fictional demonstration cases in ")
    return folder


@pytest.fixture(scope="module")
def demo_rows(demo_dir: Path) -> list[dict[str, object]]:
    result = cli("cases", "--json", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def set_up(data_dir: Path) -> Path:
    """A new casebook whose first user is USER with PASSWORD (as ``casebook init`` makes)."""
    services = open_casebook(data_dir)
    try:
        services.users.create_first_user(USER, PASSWORD)
    finally:
        services.close()
    return data_dir


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return set_up(tmp_path / "casebook")


# ----- reading -----------------------------------------------------------------------


def test_version() -> None:
    result = cli("--version", process=True)
    assert result.returncode == 0
    assert result.stdout.strip() == f"casebook {__version__}"


def test_cases_lists_every_case_with_a_total(demo_dir: Path) -> None:
    result = cli("cases", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "13 cases"
    assert lines[0].startswith("SM-2026-0001  Awaiting removal")
    assert "Abusive comments about Year 4 teacher" in lines[0]
    assert lines[0].endswith("OVERDUE")
    assert result.stderr == ""


def test_cases_json_has_stable_field_names(demo_rows: list[dict[str, object]]) -> None:
    rows: list[dict[str, Any]] = demo_rows
    assert len(rows) == 13
    assert all(set(row) == ROW_FIELDS for row in rows)
    assert [r["reference"] for r in rows] == [f"SM-2026-{n:04d}" for n in range(1, 14)]
    first = rows[0]
    assert first["poster"] == "Zoë Łukasiewicz"
    assert first["categories"] == ["abusive"]
    assert first["status"] == "awaiting_removal"
    assert first["overdue"] is True
    day, month, year = first["follow_up_due_uk"].split("/")
    assert first["follow_up_due"] == f"{year}-{month}-{day}"
    assert {c for r in rows for c in r["categories"]} == {c.value for c in Category}


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["--status", "new"], lambda r: r["status"] == "new"),
        (["--status", "Letter sent"], lambda r: r["status"] == "letter_sent"),
        (["--category", "safeguarding"], lambda r: "safeguarding" in r["categories"]),
        (["--category", "Procedure"], lambda r: "procedure" in r["categories"]),
        (["--overdue"], lambda r: r["overdue"]),
        (["--search", "łukasiewicz"], lambda r: True),
    ],
    ids=["status", "status-label", "category", "category-case", "overdue", "search"],
)
def test_cases_filters(
    demo_dir: Path, demo_rows: list[dict[str, object]], args: list[str], check: object
) -> None:
    everything = demo_rows
    result = cli("cases", "--json", *args, data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows
    assert len(rows) < len(everything)
    assert all(check(r) for r in rows)  # type: ignore[operator]
    expected = [r["reference"] for r in everything if check(r)]  # type: ignore[operator]
    if args[0] != "--search":
        assert [r["reference"] for r in rows] == expected


def test_statuses_can_be_combined(demo_dir: Path) -> None:
    rows = json.loads(
        cli("cases", "--json", "--status", "new", "--status", "resolved", data_dir=demo_dir).stdout
    )
    assert {r["status"] for r in rows} == {"new", "resolved"}


def test_case_show(demo_dir: Path) -> None:
    result = cli("case", "show", "sm-2026-0003", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("SM-2026-0003  Photo of sports day showing pupils' faces and names\n")
    assert "Status:        Evidence gathered" in text
    assert "Standards:     Identification of a child (safeguarding)" in text
    assert "Platform:      Instagram" in text
    assert "Siobhán O'Brien — Author of post (carer)" in text
    assert "Chronology:" in text
    assert "Status changed from New to Evidence gathered" in text


def test_case_show_json(demo_dir: Path) -> None:
    result = cli("case", "show", "SM-2026-0001", "--json", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    case = json.loads(result.stdout)
    assert set(case) == CASE_FIELDS
    assert case["reference"] == "SM-2026-0001"
    assert case["status_label"] == "Awaiting removal"
    assert case["people"][0]["name"] == "Zoë Łukasiewicz"
    assert case["people"][0]["role"] == "author"
    assert set(case["people"][0]) == {
        "name",
        "role",
        "kind",
        "address_lines",
        "postcode",
        "email",
        "phone",
        "relationship",
    }
    assert case["events"][0]["kind"] == "case_opened"
    assert set(case["events"][0]) == {"at", "actor", "kind", "summary"}


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        ("SM-2026-0999", ["There is no case with the reference SM-2026-0999."]),
        ("SM-2026-9", ["'SM-2026-9' is not a case reference", "SM-2026-0001"]),
        ("case-one", ["'case-one' is not a case reference"]),
    ],
)
def test_case_show_refuses_bad_or_unknown_references(
    demo_dir: Path, reference: str, words: list[str]
) -> None:
    assert_refused(cli("case", "show", reference, data_dir=demo_dir), 1, *words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["cases", "--status", "pending"], ["'pending' is not a status", "letter_sent"]),
        (["cases", "--category", "rude"], ["'rude' is not a category", "safeguarding"]),
        (["case"], ["required"]),
        (["frobnicate"], ["frobnicate"]),
    ],
)
def test_bad_arguments_are_one_line_with_exit_2(
    demo_dir: Path, args: list[str], words: list[str]
) -> None:
    assert_refused(cli(*args, data_dir=demo_dir), 2, *words)


def test_the_environment_variable_names_the_data_folder(demo_dir: Path, tmp_path: Path) -> None:
    result = cli("cases", "--json", env={"CASEBOOK_DATA_DIR": str(demo_dir)})
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 13
    # --data-dir wins over the environment.
    other = set_up(tmp_path / "other")
    result = cli("cases", data_dir=other, env={"CASEBOOK_DATA_DIR": str(demo_dir)})
    assert result.stdout == "0 cases\n"


# ----- writing -----------------------------------------------------------------------


def test_case_add_prints_the_new_reference(data_dir: Path) -> None:
    result = cli(
        "case",
        "add",
        "--title",
        "Rumour about a teacher",
        "--category",
        "inaccurate",
        "--category",
        "abusive",
        "--platform",
        "Facebook",
        "--url",
        "https://www.facebook.com/groups/example/posts/1",
        "--handle",
        "Local Mums",
        data_dir=data_dir,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "SM-2026-0001\n"
    second = cli("case", "add", "--title", "Another", "--category", "abusive", data_dir=data_dir)
    assert second.stdout == "SM-2026-0002\n"
    case = json.loads(cli("case", "show", "SM-2026-0001", "--json", data_dir=data_dir).stdout)
    assert case["title"] == "Rumour about a teacher"
    assert case["categories"] == ["abusive", "inaccurate"]
    assert case["platform"] == "Facebook"
    assert case["post_url"] == "https://www.facebook.com/groups/example/posts/1"
    assert case["account_handle"] == "Local Mums"
    assert case["status"] == "new"
    assert case["events"][0]["actor"] == USER


def test_case_add_with_posted_by_creates_then_matches_the_person(data_dir: Path) -> None:
    first = cli(
        "case",
        "add",
        "--title",
        "First post",
        "--category",
        "abusive",
        "--posted-by",
        "Дмитрий Соколов",
        "--posted-at",
        "2026-07-01T14:05",
        data_dir=data_dir,
    )
    assert first.returncode == 0, first.stderr
    second = cli(
        "case",
        "add",
        "--title",
        "Second post",
        "--category",
        "procedure",
        "--posted-by",
        "  дмитрий   соколов ",
        "--json",
        data_dir=data_dir,
    )
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["people"][0]["name"] == "Дмитрий Соколов"

    shown = json.loads(cli("case", "show", "SM-2026-0001", "--json", data_dir=data_dir).stdout)
    # 14:05 on 1 July in London is 13:05 UTC (BST).
    assert shown["posted_at"] == "2026-07-01T13:05:00+00:00"
    assert [(p["name"], p["role"]) for p in shown["people"]] == [("Дмитрий Соколов", "author")]
    assert (
        "Posted:        01/07/2026 14:05"
        in cli("case", "show", "SM-2026-0001", data_dir=data_dir).stdout
    )

    services = open_signed_in(data_dir, USER, PASSWORD)
    try:
        assert [p.name for p in services.people.search_people("")] == ["Дмитрий Соколов"]
    finally:
        services.close()


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--title", "T", "--category", "rude"], 2, ["'rude' is not a category", "abusive"]),
        (["--category", "abusive"], 2, ["--title"]),
        (["--title", "T"], 2, ["--category"]),
        (["--title", "T", "--category", "abusive", "--posted-at", "yesterday"], 2, ["2026-11-24"]),
        (
            ["--title", "T", "--category", "abusive", "--posted-at", "2099-01-01T09:00"],
            1,
            ["cannot be in the future"],
        ),
        (["--title", "  ", "--category", "abusive"], 1, ["title"]),
        (["--title", "T", "--category", "abusive", "--url", "facebook"], 1, ["web address"]),
        (["--title", "bell\x07", "--category", "abusive"], 1, ["cannot be stored"]),
        (["--title", "T", "--category", "abusive", "--posted-by", " "], 1, ["person's name"]),
    ],
    ids=[
        "bad-category",
        "no-title",
        "no-category",
        "bad-posted-at",
        "future-posted-at",
        "blank-title",
        "bad-url",
        "control-character",
        "blank-posted-by",
    ],
)
def test_case_add_refusals_write_nothing(
    data_dir: Path, args: list[str], code: int, words: list[str]
) -> None:
    add_case(data_dir, "Already here")
    result = cli("case", "add", *args, data_dir=data_dir)
    assert_refused(result, code, *words)
    assert case_count(data_dir) == 1


def test_an_ambiguous_author_name_writes_nothing(data_dir: Path) -> None:
    services = open_signed_in(data_dir, USER, PASSWORD)
    try:
        services.people.add_person(PersonDraft(name="Siobhán O'Brien", relationship="Mother"))
        services.people.add_person(PersonDraft(name="Siobhán O'Brien", relationship="Aunt"))
    finally:
        services.close()
    result = cli(
        "case",
        "add",
        "--title",
        "Photo of pupils",
        "--category",
        "safeguarding",
        "--posted-by",
        "siobhán o'brien",
        data_dir=data_dir,
    )
    assert_refused(result, 1, "More than one person is called")
    assert case_count(data_dir) == 0


def test_case_show_prints_who_reported_it(data_dir: Path) -> None:
    for reporter in ("Mrs Kennedy", "Mr Jacob", ""):
        add_case(data_dir, f"Reported by {reporter or 'nobody'}", reported_by=reporter)
    lines = [
        next(
            line
            for line in cli("case", "show", ref, data_dir=data_dir).stdout.splitlines()
            if line.startswith("Reported:")
        )
        for ref in ("SM-2026-0001", "SM-2026-0002", "SM-2026-0003")
    ]
    assert lines[0].endswith(" by Mrs Kennedy")
    assert lines[1].endswith(" by Mr Jacob")
    assert " by" not in lines[2]
    assert lines[2].rstrip() == lines[2]


def test_demo_refuses_a_casebook_with_cases(data_dir: Path) -> None:
    add_case(data_dir, "Real case")
    assert_refused(cli("demo", data_dir=data_dir), 1, "already holds cases")
    assert case_count(data_dir) == 1


# ----- the data folder ----------------------------------------------------------------


@pytest.fixture
def locked(data_dir: Path) -> Iterator[Path]:
    """A casebook with one case whose folder is held open by 'another copy of the app'."""
    add_case(data_dir, "Open case")
    with DataDirLock(DataPaths(data_dir).lock):
        yield data_dir


@pytest.mark.parametrize(
    "args",
    [["case", "add", "--title", "Second", "--category", "abusive"], ["demo"]],
    ids=["case-add", "demo"],
)
def test_writing_while_the_folder_is_open_elsewhere_is_refused(
    locked: Path, args: list[str]
) -> None:
    # A real second process: the lock is the operating system's, between processes.
    assert_refused(cli(*args, data_dir=locked, process=True), 3, "already open on the data folder")
    assert case_count(locked) == 1


def test_reading_while_the_folder_is_open_elsewhere_works(locked: Path) -> None:
    result = cli("cases", data_dir=locked)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1 case"
    shown = cli("case", "show", "SM-2026-0001", data_dir=locked)
    assert shown.returncode == 0, shown.stderr


def test_a_data_folder_inside_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "report.pdf"
    blocker.write_bytes(b"%PDF-1.4\n")
    result = cli("cases", data_dir=blocker / "casebook")
    assert_refused(result, 1, "cannot be created or written")
    assert blocker.read_bytes() == b"%PDF-1.4\n"


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="the administrator can write anywhere"
)
@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-casebook"])
def test_a_read_only_folder_is_refused_clearly(tmp_path: Path, existing: bool) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir()
    data_dir = parent / "casebook"
    if existing:
        set_up(data_dir)
        assert cli("cases", data_dir=data_dir).returncode == 0
        folders = [data_dir, parent]
    else:
        folders = [parent]
    for folder in folders:
        folder.chmod(0o555)
    try:
        result = cli("case", "add", "--title", "T", "--category", "abusive", data_dir=data_dir)
        assert_refused(result, 1, str(data_dir))
        assert "read-only" in result.stderr or "cannot be created or written" in result.stderr
    finally:
        for folder in folders:
            folder.chmod(0o755)
