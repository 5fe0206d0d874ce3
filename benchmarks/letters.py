"""How fast letters are made, against the targets, and beside LibreOffice doing the same.

Whole process (issue 24): one letter from the command line (``casebook letter REF --kind
removal --out FILE.pdf``: start Python, sign in with Argon2id at the casebook's real cost,
open the SQLCipher database, issue and record the letter, write the PDF, exit) <= 0.5 s,
and at least 2x faster than LibreOffice converting the same letter's .docx to PDF
(``soffice --headless --convert-to pdf``, Debian package libreoffice-writer-nogui, installed
here if absent and this runs as root). The two are run alternately, several times each,
and compared by their medians; the first run of each is a warm-up (LibreOffice makes its
profile). Beside them: the key-derivation floor (a whole process that only derives the
key, and the derivation alone), and the import budget of the letter command measured with
``python -X importtime`` (python-docx, lxml, PySide6 and holidays must not be among them), and the
letter's timeline: each phase of the process (imports, Argon2id, opening SQLCipher, signing
in, drawing, writing) with the number of SQL statements, commits, audit entries and fsyncs
(benchmarks/_letter_timeline.py).

Warm process (issue 19): one letter rendered <= 15 ms; 100 letters <= 1.5 s. Rendering is
timed for a letter to a Latin-script name and to an Arabic and a Bengali name (shaped with
HarfBuzz, fonts loaded on first use), both as elapsed time and as CPU time: on a shared
machine the elapsed time mostly measures the other processes, so the targets are judged
on CPU time and the elapsed time is printed beside it. Preparing (reading the case,
filling the template, rendering) and issuing (storing and recording) are timed as before.

Run: .venv/bin/python benchmarks/letters.py [--whole-process-only]
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _casebook import set_up
from _letter_timeline import one_run, print_timeline
from _report import WHOLE_PROCESS, figure

from app.domain.letters import Block, LetterKind
from app.domain.people import CaseRole
from app.domain.records import CaseFilter, CaseSort
from app.services.demo import create_demo

# The benchmark signs in at the real cost: the test suite's cheap one must not leak in.
os.environ.pop("CASEBOOK_TESTS_ONLY_CHEAP_KDF", None)

ONE_LETTER_TARGET_MS = 15
WHOLE_PROCESS_TARGET_S = 0.5
LIBREOFFICE_RATIO_TARGET = 2.0
WHOLE_PROCESS_RUNS = 7
# What the letter command may spend importing, on a quiet development machine (ms, the sum
# of -X importtime's own times): the database layer, the PDF layer, ours, and the rest.
IMPORT_BUDGET_MS = {"sqlalchemy": 150, "reportlab+uharfbuzz": 80, "app": 100, "other": 120}
# Nor every country's bank holidays: letters read England and Wales's from a table.
NEVER_IMPORTED = ("docx", "lxml", "PySide6", "holidays")
ROOT = Path(__file__).resolve().parent.parent
BATCH_TARGET_S = 1.5
SCRIPT_NAMES = {
    "Latin": "Zoë Łukasiewicz",
    "Arabic": "محمد عبد الله",
    "Bengali": "আয়েশা রহমান",
    "Chinese": "王小明",
    "Japanese": "渡辺 さくら",
    "Korean": "김민준",
}
# A correction letter quoting a post in Arabic: a right-to-left passage that wraps over
# several lines, mixed with English and digits (laid out by the bidirectional algorithm).
ARABIC_PASSAGE = (
    "In particular, the post says the following, which is not correct: "
    + " ".join(
        f"{w} {n}" for n, w in enumerate(("المنشور", "المدرسة", "الأطفال", "المعلمة") * 8, 11)
    )
    + ". The facts are set out below."
)


def label(script: str) -> str:
    return script if "," in script else f"{script} name"


def _render_times(document: object) -> tuple[float, float, float, float]:
    """(median ms elapsed, median ms CPU) for one letter, (s elapsed, s CPU) for 100."""
    from app.pdf.letter import render_letter

    render_letter(document)  # warm: fonts for the script registered
    wall, cpu = [], []
    for _ in range(30):
        start, start_cpu = time.perf_counter(), time.process_time()
        render_letter(document)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(100):
        render_letter(document)
    return (
        statistics.median(wall),
        statistics.median(cpu),
        time.perf_counter() - start,
        time.process_time() - start_cpu,
    )


def machine_load() -> str:
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return f"{os.cpu_count()} cores, load unknown"
    return f"{os.cpu_count()} cores, load average {load}"


def find_libreoffice() -> str | None:
    """soffice, installed with apt (libreoffice-writer-nogui) when absent and we are root."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found or os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("Installing LibreOffice for the comparison (apt-get install libreoffice-writer-nogui)")
    apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "libreoffice-writer-nogui"],
    ):
        if subprocess.run(step, env=apt_env, capture_output=True, check=False).returncode:
            return None
    return shutil.which("soffice") or shutil.which("libreoffice")


