"""The same cases on a shared (PostgreSQL) casebook and in a SQLite one, filled once a run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.domain.records import CaseDetail
from app.services.casebook import Services
from tests.conftest import Clock, SavedCasebook, saved_casebook
from tests.postgres_server import PostgresServer, start_postgres
from tests.unit.test_case_list_at_scale import fill_many


def _with_notes(services: Services, cases: list[CaseDetail]) -> None:
    services.cases.add_note(cases[1].id, "Spoke quietly to the parent at the gate")
    services.cases.add_note(cases[2].id, "Zoë's mum phoned about the ORANGE post")


@pytest.fixture(scope="session")
def own_postgres_server() -> Iterator[PostgresServer]:
    """A cluster of this worker's own, for a test of what is kept while nothing on the server
    changes: the run's shared cluster moves on at every other worker's write (a server's
    snapshot counts the transactions of all its databases)."""
    yield from start_postgres()


@dataclass
class Twins:
    """The same cases (``made``, as SQLite made them), with notes, on a server's casebook
    and in a SQLite one."""

    server: Services
    sqlite: Services
    made: list[CaseDetail]


@pytest.fixture(scope="session")
def saved_twins(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[SavedCasebook, SavedCasebook, list[CaseDetail]]]:
    """The twins' casebooks, filled once a run: each test of ``twins`` gets copies."""
    made: list[CaseDetail] = []

    def fill(services: Services) -> None:
        cases = fill_many(services)
        _with_notes(services, cases)
        if services.database_url is None:
            made.extend(cases)

    server = saved_casebook(request, "postgresql", fill)
    sqlite = saved_casebook(request, "sqlite", fill)
    yield server, sqlite, made
    server.remove()


@pytest.fixture
def twins(
    saved_twins: tuple[SavedCasebook, SavedCasebook, list[CaseDetail]],
    tmp_path: Path,
    clock: Clock,
    actor: str,
) -> Iterator[Twins]:
    """Copies of the twins, open for this test."""
    saved_server, saved_sqlite, made = saved_twins
    server = saved_server.copy_to(tmp_path / "server", actor=actor, clock=clock)
    try:
        sqlite = saved_sqlite.copy_to(tmp_path / "sqlite", actor=actor, clock=clock)
        try:
            yield Twins(server, sqlite, made)
        finally:
            saved_sqlite.remove_copy(sqlite)
    finally:
        saved_server.remove_copy(server)
