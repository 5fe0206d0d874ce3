"""The Code of Conduct as data: quoted verbatim from the text the school adopted."""

from __future__ import annotations

import pytest

from app.domain.code_of_conduct import CodeOfConduct, load_code, normalise_spacing
from app.services.context import load_default_code, resources_dir

CODE_DIR = resources_dir() / "code_of_conduct"


@pytest.fixture(scope="module")
def code() -> CodeOfConduct:
    return load_code(CODE_DIR / "code_of_conduct.json")


@pytest.fixture(scope="module")
def source_text() -> str:
    return (CODE_DIR / "code_of_conduct_social_media.txt").read_text(encoding="utf-8")


def _all_passages(code: CodeOfConduct) -> list[str]:
    return [
        code.title,
        *code.introduction,
        code.media_intro,
        *(c.text for c in code.media_kinds),
        code.purpose,
        *(c.text for c in code.aims),
        code.standards_intro,
        *(c.text for c in code.standards),
    ]


def test_every_passage_appears_verbatim_in_the_schools_text(
    code: CodeOfConduct, source_text: str
) -> None:
    for passage in _all_passages(code):
        assert passage, "empty passage"
        assert passage in source_text, passage[:60]


def test_nothing_of_the_code_is_left_out(code: CodeOfConduct, source_text: str) -> None:
    quoted = normalise_spacing(" ".join(_all_passages(code)))
    for paragraph in source_text.split("\n"):
        text = normalise_spacing(paragraph.lstrip(" ·"))
        if text:
            assert text in quoted, text[:60]


def test_five_standards_with_their_ids_in_order(code: CodeOfConduct) -> None:
    assert [c.id for c in code.standards] == [
        "abusive",
        "report",
        "procedure",
        "inaccurate",
        "safeguarding",
    ]
    assert [c.number for c in code.standards] == [1, 2, 3, 4, 5]
    assert code.standard("safeguarding").text.startswith(
        "Eccleston Lane Ends Primary School has a safeguarding duty"
    )
    with pytest.raises(KeyError):
        code.standard("rude")


def test_the_code_has_a_version_and_title(code: CodeOfConduct) -> None:
    assert code.version
    assert code.title == "Parents, Carers and Visitors Code of Conduct: Use of Social Media"


def test_the_shipped_code_is_what_services_load(code: CodeOfConduct) -> None:
    assert load_default_code() == code
