"""``case set``, ``case add``'s letter details and ``code adopt`` / ``code list``, run as a
school's script would run them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.domain.code_of_conduct import normalise_spacing
from app.security.keyring import TEST_COST_SETTING
from app.services.context import resources_dir
from tests.e2e.cli_runner import run_in_process
from tests.e2e.conftest import CliDemos

CODE_TEXT = resources_dir() / "code_of_conduct" / "code_of_conduct_social_media.txt"


def _run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "CASEBOOK_USER": "head",
        "CASEBOOK_PASSWORD": "demo",
        "PATH": "/usr/bin:/bin",
        TEST_COST_SETTING: os.environ.get(TEST_COST_SETTING, ""),
    }
    return run_in_process(["--data-dir", str(data), *args], env)


@pytest.fixture
def demo(tmp_path: Path, cli_demos: CliDemos) -> Path:
    return cli_demos.copy_to(
        tmp_path / "casebook", lambda folder: _run(folder, "demo"), user="head", password="demo"
    )


def test_case_add_and_set_record_what_letters_say(demo: Path, tmp_path: Path) -> None:
    done = _run(
        demo, "case", "add", "--title", "Wrong about trips", "--category", "inaccurate",
        "--platform", "Facebook", "--place", "Eccleston Parents Chat",
        "--posted-at", "2026-11-20T19:30", "--posted-by", "Zoë Łukasiewicz", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    case = json.loads(done.stdout)
    assert case["post_place"] == "Eccleston Parents Chat" and case["inaccurate_text"] == ""
    ref = case["reference"]
    out = tmp_path / "letter.pdf"
    refused = _run(demo, "letter", ref, "--kind", "correction", "--out", str(out))
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "“What is inaccurate” and “Correct facts”" in refused.stderr
    assert not out.exists()
    nothing = _run(demo, "case", "set", ref)
    assert nothing.returncode == 1 and "--place" in nothing.stderr
    done = _run(
        demo, "case", "set", ref, "--inaccurate", "the school has cancelled every trip.",
        "--correct-facts", "every planned trip goes ahead.", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    changed = json.loads(done.stdout)
    assert changed["correct_facts"] == "every planned trip goes ahead."
    assert changed["post_place"] == "Eccleston Parents Chat"  # the others are kept
    done = _run(demo, "letter", ref, "--kind", "correction", "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = normalise_spacing(" ".join(p.extract_text() for p in PdfReader(out).pages))
    assert "which is not correct: the school has cancelled every trip." in text
    assert "on Facebook, in “Eccleston Parents Chat”, on 20 November 2026" in text
    [letter] = json.loads(_run(demo, "letters", ref, "--json").stdout)
    assert letter["code_version"] == "1.0"


def test_code_adopt_and_list(demo: Path, tmp_path: Path) -> None:
    listed = json.loads(_run(demo, "code", "list", "--json").stdout)
    assert [(v["version"], v["in_force"]) for v in listed] == [("1.0", True)]
    bad = _run(demo, "code", "adopt", str(CODE_TEXT), "--effective", "2020-01-01")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "cannot take effect before the day it is adopted" in bad.stderr
    wrong_map = _run(
        demo, "code", "adopt", str(CODE_TEXT), "--effective", "2099-01-01", "--map", "1=rude"
    )
    assert wrong_map.returncode == 2 and "1=rude" in wrong_map.stderr
    revised = tmp_path / "revised.txt"
    revised.write_text(CODE_TEXT.read_text(encoding="utf-8"), encoding="utf-8")
    done = _run(demo, "code", "adopt", str(revised), "--effective", "2099-01-01", "--json")
    assert done.returncode == 0, done.stderr
    adopted = json.loads(done.stdout)
    assert adopted["version"] == "1.1" and adopted["effective_on"] == "2099-01-01"
    assert adopted["standards"]["1"] == "abusive" and not adopted["in_force"]
    text = _run(demo, "code", "list").stdout
    assert "1.0" in text and "(in force)" in text and "01/01/2099" in text
