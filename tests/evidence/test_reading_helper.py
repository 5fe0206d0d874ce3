"""Pictures are read in a helper process: OpenCV never enters the casebook's own process,
and a helper that hangs or crashes costs one picture's reading, never the evidence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.domain.evidence import TEXT_READ, TEXT_UNREAD
from app.evidence.reading_helper import HUNG, STOPPED, PictureReader
from app.services.casebook import Services

from .test_reading import POST, needs_tesseract, screenshot

PHOTO = Path(__file__).parent / "fixtures" / "astronaut.jpg"
ROOT = Path(__file__).resolve().parents[2]


def test_faces_are_found_without_loading_opencv_into_the_casebook() -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from app.evidence.reading_helper import PictureReader\n"
        "if __name__ == '__main__':\n"
        "    with PictureReader() as pictures:\n"
        f"        _, faces = pictures.read_picture(Path({str(PHOTO)!r}).read_bytes())\n"
        "    print(len(faces), 'cv2' in sys.modules, 'numpy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.split() == ["1", "False", "False"]


@needs_tesseract
def test_a_helper_that_stops_answering_leaves_the_picture_kept_and_unread(
    services: Services, case_id: int
) -> None:
    first, _ = screenshot()
    second, _ = screenshot(["Nothing to see", "here at all"])
    one, two = services.evidence.add_bytes(case_id, [("a.png", first), ("b.png", second)])
    with PictureReader(deadline=0.001) as hanging:
        read = services.reading.read_text(one.exhibit.id, hanging)
        assert hanging.helper_pid is None  # the stuck helper was stopped
    assert read.text_state == TEXT_UNREAD and read.reading_note == HUNG
    assert services.evidence.content(one.exhibit.id) == first
    # The next picture gets a helper of its own and is read.
    [again] = services.reading.read_pending(case_id)
    assert again.id == two.exhibit.id and again.text_state == TEXT_READ
    assert "Nothing to see" in services.reading.text_of(again.id)


@needs_tesseract
def test_a_helper_that_crashes_costs_one_reading_and_the_next_gets_a_new_helper() -> None:
    data, _ = screenshot()
    with PictureReader() as pictures:
        found, _ = pictures.read_picture(data)
        assert "Everyone should know what" in found.text
        first = pictures.helper_pid
        assert first is not None
        os.kill(first, 9)  # the helper dies between two pictures
        found, _ = pictures.read_picture(data)
        assert found.note in ("", STOPPED)
        if found.note:  # the death was seen while sending: the picture after is read again
            found, _ = pictures.read_picture(data)
        assert "Everyone should know what" in found.text
        assert pictures.helper_pid not in (None, first)


@needs_tesseract
@pytest.mark.skipif(sys.platform == "win32", reason="the helper is killed with a POSIX signal")
def test_a_helper_that_dies_while_reading_gives_one_sentence() -> None:
    # Five bands of Tesseract: seconds of work, long enough to be killed in the middle.
    tall, _ = screenshot(POST * 20, size=(1080, 12000))
    with PictureReader() as pictures:
        pictures.read_picture(PHOTO.read_bytes())  # the helper is up
        pid = pictures.helper_pid
        assert pid is not None
        killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
        killer.start()
        try:
            found, faces = pictures.read_picture(tall)
        finally:
            killer.join()
    assert (found.text, found.note, faces) == ("", STOPPED, ())
