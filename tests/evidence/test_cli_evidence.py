"""``casebook evidence`` end to end, as a school's script would run it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from app.security.keyring import TEST_COST_SETTING
from tests.conftest import folder_key
from tests.e2e.cli_runner import run_in_process

from .conftest import jpeg_with_gps, png_bytes

PASSWORD = "tide-marble-orchard-42"


def casebook(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "CASEBOOK_USER": "Mrs Head",
        "CASEBOOK_PASSWORD": PASSWORD,
        "PATH": "/usr/bin:/bin",
        "QT_QPA_PLATFORM": "offscreen",
        TEST_COST_SETTING: os.environ.get(TEST_COST_SETTING, ""),
    }
    return run_in_process(["--data-dir", str(data_dir), *args], env)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert casebook(data, "init", "--user", "Mrs Head").returncode == 0
    result = casebook(data, "case", "add", "--title", "Comments", "--category", "abusive")
    assert result.returncode == 0, result.stderr
    return data


def test_add_list_verify_and_tamper(data_dir: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes(108, 240))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_gps())
    added = casebook(
        data_dir,
        "evidence",
        "add",
        "SM-2026-0001",
        str(shot),
        str(photo),
        "--url",
        "https://www.facebook.com/groups/x/posts/1",
        "--posted-at",
        "2026-11-20T19:30",
        "--source",
        "Forwarded by a parent",
    )
    assert added.returncode == 0, added.stderr
    ids = added.stdout.split()
    assert len(ids) == 2 and all(i.isdigit() for i in ids)

    listed = casebook(data_dir, "evidence", "list", "SM-2026-0001", "--json")
    rows = json.loads(listed.stdout)
    assert [r["original_name"] for r in rows] == ["shot.png", "photo.jpg"]
    assert rows[1]["has_location"] is True
    assert rows[0]["post_url"] == "https://www.facebook.com/groups/x/posts/1"
    assert rows[0]["posted_at"].startswith("2026-11-20T19:30")

    ok = casebook(data_dir, "evidence", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout

    # Stored under a name keyed with the casebook's data key, not under the bare hash.
    assert not (data_dir / "blobs" / rows[0]["sha256"][:2] / rows[0]["sha256"][2:]).exists()
    name = folder_key(data_dir, "Mrs Head", PASSWORD).blob_name(rows[0]["sha256"])
    blob = data_dir / "blobs" / name[:2] / name[2:]
    data = bytearray(blob.read_bytes())
    data[-5] ^= 0xFF
    blob.write_bytes(bytes(data))
    bad = casebook(data_dir, "evidence", "verify", "SM-2026-0001")
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "casebook: SM-2026-0001 Exhibit 1 (shot.png) has been changed since it was stored."
    )


def test_a_refused_file_adds_nothing_and_says_why_in_one_line(
    data_dir: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(png_bytes())
    bad = tmp_path / "invoice.pdf"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    result = casebook(data_dir, "evidence", "add", "SM-2026-0001", str(good), str(bad))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "invoice.pdf is a compressed archive" in result.stderr
    listed = casebook(data_dir, "evidence", "list", "SM-2026-0001", "--json")
    assert json.loads(listed.stdout) == []


def test_unknown_case_and_bad_date_are_one_line(data_dir: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes())
    missing = casebook(data_dir, "evidence", "add", "SM-2026-0099", str(shot))
    assert missing.returncode == 1
    assert missing.stderr == "casebook: There is no case with the reference SM-2026-0099.\n"
    bad_date = casebook(
        data_dir, "evidence", "add", "SM-2026-0001", str(shot), "--posted-at", "yesterday"
    )
    assert bad_date.returncode == 2 and bad_date.stderr.count("\n") == 1


def test_reading_and_searching_evidence_words_from_a_script(data_dir: Path, tmp_path: Path) -> None:
    from .test_reading import text_pdf

    statement = tmp_path / "statement.pdf"
    statement.write_bytes(text_pdf([["The parent wrote about the Christmas fair"]]))
    assert casebook(data_dir, "evidence", "add", "SM-2026-0001", str(statement)).returncode == 0
    read = casebook(data_dir, "evidence", "read", "SM-2026-0001")
    assert read.returncode == 0, read.stderr
    assert read.stdout.splitlines()[0] == "Read the text of 1 exhibit."
    words = casebook(data_dir, "evidence", "text", "SM-2026-0001", "1")
    assert "Christmas fair" in words.stdout
    found = casebook(data_dir, "cases", "--search", "christmas", "--in-evidence", "--json")
    assert [c["reference"] for c in json.loads(found.stdout)] == ["SM-2026-0001"]
    missing = casebook(data_dir, "evidence", "text", "SM-2026-0001", "9")
    assert missing.returncode != 0 and "has no exhibit 9" in missing.stderr
