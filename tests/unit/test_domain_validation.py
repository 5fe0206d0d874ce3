"""What a person types is checked, cleaned, and refused in one clear sentence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.people import PersonKind
from app.domain.records import MAX_TEXT, MAX_TITLE, CaseDraft, PersonDraft
from app.domain.validation import check_case_draft, check_person_draft, check_url, clean_text

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)


def draft(**fields: object) -> CaseDraft:
    values: dict[str, object] = {"title": "Rude post", "categories": frozenset({Category.ABUSIVE})}
    values.update(fields)
    return CaseDraft(**values)  # type: ignore[arg-type]


def refused(value: CaseDraft) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_case_draft(value, TODAY, NOW)
    assert "\n" not in caught.value.message
    return caught.value


def test_a_good_draft_is_trimmed_and_dated_today() -> None:
    clean = check_case_draft(
        draft(title="  Rude post  ", platform=" Facebook ", post_url=" https://x.com/a/1 "),
        TODAY,
        NOW,
    )
    assert clean.title == "Rude post"
    assert clean.platform == "Facebook"
    assert clean.post_url == "https://x.com/a/1"
    assert clean.reported_on == TODAY


@pytest.mark.parametrize("title", ["", "   "])
def test_title_is_required(title: str) -> None:
    error = refused(draft(title=title))
    assert error.field == "title"
    assert "title" in error.message


def test_at_least_one_category() -> None:
    error = refused(draft(categories=frozenset()))
    assert error.field == "categories"
    assert "at least one standard" in error.message


def test_future_posting_time_is_refused() -> None:
    error = refused(draft(posted_at=NOW + timedelta(minutes=1)))
    assert error.field == "posted_at"
    assert "future" in error.message
    check_case_draft(draft(posted_at=NOW), TODAY, NOW)


def test_future_report_date_is_refused() -> None:
    error = refused(draft(reported_on=TODAY + timedelta(days=1)))
    assert error.field == "reported_on"
    assert "future" in error.message


def test_follow_up_may_be_in_the_future() -> None:
    clean = check_case_draft(draft(follow_up_due=TODAY + timedelta(days=14)), TODAY, NOW)
    assert clean.follow_up_due == date(2026, 12, 8)


def test_a_posting_time_without_a_zone_is_london_time() -> None:
    # 24 November is GMT, so 09:30 in London is 09:30 UTC: not in the future at 10:00.
    clean = check_case_draft(draft(posted_at=datetime(2026, 11, 24, 9, 30)), TODAY, NOW)
    assert clean.posted_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    error = refused(draft(posted_at=datetime(2026, 11, 24, 10, 30)))
    assert error.field == "posted_at"


@pytest.mark.parametrize(
    "url", ["www.facebook.com/post", "ftp://example.org/x", "javascript:alert(1)", "https:// x"]
)
def test_bad_post_address_is_refused(url: str) -> None:
    error = refused(draft(post_url=url))
    assert "is not a web address" in error.message


@pytest.mark.parametrize("url", ["", "https://www.facebook.com/groups/1/posts/2", "HTTP://x.com"])
def test_good_post_addresses(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("bad", ["bell\x07", "nul\x00", "escape\x1b[31m", "del\x7f"])
def test_control_characters_are_refused(bad: str) -> None:
    error = refused(draft(title=bad))
    assert "characters that cannot be stored" in error.message
    error = refused(draft(summary=bad))
    assert error.field == "summary"


def test_title_must_be_one_line_but_summary_may_not() -> None:
    refused(draft(title="two\nlines"))
    clean = check_case_draft(draft(summary="first line\nsecond line\r\n"), TODAY, NOW)
    assert clean.summary == "first line\nsecond line"


def test_over_long_text_is_refused_with_the_limit() -> None:
    error = refused(draft(title="x" * (MAX_TITLE + 1)))
    assert f"at most {MAX_TITLE}" in error.message
    assert f"({MAX_TITLE + 1} characters" in error.message
    refused(draft(summary="x" * (MAX_TEXT + 1)))
    check_case_draft(draft(title="x" * MAX_TITLE, summary="x" * MAX_TEXT), TODAY, NOW)


def test_clean_text_keeps_unicode() -> None:
    assert clean_text("  Zoë Łukasiewicz ", "name", 50) == "Zoë Łukasiewicz"


# ----- people -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Zoë Łukasiewicz", "Nguyễn Thị Hồng", "Siobhán O'Brien", "Дмитрий Соколов"]
)
def test_full_unicode_names_are_kept_exactly(name: str) -> None:
    assert check_person_draft(PersonDraft(name=name)).name == name


def test_person_needs_a_name() -> None:
    with pytest.raises(ValidationError, match="person's name"):
        check_person_draft(PersonDraft(name="  "))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("wa10 5aa", "WA10 5AA"), ("WA105AA", "WA10 5AA"), ("l34 9zz", "L34 9ZZ"), ("", "")],
)
def test_postcodes_are_tidied(typed: str, stored: str) -> None:
    assert check_person_draft(PersonDraft(name="A", postcode=typed)).postcode == stored


@pytest.mark.parametrize("postcode", ["ABC 123", "12345", "WA10 5A", "W1A1AAA"])
def test_bad_postcode_is_refused(postcode: str) -> None:
    with pytest.raises(ValidationError, match="is not a UK postcode") as caught:
        check_person_draft(PersonDraft(name="A", postcode=postcode))
    assert caught.value.field == "postcode"


def test_bad_email_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not an email address"):
        check_person_draft(PersonDraft(name="A", email="zoe at example.org"))


def test_address_lines_are_trimmed_and_limited() -> None:
    clean = check_person_draft(
        PersonDraft(name="A", kind=PersonKind.CARER, address_lines=(" 1 Road ", "", "Town"))
    )
    assert clean.address_lines == ("1 Road", "Town")
    with pytest.raises(ValidationError, match="five lines"):
        check_person_draft(PersonDraft(name="A", address_lines=tuple("abcdef")))
