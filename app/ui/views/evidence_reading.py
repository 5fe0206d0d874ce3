"""What the evidence tab does with the words in evidence and where it came from.

Reading new pictures and PDFs runs on the tab's pool (Tesseract takes a second or two a
screenshot; the window stays responsive). The capture-details dialog opens, without
blocking, once files are added, and again from "Edit details…". Suggested areas to hide
are accepted or rejected one by one; accepted ones become boxes when redaction starts, and
nothing is hidden until the head saves a redacted copy. A PDF is redacted a page at a
time, on a picture of the page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.domain.access import Permission
from app.domain.errors import CasebookError
from app.domain.evidence import CHILD_WARNING, EvidenceKind, Exhibit
from app.services.operations import case_changes

if TYPE_CHECKING:
    from app.ui.views.evidence_tab import EvidenceTab

log = logging.getLogger(__name__)


def read_pending(tab: EvidenceTab) -> Any:
    """Start reading the case's unread pictures and PDFs in the background (once)."""
    from app.services.operations import OpResult, case_changes

    if tab.case_id is None or tab._reading is not None or not tab.read_text:
        return None
    if not tab.isVisible():
        return None  # started when the Evidence tab is shown
    if not tab.services.ctx.may(Permission.EDIT_CASES):
        return None  # a read-only user sees what others have read
    case_id = tab.case_id
    try:
        waiting = len(tab.services.reading.pending(case_id))
    except CasebookError:
        return None
    if not waiting:
        return None
    services = tab.services

    def command(report: Any, cancelled: Any) -> OpResult[list[Exhibit]]:
        read = services.reading.read_pending(case_id, progress=report, cancelled=cancelled)
        # The chronology may hold a new entry; the tab updates its own details below.
        return OpResult(read, case_changes(case_id))

    def progress(done: int, total: int) -> None:
        tab.reading_note.setText(f"Reading the text in evidence… {done} of {total} done.")

    def finished(read: list[Exhibit]) -> None:
        tab._reading = None
        tab.reading_note.setVisible(False)
        if tab.case_id == case_id:
            # Only the details change: the picture on show is not decoded again.
            fresh = {e.id: e for e in read}
            tab.exhibits = [fresh.get(e.id, e) for e in tab.exhibits]
            if tab.current is not None and tab.current.id in fresh:
                tab.current = fresh[tab.current.id]
                tab._show_details(tab.current)
            show_case_flag(tab)
        read_pending(tab)  # files added while this ran
        tab._release_memory_when_idle()

    def failed(refused: Any) -> None:
        tab._reading = None
        tab.reading_note.setText(f"The text in some evidence was not read: {refused.message}")
        tab._release_memory_when_idle()

    task = tab.signals.runner.run(
        command, initiator="evidence reading", on_done=finished, on_refused=failed
    )
    task.progress.connect(progress)
    tab._reading = task
    noun = "exhibit" if waiting == 1 else "exhibits"
    tab.reading_note.setText(f"Reading the text in {waiting} {noun}…")
    tab.reading_note.setVisible(True)
    return task


def show_case_flag(tab: EvidenceTab) -> None:
    """Say above the exhibits when any of them names a pupil."""
    numbers = [
        e.number for e in tab.exhibits if e.kind is EvidenceKind.ORIGINAL and e.may_identify_child
    ]
    if numbers:
        which = ", ".join(str(n) for n in numbers)
        said = "Exhibit {} names" if len(numbers) == 1 else "Exhibits {} name"
        tab.case_flag.setText(f"⚠ {said.format(which)} a pupil. {CHILD_WARNING}")
    tab.case_flag.setVisible(bool(numbers))


def ask_where_from(tab: EvidenceTab, exhibits: list[Exhibit]) -> Any:
    """Open the capture-details dialog for evidence just added (not blocking the window)."""
    from app.ui.dialogs.capture_details import CaptureDetailsDialog

    if not exhibits:
        return None
    dialog = CaptureDetailsDialog(exhibits[0].details, len(exhibits), tab)
    ids = [e.id for e in exhibits]

    def save() -> None:
        _save_details(tab, dialog, ids)

    dialog.accepted.connect(save)
    tab._details_dialog = dialog
    dialog.open()
    return dialog


