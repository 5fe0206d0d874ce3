"""Memory freed after decoding pictures goes back to the system (glibc, on Linux)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# In a fresh process: a picture-sized block is freed (glibc then raises its threshold, and
# would carve the next one from a heap that keeps it); the next one must still be mapped
# from the system, so that freeing it gives it back.
PROBE = """
import ctypes, sys
from app.services.memory import return_freed_memory, return_large_blocks_at_once

class Info(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(n, ctypes.c_size_t) for n in names.split()]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 8 * 1024 * 1024
libc.free(libc.malloc(size))
if sys.argv[1] == "set":
    assert return_large_blocks_at_once()
libc.free(libc.malloc(size))
block = libc.malloc(size)
mapped = libc.mallinfo2().hblkhd
libc.free(block)
assert return_freed_memory()
print("mapped" if mapped >= size else "heap")
"""


def probe(mode: str, script: str = PROBE) -> str:
    """What ``script`` prints, run in a fresh process with ``mode`` as its argument."""
    done = subprocess.run(
        [sys.executable, "-c", script, mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_a_picture_sized_block_is_given_back_when_freed() -> None:
    assert probe("default") == "heap"  # what held 150 MB after an import of 100 screenshots
    assert probe("set") == "mapped"


# In a fresh process: eight threads, alive together, each allocate; count glibc's heaps.
HEAPS = """
import ctypes, re, sys, threading
from app.services.memory import return_large_blocks_at_once

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.open_memstream.restype = ctypes.c_void_p
if sys.argv[1] == "set":
    assert return_large_blocks_at_once()
ready, go = threading.Barrier(9), threading.Event()

def work():
    blocks = [libc.malloc(4096) for _ in range(100)]
    ready.wait()
    go.wait()
    for block in blocks:
        libc.free(block)

threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
ready.wait()
text, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(text), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
go.set()
for thread in threads:
    thread.join()
print(len(re.findall(r"<heap nr=", ctypes.string_at(text, size.value).decode())))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_worker_threads_share_a_few_heaps() -> None:
    def heaps(mode: str) -> int:
        return int(probe(mode, HEAPS))

    # Each thread's heap kept what it freed: 10 heaps after five imports of screenshots.
    assert heaps("default") >= 6
    assert heaps("set") <= 2  # the main heap and one shared by the threads
