"""A casebook with a head teacher's account and one office account, for the sign-in tests."""

from __future__ import annotations

from pathlib import Path

from app.domain.access import Role
from app.services.casebook import open_casebook
from tests.conftest import Clock

HEAD, HEAD_PASSWORD = "head", "tide-marble-orchard-42"
OFFICE, OFFICE_PASSWORD = "Mrs Office", "lantern-river-copper-7"


def head_and_office(data_dir: Path, clock: Clock, *, actor: str | None = None) -> Path:
    """``data_dir`` made a casebook with the two accounts (``actor`` names who set it up)."""
    services = open_casebook(data_dir, actor=actor, clock=clock)
    try:
        services.users.create_first_user(HEAD, HEAD_PASSWORD)
        services.users.add_user(OFFICE, Role.OFFICE, OFFICE_PASSWORD)
    finally:
        services.close()
    return data_dir
