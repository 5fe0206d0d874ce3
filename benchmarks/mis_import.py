"""How fast a whole primary school is imported from its MIS, against the targets.

A fictional 600-pupil school with 1,200 contacts (400 families: 200 with two children, 200
with one; three contacts each), as a SIMS student-contacts export of 1,800 rows.

Targets: the first import <= 5 s; re-importing the same file unchanged <= 3 s. Both are
timed as the service does the work in a signed-in encrypted casebook (the window and
``casebook people import`` call the same service), and again as whole ``casebook people
import`` processes (Python start, sign-in with the real Argon2 cost, SQLCipher, import).

Run: .venv/bin/python benchmarks/mis_import.py
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _casebook import BENCH_PASSWORD, BENCH_USER, set_up

IMPORT_TARGET_S = 5.0
REIMPORT_TARGET_S = 3.0
ROOT = Path(__file__).resolve().parent.parent

HEADINGS = [
    "Adno", "UPN", "Legal Surname", "Legal Forename", "Preferred Forename", "Year", "Reg",
    "Contact Person ID", "Contact Title", "Contact Forename", "Contact Surname",
    "Relationship to Student", "Parental Responsibility", "Priority", "Court Order",
    "House Name", "House Number", "Street", "District", "Town", "County", "Postcode",
    "Home Telephone", "Mobile Telephone", "Home Email",
]  # fmt: skip
FORENAMES = [
    "Amelia",
    "Oscar",
    "Zofia",
    "Chidi",
    "Isla",
    "Yusuf",
    "Siobhán",
    "Noah",
    "Chloé",
    "Aarav",
    "Maya",
    "Rhys",
    "Nia",
    "Deniz",
    "Pavel",
    "Minh",
    "Cara",
    "Ola",
]
SURNAMES = [
    "Hart",
    "Łukasiewicz",
    "Nwosu",
    "Grant",
    "Ahmed",
    "Byrne",
    "Dubois",
    "Fletcher",
    "Patel",
    "Okoro",
    "Pryce-Jones",
    "Yılmaz",
    "Sokolov",
    "Nguyen",
    "O'Brien",
    "Doyle",
]
ADULTS = [
    "Joanne",
    "Dale",
    "Zoë",
    "Rachel",
    "Tomasz",
    "Amina",
    "Ciarán",
    "Hélène",
    "Seán",
    "Kayleigh",
    "Jordan",
    "Priya",
    "Ada",
    "Liam",
    "Bernadette",
    "Ngozi",
]
RELATIONSHIPS = [("Mrs", "Mother", "1"), ("Mr", "Father", "2"), ("Mrs", "Grandmother", "3")]
YEARS = ["Reception", "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6"]


def school_export() -> bytes:
    """The fictional school's export, as SIMS writes it (UTF-8 with a BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    pupil = 0
    for family in range(400):
        surname = f"{SURNAMES[family % len(SURNAMES)]}{'' if family < 16 else f'-{family}'}"
        postcode = (
            f"WA{10 + family % 2} {family % 10}{'ABDEFGHJ'[family % 8]}{'LNPQRSTU'[family // 50]}"
        )
        street = f"{family + 1}"
        children = 2 if family < 200 else 1
        for _child in range(children):
            pupil += 1
            forename = FORENAMES[pupil % len(FORENAMES)]
            year = YEARS[pupil % len(YEARS)]
            for contact, (title, relationship, priority) in enumerate(RELATIONSHIPS):
                writer.writerow(
                    [
                        f"{pupil:06d}", f"A{pupil:012d}", surname, forename, "", year,
                        f"{year[-1]}{'WBK'[pupil % 3]}", f"C-{family * 3 + contact}", title,
                        ADULTS[(family + contact) % len(ADULTS)], surname, relationship,
                        "Yes" if contact < 2 else "No", priority, "No", "", street,
                        "Rainford Road", "Eccleston", "St Helens", "Merseyside", postcode,
                        "", f"07700 9{family:03d}{contact:02d}", "",
                    ]
                )  # fmt: skip
    assert pupil == 600
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _cli(data_dir: Path, *args: str) -> float:
    env = {
        **os.environ,
        "CASEBOOK_USER": BENCH_USER,
        "CASEBOOK_PASSWORD": BENCH_PASSWORD,
        "CASEBOOK_DATA_DIR": str(data_dir),
    }
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    took = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return took


def main() -> int:
    data = school_export()
    with tempfile.TemporaryDirectory() as folder:
        services = set_up(Path(folder) / "data")
        try:
            preview = services.people_import.preview(data, "school.csv")
            assert (preview.pupils, preview.contacts) == (600, 1200), preview.counts()
            start = time.perf_counter()
            first = services.people_import.import_file(data, "school.csv")
            import_s = time.perf_counter() - start
            start = time.perf_counter()
            again = services.people_import.import_file(data, "school.csv")
            reimport_s = time.perf_counter() - start
            assert first.preview.new == 1800 and again.preview.unchanged == 1800
            assert again.import_id is None
        finally:
            services.close()
        # Whole processes, as a script would run them.
        cli_dir = Path(folder) / "cli"
        set_up(cli_dir).close()
        export = Path(folder) / "school.csv"
        export.write_bytes(data)
        cli_import_s = _cli(cli_dir, "people", "import", str(export))
        cli_reimport_s = _cli(cli_dir, "people", "import", str(export))
    print(f"rows in the export:               {1800:>8}   (600 pupils, 1,200 contacts)")
    print(f"first import (service):           {import_s:8.2f} s   target <= {IMPORT_TARGET_S} s")
    print(
        f"unchanged re-import (service):    {reimport_s:8.2f} s   target <= {REIMPORT_TARGET_S} s"
    )
    print(f"first import (whole process):     {cli_import_s:8.2f} s")
    print(f"unchanged re-import (whole proc): {cli_reimport_s:8.2f} s")
    ok = import_s <= IMPORT_TARGET_S and reimport_s <= REIMPORT_TARGET_S
    print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
