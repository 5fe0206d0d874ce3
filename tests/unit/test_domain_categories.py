"""Category ids and case references as a person types them."""

from __future__ import annotations

import pytest

from app.domain.categories import (
    CATEGORY_INFO,
    Category,
    decode_categories,
    encode_categories,
    parse_category,
)
from app.domain.code_of_conduct import load_code
from app.domain.errors import ValidationError
from app.domain.reference import format_reference, parse_reference
from app.services.context import resources_dir


def test_category_ids_are_the_agreed_ones() -> None:
    assert [c.value for c in Category] == ["abusive", "inaccurate", "procedure", "safeguarding"]


def test_every_category_refers_to_a_standard_of_the_code() -> None:
    code = load_code(resources_dir() / "code_of_conduct" / "code_of_conduct.json")
    for category, info in CATEGORY_INFO.items():
        assert info.category == category
        assert code.standard(info.standard_id).id == category.value


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abusive", Category.ABUSIVE),
        ("Inaccurate", Category.INACCURATE),
        ("  PROCEDURE ", Category.PROCEDURE),
        ("safeguarding", Category.SAFEGUARDING),
    ],
)
def test_parse_category(typed: str, expected: Category) -> None:
    assert parse_category(typed) == expected


@pytest.mark.parametrize("typed", ["rude", "", "abuse", "report"])
def test_unknown_category_is_refused_with_the_choices(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_category(typed)
    message = caught.value.message
    assert f"'{typed}' is not a category" in message
    assert "abusive, inaccurate, procedure, safeguarding" in message
    assert caught.value.field == "category"


def test_categories_round_trip_through_their_stored_form() -> None:
    chosen = {Category.SAFEGUARDING, Category.ABUSIVE}
    text = encode_categories(chosen)
    assert text == "abusive,safeguarding"
    assert decode_categories(text) == frozenset(chosen)
    assert decode_categories("") == frozenset()


@pytest.mark.parametrize(
    ("year", "number", "text"),
    [(2026, 1, "SM-2026-0001"), (2026, 42, "SM-2026-0042"), (2027, 12345, "SM-2027-12345")],
)
def test_reference_format_and_parse(year: int, number: int, text: str) -> None:
    assert format_reference(year, number) == text
    assert parse_reference(text) == (year, number)


def test_reference_parse_is_forgiving_about_case_and_spaces() -> None:
    assert parse_reference("  sm-2026-0007 ") == (2026, 7)


@pytest.mark.parametrize(
    "typed", ["SM-26-0001", "SM-2026-1", "XX-2026-0001", "2026-0001", "SM-2026-00a1", ""]
)
def test_bad_reference_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_reference(typed)
    assert "SM-2026-0001" in caught.value.message
    assert "is not a case reference" in caught.value.message
