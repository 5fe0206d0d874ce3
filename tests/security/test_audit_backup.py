"""A backup carries the sealed trail; a restore brings back a trail that checks."""

from __future__ import annotations

import json
from pathlib import Path

from app.domain.access import Role
from app.services.audit import ANCHOR_FILE
from app.services.casebook import open_casebook
from tests.conftest import Clock, open_signed_in

HEAD, HEAD_PASSWORD = "head", "tide-marble-orchard-42"


def _anchor_seq(data_dir: Path) -> int:
    document = json.loads((data_dir / ANCHOR_FILE).read_text(encoding="utf-8"))
    return int(document["checkpoint"]["seq"])


def test_a_restored_sealed_trail_checks_and_keeps_its_own_checkpoint(
    data_dir: Path, tmp_path: Path, clock: Clock
) -> None:
    services = open_casebook(data_dir, actor=HEAD, clock=clock)
    try:
        services.users.create_first_user(HEAD, HEAD_PASSWORD)
        services.users.add_user("Mrs Office", Role.OFFICE, "lantern-river-copper-7")
    finally:
        services.close()
    services = open_signed_in(data_dir, HEAD, HEAD_PASSWORD, clock=clock)
    try:
        archive = services.backups.backup(tmp_path / "backups").path
    finally:
        services.close()
    at_backup = _anchor_seq(data_dir)
    clock.advance(hours=2)
    open_signed_in(data_dir, HEAD, HEAD_PASSWORD, clock=clock).close()  # a newer checkpoint
    assert _anchor_seq(data_dir) > at_backup

    services = open_signed_in(data_dir, HEAD, HEAD_PASSWORD, clock=clock)
    try:
        services.backups.restore(archive, password=HEAD_PASSWORD)
    finally:
        services.close()
    # The checkpoint beside the keyring is the restored trail's own, not the newer one.
    assert _anchor_seq(data_dir) == at_backup
    services = open_signed_in(data_dir, HEAD, HEAD_PASSWORD, clock=clock)
    try:
        check = services.audit.verify()
        assert check.ok, check.problems
        assert services.audit.entries(action="audit trail problem found") == []
    finally:
        services.close()
