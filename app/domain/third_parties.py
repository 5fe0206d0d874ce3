"""Other people's names and contact details hidden as "[third party]" in what one person
is given (a letter, a subject access copy).

Its own module, apart from the retention rules that also use it, so that a letter, which
hides third parties, does not load those rules (a fiftieth of a letter from the command line).
"""

from __future__ import annotations

import re

THIRD_PARTY = "[third party]"


_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "lady"})


def _name_tokens(name: str) -> set[str]:
    return {
        t.lower()
        for t in re.findall(r"[^\W\d_][\w'’-]*", name)
        if len(t) >= 3 and t.lower().strip(".") not in _TITLES
    }


_RUNS = re.compile(
    r"(?:\b(?:" + "|".join(sorted(_TITLES)) + r")\.?\s+)?\[third party\](?:\s+\[third party\])*",
    re.IGNORECASE,
)


class ThirdPartyRedactor:
    """Replaces other people's names and contact details with "[third party]".

    Whole details first (a full name, an address line, an e-mail address, a phone number),
    then single words of other people's names, so "Mr Smith" is hidden as well as
    "John Smith". Words of the subject's own name are never hidden.
    """

    def __init__(self, subject_name: str, others: list[list[str]]) -> None:
        own = _name_tokens(subject_name)
        phrases: set[str] = set()
        words: set[str] = set()
        for details in others:
            if not details:
                continue
            name, *contact = details
            if name.strip() and name.strip().lower() != subject_name.strip().lower():
                phrases.add(name.strip())
                words |= _name_tokens(name) - own
            phrases |= {c.strip() for c in contact if len(c.strip()) >= 3}
        ordered = sorted(phrases, key=len, reverse=True)
        patterns = [re.escape(p) for p in ordered] + [
            rf"\b{re.escape(w)}\b" for w in sorted(words, key=len, reverse=True)
        ]
        self._pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def __call__(self, text: str) -> str:
        """``text`` with every third party's detail replaced."""
        if self._pattern is None or not text:
            return text
        redacted = self._pattern.sub(THIRD_PARTY, text)
        # "Mrs [third party] [third party]" (a title, first name and surname) reads as one.
        return _RUNS.sub(THIRD_PARTY, redacted)
