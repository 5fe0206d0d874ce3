"""Case file of 50 realistic phone screenshots: ≤ 3 s.

The screenshots (benchmarks/_screenshots.py) are 1080×2340 feeds with anti-aliased text
and photos, as phones save them: PNG mostly, some JPEG (with and without metadata), every
tenth a scrolling capture three screens long (printed over several pages). The figure is
the first case file made after the exhibits were added (nothing prepared in advance), in
this process; a second one is printed beside it. Also printed: reportlab's C accelerator.

Run: .venv/bin/python benchmarks/case_file.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _casebook import set_up
from _screenshots import phone_set

from app.domain.categories import Category
from app.domain.records import CaseDraft

TARGET = 3.0
COUNT = 50


def accelerated() -> str:
    from reportlab.lib import rl_accel

    module = getattr(rl_accel.asciiBase85Encode, "__module__", "")
    return "C (rl_accel)" if module == "_rl_accel" else "pure Python"


def main() -> int:
    print(f"Preparing {COUNT} phone screenshots…", flush=True)
    shots = phone_set(COUNT)
    megabytes = sum(len(data) for _, data in shots) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        services = set_up(Path(tmp) / "data")
        case = services.cases.open_case(
            CaseDraft("Fifty screenshots", frozenset({Category.ABUSIVE}))
        )
        services.evidence.add_bytes(case.id, shots)
        started, cpu = time.perf_counter(), time.process_time()
        pdf = services.reports.case_file(case.id)
        first = time.perf_counter() - started
        first_cpu = time.process_time() - cpu
        started = time.perf_counter()
        services.reports.case_file(case.id)
        second = time.perf_counter() - started
        services.close()
    load = os.getloadavg()[0]
    cores = os.cpu_count()
    print(f"  reportlab accelerator: {accelerated()}; load average {load:.1f} on {cores} cores")
    print(
        f"Case file, {COUNT} phone screenshots ({megabytes:.0f} MB of PNG and JPEG): "
        f"{first:.2f} s  (target ≤ {TARGET:.0f} s, ratio {first / TARGET:.2f}); "
        f"{len(pdf) / 1e6:.1f} MB PDF; CPU {first_cpu:.2f} s; made again: {second:.2f} s"
    )
    return 0 if first <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
