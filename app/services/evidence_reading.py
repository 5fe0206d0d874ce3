"""Reading evidence after intake: its words, the names it must protect, and its details.

Pictures and PDFs are read on a worker after they are stored (``read_pending``): Tesseract
takes a second or two a screenshot, and adding files stays quick. The words are sealed
like the rest of the exhibit's details on a safeguarding case, and indexed for the
case-list search otherwise. Pupils' and staff names found in the words, and faces in
photos, become suggestions the head teacher accepts or rejects; nothing is hidden until
she saves a redacted copy.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import CaseRecord, EvidenceRecord, PersonRecord
from app.db.sealing import Unreadable
from app.domain.access import Permission
from app.domain.dates import format_date_time, format_short_date
from app.domain.errors import NotFoundError, OperationCancelled, ValidationError
from app.domain.evidence import (
    CHILD_WARNING,
    TEXT_PENDING,
    TEXT_READ,
    TEXT_UNREAD,
    EvidenceDetails,
    EvidenceKind,
    Exhibit,
)
from app.domain.people import PersonKind
from app.domain.search import fold
from app.evidence import reading
from app.evidence.blobstore import BlobStorage
from app.evidence.reading_helper import PictureReader
from app.services.cases import add_event
from app.services.context import ServiceContext
from app.services.evidence import _custody_json, check_details, exhibit_from_record
from app.services.evidence_text import index_case_evidence

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

# Pixels a PDF point in ``page_picture``; PDF boxes are given to ``redact`` in points.
PAGE_SCALE = 150 / 72
PROTECTED_KINDS = (PersonKind.PUPIL.value, PersonKind.STAFF.value)
# A suggested box reaches a little past the letters, so no stroke of a name stays visible.
BOX_MARGIN = 4
_WORD_EDGES = re.compile(r"^[^\w]+|(?:'s|’s)?[^\w]+$|(?:'s|’s)$")


@dataclass(frozen=True)
class ProtectedPerson:
    name: str
    kind: str  # "pupil" or "staff"


def _token(word: str) -> str:
    return fold(_WORD_EDGES.sub("", word))


def find_names(
    words: Sequence[reading.Word], people: Sequence[ProtectedPerson]
) -> list[tuple[ProtectedPerson, list[reading.Word]]]:
    """Each protected person whose whole name appears in ``words``, with the words it
    covers; a name broken across two lines is found too."""
    tokens = [_token(w.text) for w in words]
    found: list[tuple[ProtectedPerson, list[reading.Word]]] = []
    for person in people:
        parts = [_token(p) for p in person.name.split()]
        parts = [p for p in parts if p]
        if len(parts) < 2:
            continue  # one word alone ("Sam") would flag half the posts in a school
        for start in range(len(tokens) - len(parts) + 1):
            if tokens[start : start + len(parts)] == parts:
                found.append((person, list(words[start : start + len(parts)])))
    return found


def name_boxes(matched: Sequence[reading.Word]) -> list[tuple[int, int, int, int, int]]:
    """(page, x, y, w, h) boxes over the matched words, one per line they sit on."""
    by_line: dict[tuple[int, int], list[reading.Word]] = {}
    for word in matched:
        by_line.setdefault((word.page, word.line), []).append(word)
    boxes = []
    for (page, _line), line_words in by_line.items():
        left = min(w.box.x for w in line_words) - BOX_MARGIN
        top = min(w.box.y for w in line_words) - BOX_MARGIN
        right = max(w.box.x + w.box.width for w in line_words) + BOX_MARGIN
        bottom = max(w.box.y + w.box.height for w in line_words) + BOX_MARGIN
        boxes.append((page, max(0, left), max(0, top), right - max(0, left), bottom - max(0, top)))
    return boxes


class EvidenceReading:
    """The words in exhibits, the names they must protect, and their capture details."""

    def __init__(self, ctx: ServiceContext, store: BlobStorage, content: Callable[[int], bytes]):
        self.ctx = ctx
        self.store = store
        self._content = content

    # ----- reading ------------------------------------------------------------------------

    def pending(self, case_id: int | None = None) -> list[int]:
        """Ids of exhibits whose words are still to be read (of one case, or all)."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            query = select(EvidenceRecord.id).where(
                EvidenceRecord.text_state == TEXT_PENDING,
                EvidenceRecord.kind == EvidenceKind.ORIGINAL.value,
            )
            if case_id is not None:
                query = query.where(EvidenceRecord.case_id == case_id)
            return list(session.scalars(query.order_by(EvidenceRecord.id)).all())

    def read_pending(
        self,
        case_id: int | None = None,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> list[Exhibit]:
        """Read every exhibit still waiting (safe on a worker thread); stops when cancelled,
        keeping what was read."""
        ids = self.pending(case_id)
        done = []
        # One helper process reads the batch's pictures and exits with it (its memory too).
        with PictureReader() as pictures:
            for index, exhibit_id in enumerate(ids):
                if cancelled is not None and cancelled():
                    raise OperationCancelled(
                        "Reading the text in evidence was stopped; it continues next time."
                    )
                done.append(self.read_text(exhibit_id, pictures))
                if progress is not None:
                    progress(index + 1, len(ids))
        return done

    def read_text(self, exhibit_id: int, pictures: PictureReader | None = None) -> Exhibit:
        """Read one picture's or PDF's words (again), find protected names and faces, and
        keep the result; the exhibit's text is replaced, its suggestions made afresh.
        Pictures are read in ``pictures``' helper process (one of its own when not given)."""
        with self.ctx.sessions() as session:
            record = session.get(EvidenceRecord, exhibit_id)
            if record is None:
                raise NotFoundError("That piece of evidence no longer exists.")
            exhibit = exhibit_from_record(record)
        self.ctx.require(Permission.EDIT_CASES, case_id=exhibit.case_id, action="read exhibit")
        data = self._content(exhibit_id)
        if exhibit.is_image:
            if pictures is None:
                with PictureReader() as own:
                    found, faces = own.read_picture(data)
            else:
                found, faces = pictures.read_picture(data)
        elif exhibit.is_pdf:
            found = reading.pdf_text(data)
            if not found.text.strip():
                found = reading.ocr_pdf_pages(data)  # a scan: pictures of pages, no text
            faces = ()
        else:
            raise ValidationError(f"{exhibit.label} is not a picture or a PDF to read.")
        with self.ctx.sessions.begin() as session:
            people = self._protected_people(session)
            record = session.get(EvidenceRecord, exhibit_id)
            if record is None:
                raise NotFoundError("That piece of evidence no longer exists.")
            meta = _meta(record)
            matches = find_names(found.words, people)
            names: dict[str, str] = {}
            suggestions: list[dict[str, Any]] = []
            for person, words in matches:
                names[person.name] = person.kind
                for page, x, y, w, h in name_boxes(words):
                    suggestions.append(
                        {"kind": "name", "label": person.name, "page": page, "box": [x, y, w, h]}
                    )
            for face in faces:
                suggestions.append(
                    {
                        "kind": "face",
                        "label": "face",
                        "page": 0,
                        "box": [face.x, face.y, face.width, face.height],
                    }
                )
            for number, suggestion in enumerate(suggestions, start=1):
                suggestion["id"] = number
                suggestion["state"] = "pending"
            meta["protected"] = [{"name": n, "kind": k} for n, k in names.items()]
            meta["suggestions"] = suggestions
            meta["reading_note"] = found.note
            record.metadata_json = json.dumps(meta, ensure_ascii=False)
            record.extracted_text = found.text
            record.text_state = TEXT_READ if found.method or not found.note else TEXT_UNREAD
            index_case_evidence(session, record.case_id)
            case = session.get(CaseRecord, record.case_id)
            assert case is not None
            if names:
                pupils = [n for n, k in names.items() if k == PersonKind.PUPIL.value]
                staff = [n for n, k in names.items() if k != PersonKind.PUPIL.value]
                said = []
                if pupils:
                    said.append(f"{CHILD_WARNING} Pupil named: {', '.join(pupils)}.")
                if staff:
                    said.append(f"Staff named: {', '.join(staff)}.")
                add_event(
                    session,
                    case,
                    self.ctx,
                    "evidence_names_found",
                    f"Exhibit {record.number}: "
                    + " ".join(said)
                    + " Suggested areas to hide are offered in the redaction tool.",
                    {"evidence_id": record.id, "pupils": len(pupils), "staff": len(staff)},
                )
            session.flush()
            return exhibit_from_record(record)

    def _protected_people(self, session: Session) -> list[ProtectedPerson]:
        rows = session.execute(
            select(PersonRecord.name, PersonRecord.kind).where(
                PersonRecord.kind.in_(PROTECTED_KINDS)
            )
        ).all()
        return [
            ProtectedPerson(str(name), str(kind))
            for name, kind in rows
            if name and not isinstance(name, Unreadable)
        ]

    def text_of(self, exhibit_id: int) -> str:
        """The words read from an exhibit ('' when none)."""
        with self.ctx.sessions() as session:
            record = session.get(EvidenceRecord, exhibit_id)
            if record is None:
                raise NotFoundError("That piece of evidence no longer exists.")
            case_id, body = record.case_id, record.extracted_text
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        if isinstance(body, Unreadable):
            return ""
        return str(body or "")

    def child_named_exhibits(self, case_id: int) -> list[int]:
        """Numbers of the case's exhibits in which a pupil is named."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            rows = session.scalars(
                select(EvidenceRecord)
                .where(
                    EvidenceRecord.case_id == case_id,
                    EvidenceRecord.kind == EvidenceKind.ORIGINAL.value,
                    EvidenceRecord.text_state == TEXT_READ,
                )
                .order_by(EvidenceRecord.number)
            ).all()
            return [r.number for r in rows if exhibit_from_record(r).may_identify_child]

    def page_picture(self, exhibit_id: int, page: int) -> tuple[bytes, float]:
        """One page of a PDF exhibit as a PNG, and its pixels a point (``PAGE_SCALE``, less
        for a very big page), for drawing redaction boxes on."""
        from app.evidence.pdf_redaction import (
            RENDER_DPI,
            page_count,
            render_page_png,
            render_scale,
        )

        data = self._content(exhibit_id)
        if not 0 <= page < page_count(data):
            raise ValidationError("That page is not in the PDF.")
        return render_page_png(data, page, RENDER_DPI), render_scale(data, page, RENDER_DPI)

    # ----- suggestions --------------------------------------------------------------------

    def decide(self, exhibit_id: int, suggestion_id: int, accept: bool) -> Exhibit:
        """Accept or reject one suggested area; written to the chronology."""
        with self.ctx.sessions.begin() as session:
            record = session.get(EvidenceRecord, exhibit_id)
            if record is None:
                raise NotFoundError("That piece of evidence no longer exists.")
            self.ctx.require(
                Permission.EDIT_CASES, case_id=record.case_id, action="decide redaction"
            )
            meta = _meta(record)
            for suggestion in meta.get("suggestions", []):
                if int(suggestion.get("id", 0)) == suggestion_id:
                    suggestion["state"] = "accepted" if accept else "rejected"
                    label = str(suggestion.get("label", ""))
                    break
            else:
                raise NotFoundError("That suggestion is no longer offered.")
            record.metadata_json = json.dumps(meta, ensure_ascii=False)
            case = session.get(CaseRecord, record.case_id)
            assert case is not None
            what = "a face" if label == "face" else f"the name {label}"
            add_event(
                session,
                case,
                self.ctx,
                "evidence_suggestion",
                f"Exhibit {record.number}: the suggestion to hide {what} was "
                f"{'accepted' if accept else 'rejected'}.",
                {"evidence_id": record.id, "suggestion": suggestion_id, "accepted": accept},
            )
            session.flush()
            return exhibit_from_record(record)

    # ----- capture details ------------------------------------------------------------------

    def update_details(self, exhibit_id: int, details: EvidenceDetails) -> Exhibit:
        """Change an exhibit's capture details; each changed field is written to the
        chronology with its old and new value."""
        clean = check_details(details, self.ctx.now())
        with self.ctx.sessions.begin() as session:
            record = session.get(EvidenceRecord, exhibit_id)
            if record is None:
                raise NotFoundError("That piece of evidence no longer exists.")
            if record.kind != EvidenceKind.ORIGINAL.value:
                raise ValidationError("Details are kept on the original exhibit.")
            self.ctx.require(
                Permission.EDIT_CASES, case_id=record.case_id, action="edit exhibit details"
            )
            if any(
                isinstance(getattr(record, f), Unreadable)
                for f in ("source", "captured_by", "post_url", "note", "metadata_json")
            ):
                raise ValidationError("This exhibit's details are sealed; a head can edit them.")
            before = exhibit_from_record(record).details
            changes = _changes(before, clean)
            if not changes:
                return exhibit_from_record(record)
            record.captured_at = clean.captured_at
            record.captured_by = clean.captured_by
            record.source = clean.source
            record.post_url = clean.post_url
            record.posted_at = clean.posted_at
            record.note = clean.note
            meta = _meta(record)
            meta["received_via"] = clean.received_via
            meta["custody"] = _custody_json(clean.custody)
            record.metadata_json = json.dumps(meta, ensure_ascii=False)
            # Derived copies carry the original's details into bundles and letters.
            for copy in session.scalars(
                select(EvidenceRecord).where(EvidenceRecord.parent_id == record.id)
            ):
                if copy.kind != EvidenceKind.ORIGINAL.value:
                    copy.captured_at = clean.captured_at
                    copy.captured_by = clean.captured_by
                    copy.source = clean.source
                    copy.post_url = clean.post_url
                    copy.posted_at = clean.posted_at
            case = session.get(CaseRecord, record.case_id)
            assert case is not None
            for change in changes:
                add_event(
                    session,
                    case,
                    self.ctx,
                    "evidence_details",
                    f"Exhibit {record.number}: {change}",
                    {"evidence_id": record.id},
                )
            session.flush()
            return exhibit_from_record(record)


def _meta(record: EvidenceRecord) -> dict[str, Any]:
    try:
        meta = json.loads(record.metadata_json or "{}")
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


_DETAIL_LABELS = (
    ("source", "sent by"),
    ("received_via", "how it came"),
    ("captured_at", "received"),
    ("captured_by", "captured by"),
    ("post_url", "post address"),
    ("posted_at", "date posted"),
    ("note", "note"),
)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if hasattr(value, "hour"):
        return format_date_time(value)
    if hasattr(value, "year"):
        return format_short_date(value)
    return f"“{value}”"


def _changes(before: EvidenceDetails, after: EvidenceDetails) -> list[str]:
    """One sentence for each field that changed."""
    sentences = []
    for field, label in _DETAIL_LABELS:
        old, new = getattr(before, field), getattr(after, field)
        if (old or None) != (new or None):
            sentences.append(f"{label} changed from {_shown(old)} to {_shown(new)}.")
    if before.custody != after.custody:
        if after.custody:
            hops = "; ".join(h.sentence() for h in after.custody)
            sentences.append(f"chain of custody recorded: {hops}.")
        else:
            sentences.append("chain of custody cleared.")
    return sentences
