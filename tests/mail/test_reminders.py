"""The daily reminder digest, sent through the real SMTP server on loopback."""

from __future__ import annotations

import pytest

from app.domain.categories import Category
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.services.casebook import Services
from tests.conftest import Clock
from tests.mail.smtp_server import MailServer


def _open(services: Services, title: str, category: Category) -> str:
    case = services.cases.open_case(
        CaseDraft(title=title, categories=frozenset({category}), summary="Words of the post")
    )
    person = services.people.add_person(PersonDraft(name="Ayşe Yılmaz", kind=PersonKind.PARENT))
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    return case.reference


def test_nothing_due_sends_nothing(mail_ready: Services, smtp_server: MailServer) -> None:
    run = mail_ready.reminders.run()
    assert run.digests == () and run.sent == ()
    assert smtp_server.received == []


def test_digest_names_no_one_and_goes_once_a_day(
    mail_ready: Services, smtp_server: MailServer, clock: Clock
) -> None:
    ordinary = _open(mail_ready, "Rude post by Mrs Yılmaz", Category.ABUSIVE)
    sensitive = _open(mail_ready, "Photo of a pupil", Category.SAFEGUARDING)
    clock.advance(days=10)
    run = mail_ready.reminders.run()
    assert set(run.sent) == {"head@school.example", "dsl@school.example"}
    by_address = {r.recipients[0]: r.parsed() for r in smtp_server.received}
    head = by_address["head@school.example"].get_content()
    dsl = by_address["dsl@school.example"].get_content()
    assert ordinary in head and sensitive in head
    assert sensitive in dsl and ordinary not in dsl
    for text in (head, dsl, by_address["head@school.example"]["Subject"]):
        for private in ("Yılmaz", "Ayşe", "Rude post", "Photo of a pupil", "Words of the post"):
            assert private not in text
    assert "Overdue:" in head
    # Again the same day: nothing.
    again = mail_ready.reminders.run()
    assert again.sent == () and set(again.already_sent) == set(run.sent)
    assert len(smtp_server.received) == 2
    # The next day: again.
    clock.advance(days=1)
    assert len(mail_ready.reminders.run().sent) == 2
    assert len(smtp_server.received) == 4


def test_dry_run_and_chosen_address(
    mail_ready: Services, smtp_server: MailServer, clock: Clock
) -> None:
    reference = _open(mail_ready, "Rude post", Category.ABUSIVE)
    clock.advance(days=10)
    dry = mail_ready.reminders.run(dry_run=True)
    assert dry.sent == () and len(dry.digests) == 1 and reference in dry.digests[0].body
    assert smtp_server.received == []
    chosen = mail_ready.reminders.run("deputy@school.example")
    assert chosen.sent == ("deputy@school.example",)
    assert reference in smtp_server.received[0].parsed().get_content()
    # The head's own digest is still to come today.
    assert mail_ready.reminders.run().sent == ("head@school.example",)


def test_a_failed_send_is_not_recorded_as_sent(
    mail_ready: Services, smtp_server: MailServer, clock: Clock
) -> None:
    from app.domain.mail import MailError

    _open(mail_ready, "Rude post", Category.ABUSIVE)
    clock.advance(days=10)
    smtp_server.handler.refuse.add("head@school.example")
    with pytest.raises(MailError):
        mail_ready.reminders.run()
    smtp_server.handler.refuse.clear()
    assert mail_ready.reminders.run().sent == ("head@school.example",)
