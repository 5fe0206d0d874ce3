"""Reading pictures in a helper process, so their pixels and OpenCV stay out of the window's.

Looking for faces loads OpenCV and NumPy (about 45 MB the process kept for its life), and
reading a screenshot decodes it twice; in the window's process that memory stayed after
the reading ended, and loading OpenCV there held the interpreter lock long enough to stall
the window. A helper process does this work instead: it is started (with the ``spawn``
method, as on Windows and in the bundled program, whose entry points call
``multiprocessing.freeze_support()``) when the first picture of a batch is read, and it
exits when the batch is done, handing its memory back whole.

A helper that crashes or stops answering costs that picture's reading, never the
evidence: the picture is kept unread with one sentence saying why, and the next picture
gets a new helper.
"""

from __future__ import annotations

import logging
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from app.evidence import reading
from app.evidence.derivatives import Box

log = logging.getLogger(__name__)

# Tesseract has its own limit per band of a tall screenshot; a picture whose reading takes
# longer than this in all is taken as a helper that hangs.
PICTURE_DEADLINE_SECONDS = 600.0
STOPPED = "The text in this picture was not read, as the program reading it stopped unexpectedly."
HUNG = "The text in this picture was not read, as the program reading it stopped answering."

Found = tuple[reading.ReadText, tuple[Box, ...]]


def _serve(connection: Connection) -> None:
    """The helper's loop: read each picture sent, answer, and end when told or orphaned."""
    while True:
        try:
            data = connection.recv()
        except (EOFError, OSError):
            return  # the window's process has gone
        if data is None:
            return
        connection.send((reading.ocr_picture(data), reading.find_faces(data)))


class PictureReader:
    """Reads pictures' words and faces in a helper process, started on first use; ``close``
    (or leaving a ``with`` block) ends it."""

    def __init__(self, deadline: float = PICTURE_DEADLINE_SECONDS) -> None:
        self.deadline = deadline
        self._process: Any = None
        self._connection: Connection | None = None

    def __enter__(self) -> PictureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def helper_pid(self) -> int | None:
        """The helper's process id while one runs (for tests and the log)."""
        return self._process.pid if self._process is not None else None

    def read_picture(self, data: bytes) -> Found:
        """The words read from a picture intake accepted, and the faces found in it."""
        connection = self._start()
        try:
            connection.send(data)
            if not connection.poll(self.deadline):
                log.warning("The reading helper gave no answer in %.0f s", self.deadline)
                self._end(at_once=True)
                return reading.ReadText("", note=HUNG), ()
            found: Found = connection.recv()
        except (EOFError, OSError) as error:
            log.warning("The reading helper stopped: %s", type(error).__name__)
            self._end(at_once=True)
            return reading.ReadText("", note=STOPPED), ()
        return found

    def close(self) -> None:
        """End the helper (it exits on its own once told; a stuck one is stopped)."""
        self._end(at_once=False)

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection:
            return self._connection
        self._end(at_once=True)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs,), name="casebook-reading", daemon=True
        )
        process.start()
        theirs.close()  # only the helper holds its end: its exit is seen as end of file
        self._process, self._connection = process, ours
        return ours

    def _end(self, *, at_once: bool) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            if not at_once:
                try:
                    connection.send(None)
                except OSError:
                    at_once = True
            connection.close()
        if process is None:
            return
        if not at_once:
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
        process.close()
