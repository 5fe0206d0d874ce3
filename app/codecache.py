"""The methods Python writes for each dataclass, compiled once and kept like bytecode.

On Python 3.11 a dataclass costs about 0.6 ms to make: its ``__init__``, ``__repr__``,
``__eq__`` and, when frozen, ``__hash__``, ``__setattr__`` and ``__delattr__`` are each
written out as source text and compiled on the spot, one call of :func:`compile` each. The
letter command makes about eighty dataclasses before it can draw (a tenth of the whole
process), the window more. The text of each method depends only on the class's fields,
so what it compiles to can be kept between runs, as Python keeps a module's bytecode.

:func:`install` gives the ``dataclasses`` module an ``exec`` of its own that looks the text
up in a table of code compiled earlier and compiles only what is missing, exactly as
``exec`` would (same file name, no inherited ``__future__`` flags). The classes made are
the same; only the compiling is skipped. The table is kept where the interpreter keeps
this package's bytecode (``app/__pycache__``), with the same trust: it is read only if it
was written by this version of Python, and written (at exit, whole, by renaming a finished
file over the old one) only where Python itself would write bytecode. The bundled program
carries a table made when it was built (:func:`write_table`) and never writes one.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import dataclasses
import logging
import marshal
import os
import sys
import threading
from importlib.util import MAGIC_NUMBER, cache_from_source
from pathlib import Path
from types import CodeType
from typing import Any

log = logging.getLogger(__name__)

# The table's file starts with these bytes and the interpreter's bytecode magic number.
_FORMAT = b"casebook dataclass code 1\n"
# More entries than any run of the app makes; a table never grows past it.
ENTRY_LIMIT = 5000
BUNDLED_NAME = "dataclass-code.bin"


def table_path() -> Path:
    """Where this interpreter keeps the table: beside this package's bytecode, or, in the
    bundled program, the file made when it was built."""
    here = Path(__file__).resolve().parent
    if getattr(sys, "frozen", False):
        return here / BUNDLED_NAME
    compiled = Path(cache_from_source(str(here / "codecache.py")))
    return compiled.with_name(f"dataclass-code.{sys.implementation.cache_tag}.bin")


class CodeTable:
    """Code compiled from the source texts that dataclasses write, by the text."""

    def __init__(self, path: Path, *, writable: bool) -> None:
        self.path = path
        self.writable = writable
        self.codes: dict[str, CodeType] = {}
        # Compiled by this run, and found in the table by this run (kept first when full).
        self.new: dict[str, CodeType] = {}
        self.used: set[str] = set()
        self._lock = threading.Lock()

    @property
    def added(self) -> int:
        """How many texts this run compiled that the table did not hold."""
        return len(self.new)

    def load(self) -> None:
        """Read the table kept on disk, if there is a usable one (else start empty)."""
        self.codes = _read(self.path)

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        """``exec`` as the dataclasses module calls it, compiling a text only once."""
        if type(source) is str:
            code = self.codes.get(source) or self.new.get(source)
            if code is None:
                # As exec compiles a text: file "<string>", no flags from this module.
                code = compile(source, "<string>", "exec", dont_inherit=True)
                with self._lock:
                    if len(self.new) < ENTRY_LIMIT:
                        self.new[source] = code
            else:
                self.used.add(source)
            source = code
        builtins.exec(source, globals, locals)

    def save(self) -> None:
        """Write the table if this run compiled anything new and bytecode may be written.

        A full table keeps what this run made and used, then what other runs left (the
        window and the command line make different classes), up to :data:`ENTRY_LIMIT`.
        """
        if not self.new or not self.writable or sys.dont_write_bytecode:
            return
        with self._lock:
            # Another process may have written its own since this one read the table.
            kept = {**_read(self.path), **self.codes}
            first = {**{text: kept[text] for text in self.used if text in kept}, **self.new}
            entries = dict(list({**first, **kept}.items())[:ENTRY_LIMIT])
            self.codes = {**self.codes, **self.new}
            self.new = {}
        _write(self.path, entries)


def _read(path: Path) -> dict[str, CodeType]:
    header = _FORMAT + MAGIC_NUMBER
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if not data.startswith(header):
        return {}
    try:
        table = marshal.loads(data[len(header) :])
    except (EOFError, ValueError, TypeError):
        log.info("The dataclass code table was unreadable; it is made again")
        return {}
    if not isinstance(table, dict) or not all(
        type(text) is str and type(code) is CodeType for text, code in table.items()
    ):
        return {}
    return table


def _write(path: Path, entries: dict[str, CodeType]) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(_FORMAT + MAGIC_NUMBER + marshal.dumps(entries))
        os.replace(partial, path)
    except OSError:
        # A folder this account may not write to (an installed copy): compiled each run.
        log.debug("The dataclass code table could not be kept", exc_info=True)
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


_installed: CodeTable | None = None


def install() -> CodeTable | None:
    """Have dataclasses made from now on use the kept code (once per process).

    Nothing is done on an interpreter whose dataclasses module already has an ``exec`` of
    its own (a future version may compile its methods otherwise).
    """
    global _installed
    if _installed is not None:
        return _installed
    if "exec" in vars(dataclasses):
        return None
    frozen = bool(getattr(sys, "frozen", False))
    table = CodeTable(table_path(), writable=not frozen)
    table.load()
    dataclasses.exec = table.exec  # type: ignore[attr-defined]
    if not frozen:
        atexit.register(table.save)
    _installed = table
    return table


def write_table(path: Path) -> int:
    """Make the table for the bundled program: import every module of the app (which makes
    all its dataclasses) with the table installed, and write it to ``path``. Returns the
    number of entries. Run by build.spec in a process of its own."""
    import importlib
    import pkgutil

    import app

    table = CodeTable(path, writable=False)
    dataclasses.exec = table.exec  # type: ignore[attr-defined]
    try:
        for module in pkgutil.walk_packages(app.__path__, "app."):
            if ".migrations" in module.name:
                continue
            importlib.import_module(module.name)
    finally:
        del dataclasses.exec  # type: ignore[attr-defined]
    _write(path, table.new)
    return len(table.new)


if __name__ == "__main__":
    count = write_table(Path(sys.argv[1]))
    sys.stdout.write(f"{count} dataclass methods compiled into {sys.argv[1]}\n")
