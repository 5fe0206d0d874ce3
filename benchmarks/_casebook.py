"""Build large fictional casebooks quickly for the benchmarks (bulk SQL, cached on disk)."""

from __future__ import annotations

import random
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from app.db.models import CaseCategoryRecord, CasePersonRecord, CaseRecord, PersonRecord
from app.domain.categories import Category, encode_categories
from app.domain.platforms import known_platforms
from app.domain.reference import format_reference
from app.domain.status import CaseStatus
from app.services.casebook import open_casebook

OUT = Path(__file__).resolve().parent / "out"
BENCH_PASSWORD = "benchmark"
FIRST = ["Zoë", "Siobhán", "Дмитрий", "Hồng", "Ayşe", "Gareth", "Eleni", "Priya", "Tomasz", "Amara"]
LAST = [
    "Łukasiewicz",
    "O'Brien",
    "Соколов",
    "Nguyễn",
    "Yılmaz",
    "Pryce-Jones",
    "Papadopoulou",
    "Shah",
    "Nowak",
    "Okafor",
]
TOPICS = [
    "comments about a teacher",
    "claim about the nursery",
    "photo of sports day",
    "complaint about homework",
    "post about the school trip",
    "rumour about staff",
    "video of the playground",
    "remarks about a family",
    "post about SATs results",
    "attendance dispute",
]


def casebook_with(count: int) -> Path:
    """A data folder holding ``count`` cases, made once and reused from benchmarks/out."""
    folder = OUT / f"casebook-{count}"
    if (folder / "casebook.sqlite3").exists():
        return folder
    building = OUT / f"casebook-{count}.building"
    shutil.rmtree(building, ignore_errors=True)
    services = open_casebook(building, actor="Benchmark")
    rng = random.Random(count)
    now = datetime.now(UTC)
    today = date.today()
    statuses = list(CaseStatus)
    categories = list(Category)
    platforms = known_platforms()
    people_count = max(10, count // 3)
    with services.engine.begin() as connection:
        people = []
        for i in range(people_count):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
            people.append(
                {
                    "id": i + 1,
                    "name": name,
                    "name_key": name.casefold(),
                    "kind": "parent",
                    "address": "1 Example Lane\nSt Helens",
                    "postcode": "WA10 1AA",
                    "email": "",
                    "phone": "",
                    "relationship_to_pupils": "Parent",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        connection.execute(insert(PersonRecord), people)
        batch_cases, batch_cats, batch_links = [], [], []
        for i in range(count):
            year = 2020 + i * 7 // max(count, 1)
            cats = frozenset(rng.sample(categories, rng.choice((1, 1, 1, 2))))
            person = people[rng.randrange(people_count)]
            title = f"{rng.choice(TOPICS).capitalize()} #{i}"
            platform = rng.choice(platforms)
            handle = f"@user{i}"
            reference = format_reference(year, i + 1)
            when = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 3))
            due = today + timedelta(days=rng.randrange(-30, 30)) if rng.random() < 0.6 else None
            batch_cases.append(
                {
                    "id": i + 1,
                    "reference": reference,
                    "ref_year": year,
                    "ref_number": i + 1,
                    "title": title,
                    "summary": "Fictional benchmark case.",
                    "platform": platform,
                    "post_url": f"https://example.org/post/{i}",
                    "account_handle": handle,
                    "posted_at": when,
                    "reported_on": when.date(),
                    "reported_by": "Office",
                    "status": rng.choice(statuses).value,
                    "follow_up_due": due,
                    "categories": encode_categories(cats),
                    "poster": person["name"],
                    "search_text": " ".join(
                        [reference, title, platform, handle, person["name"]]
                    ).casefold(),
                    "code_version": "1.0",
                    "created_at": when,
                    "updated_at": when,
                    "last_activity_at": when,
                    "version": 1,
                }
            )
            batch_cats += [{"case_id": i + 1, "category": c.value} for c in cats]
            batch_links.append(
                {"case_id": i + 1, "person_id": person["id"], "role": "author", "created_at": when}
            )
            if len(batch_cases) >= 5000:
                connection.execute(insert(CaseRecord), batch_cases)
                connection.execute(insert(CaseCategoryRecord), batch_cats)
                connection.execute(insert(CasePersonRecord), batch_links)
                batch_cases, batch_cats, batch_links = [], [], []
        if batch_cases:
            connection.execute(insert(CaseRecord), batch_cases)
            connection.execute(insert(CaseCategoryRecord), batch_cats)
            connection.execute(insert(CasePersonRecord), batch_links)
    # The window signs in; benchmarks start it unattended with this password.
    services.users.create_first_user("head", BENCH_PASSWORD, check_strength=False)
    services.close()
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return folder


def fresh_copy(count: int, target: Path) -> Path:
    """A private copy of the cached casebook (benchmarks must not share a locked folder)."""
    source = casebook_with(count)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def seconds_to_first_paint(data_dir: Path, env: dict[str, str]) -> float:
    """Start the program and time it until it reports the case list painted.

    The clock stops at the report, not at exit: work the window does after showing itself
    (tidying the blob store on a worker) is not part of the wait a person sees.
    """
    import subprocess
    import time

    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    painted = None
    for line in process.stdout:
        if line.strip() == "first paint":
            painted = time.perf_counter() - started
    _out, err = process.communicate()
    if painted is None:
        raise SystemExit(f"the window did not report its first paint: {err}")
    return painted
