"""Batch letters and the revised Code, driven through their real dialogs offscreen."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate

from app.domain.categories import Category
from app.domain.letters import LetterKind
from app.domain.people import CaseRole
from app.domain.records import CaseDraft, PersonDraft
from app.services.casebook import Services, open_casebook
from app.services.context import resources_dir
from app.services.demo import DEMO_SCHOOL_PROFILE
from app.ui.dialogs.code_adopt import AdoptCodeDialog
from app.ui.letter_batch import BatchLetterDialog
from tests.ui.conftest import screenshot

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CODE_TEXT = resources_dir() / "code_of_conduct" / "code_of_conduct_social_media.txt"


@pytest.fixture
def services(tmp_path: Path) -> Services:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def _cases(services: Services) -> list[int]:
    ids = []
    for n, name in enumerate(("Zoë Łukasiewicz", "Siobhán O’Brien", "")):
        case = services.cases.open_case(
            CaseDraft(
                title=f"Post {n}",
                categories=frozenset({Category.ABUSIVE}),
                platform="Facebook",
                posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
                post_place="Eccleston Parents Chat",
            )
        )
        if name:
            person = services.people.add_person(
                PersonDraft(
                    name=name, address_lines=(f"{n + 1} Example Close",), postcode="WA10 5AA"
                )
            )
            services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
        ids.append(case.id)
    return ids


def test_one_kind_of_letter_is_issued_on_each_selected_case(qtbot, services: Services):
    ids = _cases(services)
    dialog = BatchLetterDialog(services, ids)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(LetterKind.REMOVAL))
    with qtbot.waitSignal(dialog.plan_ready, timeout=20_000):
        dialog.prepare_button.click()
    assert dialog.cases.count() == 3
    assert dialog.issue_button.text() == "&Issue 2 letters" and dialog.issue_button.isEnabled()
    # A preview of each; the case without an author says why it has none.
    dialog.cases.setCurrentRow(1)
    qtbot.waitUntil(lambda: dialog.preview.page_count() == 1)
    assert "O’Brien" in dialog.cases.item(1).text()
    dialog.cases.setCurrentRow(2)
    assert "No one is linked to case" in dialog.refusal.text()
    dialog.cases.setCurrentRow(0)
    qtbot.waitUntil(lambda: dialog.preview.page_count() == 1)
    screenshot(qtbot, dialog, "batch_letters", 500)
    with qtbot.waitSignal(dialog.issued, timeout=20_000) as blocker:
        dialog.issue_button.click()
    result = blocker.args[0]
    assert len(result.issued) == 2 and result.skipped == (
        services.cases.get_case(ids[2]).reference,
    )
    assert len(PdfReader(io.BytesIO(result.pdf)).pages) == 2
    for case_id in ids[:2]:
        [letter] = services.letters.list_letters(case_id)
        assert letter.kind == LetterKind.REMOVAL
    assert services.letters.list_letters(ids[2]) == []
    assert not dialog.issue_button.isEnabled()  # the same plan is never issued twice
    assert "2 letters issued, each recorded on its case" in dialog.refusal.text()


def test_a_batch_stops_between_letters_when_cancelled(services: Services):
    ids = _cases(services)
    asked: list[int] = []
    plan = services.letters.prepare_batch(
        ids,
        LetterKind.REMOVAL,
        cancelled=lambda: len(asked) > 0,
        progress=lambda d, t: asked.append(d),
    )
    assert plan.cancelled and len(plan.items) == 1
    plan = services.letters.prepare_batch(ids, LetterKind.REMOVAL)
    done: list[int] = []
    result = services.letters.issue_batch(
        plan, progress=lambda d, t: done.append(d), cancelled=lambda: len(done) > 0
    )
    assert result.cancelled and len(result.issued) == 1
    assert len(PdfReader(io.BytesIO(result.pdf)).pages) == 1
    assert len(services.letters.list_letters(ids[0])) == 1
    assert services.letters.list_letters(ids[1]) == []


def test_the_head_adopts_a_revised_code_in_the_window(qtbot, services: Services, tmp_path: Path):
    revised = tmp_path / "revised code.txt"
    revised.write_text(CODE_TEXT.read_text(encoding="utf-8"), encoding="utf-8")
    dialog = AdoptCodeDialog(services)
    qtbot.addWidget(dialog)
    dialog.load(revised)
    assert len(dialog.clause_boxes) == 5 and dialog.adopt_button.isEnabled()
    # Two clauses mapped to the same standard: refused with a sentence, nothing kept.
    dialog.clause_boxes[1].setCurrentIndex(1)
    dialog.adopt_button.click()
    assert "2 clauses are mapped to the standard “abusive”" in dialog.message.text()
    assert [v.version for v in services.code.versions()] == ["1.0"]
    dialog.clause_boxes[1].setCurrentIndex(2)
    start = NOW.date() + timedelta(days=3)
    dialog.effective.setDate(QDate(start.year, start.month, start.day))
    screenshot(qtbot, dialog, "adopt_code")
    dialog.adopt_button.click()
    assert dialog.adopted is not None and dialog.adopted.version == "1.1"
    assert [(v.version, v.effective_on) for v in services.code.versions()] == [
        ("1.0", datetime(2026, 11, 25).date()),
        ("1.1", start),
    ]
