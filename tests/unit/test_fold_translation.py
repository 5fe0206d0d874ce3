"""The server's casebook_fold (migration 0023) folds as the search box folds (fold())."""

from __future__ import annotations

from app.domain.search import fold, fold_translation


def _as_the_server_folds(text: str) -> str:
    """translate(lower(t), from, to) then the replacements, as casebook_fold is written."""
    source, target, longer = fold_translation()
    out = []
    for letter in text.lower():
        place = source.find(letter)
        if place < 0:
            out.append(letter)
        elif place < len(target):
            out.append(target[place])
    folded = "".join(out)
    for letter, letters in longer.items():
        folded = folded.replace(letter, letters)
    return folded


def test_every_latin_letter_folds_on_the_server_as_in_the_search_box() -> None:
    letters = [chr(code) for code in range(0xC0, 0x250) if chr(code).isalpha()]
    differ = [c for c in letters if _as_the_server_folds(c) != fold(c)]
    assert differ == []


def test_names_and_decomposed_accents_fold_alike() -> None:
    for text in ("Zoë Łukasiewicz", "Siobhán O’Brien", "Zoe\u0308", "Straße", "Ærø", "Þór"):
        assert _as_the_server_folds(text) == fold(text), text
    assert _as_the_server_folds("Zoë’s note") == "zoe’s note"
