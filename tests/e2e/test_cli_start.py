"""What a letter from the command line loads and does before it signs in.

Whole-process time is spent mostly importing (benchmarks/letters.py measures it); these
tests keep the letter command from loading what it does not use again: the window
(PySide6), the Word copy (python-docx, lxml) and every country's bank holidays. They also
check that the password's Argon2id, started early, opens exactly what it would have
opened when derived at sign-in, and nothing else.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import build_parser, derive_ahead
from app.domain.working_days import bank_holiday
from app.security.crypto import KdfCost, derive_key, derive_on_threads
from app.security.keyring import TEST_COST_SETTING, KeyringFile, KeyringStore, checked_cost
from tests.e2e.cli_runner import run_in_process, run_subprocess
from tests.e2e.conftest import CliDemos

NOT_FOR_A_LETTER = ("PySide6", "docx", "lxml", "holidays.countries")
# Nor does a letter load the code of what it does not do: exhibits and their pictures,
# email, backups, reports, retention, subject access, the MIS import, a database server,
# or the migrations (the casebook is at head), nor what only later steps of a case use.
NOT_USED_BY_A_LETTER = (
    "app.services.evidence",
    "app.evidence.derivatives",
    "app.evidence.messages",
    "PIL.ImageOps",
    "app.services.mail",
    "smtplib",
    "app.services.reports",
    "app.services.retention",
    "app.services.subject_access",
    "app.services.people_import",
    "app.services.joined_up",
    "app.services.reminders",
    "sqlalchemy.dialects.postgresql",
    "alembic",
    # Recording a letter as sent, and the school's term dates: not issuing one.
    "app.services.workflow",
    "app.domain.report_figures",
    "statistics",
    # Bank holidays come from the table made from the holidays package (at its version).
    "holidays",
    "dateutil",
    # Hiding third parties needs neither the retention rules nor the mail settings; a letter
    # with no logo, signature or shaped script runs neither Pillow nor HarfBuzz.
    "app.domain.retention",
    "app.domain.mail",
    "PIL._imaging",
    "uharfbuzz._harfbuzz",
    # Nor the workflow policy (the ladder, checklists, outcomes) nor the evidence records:
    # making their dataclasses cost a letter about 9 ms of processor time.
    "app.domain.policy",
    "app.domain.evidence",
    # Nor the other commands' modules, with their handlers.
    "app.cli.case_details",
    "app.cli.code",
    "app.cli.evidence_words",
    "app.cli.people",
    "app.cli.workflow_commands",
    # Nor the backup and restore code (opening tidies their staging folders without it), nor
    # the CSV writer of exports.
    "app.services.backup",
    "app.services.csv_file",
    "csv",
    # Given its data folder and the user's name, it asks for neither the per-user folder
    # nor the login name, and the password is not typed.
    "platformdirs",
    "getpass",
    # SQLAlchemy's import of the package metadata runs only if it looks up an entry point.
    "importlib.metadata._adapters",
    "importlib.resources",
)
# How many modules the letter command may have loaded when it exits. It loads about 580
# (SQLAlchemy about 130, reportlab 60, cryptography 45, ours 70); each costs
# import time in a whole-process letter (benchmarks/letters.py), so a change that loads
# many more must be a choice, not an accident. It was 1,115 before the command imported
# only what it uses, then 682 until issuing a letter stopped loading the sent-letter
# workflow and the report figures (with statistics and fractions), then 625 once bank
# holidays came from a table made from the holidays package (its 45 modules and dateutil's),
# then 612 once Pillow and HarfBuzz ran only when used and the retention rules and mail
# settings stayed out, then 589 once the other commands' modules, the workflow policy, the
# evidence records, the backup code, the CSV writer and the package metadata SQLAlchemy
# imports (importlib.resources and the rest) stayed out, then 581 once the per-user folder
# (platformdirs) and the login name (getpass) were looked up only when needed.
LETTER_MODULE_BUDGET = 581
OFFICE_PASSWORD = "a long office passphrase 2026"

# Runs the command through its entry point, then names what it loaded of the above and
# counts every module loaded.
PROBE = """
import json, sys
from app.cli import main
code = main(sys.argv[1:])
sys.stdout.write("\\nMODULES " + str(len(sys.modules)))
sys.stdout.write("\\nLOADED " + json.dumps([m for m in {names!r} if m in sys.modules]))
sys.exit(code)
"""


def _env(password: str = "demo") -> dict[str, str]:
    return {
        "CASEBOOK_USER": "Head Teacher",
        "CASEBOOK_PASSWORD": password,
        "PATH": "/usr/bin:/bin",
        TEST_COST_SETTING: os.environ.get(TEST_COST_SETTING, ""),
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, cli_demos: CliDemos) -> Path:
    return cli_demos.copy_to(
        tmp_path_factory.mktemp("casebook"),
        lambda folder: run_in_process(["--data-dir", str(folder), "demo"], _env()),
        user="Head Teacher",
        password="demo",
    )


def _loaded_by(
    data: Path, *args: str, names: tuple[str, ...] = NOT_FOR_A_LETTER
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(names=names), "--data-dir", str(data), *args],
        capture_output=True, text=True, encoding="utf-8", env=_env(), timeout=120, check=False,
    )  # fmt: skip
    marker = done.stdout.rpartition("LOADED ")
    assert marker[1], done.stderr
    return done, json.loads(marker[2])


def _module_count(done: subprocess.CompletedProcess[str]) -> int:
    return int(done.stdout.rpartition("MODULES ")[2].split()[0])


def test_a_letter_from_the_command_line_loads_neither_qt_nor_word(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "letter.pdf"
    done, loaded = _loaded_by(
        demo, "letter", "SM-2026-0001", "--kind", "removal", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
    assert loaded == []


def test_a_letter_loads_only_what_it_uses_within_its_module_budget(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "letter.pdf"
    done, loaded = _loaded_by(
        demo, "letter", "SM-2026-0001", "--kind", "removal", "--out", str(out),
        names=NOT_USED_BY_A_LETTER,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Request for immediate removal" in done.stdout
    assert loaded == []
    count = _module_count(done)
    assert count <= LETTER_MODULE_BUDGET, (
        f"the letter command loaded {count} modules (budget {LETTER_MODULE_BUDGET})"
    )


def test_asking_for_the_word_copy_still_makes_it(demo: Path, tmp_path: Path) -> None:
    out, docx = tmp_path / "letter.pdf", tmp_path / "letter.docx"
    done, loaded = _loaded_by(
        demo, "letter", "SM-2026-0002", "--kind", "acknowledgement", "--out", str(out),
        "--docx", str(docx),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert docx.read_bytes().startswith(b"PK")  # a Word file is a zip
    assert "docx" in loaded and "PySide6" not in loaded


def test_listing_cases_loads_no_pdf_or_window_library(demo: Path) -> None:
    # Nor the letters service and its templates: the sign-in's sweep of the blob store
    # finds the school profile's images without it.
    names = (*NOT_FOR_A_LETTER, "app.services.letters", "jinja2")
    done, loaded = _loaded_by(demo, "cases", "--json", names=names)
    assert done.returncode == 0, done.stderr
    assert loaded == []


def test_the_early_derivation_opens_only_what_the_password_opens(demo: Path) -> None:
    keyring = KeyringStore(KeyringFile(demo / "casebook.keys")).load()
    assert keyring is not None
    wrap = keyring.entry("Head Teacher")
    assert wrap is not None
    salt, cost = base64.b64decode(wrap["salt"]), checked_cost(wrap["kdf"])
    saved = dict(os.environ)
    try:
        os.environ.update(_env())
        ahead = derive_ahead(demo / "casebook.keys")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert ahead is not None
    assert ahead.key_for("demo", salt, cost) == derive_key("demo", salt, cost)
    assert ahead.key_for("Demo", salt, cost) is None
    assert ahead.key_for("demo", b"another salt....", cost) is None


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 8])
def test_the_lanes_on_fewer_threads_make_the_same_key(threads: int) -> None:
    salt = b"sixteen bytes..."
    for cost in (KdfCost(1, 64, 1), KdfCost(2, 256, 4), KdfCost(3, 1024, 3)):
        assert derive_on_threads("pässwörd".encode(), salt, cost, threads) == derive_key(
            "pässwörd", salt, cost
        )


def test_a_wrong_password_given_early_is_still_refused_and_counted(demo: Path) -> None:
    wrong = run_in_process(["--data-dir", str(demo), "cases"], _env("not the password"))
    assert wrong.returncode == 1
    assert "not right" in wrong.stderr
    keyring = KeyringStore(KeyringFile(demo / "casebook.keys")).load()
    assert keyring is not None
    entry = keyring.entry("Head Teacher")
    assert entry is not None and entry.get("failed") == 1
    right = run_in_process(["--data-dir", str(demo), "cases"], _env())
    assert right.returncode == 0, right.stderr


def test_england_and_wales_bank_holidays_without_every_country() -> None:
    import holidays

    for year in (2026, 2027, 2032):
        official = holidays.country_holidays("GB", subdiv="ENG", years=year)
        for day, name in official.items():
            assert bank_holiday(day) == str(name)
    # The coronation's extra bank holiday: a moved or added day comes with the package.
    assert bank_holiday(__import__("datetime").date(2023, 5, 8)) is not None


def _trail(data: Path, tmp_path: Path) -> list[tuple[str, str]]:
    """(action, record) of every entry of the audit trail, oldest first."""
    import csv

    out = tmp_path / f"audit-{len(list(tmp_path.iterdir()))}.csv"
    done = run_in_process(["--data-dir", str(data), "audit", "export", "--out", str(out)], _env())
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))[1:]
    return [(row[3], row[4]) for row in sorted(rows, key=lambda row: int(row[0]))]


@pytest.mark.parametrize("to", [[], ["--to", "Zoë Łukasiewicz"]])
def test_a_letter_from_its_own_process_records_each_entry_once(
    demo: Path, tmp_path: Path, to: list[str]
) -> None:
    before = _trail(demo, tmp_path)
    out = tmp_path / "letter.pdf"
    done = run_subprocess(
        ["--data-dir", str(demo), "letter", "SM-2026-0001", "--kind", "removal", "--out",
         str(out), *to],
        _env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"Request for immediate removal to Zoë Łukasiewicz recorded on SM-2026-0001; saved {out}\n"
    )
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Dear Ms Łukasiewicz" in text or "Zoë Łukasiewicz" in text
    # Between the export before it (its entry is written after what it saved) and the
    # sign-in of the export after it: the letter's entries, each once.
    added = _trail(demo, tmp_path)[len(before) :]
    assert added == [
        ("export audit trail", ""),
        ("signed in", "Head Teacher"),
        ("view case", "SM-2026-0001"),
        ("issue letter", "SM-2026-0001"),
        ("export letter", "SM-2026-0001"),
        ("signed in", "Head Teacher"),
    ]


def test_a_recipient_not_on_the_case_is_refused_and_its_listing_recorded(
    demo: Path, tmp_path: Path
) -> None:
    before = _trail(demo, tmp_path)
    done = run_in_process(
        ["--data-dir", str(demo), "letter", "SM-2026-0001", "--kind", "removal", "--out",
         str(tmp_path / "no.pdf"), "--to", "Nobody Known"],
        _env(),
    )  # fmt: skip
    assert done.returncode == 1
    assert "No one called Nobody Known is linked to case SM-2026-0001; linked: " in done.stderr
    assert not (tmp_path / "no.pdf").exists()
    added = _trail(demo, tmp_path)[len(before) :]
    assert ("view case", "SM-2026-0001") in added
    assert not any(action == "issue letter" for action, _ in added)


def _command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _command_paths(sub, (*prefix, name))


def _parsed(argv: list[str], parser: argparse.ArgumentParser) -> tuple[object, str, str]:
    """What parsing ``argv`` gives: (the namespace or exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: object = sorted((k, repr(v)) for k, v in vars(parser.parse_args(argv)).items())
        except SystemExit as leaving:
            result = leaving.code
    return result, out.getvalue(), err.getvalue()


@pytest.fixture
def catalogue_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse asks gettext for its message catalogue for every string of every parser it
    builds, and each ask reads the locale variables and looks on disk (half of the time of
    the test below, which builds about 500 parsers). Neither changes during a test: each
    distinct ask is made once."""
    import gettext

    looked_up: dict[tuple[object, ...], object] = {}
    find = gettext.find

    def find_once(domain, localedir=None, languages=None, all=False):  # type: ignore[no-untyped-def]
        if languages is not None:
            return find(domain, localedir, languages, all)
        locale = tuple(
            os.environ.get(name) for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
        )
        key = (domain, localedir, all, locale)
        if key not in looked_up:
            looked_up[key] = find(domain, localedir, languages, all)
        found = looked_up[key]
        return list(found) if isinstance(found, list) else found

    monkeypatch.setattr(gettext, "find", find_once)


@pytest.mark.usefixtures("catalogue_looked_up_once")
def test_the_grammar_built_for_one_command_reads_every_command_as_the_whole_one() -> None:
    """Only the command named is built (the whole grammar cost every command a tenth of a
    second); each command's help, parse and refusal is what the whole grammar gives."""
    whole = build_parser()
    paths = list(_command_paths(whole))
    assert len(paths) > 60
    tried = 0
    for path in paths:
        for extra in (["--help"], [], ["--no-such-flag"], ["--json", "SM-2026-0001"]):
            for before in ([], ["--data=elsewhere", "--demo", "--database-url", "x"]):
                argv = [*before, *path, *extra]
                assert _parsed(argv, build_parser(argv)) == _parsed(argv, whole), argv
                tried += 1
    for argv in (
        ["--help"],
        ["--version"],
        ["--data-dir", "letter", "cases"],
        ["--", "cases", "--json"],
        ["--d", "x", "cases"],
        ["--data-dir=letter", "letter", "--help"],
        ["-x", "cases"],
        ["nonsense"],
        [],
    ):
        assert _parsed(argv, build_parser(argv)) == _parsed(argv, whole), argv
    assert tried == len(paths) * 8


# The console script's way in (main() with no arguments), with an exit handler of its own.
ENTRY_WITH_EXIT_HANDLER = """
import atexit, sys
from pathlib import Path
marker = Path(sys.argv[1])
atexit.register(lambda: marker.write_text("exit handlers ran"))
from app.cli import main
sys.argv = ["casebook", *sys.argv[2:]]
sys.exit(main())
"""


def test_a_command_process_ends_after_its_exit_handlers_with_its_exit_code(
    demo: Path, tmp_path: Path
) -> None:
    """The process ends without tearing the interpreter down, but after its exit handlers
    (the log's among them) and with its output flushed and the command's exit code."""
    for argv, code in (
        (["letters", "SM-2026-0001"], 0),
        (["letter", "SM-2026-9999", "--kind", "removal", "--out", str(tmp_path / "no.pdf")], 1),
        (["letter", "SM-2026-0001"], 2),
    ):
        marker = tmp_path / f"exit-{code}.txt"
        done = subprocess.run(
            [sys.executable, "-c", ENTRY_WITH_EXIT_HANDLER, str(marker), "--data-dir",
             str(demo), *argv],
            capture_output=True, text=True, encoding="utf-8", env=_env(), timeout=120,
            check=False,
        )  # fmt: skip
        assert done.returncode == code, done.stderr
        assert marker.read_text() == "exit handlers ran"
        if code == 0:
            # Piped output is block-buffered: all of it arrived, so it was flushed.
            assert done.stdout.endswith(" letters\n") or done.stdout.endswith(" letter\n")
        elif code == 1:
            assert done.stderr == "casebook: There is no case with the reference SM-2026-9999.\n"
        else:
            assert done.stderr == "casebook: the following arguments are required: --kind\n"


# The console script itself (app.launch, which python -m app runs too), with an exit handler
# and an object whose finaliser runs only when the interpreter is torn down.
CONSOLE_SCRIPT = """
import atexit, sys
from pathlib import Path
handlers, teardown = Path(sys.argv[1]), Path(sys.argv[2])
atexit.register(lambda: handlers.write_text("exit handlers ran"))
class Sentinel:
    def __del__(self):
        teardown.write_text("the interpreter was torn down")
sentinel = Sentinel()
from app.launch import main
sys.argv = ["casebook", *sys.argv[3:]]
sys.exit(main())
"""


def test_the_console_script_ends_a_command_without_tearing_the_interpreter_down(
    demo: Path, tmp_path: Path
) -> None:
    """Through the front door (app.launch) too, a command's process ends once its exit
    handlers have run: freeing every module and object one by one was a fifth of a letter's
    whole-process time. A window's process is not ended early (see the test above)."""
    handlers, teardown = tmp_path / "handlers.txt", tmp_path / "teardown.txt"
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, str(handlers), str(teardown), "--data-dir",
         str(demo), "letters", "SM-2026-0001"],
        capture_output=True, text=True, encoding="utf-8", env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(" letters\n") or done.stdout.endswith(" letter\n")
    assert handlers.read_text() == "exit handlers ran"
    assert not teardown.exists()
    # The same script run without a command would be torn down: the sentinel can tell.
    shown = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, str(handlers), str(teardown), "--version"],
        capture_output=True, text=True, encoding="utf-8", env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert teardown.read_text() == "the interpreter was torn down"


