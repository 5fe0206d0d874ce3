"""Pillow's image module and HarfBuzz run when a document first uses them, not at import.

Each probe runs in a fresh process: this one may have imported both already.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import unicodedata

import pytest


def _probe(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


LATIN_THEN_ARABIC = """
import json, sys, types
import app.pdf.letter
from app.pdf.documents import LetterDocument
import app.pdf.fonts as fonts
from app.services.context import resources_dir
ran = lambda name: type(sys.modules[name]) is types.ModuleType
fonts.register_fonts(resources_dir() / "fonts")
from reportlab.pdfbase.pdfmetrics import stringWidth
from app.pdf.common import Paragraph, styles
imported = {n: n in sys.modules for n in ("PIL.Image", "uharfbuzz")}
before = {n: ran(n) for n in ("PIL.Image", "uharfbuzz")}
width = stringWidth("Dear Mrs Łukasiewicz", fonts.REGULAR, 11)
after_latin = {n: ran(n) for n in ("PIL.Image", "uharfbuzz")}
# A shaped script: HarfBuzz runs now; the joined Arabic reads back as typed.
from reportlab.platypus import SimpleDocTemplate
import io
out = io.BytesIO()
SimpleDocTemplate(out).build([Paragraph(fonts.markup("محمد عبد الله"), styles()["body"])])
from app.pdf.text import pdf_text
print(json.dumps({
    "imported": imported, "ran before use": before, "ran after Latin": after_latin,
    "harfbuzz ran after Arabic": ran("uharfbuzz"), "text": pdf_text(out.getvalue()),
    "width": width,
}))
"""


def test_a_latin_document_runs_neither_and_shaping_runs_harfbuzz_when_needed() -> None:
    result = _probe(LATIN_THEN_ARABIC)
    assert result["imported"] == {"PIL.Image": True, "uharfbuzz": True}
    assert result["ran before use"] == {"PIL.Image": False, "uharfbuzz": False}
    assert result["ran after Latin"] == {"PIL.Image": False, "uharfbuzz": False}
    assert result["harfbuzz ran after Arabic"] is True
    # Joined by HarfBuzz: the letters come back in their connected forms.
    text = str(result["text"])
    assert "محمد" in unicodedata.normalize("NFKC", text)
    assert "محمد" not in text
    assert float(str(result["width"])) > 0


THREADS_AND_CHANGES = """
import json, sys, threading, types
import app.pdf
image = sys.modules["PIL.Image"]
from PIL import Image as bound
same_object = bound is image
# Set before anything is looked at: the module runs first, so the value is not overwritten.
Image_limit = 1234
image.MAX_IMAGE_PIXELS = Image_limit
limit = image.MAX_IMAGE_PIXELS
hb = sys.modules["uharfbuzz"]
seen, errors = [], []
start = threading.Barrier(8)
def touch():
    start.wait()
    try:
        seen.append(hb.Buffer is not None and hb.Face is not None)
    except Exception as error:
        errors.append(repr(error))
threads = [threading.Thread(target=touch) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
import uharfbuzz
print(json.dumps({
    "same object": same_object, "limit": limit, "seen": seen, "errors": errors,
    "ordinary": [type(m) is types.ModuleType for m in (image, hb)],
    "import gives it": uharfbuzz is hb, "Image class": image.Image.__module__,
}))
"""


def test_many_threads_at_once_and_a_change_before_use_see_the_whole_module() -> None:
    result = _probe(THREADS_AND_CHANGES)
    assert result["same object"] is True
    assert result["limit"] == 1234
    assert result["errors"] == []
    assert result["seen"] == [True] * 8
    assert result["ordinary"] == [True, True]
    assert result["import gives it"] is True
    assert result["Image class"] == "PIL.Image"


def test_an_imported_module_is_left_as_it_is() -> None:
    import PIL.Image

    from app.modules_on_first_use import load_on_first_use

    load_on_first_use("PIL.Image")
    assert sys.modules["PIL.Image"] is PIL.Image
    load_on_first_use("no_such_module_here")
    with pytest.raises(ImportError):
        __import__("no_such_module_here")


SQLALCHEMY_AFTER_APP_DB = """
import json, sys, types
import app.db.engine
import sqlalchemy.orm
metadata = sys.modules["importlib.metadata"]
ran_at_import = type(metadata) is types.ModuleType
resources = "importlib.resources" in sys.modules
from sqlalchemy.util import compat
scripts = [entry.name for entry in compat.importlib_metadata_get("console_scripts")]
print(json.dumps({
    "ran at import": ran_at_import, "resources imported": resources,
    "ran when used": type(metadata) is types.ModuleType, "casebook found": "casebook" in scripts,
    "version": __import__("importlib.metadata").metadata.version("SQLAlchemy")
    == sqlalchemy.__version__,
}))
"""


def test_sqlalchemy_reads_the_package_metadata_only_when_it_looks_up_entry_points() -> None:
    """The database layer has SQLAlchemy's import of importlib.metadata run on first use
    (about 4 ms of a letter): importing SQLAlchemy does not run it, an entry-point lookup
    does, and finds what it always found."""
    assert _probe(SQLALCHEMY_AFTER_APP_DB) == {
        "ran at import": False,
        "resources imported": False,
        "ran when used": True,
        "casebook found": True,
        "version": True,
    }
