"""Each user action is one command: all of it or none of it, with its policy consequences,
and a record of what it changed."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from app.domain.categories import Category
from app.domain.errors import TransitionError, ValidationError
from app.domain.policy import CaseOutcome, StepOutcome
from app.domain.records import CaseDetail, CaseFilter, PersonDraft
from app.domain.status import CaseStatus
from app.services.casebook import Services
from tests.conftest import Clock, case_draft


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "PNG")
    return out.getvalue()


def _action(services: Services, case_id: int, rule_id: str):  # type: ignore[no-untyped-def]
    return next(i for i in services.workflow.checklist(case_id) if i.rule_id == rule_id)


# ----- opening a case with its author -------------------------------------------------------


def test_opening_a_case_with_an_ambiguous_author_saves_nothing(services: Services) -> None:
    services.people.add_person(PersonDraft(name="Sam Jones"))
    services.people.add_person(PersonDraft(name="Sam Jones"))
    people_before = len(services.people.search_people(""))
    with pytest.raises(ValidationError, match="More than one person is called Sam Jones"):
        services.operations.open_case(case_draft(), author="Sam Jones")
    assert services.cases.count_cases(CaseFilter()) == 0
    assert len(services.people.search_people("")) == people_before


def test_opening_a_case_with_a_new_author_links_them_in_the_same_step(
    services: Services,
) -> None:
    result = services.operations.open_case(case_draft(), author="  Pat Example ")
    case = result.value
    assert [(p.person.name, p.role.value) for p in case.people] == [("Pat Example", "author")]
    assert [e.kind for e in case.events] == ["case_opened", "person_linked"]
    assert result.changes.case_ids == {case.id}
    assert result.changes.cases and result.changes.people
    again = services.operations.open_case(case_draft("Second post"), author="pat example")
    assert again.value.people[0].person.id == case.people[0].person.id


def test_a_refused_draft_creates_no_person_either(services: Services) -> None:
    with pytest.raises(ValidationError):
        services.operations.open_case(case_draft(title=""), author="Nobody Yet")
    assert services.people.search_people("Nobody") == []


# ----- consequences ------------------------------------------------------------------------


def test_adding_evidence_ticks_capture_evidence(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case()
    result = services.operations.add_evidence_bytes(case.id, [("post.png", _png())])
    item = _action(services, case.id, "capture-evidence")
    assert item.done and item.done_by == "Mrs A. Head" and "Exhibit 1" in item.note
    assert result.changes.evidence and result.changes.workflow
    # The same file again is a duplicate: nothing new, and no second tick.
    services.operations.add_evidence_bytes(case.id, [("post.png", _png())])
    kinds = [e.kind for e in services.cases.get_case(case.id).events]
    assert kinds.count("action_done") == 1


def test_reporting_to_the_platform_on_the_ladder_ticks_that_action(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case(categories={Category.SAFEGUARDING})
    assert not _action(services, case.id, "report-platform").done
    services.operations.take_step(case.id, "report-platform")
    assert _action(services, case.id, "report-platform").done


def test_an_outcome_of_removed_can_resolve_the_case_in_the_same_step(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case()
    services.operations.change_status(case.id, CaseStatus.EVIDENCE_GATHERED)
    result = services.operations.set_outcome(case.id, CaseOutcome.REMOVED, resolve=True)
    assert result.value.outcome is CaseOutcome.REMOVED
    assert services.cases.get_case(case.id).status is CaseStatus.RESOLVED
    assert result.changes.cases and result.changes.workflow


def test_resolving_a_case_that_cannot_be_resolved_yet_saves_no_outcome(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case()  # New: it cannot move straight to Resolved
    with pytest.raises(TransitionError):
        services.operations.set_outcome(case.id, CaseOutcome.REMOVED, resolve=True)
    assert services.workflow.outcome(case.id) is None
    assert services.cases.get_case(case.id).status is CaseStatus.NEW


def test_escalating_records_the_ladder_step_taken(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case()
    services.operations.change_status(case.id, CaseStatus.ESCALATED)
    steps = services.workflow.escalation(case.id).steps
    assert [s.step_id for s in steps] == ["first-letter"]
    assert steps[0].outcome is StepOutcome.AWAITING
    events = services.cases.get_case(case.id).events
    assert "first letter" in events[-2].summary.lower()  # the status change names the step
    services.operations.change_status(case.id, CaseStatus.LETTER_SENT)
    services.operations.change_status(case.id, CaseStatus.ESCALATED, step_id="police")
    assert [s.step_id for s in services.workflow.escalation(case.id).steps] == [
        "first-letter",
        "police",
    ]


def test_a_step_that_does_not_apply_leaves_the_status_alone(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case(categories={Category.PROCEDURE})
    with pytest.raises(ValidationError, match="does not apply"):
        services.operations.change_status(case.id, CaseStatus.ESCALATED, step_id="police")
    assert services.cases.get_case(case.id).status is CaseStatus.NEW
    with pytest.raises(ValidationError, match="Escalated only"):
        services.operations.change_status(case.id, CaseStatus.LETTER_SENT, step_id="police")


# ----- Today -------------------------------------------------------------------------------


def test_today_lists_the_next_ladder_step_once_its_wait_has_run_out(
    make_case: Callable[..., CaseDetail], services: Services, clock: Clock
) -> None:
    case = make_case()
    services.operations.take_step(case.id, "first-letter", StepOutcome.NO_RESPONSE)
    assert not [i for i in services.workflow.due() if i.step]
    clock.advance(days=8)
    steps = [i for i in services.workflow.due() if i.step]
    assert [(i.reference, i.rule_id, i.overdue) for i in steps] == [
        (case.reference, "follow-up-letter", True)
    ]
    assert steps[0].label == "Next escalation step: Follow-up letter"


def test_today_leaves_out_finished_work(
    make_case: Callable[..., CaseDetail], services: Services, clock: Clock
) -> None:
    done = make_case("Post already removed")
    waiting = make_case("Post still up")
    clock.advance(days=20)  # every action of both cases is now overdue
    services.operations.add_evidence_bytes(waiting.id, [("post.png", _png())])
    services.operations.set_outcome(done.id, CaseOutcome.REMOVED)
    due = services.workflow.due()
    assert {i.case_id for i in due} == {waiting.id}
    assert "capture-evidence" not in {i.rule_id for i in due}