def edit_details(tab: EvidenceTab) -> Any:
    """Open the capture-details dialog for the exhibit on show."""
    from app.ui.dialogs.capture_details import CaptureDetailsDialog

    exhibit = tab.current
    if exhibit is None:
        return None
    if exhibit.kind is not EvidenceKind.ORIGINAL and exhibit.parent_id is not None:
        exhibit = next((e for e in tab.exhibits if e.id == exhibit.parent_id), exhibit)
    dialog = CaptureDetailsDialog(exhibit.details, 1, tab)
    dialog.setWindowTitle(f"Details of {exhibit.label}")
    dialog.accepted.connect(lambda: _save_details(tab, dialog, [exhibit.id]))
    tab._details_dialog = dialog
    dialog.open()
    return dialog


def _save_details(tab: EvidenceTab, dialog: Any, ids: list[int]) -> None:
    try:
        details = dialog.details()
        for exhibit_id in ids:
            tab.services.reading.update_details(exhibit_id, details)
    except (CasebookError, ValueError) as error:
        message = error.message if isinstance(error, CasebookError) else str(error)
        # Keep what was typed: the dialog opens again with the sentence that says why.
        dialog.show_error(message)
        dialog.open()
        return
    tab.show_message("The details were saved and written to the chronology.")
    if tab.case_id is not None:
        tab.reload()
        tab.signals.runner.announce(case_changes(tab.case_id), "evidence tab")


def decide_suggestion(tab: EvidenceTab, suggestion_id: int, accept: bool) -> None:
    """Record the head's decision on one suggested area to hide."""
    if tab.current is None:
        return
    try:
        tab.services.reading.decide(tab.current.id, suggestion_id, accept)
    except CasebookError as error:
        tab.show_message(error.message, error=True)
        return
    if tab.case_id is not None:
        tab.reload()
        tab.signals.runner.announce(case_changes(tab.case_id), "evidence tab")


def start_redacting(tab: EvidenceTab) -> bool:
    """Prepare the picture view for redaction: a PDF's current page is shown as a picture,
    and accepted suggestions are drawn as boxes. False when there is nothing to redact."""
    exhibit = tab.current
    if exhibit is None or not (exhibit.is_image or exhibit.is_pdf):
        return False
    scale = 1.0
    page = 0
    if exhibit.is_pdf:
        page = max(0, tab.pdf_page())
        try:
            picture, scale = tab.services.reading.page_picture(exhibit.id, page)
        except CasebookError as error:
            tab.show_message(error.message, error=True)
            return False
        tab.stack.setCurrentWidget(tab.picture)
        tab.picture.show_picture(picture)
        tab._pdf_redaction = (exhibit.id, page, scale)
        tab.redact_hint.setText(
            f"Page {page + 1}: drag boxes over what to hide. In the copy this page becomes "
            "a picture with nothing under the boxes."
        )
    else:
        tab._pdf_redaction = None
    return _add_accepted(tab, exhibit, page, scale)


def _add_accepted(tab: EvidenceTab, exhibit: Exhibit, page: int, scale: float) -> bool:
    from app.services.evidence import Box

    source = exhibit
    if exhibit.kind is EvidenceKind.REDACTED and exhibit.parent_id is not None:
        source = next((e for e in tab.exhibits if e.id == exhibit.parent_id), exhibit)
    for suggestion in source.suggestions:
        if suggestion.state == "accepted" and suggestion.page == page:
            x, y, w, h = suggestion.box
            tab.picture.add_box(
                Box(round(x * scale), round(y * scale), round(w * scale), round(h * scale))
            )
    return True


def stop_redacting(tab: EvidenceTab) -> None:
    """Back to the PDF itself after redacting one of its pages."""
    if tab._pdf_redaction is not None:
        tab._pdf_redaction = None
        tab.redact_hint.setText(
            "Drag boxes over names, faces or a child’s image. The original stays unchanged."
        )
        if tab.current is not None and tab.current.is_pdf:
            tab.picture.clear_picture()
            tab.stack.setCurrentWidget(tab.pdf_box)


def boxes_to_save(tab: EvidenceTab) -> list[Any]:
    """The drawn boxes as the service takes them: pixels for a picture, points and the
    page for a PDF."""
    from app.services.evidence import Box

    boxes = tab.picture.boxes()
    if tab._pdf_redaction is None:
        return boxes
    _exhibit_id, page, scale = tab._pdf_redaction
    return [
        Box(
            int(b.x / scale),
            int(b.y / scale),
            int(b.width / scale + 1.999),
            int(b.height / scale + 1.999),
            page=page,
        )
        for b in boxes
    ]
