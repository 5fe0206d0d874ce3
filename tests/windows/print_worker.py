"""Prints a PDF to a PDF file through the window's print path and reports its peak memory.

Run as its own process (``python -m tests.windows.print_worker IN OUT DPI [FIRST LAST]``)
so the figure is the whole process's high-water mark, Qt included, as on the office PC.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def peak_mb() -> float:
    """This program's peak resident memory. VmHWM, not ru_maxrss: Linux carries the
    parent's (pytest's) high-water mark into ru_maxrss across the exec that started us."""
    if sys.platform == "win32":
        return _windows_peak_working_set() / 1024 / 1024
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _windows_peak_working_set() -> int:
    import ctypes
    from ctypes import wintypes

    class Counters(ctypes.Structure):
        _fields_ = [
            ("cb", wintypes.DWORD),
            ("PageFaultCount", wintypes.DWORD),
            ("PeakWorkingSetSize", ctypes.c_size_t),
            ("WorkingSetSize", ctypes.c_size_t),
            ("QuotaPeakPagedPoolUsage", ctypes.c_size_t),
            ("QuotaPagedPoolUsage", ctypes.c_size_t),
            ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t),
            ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
            ("PagefileUsage", ctypes.c_size_t),
            ("PeakPagefileUsage", ctypes.c_size_t),
        ]

    counters = Counters()
    counters.cb = ctypes.sizeof(Counters)
    process = ctypes.windll.kernel32.GetCurrentProcess()  # type: ignore[attr-defined]
    ctypes.windll.psapi.GetProcessMemoryInfo(  # type: ignore[attr-defined]
        process, ctypes.byref(counters), counters.cb
    )
    return int(counters.PeakWorkingSetSize)


def print_to_file(data: bytes, target: str, dpi: int, first: int = 0, last: int = 0) -> bool:
    """Print ``data`` (pages ``first`` to ``last`` when given) through the window's print
    path, on Qt's PDF printer writing ``target``; needs a QApplication."""
    from PySide6.QtGui import QPageRanges
    from PySide6.QtPrintSupport import QPrinter

    from app.ui.views.pdf_preview import a4_printer, print_pdf

    printer = a4_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(target)
    printer.setResolution(dpi)
    if first:
        ranges = QPageRanges()
        ranges.addRange(first, last)
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        printer.setPageRanges(ranges)
    return print_pdf(data, printer=printer)


def main() -> None:
    source, target, dpi = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    pages = [int(page) for page in sys.argv[4:6]]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    data = source.read_bytes()
    before = peak_mb()
    started = time.perf_counter()
    printed = print_to_file(data, target, dpi, *pages)
    seconds = time.perf_counter() - started
    app.quit()
    result = {"printed": printed, "before_mb": before, "peak_mb": peak_mb(), "seconds": seconds}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
