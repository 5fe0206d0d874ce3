"""Backup benchmark, printed with its target.

Back up (and check) a casebook of 20 cases with 200 exhibits (random-noise PNGs of about
300 KB, which do not compress), then restore it. Throughput in MB/s of casebook data.
No target was set for this: the figures are reported.

Run: .venv/bin/python benchmarks/backup.py
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _casebook import BENCH_PASSWORD, set_up

from app.domain.categories import Category
from app.domain.records import CaseDraft

EXHIBITS = 200


def noise_png(seed: int) -> bytes:
    image = Image.frombytes("RGB", (320, 320), os.urandom(320 * 320 * 3) + bytes([seed % 256]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> int:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        services = set_up(root / "data")
        for case_number in range(20):
            case = services.cases.open_case(
                CaseDraft(title=f"Case {case_number}", categories=frozenset({Category.ABUSIVE}))
            )
            services.evidence.add_bytes(
                case.id, [(f"shot-{case_number}-{i}.png", noise_png(i)) for i in range(10)]
            )
        blobs = root / "data" / "blobs"
        data_bytes = (root / "data" / "casebook.sqlite3").stat().st_size + sum(
            p.stat().st_size for p in blobs.rglob("*") if p.is_file()
        )
        started = time.perf_counter()
        result = services.backups.backup(root / "backups")
        backup_seconds = time.perf_counter() - started
        started = time.perf_counter()
        services.backups.restore(result.path, password=BENCH_PASSWORD)
        restore_seconds = time.perf_counter() - started
        services.close()
    megabytes = data_bytes / 1_048_576
    print(
        f"backup of {EXHIBITS} exhibits ({megabytes:.0f} MB, made and checked): "
        f"{backup_seconds:.2f} s, {megabytes / backup_seconds:.0f} MB/s "
        "(no target; reported)"
    )
    print(
        f"restore of the same backup (checked, then swapped in): {restore_seconds:.2f} s, "
        f"{megabytes / restore_seconds:.0f} MB/s (no target; reported)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
