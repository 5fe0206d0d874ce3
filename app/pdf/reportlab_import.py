"""reportlab's paragraph module, imported without compiling a pattern a letter seldom uses.

``reportlab.platypus.paragraph`` compiles, as it is imported, a pattern for web addresses
(``uri_pat``: case-insensitive over most of Unicode) that it uses only to split a long
address between lines. Compiling it took about 20 ms of processor time, a twentieth of a
letter from the command line, in every process that draws a PDF. Here it is made the first
time it is used instead: the same pattern and flags, so the same matches.
:func:`defer_address_pattern` (called by ``app.pdf``) arranges it before reportlab's
paragraph module is imported; anything else that module compiles is compiled as before.

reportlab also imports two libraries at its start that most documents never use: Pillow's
image module (only for a logo, a signature or an exhibit) and HarfBuzz (only for a name or
passage in Arabic, Hebrew or an Indian script). Loading them took about a thirtieth of a
letter from the command line. :func:`app.modules_on_first_use.load_on_first_use` puts
each in place as a module that runs the first time anything of it is looked at or changed,
once, whichever thread asks.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from typing import Any

PARAGRAPH_MODULE = "reportlab.platypus.paragraph"
# How reportlab's address pattern begins (reportlab 3.5 to 4.4). Another version's pattern
# that begins otherwise is simply compiled at import, as before.
ADDRESS_PATTERN_START = "(^(?:[a-z0-9\\.\\-\\+]*)://)"
_compile = re.compile


class DeferredPattern:
    """A compiled regular expression, made when it is first used."""

    def __init__(self, source: str, flags: int) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> bool:
        """Whether the pattern has been compiled yet."""
        return self._compiled is not None

    def __getattr__(self, name: str) -> Any:
        # Only what the instance lacks comes here: match, search, pattern, flags...
        if self._compiled is None:
            self._compiled = _compile(self._source, self._flags)
        return getattr(self._compiled, name)


@contextlib.contextmanager
def _address_pattern_deferred() -> Iterator[None]:
    def compile_or_defer(pattern: Any, flags: int = 0) -> Any:
        if isinstance(pattern, str) and pattern.startswith(ADDRESS_PATTERN_START):
            return DeferredPattern(pattern, flags)
        return _compile(pattern, flags)

    re.compile = compile_or_defer  # type: ignore[assignment]
    try:
        yield
    finally:
        re.compile = _compile


class _ParagraphModuleFinder:
    """Finds reportlab's paragraph module as the other finders do, and runs it with the
    address pattern deferred. It answers once (the module is then loaded) and for nothing
    else; a finder that asks the others in turn (a profiler's) is not asked again."""

    def __init__(self) -> None:
        self._finding = False

    def find_spec(self, name: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if name != PARAGRAPH_MODULE or self._finding:
            return None
        self._finding = True
        try:
            spec = next(
                (
                    found
                    for finder in sys.meta_path
                    if finder is not self and hasattr(finder, "find_spec")
                    for found in (finder.find_spec(name, path, target),)
                    if found is not None
                ),
                None,
            )
        finally:
            self._finding = False
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        run = loader.exec_module
        had_own = "exec_module" in getattr(loader, "__dict__", {})

        def exec_module(module: Any) -> None:
            # The loader is put back as it was at its first use: one loader may serve every
            # module (a bundled program's), and only this module is run differently.
            if had_own:
                loader.exec_module = run  # type: ignore[method-assign]
            else:
                del loader.exec_module
            if getattr(module, "__name__", None) != PARAGRAPH_MODULE:
                run(module)
                return
            with _address_pattern_deferred():
                run(module)

        # A loader that cannot be changed: reportlab compiles the pattern at import, as before.
        with contextlib.suppress(AttributeError):
            loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def defer_address_pattern() -> None:
    """Have reportlab's paragraph module, when it is imported, make its address pattern on
    first use. Nothing happens once it is imported, or if this was already arranged."""
    if PARAGRAPH_MODULE in sys.modules:
        return
    if any(isinstance(finder, _ParagraphModuleFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _ParagraphModuleFinder())
