"""Why the window paused: the GUI thread's and the workers' stacks during each long pause.

A sampler thread records every thread's Python stack every few milliseconds; after a run,
each pause the probe saw is matched with the samples taken inside it. A pause with no
sample inside was one in which no Python thread could run: something held the interpreter
lock in C (an import of a large extension, a C call that does not release it); the samples
either side of it name the suspects.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
import traceback
from pathlib import Path

Stack = list[traceback.FrameSummary]


def _short(stack: Stack, depth: int = 6) -> str:
    return " < ".join(
        f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(stack[-depth:])
    )


class PauseSampler:
    """Samples every thread's stack while running; explains pauses afterwards."""

    def __init__(self, every: float = 0.003) -> None:
        self.every = every
        self.main = threading.main_thread().ident
        self.samples: collections.deque[tuple[float, Stack, list[Stack]]] = collections.deque(
            maxlen=100_000
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pause-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            now = time.perf_counter()
            frames = sys._current_frames()
            main = frames.get(self.main)
            others = [
                traceback.extract_stack(frame, limit=8)
                for ident, frame in frames.items()
                if ident not in (self.main, me)
            ]
            self.samples.append(
                (now, traceback.extract_stack(main, limit=10) if main else [], others)
            )
            time.sleep(self.every)

    def explain(self, start: float, end: float, out=print) -> None:
        inside = [s for s in self.samples if start <= s[0] <= end]
        out(f"    {len(inside)} samples inside")
        if inside:
            for stack, n in collections.Counter(_short(s[1]) for s in inside).most_common(2):
                out(f"    GUI thread x{n}: {stack}")
            others = collections.Counter(_short(o) for s in inside for o in s[2])
            for stack, n in others.most_common(3):
                out(f"    worker x{n}: {stack}")
            return
        around = [s for s in self.samples if s[0] < start][-1:] + [
            s for s in self.samples if s[0] > end
        ][:1]
        for _, main, others in around:
            out(f"    GUI thread near: {_short(main)}")
            for other in others:
                out(f"      worker near: {_short(other)}")
