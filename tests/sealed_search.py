"""A head teacher's casebook with one sealed (safeguarding) case, and a search that
checks its count against its list: shared by the SQLite and PostgreSQL search tests."""

from __future__ import annotations

from collections.abc import Callable

from app.domain.categories import Category
from app.domain.records import CaseDetail, CaseDraft, CaseFilter, CaseSort
from app.services.casebook import Services

HEAD_PASSWORD = "correct horse battery 42"


def head_with_sealed_case(services: Services) -> CaseDetail:
    """Sign the head teacher up and in, and open one safeguarding case ("Post naming a
    pupil"), sealed as it is written."""
    services.users.create_first_user("head", HEAD_PASSWORD)
    services.users.sign_in("head", HEAD_PASSWORD)
    return services.cases.open_case(
        CaseDraft(title="Post naming a pupil", categories=frozenset({Category.SAFEGUARDING}))
    )


def search(services: Services) -> Callable[[str], list[str]]:
    """The references a search finds, in order; its bounded count must agree."""

    def found(text: str) -> list[str]:
        rows = services.cases.list_cases(CaseFilter(text=text), CaseSort("reference", False))
        assert services.cases.count_cases(CaseFilter(text=text), bound=10) == len(rows)
        return [r.reference for r in rows]

    return found
