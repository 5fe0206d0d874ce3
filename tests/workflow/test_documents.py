"""The case file bundle and the governors' report, read back as a person would."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from app.domain.categories import Category
from app.domain.people import CaseRole, PersonKind
from app.domain.policy import CaseOutcome, StepOutcome
from app.domain.records import CaseDetail, PersonDraft
from app.domain.status import CaseStatus
from app.evidence.derivatives import Box
from app.services.casebook import Services
from tests.conftest import Clock, case_draft
from tests.e2e.cli_runner import run_in_process


def png(colour: str = "white") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(out, "PNG")
    return out.getvalue()


def small_pdf(pages: int = 2) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    for number in range(pages):
        canvas.drawString(100, 700, f"Screenshot page {number + 1} kiwifruit")
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def full_case(services: Services, make_case: Callable[..., CaseDetail]) -> CaseDetail:
    case = make_case(
        title="Photo of Year 2 on the trip",
        categories={Category.SAFEGUARDING, Category.ABUSIVE},
        summary="Photo naming a pupil, with abusive comments about staff.",
        platform="Facebook",
    )
    author = services.people.add_person(
        PersonDraft(name="Dana Poster", kind=PersonKind.PARENT, email="dana@example.org")
    )
    reporter = services.people.add_person(
        PersonDraft(name="Rita Reporter", kind=PersonKind.PARENT, phone="01744 000000")
    )
    services.cases.link_person(case.id, author.id, CaseRole.AUTHOR)
    services.cases.link_person(case.id, reporter.id, CaseRole.REPORTER)
    services.evidence.add_bytes(
        case.id,
        [
            ("shot.png", png()),
            ("thread.pdf", small_pdf(2)),
            ("message.txt", b"Rita Reporter sent this"),
        ],
    )
    services.cases.add_note(case.id, "Rita Reporter phoned the office.")
    return services.cases.get_case(case.id)


def test_bundle_has_cover_standards_exhibits_manifest_and_footers(
    services: Services, full_case: CaseDetail
) -> None:
    pdf = services.reports.case_file(full_case.id)
    pages = text_of(pdf)
    whole = "\n".join(pages)
    assert "Case file" in pages[0] and full_case.reference in pages[0]
    standard = services.ctx.code.standard("safeguarding").text
    flat = " ".join(whole.split())
    assert " ".join(standard.split())[:120] in flat
    for number in (1, 2, 3):
        assert f"Exhibit {number}:" in whole
    assert "kiwifruit" in whole  # the PDF exhibit's own page is included
    assert "Rita Reporter sent this" in whole  # text exhibit shown
    assert "dana@example.org" in whole
    squashed = re.sub(r"\s", "", whole)
    for exhibit in services.evidence.list_evidence(full_case.id):
        stored = services.evidence.content(exhibit.id)
        assert hashlib.sha256(stored).hexdigest() == exhibit.sha256
        assert exhibit.sha256 in squashed
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert f"Case {full_case.reference}" in page
        assert f"Page {number} of {total}" in page
        assert "Generated 24 November 2026" in page


def test_bundle_for_sharing_withholds_unredacted_exhibits_and_third_parties(
    services: Services, full_case: CaseDetail
) -> None:
    first = services.evidence.list_evidence(full_case.id)[0]
    services.evidence.redact(first.id, [Box(10, 10, 100, 60)])
    whole = "\n".join(text_of(services.reports.case_file(full_case.id, for_sharing=True)))
    assert "Copy for the author of the post" in whole
    assert "Rita Reporter" not in whole and "01744" not in whole
    assert "Dana Poster" in whole  # the author's own details are theirs to see
    flat = " ".join(whole.split())
    assert "Exhibit 2, added" in flat and "Exhibit 3, added" in flat  # listed as withheld
    assert "not a picture" in flat
    assert "shot.png" not in whole and "thread.pdf" not in whole
    assert "Copy shown:" in whole


def test_governors_report_counts_match_known_data(services: Services, clock: Clock) -> None:
    clock.set(datetime(2026, 9, 10, 9, 0, tzinfo=UTC))
    a = services.cases.open_case(case_draft(categories={Category.ABUSIVE}, platform="Facebook"))
    b = services.cases.open_case(
        case_draft(categories={Category.ABUSIVE, Category.INACCURATE}, platform="Facebook")
    )
    clock.set(datetime(2026, 10, 5, 9, 0, tzinfo=UTC))
    c = services.cases.open_case(case_draft(categories={Category.PROCEDURE}, platform="X"))
    services.workflow.take_step(
        a.id, "first-letter", StepOutcome.REMOVED, when=datetime(2026, 9, 12, 9, 0, tzinfo=UTC)
    )
    services.workflow.set_outcome(
        b.id, CaseOutcome.CORRECTED, datetime(2026, 9, 14, 9, 0, tzinfo=UTC)
    )
    services.workflow.set_outcome(c.id, CaseOutcome.REFUSED)
    services.cases.change_status(c.id, CaseStatus.CLOSED_NO_ACTION)
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    services.cases.open_case(case_draft())  # outside the period
    report = services.reports.governors_report(date(2026, 9, 1), date(2026, 10, 31))
    # Fewer than 3 is shown as such; the open count is hidden too, or 3 - 2 gives it away.
    assert report.total.text == "3"
    assert report.open.hidden and report.closed.hidden
    assert [(f.label, f.text) for f in report.by_platform] == [("Other platforms", "3")]
    assert [f.text for f in report.by_month] == ["fewer than 3", "fewer than 3"]
    assert report.removals.removed.hidden
    exact = services.reports.governors_report(date(2026, 9, 1), date(2026, 10, 31), 2)
    standards = {f.label: f.count for f in exact.by_standard}
    assert standards["Standard 1: Abusive"] == 2
    outcomes = {f.label: f.text for f in exact.by_outcome}
    assert outcomes["Removed"] == "fewer than 2" and outcomes["Refused"] == "fewer than 2"
    assert exact.removals.removed.count == 2
    assert exact.removals.median_from_report == pytest.approx(72)  # 48 and 96 hours
    rows = list(csv.reader(io.StringIO(services.reports.governors_csv(exact))))
    assert ["cases", "total", "3"] in rows
    assert ["removal", "All platforms: median hours from report", "72.0"] in rows
    whole = "\n".join(text_of(services.reports.governors_pdf(exact)))
    assert "01/09/2026 to 31/10/2026" in whole and "3 days" in whole
    assert "SM-" not in whole


CLI_PASSWORD = "Eccleston-Lane-2026!"


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CASEBOOK_DATA_DIR", "CASEBOOK_USER")}
    env["CASEBOOK_PASSWORD"] = CLI_PASSWORD
    return run_in_process(["--data-dir", str(data_dir), *args], env)


def test_cli_export_report_and_csv(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "init").returncode == 0
    added = run_cli(
        data,
        "case",
        "add",
        "--title",
        "Rude post",
        "--category",
        "abusive",
        "--platform",
        "Facebook",
    )
    assert added.returncode == 0, added.stderr
    ref = added.stdout.strip().split()[-1]
    out = tmp_path / "bundle.pdf"
    done = run_cli(data, "export", ref, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert ref in text_of(out.read_bytes())[0]
    shared = run_cli(data, "export", ref, "--out", str(tmp_path / "shared.pdf"), "--redacted")
    assert shared.returncode == 0, shared.stderr
    year = date.today().year
    report = run_cli(
        data,
        "report",
        "--from",
        f"01/01/{year}",
        "--to",
        f"31/12/{year}",
        "--out",
        str(tmp_path / "r.pdf"),
        "--csv",
        str(tmp_path / "r.csv"),
    )
    assert report.returncode == 0, report.stderr
    assert "cases,total,fewer than 3" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    listing = run_cli(data, "cases", "--csv", str(tmp_path / "cases.csv"))
    assert listing.returncode == 0, listing.stderr
    assert "Rude post" in (tmp_path / "cases.csv").read_text(encoding="utf-8-sig")
    bad = run_cli(
        data, "report", "--from", "31/12/2026", "--to", "1/1/2026", "--out", str(tmp_path / "x.pdf")
    )
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "before its start" in bad.stderr
    missing = run_cli(data, "export", "SM-2020-0099", "--out", str(tmp_path / "y.pdf"))
    assert missing.returncode == 1 and "no case" in missing.stderr


def test_governors_report_is_made_off_the_window_thread(
    qtbot, services: Services, tmp_path: Path
) -> None:
    """The runner delivers the report's PDF and CSV without blocking the window."""
    from app.ui.signals import AppSignals

    services.cases.open_case(case_draft("Post for the report", {Category.ABUSIVE}))
    signals = AppSignals()
    operations = services.operations
    operation = signals.runner.run(
        lambda _p, _c: operations.governors_report(date(2026, 9, 1), date(2026, 12, 31), True),
        initiator="test",
    )
    with qtbot.waitSignal(operation.succeeded, timeout=None) as result:
        pass
    files = result.args[0]
    total, pdf, csv_text = files.case_count, files.pdf, files.csv
    assert total == 1
    assert pdf.startswith(b"%PDF")
    assert "cases,total,fewer than 3" in csv_text
