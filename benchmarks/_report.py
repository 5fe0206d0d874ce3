"""One way for a benchmark to print a figure, so that ``run_all.py`` can put it in its table.

``figure()`` prints one line a person reads and ``run_all.py`` parses::

    = start to first painted list: 0.74 s (target <= 0.8 s; 0.93 of it) met [whole process]

Benchmarks that print their own lines are still read by ``run_all.py`` (it looks for the
word "target" and the figure before it), less exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WHOLE_PROCESS = "whole process"
WARM = "warm"
# The line figure() prints; run_all.py reads it back.
LINE = re.compile(
    r"^= (?P<label>.+): (?P<measured>[\d.,]+) (?P<unit>\S+) \(target (?P<op><=|>=) "
    r"(?P<target>[\d.,]+) \S+; (?P<ratio>[\d.,]+) of it\) (?P<met>met|MISSED) \[(?P<kind>[^\]]+)\]$"
)


@dataclass(frozen=True)
class Figure:
    """One measured figure beside its target."""

    label: str
    measured: float
    unit: str
    target: float
    at_most: bool  # the target is a ceiling (times, memory); else a floor (throughput)
    kind: str  # WHOLE_PROCESS or WARM

    @property
    def ratio(self) -> float:
        """Measured over target: under 1 is better than a ceiling; over 1 beats a floor."""
        return self.measured / self.target if self.target else float("inf")

    @property
    def met(self) -> bool:
        return self.measured <= self.target if self.at_most else self.measured >= self.target


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def line(item: Figure) -> str:
    """The figure as ``figure()`` prints it."""
    op = "<=" if item.at_most else ">="
    return (
        f"= {item.label}: {_number(item.measured)} {item.unit} (target {op} "
        f"{_number(item.target)} {item.unit}; {item.ratio:.2f} of it) "
        f"{'met' if item.met else 'MISSED'} [{item.kind}]"
    )


def figure(
    label: str,
    measured: float,
    unit: str,
    target: float,
    *,
    kind: str = WARM,
    at_most: bool = True,
) -> bool:
    """Print one figure with its target, the ratio and whether it was met; True if met.

    ``kind`` says whether the clock ran over a whole new process (start-up, a command) or
    inside one already running (``WARM``): the two are never compared with each other.
    """
    item = Figure(label, measured, unit, target, at_most, kind)
    print(line(item), flush=True)
    return item.met


def parse(text: str) -> Figure | None:
    """A line printed by ``figure()``, read back; None for any other line."""
    found = LINE.match(text.strip())
    if found is None:
        return None

    def value(name: str) -> float:
        return float(found.group(name).replace(",", ""))

    return Figure(
        found.group("label"),
        value("measured"),
        found.group("unit"),
        value("target"),
        found.group("op") == "<=",
        found.group("kind"),
    )
