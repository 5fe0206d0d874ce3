"""Failed sign-ins always reach the audit trail; a damaged key wrap is not a wrong password."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pytest

from app.domain.errors import SignInError
from app.services.casebook import open_casebook
from tests.conftest import Clock, open_signed_in
from tests.security.accounts import HEAD, HEAD_PASSWORD, OFFICE, OFFICE_PASSWORD, head_and_office


@pytest.fixture
def casebook(data_dir: Path, clock: Clock) -> Path:
    return head_and_office(data_dir, clock, actor=HEAD)


def _flip(data_dir: Path, slot: str, field: str) -> None:
    keyring_path = data_dir / "casebook.keys"
    document = json.loads(keyring_path.read_bytes())
    raw = bytearray(base64.b64decode(document["wraps"][slot][field]))
    raw[len(raw) // 2] ^= 0x01
    document["wraps"][slot][field] = base64.b64encode(bytes(raw)).decode("ascii")
    keyring_path.write_text(json.dumps(document), encoding="utf-8")


def _failed_count(data_dir: Path, slot: str) -> int:
    document = json.loads((data_dir / "casebook.keys").read_bytes())
    return int(document["wraps"][slot].get("failed", 0))


@pytest.mark.parametrize("field", ["wrapped", "nonce", "salt"])
def test_a_flipped_byte_in_a_key_wrap_says_damaged_and_does_not_count(
    casebook: Path, clock: Clock, field: str
) -> None:
    _flip(casebook, "mrs office", field)
    services = open_casebook(casebook, clock=clock)
    try:
        for _ in range(3):
            with pytest.raises(SignInError, match="damaged") as refusal:
                services.users.sign_in(OFFICE, OFFICE_PASSWORD)
            assert "not right" not in refusal.value.message
        # A wrong password on the damaged wrap is refused too, and still not counted.
        with pytest.raises(SignInError, match="damaged"):
            services.users.sign_in(OFFICE, "not-the-password-at-all")
    finally:
        services.close()
    assert _failed_count(casebook, "mrs office") == 0
    head = open_signed_in(casebook, HEAD, HEAD_PASSWORD, clock=clock)
    try:
        failures = head.audit.entries(action="sign-in failed")
        assert failures and all("key wrap damaged" in e.detail for e in failures)
    finally:
        head.close()


def test_a_flipped_byte_in_the_recovery_wrap_says_damaged(casebook: Path, clock: Clock) -> None:
    _flip(casebook, "(recovery key)", "wrapped")
    services = open_casebook(casebook, clock=clock)
    try:
        with pytest.raises(SignInError, match="damaged"):
            services.users.reset_password(OFFICE, "AAAAA-BBBBB-CCCCC", "meadow-copper-harbour-3")
    finally:
        services.close()


def test_a_wrong_password_still_counts(casebook: Path, clock: Clock) -> None:
    services = open_casebook(casebook, clock=clock)
    try:
        with pytest.raises(SignInError, match="not right"):
            services.users.sign_in(OFFICE, "not-the-password-at-all")
    finally:
        services.close()
    assert _failed_count(casebook, "mrs office") == 1


@pytest.mark.parametrize(
    "typed",
    ["b\udcffd-bytes", "nul\x00name", '=HYPERLINK("http://x")', "\udc80"],
    ids=["undecodable", "control", "formula", "only-undecodable"],
)
def test_every_failed_sign_in_reaches_the_trail_whatever_the_name(
    casebook: Path, clock: Clock, typed: str
) -> None:
    services = open_casebook(casebook, clock=clock)
    try:
        with pytest.raises(SignInError):
            services.users.sign_in(typed, "whatever-it-was")
        with pytest.raises(SignInError):
            services.users.sign_in(OFFICE, "not-the-password-at-all")
    finally:
        services.close()
    head = open_signed_in(casebook, HEAD, HEAD_PASSWORD, clock=clock)
    try:
        failures = head.audit.entries(action="sign-in failed")
        assert len(failures) == 2, failures
        users = {e.user for e in failures}
        assert OFFICE in users
        strange = next(u for u in users if u != OFFICE)
        assert strange.encode("utf-8")  # stored as readable text
        if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in typed):
            assert "\\udc" in strange  # the undecodable byte, shown as an escape
        assert head.keys.pending_audit() == []
        assert head.audit.verify().ok
        exported = head.audit.export_csv(failures).decode("utf-8-sig")
        for row in list(csv.reader(io.StringIO(exported)))[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    finally:
        head.close()


def test_a_wrap_from_before_checksums_gets_one_at_its_next_sign_in(
    casebook: Path, clock: Clock
) -> None:
    keyring_path = casebook / "casebook.keys"
    document = json.loads(keyring_path.read_bytes())
    for field in ("digest", "verifier"):
        del document["wraps"]["mrs office"][field]
    keyring_path.write_text(json.dumps(document), encoding="utf-8")
    open_signed_in(casebook, OFFICE, OFFICE_PASSWORD, clock=clock).close()
    assert "digest" in json.loads(keyring_path.read_bytes())["wraps"]["mrs office"]
    _flip(casebook, "mrs office", "wrapped")
    services = open_casebook(casebook, clock=clock)
    try:
        with pytest.raises(SignInError, match="damaged"):
            services.users.sign_in(OFFICE, OFFICE_PASSWORD)
    finally:
        services.close()
