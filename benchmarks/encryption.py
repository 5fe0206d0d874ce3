"""The cost of encryption at rest, each figure printed with its target.

1. Sealing and opening 100 MB of blobs (50 random 2 MB files, which do not compress):
   AES-GCM in memory, target >= 200 MB/s each way; through the blob store (hash, seal,
   fsync and rename; read and open), reported.
2. Signing in to an existing casebook (Argon2id on the password, open the SQLCipher
   database, record the sign-in): median of 5, target <= 0.5 s; the key derivation alone
   is printed beside it.
3. Size on disk: what sealing adds to a blob (target <= 1 % for a 100 KB screenshot), and
   what SQLCipher adds to the 10,000-case database against a plain copy of it (reported).

Run: .venv/bin/python benchmarks/encryption.py
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _casebook import BENCH_PASSWORD, BENCH_USER, casebook_with, open_signed_in, set_up

from app.db.engine import connect_encrypted
from app.domain.records import CaseFilter
from app.security.crypto import DataKey, KdfCost, derive_key, sealed_size
from app.security.keyring import KeyringFile, KeyringStore

BLOBS, BLOB_MB = 50, 2
SEAL_TARGET_MBS = 200.0
SIGN_IN_TARGET_S = 0.5
BLOB_OVERHEAD_TARGET = 0.01  # a fraction of the blob's size
MB = 1_000_000


def measure_in_memory(blobs: list[bytes]) -> tuple[float, float]:
    """MB/s sealing and opening ``blobs`` with the data key, in memory."""
    key = DataKey.new()
    total = sum(len(b) for b in blobs) / MB
    key.open_sealed(key.seal(blobs[0]))  # warm up: the cipher library's first use
    started = time.perf_counter()
    sealed = [key.seal(blob) for blob in blobs]
    seal_s = time.perf_counter() - started
    started = time.perf_counter()
    opened = [key.open_sealed(blob) for blob in sealed]
    open_s = time.perf_counter() - started
    assert opened == blobs
    return total / seal_s, total / open_s


def measure_store(folder: Path, blobs: list[bytes]) -> tuple[float, float, int]:
    """MB/s writing and reading ``blobs`` through a casebook's blob store, and bytes on disk."""
    services = set_up(folder)
    try:
        store = services.evidence.store
        total = sum(len(b) for b in blobs) / MB
        started = time.perf_counter()
        hashes = [store.put_bytes(blob).sha256 for blob in blobs]
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        for sha, blob in zip(hashes, blobs, strict=True):
            assert store.read_bytes(sha) == blob
        read_s = time.perf_counter() - started
        on_disk = sum(p.stat().st_size for p in services.paths.blobs.rglob("*") if p.is_file())
    finally:
        services.close()
    return total / write_s, total / read_s, on_disk


def measure_sign_in(folder: Path, runs: int = 5) -> tuple[float, float]:
    """Median seconds to open the casebook and sign in, and to derive the key alone."""
    sign_ins = []
    for _ in range(runs):
        started = time.perf_counter()
        services = open_signed_in(folder)
        services.cases.count_cases(CaseFilter())  # the first read of the opened database
        sign_ins.append(time.perf_counter() - started)
        services.close()
    keyring = KeyringStore(KeyringFile(folder / "casebook.keys")).load()
    assert keyring is not None
    entry = keyring.entry(BENCH_USER)
    assert entry is not None
    salt, cost = base64.b64decode(entry["salt"]), KdfCost.from_dict(entry["kdf"])
    derives = []
    for _ in range(runs):
        started = time.perf_counter()
        derive_key(BENCH_PASSWORD, salt, cost)
        derives.append(time.perf_counter() - started)
    return statistics.median(sign_ins), statistics.median(derives)


def database_overhead(folder: Path, work: Path) -> tuple[int, int]:
    """Bytes of the same records exported to a fresh encrypted file and to a plain one.

    Both are fresh exports, so free pages left in the working file do not count against
    encryption; the difference is SQLCipher's per-page IV and HMAC.
    """
    keyring = KeyringStore(KeyringFile(folder / "casebook.keys")).load()
    assert keyring is not None
    key = keyring.open_with(BENCH_USER, BENCH_PASSWORD)
    encrypted, plain = work / "encrypted.sqlite3", work / "plain.sqlite3"
    connection = connect_encrypted(folder / "casebook.sqlite3", key)
    try:
        for name, path, attach_key in (
            ("enc", encrypted, key.sqlcipher_key()),
            ("plain", plain, "''"),
        ):
            connection.execute(f"ATTACH DATABASE '{path}' AS {name} KEY {attach_key}")
            connection.execute(f"SELECT sqlcipher_export('{name}')")
            connection.execute(f"DETACH DATABASE {name}")
    finally:
        connection.close()
    return encrypted.stat().st_size, plain.stat().st_size


def main() -> int:
    blobs = [os.urandom(BLOB_MB * MB) for _ in range(BLOBS)]
    total_mb = BLOBS * BLOB_MB
    seal_mbs, open_mbs = measure_in_memory(blobs)
    with tempfile.TemporaryDirectory() as temp:
        write_mbs, read_mbs, on_disk = measure_store(Path(temp) / "store", blobs)
        del blobs
        folder = casebook_with(10_000)
        sign_in_s, derive_s = measure_sign_in(folder)
        encrypted_db, plain_db = database_overhead(folder, Path(temp))
    screenshot = 100_000
    blob_overhead = (sealed_size(screenshot) - screenshot) / screenshot
    store_overhead = (on_disk - total_mb * MB) / (total_mb * MB)
    ok = (
        seal_mbs >= SEAL_TARGET_MBS
        and open_mbs >= SEAL_TARGET_MBS
        and sign_in_s <= SIGN_IN_TARGET_S
        and blob_overhead <= BLOB_OVERHEAD_TARGET
    )
    print(
        f"seal {total_mb} MB of blobs in memory (AES-GCM): {seal_mbs:.0f} MB/s "
        f"(target >= {SEAL_TARGET_MBS:.0f} MB/s)"
    )
    print(
        f"open {total_mb} MB of sealed blobs in memory: {open_mbs:.0f} MB/s "
        f"(target >= {SEAL_TARGET_MBS:.0f} MB/s)"
    )
    print(
        f"blob store, {BLOBS} files of {BLOB_MB} MB: write (hash, seal, fsync) {write_mbs:.0f} "
        f"MB/s, read (open, check) {read_mbs:.0f} MB/s (no target; reported)"
    )
    print(
        f"sign in (Argon2id, open the database, record it): {sign_in_s:.2f} s median of 5 "
        f"(target <= {SIGN_IN_TARGET_S:.1f} s); of which key derivation {derive_s:.2f} s"
    )
    print(
        f"sealed size of a 100 KB screenshot: +{sealed_size(screenshot) - screenshot} bytes "
        f"({blob_overhead:.3%}; target <= {BLOB_OVERHEAD_TARGET:.0%}); "
        f"{BLOBS} blobs of {BLOB_MB} MB on disk: +{store_overhead:.3%}"
    )
    print(
        f"database of 10,000 cases: {encrypted_db / MB:.1f} MB encrypted, "
        f"{plain_db / MB:.1f} MB plain (+{(encrypted_db - plain_db) / plain_db:.1%}; reported)"
    )
    print("All targets met." if ok else "Some targets NOT met.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
