"""A casebook with cases, evidence and letters, ready to be backed up and restored."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from app.domain.categories import Category
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.services.casebook import Services
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.conftest import Clock
from tests.demo_casebook import FilledCasebook


def picture(colour: str, size: tuple[int, int] = (120, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def fill(services: Services, cases: int = 3) -> None:
    """Cases with a parent, two exhibits each and a removal letter on the first."""
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    parent = services.people.add_person(
        PersonDraft(
            name="Mr Parent",
            kind=PersonKind.PARENT,
            address_lines=("1 School Lane", "Townley"),
            postcode="AB1 2CD",
        )
    )
    for number in range(cases):
        case = services.cases.open_case(
            CaseDraft(
                title=f"Comments about Year {number + 3}",
                categories=frozenset({Category.ABUSIVE}),
                summary="Posted on a community page.",
                platform="Facebook",
                post_url="https://example.org/post",
                account_handle="@parent",
            )
        )
        services.cases.link_person(case.id, parent.id, CaseRole.AUTHOR)
        services.evidence.add_bytes(
            case.id,
            [
                (f"post-{number}.png", picture(("red", "green", "blue")[number % 3])),
                (f"comment-{number}.png", picture("white", (60 + number, 40))),
            ],
        )
        if number == 0:
            services.letters.issue(
                case.id, LetterKind.REMOVAL, parent.id, confirm_post_details=True
            )


@pytest.fixture(scope="session")
def filled_casebook(tmp_path_factory: pytest.TempPathFactory) -> FilledCasebook:
    """The casebook ``fill`` makes (at the tests' starting moment), made once per worker."""
    return FilledCasebook(
        tmp_path_factory.mktemp("backup-filled"), fill, actor="Mrs A. Head", clock=Clock()
    )


@pytest.fixture
def services(data_dir: Path, clock: Clock, filled_casebook: FilledCasebook) -> Iterator[Services]:
    """A copy of the filled casebook, open with the test's clock (at the same moment)."""
    opened = filled_casebook.copy_to(data_dir, actor="Mrs A. Head", clock=clock)
    yield opened
    opened.close()


def blob_files(data_dir: Path) -> dict[str, bytes]:
    """Every blob in the data folder by its relative path, with its bytes."""
    root = data_dir / "blobs"
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
