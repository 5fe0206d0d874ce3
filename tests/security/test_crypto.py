"""The sealed-blob format and key wrapping, at the sizes where chunking can go wrong."""

from __future__ import annotations

import io

import pytest

from app.security.crypto import (
    CHUNK,
    HEADER_BYTES,
    TAG_BYTES,
    DataKey,
    KdfCost,
    SealBrokenError,
    WrongKeyError,
    derive_key,
    sealed_size,
    unwrap_key,
    wrap_key,
)

CHEAP = KdfCost(time_cost=1, memory_kib=8, parallelism=1)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5])
def test_sealed_blobs_round_trip_at_chunk_edges(size: int) -> None:
    key = DataKey.new()
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    sealed = key.seal(data)
    assert len(sealed) == sealed_size(size)
    assert key.open_sealed(sealed) == data
    assert b"".join(key.open_stream(io.BytesIO(sealed))) == data


def test_sealing_twice_gives_different_bytes_and_hides_the_content() -> None:
    key = DataKey.new()
    data = b"Jane Bloggs posted about Year 4 " * 100
    first, second = key.seal(data), key.seal(data)
    assert first != second
    assert b"Jane Bloggs" not in first


def test_a_changed_byte_anywhere_is_caught() -> None:
    key = DataKey.new()
    sealed = bytearray(key.seal(b"x" * (CHUNK + 100)))
    for position in (0, HEADER_BYTES - 1, HEADER_BYTES + 10, len(sealed) - 1):
        damaged = bytearray(sealed)
        damaged[position] ^= 0x01
        with pytest.raises(SealBrokenError):
            key.open_sealed(bytes(damaged))


def test_truncation_reordering_and_another_key_are_caught() -> None:
    key = DataKey.new()
    sealed = key.seal(b"a" * CHUNK + b"b" * CHUNK + b"c" * 10)
    step = CHUNK + TAG_BYTES
    first = sealed[HEADER_BYTES : HEADER_BYTES + step]
    second = sealed[HEADER_BYTES + step : HEADER_BYTES + 2 * step]
    rest = sealed[HEADER_BYTES + 2 * step :]
    header = sealed[:HEADER_BYTES]
    for broken in (
        header + first + second,  # the last chunk dropped
        header + second + first + rest,  # two chunks swapped
        sealed + b"more",  # something added
    ):
        with pytest.raises(SealBrokenError):
            key.open_sealed(broken)
    with pytest.raises(SealBrokenError):
        DataKey.new().open_sealed(sealed)


def test_a_wrapped_key_opens_only_with_its_secret_and_its_owner() -> None:
    key = DataKey.new()
    salt = b"s" * 16
    kek = derive_key("correct horse", salt, CHEAP)
    nonce, wrapped = wrap_key(kek, key, "head")
    assert unwrap_key(kek, nonce, wrapped, "head") == key
    with pytest.raises(WrongKeyError):
        unwrap_key(derive_key("wrong horse", salt, CHEAP), nonce, wrapped, "head")
    with pytest.raises(WrongKeyError):  # moved to another user's name
        unwrap_key(kek, nonce, wrapped, "office")


def test_blob_names_are_keyed_and_the_key_never_prints() -> None:
    key = DataKey.new()
    sha = "a" * 64
    assert key.blob_name(sha) != sha
    assert key.blob_name(sha) != DataKey.new().blob_name(sha)
    assert key.raw.hex() not in repr(key)
