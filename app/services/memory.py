"""Handing memory that picture decoding has freed back to the operating system.

Importing pictures decodes each one (about 7 MB of pixels for a phone screenshot) on
worker threads. glibc serves a block that large from ``mmap`` (returned the moment it is
freed) only until the first such block is freed: it then raises its threshold to that
size, and later pictures are carved from per-thread heaps that keep what is freed. Over
three imports of 100 screenshots the process grew from 244 to 420 MB that nothing used.

Threads share two heaps: the GUI thread's and one for all the others. glibc would give
threads up to eight heaps per core, each keeping what its threads freed (10 heaps held
about 17 MB more after five imports of 100 screenshots). The limit counts only for heaps
made after it is set, so the window sets it before its first thread starts: set only when
the evidence tab was made, five imports from a window on a case without evidence ended
27.1-27.7 MB above the start; set at the start, 19.6-19.7 MB (alternating, same machine).

Both functions work only with glibc (Linux) and do nothing elsewhere.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache
from typing import Any

M_MMAP_THRESHOLD = -3  # mallopt's parameters' numbers in glibc's malloc.h
M_ARENA_MAX = -8
# Heaps the threads of the process share. One (the main heap only) would also let
# ``malloc_trim`` shrink the top of the workers' heap, which it cannot do for a thread's
# heap (7 MB free but resident there after five imports): measured alternately on a busy
# machine, one heap ended five imports 1 MB lower (10.2 against 11.2 MB, from a window
# already showing a screenshot) but the window's longest pauses during them were longer
# (median 186 against 122 ms over 15 imports each), the threads waiting for one lock.
SHARED_HEAPS = 2
LARGE_BLOCK = 1 << 20  # 1 MiB: pixels of pictures, not Python's or Qt's small objects


@cache
def _glibc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # glibc's name for itself; ctypes.util.find_library would cost the window's start
        # 20-30 ms (it imports more and asks ldconfig).
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):  # musl and other C libraries have neither
        return None
    return libc


def return_large_blocks_at_once() -> bool:
    """Serve every block of 1 MiB or more straight from the system from now on, so a
    decoded picture's memory goes back when it is freed, and have threads started from now
    on share two heaps; True when this could be set. Called before the window's first
    thread starts (a heap made before stays), and again by the evidence tab."""
    libc = _glibc()
    if libc is None:
        return False
    # Heaps already made stay; no more are made (glibc reads the limit when it would make one).
    shared = bool(libc.mallopt(M_ARENA_MAX, SHARED_HEAPS) == 1)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK) == 1) and shared


def return_freed_memory() -> bool:
    """Give whole free pages of the heap back to the system; True when this could be done.

    Safe from any thread (glibc locks each arena while it trims); it takes a few
    milliseconds, so the window calls it from a worker.
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
