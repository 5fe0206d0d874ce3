"""Modules that run the first time they are used instead of when they are imported.

:func:`load_on_first_use` puts a module in place as one whose code runs the first time
anything of it is looked at, set or deleted, once, whichever thread asks. A library that
imports a module at its start and uses it for work a program seldom does then costs that
program nothing for it: reportlab's Pillow and HarfBuzz (app.pdf), the standard library's
package metadata under SQLAlchemy (app.db). ``import NAME`` and ``from PACKAGE import
NAME`` give the module without running it; ``from NAME import something`` runs it.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

# What the import system and ``bool()`` look at on a module without using it: answered
# without running the module (``import NAME`` asks for ``__spec__``).
_ANSWERED_UNRUN = frozenset({"__spec__", "__name__", "__loader__", "__package__", "__class__"})


class ModuleOnFirstUse(types.ModuleType):
    """A module not run yet: the first attribute looked at, set or deleted runs it (once, under
    its own lock); it is then an ordinary module (its class is put back)."""

    def __getattribute__(self, name: str) -> Any:
        if name not in _ANSWERED_UNRUN:
            _run(self)
        return types.ModuleType.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        _run(self)
        types.ModuleType.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        _run(self)
        types.ModuleType.__delattr__(self, name)


# Each deferred module's lock and the thread running it (None until it runs).
_deferred: dict[int, tuple[threading.RLock, list[int | None]]] = {}
_deferred_lock = threading.Lock()


def _run(module: types.ModuleType) -> None:
    if type(module) is not ModuleOnFirstUse:
        return
    with _deferred_lock:
        lock, runner = _deferred[id(module)]
    with lock:
        if type(module) is not ModuleOnFirstUse or runner[0] == threading.get_ident():
            return  # already run, or running now in this thread (its own code's lookups)
        runner[0] = threading.get_ident()
        spec = types.ModuleType.__getattribute__(module, "__spec__")
        try:
            spec.loader.exec_module(module)
            types.ModuleType.__setattr__(module, "__class__", types.ModuleType)
        except BaseException:
            sys.modules.pop(spec.name, None)
            raise
        finally:
            runner[0] = None


def load_on_first_use(name: str) -> None:
    """Make ``name`` importable without running it: its code runs when it is first used.
    Nothing changes if it is already imported or cannot be found (an import then says why)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return
    module = importlib.util.module_from_spec(spec)
    with _deferred_lock:
        _deferred[id(module)] = (threading.RLock(), [None])
    module.__class__ = ModuleOnFirstUse
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        types.ModuleType.__setattr__(sys.modules[parent], child, module)
