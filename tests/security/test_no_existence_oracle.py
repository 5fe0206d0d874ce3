"""No existence oracle: what office and read-only users are told never reveals that a
safeguarding case, or a person only it names, exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.domain.access import Role
from app.domain.categories import Category
from app.domain.errors import CasebookError
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDetail, PersonDraft
from app.services.casebook import Services
from tests.e2e.test_cli import assert_refused, cli

HEAD_PASSWORD = "tide-marble-orchard-42"
OFFICE_PASSWORD = "lantern-river-copper-7"
GOVERNOR_PASSWORD = "orchard-tide-lamp-88"
HIDDEN_NAME = "Philippa Quenby-Marchbank"
SHARED_NAME = "Rowena Tillotson-Beck"


@pytest.fixture
def hidden(services: Services, make_case: Callable[..., CaseDetail]) -> CaseDetail:
    """A safeguarding case naming one person only it names, and one an ordinary case names."""
    services.users.create_first_user("head", HEAD_PASSWORD)
    services.users.add_user("office", Role.OFFICE, OFFICE_PASSWORD)
    services.users.add_user("governor", Role.READ_ONLY, GOVERNOR_PASSWORD)
    ordinary = make_case("Rude comments")
    secret = make_case("Photo of pupils", {Category.SAFEGUARDING})
    only_there = services.people.add_person(
        PersonDraft(name=HIDDEN_NAME, kind=PersonKind.PARENT, email="pqm@example.org")
    )
    shared = services.people.add_person(PersonDraft(name=SHARED_NAME, kind=PersonKind.PARENT))
    services.cases.link_person(secret.id, only_there.id, CaseRole.AUTHOR)
    services.cases.link_person(secret.id, shared.id, CaseRole.WITNESS)
    services.cases.link_person(ordinary.id, shared.id, CaseRole.AUTHOR)
    return services.cases.get_case(secret.id)


def answer(call: Callable[[], object]) -> tuple[str, str]:
    try:
        call()
    except CasebookError as error:
        return type(error).__name__, error.message
    return "no refusal", ""


@pytest.mark.parametrize(
    ("user", "password"), [("office", OFFICE_PASSWORD), ("governor", GOVERNOR_PASSWORD)]
)
def test_a_safeguarding_reference_is_answered_as_a_missing_one(
    services: Services, hidden: CaseDetail, user: str, password: str
) -> None:
    services.users.sign_in(user, password)
    missing = "SM-2026-0999"
    for look_up in (services.cases.find_case, services.cases.case_id_for):
        there = answer(lambda look_up=look_up: look_up(hidden.reference))  # type: ignore[misc]
        absent = answer(lambda look_up=look_up: look_up(missing))  # type: ignore[misc]
        assert there[0] == absent[0] == "NotFoundError"
        assert there[1].replace(hidden.reference, missing) == absent[1]
    # A head teacher / DSL still finds it.
    services.users.sign_in("head", HEAD_PASSWORD)
    assert services.cases.find_case(hidden.reference).title == "Photo of pupils"


def test_person_look_ups_by_office_staff_leave_out_safeguarding_only_people(
    services: Services, hidden: CaseDetail
) -> None:
    only_there = next(p.person for p in hidden.people if p.person.name == HIDDEN_NAME)
    services.users.sign_in("office", OFFICE_PASSWORD)
    assert services.people.search_people("Quenby") == []
    assert [p.name for p in services.people.search_people("")] == [SHARED_NAME]
    assert [p.name for p in services.people.search_people("Tillotson")] == [SHARED_NAME]
    assert answer(lambda: services.people.get_person(only_there.id)) == (
        "NotFoundError",
        "That person no longer exists.",
    )
    # Matching by name (``case add --posted-by``) makes a new person, never returns theirs.
    matched = services.people.match_or_create(HIDDEN_NAME)
    assert matched.id != only_there.id
    assert matched.email == ""
    services.users.sign_in("head", HEAD_PASSWORD)
    names = [p.name for p in services.people.search_people("Quenby")]
    assert names == [HIDDEN_NAME, HIDDEN_NAME]


def test_the_link_person_dialog_shows_office_staff_no_safeguarding_only_people(
    services: Services, hidden: CaseDetail, qtbot: QtBot, make_case: Callable[..., CaseDetail]
) -> None:
    from app.ui.dialogs.person import LinkPersonDialog

    services.users.sign_in("office", OFFICE_PASSWORD)
    case = make_case("Another post")
    dialog = LinkPersonDialog(services, case.id)
    qtbot.addWidget(dialog)
    dialog.search.setText("Quenby")
    assert dialog.people.count() == 0
    dialog.search.setText("")
    shown = [dialog.people.item(i).text() for i in range(dialog.people.count())]
    assert shown == [f"{SHARED_NAME} — Parent"]


def test_the_command_line_says_the_same_for_a_safeguarding_and_a_missing_case(
    tmp_path: Path,
) -> None:
    data = tmp_path / "casebook"
    head = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": "demo"}
    assert cli("demo", data_dir=data, env=head).returncode == 0
    added = cli(
        "users",
        "add",
        "Mrs Office",
        "--role",
        "office",
        data_dir=data,
        env={**head, "CASEBOOK_NEW_PASSWORD": OFFICE_PASSWORD},
    )
    assert added.returncode == 0, added.stderr
    office = {"CASEBOOK_USER": "Mrs Office", "CASEBOOK_PASSWORD": OFFICE_PASSWORD}
    # SM-2026-0003 is the demonstration set's safeguarding case.
    for command in (("case", "show"), ("evidence", "list")):
        there = cli(*command, "SM-2026-0003", data_dir=data, env=office)
        absent = cli(*command, "SM-2026-0998", data_dir=data, env=office)
        assert_refused(there, 1, "There is no case with the reference SM-2026-0003.")
        assert there.stderr.replace("0003", "0998") == absent.stderr
