"""The window tests' demonstration casebook is a copy of one made per worker
(tests/demo_casebook.py): it must be what filling a new casebook afresh gives, sealed
safeguarding cases, exhibits and letters readable, and a head teacher able to sign up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.domain.records import CaseFilter, CaseSort
from app.services.casebook import Services, open_casebook
from app.services.demo import create_demo, is_demo
from tests.conftest import open_signed_in
from tests.demo_casebook import DemoCasebooks

PASSWORD = "tide-marble-orchard-42"


def _seen(services: Services) -> dict[str, Any]:
    """What the office sees in a demonstration casebook, without the moments it was made."""
    rows = services.cases.list_cases(CaseFilter(), CaseSort("reference", False))
    cases = []
    for row in rows:
        case = services.cases.get_case(row.id)
        exhibits = services.evidence.list_evidence(row.id, include_copies=True)
        cases.append(
            (
                case.reference,
                case.title,
                case.summary,
                case.status,
                sorted(c.value for c in case.categories),
                [p.person.name for p in case.people],
                [(e.kind, e.summary) for e in case.events],
                [(e.original_name, services.evidence.content(e.id)) for e in exhibits],
                [
                    (letter.kind, letter.recipient_name, letter.subject, letter.is_sent)
                    for letter in services.letters.list_letters(row.id)
                ],
            )
        )
    return {
        "cases": cases,
        "demo": is_demo(services),
        "files intact": services.evidence.verify().ok,
        "audit": services.audit.verify().ok,
    }


def test_a_copy_of_the_demonstration_is_the_demonstration_made_afresh(
    tmp_path: Path, demo_casebooks: DemoCasebooks
) -> None:
    fresh = open_casebook(tmp_path / "fresh", actor="Mrs Test")
    try:
        create_demo(fresh)
        expected = _seen(fresh)
    finally:
        fresh.close()
    copy = demo_casebooks.copy_to(tmp_path / "copy", actor="Mrs Test")
    try:
        seen = _seen(copy)
        copy.users.create_first_user("head", PASSWORD)
    finally:
        copy.close()
    assert seen == expected
    assert any("safeguarding" in case[4] for case in seen["cases"])  # sealed ones were read
    assert seen["demo"] and seen["files intact"] and seen["audit"]
    # The head teacher who signs up holds the safeguarding key: sealed cases open for them.
    head = open_signed_in(tmp_path / "copy", "head", PASSWORD, actor="Mrs Test")
    try:
        assert _seen(head)["cases"] == expected["cases"]
    finally:
        head.close()


def test_each_copy_is_a_casebook_of_its_own(tmp_path: Path, demo_casebooks: DemoCasebooks) -> None:
    first = demo_casebooks.copy_to(tmp_path / "first", actor="Mrs Test")
    second = demo_casebooks.copy_to(tmp_path / "second", actor="Mrs Test")
    try:
        (case, *_) = first.cases.list_cases(CaseFilter(), CaseSort("reference", False))
        first.cases.add_note(case.id, "Only in the first copy")
        assert not any(
            e.summary == "Only in the first copy" for e in second.cases.get_case(case.id).events
        )
    finally:
        first.close()
        second.close()
