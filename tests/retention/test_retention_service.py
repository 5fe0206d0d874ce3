"""Review list, legal hold and secure deletion, on a real casebook file."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from app.domain.access import Role
from app.domain.categories import Category
from app.domain.errors import AccessDenied, ValidationError
from app.domain.records import CaseDraft, CaseFilter, CaseSort
from app.domain.retention import DeletionRefused, RetentionRules, ReviewReason
from app.domain.status import CaseStatus
from app.services.casebook import Services
from app.services.evidence import sha256_of
from tests.conftest import Clock
from tests.retention.conftest import OTHER, SUBJECT, Filled

TODAY = date(2026, 11, 24)


def test_closed_case_is_due_six_years_after_closing(services: Services, filled: Filled) -> None:
    schedule = services.retention.schedule()
    assert [i.case_id for i in schedule] == [filled.closed_id]
    item = schedule[0]
    assert item.closed_on == TODAY
    assert item.due_on == date(2032, 11, 24)
    assert services.retention.due_for_review() == []
    assert [i.reference for i in services.retention.due_for_review(date(2032, 11, 24))] == [
        item.reference
    ]


def test_rules_are_stored_and_change_the_review_date(services: Services, filled: Filled) -> None:
    services.retention.save_rules(RetentionRules(review_after_years=2))
    assert services.retention.rules().review_after_years == 2
    assert services.retention.schedule()[0].due_on == date(2028, 11, 24)
    with pytest.raises(ValidationError, match="between 1 and 100"):
        services.retention.save_rules(RetentionRules(review_after_years=0))


def test_safeguarding_case_follows_the_childs_date_of_birth(
    services: Services, clock: Clock
) -> None:
    case = services.cases.open_case(
        CaseDraft(title="Concern about a pupil", categories=frozenset({Category.SAFEGUARDING}))
    )
    services.cases.change_status(case.id, CaseStatus.CLOSED_NO_ACTION)
    item = services.retention.schedule()[0]
    assert item.review.reason is ReviewReason.SAFEGUARDING_NO_DOB
    assert item.due_on == date(2051, 11, 24)
    services.retention.set_child_date_of_birth(case.id, date(2019, 6, 30))
    item = services.retention.schedule()[0]
    assert item.review.reason is ReviewReason.SAFEGUARDING_DOB
    assert item.due_on == date(2044, 6, 30)
    assert (
        "child concerned recorded: 30/06/2019"
        in services.cases.get_case(case.id).events[-1].summary
    )
    with pytest.raises(ValidationError, match="future"):
        services.retention.set_child_date_of_birth(case.id, date(2030, 1, 1))


def test_legal_hold_blocks_deletion_and_is_in_the_chronology(
    services: Services, filled: Filled
) -> None:
    services.retention.set_legal_hold(filled.closed_id, "Solicitor's letter received")
    with pytest.raises(DeletionRefused, match="legal hold"):
        services.retention.delete_case(filled.closed_id, "Retention period over")
    assert services.retention.schedule()[0].legal_hold == "Solicitor's letter received"
    services.retention.clear_legal_hold(filled.closed_id, "Claim withdrawn")
    summaries = [e.summary for e in services.cases.get_case(filled.closed_id).events]
    assert "Legal hold set: Solicitor's letter received" in summaries
    assert "Legal hold lifted: Claim withdrawn" in summaries
    with pytest.raises(ValidationError, match="reason"):
        services.retention.set_legal_hold(filled.closed_id, "  ")


def test_open_case_cannot_be_deleted(services: Services, filled: Filled) -> None:
    with pytest.raises(DeletionRefused, match="still open"):
        services.retention.delete_case(filled.open_id, "Tidy up")


def test_deletion_leaves_only_the_deletion_record(services: Services, filled: Filled) -> None:
    case = services.cases.get_case(filled.closed_id)
    exhibits = services.evidence.list_evidence(case.id, include_copies=True)
    letters = services.letters.list_letters(case.id)
    hashes = {e.sha256 for e in exhibits} | {x.pdf_sha256 for x in letters}
    shared = sha256_of(filled.shared_png)

    record = services.retention.delete_case(case.id, "Six years since closure; reviewed")

    assert record.reference == case.reference
    assert services.retention.deletions()[0].reason == "Six years since closure; reviewed"
    assert services.retention.count_rows_for(case.id) == 0
    assert services.cases.count_cases(CaseFilter(text="Post naming")) == 0
    ids = services.cases.all_case_ids(CaseFilter(), CaseSort())
    assert ids == [filled.open_id]
    store = services.evidence.store
    for sha in hashes - {shared}:
        assert not store.exists(sha)
    assert store.exists(shared), "a picture another case still uses must stay"
    names = {p.name for p in services.people.search_people("")}
    assert OTHER in names, "a person still linked to another case stays"
    assert SUBJECT not in names and "Sam Lonely" not in names
    with services.ctx.sessions() as session:
        hits = session.execute(
            text("SELECT count(*) FROM case_search WHERE case_search MATCH 'naming'")
        ).scalar()
        people_left = session.execute(text("SELECT count(*) FROM people")).scalar()
    assert hits == 0
    assert people_left == 1
    # Freed pages are zeroed: the summary's words are not left in the file itself.
    raw = services.paths.database.read_bytes()
    assert b"Mrs Shah sent a screenshot" not in raw
    assert b"Phoned Dana Wells" not in raw


def test_office_staff_may_not_delete_or_hold(services: Services, filled: Filled) -> None:
    services.users.create_first_user("head", "tide-marble-orchard-42")
    services.users.add_user("Mrs Office", Role.OFFICE, "lantern-river-copper-7")
    services.users.sign_in("Mrs Office", "lantern-river-copper-7")
    with pytest.raises(AccessDenied, match="Office staff"):
        services.retention.delete_case(filled.closed_id, "Because")
    with pytest.raises(AccessDenied):
        services.retention.set_legal_hold(filled.closed_id, "Because")
    with pytest.raises(AccessDenied):
        services.subject_access.record_request(filled.subject_id, date(2026, 11, 24))
    assert services.retention.count_rows_for(filled.closed_id) > 0
