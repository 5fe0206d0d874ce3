"""The one way the casebook writes CSV: every cell made safe to open in a spreadsheet.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel and LibreOffice as a formula (OWASP "CSV injection"): ``=HYPERLINK(...)`` in a case
title, or ``+cmd|...`` typed as a platform, would run when the office opens the file. Such a
cell is prefixed with an apostrophe, which the spreadsheet shows as text and hides.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# The characters that start a formula, including the full-width forms some spreadsheets
# also accept, and the whitespace Excel skips before looking for them.
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
_SKIPPED = " \u00a0"

Cell = str | int | float | None


def safe_cell(value: Cell) -> str | int | float:
    """``value`` as a cell a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    first = text.lstrip(_SKIPPED)[:1]
    if text[:1] in FORMULA_STARTS or (first and first in FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A CSV document (one header row, then ``rows``) with every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The same as UTF-8 with a byte-order mark, so Excel reads accents and £ correctly."""
    return ("\ufeff" + csv_text(header, rows)).encode("utf-8")
