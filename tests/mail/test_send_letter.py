"""Letters emailed through a real SMTP server on loopback (STARTTLS, AUTH), read back.

What the parent receives is parsed: the covering text, the subject with no one's name in
it, and the attachment, which is the issued PDF byte for byte. Failures leave the letter
prepared and say what happened in one sentence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from sqlalchemy import text

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.letters import SendMethod
from app.domain.mail import CoveringMessage, MailError, MailSecurity, MailUncertain
from app.services.casebook import Services
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.conftest import Clock, Filled, copy_of_filled
from tests.mail.conftest import PARENT_EMAIL, ReadyLetter, issue_letter, mail_settings
from tests.mail.smtp_server import PASSWORD, USER, MailServer, SilentServer, closed_port


def _school_with_a_letter(services: Services, clock: Clock) -> ReadyLetter:
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    return issue_letter(services)


@pytest.fixture
def school(
    request: pytest.FixtureRequest, database_kind: str, clock: Clock, actor: str
) -> Iterator[Services]:
    """A copy of the demonstration school's casebook, holding the letter of ``ready``."""
    with copy_of_filled(
        request, _school_with_a_letter, kind=database_kind, clock=clock, actor=actor
    ) as (services, _ready):
        yield services


@pytest.fixture(name="ready")
def ready_letter(
    school: Services, filled_per_database: dict[str, Filled[ReadyLetter]], database_kind: str
) -> ReadyLetter:
    """The letter issued in ``school`` (by ``issue_letter``), prepared and not yet sent."""
    return filled_per_database[database_kind].made


