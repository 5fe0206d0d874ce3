"""Python's cycle collector in a test process: what survived a full collection is set aside.

A test process imports, over its run, most of the app and its libraries (Qt, SQLAlchemy,
reportlab, fontTools, Pillow): half a million objects that live until it exits. Each full
collection walked them all again, twenty times in a run of the window tests, for about 8%
of the processor time. After each full collection the objects that survived it (all of
them reachable then) are frozen out of later collections, so the next full collection
walks only what was made since (the window tests' collections took half the time). At
the end of the session they are unfrozen and collected once, so anything left unclosed
still warns (pytest reports it as it ends).
"""

from __future__ import annotations

import gc
from typing import Any


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def start() -> None:
    """From now on, what survives each full collection is left out of the next ones."""
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def finish() -> None:
    """Everything is collectable again, and collected."""
    if _freeze_survivors in gc.callbacks:
        gc.callbacks.remove(_freeze_survivors)
    gc.unfreeze()
    gc.collect()
