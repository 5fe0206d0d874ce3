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
