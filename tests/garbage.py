"""Python's cycle collector in a test process: what survived a full collection is set aside.

A test process imports, over its run, most of the app and its libraries (Qt, SQLAlchemy,
reportlab, fontTools, Pillow): half a million objects that live until it exits. Each full
collection walked them all again, twenty times in a run of the window tests, for about 8%
of the processor time. After a test in which a full collection ran, the objects that
survived it are frozen out of later collections, so the next full collection walks only
what was made since (the window tests' collections took half the time). At
the end of the session they are unfrozen and collected once, so anything left unclosed
still warns (pytest reports it as it ends).
"""

from __future__ import annotations

import gc
from typing import Any

_full_collection_since_freeze = False


def _note_full_collection(phase: str, info: dict[str, Any]) -> None:
    global _full_collection_since_freeze
    if phase == "stop" and info["generation"] == 2:
        _full_collection_since_freeze = True


def between_tests() -> None:
    """Set aside what survived the last full collection, if there was one since the last
    time. Done between tests, never inside a collection: code that collects and then asks
    ``gc.get_referrers`` about its own objects (Hypothesis does, to check a PRNG it is
    given is held) must still see their referrers, and the collector does not search
    frozen objects."""
    global _full_collection_since_freeze
    if _full_collection_since_freeze:
        _full_collection_since_freeze = False
        gc.freeze()


def start() -> None:
    """From now on, what survives each full collection is left out of the next ones."""
    if _note_full_collection not in gc.callbacks:
        gc.callbacks.append(_note_full_collection)


def finish() -> None:
    """Everything is collectable again, and collected."""
    if _note_full_collection in gc.callbacks:
        gc.callbacks.remove(_note_full_collection)
    gc.unfreeze()
    gc.collect()
