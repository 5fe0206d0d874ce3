"""Checklists, due and overdue across UK clock changes, re-checks, contacts, escalation."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PIL import Image

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.policy import CaseOutcome, StepOutcome
from app.domain.records import CaseDetail, CaseFilter, CaseSort
from app.services.casebook import Services
from app.services.workflow import ContactKind
from tests.conftest import Clock, case_draft


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "PNG")
    return out.getvalue()


def test_opening_a_case_plans_its_checklist(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case(categories={Category.SAFEGUARDING})
    items = services.workflow.checklist(case.id)
    labels = [i.label for i in items]
    assert labels[0].startswith("Capture evidence")
    assert any("designated safeguarding lead" in label for label in labels)
    assert all(not i.done for i in items)


def test_ticking_records_who_and_when(
    make_case: Callable[..., CaseDetail], services: Services, clock: Clock
) -> None:
    case = make_case()
    first = services.workflow.checklist(case.id)[0]
    clock.advance(hours=1)
    done = services.workflow.tick(first.id, "two screenshots")
    assert done.done_by == "Mrs A. Head" and done.done_at == clock.now
    events = services.cases.get_case(case.id).events
    assert events[-1].kind == "action_done"
    assert "two screenshots" in events[-1].summary
    with pytest.raises(ValidationError, match="already done"):
        services.workflow.tick(first.id)
    services.workflow.untick(first.id)
    assert not services.workflow.checklist(case.id)[0].done


def test_changing_categories_adds_and_drops_unticked_actions(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case(categories={Category.ABUSIVE})
    services.cases.update_case(case.id, case_draft(categories={Category.INACCURATE}))
    rules = [i.rule_id for i in services.workflow.checklist(case.id)]
    assert "send-letter-correction" in rules
    assert "send-letter-removal" not in rules


def test_due_and_overdue_across_the_spring_clock_change(services: Services, clock: Clock) -> None:
    # Friday 27 March 2026 16:00 GMT; the letter is due in 2 days: Sunday 29th 16:00 BST.
    clock.set(datetime(2026, 3, 27, 16, 0, tzinfo=UTC))
    case = services.cases.open_case(case_draft())
    letter = next(
        i for i in services.workflow.checklist(case.id) if i.rule_id == "send-letter-removal"
    )
    assert letter.due_at == datetime(2026, 3, 29, 15, 0, tzinfo=UTC)
    clock.set(datetime(2026, 3, 29, 14, 59, tzinfo=UTC))  # 15:59 BST
    due = {d.label: d for d in services.workflow.due()}
    assert not due[letter.label].overdue
    clock.set(datetime(2026, 3, 29, 15, 1, tzinfo=UTC))  # 16:01 BST
    assert {d.label: d for d in services.workflow.due()}[letter.label].overdue


def test_due_today_ends_at_london_midnight_in_summer_time(services: Services, clock: Clock) -> None:
    # Saturday 24 October 2026 23:30 BST is 22:30 UTC: "today" is still the 24th.
    clock.set(datetime(2026, 10, 22, 22, 30, tzinfo=UTC))
    case = services.cases.open_case(case_draft())
    letter = next(
        i for i in services.workflow.checklist(case.id) if i.rule_id == "send-letter-removal"
    )
    assert letter.due_at == datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    clock.set(datetime(2026, 10, 24, 8, 0, tzinfo=UTC))
    assert letter.label in [d.label for d in services.workflow.due()]
    # Sunday 25 October, after the clocks went back: the day after opening plus 2 days.
    clock.set(datetime(2026, 10, 25, 9, 0, tzinfo=UTC))
    item = next(d for d in services.workflow.due() if d.label == letter.label)
    assert item.overdue


def test_due_list_leaves_out_closed_cases_and_done_actions(
    make_case: Callable[..., CaseDetail], services: Services, clock: Clock
) -> None:
    case = make_case()
    clock.advance(days=30)
    before = len(services.workflow.due())
    first = services.workflow.checklist(case.id)[0]
    services.workflow.tick(first.id)
    assert len(services.workflow.due()) == before - 1
    from app.domain.status import CaseStatus

    services.cases.change_status(case.id, CaseStatus.CLOSED_NO_ACTION)
    assert services.workflow.due() == []


def test_recheck_gone_keeps_evidence_and_records_removal(
    make_case: Callable[..., CaseDetail], services: Services, clock: Clock
) -> None:
    case = make_case()
    clock.advance(days=3, hours=2)
    services.workflow.recheck(
        case.id,
        still_up=False,
        note="Page shows 'content unavailable'",
        evidence=[("gone.png", png())],
    )
    exhibits = services.evidence.list_evidence(case.id)
    assert exhibits[-1].details.note == "Evidence that the post has been removed"
    outcome = services.workflow.outcome(case.id)
    assert outcome is not None and outcome.outcome is CaseOutcome.REMOVED
    assert outcome.hours_to_removal == pytest.approx(74)
    done = {i.rule_id for i in services.workflow.checklist(case.id) if i.done}
    assert {"recheck-post", "record-removal"} <= done
    summaries = [e.summary for e in services.cases.get_case(case.id).events]
    assert "Outcome recorded: Removed, 3 days 2 hours after the report" in summaries


def test_recheck_still_up_changes_no_outcome(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case()
    services.workflow.recheck(case.id, still_up=True)
    assert services.workflow.outcome(case.id) is None
    summaries = [e.summary for e in services.cases.get_case(case.id).events]
    assert "Post re-checked: the post is still up" in summaries


def test_phone_calls_and_meetings_go_in_the_chronology(
    make_case: Callable[..., CaseDetail], services: Services, clock: Clock
) -> None:
    case = make_case()
    services.workflow.record_contact(
        case.id,
        ContactKind.MEETING,
        "Agreed to take the post down tonight.",
        when=datetime(2026, 11, 23, 15, 30, tzinfo=UTC),
        present=["Mrs A. Head", "Mr B. Parent"],
    )
    last = services.cases.get_case(case.id).events[-1]
    assert last.kind == "meeting"
    assert last.summary == (
        "Meeting on 23/11/2026 15:30 with Mrs A. Head, Mr B. Parent: "
        "Agreed to take the post down tonight."
    )
    with pytest.raises(ValidationError, match="summary"):
        services.workflow.record_contact(case.id, ContactKind.PHONE_CALL, "  ")


def test_escalation_steps_have_outcomes_and_show_what_is_next(
    make_case: Callable[..., CaseDetail], services: Services, clock: Clock
) -> None:
    case = make_case(categories={Category.INACCURATE})
    services.workflow.take_step(case.id, "first-letter", StepOutcome.NO_RESPONSE)
    state = services.workflow.escalation(case.id)
    assert state.position.next is not None and state.position.next.id == "follow-up-letter"
    with pytest.raises(ValidationError, match="does not apply"):
        services.workflow.take_step(case.id, "police")
    clock.advance(days=2)
    state = services.workflow.take_step(case.id, "follow-up-letter", StepOutcome.CORRECTED)
    assert state.position.settled
    outcome = services.workflow.outcome(case.id)
    assert outcome is not None and outcome.outcome is CaseOutcome.CORRECTED
    assert outcome.hours_to_removal == pytest.approx(48)


def test_refused_outcome_has_no_time_to_removal(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case()
    info = services.workflow.set_outcome(case.id, CaseOutcome.REFUSED)
    assert info.hours_to_removal is None and info.label == "Refused"


def test_a_saved_policy_changes_new_checklists(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    import json

    data = json.loads(services.workflow.policy_json())
    data["actions"] = [a for a in data["actions"] if a["id"] != "recheck-post"]
    services.workflow.save_policy(json.dumps(data))
    case = make_case()
    assert "recheck-post" not in [i.rule_id for i in services.workflow.checklist(case.id)]
    services.workflow.restore_default_policy()
    with pytest.raises(ValidationError):
        services.workflow.save_policy('{"actions": [], "ladder": []}')


def test_search_finds_summaries_notes_people_platforms_and_text_evidence(
    make_case: Callable[..., CaseDetail], services: Services
) -> None:
    case = make_case(
        title="Post about the trip", summary="Mentions the Thursday coach", platform="Facebook"
    )
    other = make_case(title="Unrelated")
    services.cases.add_note(case.id, "Spoke to the caretaker about the gate")
    services.workflow.record_contact(
        other.id, ContactKind.PHONE_CALL, "Called Mrs Whitfield-Okafor"
    )
    services.evidence.add_bytes(case.id, [("message.txt", b"Sent at 21:14: porcupine")])

    def found(text: str) -> list[int]:
        return [r.id for r in services.cases.list_cases(CaseFilter(text=text), CaseSort())]

    assert found("thursday coach") == [case.id]
    assert found("caretaker") == [case.id]
    assert found("whitfield") == [other.id]
    assert found("porcupine") == [case.id]
    assert found("facebook caretaker") == [case.id]
    assert found("facebook whitfield") == []
