"""The governors' report: small counts hidden, removals as the cases record them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.policy import CaseOutcome
from app.domain.records import CaseDraft
from app.domain.report_figures import hide_small, parse_terms
from app.services.casebook import Services
from tests.conftest import Clock
from tests.sharing.conftest import (
    AUTHOR_VALUES,
    CHILD_VALUES,
    REPORTER_VALUES,
    THIRD_VALUES,
    Planted,
    assert_absent,
    pdf_text,
)

TERMS = "Autumn 2026: 01/09/2026 to 18/12/2026\nSpring 2027: 05/01/2027 to 26/03/2027\n"


def _open(services: Services, clock: Clock, when: datetime, platform: str, **kw: object) -> int:
    clock.set(when)
    draft = CaseDraft(
        title="Post",
        categories=frozenset({Category.ABUSIVE}),
        platform=platform,
        **kw,  # type: ignore[arg-type]
    )
    return services.cases.open_case(draft).id


def test_hidden_counts_cannot_be_worked_out_from_the_total() -> None:
    figures = hide_small([("A", 7), ("B", 2), ("C", 5), ("D", 0)], 3)
    assert [f.text for f in figures] == ["7", "fewer than 3", "fewer than 3", "0"]


def test_a_removal_on_the_chronology_counts_even_after_a_refusal(
    services: Services, clock: Clock
) -> None:
    """The case said 'Refused', then a re-check found the post gone: that is a removal."""
    start = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
    ids = [_open(services, clock, start + timedelta(days=i), "Facebook") for i in range(3)]
    clock.set(start + timedelta(days=10))
    services.workflow.set_outcome(ids[0], CaseOutcome.REFUSED)
    services.workflow.recheck(ids[0], still_up=False, note="Gone at last")
    services.workflow.set_outcome(ids[1], CaseOutcome.REMOVED)
    services.workflow.recheck(ids[2], still_up=False)
    report = services.reports.governors_report(date(2026, 9, 1), date(2026, 12, 31))
    assert report.removals.removed.count == 3
    assert report.median_text != "No post removed"
    text = " ".join(pdf_text(services.reports.governors_pdf(report)).split())
    assert "No post was removed" not in text
    assert "fewer than 3" in text and "any count from 1 to 2" in text  # states the threshold


def test_time_to_removal_per_platform_and_term_from_report_and_posting(
    services: Services, clock: Clock
) -> None:
    services.letters.profile.save(services.letters.profile.get().with_values(term_dates=TERMS))
    autumn = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    spring = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    cases = [
        (autumn, "Facebook", 24),
        (autumn, "Facebook", 48),
        (autumn, "Facebook", 72),
        (spring, "Facebook", 24),
        (spring, "X", 10),
    ]
    for opened, platform, hours in cases:
        case_id = _open(services, clock, opened, platform, posted_at=opened - timedelta(hours=12))
        clock.set(opened + timedelta(hours=hours))
        services.workflow.set_outcome(case_id, CaseOutcome.REMOVED)
    clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    report = services.reports.governors_report(date(2026, 9, 1), date(2027, 2, 28))
    platforms = {g.label: g for g in report.removal_by_platform}
    assert platforms["Facebook"].removed.count == 4
    assert platforms["Facebook"].median_from_report == pytest.approx(36)
    assert platforms["Facebook"].median_from_posting == pytest.approx(48)
    assert platforms["Other platforms"].removed.hidden  # X: one post, never its own line
    assert platforms["Other platforms"].from_report_text == "Not shown (too few)"
    terms = {g.label: g for g in report.removal_by_term}
    assert report.terms_from_profile
    assert terms["Autumn 2026"].removed.count == 3
    assert terms["Autumn 2026"].median_from_report == pytest.approx(48)
    assert terms["Spring 2027"].removed.hidden
    rows = list(csv.reader(io.StringIO(services.reports.governors_csv(report))))
    assert ["removal by term", "Autumn 2026: median hours from report", "48.0"] in rows
    assert ["removal by platform", "Facebook: median hours from posting", "48.0"] in rows
    assert ["platform", "X", "1"] not in rows
    text = " ".join(pdf_text(services.reports.governors_pdf(report)).split())
    assert "Time to removal by school term" in text and "Autumn 2026" in text
    assert "the school's term dates" in text


def test_term_dates_are_checked_when_saved(services: Services) -> None:
    profile = services.letters.profile.get()
    with pytest.raises(ValidationError, match="is not understood"):
        services.letters.profile.save(profile.with_values(term_dates="Autumn"))
    with pytest.raises(ValidationError, match="overlap"):
        parse_terms("A: 01/09/2026 to 31/12/2026\nB: 01/12/2026 to 01/03/2027")
    assert services.letters.profile.get().term_dates == ""


def test_the_threshold_is_the_schools_setting(services: Services, clock: Clock) -> None:
    with pytest.raises(ValidationError, match="between 2 and 20"):
        services.reports.set_report_threshold(1)
    services.reports.set_report_threshold(5)
    for day in range(4):
        _open(services, clock, datetime(2026, 9, 7 + day, 9, 0, tzinfo=UTC), "Facebook")
    report = services.reports.governors_report(date(2026, 9, 1), date(2026, 9, 30))
    assert report.threshold == 5 and report.total.text == "fewer than 5"


def test_no_one_is_named_in_the_governors_pdf_or_csv(services: Services, planted: Planted) -> None:
    report = services.reports.governors_report(date(2026, 9, 1), date(2026, 12, 31), 2)
    everything = pdf_text(services.reports.governors_pdf(report))
    everything += services.reports.governors_csv(report)
    assert_absent(
        everything,
        REPORTER_VALUES + CHILD_VALUES + THIRD_VALUES + AUTHOR_VALUES + (planted.reference, "@gpj"),
        "governors' report",
    )
