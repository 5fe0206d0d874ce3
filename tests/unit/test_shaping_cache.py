"""Words shaped once are given the same glyphs again, each in its own fragment."""

from __future__ import annotations

from reportlab.lib.colors import black, blue
from reportlab.pdfbase.ttfonts import ShapedStr, shapeFragWord
from reportlab.platypus.paragraph import ABag

from app.pdf import fonts, shaping
from app.services.context import resources_dir

ARABIC = "المدرسة"


def _word(text: str, size: float, colour: object = black) -> list[object]:
    frag = ABag(fontName="CasebookArabic", fontSize=size, textColor=colour)
    return [0.0, (frag, text)]


def _glyphs(shaped: list[object]) -> list[tuple[str, list[object]]]:
    return [(str(piece), list(piece.__shapeData__)) for _, piece in shaped[1:]]  # type: ignore[attr-defined,misc]


def test_a_word_shaped_again_gets_the_same_glyphs_in_its_own_fragment() -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    fonts.covers("CasebookArabic", ARABIC[0])  # the Arabic face is registered on first use
    fresh = shapeFragWord(_word(ARABIC, 11))
    first = shaping.shape_word(_word(ARABIC, 11))
    second_word = _word(ARABIC, 11, blue)
    again = shaping.shape_word(second_word)
    assert _glyphs(again) == _glyphs(first) == _glyphs(fresh)
    assert again[0] == fresh[0]  # the word's width
    assert all(isinstance(piece, ShapedStr) for _, piece in again[1:])
    # The kept glyphs are drawn in the later word's own fragment (its colour), not the first's.
    assert all(frag is second_word[1][0] for frag, _ in again[1:])  # type: ignore[index]


def test_the_same_word_in_another_size_is_measured_for_that_size() -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    fonts.covers("CasebookArabic", ARABIC[0])
    small = shaping.shape_word(_word(ARABIC, 10))
    large = shaping.shape_word(_word(ARABIC, 20))
    assert large[0] == 2 * small[0] > 0


def test_a_word_harfbuzz_leaves_alone_is_returned_as_it_was() -> None:
    fonts.register_fonts(resources_dir() / "fonts")
    word = [0.0, (ABag(fontName=fonts.REGULAR, fontSize=11), "school")]
    assert shaping.shape_word(word) is word
    again = [0.0, (ABag(fontName=fonts.REGULAR, fontSize=11), "school")]
    assert shaping.shape_word(again) is again
