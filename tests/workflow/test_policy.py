"""The policy engine: every category's actions, due times in London, and the ladder."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.letters import LetterKind
from app.domain.policy import (
    IntakeAnswers,
    StepOutcome,
    TakenStep,
    Wait,
    ladder_position,
    parse_outcome,
    parse_policy,
    propose_categories,
)
from app.services.checklist import default_policy_text

POLICY = parse_policy(default_policy_text())
OPENED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def ids(category: Category) -> list[str]:
    return [r.id for r in POLICY.actions_for({category})]


def test_safeguarding_needs_the_lead_at_once_and_a_record_in_the_safeguarding_system() -> None:
    plan = {p.rule_id: p for p in POLICY.plan({Category.SAFEGUARDING}, OPENED)}
    assert plan["inform-dsl"].due_at == OPENED
    assert "designated safeguarding lead" in plan["inform-dsl"].label
    assert "safeguarding system" in plan["log-safeguarding"].label
    assert plan["send-letter-safeguarding"].letter is LetterKind.SAFEGUARDING
    assert "report-platform" in plan


@pytest.mark.parametrize(
    ("category", "letter_rule", "letter"),
    [
        (Category.ABUSIVE, "send-letter-removal", LetterKind.REMOVAL),
        (Category.INACCURATE, "send-letter-correction", LetterKind.CORRECTION),
        (Category.PROCEDURE, "send-letter-procedure", LetterKind.PROCEDURE),
        (Category.SAFEGUARDING, "send-letter-safeguarding", LetterKind.SAFEGUARDING),
    ],
)
def test_every_category_captures_evidence_sends_its_letter_and_rechecks(
    category: Category, letter_rule: str, letter: LetterKind
) -> None:
    rules = ids(category)
    assert rules[0] == "capture-evidence"
    assert letter_rule in rules
    assert "recheck-post" in rules
    rule = next(r for r in POLICY.actions if r.id == letter_rule)
    assert rule.letter is letter
    others = {"send-letter-removal", "send-letter-correction", "send-letter-procedure"}
    assert not (others - {letter_rule}) & set(rules)


def test_removal_is_recorded_except_for_a_procedure_matter() -> None:
    assert "record-removal" in ids(Category.ABUSIVE)
    assert "record-removal" not in ids(Category.PROCEDURE)
    assert "inform-dsl" not in ids(Category.ABUSIVE)


def test_two_categories_share_one_action_once() -> None:
    rules = [r.id for r in POLICY.actions_for({Category.ABUSIVE, Category.INACCURATE})]
    assert rules.count("capture-evidence") == 1
    assert {"send-letter-removal", "send-letter-correction"} <= set(rules)


def test_days_keep_the_london_wall_clock_across_the_spring_change() -> None:
    # Saturday 28 March 2026, 12:00 GMT; the clocks go forward at 01:00 on the 29th.
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert Wait(days=1).due_from(start) == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)  # 12:00 BST
    assert Wait(hours=24).due_from(start) == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


def test_days_keep_the_london_wall_clock_across_the_autumn_change() -> None:
    # Saturday 24 October 2026, 12:00 BST (11:00 UTC); the clocks go back on the 25th.
    start = datetime(2026, 10, 24, 11, 0, tzinfo=UTC)
    assert Wait(days=1).due_from(start) == datetime(2026, 10, 25, 12, 0, tzinfo=UTC)  # 12:00 GMT
    assert Wait(hours=24).due_from(start) == datetime(2026, 10, 25, 11, 0, tzinfo=UTC)


def test_the_ladder_runs_in_order_and_the_police_only_for_threats_or_hate() -> None:
    order = [s.id for s in POLICY.ladder]
    assert order == [
        "first-letter",
        "follow-up-letter",
        "meeting",
        "chair-of-governors",
        "report-platform",
        "helpline",
        "report-harmful-content",
        "local-authority",
        "legal-advice",
        "police",
    ]
    assert POLICY.step("police").applies_to({Category.ABUSIVE})
    assert not POLICY.step("police").applies_to({Category.INACCURATE})


def test_ladder_position_names_the_current_and_next_step() -> None:
    start = ladder_position(POLICY, {Category.ABUSIVE}, [])
    assert start.current is None and start.next is not None
    assert start.next.id == "first-letter"
    taken = [TakenStep("first-letter", OPENED, StepOutcome.NO_RESPONSE)]
    position = ladder_position(POLICY, {Category.ABUSIVE}, taken)
    assert position.current is not None and position.current.id == "first-letter"
    assert position.next is not None and position.next.id == "follow-up-letter"
    assert position.next_due == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert "Next: Follow-up letter" in position.describe()


def test_helpline_is_due_48_hours_after_the_platform_report() -> None:
    taken = [TakenStep("report-platform", OPENED, StepOutcome.AWAITING)]
    position = ladder_position(POLICY, {Category.ABUSIVE}, taken)
    assert position.next is not None and position.next.id == "helpline"
    assert position.next_due == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_last_step_for_inaccurate_posts_is_legal_advice() -> None:
    taken = [TakenStep("legal-advice", OPENED, StepOutcome.NO_RESPONSE)]
    position = ladder_position(POLICY, {Category.INACCURATE}, taken)
    assert position.next is None
    assert "last step" in position.describe()


def test_removal_ends_escalation() -> None:
    taken = [TakenStep("meeting", OPENED, StepOutcome.REMOVED)]
    position = ladder_position(POLICY, {Category.ABUSIVE}, taken)
    assert position.settled and position.next is None


def test_a_school_policy_is_checked_with_one_clear_sentence() -> None:
    data = json.loads(default_policy_text())
    data["actions"][0]["categories"] = ["rudeness"]
    with pytest.raises(ValidationError, match="'rudeness' in the action 'capture-evidence'"):
        parse_policy(json.dumps(data))
    with pytest.raises(ValidationError, match="not valid JSON"):
        parse_policy("{")
    assert parse_policy(POLICY.to_json()) == POLICY


def test_intake_answers_propose_categories() -> None:
    answers = IntakeAnswers(child_identified=True, factually_wrong=True)
    assert propose_categories(answers) == {Category.SAFEGUARDING, Category.INACCURATE}
    assert propose_categories(IntakeAnswers(procedure_matter=True)) == {Category.PROCEDURE}


def test_outcomes_parse_from_ids_and_labels() -> None:
    assert parse_outcome("Account deleted").value == "account_deleted"
    with pytest.raises(ValidationError, match="removed, corrected, refused"):
        parse_outcome("vanished")
