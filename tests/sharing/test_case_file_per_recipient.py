"""The case file for each recipient, read back: nobody is named who should not be."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from app.domain.sharing import RULES, Recipient
from app.services.casebook import Services
from tests.e2e.cli_runner import run_in_process
from tests.sharing.conftest import (
    AUTHOR,
    AUTHOR_VALUES,
    CHILD_FILE,
    CHILD_VALUES,
    REPORTER,
    REPORTER_VALUES,
    THIRD,
    THIRD_FILE,
    THIRD_VALUES,
    Planted,
    assert_absent,
    images_in,
    pdf_text,
    save_png_pages,
    shows_face,
)

NOT_FOR_ANYONE_BUT_POLICE = REPORTER_VALUES + CHILD_VALUES + THIRD_VALUES + (THIRD_FILE,)


@pytest.mark.parametrize("recipient", [Recipient.AUTHOR, Recipient.LADO, Recipient.PLATFORM])
def test_a_copy_names_no_third_party_and_no_file(
    services: Services, planted: Planted, recipient: Recipient
) -> None:
    pdf = services.reports.case_file(planted.case_id, recipient=recipient)
    text = pdf_text(pdf)
    assert_absent(text, NOT_FOR_ANYONE_BUT_POLICE, f"copy for {recipient}")
    assert_absent(text, ("own_post", ".png", ".pdf"), f"copy for {recipient}")
    flat = " ".join(text.split())
    assert RULES[recipient].title in flat
    assert "Withheld from this copy" in flat
    if recipient is Recipient.PLATFORM:
        assert_absent(text, AUTHOR_VALUES, "copy for the platform")
        assert "@gpj_dad" in flat  # the account the post came from
    else:
        assert AUTHOR in flat


def test_the_author_gets_only_their_letter_and_exhibits_redacted_for_them(
    services: Services, planted: Planted
) -> None:
    pdf = services.reports.case_file(planted.case_id, for_sharing=True)  # --redacted
    flat = " ".join(pdf_text(pdf).split())
    # The acknowledgement to the reporter is withheld, and says why; the author's letter is in.
    assert "Letter 1: Acknowledgement" in flat and "addressed to a third party" in flat
    assert "Letter L1" in flat and "Request for immediate removal" in flat  # the author's own
    assert "Dear Marion" not in flat and "Dear Mrs Whitlock" not in flat
    # Exhibit 1 (redacted for the author) is in, by number, date and fingerprint;
    # exhibits 2 (a PDF) and 3 (redacted for the platform only) are listed as withheld.
    assert "Exhibit 1" in flat and "redacted for the author" in flat
    assert "Exhibit 2, added" in flat and "has been redacted for" in flat
    assert "Exhibit 3, added" in flat and "No copy of it has been redacted for the author" in flat
    exhibits = services.evidence.list_evidence(planted.case_id)
    squashed = "".join(flat.split())
    assert exhibits[1].sha256 in squashed and exhibits[2].sha256 in squashed
    # The picture shown is the redacted copy: the third party's face is nowhere in it.
    pictures = [i for i in images_in(pdf) if i.size[0] > 100]
    assert pictures and not any(shows_face(i) for i in pictures)


def test_the_platform_gets_only_what_was_redacted_for_the_platform(
    services: Services, planted: Planted
) -> None:
    pdf = services.reports.case_file(planted.case_id, recipient=Recipient.PLATFORM)
    flat = " ".join(pdf_text(pdf).split())
    assert "Letters are not shared with the platform" in flat
    assert "Exhibit 3" in flat and "redacted for the platform" in flat
    assert "Exhibit 1, added" in flat  # withheld: redacted for others, not the platform
    assert not any(shows_face(i) for i in images_in(pdf))


def test_the_police_and_the_head_get_the_complete_file(
    services: Services, planted: Planted
) -> None:
    police = " ".join(
        pdf_text(services.reports.case_file(planted.case_id, recipient=Recipient.POLICE)).split()
    )
    head = " ".join(pdf_text(services.reports.case_file(planted.case_id)).split())
    for text in (police, head):
        assert REPORTER in text and THIRD in text and CHILD_FILE in text
        assert "commented: shocking" in text  # the PDF exhibit's own page
    assert "Copy for the police" in police and "Schedule 2" in police
    assert "Copy for" not in head
    pictures = images_in(services.reports.case_file(planted.case_id))
    assert any(shows_face(i) for i in pictures)  # the head sees the original


def test_a_safeguarding_summary_stays_with_the_school(services: Services, planted: Planted) -> None:
    for recipient in (Recipient.AUTHOR, Recipient.LADO, Recipient.PLATFORM):
        pdf = services.reports.case_file(planted.safeguarding_id, recipient=recipient)
        text = pdf_text(pdf)
        assert_absent(text, CHILD_VALUES, f"safeguarding copy for {recipient}")
        assert "may identify a child" in " ".join(text.split())


def test_each_copy_is_recorded_on_the_chronology(services: Services, planted: Planted) -> None:
    services.reports.case_file(planted.case_id, recipient=Recipient.LADO)
    events = [e.summary for e in services.cases.get_case(planted.case_id).events]
    assert any(
        e.startswith("Case file made for the local authority designated officer") for e in events
    )


def test_copies_look_right_on_the_page(
    services: Services, planted: Planted, tmp_path: Path
) -> None:
    pdf = services.reports.case_file(planted.case_id, recipient=Recipient.AUTHOR)
    pages = save_png_pages(pdf, tmp_path, "author-copy")
    assert len(pages) >= 5
    with Image.open(pages[0]) as cover:
        assert cover.size[0] < cover.size[1]  # A4 portrait
        assert len(set(cover.convert("L").getdata())) > 2  # something is printed


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CASEBOOK_DATA_DIR", "CASEBOOK_USER")}
    env["CASEBOOK_PASSWORD"] = "Eccleston-Lane-2026!"
    # Through the command's own entry point, in this process (tests/e2e/cli_runner.py).
    return run_in_process(["--data-dir", str(data_dir), *args], env)


def test_cli_export_for_each_recipient(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _cli(data, "init").returncode == 0
    added = _cli(
        data,
        "case",
        "add",
        "--title",
        "Rude post",
        "--category",
        "abusive",
        "--platform",
        "Facebook",
        "--summary",
        f"{REPORTER} reported it.",
    )
    assert added.returncode == 0, added.stderr
    ref = added.stdout.strip().split()[-1]
    outputs = {}
    for flags in (["--redacted"], ["--for", "lado"], ["--for", "police"], ["--for", "platform"]):
        out = tmp_path / f"{'-'.join(flags)}.pdf"
        done = _cli(data, "export", ref, "--out", str(out), *flags)
        assert done.returncode == 0, done.stderr
        outputs[flags[-1]] = pdf_text(out.read_bytes())
    assert "Copy for the author of the post" in outputs["--redacted"]
    # No one is linked, so the summary is the head's own words: they reach the police only
    # as written, and every copy states its rule.
    assert "Copy for the local authority designated officer" in outputs["lado"]
    assert "Copy for the police" in outputs["police"] and REPORTER in outputs["police"]
    assert "Copy for the platform" in outputs["platform"]
    bad = _cli(data, "export", ref, "--out", str(tmp_path / "x.pdf"), "--for", "press")
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1
    assert "'press' is not a recipient; use one of: author, lado, police, platform" in bad.stderr
    assert not (tmp_path / "x.pdf").exists()
