"""A revised Code's text is read word for word: the shipped text gives the shipped Code."""

from __future__ import annotations

import json

import pytest

from app.domain.code_of_conduct import (
    code_to_dict,
    parse_code_text,
    parse_mapping,
    standards_in_text,
)
from app.domain.errors import ValidationError
from app.services.context import load_default_code, resources_dir

TEXT = (resources_dir() / "code_of_conduct" / "code_of_conduct_social_media.txt").read_text(
    encoding="utf-8"
)


def test_the_shipped_text_reads_as_the_shipped_code_word_for_word() -> None:
    shipped = load_default_code()
    read = parse_code_text(TEXT, "1.1", "2027-01-04")
    assert read.title == shipped.title and read.introduction == shipped.introduction
    assert read.media_intro == shipped.media_intro and read.purpose == shipped.purpose
    assert [c.text for c in read.media_kinds] == [c.text for c in shipped.media_kinds]
    assert [c.text for c in read.aims] == [c.text for c in shipped.aims]
    assert [(c.id, c.number, c.text) for c in read.standards] == [
        (c.id, c.number, c.text) for c in shipped.standards
    ]
    assert read.version == "1.1" and read.in_force_from == "2027-01-04"
    assert len(standards_in_text(TEXT)) == 5


def test_the_json_form_round_trips_and_a_mapping_reorders() -> None:
    shipped = load_default_code()
    data = json.dumps(code_to_dict(shipped), ensure_ascii=False)
    again = parse_code_text(data, "2.0", "2027-01-04")
    assert again.standards == shipped.standards and again.version == "2.0"
    swapped = parse_code_text(
        TEXT,
        "1.1",
        "2027-01-04",
        parse_mapping("1=abusive,2=report,3=inaccurate,4=procedure,5=safeguarding"),
    )
    assert swapped.standard("inaccurate").text == shipped.standard("procedure").text


@pytest.mark.parametrize(
    ("text", "version", "mapping", "words"),
    [
        (TEXT, "one", None, "is not a version number"),
        (TEXT, "1.1", "1=abusive,9=report", "only 5 standards"),
        ("Title only", "1.1", None, "0 bulleted lists"),
        ("{not json", "1.1", None, "not a Code of Conduct"),
    ],
)
def test_a_text_that_is_not_a_code_is_refused_in_one_sentence(
    text: str, version: str, mapping: str | None, words: str
) -> None:
    with pytest.raises(ValidationError, match=words) as refused:
        parse_code_text(text, version, "2027-01-04", parse_mapping(mapping) if mapping else None)
    assert refused.value.message.count(". ") == 0


def test_a_mapping_names_known_standards_only() -> None:
    with pytest.raises(ValidationError, match="1=rude"):
        parse_mapping("1=rude")
    assert parse_mapping("2=report, 1=abusive") == {2: "report", 1: "abusive"}
