"""``casebook retention``, ``casebook case delete`` and ``casebook sar``, as a script sees them."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from pypdf import PdfReader

from app.domain.categories import Category
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.domain.status import CaseStatus
from app.services.casebook import open_casebook
from tests.e2e.test_cli import PASSWORD, USER, assert_refused, cli


def _setup(data_dir: Path) -> tuple[str, str]:
    services = open_casebook(data_dir, actor=USER)
    try:
        services.users.create_first_user(USER, PASSWORD)
        closed = services.cases.open_case(
            CaseDraft(title="Old post", categories=frozenset({Category.ABUSIVE}))
        )
        author = services.people.add_person(PersonDraft(name="Dana Wells", kind=PersonKind.PARENT))
        other = services.people.add_person(PersonDraft(name="Priya Shah", kind=PersonKind.PARENT))
        services.cases.link_person(closed.id, author.id, CaseRole.AUTHOR)
        services.cases.link_person(closed.id, other.id, CaseRole.REPORTER)
        services.cases.add_note(closed.id, "Priya Shah rang about Dana Wells.")
        services.cases.change_status(closed.id, CaseStatus.CLOSED_NO_ACTION)
        still_open = services.cases.open_case(
            CaseDraft(title="New post", categories=frozenset({Category.ABUSIVE}))
        )
        return closed.reference, still_open.reference
    finally:
        services.close()


def test_retention_delete_and_sar_end_to_end(tmp_path: Path) -> None:
    data_dir = tmp_path / "casebook"
    closed, still_open = _setup(data_dir)

    listing = cli("retention", "--all", "--json", data_dir=data_dir)
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [r["reference"] for r in rows] == [closed]
    assert rows[0]["reason"] == "Closed case: reviewed 6 years after closing"
    assert rows[0]["review_date"].startswith(str(int(rows[0]["closed_on"][:4]) + 6))
    due = cli("retention", data_dir=data_dir)
    assert due.stdout.strip() == "0 cases due for review"

    out = tmp_path / "sar.zip"
    sar = cli("sar", "--person", "dana wells", "--out", str(out), data_dir=data_dir)
    assert sar.returncode == 0, sar.stderr
    assert "Dana Wells" in sar.stdout
    archive = zipfile.ZipFile(out)
    pdf = archive.read(archive.namelist()[0])
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "[third party] rang about Dana Wells." in " ".join(text.split())
    assert "Priya" not in text

    refused = cli("case", "delete", still_open, "--reason", "Tidy up", data_dir=data_dir)
    assert_refused(refused, 1, "still open")
    deleted = cli(
        "case", "delete", closed, "--reason", "Reviewed after six years", data_dir=data_dir
    )
    assert deleted.returncode == 0, deleted.stderr
    assert f"Deleted case {closed}" in deleted.stdout
    gone = cli("case", "show", closed, data_dir=data_dir)
    assert gone.returncode == 1
    assert_refused(cli("sar", "--person", "Dana Wells", "--out", str(out), data_dir=data_dir), 1)
    missing_reason = cli("case", "delete", closed, data_dir=data_dir)
    assert missing_reason.returncode == 2
