"""A letter's renderers and fonts are made ready while the password's key is derived.

The letter command imports reportlab and our PDF code and loads the Latin fonts before it
signs in (it reads no casebook for that), beside Argon2id on its own thread; the letter and
every refusal are as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.security.keyring import TEST_COST_SETTING
from tests.e2e.cli_runner import run_in_process
from tests.e2e.conftest import CliDemos

# Notes, when the command signs in, whether the renderers and fonts are ready then.
PROBE = """
import json, sys
import app.services.users as users
real = users.UserService.sign_in
seen = []
def sign_in(self, *args, **kwargs):
    import app.pdf.fonts as fonts
    from app.domain.letter_templates import _compile
    seen.append({"renderers": "app.pdf.render" in sys.modules,
                 "fonts": fonts.REGULAR in fonts._coverage,
                 "templates compiled": _compile.cache_info().currsize})
    return real(self, *args, **kwargs)
users.UserService.sign_in = sign_in
from app.cli import main
code = main(sys.argv[1:])
metrics = sys.modules.get("reportlab.pdfbase.pdfmetrics")
seen.append({"renderers at the end": "app.pdf.render" in sys.modules,
             "bold italic read": metrics is not None
             and "CasebookSans-BoldItalic" in metrics.getRegisteredFontNames()})
sys.stdout.write("\\nSEEN " + json.dumps(seen))
sys.exit(code)
"""


def _env(password: str | None) -> dict[str, str]:
    env = {
        "CASEBOOK_USER": "Head Teacher",
        "PATH": "/usr/bin:/bin",
        TEST_COST_SETTING: os.environ.get(TEST_COST_SETTING, ""),
    }
    if password is not None:
        env["CASEBOOK_PASSWORD"] = password
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, cli_demos: CliDemos) -> Path:
    return cli_demos.copy_to(
        tmp_path_factory.mktemp("casebook"),
        lambda folder: run_in_process(["--data-dir", str(folder), "demo"], _env("demo")),
        user="Head Teacher",
        password="demo",
    )


def _letter(data: Path, out: Path, password: str | None) -> tuple[int, str, list[object]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--data-dir", str(data), "letter", "SM-2026-0001",
         "--kind", "removal", "--out", str(out)],
        capture_output=True, text=True, encoding="utf-8", env=_env(password), timeout=120,
        check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    seen = json.loads(done.stdout.rpartition("SEEN ")[2] or "[]")
    return done.returncode, done.stdout + done.stderr, seen


def test_the_letter_is_ready_to_draw_when_it_signs_in(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "letter.pdf"
    code, said, seen = _letter(demo, out, "demo")
    assert code == 0, said
    assert "Request for immediate removal" in said
    assert out.read_bytes().startswith(b"%PDF")
    # The removal letter's shipped subject and body are compiled already.
    assert seen == [
        {"renderers": True, "fonts": True, "templates compiled": 2},
        # No letter sets text in bold italic: its face is not read (app.pdf.fonts.ready).
        {"renderers at the end": True, "bold italic read": False},
    ]


def test_a_wrong_password_is_refused_as_before_and_no_letter_is_written(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "letter.pdf"
    code, said, seen = _letter(demo, out, "not the password")
    assert code == 1, said
    assert "password" in said.lower()
    assert not out.exists()
    assert len(seen) == 2


def test_without_a_password_in_the_environment_nothing_is_made_ready_early(
    demo: Path, tmp_path: Path
) -> None:
    # No derivation runs ahead (the password would be typed): nothing to do beside it.
    code, said, seen = _letter(demo, tmp_path / "letter.pdf", None)
    assert code == 1, said
    assert "No password was given" in said
    assert seen == [{"renderers at the end": False, "bold italic read": False}]


def test_a_template_that_cannot_be_compiled_ahead_is_refused_when_filled() -> None:
    from app.domain.errors import TemplateError
    from app.domain.letter_templates import LetterTemplate, compile_ahead, fill
    from app.domain.letters import LetterKind

    broken = LetterTemplate(LetterKind.REMOVAL, "school-9", "Subject", "Dear {{ parent.name")
    compile_ahead(broken)  # says nothing: the letter's own step refuses it
    with pytest.raises(TemplateError, match="cannot be read at line 1"):
        fill(broken, {}, strict=False)
