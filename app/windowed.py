"""Entry point of the windowed program (``ConductCasebook.exe``): no console behind it.

A program built without a console has no standard output or error on Windows
(``sys.stdout`` and ``sys.stderr`` are None), and any message written to them would fail
with AttributeError. They are pointed at nothing instead; the window shows its own
messages and the details go to the log file in the data folder, as always.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    from app.launch import main as run

    # No arguments passed on: a command then reads sys.argv itself and ends the process
    # without tearing the interpreter down, as the console program does.
    return run()


if __name__ == "__main__":
    # The bundled program is started again as the picture-reading helper process.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
