"""reportlab's address pattern is compiled when first used, and matches as reportlab's own."""

from __future__ import annotations

import re
import subprocess
import sys

# In a fresh process (this one may have imported reportlab already): draw a letter's module
# in, and report whether the pattern was compiled then, and what it matches once used.
PROBE = """
import json, re, sys
import app.pdf.letter
from reportlab.platypus import paragraph
pattern = paragraph.uri_pat
before = pattern.compiled
addresses = json.loads(sys.argv[1])
found = [m.span() if (m := pattern.match(a)) else None for a in addresses]
groups = [m.groups() if (m := pattern.match(a)) else None for a in addresses]
print(json.dumps({
    "kind": type(pattern).__name__, "compiled before use": before,
    "compiled after": pattern.compiled, "found": found, "groups": groups,
    "source": pattern.pattern, "flags": pattern.flags,
    "re.compile restored": (re.compile.__module__, re.compile.__qualname__) == ("re", "compile"),
    "finders left": [type(f).__name__ for f in sys.meta_path if "Paragraph" in type(f).__name__],
}))
"""

ADDRESSES = [
    "https://www.facebook.com/groups/1234567890/posts/9876543210/?comment_id=42",
    "http://192.168.0.1:8080/x",
    "https://[2001:db8::1]/",
    "HTTPS://EXAMPLE.CO.UK/Path",
    "https://例え.テスト/パス",
    "https://bücher.example/ß",
    "ftp://user:pass@localhost:21/file",
    "not an address",
    "https://-bad-.example/",
    "https://x.y",
]


def test_the_address_pattern_waits_for_its_first_use_and_matches_as_reportlabs() -> None:
    import json

    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(ADDRESSES)],
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout)
    assert result["kind"] == "DeferredPattern"
    assert result["compiled before use"] is False
    assert result["compiled after"] is True
    assert result["re.compile restored"] is True
    assert result["finders left"] == []
    # What reportlab compiles at import without the deferral: the same source and flags...
    reportlabs = re.compile(result["source"], re.I)
    assert result["flags"] == reportlabs.flags
    # ...and so the same matches.
    expected = [m.span() if (m := reportlabs.match(a)) else None for a in ADDRESSES]
    assert [tuple(s) if s else None for s in result["found"]] == expected
    groups = [m.groups() if (m := reportlabs.match(a)) else None for a in ADDRESSES]
    assert [tuple(g) if g else None for g in result["groups"]] == groups
    assert expected[0] is not None and expected[-3] is None  # the examples tell them apart


def test_a_long_address_in_a_letter_is_split_between_lines_as_before() -> None:
    """reportlab uses the pattern to break a long address: a paragraph holding one is laid
    out the same with the pattern compiled at first use as with reportlab's own."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, paragraph

    address = "https://www.facebook.com/groups/" + "abcdefghij" * 12 + "/posts/123?x=1"
    style = ParagraphStyle("p", fontName="Helvetica", fontSize=10, uriWasteReduce=0.3)

    def lines() -> list[str]:
        para = Paragraph(address, style)
        para.wrap(200, 1000)
        return [" ".join(str(w) for w in line[1]) for line in para.blPara.lines]

    deferred = lines()
    saved = paragraph.uri_pat
    try:
        paragraph.uri_pat = re.compile(saved.pattern, re.I)
        assert lines() == deferred
    finally:
        paragraph.uri_pat = saved
    assert len(deferred) > 1


# A finder whose one loader serves several modules (as a bundled program's does), asked
# after the deferral's own finder: the paragraph module and a module of ours through it.
SHARED_LOADER = """
import importlib.util, json, re, sys
import app.pdf
from pathlib import Path

class Shared:
    def __init__(self):
        self.paths = {}
        self.compile_seen = {}
    def find_spec(self, name, path, target=None):
        if name not in ("reportlab.platypus.paragraph", "app.pdf.bidi"):
            return None
        found = importlib.machinery.PathFinder.find_spec(name, path)
        self.paths[name] = found.origin
        return importlib.util.spec_from_file_location(name, found.origin, loader=self)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        self.compile_seen[module.__name__] = re.compile.__module__
        source = Path(self.paths[module.__name__]).read_text(encoding="utf-8")
        exec(compile(source, self.paths[module.__name__], "exec"), module.__dict__)

shared = Shared()
sys.meta_path.insert(1, shared)
from reportlab.platypus import paragraph
import app.pdf.bidi
print(json.dumps({
    "kind": type(paragraph.uri_pat).__name__,
    "loader as it was": "exec_module" not in vars(shared),
    "re.compile seen": shared.compile_seen,
    "re.compile now": re.compile.__module__,
}))
"""


def test_a_loader_shared_by_several_modules_is_put_back_after_the_paragraph_module() -> None:
    import json

    done = subprocess.run(
        [sys.executable, "-c", SHARED_LOADER],
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout)
    assert result["kind"] == "DeferredPattern"
    assert result["loader as it was"] is True
    assert result["re.compile seen"] == {
        "reportlab.platypus.paragraph": "app.pdf.reportlab_import",
        "app.pdf.bidi": "re",
    }
    assert result["re.compile now"] == "re"
