"""Write app/domain/bank_holidays_table.py from the installed ``holidays`` package.

The letter command reads England and Wales bank holidays from that table instead of
importing the package (a twentieth of a letter's whole process). The table names the
package version it was made from and is used only while that version is installed; a test
(tests/workflow/test_bank_holiday_table.py) fails when the pinned version changes until
this is run again:

    .venv/bin/python scripts/write_bank_holidays.py
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.domain.working_days import TABLE_YEARS, package_bank_holidays  # noqa: E402

OUT = ROOT / "app" / "domain" / "bank_holidays_table.py"


def table_source() -> str:
    """The module's text, from the installed package."""
    lines = [
        '"""England and Wales bank holidays, as the ``holidays`` package named below gives',
        "them (written by scripts/write_bank_holidays.py; do not edit by hand).",
        '"""',
        "",
        f"HOLIDAYS_VERSION = {version('holidays')!r}",
        "# Year -> ((month, day, name), ...).",
        "BANK_HOLIDAYS: dict[int, tuple[tuple[int, int, str], ...]] = {",
    ]
    for year in TABLE_YEARS:
        lines.append(f"    {year}: (")
        for day, name in sorted(package_bank_holidays(year).items()):
            lines.append(f"        ({day.month}, {day.day}, {name!r}),")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    OUT.write_text(table_source(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
