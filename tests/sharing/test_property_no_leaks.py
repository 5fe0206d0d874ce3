"""Over generated casebooks: no person's name or address reaches a recipient not allowed it."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.categories import Category
from app.domain.evidence import EvidenceDetails
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.domain.sharing import Recipient
from app.evidence.derivatives import Box
from app.services.casebook import open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.conftest import examples
from tests.sharing.conftest import pdf_naming, pdf_text, plain_picture, zip_text

# Made-up words that no template, standard or label contains, so a hit is a real leak.
WORD = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=4, max_size=7).map(lambda w: "Qu" + w)
ROLES = st.sampled_from([CaseRole.REPORTER, CaseRole.SUBJECT, CaseRole.WITNESS])


@dataclass(frozen=True)
class Someone:
    first: str
    last: str
    street: str
    role: CaseRole

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def giveaways(self) -> tuple[str, ...]:
        return (self.name, self.first, self.last, self.street)


@st.composite
def casebooks(draw: st.DrawFn) -> list[Someone]:
    count = draw(st.integers(min_value=2, max_value=4))
    words = draw(st.lists(WORD, min_size=3 * count, max_size=3 * count, unique=True))
    people = []
    for i in range(count):
        role = CaseRole.AUTHOR if i == 0 else draw(ROLES)
        first, last, street = words[3 * i : 3 * i + 3]
        people.append(Someone(first, last, f"{7 + i} {street} Road", role))
    return people


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def _leaks(text: str, people: list[Someone]) -> list[str]:
    flat = _flat(text)
    return [v for p in people for v in p.giveaways() if v.casefold() in flat]


# Each example fills a casebook and renders its PDFs: four in the normal suite, twelve in CI.
@settings(
    max_examples=examples(4, 12),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(people=casebooks(), safeguarding=st.booleans(), redact=st.booleans())
def test_no_one_reaches_a_recipient_not_allowed_them(
    people: list[Someone], safeguarding: bool, redact: bool
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="casebook-sharing-"))
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    services = open_casebook(folder / "casebook", actor="Mrs A. Head", clock=lambda: now)
    try:
        services.letters.profile.save(DEMO_SCHOOL_PROFILE)
        ids: dict[str, int] = {}
        for p in people:
            ids[p.name] = services.people.add_person(
                PersonDraft(
                    name=p.name,
                    kind=PersonKind.PARENT,
                    address_lines=(p.street,),
                    phone="01744 000 111",
                )
            ).id
        mention = "; ".join(f"{p.name} of {p.street}" for p in people)
        categories = {Category.ABUSIVE} | ({Category.SAFEGUARDING} if safeguarding else set())
        case = services.cases.open_case(
            CaseDraft(
                title=f"Post about {people[-1].first}",
                categories=frozenset(categories),
                summary=f"Seen by {mention}.",
                platform="Facebook",
                reported_by=people[-1].name,
            )
        )
        for p in people:
            services.cases.link_person(case.id, ids[p.name], p.role)
            services.cases.add_note(case.id, f"Spoke to {p.first} about {p.last} at {p.street}.")
        files = [(f"{p.first}_{p.last}.png", plain_picture()) for p in people]
        files.append((f"{people[0].last}-thread.pdf", pdf_naming(mention)))
        added = services.evidence.add_bytes(
            case.id, files, EvidenceDetails(note=f"From {people[-1].name}")
        )
        if redact:
            for audience in ("author", "lado", "platform", f"person:{ids[people[-1].name]}"):
                services.evidence.redact(added[0].exhibit.id, [Box(0, 0, 10, 10)], audience)
        services.letters.issue(
            case.id,
            LetterKind.REMOVAL,
            ids[people[0].name],
            confirm_recipient=True,
            confirm_post_details=True,
            confirm_kind=True,
        )
        for p in people[1:]:
            if p.role is CaseRole.REPORTER:
                services.letters.issue(
                    case.id, LetterKind.ACKNOWLEDGEMENT, ids[p.name], confirm_post_details=True
                )
                break

        author = people[0]
        allowed = {
            Recipient.AUTHOR: [author],
            Recipient.LADO: [author],
            Recipient.PLATFORM: [],
        }
        for recipient, may_see in allowed.items():
            text = pdf_text(services.reports.case_file(case.id, recipient=recipient))
            hidden = [p for p in people if p not in may_see]
            assert not _leaks(text, hidden), (recipient, _leaks(text, hidden))
        everyone = pdf_text(services.reports.case_file(case.id, recipient=Recipient.POLICE))
        assert not [p for p in people if p.name.casefold() not in _flat(everyone)]

        for p in people:
            request = services.subject_access.record_request(ids[p.name], date(2026, 11, 20))
            export = services.subject_access.respond(request.id)
            text = zip_text(export.zip_bytes)
            strangers = [o for o in people if o is not p]
            assert not _leaks(text, strangers), (p.name, _leaks(text, strangers))
            assert p.name.casefold() in _flat(text)

        report = services.reports.governors_report(date(2026, 9, 1), date(2026, 12, 31), 2)
        text = pdf_text(services.reports.governors_pdf(report)) + services.reports.governors_csv(
            report
        )
        assert not _leaks(text, people)
    finally:
        services.close()
        shutil.rmtree(folder, ignore_errors=True)
