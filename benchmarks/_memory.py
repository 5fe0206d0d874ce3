"""What a process's memory is made of, for the benchmarks that report memory.

``rss_mb`` is the figure the benchmarks' targets are set against: the resident set
(VmRSS), what the system's task manager shows. On Linux ``Breakdown`` splits it further
so a change can be explained: anonymous pages (heaps, pixels, Python objects) against
pages of mapped files (libraries, fonts; shared with other programs and dropped by the
system under pressure), what only this process holds (USS) and, from glibc, how much of
its heaps is in use and how much is free. Elsewhere only the resident set is
known (the peak, from ``resource``, where the current figure is not available).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def rss_mb() -> float:
    """Resident memory of this process now, in MB (VmRSS on Linux; elsewhere the peak)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource

    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MB


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


@cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        libc.open_memstream.restype = ctypes.c_void_p
    except (OSError, AttributeError):  # not glibc, or older than 2.33
        return None
    return libc


def _kilobytes(path: str, names: tuple[str, ...]) -> dict[str, float]:
    found: dict[str, float] = {}
    try:
        text = Path(path).read_text()
    except OSError:
        return found
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in names:
            found[name] = int(rest.split()[0]) / 1024
    return found


def _heap_count(libc: Any) -> int:
    text, size = ctypes.c_char_p(), ctypes.c_size_t()
    stream = libc.open_memstream(ctypes.byref(text), ctypes.byref(size))
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    info = ctypes.string_at(text, size.value).decode()
    libc.free(text)
    return len(re.findall(r"<heap nr=", info))


@dataclass(frozen=True)
class Breakdown:
    """One look at this process's memory, in MB (NaN where the system does not say)."""

    rss: float
    anonymous: float = float("nan")  # heaps, pixels, Python objects, thread stacks
    files: float = float("nan")  # mapped libraries, fonts, the database's mapped pages
    uss: float = float("nan")  # pages no other process shares
    heap_used: float = float("nan")  # glibc: handed out by malloc and not freed
    # glibc: freed and kept in its heaps; whole free pages that malloc_trim handed back are
    # counted here too, though no longer resident
    heap_free: float = float("nan")
    mapped_blocks: float = float("nan")  # glibc: large blocks mapped on their own
    heaps: int = 0  # glibc: main heap + one per group of threads
    sqlite: float = float("nan")  # SQLite's own allocations (mostly its decrypted page caches)

    def line(self, since: Breakdown | None = None) -> str:
        """The figures on one line, each with its change from ``since`` when given."""

        def part(label: str, now: float, before: float | None) -> str:
            if now != now:  # NaN: not known here
                return ""
            change = "" if before is None or before != before else f" ({now - before:+.1f})"
            return f"{label} {now:.1f}{change}"

        names = (
            ("resident", "rss"),
            ("anonymous", "anonymous"),
            ("file-backed", "files"),
            ("unshared", "uss"),
            ("heap in use", "heap_used"),
            ("heap free", "heap_free"),
            ("large blocks", "mapped_blocks"),
            ("SQLite", "sqlite"),
        )
        parts = [
            part(label, getattr(self, key), getattr(since, key) if since else None)
            for label, key in names
        ]
        heaps = f", {self.heaps} heaps" if self.heaps else ""
        return "MB: " + ", ".join(p for p in parts if p) + heaps


def _sqlite_mb() -> float:
    """What SQLCipher's SQLite has allocated (page caches, statements), when it is loaded."""
    module = sys.modules.get("sqlcipher3._sqlite3")
    if module is None or not getattr(module, "__file__", None):
        return float("nan")
    try:
        library = ctypes.CDLL(module.__file__)
        library.sqlite3_memory_used.restype = ctypes.c_int64
        return float(library.sqlite3_memory_used()) / MB
    except (OSError, AttributeError):
        return float("nan")


def breakdown() -> Breakdown:
    """What this process's memory is made of now (Linux gives the detail)."""
    status = _kilobytes("/proc/self/status", ("VmRSS", "RssAnon", "RssFile", "RssShmem"))
    if "VmRSS" not in status:
        return Breakdown(rss=rss_mb())
    rollup = _kilobytes("/proc/self/smaps_rollup", ("Private_Clean", "Private_Dirty"))
    uss = rollup["Private_Clean"] + rollup["Private_Dirty"] if len(rollup) == 2 else float("nan")
    libc = _libc()
    heap: dict[str, Any] = {}
    if libc is not None:
        info = libc.mallinfo2()
        heap = dict(
            heap_used=(info.uordblks) / MB,
            heap_free=info.fordblks / MB,
            mapped_blocks=info.hblkhd / MB,
            heaps=_heap_count(libc),
        )
    return Breakdown(
        rss=status["VmRSS"],
        anonymous=status.get("RssAnon", float("nan")),
        files=status.get("RssFile", float("nan")) + status.get("RssShmem", 0.0),
        uss=uss,
        sqlite=_sqlite_mb(),
        **heap,
    )
