"""A casebook shared by several PCs through PostgreSQL: two writers, one set of records.

Each "PC" is its own data folder (its own log and lock) pointing at the same database.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from app.domain.categories import Category
from app.domain.errors import ConflictError
from app.domain.records import CaseDraft
from app.services.casebook import open_casebook
from tests.conftest import open_signed_in
from tests.e2e.cli_runner import run_in_process
from tests.postgres_server import PostgresServer


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()


def cli(
    pc: Path, url: str, *args: str, user: str = "Head Teacher"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CASEBOOK_USER": "Head Teacher",
        "CASEBOOK_PASSWORD": "demo",
        "CASEBOOK_DATABASE_URL": url,
    }
    return run_in_process(["--data-dir", str(pc), *args], env)


def draft(title: str, summary: str = "") -> CaseDraft:
    return CaseDraft(title=title, categories=frozenset({Category.ABUSIVE}), summary=summary)


def test_the_second_save_is_told_who_changed_the_case_and_when(tmp_path: Path, url: str) -> None:
    office = open_casebook(tmp_path / "office-pc", actor="Mrs A. Head", database_url=url)
    deputy = open_casebook(
        tmp_path / "deputy-pc", actor="Mr B. Deputy", database_url=url, key=office.data_key
    )
    try:
        case = office.cases.open_case(draft("Comments about the trip"))
        seen_by_deputy = deputy.cases.find_case(case.reference)
        deputy.cases.update_case(
            case.id, draft("Comments about the trip", "Deputy's notes"),
            expected_version=seen_by_deputy.version,
        )  # fmt: skip
        with pytest.raises(ConflictError) as caught:
            office.cases.update_case(
                case.id, draft("Comments about the trip", "Head's notes"),
                expected_version=case.version,
            )  # fmt: skip
        message = caught.value.message
        assert message.startswith(f"Case {case.reference} was changed by Mr B. Deputy at ")
        assert "reload it" in message
        # Never a silent overwrite: the deputy's words are still there.
        assert office.cases.get_case(case.id).summary == "Deputy's notes"
    finally:
        office.close()
        deputy.close()


def test_two_writers_at_the_same_moment_one_wins_one_is_told(tmp_path: Path, url: str) -> None:
    first = open_casebook(tmp_path / "pc0", actor="Writer 0", database_url=url)
    pcs = [
        first,
        open_casebook(tmp_path / "pc1", actor="Writer 1", database_url=url, key=first.data_key),
    ]
    try:
        case = pcs[0].cases.open_case(draft("Shared case"))

        def save(n: int, round_: int) -> str:
            try:
                pcs[n].cases.update_case(
                    case.id,
                    draft("Shared case", f"Writer {n}, round {round_}"),
                    expected_version=case.version,
                )
                return "saved"
            except ConflictError:
                return "refused"

        for round_ in range(5):
            case = pcs[0].cases.get_case(case.id)
            with ThreadPoolExecutor(2) as pool:
                outcomes = sorted(pool.map(lambda n: save(n, round_), range(2)))  # noqa: B023
            assert outcomes == ["refused", "saved"]
    finally:
        for pc in pcs:
            pc.close()


def test_references_stay_unique_when_many_pcs_open_cases_at_once(tmp_path: Path, url: str) -> None:
    first = open_casebook(tmp_path / "pc0", database_url=url)
    pcs = [first] + [
        open_casebook(tmp_path / f"pc{n}", database_url=url, key=first.data_key) for n in (1, 2, 3)
    ]
    try:
        with ThreadPoolExecutor(4) as pool:
            opened = list(
                pool.map(
                    lambda n: [
                        pcs[n % 4].cases.open_case(draft(f"Case {n}-{i}")) for i in range(10)
                    ],
                    range(4),
                )
            )
        references = [case.reference for batch in opened for case in batch]
        assert len(set(references)) == 40
        assert (
            sorted(references) == [f"SM-2026-{n:04d}" for n in range(1, 41)]
            or len({r[:8] for r in references}) == 1
        )
    finally:
        for pc in pcs:
            pc.close()


def test_evidence_and_letters_added_on_one_pc_are_there_on_another(
    tmp_path: Path, url: str
) -> None:
    office, classroom = tmp_path / "office-pc", tmp_path / "classroom-pc"
    assert cli(office, url, "demo").returncode == 0
    shot = tmp_path / "post.png"
    Image.new("RGB", (120, 80), "orange").save(shot)
    added = cli(office, url, "evidence", "add", "SM-2026-0001", str(shot))
    assert added.returncode == 0, added.stderr
    letter = cli(
        office, url, "letter", "SM-2026-0001", "--kind", "acknowledgement",
        "--out", str(tmp_path / "letter.pdf"), "--confirm-post-details",
    )  # fmt: skip
    assert letter.returncode == 0, letter.stderr

    listed = json.loads(cli(classroom, url, "evidence", "list", "SM-2026-0001", "--json").stdout)
    assert "post.png" in [e["original_name"] for e in listed]
    verify = cli(classroom, url, "evidence", "verify")
    assert verify.returncode == 0, verify.stderr
    letters = json.loads(cli(classroom, url, "letters", "SM-2026-0001", "--json").stdout)
    assert [x["kind"] for x in letters] == ["acknowledgement"]
    # Nothing went into either PC's folder: the files live in the database.
    assert not any((office / "blobs").rglob("*")) and not any((classroom / "blobs").rglob("*"))
    services = open_signed_in(classroom, "Head Teacher", "demo", database_url=url)
    try:
        case_id = services.cases.case_id_for("SM-2026-0001")
        issued = services.letters.list_letters(case_id)[0]
        assert services.letters.letter_pdf(issued.id) == (tmp_path / "letter.pdf").read_bytes()
    finally:
        services.close()


def test_a_server_that_cannot_be_reached_is_one_clear_sentence(tmp_path: Path) -> None:
    result = cli(tmp_path / "pc", "postgresql+psycopg://casebook@127.0.0.1:9/casebook", "cases")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "database server cannot be reached" in result.stderr
    bad = cli(tmp_path / "pc", f"sqlite:///{tmp_path / 'x.db'}", "cases")
    assert bad.returncode == 1 and "Only PostgreSQL" in bad.stderr
