"""A casebook made before encryption at rest is encrypted once by its head teacher."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.config import prepare_data_dir
from app.db.engine import upgrade_to
from app.domain.errors import SignInError, UnencryptedCasebookError
from app.services.casebook import open_casebook
from app.services.legacy import encrypt_casebook
from tests.e2e.test_cli import assert_refused, cli

OLD_PASSWORD = "tide-marble-orchard-42"
SECRET = b"Screenshot naming Jemima Puddleduck of Year 2" * 20
WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def make_plain_casebook(folder: Path) -> str:
    """A folder as the last version before encryption left it (revision 0008)."""
    paths = prepare_data_dir(folder)
    engine = create_engine(f"sqlite:///{paths.database}")
    upgrade_to(engine, "0008_retention")
    sha = hashlib.sha256(SECRET).hexdigest()
    with Session(engine) as session, session.begin():
        session.execute(
            text(
                "INSERT INTO cases (reference, ref_year, ref_number, title, status, categories,"
                " search_text, code_version, created_at, updated_at, last_activity_at)"
                " VALUES ('SM-2026-0001', 2026, 1, 'Remarks about Jemima Puddleduck', 'new',"
                " 'abusive', 'sm-2026-0001 remarks about jemima puddleduck', '1.0',"
                " '2026-11-20 09:00:00', '2026-11-20 09:00:00', '2026-11-20 09:00:00')"
            )
        )
        for name, role in (("head", "head"), ("office", "office")):
            # Raw SQL: the model has columns added after revision 0008.
            session.execute(
                text(
                    "INSERT INTO users (name, name_key, role, password_hash, failed_sign_ins,"
                    " locked, created_at) VALUES (:n, :n, :r, :h, 0, 0, :at)"
                ),
                {
                    "n": name,
                    "r": role,
                    "h": PasswordHasher().hash(OLD_PASSWORD),
                    "at": WHEN.replace(tzinfo=None),
                },
            )
        # Raw SQL as well: the evidence model has columns added after revision 0008.
        session.execute(
            text(
                "INSERT INTO evidence (case_id, number, kind, original_name, content_type, size,"
                " sha256, captured_by, source, post_url, note, metadata_json, added_by, added_at)"
                " VALUES (1, 1, 'original', 'post.txt', 'text/plain', :size, :sha, '', '', '',"
                " '', '{}', 'head', :at)"
            ),
            {"size": len(SECRET), "sha": sha, "at": WHEN.replace(tzinfo=None)},
        )
    engine.dispose()
    blob = paths.blobs / sha[:2] / sha[2:]
    blob.parent.mkdir(parents=True)
    blob.write_bytes(SECRET)
    (paths.backups / "casebook-before-migration-0007_shared_blobs-20261120.sqlite3").write_bytes(
        paths.database.read_bytes()
    )
    return sha


def every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_the_head_teacher_encrypts_a_plain_casebook_and_nothing_is_left_in_the_clear(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "casebook"
    make_plain_casebook(folder)
    with pytest.raises(UnencryptedCasebookError, match="casebook encrypt"):
        open_casebook(folder)
    paths = prepare_data_dir(folder)
    with pytest.raises(SignInError, match="not right"):
        encrypt_casebook(paths, "head", "a wrong guess")
    with pytest.raises(SignInError, match="Only the head teacher"):
        encrypt_casebook(paths, "office", OLD_PASSWORD)
    recovery = encrypt_casebook(paths, "head", OLD_PASSWORD)

    assert b"Jemima" not in every_byte(folder)
    services = open_casebook(folder)
    try:
        services.users.sign_in("head", OLD_PASSWORD)
        case = services.cases.find_case("SM-2026-0001")
        assert case.title == "Remarks about Jemima Puddleduck"
        exhibit = services.evidence.list_evidence(case.id)[0]
        assert services.evidence.content(exhibit.id) == SECRET
        assert services.evidence.verify().ok
        with pytest.raises(SignInError, match="needs a new password"):
            services.users.sign_in("office", OLD_PASSWORD)
        services.users.sign_in("head", OLD_PASSWORD)
        services.users.set_password("office", "copper-lantern-58")
        assert services.users.sign_in("office", "copper-lantern-58").name == "office"
    finally:
        services.close()
    assert b"Jemima" not in every_byte(folder)  # the migration's own copy is encrypted too
    again = open_casebook(folder)
    try:
        again.users.reset_password("head", recovery, "quiet-harbour-77")
    finally:
        again.close()


def test_the_command_line_encrypts_and_prints_the_new_recovery_key(tmp_path: Path) -> None:
    folder = tmp_path / "casebook"
    make_plain_casebook(folder)
    assert_refused(cli("cases", data_dir=folder), 1, "casebook encrypt")
    head = {"CASEBOOK_USER": "head", "CASEBOOK_PASSWORD": OLD_PASSWORD}
    done = cli("encrypt", data_dir=folder, env=head)
    assert done.returncode == 0, done.stderr
    assert "New recovery key: " in done.stdout
    assert "Remarks about Jemima Puddleduck" in cli("cases", data_dir=folder, env=head).stdout
    assert_refused(cli("encrypt", data_dir=folder, env=head), 1, "not one made before")
