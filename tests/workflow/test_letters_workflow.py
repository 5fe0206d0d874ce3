"""What letters do to the workflow, read back from real casebooks and real PDFs: prepared
until sent, sending ticks the checklist and takes the ladder step, reply-by dates on working
days, recipients and kinds that need confirming, the school's own paragraph; and the UK
practice the ladder knows (helpline contacts, safeguarding without the 48 hours' wait, report
reference numbers, support for a named member of staff)."""

from __future__ import annotations

import io
import json
import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from app.domain.categories import Category
from app.domain.code_of_conduct import normalise_spacing
from app.domain.errors import ConfirmationNeeded, TemplateError, ValidationError
from app.domain.letters import LetterKind, SendMethod
from app.domain.people import CaseRole, PersonKind
from app.domain.policy import StepOutcome
from app.domain.records import PersonDraft
from app.domain.status import CaseStatus
from app.domain.working_days import (
    WorkingCalendar,
    format_weekday_date,
    parse_closures,
)
from app.services.casebook import Services
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.conftest import Clock, case_draft

CHRISTMAS = "Christmas holidays: 19/12/2026 to 03/01/2027"


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return normalise_spacing(
        unicodedata.normalize("NFC", " ".join(p.extract_text() for p in reader.pages))
    )


def _open(
    services: Services,
    categories: set[Category] | None = None,
    role: CaseRole = CaseRole.AUTHOR,
    name: str = "Zoë Łukasiewicz",
) -> tuple[int, int]:
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    case = services.cases.open_case(
        case_draft(
            categories=categories or {Category.ABUSIVE},
            platform="Facebook",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="Eccleston Parents Chat",
            inaccurate_text="That the school cancelled the trip without telling parents.",
            correct_facts="Parents were told by letter on 2 November.",
        )
    )
    person = services.people.add_person(
        PersonDraft(
            name=name,
            kind=PersonKind.PARENT,
            address_lines=("12 Example Close", "St Helens"),
            postcode="WA10 5AA",
        )
    )
    services.cases.link_person(case.id, person.id, role)
    return case.id, person.id


def _action(services: Services, case_id: int, rule_id: str) -> object:
    return next(i for i in services.workflow.checklist(case_id) if i.rule_id == rule_id)


# ----- working days ---------------------------------------------------------------------


def test_reply_by_never_falls_on_a_weekend_or_bank_holiday() -> None:
    calendar = WorkingCalendar()
    # Friday 18 December + 7 days is Christmas Day; Boxing Day is observed on Monday 28th.
    assert calendar.reply_by(date(2026, 12, 18), 7) == date(2026, 12, 29)
    # Saturday 5 December + 2 days is Monday 7 December, a working day.
    assert calendar.reply_by(date(2026, 12, 5), 2) == date(2026, 12, 7)
    # Good Friday and Easter Monday 2027.
    assert calendar.reply_by(date(2027, 3, 19), 7) == date(2027, 3, 30)
    assert "bank holiday" in (calendar.why_not_working(date(2027, 5, 31)) or "")
    assert calendar.why_not_working(date(2026, 12, 5)) == "Saturday"


