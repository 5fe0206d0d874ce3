"""The letter commands run as a school's script would run them, with only their own settings.

The demonstration casebook is a copy of one the ``demo`` command made (tests/e2e/conftest.py);
the commands run through the command's entry point in this process (tests/e2e/cli_runner.py).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.domain.code_of_conduct import normalise_spacing
from app.security.keyring import TEST_COST_SETTING
from tests.e2e.cli_runner import run_in_process, run_subprocess
from tests.e2e.conftest import CliDemos


def _run(data: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    env = {
        "CASEBOOK_USER": "Head Teacher",
        "CASEBOOK_PASSWORD": "demo",
        "PATH": "/usr/bin:/bin",
        TEST_COST_SETTING: os.environ.get(TEST_COST_SETTING, ""),
    }
    argv = ["--data-dir", str(data), *args]
    return run_subprocess(argv, env, timeout=120) if process else run_in_process(argv, env)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, cli_demos: CliDemos) -> Path:
    return cli_demos.copy_to(
        tmp_path_factory.mktemp("casebook"),
        lambda folder: _run(folder, "demo"),
        user="Head Teacher",
        password="demo",
    )


def test_letter_is_issued_saved_and_listed(demo: Path, tmp_path: Path) -> None:
    out, docx = tmp_path / "letter.pdf", tmp_path / "letter.docx"
    done = _run(
        demo, "letter", "SM-2026-0001", "--kind", "removal", "--out", str(out),
        "--docx", str(docx), "--method", "hand",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Zoë Łukasiewicz" in done.stdout
    text = normalise_spacing(" ".join(p.extract_text() for p in PdfReader(out).pages))
    assert "Foul, abusive, discriminatory or threatening material" in text
    assert docx.stat().st_size > 1000
    listed = json.loads(_run(demo, "letters", "SM-2026-0001", "--json").stdout)
    assert [(x["kind"], x["method"], x["issued_by"]) for x in listed] == [
        ("removal", "hand", "Head Teacher")
    ]
    assert listed[0]["template_version"] == "default-2"


def test_letter_to_a_named_person(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "ack.pdf"
    done = _run(
        demo, "letter", "SM-2026-0002", "--kind", "acknowledgement",
        "--to", "ayşe yılmaz", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    # The demonstration MIS export gives her title: "Dear Mrs Yılmaz", not her full name.
    assert "Dear Mrs Yılmaz," in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["SM-2026-0003", "--kind", "thanks"], 2, "'thanks' is not a kind of letter"),
        (["SM-2026-0999", "--kind", "removal"], 1, "There is no case with the reference"),
        (["SM-2026-0003", "--kind", "follow-up"], 1, "refers to an earlier letter"),
        (["SM-2026-0003", "--kind", "removal", "--to", "Nobody"], 1, "No one called Nobody"),
        (["SM-2026-0003", "--kind", "removal", "--method", "pigeon"], 2, "'pigeon' is not a way"),
    ],
)
def test_refusals_are_one_line_and_record_nothing(
    demo: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    out = tmp_path / "x.pdf"
    done = _run(demo, "letter", *args, "--out", str(out))
    assert done.returncode == code
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert not out.exists()
    assert json.loads(_run(demo, "letters", "SM-2026-0003", "--json").stdout) == []


def test_templates_and_guidance(demo: Path, tmp_path: Path) -> None:
    kinds = json.loads(_run(demo, "templates", "--json").stdout)
    assert [k["kind"] for k in kinds] == [
        "removal", "correction", "procedure", "safeguarding",
        "follow-up", "meeting", "acknowledgement", "outcome", "barring-intent",
        "barring-representations", "barring-decision", "barring-review",
    ]  # fmt: skip
    out = tmp_path / "guide.pdf"
    done = _run(demo, "guidance", "--out", str(out), "--a5-booklet")
    assert done.returncode == 0, done.stderr
    assert PdfReader(out).metadata.author == "Eccleston Lane Ends Primary School"
