"""A real SMTP server on loopback, and a casebook with a letter ready to send."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.domain.categories import Category
from app.domain.letters import LetterKind, SendMethod
from app.domain.mail import MailSecurity, MailSettings
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.services.casebook import Services
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.mail.smtp_server import PASSWORD, USER, Certificates, MailServer, make_certificates

PARENT_EMAIL = "zoe.parent@example.net"


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def trust_test_ca(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the test CA the one the client trusts (as a school's system store would)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificates.ca


@pytest.fixture
def smtp_server(certificates: Certificates, trust_test_ca: Path) -> Iterator[MailServer]:
    server = MailServer(certificates).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tls_server(certificates: Certificates, trust_test_ca: Path) -> Iterator[MailServer]:
    server = MailServer(certificates, implicit_tls=True).start()
    try:
        yield server
    finally:
        server.stop()


def mail_settings(port: int, security: MailSecurity = MailSecurity.STARTTLS) -> MailSettings:
    return MailSettings(
        host="localhost",
        port=port,
        security=security,
        user=USER,
        head_address="head@school.example",
        dsl_address="dsl@school.example",
    )


@dataclass
class ReadyLetter:
    case_id: int
    person_id: int
    letter_id: int
    reference: str


def issue_letter(
    services: Services,
    email: str = PARENT_EMAIL,
    categories: frozenset[Category] = frozenset({Category.ABUSIVE}),
) -> ReadyLetter:
    case = services.cases.open_case(
        CaseDraft(
            title="Post naming Year 4 child",
            categories=categories,
            platform="Facebook",
            summary="A summary naming the child Tommy Example.",
        )
    )
    person = services.people.add_person(
        PersonDraft(
            name="Zoë Łukasiewicz",
            kind=PersonKind.PARENT,
            address_lines=("12 Example Close", "Eccleston", "St Helens"),
            postcode="WA10 5AA",
            email=email,
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    # Whatever the case's standards: these tests are about the email, not the letter's kind.
    issued = services.letters.issue(
        case.id,
        LetterKind.REMOVAL,
        method=SendMethod.EMAIL,
        confirm_kind=True,
        confirm_post_details=True,
    )
    return ReadyLetter(case.id, person.id, issued.id, case.reference)


@pytest.fixture
def school(services: Services) -> Services:
    """The casebook with the demonstration school's profile."""
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    return services


@pytest.fixture
def mail_ready(school: Services, smtp_server: MailServer) -> Services:
    """A casebook whose mail settings point at the loopback server."""
    school.mail.save_settings(mail_settings(smtp_server.port), PASSWORD)
    # The loopback server answers at once, and a server that does not is test_timeout's
    # (half a second against a silent one): this only bounds a wait on a busy machine.
    school.mail.timeout = 30
    return school