def test_office_staff_are_refused_a_letter_on_a_safeguarding_case(
    demo: Path, tmp_path: Path
) -> None:
    """The letter command looks the case up without a "view case" entry of its own, but a
    safeguarding case stays unseen by the office: the answer for a missing case, nothing
    written, and the refusal on the audit trail."""
    office = {**_env(), "CASEBOOK_USER": "Mr Office", "CASEBOOK_PASSWORD": OFFICE_PASSWORD}
    if "Mr Office" not in run_in_process(["--data-dir", str(demo), "users", "list"], _env()).stdout:
        added = run_in_process(
            ["--data-dir", str(demo), "users", "add", "Mr Office", "--role", "office"],
            {**_env(), "CASEBOOK_NEW_PASSWORD": OFFICE_PASSWORD},
        )
        assert added.returncode == 0, added.stderr
    before = _trail(demo, tmp_path)
    out = tmp_path / "refused.pdf"
    # SM-2026-0003 is the demonstration set's safeguarding case.
    for to in ([], ["--to", "Zoë Łukasiewicz"]):
        refused = run_in_process(
            ["--data-dir", str(demo), "letter", "SM-2026-0003", "--kind", "removal", "--out",
             str(out), *to],
            office,
        )  # fmt: skip
        assert refused.returncode == 1
        assert refused.stderr == "casebook: There is no case with the reference SM-2026-0003.\n"
        assert not out.exists()
    added_entries = _trail(demo, tmp_path)[len(before) :]
    assert added_entries.count(("refused: view case", "SM-2026-0003")) == 2
    assert not any(action in ("issue letter", "view case") for action, _ in added_entries)
