"""Adding many files at once: written together, yet never a record without its file,
and each picture's thumbnail made from the decode intake already did."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select

from app import files
from app.db.models import EvidenceRecord
from app.domain.categories import Category
from app.domain.records import CaseDraft
from app.evidence.blobstore import TEMP_PREFIX
from app.files import RETRY_DELAYS, simulated_file_in_use
from app.services.casebook import Services
from tests.conftest import WAIT_MS

from .conftest import png_bytes


def _rows(services: Services) -> int:
    with services.ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(EvidenceRecord)) or 0)


def _thumbnail_rows(services: Services, exhibit_id: int) -> int:
    with services.ctx.sessions() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    EvidenceRecord.parent_id == exhibit_id, EvidenceRecord.kind == "thumbnail"
                )
            )
            or 0
        )


def _turned_jpeg() -> bytes:
    """An 80×60 JPEG whose EXIF says to show it turned a quarter (a phone held upright)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (80, 60), "red").save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_blob_that_cannot_be_put_in_place_leaves_no_row_and_nothing_after_the_sweep(
    services: Services, case_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The waits between the rename's tries are counted rather than slept (about two idle
    # seconds): tests/windows/test_files.py checks what they add up to.
    waits: list[float] = []
    monkeypatch.setattr(files, "time", SimpleNamespace(sleep=waits.append))
    pictures = [(f"shot{n}.png", png_bytes(60 + n, 40, "white")) for n in range(5)]
    store = services.evidence.store
    before = set(store.stored_names())
    # The third file's rename fails for good (a scanner that never lets go, on Windows),
    # after the first two are already in place.
    third = store.path_for(hashlib.sha256(pictures[2][1]).hexdigest())
    with simulated_file_in_use(1000, matching=third.name), pytest.raises(PermissionError):
        services.evidence.add_bytes(case_id, pictures)
    assert not list(store.root.glob(f"{TEMP_PREFIX}*"))
    assert _rows(services) == 0
    assert services.evidence.list_evidence(case_id) == []
    assert len(waits) == len(RETRY_DELAYS)  # it was tried again, and then given up
    # The two files already in place are left to the sweep (see the next test); no record
    # refers to them, so the next start's sweep removes them.
    assert len(set(store.stored_names()) - before) == 2
    services.sweep_blobs()
    assert set(store.stored_names()) == before


def test_a_failed_import_never_takes_the_file_of_an_exhibit_saved_meanwhile(
    services: Services, case_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports at once share one stored file: the one that fails must not remove it."""
    # The first import's retries wait until the second import has saved its exhibit (rather
    # than sleeping their two seconds and hoping the second is done by then): the second
    # always lands while the first is still trying, however slow the machine.
    saved_meanwhile = threading.Event()

    def wait_for_the_second_import(_seconds: float) -> None:
        assert saved_meanwhile.wait(WAIT_MS / 1000), "the second import never finished"

    monkeypatch.setattr(files, "time", SimpleNamespace(sleep=wait_for_the_second_import))
    shared = png_bytes(77, 44, "gold")
    stuck = png_bytes(78, 44, "olive")
    store = services.evidence.store
    stuck_path = store.path_for(hashlib.sha256(stuck).hexdigest())
    failed: list[BaseException] = []

    def first_import() -> None:
        try:
            services.evidence.add_bytes(case_id, [("shared.png", shared), ("stuck.png", stuck)])
        except BaseException as error:  # checked below
            failed.append(error)

    other = services.cases.open_case(
        CaseDraft(title="The same post, sent in again", categories=frozenset({Category.ABUSIVE}))
    )
    with simulated_file_in_use(1000, matching=stuck_path.name) as held:
        worker = threading.Thread(target=first_import)
        worker.start()
        # The shared file is in place and the stuck one is being retried: a second import
        # of the same picture finds the stored file and records its exhibit.
        # However long that takes on this machine: an import that ends (or a test that
        # hangs, stopped by the test's time limit) without reaching it fails.
        while not held.refused and worker.is_alive():
            time.sleep(0.005)
        assert held.refused, "the first import never reached the file held open"
        try:
            (saved,) = services.evidence.add_bytes(other.id, [("again.png", shared)])
        finally:
            saved_meanwhile.set()
        worker.join()
    assert not worker.is_alive()
    assert [type(error) for error in failed] == [PermissionError]
    assert services.evidence.content(saved.exhibit.id) == shared
    assert services.evidence.verify().findings == ()


def test_pictures_get_their_thumbnails_as_they_are_added_upright(
    services: Services, case_id: int
) -> None:
    turned, tall = services.evidence.add_bytes(
        case_id, [("turned.jpg", _turned_jpeg()), ("tall.png", png_bytes(400, 3000))]
    )
    kept = services.evidence.kept_thumbnails([turned.exhibit.id, tall.exhibit.id])
    with Image.open(io.BytesIO(kept[turned.exhibit.id])) as image:
        assert image.size == (60, 80)  # shown upright, as the viewer shows it
    with Image.open(io.BytesIO(kept[tall.exhibit.id])) as image:
        assert image.size == (120, 240)  # the top of a tall screenshot
    # Asking for the thumbnail finds the one made at intake; none is made again.
    assert services.evidence.thumbnail(tall.exhibit.id) == kept[tall.exhibit.id]
    assert _thumbnail_rows(services, tall.exhibit.id) == 1


def test_the_same_picture_twice_in_one_batch_is_one_exhibit(
    services: Services, case_id: int
) -> None:
    picture = png_bytes(70, 50, "beige")
    first, again = services.evidence.add_bytes(case_id, [("a.png", picture), ("b.png", picture)])
    assert not first.duplicate and again.duplicate
    assert again.exhibit.id == first.exhibit.id
    assert [e.number for e in services.evidence.list_evidence(case_id)] == [1]
    assert _thumbnail_rows(services, first.exhibit.id) == 1


def test_content_already_stored_is_not_written_again(services: Services, case_id: int) -> None:
    picture = png_bytes(90, 30, "lavender")
    (added,) = services.evidence.add_bytes(case_id, [("post.png", picture)])
    path = services.evidence.store.path_for(added.exhibit.sha256)
    written = path.stat()
    other = services.cases.open_case(
        CaseDraft(title="The same post, another parent", categories=frozenset({Category.ABUSIVE}))
    )
    (again,) = services.evidence.add_bytes(other.id, [("same post.png", picture)])
    assert not again.duplicate  # a new exhibit of the other case, sharing the stored file
    assert path.stat().st_ino == written.st_ino
    assert path.stat().st_mtime_ns == written.st_mtime_ns
    assert services.evidence.content(again.exhibit.id) == picture
