"""The status workflow: every allowed move works, forbidden ones explain the choices."""

from __future__ import annotations

import pytest

from app.domain.errors import TransitionError, ValidationError
from app.domain.status import (
    CLOSED_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    CaseStatus,
    allowed_transitions,
    check_transition,
    is_open,
    parse_status,
)

S = CaseStatus

ALLOWED = [(current, target) for current, targets in TRANSITIONS.items() for target in targets]
FORBIDDEN = [
    (current, target)
    for current in CaseStatus
    for target in CaseStatus
    if target != current and target not in TRANSITIONS[current]
]


def test_every_status_has_a_label_and_a_way_onwards() -> None:
    assert set(STATUS_LABELS) == set(CaseStatus)
    assert set(TRANSITIONS) == set(CaseStatus)
    for status in CaseStatus:
        assert allowed_transitions(status), status


def test_the_workflow_names_match_the_issue() -> None:
    assert [STATUS_LABELS[s] for s in CaseStatus] == [
        "New",
        "Evidence gathered",
        "Letter sent",
        "Awaiting removal",
        "Escalated",
        "Resolved",
        "Closed without action",
    ]


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: str(s))
def test_allowed_transition_is_accepted(current: CaseStatus, target: CaseStatus) -> None:
    check_transition(current, target)


def test_there_are_forbidden_transitions_to_check() -> None:
    assert len(FORBIDDEN) >= 10


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEW, S.RESOLVED),
        (S.NEW, S.AWAITING_REMOVAL),
        (S.EVIDENCE_GATHERED, S.NEW),
        (S.LETTER_SENT, S.NEW),
        (S.RESOLVED, S.LETTER_SENT),
        (S.CLOSED_NO_ACTION, S.RESOLVED),
        (S.ESCALATED, S.NEW),
    ],
    ids=lambda s: str(s),
)
def test_forbidden_transition_names_the_allowed_ones(
    current: CaseStatus, target: CaseStatus
) -> None:
    assert (current, target) in FORBIDDEN
    with pytest.raises(TransitionError) as caught:
        check_transition(current, target)
    message = caught.value.message
    assert STATUS_LABELS[current] in message
    assert STATUS_LABELS[target] in message
    for allowed in TRANSITIONS[current]:
        assert STATUS_LABELS[allowed] in message
    assert "\n" not in message


def test_every_forbidden_transition_is_refused() -> None:
    for current, target in FORBIDDEN:
        with pytest.raises(TransitionError):
            check_transition(current, target)


def test_moving_to_the_same_status_is_refused() -> None:
    with pytest.raises(TransitionError, match="already 'Letter sent'"):
        check_transition(S.LETTER_SENT, S.LETTER_SENT)


def test_no_case_goes_back_to_new() -> None:
    assert all(S.NEW not in targets for targets in TRANSITIONS.values())


def test_closed_cases_can_only_be_reopened() -> None:
    assert {S.RESOLVED, S.CLOSED_NO_ACTION} == CLOSED_STATUSES
    for status in CLOSED_STATUSES:
        assert not is_open(status)
        assert allowed_transitions(status) == (S.EVIDENCE_GATHERED,)
    assert all(is_open(s) for s in CaseStatus if s not in CLOSED_STATUSES)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("new", S.NEW),
        ("evidence_gathered", S.EVIDENCE_GATHERED),
        ("Evidence gathered", S.EVIDENCE_GATHERED),
        ("LETTER-SENT", S.LETTER_SENT),
        ("  awaiting removal ", S.AWAITING_REMOVAL),
        ("Closed without action", S.CLOSED_NO_ACTION),
        ("closed_no_action", S.CLOSED_NO_ACTION),
    ],
)
def test_parse_status_accepts_ids_and_labels(typed: str, expected: CaseStatus) -> None:
    assert parse_status(typed) == expected


def test_parse_status_refuses_with_the_choices() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_status("pending")
    assert "'pending' is not a status" in caught.value.message
    for status in CaseStatus:
        assert status.value in caught.value.message