def test_letter_is_sent_read_back_and_recorded(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    pdf = mail_ready.letters.letter_pdf(ready.letter_id)

    sent = mail_ready.mail.send_letter(ready.letter_id, cc_office=True)

    assert len(smtp_server.received) == 1
    got = smtp_server.received[0]
    office = mail_ready.letters.profile.get().email
    assert got.sender == USER
    assert sorted(got.recipients) == sorted([PARENT_EMAIL, office])
    message = got.parsed()
    assert message["To"] == PARENT_EMAIL and message["Cc"] == office
    subject = message["Subject"]
    assert "Łukasiewicz" not in subject and "Zoë" not in subject and "Tommy" not in subject
    assert subject == "A letter from Eccleston Lane Ends Primary School"
    body = message.get_body(("plain",)).get_content()
    assert "Dear Zoë Łukasiewicz," in body and ready.reference in body
    assert "Tommy" not in body and "Code of Conduct" not in body  # it does not repeat the letter
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_filename() == f"Letter {ready.reference} 2026-11-24.pdf"
    assert attachments[0].get_content() == pdf  # byte-identical
    # What is stored is what the server received, with its hash and reply.
    stored = mail_ready.mail.sent_message(ready.letter_id)
    assert stored == got.content
    assert sent.eml_sha256 == hashlib.sha256(stored).hexdigest()
    assert sent.state == "sent" and sent.attempts == 1
    assert sent.server_reply == "250 2.0.0 Ok: queued as TEST0001"
    assert sent.message_id == message["Message-ID"]
    assert sent.sent_at is not None
    letter = mail_ready.letters.get_letter(ready.letter_id)
    assert letter.is_sent and letter.sent_method is SendMethod.EMAIL
    chronology = [e.summary for e in mail_ready.cases.get_case(ready.case_id).events]
    assert any("Letter sent" in s and "email" in s.lower() for s in chronology)


def test_sending_again_sends_nothing_twice(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    mail_ready.mail.send_letter(ready.letter_id)
    again = mail_ready.mail.send_letter(ready.letter_id)
    assert again.state == "sent"
    assert len(smtp_server.received) == 1


def test_the_password_is_sealed_not_stored_in_clear(mail_ready: Services) -> None:
    # Read as the database holds it (SQLite opened with the data key, or the PostgreSQL server).
    with mail_ready.engine.connect() as connection:
        rows = connection.execute(text("SELECT key, value FROM settings")).all()
    assert not any(PASSWORD in str(value) for _key, value in rows)
    assert mail_ready.mail.settings().has_password


def test_tls_from_the_start(school: Services, tls_server: MailServer, ready: ReadyLetter) -> None:
    school.mail.save_settings(mail_settings(tls_server.port, MailSecurity.TLS), PASSWORD)
    school.mail.send_letter(ready.letter_id)
    assert len(tls_server.received) == 1


def _prepared_after(services: Services, letter_id: int) -> None:
    letter = services.letters.get_letter(letter_id)
    assert not letter.is_sent


def _one_sentence(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    assert message.endswith(".")


def test_wrong_password(mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter) -> None:
    mail_ready.mail.save_settings(mail_settings(smtp_server.port), "not-the-password")
    with pytest.raises(MailError) as refused:
        mail_ready.mail.send_letter(ready.letter_id)
    assert "refused the user name or password" in refused.value.message
    _one_sentence(refused.value.message)
    _prepared_after(mail_ready, ready.letter_id)
    assert smtp_server.received == []
    record = mail_ready.mail.letter_email(ready.letter_id)
    assert record is not None and record.state == "failed" and not record.may_have_gone


def test_refused_recipient_then_corrected(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    smtp_server.handler.refuse.add(PARENT_EMAIL)
    with pytest.raises(MailError) as refused:
        mail_ready.mail.send_letter(ready.letter_id)
    assert f"refused the address {PARENT_EMAIL}" in refused.value.message
    _one_sentence(refused.value.message)
    _prepared_after(mail_ready, ready.letter_id)
    first = mail_ready.mail.letter_email(ready.letter_id)
    assert first is not None
    smtp_server.handler.refuse.clear()
    sent = mail_ready.mail.send_letter(ready.letter_id)
    assert sent.message_id == first.message_id  # the same message, not a new one
    assert sent.attempts == 2
    assert len(smtp_server.received) == 1


def test_server_gone_before_the_message(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    smtp_server.handler.behaviour = "drop-before-data"
    with pytest.raises(MailError) as refused:
        mail_ready.mail.send_letter(ready.letter_id)
    assert not isinstance(refused.value, MailUncertain)
    _one_sentence(refused.value.message)
    _prepared_after(mail_ready, ready.letter_id)


def test_server_gone_after_the_message_asks_before_sending_again(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    smtp_server.handler.behaviour = "drop-after-data"
    with pytest.raises(MailUncertain) as cut_off:
        mail_ready.mail.send_letter(ready.letter_id)
    assert "may have reached" in cut_off.value.message
    _one_sentence(cut_off.value.message)
    _prepared_after(mail_ready, ready.letter_id)
    first = mail_ready.mail.letter_email(ready.letter_id)
    assert first is not None and first.may_have_gone
    smtp_server.handler.behaviour = ""
    # A plain retry refuses and sends nothing.
    with pytest.raises(MailUncertain) as asked:
        mail_ready.mail.send_letter(ready.letter_id)
    assert "send it again only if" in asked.value.message
    assert len(smtp_server.received) == 1
    # Confirmed: the same Message-ID goes again, and the letter is now sent.
    sent = mail_ready.mail.send_letter(ready.letter_id, send_again=True)
    assert len(smtp_server.received) == 2
    ids = {
        message_from_bytes(r.content, policy=policy.default)["Message-ID"]
        for r in smtp_server.received
    }
    assert ids == {first.message_id} == {sent.message_id}
    assert mail_ready.letters.get_letter(ready.letter_id).is_sent


def test_no_network(school: Services, ready: ReadyLetter) -> None:
    school.mail.save_settings(mail_settings(closed_port()), PASSWORD)
    with pytest.raises(MailError) as refused:
        school.mail.send_letter(ready.letter_id)
    assert "could not be reached" in refused.value.message
    _one_sentence(refused.value.message)
    _prepared_after(school, ready.letter_id)


def test_untrusted_certificate_is_a_tls_failure(
    school: Services,
    smtp_server: MailServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    ready: ReadyLetter,
) -> None:
    # The client no longer trusts the test CA: as if the server's certificate were forged.
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    school.mail.save_settings(mail_settings(smtp_server.port), PASSWORD)
    with pytest.raises(MailError) as refused:
        school.mail.send_letter(ready.letter_id)
    assert "secure connection" in refused.value.message
    _one_sentence(refused.value.message)
    _prepared_after(school, ready.letter_id)
    assert smtp_server.received == []


def test_tls_to_a_plain_port_is_a_tls_failure(
    school: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    school.mail.save_settings(mail_settings(smtp_server.port, MailSecurity.TLS), PASSWORD)
    with pytest.raises(MailError) as refused:
        school.mail.send_letter(ready.letter_id)
    _one_sentence(refused.value.message)
    _prepared_after(school, ready.letter_id)


def test_timeout(school: Services) -> None:
    silent = SilentServer()
    try:
        school.mail.save_settings(mail_settings(silent.port), PASSWORD)
        school.mail.timeout = 0.5
        ready = issue_letter(school)
        with pytest.raises(MailError) as refused:
            school.mail.send_letter(ready.letter_id)
    finally:
        silent.stop()
    assert "did not answer within" in refused.value.message
    _one_sentence(refused.value.message)
    _prepared_after(school, ready.letter_id)


def test_no_email_address_on_record(mail_ready: Services, smtp_server: MailServer) -> None:
    ready = issue_letter(mail_ready, email="")
    with pytest.raises(ValidationError) as refused:
        mail_ready.mail.send_letter(ready.letter_id)
    assert "no email address on record for Zoë Łukasiewicz" in refused.value.message
    assert mail_ready.mail.letter_email(ready.letter_id) is None
    assert smtp_server.received == []


def test_not_set_up(school: Services, ready: ReadyLetter) -> None:
    with pytest.raises(MailError) as refused:
        school.mail.send_letter(ready.letter_id)
    assert "not set up yet" in refused.value.message
    assert school.mail.letter_email(ready.letter_id) is None


def test_a_letter_already_posted_is_not_emailed(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    mail_ready.letters.mark_sent(ready.letter_id, SendMethod.POST)
    with pytest.raises(ValidationError) as refused:
        mail_ready.mail.send_letter(ready.letter_id)
    assert "already recorded as sent" in refused.value.message
    assert smtp_server.received == []


def test_the_schools_covering_message(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    mail_ready.mail.save_covering(
        CoveringMessage("{school}: letter {reference}", "Hello {recipient}, see attached.\n")
    )
    mail_ready.mail.send_letter(ready.letter_id)
    message = smtp_server.received[0].parsed()
    assert message["Subject"] == f"Eccleston Lane Ends Primary School: letter {ready.reference}"
    assert message.get_body(("plain",)).get_content().startswith("Hello Zoë Łukasiewicz,")


@pytest.mark.parametrize(
    ("subject", "body", "words"),
    [
        ("Letter for {recipient}", "x", "subject line may not use {recipient}"),
        ("Letter", "Dear {name}", "uses {name}, which this program does not fill"),
        ("Letter {", "x", "stray {"),
        ("", "x", "subject line is empty"),
    ],
)
def test_a_bad_covering_message_is_refused(
    school: Services, subject: str, body: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        school.mail.save_covering(CoveringMessage(subject, body))
    assert words in refused.value.message
    assert school.mail.covering().is_default


def test_safeguarding_message_is_sealed_with_its_case(
    mail_ready: Services, smtp_server: MailServer
) -> None:
    ready = issue_letter(mail_ready, categories=frozenset({Category.SAFEGUARDING}))
    smtp_server.handler.refuse.add(PARENT_EMAIL)
    with pytest.raises(MailError):
        mail_ready.mail.send_letter(ready.letter_id)
    smtp_server.handler.refuse.clear()
    sent = mail_ready.mail.send_letter(ready.letter_id)  # the second attempt updates the row
    assert sent.attempts == 2 and sent.to_address == PARENT_EMAIL
    assert mail_ready.evidence.store.has_copy(sent.eml_sha256, sealed=True)
    with mail_ready.engine.connect() as connection:
        to_address = connection.execute(text("SELECT to_address FROM letter_emails")).scalar()
    assert PARENT_EMAIL not in to_address


def test_test_message(mail_ready: Services, smtp_server: MailServer) -> None:
    delivery = mail_ready.mail.test("someone@school.example")
    assert delivery.reply.startswith("250")
    message = smtp_server.received[0].parsed()
    assert message["Subject"] == "Test message from Conduct Casebook"


def test_bad_settings_are_refused(school: Services) -> None:
    for host, port, user, words in [
        ("", 587, USER, "mail server is empty"),
        ("smtp.example.com", 70000, USER, "not a port number"),
        ("smtp example.com", 587, USER, "not a server name"),
        ("smtp.example.com", 587, "not an address", "spaces"),
    ]:
        settings = mail_settings(port).with_values(host=host, user=user)
        with pytest.raises(ValidationError) as refused:
            school.mail.save_settings(settings, PASSWORD)
        assert words in refused.value.message
    assert not school.mail.settings().configured


def test_accepted_but_not_yet_marked_is_finished_without_sending(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    """The program stopped after the server took the letter and before the letter was
    marked sent: the next Send finishes the record and sends nothing."""
    mail_ready.mail.send_letter(ready.letter_id)
    with mail_ready.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE letters SET sent_on = NULL, sent_method = NULL, sent_by = NULL, "
                "sent_recorded_at = NULL WHERE id = :id"
            ),
            {"id": ready.letter_id},
        )
    assert not mail_ready.letters.get_letter(ready.letter_id).is_sent
    again = mail_ready.mail.send_letter(ready.letter_id)
    assert again.state == "sent"
    assert len(smtp_server.received) == 1
    assert mail_ready.letters.get_letter(ready.letter_id).sent_method is SendMethod.EMAIL


def test_the_stored_message_outlives_the_tidy_up_and_goes_with_its_case(
    mail_ready: Services, smtp_server: MailServer, ready: ReadyLetter
) -> None:
    from app.domain.status import CaseStatus

    sent = mail_ready.mail.send_letter(ready.letter_id)
    mail_ready.sweep_blobs()
    assert mail_ready.mail.sent_message(ready.letter_id) == smtp_server.received[0].content
    mail_ready.cases.change_status(ready.case_id, CaseStatus.RESOLVED)
    mail_ready.retention.delete_case(ready.case_id, "Retention period over")
    assert not mail_ready.evidence.store.exists(sent.eml_sha256)
    with mail_ready.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM letter_emails")).scalar() == 0
