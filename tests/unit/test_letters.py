"""Letters read back from real PDFs: the Code's words, names, fonts, the envelope window."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from pypdf import PdfReader

from app.domain.categories import Category
from app.domain.code_of_conduct import normalise_spacing
from app.domain.errors import TemplateError, ValidationError
from app.domain.letters import LETTER_KINDS, LetterKind, SendMethod
from app.domain.people import CaseRole, PersonKind
from app.domain.policy import CaseOutcome
from app.domain.records import CaseDraft, PersonDraft
from app.domain.status import CaseStatus
from app.services.casebook import Services, open_casebook
from app.services.demo import DEMO_SCHOOL_PROFILE

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MM = 72 / 25.4


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return normalise_spacing(
        unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))
    )


@pytest.fixture
def services(tmp_path: Path) -> Services:
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: NOW)
    s.letters.profile.save(DEMO_SCHOOL_PROFILE)
    yield s
    s.close()


def _case(services: Services, name: str = "Zoë Łukasiewicz", **extra: object) -> tuple[int, int]:
    case = services.cases.open_case(
        CaseDraft(
            title="Post naming Year 4 child",
            categories=frozenset({Category.ABUSIVE}),
            platform="Facebook",
            summary="A summary naming the child Tommy Example.",
            posted_at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            post_place="Eccleston Parents Chat",
            inaccurate_text="the school has cancelled every trip this year.",
            correct_facts="every planned trip is going ahead.",
        )
    )
    person = services.people.add_person(
        PersonDraft(
            name=name,
            kind=PersonKind.PARENT,
            address_lines=("12 Example Close", "Eccleston", "St Helens"),
            postcode="WA10 5AA",
        )
    )
    services.cases.link_person(case.id, person.id, CaseRole.AUTHOR)
    services.cases.link_person(case.id, person.id, CaseRole.REPORTER)
    return case.id, person.id


@pytest.mark.parametrize(
    "kind",
    [
        k
        for k in LetterKind
        if k not in (LetterKind.FOLLOW_UP, LetterKind.OUTCOME) and not LETTER_KINDS[k].optional
    ],
)
def test_every_letter_quotes_its_standard_verbatim(services: Services, kind: LetterKind) -> None:
    case_id, _ = _case(services)
    issued = services.letters.issue(case_id, kind, confirm_kind=True)
    text = _text(services.letters.letter_pdf(issued.id))
    # Meeting and outcome letters quote the standard the case is about.
    standard_id = (
        "abusive"
        if kind in (LetterKind.MEETING, LetterKind.OUTCOME)
        else LETTER_KINDS[kind].standard_id
    )
    assert normalise_spacing(services.ctx.code.standard(standard_id).text) in text
    assert "SM-2026-0001" in text
    assert "24 November 2026" in text
    assert "Private and confidential" in text
    assert "Dear Zoë Łukasiewicz," in text
    assert "Mrs J. Example" in text and "Head teacher" in text
    # Every letter names the post: platform, group or page, and date.
    assert "on Facebook, in “Eccleston Parents Chat”, on 20 November 2026" in text


def test_follow_up_refers_to_the_first_letter_by_date(tmp_path: Path) -> None:
    clock = [NOW]
    s = open_casebook(tmp_path / "data", actor="Head Teacher", clock=lambda: clock[0])
    try:
        s.letters.profile.save(DEMO_SCHOOL_PROFILE)
        case_id, _ = _case(s)
        with pytest.raises(TemplateError, match="earlier letter"):
            s.letters.prepare(case_id, LetterKind.FOLLOW_UP)
        first = s.letters.issue(case_id, LetterKind.REMOVAL)
        with pytest.raises(ValidationError, match="has not been recorded as sent"):
            s.letters.prepare(case_id, LetterKind.FOLLOW_UP)
        s.letters.mark_sent(first.id, SendMethod.POST)
        # Sent Tuesday 24 November: a reply by Tuesday 1 December, so the follow-up may
        # go from Wednesday 2 December and not before.
        clock[0] = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
        with pytest.raises(ValidationError) as refused:
            s.letters.issue(case_id, LetterKind.FOLLOW_UP)
        assert refused.value.message.startswith(
            "A follow-up may be sent from Wednesday 2 December 2026"
        )
        assert "a reply by Tuesday 1 December 2026" in refused.value.message
        assert [x.kind for x in s.letters.list_letters(case_id)] == [LetterKind.REMOVAL]
        clock[0] = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
        follow = s.letters.issue(case_id, LetterKind.FOLLOW_UP)
        assert "I wrote to you on 24 November 2026" in _text(s.letters.letter_pdf(follow.id))
    finally:
        s.close()


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Łukasiewicz",
        "Nguyễn Thị Hồng",
        "Siobhán O'Brien",
        "Дмитрий Соколов",
        "Γιώργος Παπαδόπουλος",
        "Ayşe Yılmaz",
    ],
)
def test_names_in_any_script_print_and_read_back(services: Services, name: str) -> None:
    case_id, _ = _case(services, name)
    prepared = services.letters.prepare(case_id, LetterKind.REMOVAL)
    assert prepared.warnings == ()
    text = _text(prepared.pdf)
    assert f"Dear {name}," in text


def test_every_font_is_embedded_and_metadata_is_set(services: Services) -> None:
    case_id, _ = _case(services)
    pdf = services.letters.prepare(case_id, LetterKind.REMOVAL).pdf
    reader = PdfReader(io.BytesIO(pdf))
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts.append(font["/BaseFont"])
            assert descriptor is not None, font["/BaseFont"]
            assert "/FontFile2" in descriptor.get_object(), font["/BaseFont"]
    assert fonts
    meta = reader.metadata
    assert meta.title == "Request for immediate removal — SM-2026-0001"
    assert meta.author == "Eccleston Lane Ends Primary School"
    assert meta.subject == "Letter about case SM-2026-0001"


def test_address_sits_in_the_dl_envelope_window(services: Services) -> None:
    case_id, _ = _case(services)
    pdf = services.letters.prepare(case_id, LetterKind.REMOVAL).pdf
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, _cm: object, tm: list[float], _fd: object, _fs: object) -> None:
        for wanted in ("Zoë Łukasiewicz", "WA10 5AA", "PRIVATE AND CONFIDENTIAL"):
            if wanted in unicodedata.normalize("NFC", text) and wanted not in found:
                found[wanted] = (tm[4], tm[5])

    page.extract_text(visitor_text=visit)
    assert set(found) == {"Zoë Łukasiewicz", "WA10 5AA", "PRIVATE AND CONFIDENTIAL"}
    for x, y in found.values():
        from_top = (height - y) / MM
        assert 20 <= x / MM <= 110 - 40, x / MM
        assert 45 <= from_top <= 95, from_top


def test_reprinting_gives_the_identical_pdf(services: Services) -> None:
    case_id, _ = _case(services)
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    first = services.letters.letter_pdf(issued.id)
    assert services.letters.letter_pdf(issued.id) == first
    assert services.letters.prepare(case_id, LetterKind.REMOVAL).pdf == first
    import hashlib

    assert hashlib.sha256(first).hexdigest() == issued.pdf_sha256


def test_issuing_records_and_moves_the_case_on(services: Services) -> None:
    case_id, person_id = _case(services)
    issued = services.letters.issue(case_id, LetterKind.REMOVAL, person_id, SendMethod.HAND)
    case = services.cases.get_case(case_id)
    # Issued is only prepared: the case moves on when the letter is recorded as sent.
    assert case.status == CaseStatus.NEW and case.follow_up_due is None
    assert any(e.kind == "letter_issued" and "by hand" in e.summary for e in case.events)
    services.letters.mark_sent(issued.id, SendMethod.HAND)
    case = services.cases.get_case(case_id)
    assert case.status == CaseStatus.LETTER_SENT
    assert case.follow_up_due is not None and case.follow_up_due.isoformat() == "2026-12-01"
    [listed] = services.letters.list_letters(case_id)
    assert listed.template_version == "default-2"
    assert listed.method == SendMethod.HAND
    assert listed.issued_by == "Head Teacher"
    assert listed.pdf_sha256 == issued.pdf_sha256
    services.workflow.set_outcome(case_id, CaseOutcome.REMOVED)
    outcome = services.letters.issue(case_id, LetterKind.OUTCOME)
    services.letters.mark_sent(outcome.id, SendMethod.POST)
    case = services.cases.get_case(case_id)
    assert outcome.kind == LetterKind.OUTCOME
    assert case.status == CaseStatus.RESOLVED and case.follow_up_due is None


def test_a_missing_profile_field_stops_the_letter_and_records_nothing(
    services: Services,
) -> None:
    case_id, _ = _case(services)
    services.letters.profile.save(DEMO_SCHOOL_PROFILE.with_values(telephone=""))
    before = services.cases.get_case(case_id)
    with pytest.raises(TemplateError, match="school’s telephone number is empty"):
        services.letters.issue(case_id, LetterKind.REMOVAL)
    after = services.cases.get_case(case_id)
    assert services.letters.list_letters(case_id) == []
    assert after.events == before.events and after.status == before.status
    assert list(services.letters.blobs.stored_names()) == []


def test_the_default_profile_names_the_school_and_asks_for_the_rest(tmp_path: Path) -> None:
    s = open_casebook(tmp_path / "fresh", clock=lambda: NOW)
    try:
        profile = s.letters.profile.get()
        assert profile.name == "Eccleston Lane Ends Primary School"
        assert "address" in profile.missing()
        case_id, _ = _case(s)
        with pytest.raises(TemplateError, match="school address is empty"):
            s.letters.prepare(case_id, LetterKind.REMOVAL)
    finally:
        s.close()


def test_post_needs_an_address(services: Services) -> None:
    case_id, _ = _case(services)
    person = services.people.add_person(PersonDraft(name="No Address"))
    services.cases.link_person(case_id, person.id, CaseRole.WITNESS)
    with pytest.raises(ValidationError, match="no postal address"):
        services.letters.prepare(case_id, LetterKind.REMOVAL, person.id, SendMethod.POST)
    assert services.letters.prepare(case_id, LetterKind.REMOVAL, person.id, SendMethod.EMAIL)


def test_safeguarding_letter_does_not_repeat_the_childs_details(services: Services) -> None:
    case_id, _ = _case(services)
    text = _text(services.letters.prepare(case_id, LetterKind.SAFEGUARDING).pdf)
    assert "Tommy" not in text and "Year 4 child" not in text
    with pytest.raises(TemplateError, match=r"case\.summary"):
        services.letters.save_template(LetterKind.SAFEGUARDING, "Re", "About {{ case.summary }}")


def test_an_unknown_field_is_named_and_nothing_is_saved(services: Services) -> None:
    with pytest.raises(TemplateError, match=r"school\.headteacher"):
        services.letters.save_template(LetterKind.REMOVAL, "Re", "Hello {{ school.headteacher }}")
    with pytest.raises(TemplateError, match="'colour'"):
        services.letters.save_template(LetterKind.REMOVAL, "Re {{ colour }}", "Hello")
    with pytest.raises(TemplateError, match="line 1"):
        services.letters.save_template(LetterKind.REMOVAL, "Re", "{% if %}")
    assert services.letters.template(LetterKind.REMOVAL).version == "default-2"


def test_the_schools_own_template_is_versioned_and_recorded(services: Services) -> None:
    case_id, _ = _case(services)
    body = "We ask you to remove it.\n\n> {{ standard.text }}\n\n" + "More words. " * 400
    saved = services.letters.save_template(LetterKind.REMOVAL, "Please remove the post", body)
    assert saved.version == "school-1"
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    assert issued.template_version == "school-1"
    text = _text(services.letters.letter_pdf(issued.id))
    assert "Page 1 of 2" in text and "Page 2 of 2" in text
    services.letters.restore_default(LetterKind.REMOVAL)
    assert services.letters.template(LetterKind.REMOVAL).version == "default-2"


def test_one_page_letters_carry_no_page_numbers(services: Services) -> None:
    case_id, _ = _case(services)
    assert "Page 1 of" not in _text(services.letters.prepare(case_id, LetterKind.REMOVAL).pdf)


def test_a_character_no_font_can_print_stops_the_letter(services: Services) -> None:
    # U+2000B is a rare ideograph outside the Chinese font's national-standard set.
    case_id, _ = _case(services, "Li \U0002000b")
    prepared = services.letters.prepare(case_id, LetterKind.REMOVAL)
    assert "\U0002000b" in prepared.unprintable and "Li \U0002000b" in prepared.unprintable
    with pytest.raises(ValidationError, match="correct the spelling of the name"):
        services.letters.issue(case_id, LetterKind.REMOVAL)
    assert services.letters.list_letters(case_id) == []


def test_docx_export_has_the_same_words(services: Services) -> None:
    case_id, _ = _case(services)
    issued = services.letters.issue(case_id, LetterKind.CORRECTION, confirm_kind=True)
    word = Document(io.BytesIO(services.letters.letter_docx(issued.id)))
    text = normalise_spacing(_docx_text(word))
    assert normalise_spacing(services.ctx.code.standard("inaccurate").text) in text
    assert "Zoë Łukasiewicz" in text and "SM-2026-0001" in text


def _docx_text(word: Any) -> str:
    """Every word a reader sees: body, the address and date table, and the footer."""
    parts = [p.text for p in word.paragraphs]
    for table in word.tables:
        parts += [p.text for cell in table._cells for p in cell.paragraphs]
    parts += [p.text for p in word.sections[0].footer.paragraphs]
    return " ".join(parts).replace("\u00a0", " ")


def test_batch_pdf_joins_the_latest_letter_of_each_case(services: Services) -> None:
    first, _ = _case(services)
    second, _ = _case(services, "Дмитрий Соколов")
    third, _ = _case(services, "Nobody Yet")
    services.letters.issue(first, LetterKind.REMOVAL)
    services.letters.issue(second, LetterKind.REMOVAL)
    seen: list[tuple[int, int]] = []
    result = services.letters.batch_pdf(
        [first, second, third], progress=lambda d, t: seen.append((d, t))
    )
    assert len(PdfReader(io.BytesIO(result.pdf)).pages) == 2
    assert result.included == ("SM-2026-0001", "SM-2026-0002")
    assert result.skipped == ("SM-2026-0003",)
    assert seen[-1] == (3, 3)


def test_guidance_leaflet_quotes_the_code(services: Services) -> None:
    code = services.ctx.code
    pdf, warnings = services.letters.guidance_pdf()
    assert warnings == ()
    text = _text(pdf)
    for passage in (*code.introduction, code.purpose, *(s.text for s in code.standards)):
        assert normalise_spacing(passage) in text
    for kind in code.media_kinds:
        assert kind.text in text
    assert "Code version 1.0" in text
    assert PdfReader(io.BytesIO(pdf)).metadata.author == "Eccleston Lane Ends Primary School"
    booklet, _ = services.letters.guidance_pdf(a5_booklet=True)
    reader = PdfReader(io.BytesIO(booklet))
    assert len(reader.pages) % 2 == 0
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595
    assert normalise_spacing(code.standards[0].text) in _text(booklet)


def test_guidance_fonts_are_all_embedded(services: Services) -> None:
    pdf, _ = services.letters.guidance_pdf()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            assert "/FontDescriptor" in font.get_object(), font.get_object()["/BaseFont"]


def test_an_issued_letter_is_prepared_until_it_is_recorded_as_sent(services: Services) -> None:
    case_id, _ = _case(services)
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    assert not issued.is_sent
    sent = services.letters.mark_sent(issued.id, SendMethod.HAND)
    assert sent.is_sent and sent.sent_method == SendMethod.HAND
    assert sent.sent_on == NOW.date() and sent.sent_by == "Head Teacher"
    # Recording the same thing again changes nothing; a different date is refused.
    assert services.letters.mark_sent(issued.id, SendMethod.HAND) == sent
    with pytest.raises(ValidationError, match="already recorded as sent"):
        services.letters.mark_sent(issued.id, SendMethod.POST)
    events = [e.kind for e in services.cases.get_case(case_id).events]
    assert events.count("letter_sent") == 1
    assert services.letters.list_letters(case_id)[0].is_sent


def test_a_sending_date_in_the_future_or_before_the_letter_is_refused(
    services: Services,
) -> None:
    from datetime import date

    case_id, _ = _case(services)
    issued = services.letters.issue(case_id, LetterKind.REMOVAL)
    with pytest.raises(ValidationError, match="future"):
        services.letters.mark_sent(issued.id, SendMethod.POST, date(2026, 11, 25))
    with pytest.raises(ValidationError, match="before the letter"):
        services.letters.mark_sent(issued.id, SendMethod.POST, date(2026, 11, 23))
    assert not services.letters.get_letter(issued.id).is_sent
