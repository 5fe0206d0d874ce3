"""Retention rules and review dates: pure domain, no database."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.errors import ValidationError
from app.domain.retention import (
    RetentionRules,
    ReviewReason,
    ThirdPartyRedactor,
    add_years,
    review_date,
)

RULES = RetentionRules()


def test_defaults_are_six_years_and_age_twenty_five() -> None:
    assert RULES.review_after_years == 6
    assert RULES.safeguarding_until_age == 25


def test_closed_case_is_reviewed_six_years_after_closing() -> None:
    review = review_date(
        RULES, closed_on=date(2026, 11, 24), safeguarding=False, child_date_of_birth=None
    )
    assert review.due_on == date(2032, 11, 24)
    assert review.reason is ReviewReason.CLOSED


def test_safeguarding_case_is_kept_until_the_child_is_twenty_five() -> None:
    review = review_date(
        RULES,
        closed_on=date(2026, 11, 24),
        safeguarding=True,
        child_date_of_birth=date(2018, 3, 5),
    )
    assert review.due_on == date(2043, 3, 5)
    assert not review.dob_missing
    assert "child is 25" in review.text


def test_safeguarding_case_without_a_date_of_birth_says_so() -> None:
    review = review_date(
        RULES, closed_on=date(2026, 11, 24), safeguarding=True, child_date_of_birth=None
    )
    assert review.due_on == date(2051, 11, 24)
    assert review.dob_missing
    assert "date of birth missing" in review.text


def test_leap_day_moves_to_twenty_eighth_of_february() -> None:
    assert add_years(date(2016, 2, 29), 25) == date(2041, 2, 28)


def test_rules_round_trip_and_ignore_nonsense() -> None:
    rules = RetentionRules(review_after_years=3)
    assert RetentionRules.from_json(rules.to_json()) == rules
    assert RetentionRules.from_json('{"review_after_years": -2}') == RULES
    assert RetentionRules.from_json("not json") == RULES
    assert RetentionRules.from_json(None) == RULES


def test_redactor_hides_other_people_but_not_the_subject() -> None:
    hide = ThirdPartyRedactor(
        "Dana Wells",
        [["Priya Shah", "12 Mill Lane", "priya@example.org", "07700 900123"], ["Dana Wells"]],
    )
    text = (
        "Dana Wells replied to Priya Shah; Mrs Shah lives at 12 Mill Lane "
        "(priya@example.org, 07700 900123)."
    )
    hidden = hide(text)
    assert "Dana Wells" in hidden
    for detail in ("Priya", "Shah", "Mill Lane", "priya@", "07700"):
        assert detail not in hidden
    assert "[third party]" in hidden


def test_safeguarding_cases_are_kept_at_least_until_the_child_is_an_adult() -> None:
    with pytest.raises(ValidationError, match="between 18 and 100"):
        RetentionRules(safeguarding_until_age=16).checked()
    # A stored age below 18 (edited by hand) falls back to the default.
    assert RetentionRules.from_json('{"safeguarding_until_age": 12}') == RULES


def test_safeguarding_without_a_date_of_birth_is_not_shorter_than_other_cases() -> None:
    with pytest.raises(ValidationError, match="at least as long as other closed cases") as error:
        RetentionRules(review_after_years=10, safeguarding_without_dob_years=8).checked()
    assert error.value.field == "safeguarding_without_dob_years"
    assert RetentionRules(review_after_years=10, safeguarding_without_dob_years=10).checked()


def test_changes_are_described_for_the_audit_trail() -> None:
    after = RetentionRules(review_after_years=4, safeguarding_until_age=30)
    assert after.changes_from(RULES) == (
        "review period for closed cases: 6 to 4; "
        "age until which safeguarding cases are kept: 25 to 30"
    )
    assert RULES.changes_from(RULES) == ""
