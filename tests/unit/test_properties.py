"""Random sequences of case work keep the casebook's promises."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from app.domain.categories import Category
from app.domain.errors import TransitionError, ValidationError
from app.domain.people import CaseRole
from app.domain.records import CaseDraft, CaseFilter, CaseSort, PersonDraft
from app.domain.reference import parse_reference
from app.domain.status import STATUS_LABELS, TRANSITIONS, CaseStatus
from app.services.casebook import Services, open_casebook
from tests.conftest import examples

TITLES = st.text(
    alphabet=st.characters(categories=("L", "N", "Zs", "P"), exclude_characters="\u2028\u2029"),
    min_size=1,
    max_size=40,
).filter(lambda t: t.strip())
CATEGORIES = st.frozensets(st.sampled_from(Category), min_size=1)
NAMES = st.sampled_from(
    ["Zoë Łukasiewicz", "Nguyễn Thị Hồng", "Siobhán O'Brien", "Дмитрий Соколов", "Ayşe Yılmaz"]
)


class CaseWork(RuleBasedStateMachine):
    """A model of what each case should look like, checked against the real casebook."""

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="casebook-property-"))
        # Start just before New Year so that some runs cross into a new numbering.
        self.now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
        self.services: Services = open_casebook(
            self.folder / "casebook", actor="Property tester", clock=lambda: self.now
        )
        self.status: dict[int, CaseStatus] = {}
        self.event_count: dict[int, int] = {}
        self.links: dict[int, set[tuple[int, CaseRole]]] = {}
        self.people: dict[str, int] = {}

    def teardown(self) -> None:
        self.services.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize()
    def nothing_yet(self) -> None:
        assert self.services.cases.count_cases(CaseFilter()) == 0

    @rule(hours=st.integers(min_value=0, max_value=30))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours, seconds=1)

    @rule(target=cases, title=TITLES, categories=CATEGORIES)
    def open_case(self, title: str, categories: frozenset[Category]) -> int:
        case = self.services.cases.open_case(CaseDraft(title=title, categories=categories))
        assert case.title == title.strip()
        assert case.status == CaseStatus.NEW
        self.status[case.id] = CaseStatus.NEW
        self.event_count[case.id] = 1
        self.links[case.id] = set()
        return case.id

    @rule(case_id=cases, target_status=st.sampled_from(CaseStatus))
    def change_status(self, case_id: int, target_status: CaseStatus) -> None:
        current = self.status[case_id]
        try:
            case = self.services.cases.change_status(case_id, target_status, "Property step")
        except TransitionError:
            assert target_status not in TRANSITIONS[current]
            return
        except ValidationError as error:
            # Escalating takes the ladder's next step; once every step is taken, it says so.
            assert target_status is CaseStatus.ESCALATED
            assert "Every step of the escalation ladder" in error.message
            return
        assert target_status in TRANSITIONS[current]
        assert case.status == target_status
        assert case.events[-1].kind == "status_changed"
        self.status[case_id] = target_status
        # Escalating also records its ladder step (and any action that step completes).
        added = len(case.events) - self.event_count[case_id]
        assert added == 1 or (target_status is CaseStatus.ESCALATED and added in (2, 3))
        self.event_count[case_id] = len(case.events)

    @rule(case_id=cases, title=TITLES, categories=CATEGORIES)
    def update(self, case_id: int, title: str, categories: frozenset[Category]) -> None:
        before = self.services.cases.get_case(case_id)
        draft = CaseDraft(
            title=title,
            categories=categories,
            reported_on=before.reported_on,
        )
        case = self.services.cases.update_case(case_id, draft, expected_version=before.version)
        changed = title.strip() != before.title or categories != before.categories
        if changed:
            self.event_count[case_id] += 1
            assert case.events[-1].kind == "details_changed"
            assert case.version > before.version
        assert case.title == title.strip()
        assert case.categories == categories

    @rule(case_id=cases, name=NAMES, role=st.sampled_from(CaseRole))
    def link(self, case_id: int, name: str, role: CaseRole) -> None:
        if name not in self.people:
            self.people[name] = self.services.people.add_person(PersonDraft(name=name)).id
        person_id = self.people[name]
        if (person_id, role) in self.links[case_id]:
            return
        case = self.services.cases.link_person(case_id, person_id, role)
        self.links[case_id].add((person_id, role))
        self.event_count[case_id] += 1
        assert case.events[-1].kind == "person_linked"

    @precondition(lambda self: any(self.links.values()))
    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        case_id = data.draw(st.sampled_from(sorted(k for k, v in self.links.items() if v)))
        person_id, role = data.draw(st.sampled_from(sorted(self.links[case_id])))
        self.services.cases.unlink_person(case_id, person_id, role)
        self.links[case_id].discard((person_id, role))
        self.event_count[case_id] += 1

    @invariant()
    def the_casebook_matches_the_model(self) -> None:
        rows = self.services.cases.list_cases(CaseFilter(), CaseSort("reference", False), 0, 1000)
        assert len(rows) == len(self.status)
        references = [r.reference for r in rows]
        assert len(set(references)) == len(references)
        by_year: dict[int, list[int]] = {}
        for reference in references:
            year, number = parse_reference(reference)
            by_year.setdefault(year, []).append(number)
        for numbers in by_year.values():
            assert sorted(numbers) == list(range(1, len(numbers) + 1))
        for row in rows:
            assert row.status == self.status[row.id]

    @invariant()
    def every_change_has_its_event(self) -> None:
        for case_id, expected in self.event_count.items():
            case = self.services.cases.get_case(case_id)
            assert len(case.events) == expected
            assert case.events[0].kind == "case_opened"
            assert {(link.person.id, link.role) for link in case.people} == self.links[case_id]
            # Replaying the recorded status changes only ever follows allowed transitions.
            status = CaseStatus.NEW
            for event in case.events:
                if event.kind == "status_changed":
                    target = next(s for s in CaseStatus if event.summary.endswith(_label_tail(s)))
                    assert target in TRANSITIONS[status]
                    status = target
            assert status == case.status


def _label_tail(status: CaseStatus) -> str:
    return f" to {STATUS_LABELS[status]}: Property step"


CaseWork.TestCase.settings = settings(
    max_examples=examples(10, 60),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# A fresh casebook per example: ten in the normal suite, sixty in CI. The time limit only
# guards against a hang, so it leaves room for a slow machine.
test_case_work = pytest.mark.timeout(900)(CaseWork.TestCase)
