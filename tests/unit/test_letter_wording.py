"""What letters say: which post, what is wrong and the facts, how the matter ended, the
barring sequence, and the version of the Code each letter quoted. Read back from the PDFs."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.cli.case_details import draft_of
from app.domain.categories import Category
from app.domain.code_of_conduct import normalise_spacing
from app.domain.errors import AccessDenied, ConfirmationNeeded, ValidationError
from app.domain.letters import LETTER_KINDS, LetterKind, SendMethod
from app.domain.people import CaseRole, PersonKind
from app.domain.policy import CaseOutcome
from app.domain.records import CaseDraft, PersonDraft
from app.domain.status import CaseStatus
from app.services.casebook import Services, open_casebook
from app.services.context import resources_dir
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CODE_TEXT = (resources_dir() / "code_of_conduct" / "code_of_conduct_social_media.txt").read_text(
    encoding="utf-8"
)
REVISED_WORDS = "Threatening, abusive or discriminatory material about the School will be removed."


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return normalise_spacing(
        unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))
    )


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(tmp_path: Path, clock: Clock) -> Services:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=clock)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def _case(services: Services, category: Category = Category.ABUSIVE, **extra: object) -> int:
    fields: dict[str, object] = {
        "posted_at": datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
        "post_place": "Eccleston Parents Chat",
        **extra,
    }
    case = services.cases.open_case(
        CaseDraft(
            title="Post about the school",
            categories=frozenset({category}),
            platform="Facebook",
            **fields,  # type: ignore[arg-type]
        )
    )
    person = services.people.add_person(
        PersonDraft(
            name="Kathleen Whitfield",
            kind=PersonKind.PARENT,
            address_lines=("12 Example Close", "Eccleston"),
            postcode="WA10 5AA",
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    return case.id


def test_a_letter_names_the_post_and_asks_before_it_goes_without_its_details(
    services: Services,
) -> None:
    case_id = _case(services)
    assert services.letters.confirmations_needed(case_id, LetterKind.REMOVAL) == ()
    prepared = services.letters.prepare(case_id, LetterKind.REMOVAL)
    assert prepared.warnings == ()
    assert (
        "material you posted on Facebook, in “Eccleston Parents Chat”, on 20 November 2026 "
        "that refers to" in _text(prepared.pdf)
    )
    # Neither the group nor the date is recorded: issuing asks first, and records nothing.
    bare = _case(services, posted_at=None, post_place="")
    with pytest.raises(ConfirmationNeeded) as asked:
        services.letters.issue(bare, LetterKind.REMOVAL)
    assert asked.value.reason == "post"
    assert asked.value.message == (
        "Case SM-2026-0002 does not record the group or page, or the date of the post, so the "
        "letter will say only that it was posted on Facebook. Add them to the case’s details "
        "if known."
    )
    assert services.letters.list_letters(bare) == []
    issued = services.letters.issue(bare, LetterKind.REMOVAL, confirm_post_details=True)
    assert "material you posted on Facebook that refers to" in _text(
        services.letters.letter_pdf(issued.id)
    )
    # The group known and the date genuinely not: the sentence still reads naturally.
    undated = _case(services, posted_at=None)
    (question,) = services.letters.confirmations_needed(undated, LetterKind.REMOVAL)
    assert question.message.startswith("Case SM-2026-0003 does not record the date of the post,")
    assert "only that it was posted in “Eccleston Parents Chat” on Facebook." in question.message
    issued = services.letters.issue(undated, LetterKind.REMOVAL, confirm_post_details=True)
    assert "material you posted in “Eccleston Parents Chat” on Facebook that refers to" in _text(
        services.letters.letter_pdf(issued.id)
    )
    # The date known and the group not.
    placeless = _case(services, post_place="")
    issued = services.letters.issue(placeless, LetterKind.REMOVAL, confirm_post_details=True)
    assert "material you posted on Facebook on 20 November 2026 that refers to" in _text(
        services.letters.letter_pdf(issued.id)
    )


def test_a_letter_that_does_not_name_the_post_asks_nothing_about_it(services: Services) -> None:
    case_id = _case(services, posted_at=None, post_place="")
    services.letters.save_template(
        LetterKind.REMOVAL,
        "Please remove the post",
        "Dear {{ recipient.name }},\n\nPlease remove what you posted about {{ school.name }}.",
    )
    assert services.letters.confirmations_needed(case_id, LetterKind.REMOVAL) == ()
    services.letters.issue(case_id, LetterKind.REMOVAL)


def test_a_batch_issues_a_letter_without_the_posts_details_only_when_confirmed(
    services: Services,
) -> None:
    full, bare = _case(services), _case(services, posted_at=None, post_place="")
    plan = services.letters.prepare_batch([full, bare], LetterKind.REMOVAL)
    assert plan.items[0].questions == ()
    assert [reason for reason, _ in plan.items[1].questions] == ["post"]
    result = services.letters.issue_batch(plan)
    assert result.included == ("SM-2026-0001",) and result.skipped == ("SM-2026-0002",)
    assert services.letters.list_letters(bare) == []
    again = services.letters.prepare_batch([bare], LetterKind.REMOVAL)
    result = services.letters.issue_batch(again, confirmed=frozenset({"post"}))
    assert result.included == ("SM-2026-0002",)


def test_the_correction_letter_states_what_is_wrong_and_the_facts(services: Services) -> None:
    case_id = _case(services, Category.INACCURATE)
    with pytest.raises(ValidationError, match="“What is inaccurate” and “Correct facts”"):
        services.letters.issue(case_id, LetterKind.CORRECTION)
    assert services.letters.list_letters(case_id) == []
    case = services.cases.get_case(case_id)
    services.cases.update_case(
        case_id,
        replace(
            draft_of(case),
            inaccurate_text="the school has cancelled the Year 6 residential trip.",
            correct_facts="the Year 6 residential trip goes ahead on 4 May 2027, as planned.",
        ),
    )
    issued = services.letters.issue(case_id, LetterKind.CORRECTION)
    text = _text(services.letters.letter_pdf(issued.id))
    assert (
        "the post says the following, which is not correct: the school has cancelled the "
        "Year 6 residential trip." in text
    )
    assert "The facts are these: the Year 6 residential trip goes ahead on 4 May 2027" in text


@pytest.mark.parametrize(
    ("how", "says", "quotes", "status"),
    [
        ("removed", "it has now been removed, and I thank you", False, CaseStatus.RESOLVED),
        ("corrected", "it has now been corrected, and I thank you", False, CaseStatus.RESOLVED),
        ("escalated", "the school is now taking the matter further", True, CaseStatus.ESCALATED),
        ("closed", "decided to take no further action", False, CaseStatus.CLOSED_NO_ACTION),
    ],
)
def test_the_outcome_letter_is_worded_for_the_outcome(
    services: Services, how: str, says: str, quotes: bool, status: CaseStatus
) -> None:
    case_id = _case(services)
    with pytest.raises(ValidationError, match="says how the matter ended"):
        services.letters.issue(case_id, LetterKind.OUTCOME)
    first = services.letters.issue(case_id, LetterKind.REMOVAL)
    services.letters.mark_sent(first.id, SendMethod.POST)
    if how == "removed":
        services.workflow.set_outcome(case_id, CaseOutcome.REMOVED)
    elif how == "corrected":
        services.workflow.set_outcome(case_id, CaseOutcome.CORRECTED)
    elif how == "escalated":
        services.cases.change_status(case_id, CaseStatus.ESCALATED)
    else:
        services.cases.change_status(case_id, CaseStatus.CLOSED_NO_ACTION)
    before = services.cases.get_case(case_id).status
    issued = services.letters.issue(case_id, LetterKind.OUTCOME)
    services.letters.mark_sent(issued.id, SendMethod.POST)  # sending moves the case on
    text = _text(services.letters.letter_pdf(issued.id))
    assert says in text
    standard = normalise_spacing(services.ctx.code.standard("abusive").text)
    assert (standard in text) is quotes
    assert ("Thank you for your co-operation" in text) is False
    after = services.cases.get_case(case_id).status
    assert after == status
    if how in ("escalated", "closed"):
        assert after == before  # the letter itself moves nothing on


def test_letters_use_curly_quotes_and_one_spelling_of_head_teacher(services: Services) -> None:
    for kind in LetterKind:
        template = services.letters.default_template(kind)
        words = re.sub(r"\{[{%].*?[}%]\}", "", template.subject + template.body)
        assert "'" not in words and '"' not in words, kind
        assert not re.search(r"[Hh]eadteacher", words), kind
    case_id = _case(services)
    text = _text(services.letters.prepare(case_id, LetterKind.PROCEDURE).pdf)
    assert "school’s" in text and "Head teacher" in text
    assert "Headteacher" not in text
    leaflet = _text(services.letters.guidance_pdf()[0])
    # Only the Code's own words may say "headteacher" (they are quoted as written).
    assert leaflet.count("headteacher") == 1 and "Headteacher" not in leaflet


def test_a_school_template_with_straight_quotes_prints_curly_ones(services: Services) -> None:
    services.letters.save_template(
        LetterKind.MEETING,
        'Meeting about the school\'s "policy"',
        "Dear {{ recipient.name }}, the school's view.",
    )
    case_id = _case(services)
    prepared = services.letters.prepare(case_id, LetterKind.MEETING)
    assert prepared.document.subject == "Meeting about the school’s “policy”"


def _take_legal_advice(services: Services, case_id: int) -> None:
    services.workflow.take_step(case_id, "legal-advice")


def test_barring_letters_follow_legal_advice_and_each_other(services: Services) -> None:
    conduct = (
        "On 2 December 2026 at the school gate you shouted at a member of staff and "
        "threatened to harm her."
    )
    case_id = _case(services, barring_conduct=conduct)
    with pytest.raises(ValidationError, match="only after legal advice"):
        services.letters.issue(case_id, LetterKind.BARRING_INTENT)
    _take_legal_advice(services, case_id)
    with pytest.raises(Exception, match="earlier letter"):
        services.letters.issue(case_id, LetterKind.BARRING_DECISION)
    status = services.cases.get_case(case_id).status
    intent = services.letters.issue(case_id, LetterKind.BARRING_INTENT)
    text = _text(services.letters.letter_pdf(intent.id))
    assert conduct in text
    assert "Controlling access to school premises" in text
    assert "intends to withdraw your permission to come onto the school site" in text
    assert "by Friday 4 December 2026" in text  # ten days to give their side
    assert normalise_spacing(services.ctx.code.standard("abusive").text) in text
    reps = services.letters.issue(case_id, LetterKind.BARRING_REPRESENTATIONS)
    assert "I wrote to you on 24 November 2026" in _text(services.letters.letter_pdf(reps.id))
    decision = services.letters.issue(case_id, LetterKind.BARRING_DECISION)
    text = _text(services.letters.letter_pdf(decision.id))
    assert "I have decided to withdraw your permission" in text
    assert "review this decision by 24 February 2027" in text
    review = services.letters.issue(case_id, LetterKind.BARRING_REVIEW)
    assert "The review has now taken place" in _text(services.letters.letter_pdf(review.id))
    assert services.cases.get_case(case_id).status == status
    assert all(LETTER_KINDS[k].optional for k in (LetterKind.BARRING_INTENT,))


def test_a_barring_letter_needs_the_conduct_described(services: Services) -> None:
    case_id = _case(services)
    _take_legal_advice(services, case_id)
    with pytest.raises(Exception, match="what the person did at or towards the school"):
        services.letters.issue(case_id, LetterKind.BARRING_INTENT)


def _revised() -> str:
    old = "Foul, abusive, discriminatory or threatening material about the School, its staff"
    start = CODE_TEXT.index(old)
    end = CODE_TEXT.index("\n", start)
    return CODE_TEXT[:start] + REVISED_WORDS + CODE_TEXT[end:]


def test_a_revised_code_takes_effect_on_its_date_and_old_letters_keep_their_words(
    services: Services, clock: Clock
) -> None:
    case_id = _case(services)
    first = services.letters.issue(case_id, LetterKind.REMOVAL)
    services.letters.mark_sent(first.id, SendMethod.POST)  # a follow-up waits for this
    first_pdf = services.letters.letter_pdf(first.id)
    info = services.code.adopt(_revised(), "code-2027.txt", "1.1", NOW.date() + timedelta(days=7))
    assert info.version == "1.1" and not info.in_force
    # Before the date, letters still quote version 1.0.
    still = services.letters.prepare(case_id, LetterKind.REMOVAL)
    assert "Foul, abusive" in _text(still.pdf)
    # A day after the first letter's reply-by date (Tuesday 1 December), when a follow-up
    # may go; the revised Code is in force by then.
    clock.now = NOW + timedelta(days=8)
    services.code.refresh()
    second = services.letters.issue(case_id, LetterKind.FOLLOW_UP)
    later = services.letters.issue(case_id, LetterKind.REMOVAL)
    text = _text(services.letters.letter_pdf(later.id))
    assert REVISED_WORDS in text and "Foul, abusive" not in text
    # A follow-up quotes the standard of the first letter, in the version now in force.
    assert REVISED_WORDS in _text(services.letters.letter_pdf(second.id))
    listed = {letter.id: letter.code_version for letter in services.letters.list_letters(case_id)}
    assert listed == {first.id: "1.0", second.id: "1.1", later.id: "1.1"}
    # The reprint of the first letter is the same file, with the words it quoted.
    assert services.letters.letter_pdf(first.id) == first_pdf
    assert "Foul, abusive" in _text(first_pdf)
    versions = services.code.versions()
    assert [(v.version, v.in_force) for v in versions] == [("1.0", False), ("1.1", True)]
    leaflet = _text(services.letters.guidance_pdf()[0])
    assert "Code version 1.1 (in force from 1 December 2026)" in leaflet
    assert REVISED_WORDS in leaflet
    # The case file says which version each letter quoted.
    bundle = _text(services.reports.case_file(case_id))
    assert "Code of Conduct version 1.0" in bundle and "Code of Conduct version 1.1" in bundle


def test_a_revised_code_is_checked_before_it_is_adopted(services: Services) -> None:
    later = NOW.date() + timedelta(days=1)
    with pytest.raises(ValidationError, match="before the day it is adopted"):
        services.code.adopt(CODE_TEXT, "c.txt", "1.1", NOW.date() - timedelta(days=1))
    with pytest.raises(ValidationError, match=r"1\.0 of the Code is already recorded"):
        services.code.adopt(CODE_TEXT, "c.txt", "1.0", later)
    with pytest.raises(ValidationError, match=r"later than 1\.0"):
        services.code.adopt(CODE_TEXT, "c.txt", "0.9", later)
    with pytest.raises(ValidationError, match="no clause is mapped to the standard “report”"):
        services.code.adopt(
            CODE_TEXT, "c.txt", "1.1", later, {1: "abusive", 3: "procedure", 4: "inaccurate",
                                                5: "safeguarding"}
        )  # fmt: skip
    with pytest.raises(ValidationError, match="three"):
        services.code.adopt("A title\n\nOne paragraph.", "c.txt", "1.1", later)
    assert [v.version for v in services.code.versions()] == ["1.0"]


def test_only_the_head_teacher_adopts_a_revised_code(tmp_path: Path) -> None:
    from app.domain.access import Role, SignedInUser

    s = open_casebook(tmp_path / "data2", actor="Office", clock=lambda: NOW)
    try:
        s.ctx.user = SignedInUser("Office", Role.OFFICE)
        with pytest.raises(AccessDenied):
            s.code.adopt(CODE_TEXT, "c.txt", "1.1", NOW.date() + timedelta(days=1))
    finally:
        s.close()
