"""The window's start paints the list before the work a head's sign-in may leave, and that
work still happens: safeguarding records left in clear are sealed once the list is shown,
with the audit entry as before."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QThreadPool
from sqlalchemy import text

from app.domain.access import Role
from app.domain.categories import Category
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.security.crypto import is_sealed_text
from app.services.casebook import Services, open_casebook
from app.ui.app import start_after_sign_in_work
from app.ui.main_window import MainWindow
from tests.conftest import Clock
from tests.ui.conftest import wait_for_first_paint

HEAD = "marble-orchard-tide-42"
OFFICE = "copper-lantern-river-7"
NAME = "Cassius Wetherall-Pennington"


def _person_in_clear(data_dir: Path, clock: Clock) -> Services:
    """A person only on a safeguarding case whose name is in clear in the file, as in a
    casebook from before sealing."""
    services = open_casebook(data_dir, clock=clock)
    services.users.create_first_user("head", HEAD)
    services.users.add_user("office", Role.OFFICE, OFFICE)
    services.users.sign_in("head", HEAD)
    guarded = services.cases.open_case(
        CaseDraft(
            title="Disclosure about a pupil",
            platform="Facebook",
            categories=frozenset({Category.SAFEGUARDING}),
        )
    )
    person = services.people.add_person(PersonDraft(name=NAME, kind=PersonKind.PARENT))
    services.cases.link_person(guarded.id, person.id, CaseRole.AUTHOR)
    with services.ctx.sessions.begin() as session:
        session.execute(
            text("UPDATE people SET name = :name, name_key = :key"),
            {"name": NAME, "key": NAME.lower()},
        )
    services.users.sign_in("office", OFFICE)
    return services


def _name_sealed(services: Services) -> bool:
    # As stored in the file (the tables' own type would open it for a head teacher).
    with services.ctx.sessions() as session:
        names = session.scalars(text("SELECT name FROM people")).all()
    assert len(names) == 1
    return is_sealed_text(names[0])


def _sealing_audited(services: Services) -> bool:
    return any(entry.action == "sealed safeguarding records" for entry in services.audit.entries())


def test_a_sign_in_that_seals_later_leaves_it_to_seal_outstanding(
    data_dir: Path, clock: Clock
) -> None:
    services = _person_in_clear(data_dir, clock)
    try:
        assert not _name_sealed(services)
        services.users.sign_in("head", HEAD, seal_later=True)
        assert not _name_sealed(services)
        services.users.seal_outstanding()
        assert _name_sealed(services)
        assert _sealing_audited(services)
        # Without seal_later (the command line, unlocking the window) it is sealed at once.
        services.users.sign_in("office", OFFICE)
        services.users.seal_outstanding()  # an office user holds no key: nothing happens
    finally:
        services.close()


def test_the_window_seals_what_the_sign_in_left_once_the_list_is_painted(
    qtbot, data_dir: Path, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    services = _person_in_clear(data_dir, clock)
    try:
        services.users.sign_in("head", HEAD, seal_later=True)
        window = MainWindow(services)
        window.after_first_paint.then(lambda: start_after_sign_in_work(services, time.time()))
        assert not _name_sealed(services)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        wait_for_first_paint(qtbot, window)
        qtbot.waitUntil(lambda: QThreadPool.globalInstance().waitForDone(50), timeout=60_000)
        assert _name_sealed(services)
        assert _sealing_audited(services)
        window.close()
    finally:
        services.close()


def test_a_key_pressed_after_the_first_paint_is_answered_between_the_steps_that_follow(
    qtbot,
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QWidget

    from app.ui.main_window import AfterFirstPaint

    widget = QWidget()
    qtbot.addWidget(widget)
    order: list[str] = []

    def first_step() -> None:
        order.append("Today filled")
        QTimer.singleShot(0, lambda: order.append("key answered"))  # a key pressed meanwhile

    after = AfterFirstPaint(widget, [first_step, lambda: order.append("first case shown")])
    assert not after.started
    widget.show()
    qtbot.waitUntil(lambda: after.done, timeout=60_000)
    assert after.started
    assert order == ["Today filled", "key answered", "first case shown"]
