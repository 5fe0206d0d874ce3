"""Argon2 costs in the key file: bounded, recorded, and the test suite's cheap cost kept to tests.

The suite runs with ``CASEBOOK_TESTS_ONLY_CHEAP_KDF=1`` (set in tests/conftest.py) so that the
hundreds of sign-ins it makes are cheap. These tests take the setting away where they need to
see what a school's PC sees.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from app.domain.errors import DataDirectoryError
from app.security.crypto import DEFAULT_COST, DataKey
from app.security.keyring import (
    COST_CEILING,
    COST_FLOOR,
    RECOVERY,
    TEST_COST,
    TEST_COST_SETTING,
    Keyring,
    KeyringDamagedError,
    checked_cost,
    wrap_cost,
)
from app.services.casebook import open_casebook
from tests.conftest import open_signed_in

PASSWORD = "tide-marble-orchard-42"


def make_casebook(data_dir: Path) -> Path:
    services = open_casebook(data_dir)
    try:
        services.users.create_first_user("head", PASSWORD)
    finally:
        services.close()
    return data_dir / "casebook.keys"


def recorded_costs(keyring: Path) -> dict[str, dict[str, int]]:
    return {slot: entry["kdf"] for slot, entry in json.loads(keyring.read_bytes())["wraps"].items()}


def set_cost(keyring: Path, slot: str, **cost: int) -> None:
    document = json.loads(keyring.read_bytes())
    document["wraps"][slot]["kdf"].update(cost)
    keyring.write_text(json.dumps(document))


def test_the_suite_runs_with_the_cheap_cost_and_records_it(data_dir: Path) -> None:
    keyring = make_casebook(data_dir)
    assert set(recorded_costs(keyring)) == {"head", RECOVERY}
    assert all(cost == TEST_COST.as_dict() for cost in recorded_costs(keyring).values())


def test_without_the_setting_a_casebook_gets_the_full_cost(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only exactly "1" chooses the cheap cost: each other value gives the full one.
    for value in ("0", "yes", "true", "1 ", ""):
        monkeypatch.setenv(TEST_COST_SETTING, value)
        assert wrap_cost() == DEFAULT_COST, value
        with pytest.raises(KeyringDamagedError):
            checked_cost(TEST_COST.as_dict())
    # A whole casebook made and signed in to without the setting, as on a school's PC
    # (three derivations at the full cost).
    monkeypatch.delenv(TEST_COST_SETTING)
    assert wrap_cost() == DEFAULT_COST
    keyring = make_casebook(data_dir)
    assert set(recorded_costs(keyring)) == {"head", RECOVERY}
    assert all(cost == DEFAULT_COST.as_dict() for cost in recorded_costs(keyring).values())
    open_signed_in(data_dir, "head", PASSWORD).close()


def test_a_casebook_made_with_the_cheap_cost_is_refused_outside_the_tests(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_casebook(data_dir)
    monkeypatch.delenv(TEST_COST_SETTING)
    with pytest.raises(DataDirectoryError) as caught:
        open_casebook(data_dir)
    assert "key file" in caught.value.message and "is damaged" in caught.value.message
    assert "password" not in caught.value.message


@pytest.fixture(scope="module")
def full_cost(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A casebook at the full cost, made once and copied by each test that edits it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(TEST_COST_SETTING)
        folder = tmp_path_factory.mktemp("full-cost") / "casebook"
        make_casebook(folder)
    return folder


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("t", COST_FLOOR.time_cost - 1),
        ("m", COST_FLOOR.memory_kib - 1),
        ("p", 0),
        ("t", COST_CEILING.time_cost + 1),
        ("t", 2**32),  # one sign-in would take years
        ("m", COST_CEILING.memory_kib + 1),
        ("m", 2**31),  # 2 TiB of memory
        ("p", COST_CEILING.parallelism + 1),
        ("t", -3),
        ("m", "lots"),
        ("p", None),
        ("t", True),
        ("t", 3.5),
        ("m", "65536"),
    ],
)
def test_an_edited_cost_is_damage_said_at_once_and_not_a_wrong_password(
    full_cost: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: object
) -> None:
    monkeypatch.delenv(TEST_COST_SETTING)
    shutil.copytree(full_cost, data_dir)
    keyring = data_dir / "casebook.keys"
    set_cost(keyring, "head", **{field: value})  # type: ignore[arg-type]
    started = time.process_time()
    with pytest.raises(DataDirectoryError) as caught:
        open_signed_in(data_dir, "head", PASSWORD)
    assert time.process_time() - started < 5
    assert "key file" in caught.value.message and "is damaged" in caught.value.message
    assert "password" not in caught.value.message
    # Nothing counted against the account: the file is as it was left.
    assert json.loads(keyring.read_bytes())["wraps"]["head"]["failed"] == 0


def test_costs_within_the_bounds_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEST_COST_SETTING)
    key = DataKey.new()
    keyring = Keyring.new(key)
    keyring.add_wrap("head", PASSWORD, key, COST_FLOOR)
    assert Keyring.parse(keyring.dump()).open_with("head", PASSWORD) == key
    assert checked_cost(COST_CEILING.as_dict()) == COST_CEILING
    assert checked_cost(DEFAULT_COST.as_dict()) == DEFAULT_COST
    with pytest.raises(KeyringDamagedError):  # and the app never writes one outside them
        keyring.add_wrap("office", PASSWORD, key, TEST_COST)