def child_env(app_dir: Path = ROOT / "app") -> dict[str, str]:
    """The environment a school's script runs the command in: an installed program has its
    bytecode compiled (pip and PyInstaller both do it), so this checkout's is compiled once
    and kept; the password comes from the environment, as scripts give it."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(app_dir)], check=True)
    from _casebook import BENCH_PASSWORD, BENCH_USER

    env = dict(os.environ, CASEBOOK_PASSWORD=BENCH_PASSWORD, CASEBOOK_USER=BENCH_USER)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("CASEBOOK_TESTS_ONLY_CHEAP_KDF", None)
    return env


# A whole process that only derives the head teacher's key from the password, at the cost
# the keyring records: what no sign-in can go below.
FLOOR_CODE = """
import base64, json, sys
from argon2.low_level import Type, hash_secret_raw
wrap = json.loads(open(sys.argv[1], "rb").read())["wraps"]["head"]
cost = wrap["kdf"]
hash_secret_raw(sys.argv[2].encode(), base64.b64decode(wrap["salt"]), time_cost=cost["t"],
                memory_cost=cost["m"], parallelism=cost["p"], hash_len=32, type=Type.ID)
"""


# Processor time (user + system, every thread and process it started) of each command run
# by run_seconds, by the command: on a busy machine it changes much less than
# the elapsed time, so the comparison is printed on both.
PROCESSOR_SECONDS: dict[tuple[str, ...], list[float]] = {}


def run_seconds(command: list[str], env: dict[str, str]) -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{command[0]} failed: {done.stderr.decode(errors='replace')}")
    PROCESSOR_SECONDS.setdefault(tuple(command), []).append(
        after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    )
    return elapsed


def import_budget(command: list[str], env: dict[str, str]) -> tuple[dict[str, float], set[str]]:
    """Milliseconds of import per group (-X importtime's own times) and every module loaded."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    groups: dict[str, float] = {}
    modules: set[str] = set()
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if not found:
            continue
        name = found.group(2)
        modules.add(name)
        top = name.split(".")[0]
        group = {"reportlab": "reportlab+uharfbuzz", "uharfbuzz": "reportlab+uharfbuzz"}.get(
            top, top if top in ("sqlalchemy", "app") else "other"
        )
        groups[group] = groups.get(group, 0.0) + int(found.group(1)) / 1000
    return groups, modules


def letter_casebook(folder: Path) -> tuple[Path, str]:
    """The demonstration casebook in ``folder``/whole, signed up at the real Argon2id cost,
    and the reference of a case with an author; its removal letter as .docx in
    ``folder``/letter.docx (what LibreOffice converts)."""
    data = folder / "whole"
    services = set_up(data)
    try:
        create_demo(services)
        ids = services.cases.all_case_ids(CaseFilter(), CaseSort("reference", False))
        case = next(
            detail
            for detail in map(services.cases.get_case, ids)
            if any(p.role == CaseRole.AUTHOR for p in detail.people)
        )
        issued = services.letters.issue(case.id, LetterKind.REMOVAL)
        docx = folder / "letter.docx"
        docx.write_bytes(services.letters.letter_docx(issued.id))
    finally:
        services.close()
    return data, case.reference


def whole_process(folder: Path) -> bool:
    """One letter from the command line beside LibreOffice converting it; True if met."""
    from _casebook import BENCH_PASSWORD

    from app.security.crypto import derive_key
    from app.security.keyring import KeyringFile, KeyringStore, checked_cost

    data, reference = letter_casebook(folder)
    docx = folder / "letter.docx"
    keyring = KeyringStore(KeyringFile(data / "casebook.keys")).load()
    assert keyring is not None
    wrap = keyring.entry("head")
    assert wrap is not None
    cost = checked_cost(wrap["kdf"])

    env = child_env()
    out = folder / "cli.pdf"
    letter = [sys.executable, "-m", "app", "--data-dir", str(data), "letter", reference,
              "--kind", "removal", "--out", str(out)]  # fmt: skip
    floor = [sys.executable, "-c", FLOOR_CODE, str(data / "casebook.keys"), BENCH_PASSWORD]
    soffice = find_libreoffice()
    lo_out = folder / "lo"
    convert = [str(soffice), f"-env:UserInstallation=file://{folder / 'lo-profile'}",
               "--headless", "--convert-to", "pdf", "--outdir", str(lo_out), str(docx)]  # fmt: skip

    print(f"\nWhole process, one letter ({machine_load()} at the start)")
    # Warm-up: the page cache, and LibreOffice's first run making its profile.
    run_seconds(letter, env)
    if soffice:
        run_seconds(convert, env)
    ours: list[float] = []
    theirs: list[float] = []
    floors: list[float] = []
    for _ in range(WHOLE_PROCESS_RUNS):
        ours.append(run_seconds(letter, env))
        if soffice:
            theirs.append(run_seconds(convert, env))
            if not (lo_out / "letter.pdf").is_file():
                raise SystemExit("LibreOffice ran but made no PDF")
        floors.append(run_seconds(floor, env))
    derivations = []
    salt = __import__("base64").b64decode(wrap["salt"])
    for _ in range(WHOLE_PROCESS_RUNS):
        started = time.perf_counter()
        derive_key(BENCH_PASSWORD, salt, cost)
        derivations.append(time.perf_counter() - started)
    groups, modules = import_budget(letter, env)
    timeline = [one_run(data, reference, env, ROOT, folder / f"timeline-{n}.pdf") for n in range(3)]

    ours_s = statistics.median(ours)
    ok = ours_s <= WHOLE_PROCESS_TARGET_S
    figure(
        f"casebook letter, median of {len(ours)}",
        ours_s * 1000,
        "ms",
        WHOLE_PROCESS_TARGET_S * 1000,
        kind=WHOLE_PROCESS,
    )
    print(f"  range {min(ours) * 1000:.0f}-{max(ours) * 1000:.0f} ms")
    ours_cpu = statistics.median(PROCESSOR_SECONDS[tuple(letter)][-len(ours) :])
    print(
        f"  processor time (user + system, Argon2id's threads included), median: "
        f"{ours_cpu * 1000:.0f} ms"
    )
    print(
        f"  key-derivation floor: a process that only derives the key "
        f"{statistics.median(floors) * 1000:.0f} ms; Argon2id alone "
        f"{statistics.median(derivations) * 1000:.0f} ms (t={cost.time_cost}, "
        f"m={cost.memory_kib // 1024} MiB, p={cost.parallelism}, the casebook's real cost)"
    )
    if soffice:
        theirs_s = statistics.median(theirs)
        ratio = theirs_s / ours_s
        ratio_ok = ratio >= LIBREOFFICE_RATIO_TARGET
        ok = ok and ratio_ok
        theirs_cpu = statistics.median(PROCESSOR_SECONDS[tuple(convert)][-len(theirs) :])
        print(
            f"LibreOffice .docx -> PDF (whole process), median of {len(theirs)}: "
            f"{theirs_s * 1000:5.0f} ms (range {min(theirs) * 1000:.0f}-"
            f"{max(theirs) * 1000:.0f}); processor time, median: {theirs_cpu * 1000:.0f} ms"
        )
        print(
            f"  on processor time, which a busy machine changes less: LibreOffice's over the "
            f"letter's {theirs_cpu / ours_cpu:.2f} times"
        )
        figure(
            "LibreOffice's time over the casebook letter's",
            ratio,
            "times",
            LIBREOFFICE_RATIO_TARGET,
            kind=WHOLE_PROCESS,
            at_most=False,
        )
    else:
        ok = False
        print(
            "LibreOffice is NOT installed and could not be installed here (as root: apt-get "
            "install libreoffice-writer-nogui): the comparison was NOT made."
        )
    total = sum(groups.values())
    budget = sum(IMPORT_BUDGET_MS.values())
    print(f"Import budget of the letter command (python -X importtime, {machine_load()}):")
    for group, limit in IMPORT_BUDGET_MS.items():
        print(
            f"  {group:<22}{groups.get(group, 0.0):7.0f} ms (budget {limit} ms on a quiet machine)"
        )
    print(f"  {'all imports':<22}{total:7.0f} ms (budget {budget} ms on a quiet machine)")
    loaded = sorted(m for m in NEVER_IMPORTED if m in modules)
    if loaded:
        ok = False
        print(f"  NOT met: the letter command imported {', '.join(loaded)}")
    else:
        print(f"  never imported: {', '.join(NEVER_IMPORTED)} (met)")
    print(f"Where the letter's time goes, one phase after another ({machine_load()}):")
    print_timeline(timeline)
    print(f"Machine at the end: {machine_load()}")
    return ok


def main() -> int:
    if "--whole-process-only" in sys.argv:
        with tempfile.TemporaryDirectory() as folder:
            return 0 if whole_process(Path(folder)) else 1
    with tempfile.TemporaryDirectory() as folder:
        services = set_up(Path(folder) / "data")
        try:
            create_demo(services)
            ids = services.cases.all_case_ids(CaseFilter(), CaseSort("reference", False))
            with_author = [
                i
                for i in ids
                if any(p.role == CaseRole.AUTHOR for p in services.cases.get_case(i).people)
            ]
            case_id = with_author[0]
            services.letters.prepare(case_id, LetterKind.REMOVAL)  # warm up: fonts, templates

            times = []
            for _ in range(30):
                start = time.perf_counter()
                services.letters.prepare(case_id, LetterKind.REMOVAL)
                times.append((time.perf_counter() - start) * 1000)
            one_ms = statistics.median(times)

            issue_times = []
            for _ in range(10):
                start = time.perf_counter()
                services.letters.issue(case_id, LetterKind.ACKNOWLEDGEMENT)
                issue_times.append((time.perf_counter() - start) * 1000)
            issue_ms = statistics.median(issue_times)

            start = time.perf_counter()
            for n in range(100):
                # Speed only: each case’s own category and post details are not measured here.
                services.letters.issue(
                    with_author[n % len(with_author)],
                    LetterKind.REMOVAL,
                    confirm_kind=True,
                    confirm_post_details=True,
                )
            issue_100_s = time.perf_counter() - start
            start = time.perf_counter()
            batch = services.letters.batch_pdf(with_author)
            batch_s = time.perf_counter() - start

            start = time.perf_counter()
            for n in range(100):
                services.letters.prepare(with_author[n % len(with_author)], LetterKind.REMOVAL)
            render_100_s = time.perf_counter() - start

            base = services.letters.prepare(case_id, LetterKind.REMOVAL).document
            rendered = {
                script: _render_times(
                    dataclasses.replace(base, recipient_name=name, salutation=f"Dear {name},")
                )
                for script, name in SCRIPT_NAMES.items()
            }
            rendered["Arabic name, wrapped Arabic passage"] = _render_times(
                dataclasses.replace(
                    base,
                    recipient_name=SCRIPT_NAMES["Arabic"],
                    salutation=f"Dear {SCRIPT_NAMES['Arabic']},",
                    blocks=(*base.blocks[:1], Block(ARABIC_PASSAGE), *base.blocks[1:]),
                )
            )
        finally:
            services.close()

        for script, (wall_ms, cpu_ms, wall_s, cpu_s) in rendered.items():
            print(
                f"one letter rendered, {label(script)}: {wall_ms:6.1f} ms elapsed, "
                f"{cpu_ms:5.1f} ms CPU (target <= {ONE_LETTER_TARGET_MS} ms); 100 letters: "
                f"{wall_s:5.2f} s elapsed, {cpu_s:5.2f} s CPU (target <= {BATCH_TARGET_S} s)"
            )
        print(f"one letter prepared (case, template, render): {one_ms:7.1f} ms")
        print(f"one letter issued (render+store+record): {issue_ms:5.1f} ms")
        print(f"100 letters prepared: {render_100_s:7.2f} s")
        print(f"100 letters issued+recorded: {issue_100_s:7.2f} s")
        print(f"batch PDF of {len(batch.included)} cases' letters:       {batch_s * 1000:7.1f} ms")

        ok = all(
            cpu_ms <= ONE_LETTER_TARGET_MS and cpu_s <= BATCH_TARGET_S
            for _, cpu_ms, _, cpu_s in rendered.values()
        )
        ok = whole_process(Path(folder)) and ok
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
