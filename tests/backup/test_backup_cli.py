"""``casebook backup`` and ``casebook restore`` as a script sees them."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import assert_refused, cli


def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "casebook"
    assert cli("init", "--user", "Mrs A. Head", data_dir=data).returncode == 0
    added = cli(
        "case", "add", "--title", "Comments about Year 4", "--category", "abusive", data_dir=data
    )
    assert added.returncode == 0, added.stderr
    made = cli("backup", "--to", str(tmp_path / "backups"), data_dir=data)
    assert made.returncode == 0, made.stderr
    # The same disk as the casebook: made, with a warning that says why it is unwise.
    assert "warning: This folder is on the same disk as the casebook" in made.stderr
    archive = Path(made.stdout.strip())
    assert archive.is_file() and archive.parent == tmp_path / "backups"

    cli("case", "add", "--title", "After the backup", "--category", "inaccurate", data_dir=data)
    restored = cli("restore", str(archive), data_dir=data)
    assert restored.returncode == 0, restored.stderr
    assert "previous data is kept in" in restored.stdout
    listed = cli("cases", data_dir=data)
    assert "Comments about Year 4" in listed.stdout
    assert "After the backup" not in listed.stdout
    assert cli("audit", "verify", data_dir=data).returncode == 0

    archive.write_bytes(archive.read_bytes()[:1000])
    assert_refused(cli("restore", str(archive), data_dir=data), 1, "damaged")
    assert "Comments about Year 4" in cli("cases", data_dir=data).stdout
    assert_refused(cli("backup", "--to", "/proc/no-such-place", data_dir=data), 1)


def test_backup_damage_restore_drill_when_the_casebook_will_not_open(tmp_path: Path) -> None:
    """The drill: back up, the database is ruined, restore from the command line.

    The current database cannot be opened at all, but its key file can: ``restore`` signs
    the head teacher in against it and takes only a backup of this casebook; a wrong
    password is refused in one sentence, with nothing changed.
    """
    data = tmp_path / "casebook"
    assert cli("init", "--user", "Mrs A. Head", data_dir=data).returncode == 0
    cli("case", "add", "--title", "Comments about Year 4", "--category", "abusive", data_dir=data)
    archive = Path(cli("backup", "--to", str(tmp_path / "backups"), data_dir=data).stdout.strip())

    database = data / "casebook.sqlite3"
    database.write_bytes(b"\0" * database.stat().st_size)  # a failed disk
    assert_refused(cli("cases", data_dir=data), 1, "is damaged")

    wrong = cli("restore", str(archive), data_dir=data, env={"CASEBOOK_PASSWORD": "not-it-at-all"})
    assert_refused(wrong, 1, "not right")
    assert database.read_bytes() == b"\0" * database.stat().st_size

    restored = cli("restore", str(archive), data_dir=data)
    assert restored.returncode == 0, restored.stderr
    assert "Comments about Year 4" in cli("cases", data_dir=data).stdout
    trail = cli("audit", "export", "--out", str(tmp_path / "trail.csv"), data_dir=data)
    assert trail.returncode == 0, trail.stderr
    assert "restore" in (tmp_path / "trail.csv").read_text(encoding="utf-8-sig")
    assert cli("audit", "verify", data_dir=data).returncode == 0
    kept = [p for p in data.iterdir() if p.name.startswith("before-restore-")]
    assert len(kept) == 1 and (kept[0] / "casebook.sqlite3").is_file()


def test_over_this_casebook_restore_needs_its_head_teacher_as_they_are_now(
    tmp_path: Path,
) -> None:
    data = tmp_path / "casebook"
    assert cli("init", "--user", "Mrs A. Head", data_dir=data).returncode == 0
    archive = Path(cli("backup", "--to", str(tmp_path / "backups"), data_dir=data).stdout.strip())
    changed = cli(
        "users",
        "set-password",
        "Mrs A. Head",
        data_dir=data,
        env={"CASEBOOK_NEW_PASSWORD": "a-brand-new-passphrase-7"},
    )
    assert changed.returncode == 0, changed.stderr
    new = {"CASEBOOK_PASSWORD": "a-brand-new-passphrase-7"}
    assert_refused(cli("restore", str(archive), data_dir=data), 1, "not right")  # the old one
    restored = cli("restore", str(archive), data_dir=data, env=new)
    assert restored.returncode == 0, restored.stderr
    # The backup's key file came back with it: the password of its time opens it again.
    assert cli("cases", data_dir=data).returncode == 0
