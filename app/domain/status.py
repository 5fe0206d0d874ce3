"""The case status workflow and the transitions it allows."""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import TransitionError, ValidationError


class CaseStatus(StrEnum):
    """Where a case stands; the values are stable ids for CLI and JSON."""

    NEW = "new"
    EVIDENCE_GATHERED = "evidence_gathered"
    LETTER_SENT = "letter_sent"
    AWAITING_REMOVAL = "awaiting_removal"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED_NO_ACTION = "closed_no_action"


STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.NEW: "New",
    CaseStatus.EVIDENCE_GATHERED: "Evidence gathered",
    CaseStatus.LETTER_SENT: "Letter sent",
    CaseStatus.AWAITING_REMOVAL: "Awaiting removal",
    CaseStatus.ESCALATED: "Escalated",
    CaseStatus.RESOLVED: "Resolved",
    CaseStatus.CLOSED_NO_ACTION: "Closed without action",
}

CLOSED_STATUSES: frozenset[CaseStatus] = frozenset(
    {CaseStatus.RESOLVED, CaseStatus.CLOSED_NO_ACTION}
)

_S = CaseStatus
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    _S.NEW: (_S.EVIDENCE_GATHERED, _S.LETTER_SENT, _S.ESCALATED, _S.CLOSED_NO_ACTION),
    _S.EVIDENCE_GATHERED: (_S.LETTER_SENT, _S.ESCALATED, _S.RESOLVED, _S.CLOSED_NO_ACTION),
    _S.LETTER_SENT: (_S.AWAITING_REMOVAL, _S.ESCALATED, _S.RESOLVED, _S.CLOSED_NO_ACTION),
    _S.AWAITING_REMOVAL: (_S.LETTER_SENT, _S.ESCALATED, _S.RESOLVED, _S.CLOSED_NO_ACTION),
    _S.ESCALATED: (_S.LETTER_SENT, _S.AWAITING_REMOVAL, _S.RESOLVED, _S.CLOSED_NO_ACTION),
    # A closed case can be reopened when the post reappears or new facts arrive.
    _S.RESOLVED: (_S.EVIDENCE_GATHERED,),
    _S.CLOSED_NO_ACTION: (_S.EVIDENCE_GATHERED,),
}


def allowed_transitions(current: CaseStatus) -> tuple[CaseStatus, ...]:
    """Statuses a case in ``current`` may move to next."""
    return TRANSITIONS[current]


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    """Raise ``TransitionError`` unless the workflow allows ``current`` -> ``target``."""
    if target == current:
        raise TransitionError(f"The case is already '{STATUS_LABELS[current]}'.")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(STATUS_LABELS[s] for s in TRANSITIONS[current])
        raise TransitionError(
            f"A case that is '{STATUS_LABELS[current]}' cannot move to "
            f"'{STATUS_LABELS[target]}'; it can move to: {allowed}."
        )


def is_open(status: CaseStatus) -> bool:
    """True while the case still needs work (not resolved or closed)."""
    return status not in CLOSED_STATUSES


def parse_status(value: str) -> CaseStatus:
    """Accept a status id or its label, or explain the choices."""
    cleaned = value.strip().lower().replace(" ", "_").replace("-", "_")
    for status in CaseStatus:
        if cleaned in (status.value, STATUS_LABELS[status].lower().replace(" ", "_")):
            return status
    allowed = ", ".join(s.value for s in CaseStatus)
    raise ValidationError(f"'{value}' is not a status; use one of: {allowed}.", field="status")