def test_school_closures_move_the_reply_by_date_past_the_holidays() -> None:
    calendar = WorkingCalendar(parse_closures(CHRISTMAS + "\nINSET day: 04/01/2027"))
    assert calendar.reply_by(date(2026, 12, 18), 7) == date(2027, 1, 5)
    calendar = WorkingCalendar(parse_closures(CHRISTMAS))
    reply_by = calendar.reply_by(date(2026, 12, 18), 7)
    assert format_weekday_date(reply_by) == "Monday 4 January 2027"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=30),
)
def test_reply_by_is_the_first_working_day_on_or_after_the_count(start: date, days: int) -> None:
    calendar = WorkingCalendar(parse_closures(CHRISTMAS))
    reply_by = calendar.reply_by(start, days)
    assert calendar.is_working_day(reply_by) and reply_by.weekday() < 5
    earliest = start + timedelta(days=days)
    assert reply_by >= earliest
    skipped = [earliest + timedelta(days=n) for n in range((reply_by - earliest).days)]
    assert all(calendar.why_not_working(day) for day in skipped)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Christmas from 19/12/2026", "not understood"),
        ("Half term: 31/02/2027 to 02/03/2027", "is not a date"),
        ("Half term: 19/02/2027 to 15/02/2027", "ends before it starts"),
        ("Summer: 01/01/2027 to 31/08/2027", "longer than four months"),
    ],
)
def test_a_closure_line_that_cannot_be_read_is_refused_naming_it(text: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        parse_closures(text)


def test_the_profile_keeps_closures_and_refuses_a_bad_line(services: Services) -> None:
    profile = services.letters.profile.save(
        DEMO_SCHOOL_PROFILE.with_values(school_closures=CHRISTMAS)
    )
    assert profile.school_closures == CHRISTMAS
    with pytest.raises(ValidationError, match="school closures line"):
        services.letters.profile.save(DEMO_SCHOOL_PROFILE.with_values(school_closures="soon"))
    assert services.letters.profile.get().school_closures == CHRISTMAS


def test_the_letter_states_the_weekday_and_skips_the_school_holidays(
    services: Services, clock: Clock
) -> None:
    clock.set(datetime(2026, 12, 18, 10, 0, tzinfo=UTC))
    case_id, _ = _open(services)
    services.letters.profile.save(DEMO_SCHOOL_PROFILE.with_values(school_closures=CHRISTMAS))
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    text = _text(services.letters.letter_pdf(issued.id))
    assert "in any case by Monday 4 January 2027" in text
    # A safeguarding letter cannot wait for the holidays to end: weekends and bank
    # holidays only (Friday + 2 days is Sunday 20 December, so Monday 21 December).
    services.cases.update_case(
        case_id,
        case_draft(
            categories={Category.SAFEGUARDING},
            platform="Facebook",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="Eccleston Parents Chat",
        ),
    )
    urgent = services.letters.issue(case_id, LetterKind.SAFEGUARDING)
    text = _text(services.letters.letter_pdf(urgent.id))
    assert "in any case by Monday 21 December 2026" in text


# ----- prepared, then sent ------------------------------------------------------------------


def test_a_prepared_letter_shows_on_its_action_and_sending_it_moves_the_case_on(
    services: Services, clock: Clock
) -> None:
    case_id, _ = _open(services)
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    action = _action(services, case_id, "send-letter-removal")
    assert action.letter_prepared and not action.done  # type: ignore[attr-defined]
    assert services.workflow.escalation(case_id).steps == ()
    assert services.cases.get_case(case_id).status == CaseStatus.NEW

    # Posted three days later, on Friday 27 November: the clock starts then.
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    sent = services.letters.mark_sent(issued.id, SendMethod.POST)
    assert sent.reply_by == date(2026, 12, 4)  # Friday + 7 days, a working day
    action = _action(services, case_id, "send-letter-removal")
    assert action.done and not action.letter_prepared  # type: ignore[attr-defined]
    [step] = services.workflow.escalation(case_id).steps
    assert step.step_id == "first-letter" and step.taken_at == clock.now
    position = services.workflow.escalation(case_id).position
    assert position.next is not None and position.next.id == "follow-up-letter"
    case = services.cases.get_case(case_id)
    assert case.status == CaseStatus.LETTER_SENT
    assert case.follow_up_due == date(2026, 12, 4)
    kinds = [e.kind for e in case.events]
    after = kinds[kinds.index("letter_sent") :]
    assert after == [
        "letter_sent",
        "action_done",
        "step_taken",
        "status_changed",
        "follow_up_changed",
    ]


def test_a_letter_sent_on_an_earlier_day_counts_from_that_day(
    services: Services, clock: Clock
) -> None:
    case_id, _ = _open(services, {Category.SAFEGUARDING})
    issued = services.letters.issue(case_id, LetterKind.SAFEGUARDING)
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    # Handed over on Thursday 26 November: 2 days is Saturday, so Monday 30 November.
    sent = services.letters.mark_sent(issued.id, SendMethod.HAND, date(2026, 11, 26))
    assert sent.reply_by == date(2026, 11, 30)
    [step] = services.workflow.escalation(case_id).steps
    assert step.taken_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    assert _action(services, case_id, "send-letter-safeguarding").done  # type: ignore[attr-defined]


def test_sending_a_second_request_does_not_take_the_first_step_twice(services: Services) -> None:
    case_id, person_id = _open(services, {Category.ABUSIVE, Category.INACCURATE})
    first = services.letters.issue(case_id, LetterKind.REMOVAL)
    services.letters.mark_sent(first.id, SendMethod.POST)
    second = services.letters.issue(case_id, LetterKind.CORRECTION, person_id)
    services.letters.mark_sent(second.id, SendMethod.EMAIL)
    assert [s.step_id for s in services.workflow.escalation(case_id).steps] == ["first-letter"]
    assert _action(services, case_id, "send-letter-correction").done  # type: ignore[attr-defined]


# ----- recipients, kinds, follow-ups -----------------------------------------------------


def test_a_removal_letter_to_someone_not_the_author_needs_confirming(services: Services) -> None:
    case_id, reporter_id = _open(services, role=CaseRole.REPORTER)
    with pytest.raises(ConfirmationNeeded) as asked:
        services.letters.issue(case_id, LetterKind.REMOVAL, reporter_id)
    assert asked.value.reason == "recipient"
    assert "not linked to case SM-2026-0001 as the author" in asked.value.message
    assert services.letters.list_letters(case_id) == []
    issued = services.letters.issue(
        case_id, LetterKind.REMOVAL, reporter_id, confirm_recipient=True
    )
    assert issued.recipient_name == "Zoë Łukasiewicz"
    # An acknowledgement goes to the reporter without a question.
    services.letters.issue(case_id, LetterKind.ACKNOWLEDGEMENT, reporter_id)


def test_a_letter_outside_the_case_standards_needs_confirming(services: Services) -> None:
    case_id, _ = _open(services, {Category.ABUSIVE})
    with pytest.raises(ConfirmationNeeded) as asked:
        services.letters.issue(case_id, LetterKind.CORRECTION)
    assert asked.value.reason == "kind"
    assert "quotes standard 4" in asked.value.message
    assert services.letters.list_letters(case_id) == []
    services.letters.issue(case_id, LetterKind.CORRECTION, confirm_kind=True)
    # Meeting and outcome letters fit any case.
    services.letters.check_issue(case_id, LetterKind.MEETING)


# ----- the school's own words ---------------------------------------------------------------


def test_a_paragraph_is_printed_kept_and_reprinted_identically(services: Services) -> None:
    case_id, _ = _open(services)
    words = "I know this has been a difficult term for your family, and my door is open."
    issued = services.letters.issue(case_id, LetterKind.REMOVAL, paragraph=words)
    pdf = services.letters.letter_pdf(issued.id)
    text = _text(pdf)
    assert words in text
    # It sits before the letter's last paragraph.
    assert text.index(words) < text.index("Please be aware that")
    assert services.letters.letter_pdf(issued.id) == pdf
    word = Document(io.BytesIO(services.letters.letter_docx(issued.id)))
    assert words in " ".join(p.text for p in word.paragraphs)
    with services.ctx.sessions() as session:
        from app.db.models import LetterRecord

        stored = json.loads(session.get(LetterRecord, issued.id).field_values)
    assert stored["paragraph"] == words
    # The template is unchanged for the next letter.
    assert words not in _text(services.letters.prepare(case_id, LetterKind.REMOVAL).pdf)


def test_the_body_may_be_edited_only_where_the_school_allows(services: Services) -> None:
    case_id, _ = _open(services)
    body = (
        "Dear parent, please remove the post about {{ school.name }} by {{ letter.reply_by }}.\n"
        "\nThank you."
    )
    with pytest.raises(ValidationError, match="does not allow"):
        services.letters.issue(case_id, LetterKind.REMOVAL, body=body)
    services.letters.profile.save(DEMO_SCHOOL_PROFILE.with_values(letter_body_editable="yes"))
    assert services.letters.profile.get().allows_body_edit()
    with pytest.raises(TemplateError):
        services.letters.issue(case_id, LetterKind.REMOVAL, body="{{ case.nonsense }}")
    issued = services.letters.issue(case_id, LetterKind.REMOVAL, body=body)
    assert issued.template_version == "default-2-edited"
    text = _text(services.letters.letter_pdf(issued.id))
    assert "please remove the post about Eccleston Lane Ends Primary School by Tuesday" in text
    assert services.letters.template(LetterKind.REMOVAL).is_default


# ----- the ladder knows UK practice -------------------------------------------------------


def test_the_helpline_and_report_harmful_content_carry_their_contacts(services: Services) -> None:
    policy = services.workflow.policy()
    helpline = policy.step("helpline").contact
    assert helpline is not None and helpline.telephone == "0344 381 4772"
    assert helpline.email == "helpline@saferinternet.org.uk"
    rhc = policy.step("report-harmful-content").contact
    assert rhc is not None and rhc.website == "https://reportharmfulcontent.com"
    # The school may change them; the change is kept in the casebook.
    text = services.workflow.policy_json().replace("0344 381 4772", "0344 000 0000")
    services.workflow.save_policy(text)
    changed = services.workflow.policy().step("helpline").contact
    assert changed is not None and changed.telephone == "0344 000 0000"
    assert json.loads(services.workflow.policy().to_json())["ladder"][5]["contact"][
        "telephone"
    ] == ("0344 000 0000")


def test_safeguarding_goes_to_the_helpline_without_the_48_hours_wait(
    services: Services, make_case: object, clock: Clock
) -> None:
    ordinary = services.cases.open_case(case_draft(categories={Category.ABUSIVE}))
    urgent = services.cases.open_case(case_draft(categories={Category.SAFEGUARDING}))
    for case in (ordinary, urgent):
        services.workflow.take_step(case.id, "report-platform", reference="FB-12345")
    wait = services.workflow.escalation(ordinary.id).position
    now = services.workflow.escalation(urgent.id).position
    assert wait.next is not None and wait.next.id == "helpline"
    assert now.next is not None and now.next.id == "helpline"
    assert wait.next_due == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert now.next_due == clock.now


def test_a_report_keeps_its_reference_number_and_date(services: Services, clock: Clock) -> None:
    case = services.cases.open_case(case_draft(categories={Category.ABUSIVE}))
    when = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    services.workflow.take_step(
        case.id, "report-platform", StepOutcome.AWAITING, when=when, reference="IG-2026-778"
    )
    [step] = services.workflow.escalation(case.id).steps
    assert (step.reference, step.taken_at) == ("IG-2026-778", when)
    events = services.cases.get_case(case.id).events
    assert "reference IG-2026-778" in events[-1].summary


def test_a_post_naming_a_member_of_staff_adds_support_for_them(services: Services) -> None:
    case = services.cases.open_case(case_draft(categories={Category.ABUSIVE}))
    rules = [i.rule_id for i in services.workflow.checklist(case.id)]
    assert "support-staff" not in rules
    teacher = services.people.add_person(PersonDraft(name="Mr T. Teacher", kind=PersonKind.STAFF))
    parent = services.people.add_person(PersonDraft(name="A Parent", kind=PersonKind.PARENT))
    services.cases.link_person(case.id, parent.id, CaseRole.SUBJECT)
    assert "support-staff" not in [i.rule_id for i in services.workflow.checklist(case.id)]
    services.cases.link_person(case.id, teacher.id, CaseRole.SUBJECT)
    item = _action(services, case.id, "support-staff")
    assert item.label.startswith("Support the named member of staff")  # type: ignore[attr-defined]
    services.cases.unlink_person(case.id, teacher.id, CaseRole.SUBJECT)
    assert "support-staff" not in [i.rule_id for i in services.workflow.checklist(case.id)]
