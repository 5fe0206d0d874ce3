"""Shared fixtures: a real casebook in a temporary folder, with a clock the test controls."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# Window tests run without a display, however pytest is started.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.domain.categories import Category
from app.domain.records import CaseDetail, CaseDraft
from app.services.casebook import Services, open_casebook

# A Tuesday in term time, late morning (GMT).
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ACTOR = "Mrs A. Head"


class Clock:
    """A clock the test can set and move; services read it through ``ctx.clock``."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def actor() -> str:
    """Who the ``services`` fixture records against every change."""
    return ACTOR


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "casebook"


@pytest.fixture
def services(data_dir: Path, clock: Clock, actor: str) -> Iterator[Services]:
    """A freshly created casebook on a real SQLite file, closed after the test."""
    opened = open_casebook(data_dir, actor=actor, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def case_draft(
    title: str = "Rude comments about the school",
    categories: frozenset[Category] | set[Category] | None = None,
    **fields: Any,
) -> CaseDraft:
    """A valid draft; any field can be overridden."""
    return CaseDraft(
        title=title,
        categories=frozenset(categories or {Category.ABUSIVE}),
        **fields,
    )


@pytest.fixture
def make_case(services: Services) -> Callable[..., CaseDetail]:
    """Open a case through the service: ``make_case(title=..., categories=..., platform=...)``."""

    def make(
        title: str = "Rude comments about the school",
        categories: frozenset[Category] | set[Category] | None = None,
        **fields: Any,
    ) -> CaseDetail:
        return services.cases.open_case(case_draft(title, categories, **fields))

    return make
