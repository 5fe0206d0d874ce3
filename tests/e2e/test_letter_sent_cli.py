"""The workflow of letters through the command line, as a school's script runs it: a letter is
prepared until ``letter-sent`` records it, which ticks its action, takes its ladder step and
starts a reply-by clock that lands on a working day; a follow-up waits for that date; a
kind outside the case's standards needs ``--confirm-kind``; ``--paragraph`` is printed; a
ladder step keeps the platform's reference.

The casebook is a copy of one the ``demo`` command made (tests/e2e/conftest.py); the
commands run through the entry point in this process (tests/e2e/cli_runner.py). Dates follow
the real clock, so expectations are worked out with the same working-day calendar.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.domain.code_of_conduct import normalise_spacing
from app.domain.dates import london_today
from app.domain.working_days import WorkingCalendar, format_weekday_date
from tests.e2e.conftest import CliDemos

# Commands run as in the letters tests.
from tests.e2e.test_letters_cli import _run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, cli_demos: CliDemos) -> Path:
    return cli_demos.copy_to(
        tmp_path_factory.mktemp("casebook"),
        lambda folder: _run(folder, "demo"),
        user="Head Teacher",
        password="demo",
    )


def _new_case(
    data: Path, category: str, author: str = "Pat Example", *, details: bool = True
) -> str:
    # Where and when the post was made, which letters name (see the test of --confirm-post-details).
    known = ["--posted-at", "2026-11-20T19:30", "--place", "Parents Chat"] if details else []
    done = _run(
        data, "case", "add", "--title", f"A {category} post", "--category", category,
        "--platform", "Facebook", "--posted-by", author, *known, "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["reference"])


def _letters(data: Path, ref: str) -> list[dict[str, object]]:
    done = _run(data, "letters", ref, "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def _pdf_text(path: Path) -> str:
    return normalise_spacing(" ".join(p.extract_text() for p in PdfReader(path).pages))


def test_letter_sent_ticks_the_action_takes_the_step_and_starts_the_clock(
    demo: Path, tmp_path: Path
) -> None:
    ref = _new_case(demo, "abusive")
    out = tmp_path / "removal.pdf"
    assert _run(demo, "letter", ref, "--kind", "removal", "--method", "hand",
                "--out", str(out)).returncode == 0  # fmt: skip
    [letter] = _letters(demo, ref)
    assert letter["state"] == "prepared" and letter["sent_on"] is None
    shown = json.loads(_run(demo, "case", "show", ref, "--json").stdout)
    assert shown["status"] == "new" and shown["follow_up_due"] is None

    done = _run(demo, "letter-sent", ref, str(letter["id"]), "--method", "hand", "--json")
    assert done.returncode == 0, done.stderr
    sent = json.loads(done.stdout)
    today = london_today()
    reply_by = WorkingCalendar().reply_by(today, 7)
    assert sent["sent_on"] == today.isoformat() and sent["reply_by"] == reply_by.isoformat()
    assert reply_by.weekday() < 5
    [letter] = _letters(demo, ref)
    assert (letter["state"], letter["sent_method"]) == ("sent", "hand")

    shown = json.loads(_run(demo, "case", "show", ref, "--json").stdout)
    assert shown["status"] == "letter_sent"
    assert shown["follow_up_due"] == reply_by.isoformat()
    summaries = [e["summary"] for e in shown["events"]]
    assert "Done: Send the letter asking for removal (letter sent)" in summaries
    assert "Escalation: First letter (awaiting a response). Letter sent" in summaries
    # The printed letter names a weekday.
    printed = WorkingCalendar().reply_by(today, 7)
    assert f"by {format_weekday_date(printed)}" in _pdf_text(out)


def test_letter_sent_refuses_bad_values_in_one_line(demo: Path, tmp_path: Path) -> None:
    ref = _new_case(demo, "abusive", "Sam Example")
    _run(demo, "letter", ref, "--kind", "removal", "--method", "hand",
         "--out", str(tmp_path / "x.pdf"))  # fmt: skip
    [letter] = _letters(demo, ref)
    tomorrow = (london_today() + timedelta(days=1)).isoformat()
    for args, code, words in [
        (["999", "--method", "post"], 1, f"Case {ref} has no letter 999"),
        ([str(letter["id"]), "--method", "pigeon"], 2, "'pigeon' is not a way of sending"),
        ([str(letter["id"]), "--method", "post", "--on", tomorrow], 1, "cannot be in the future"),
        ([str(letter["id"]), "--method", "post", "--on", "31/02/2026"], 2, "is not a date"),
    ]:
        done = _run(demo, "letter-sent", ref, *args)
        assert done.returncode == code, (args, done.stderr)
        assert words in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert _letters(demo, ref)[0]["state"] == "prepared"


def test_a_follow_up_waits_until_the_reply_by_date_has_passed(demo: Path, tmp_path: Path) -> None:
    ref = _new_case(demo, "abusive", "Kim Example")
    _run(demo, "letter", ref, "--kind", "removal", "--method", "hand",
         "--out", str(tmp_path / "first.pdf"))  # fmt: skip
    follow = tmp_path / "follow.pdf"
    early = _run(demo, "letter", ref, "--kind", "follow-up", "--method", "hand",
                 "--out", str(follow))  # fmt: skip
    assert early.returncode == 1 and "has not been recorded as sent" in early.stderr
    [letter] = _letters(demo, ref)
    assert _run(demo, "letter-sent", ref, str(letter["id"]), "--method", "hand").returncode == 0
    done = _run(demo, "letter", ref, "--kind", "follow-up", "--method", "hand",
                "--out", str(follow))  # fmt: skip
    reply_by = WorkingCalendar().reply_by(london_today(), 7)
    allowed = format_weekday_date(reply_by + timedelta(days=1))
    assert done.returncode == 1
    assert f"A follow-up may be sent from {allowed}" in done.stderr
    assert not follow.exists() and len(_letters(demo, ref)) == 1


def test_a_kind_outside_the_case_standards_needs_confirm_kind(demo: Path, tmp_path: Path) -> None:
    ref = _new_case(demo, "abusive", "Lee Example")
    facts = ["--inaccurate", "That the trip was cancelled.", "--correct-facts", "It was not."]
    assert _run(demo, "case", "set", ref, *facts).returncode == 0
    out = tmp_path / "correction.pdf"
    args = ["letter", ref, "--kind", "correction", "--method", "hand", "--out", str(out)]
    refused = _run(demo, *args)
    assert refused.returncode == 1 and "add --confirm-kind" in refused.stderr
    assert not out.exists() and _letters(demo, ref) == []
    assert _run(demo, *args, "--confirm-kind").returncode == 0
    assert out.exists()


def test_a_letter_without_the_posts_details_needs_confirm_post_details(
    demo: Path, tmp_path: Path
) -> None:
    ref = _new_case(demo, "abusive", details=False)
    out = tmp_path / "removal.pdf"
    args = ["letter", ref, "--kind", "removal", "--method", "hand", "--out", str(out)]
    refused = _run(demo, *args)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "does not record the group or page, or the date of the post" in refused.stderr
    assert "Not issued; add --confirm-post-details to issue it anyway." in refused.stderr
    assert not out.exists() and _letters(demo, ref) == []
    assert _run(demo, *args, "--confirm-post-details").returncode == 0
    assert "material you posted on Facebook that refers to" in _pdf_text(out)


def test_a_request_goes_to_someone_else_only_when_named_with_to(demo: Path, tmp_path: Path) -> None:
    # SM-2026-0005: Gareth Pryce-Jones wrote the post; Ayşe Yılmaz reported it.
    out = tmp_path / "r.pdf"
    before = len(_letters(demo, "SM-2026-0005"))
    args = ["letter", "SM-2026-0005", "--kind", "removal", "--method", "hand", "--out", str(out)]
    args.append("--confirm-post-details")  # the demonstration case records no group
    assert _run(demo, *args).returncode == 0
    assert _letters(demo, "SM-2026-0005")[-1]["recipient"] == "Gareth Pryce-Jones"
    # Naming the reporter with --to is the confirmation that the request goes to her.
    assert _run(demo, *args, "--to", "Ayşe Yılmaz").returncode == 0
    assert _letters(demo, "SM-2026-0005")[-1]["recipient"] == "Ayşe Yılmaz"
    assert len(_letters(demo, "SM-2026-0005")) == before + 2


def test_paragraph_is_printed_in_the_letter(demo: Path, tmp_path: Path) -> None:
    ref = _new_case(demo, "abusive", "Jo Example")
    out = tmp_path / "p.pdf"
    words = "We spoke at the gate on Friday and I was grateful for your time."
    done = _run(demo, "letter", ref, "--kind", "removal", "--method", "hand",
                "--out", str(out), "--paragraph", words)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert words in _pdf_text(out)


def test_case_step_keeps_the_platform_reference(demo: Path) -> None:
    ref = _new_case(demo, "safeguarding", "Alex Example")
    done = _run(demo, "case", "step", ref, "report-platform", "--reference", "IG-55512",
                "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["steps"][-1]["report_reference"] == "IG-55512"
    # Safeguarding goes to the helpline at once, not after 48 hours.
    assert shown["next"] == "helpline"
    assert shown["next_due"] == shown["steps"][-1]["taken_at"]
    bad = _run(demo, "case", "step", ref, "carrier-pigeon")
    assert bad.returncode == 1 and "'carrier-pigeon' is not a step" in bad.stderr
