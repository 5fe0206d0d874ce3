"""Workflow benchmarks.

Targets: case file bundle of a case with 50 exhibits <= 10 s; governors' report over 5,000
cases <= 3 s; search over 5,000 cases (notes and summaries included) <= 200 ms.
Run: python benchmarks/workflow.py
"""

from __future__ import annotations

import io
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _casebook import set_up
from PIL import Image

from app.domain.categories import Category
from app.domain.policy import CaseOutcome
from app.domain.records import CaseDraft, CaseFilter, CaseSort


def picture(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1080, 1920), (seed * 5 % 255, 120, 200)).save(out, "PNG")
    return out.getvalue()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock_now = [datetime(2026, 1, 5, 9, 0, tzinfo=UTC)]
        services = set_up(Path(tmp) / "data", clock=lambda: clock_now[0])
        rng = random.Random(6)
        cats = list(Category)
        platforms = ["Facebook", "Instagram", "X", "TikTok", "WhatsApp", ""]
        for number in range(5000):
            clock_now[0] = datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(minutes=70 * number)
            case = services.cases.open_case(
                CaseDraft(
                    f"Post number {number}",
                    frozenset(rng.sample(cats, rng.randint(1, 2))),
                    summary=f"Summary {number} about the {rng.choice(['trip', 'fair', 'play'])}",
                    platform=rng.choice(platforms),
                )
            )
            if number % 3 == 0:
                services.workflow.set_outcome(case.id, rng.choice(list(CaseOutcome)))
            if number % 10 == 0:
                services.cases.add_note(case.id, f"Phoned parent {number} about the gatepost")
        big = services.cases.open_case(CaseDraft("Fifty exhibits", frozenset({Category.ABUSIVE})))
        services.evidence.add_bytes(big.id, [(f"shot{n}.png", picture(n)) for n in range(50)])

        started = time.perf_counter()
        pdf = services.reports.case_file(big.id)
        bundle = time.perf_counter() - started
        print(f"case file, 50 exhibits: {bundle:.2f} s ({len(pdf) / 1e6:.1f} MB)  target <= 10 s")

        started = time.perf_counter()
        report = services.reports.governors_report(date(2026, 1, 1), date(2026, 12, 31))
        services.reports.governors_pdf(report)
        services.reports.governors_csv(report)
        governors = time.perf_counter() - started
        print(f"governors' report, {report.case_count} cases: {governors:.2f} s  target <= 3 s")

        worst = 0.0
        for term in ("gatepost", "post number 4321", "trip", "parent 4990"):
            started = time.perf_counter()
            rows = services.cases.list_cases(CaseFilter(text=term), CaseSort(), 0, 200)
            services.cases.count_cases(CaseFilter(text=term))
            elapsed = (time.perf_counter() - started) * 1000
            worst = max(worst, elapsed)
            print(f"  search '{term}': {len(rows)} rows in {elapsed:.0f} ms")
        print(f"search over 5,000 cases, worst: {worst:.0f} ms  target <= 200 ms")
        services.close()


if __name__ == "__main__":
    main()
