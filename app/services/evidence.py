"""Evidence: taking files in safely, keeping them provably unchanged, and making copies.

Adding is all-or-nothing per call: every file is inspected before anything is written;
blobs are written first (temp file, fsync, rename), then every row and chronology entry
in one transaction; if that transaction fails, the blobs it created are removed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import CaseRecord, EvidenceRecord, SettingRecord
from app.db.sealing import case_is_sealed
from app.domain.access import Permission
from app.domain.dates import format_date_time
from app.domain.errors import EvidenceRejected, NotFoundError, OperationCancelled, ValidationError
from app.domain.evidence import (
    TEXT_PENDING,
    TEXT_READ,
    AddedEvidence,
    CustodyHop,
    EvidenceDetails,
    EvidenceKind,
    Exhibit,
    IntegrityFinding,
    IntegrityReport,
    Suggestion,
)
from app.domain.sharing import audience_label, check_audience
from app.domain.validation import check_url, clean_text
from app.evidence import derivatives
from app.evidence.blobstore import BlobDamagedError, BlobStorage
from app.evidence.derivatives import Box
from app.evidence.derivatives import ImageSlice as ImageSlice
from app.evidence.derivatives import decode_top as decode_top
from app.evidence.intake import (
    EMAIL,
    MESSAGE_TYPES,
    PDF,
    TYPE_LABELS,
    InspectedFile,
    IntakeLimits,
    decode_text,
    display_name,
    format_size,
    inspect_bytes,
)
from app.evidence.messages import MailMessage, read_email, read_outlook
from app.services.blobs import read_intact, referenced_blob_hashes
from app.services.cases import add_event, tick_rule
from app.services.context import ServiceContext
from app.services.evidence_text import index_case_evidence

log = logging.getLogger(__name__)

# What the window may use of file intake without importing it (import contract).
__all__ = [
    "TYPE_LABELS",
    "Box",
    "EvidenceService",
    "ImageSlice",
    "decode_text",
    "decode_top",
    "format_size",
]

MAX_SIZE_SETTING = "evidence_max_bytes"
# The checklist action that adding evidence to a case completes (resources/workflow).
CAPTURE_EVIDENCE = "capture-evidence"

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class _Offered:
    name: str
    data: bytes
    info: InspectedFile
    parent: int | None = None  # for an email's attachment: the email's place in the batch
    mail: MailMessage | None = None
    refusals: tuple[str, ...] = ()  # attachments not taken out of an email, and why
    thumbnail: bytes | None = None  # a picture's thumbnail, made from intake's decode


def _unpack_messages(offered: Sequence[_Offered], limits: IntakeLimits) -> list[_Offered]:
    """Each email read, and its attachments offered after it through the same checks.

    An attachment intake refuses is named with the reason and stays inside the stored
    email; the email itself is still kept. An attached email is kept and read, but its own
    attachments stay inside it (one level, so a nest of messages cannot multiply the work).
    """
    out: list[_Offered] = []
    for item in offered:
        if item.info.base_type not in MESSAGE_TYPES:
            out.append(item)
            continue
        try:
            mail = _read_mail(item)
        except EvidenceRejected as error:
            # Kept exactly as it arrived all the same: a message this reader cannot open
            # is still evidence, and it is never opened anywhere else.
            note = f"Its headers, text and attachments could not be read: {error.message}"
            out.append(replace(item, refusals=(note,)))
            continue
        parent = len(out)
        refusals = list(mail.skipped)
        children = []
        for attachment in mail.attachments:
            try:
                info = inspect_bytes(attachment.data, attachment.name, limits)
            except EvidenceRejected as error:
                refusals.append(error.message)
                continue
            child = _Offered(attachment.name, attachment.data, info, parent=parent)
            if info.base_type in MESSAGE_TYPES:
                try:
                    child = replace(child, mail=_read_mail(child))
                except EvidenceRejected as error:
                    child = replace(child, refusals=(error.message,))
            children.append(child)
        out.append(replace(item, mail=mail, refusals=tuple(refusals)))
        out.extend(children)
    return out


def _read_mail(item: _Offered) -> MailMessage:
    shown = display_name(item.name)
    if item.info.base_type == EMAIL:
        return read_email(item.data, shown)
    return read_outlook(item.data, shown)


def _custody_json(hops: Sequence[CustodyHop]) -> list[dict[str, str]]:
    return [
        {
            "from": h.from_person,
            "to": h.to_person,
            "on": h.on.isoformat() if h.on else "",
            "means": h.means,
        }
        for h in hops
    ]


def _custody_from(raw: Any) -> tuple[CustodyHop, ...]:
    hops = []
    for hop in raw or []:
        try:
            on = date.fromisoformat(hop["on"]) if hop.get("on") else None
        except (TypeError, ValueError):
            on = None
        hops.append(
            CustodyHop(
                str(hop.get("from", "")), str(hop.get("to", "")), on, str(hop.get("means", ""))
            )
        )
    return tuple(hops)


def _suggestions_from(raw: Any) -> tuple[Suggestion, ...]:
    found = []
    for item in raw or []:
        try:
            x, y, w, h = (int(v) for v in item["box"])
            found.append(
                Suggestion(
                    id=int(item["id"]),
                    kind=str(item["kind"]),
                    label=str(item.get("label", "")),
                    page=int(item.get("page", 0)),
                    box=(x, y, w, h),
                    state=str(item.get("state", "pending")),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(found)


def _describe(info: InspectedFile) -> str:
    label = TYPE_LABELS.get(info.base_type, info.base_type)
    parts = [label]
    if info.width and info.height:
        parts.append(f"{info.width}×{info.height}")
    if info.page_count:
        parts.append(f"{info.page_count} page{'s' if info.page_count != 1 else ''}")
    parts.append(format_size(info.size))
    return ", ".join(parts)


def exhibit_from_record(record: EvidenceRecord) -> Exhibit:
    """The DTO for one evidence row."""
    meta: dict[str, Any] = json.loads(record.metadata_json or "{}")
    return Exhibit(
        id=record.id,
        case_id=record.case_id,
        number=record.number,
        kind=EvidenceKind(record.kind),
        parent_id=record.parent_id,
        original_name=record.original_name,
        content_type=record.content_type,
        size=record.size,
        width=record.width,
        height=record.height,
        page_count=record.page_count,
        sha256=record.sha256,
        details=EvidenceDetails(
            captured_at=record.captured_at,
            captured_by=record.captured_by,
            source=record.source,
            post_url=record.post_url,
            posted_at=record.posted_at,
            note=record.note,
            received_via=str(meta.get("received_via", "")),
            custody=_custody_from(meta.get("custody")),
        ),
        added_by=record.added_by,
        added_at=record.added_at,
        exif=tuple((str(k), str(v)) for k, v in meta.get("exif", [])),
        has_location=bool(meta.get("has_location", False)),
        text_note=str(meta.get("text_note", "")),
        # Redacted copies made before copies had a recipient were made for the author.
        redacted_for=str(meta.get("redacted_for", "author"))
        if record.kind == EvidenceKind.REDACTED.value
        else "",
        text_state=record.text_state or "",
        reading_note=str(meta.get("reading_note", "")),
        protected_names=tuple(
            (str(p.get("name", "")), str(p.get("kind", ""))) for p in meta.get("protected", [])
        ),
        suggestions=_suggestions_from(meta.get("suggestions")),
        email_headers=tuple((str(k), str(v)) for k, v in meta.get("email", [])),
    )


def _details_for(
    given: EvidenceDetails, mail: MailMessage | None, parent_mail: MailMessage | None
) -> EvidenceDetails:
    """Capture details for one file: what was typed, with an email's headers filling gaps
    (who sent it, how, and when); an attachment takes them from its email."""
    source_mail = mail or parent_mail
    if source_mail is None:
        return given
    note = given.note
    if mail is None and parent_mail is not None and parent_mail.subject:
        note = note or f"Attachment of the email “{parent_mail.subject}”."
    return replace(
        given,
        source=given.source or source_mail.sender,
        received_via=given.received_via or "email",
        captured_at=given.captured_at or source_mail.sent_at,
        note=note,
    )


def _words_at_intake(item: _Offered) -> tuple[str, str]:
    """(text, state) known at intake: text files and emails are read at once; pictures
    and PDFs are read afterwards on a worker (``EvidenceReading.read_pending``)."""
    if item.mail is not None:
        return item.mail.searchable_text(), TEXT_READ
    base = item.info.base_type
    if base == "text/plain":
        decoded = decode_text(item.data)
        return (decoded[0][:200_000] if decoded else ""), TEXT_READ
    if item.info.is_image or base == PDF:
        return "", TEXT_PENDING
    return "", ""


def check_details(details: EvidenceDetails, now: Any) -> EvidenceDetails:
    """Return cleaned details or raise ``ValidationError`` with one sentence."""
    for moment, label in ((details.captured_at, "capture"), (details.posted_at, "posting")):
        if moment is not None and moment > now:
            raise ValidationError(f"The date of {label} cannot be in the future.")
    return EvidenceDetails(
        captured_at=details.captured_at,
        captured_by=clean_text(details.captured_by, "name of who captured it", 500),
        source=clean_text(details.source, "source", 2000, multiline=True),
        post_url=check_url(details.post_url),
        posted_at=details.posted_at,
        note=clean_text(details.note, "note", 20_000, multiline=True),
        received_via=clean_text(details.received_via, "how it was received", 200),
        custody=tuple(
            CustodyHop(
                clean_text(h.from_person, "who forwarded it", 500),
                clean_text(h.to_person, "who it was forwarded to", 500),
                _not_future(h.on, now),
                clean_text(h.means, "how it was forwarded", 200),
            )
            for h in details.custody
        ),
    )


def _not_future(day: date | None, now: Any) -> date | None:
    if day is not None and day > now.date():
        raise ValidationError("The date a piece of evidence was forwarded cannot be in the future.")
    return day


# Checking a picture decodes all of it, and Pillow lets go of the interpreter lock while it
# decodes, so several offered files are checked at once (each holds its pixels only while
# it is checked).
INSPECT_THREADS = 4


def _given(data: bytes) -> bytes:
    return data


def _thumbnail_into(made: list[bytes], image: Any) -> None:
    """Keep a thumbnail of a picture intake has just decoded (none when it cannot be
    made: the evidence tab makes it later from the stored file, as for older exhibits)."""
    try:
        made.append(derivatives.thumbnail_of(image))
    except (OSError, ValueError) as error:
        log.info("No thumbnail at intake (%s); it is made when first shown", type(error).__name__)


def _inspect_all(
    items: Sequence[tuple[str, Callable[[], bytes]]],
    limits: IntakeLimits,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> list[_Offered]:
    """Read and inspect every offered item, in order; the first refusal (in the order
    offered) stops the lot, as does a cancel."""

    def inspect(item: tuple[str, Callable[[], bytes]]) -> _Offered:
        name, read = item
        if cancelled is not None and cancelled():
            raise OperationCancelled("Adding evidence was stopped; nothing was added.")
        data = read()
        made: list[bytes] = []
        info = inspect_bytes(data, name, limits, partial(_thumbnail_into, made))
        return _Offered(name, data, info, thumbnail=made[0] if made else None)

    total = len(items)
    workers = max(1, min(INSPECT_THREADS, os.cpu_count() or 1, total))
    inspected: list[_Offered] = []
    pool = ThreadPoolExecutor(workers, thread_name_prefix="evidence-intake")
    try:
        for index, offered in enumerate(pool.map(inspect, items)):
            if cancelled is not None and cancelled():
                raise OperationCancelled("Adding evidence was stopped; nothing was added.")
            inspected.append(offered)
            if progress is not None:
                progress(index + 1, total * 2)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return inspected


class EvidenceService:
    """Exhibits of a case: intake, listing, integrity checks, copies and redaction."""

    def __init__(self, ctx: ServiceContext, store: BlobStorage) -> None:
        self.ctx = ctx
        self.store = store

    # ----- settings ---------------------------------------------------------------------

    def limits(self) -> IntakeLimits:
        """The intake limits, with the file size limit from the settings when set."""
        with self.ctx.sessions() as session:
            value = session.get(SettingRecord, MAX_SIZE_SETTING)
        if value is None:
            return IntakeLimits()
        try:
            return IntakeLimits(max_bytes=max(1, int(value.value)))
        except ValueError:
            log.warning("Ignoring unreadable %s setting %r", MAX_SIZE_SETTING, value.value)
            return IntakeLimits()

    def set_max_file_size(self, max_bytes: int) -> None:
        """Change the largest file accepted as one piece of evidence."""
        if max_bytes < 1024:
            raise ValidationError("The evidence size limit must be at least 1 KB.")
        with self.ctx.sessions.begin() as session:
            session.merge(SettingRecord(key=MAX_SIZE_SETTING, value=str(max_bytes)))

    # ----- intake -----------------------------------------------------------------------

    def read_file(self, path: Path, limits: IntakeLimits | None = None) -> bytes:
        """Read a file offered as evidence, refusing clearly when it cannot be read."""
        limits = limits or self.limits()
        shown = display_name(path.name)
        try:
            if not path.is_file():
                raise EvidenceRejected(f"{shown} is not a file that can be read.")
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise EvidenceRejected(
                    f"{shown} is {format_size(size)}, larger than the limit of "
                    f"{format_size(limits.max_bytes)} for one piece of evidence."
                )
            with open(path, "rb") as handle:
                return handle.read(limits.max_bytes + 1)
        except OSError as error:
            log.info("Could not read a file chosen as evidence: %s", error.strerror)
            raise EvidenceRejected(
                f"{shown} could not be read ({error.strerror or 'read error'})."
            ) from None

    def add_files(
        self,
        case_id: int,
        paths: Sequence[Path],
        details: EvidenceDetails | None = None,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> list[AddedEvidence]:
        """Add files to a case as exhibits; if any is refused, none is added."""
        limits = self.limits()
        inspected = _inspect_all(
            [(path.name, partial(self.read_file, path, limits)) for path in paths],
            limits,
            progress,
            cancelled,
        )
        inspected = _unpack_messages(inspected, limits)
        return self._store(case_id, inspected, details, progress, cancelled)

    def add_bytes(
        self,
        case_id: int,
        items: Sequence[tuple[str, bytes]],
        details: EvidenceDetails | None = None,
        *,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> list[AddedEvidence]:
        """Add content held in memory (a pasted picture or text) under the given names."""
        limits = self.limits()
        inspected = _inspect_all(
            [(name, partial(_given, data)) for name, data in items], limits, progress, cancelled
        )
        inspected = _unpack_messages(inspected, limits)
        return self._store(case_id, inspected, details, progress, cancelled)

    def _store(
        self,
        case_id: int,
        offered: Sequence[_Offered],
        details: EvidenceDetails | None,
        progress: Progress | None,
        cancelled: Cancelled | None,
    ) -> list[AddedEvidence]:
        if not offered:
            raise ValidationError("Please choose at least one file to add as evidence.")
        self.ctx.require(
            Permission.EDIT_CASES,
            case_id=case_id,
            action="add evidence",
            detail=", ".join(o.name for o in offered)[:500],
        )
        clean = check_details(details or EvidenceDetails(), self.ctx.now())
        with self.ctx.sessions() as session:
            if session.get(CaseRecord, case_id) is None:
                raise NotFoundError("That case no longer exists.")
            sealed = case_is_sealed(session, case_id)
        if cancelled is not None and cancelled():
            raise OperationCancelled("Adding evidence was stopped; nothing was added.")
        # Every blob (originals, then the thumbnails made at intake) is durable before the
        # transaction that refers to them begins: a power cut never leaves a record
        # without its file. ``put_all`` makes them durable together, not one by one.
        thumbnails = [item.thumbnail for item in offered if item.thumbnail is not None]
        blobs = self.store.put_all([item.data for item in offered] + thumbnails, sealed=sealed)
        created = [blob.sha256 for blob in blobs if blob.created]
        try:
            if progress is not None:
                progress(len(offered) * 2, len(offered) * 2)
            if cancelled is not None and cancelled():
                raise OperationCancelled("Adding evidence was stopped; nothing was added.")
            hashes = [blob.sha256 for blob in blobs[: len(offered)]]
            thumbs = iter(blobs[len(offered) :])
            thumb_hashes = [
                next(thumbs).sha256 if item.thumbnail is not None else None for item in offered
            ]
            with self.ctx.sessions.begin() as session:
                results = self._insert_rows(session, case_id, offered, hashes, clean, thumb_hashes)
            return results
        except BaseException:
            for sha in created:
                self.store.drop_copy(sha, sealed=sealed)
            raise

    def _insert_rows(
        self,
        session: Session,
        case_id: int,
        offered: Sequence[_Offered],
        hashes: Sequence[str],
        details: EvidenceDetails,
        thumb_hashes: Sequence[str | None],
    ) -> list[AddedEvidence]:
        case = session.get(CaseRecord, case_id)
        if case is None:
            raise NotFoundError("That case no longer exists.")
        now = self.ctx.now()
        number = (
            session.scalar(
                select(func.max(EvidenceRecord.number)).where(
                    EvidenceRecord.case_id == case_id,
                    EvidenceRecord.kind == EvidenceKind.ORIGINAL.value,
                )
            )
            or 0
        )
        # Rows this case already holds for the offered content: one query, not one a file.
        already: dict[str, EvidenceRecord] = {}
        for existing in session.scalars(
            select(EvidenceRecord)
            .where(
                EvidenceRecord.case_id == case_id,
                EvidenceRecord.sha256.in_(sorted(set(hashes))),
                EvidenceRecord.kind == EvidenceKind.ORIGINAL.value,
            )
            .order_by(EvidenceRecord.id.desc())
        ):
            already[existing.sha256] = existing  # the oldest wins, as one by one
        # Every row is added first and written in one flush; the chronology entries, which
        # name each row's id, follow. (Flushing row by row cost a third of an import.)
        placed: dict[int, EvidenceRecord] = {}  # batch position -> its row (for attachments)
        duplicate: set[int] = set()
        for position, (item, sha) in enumerate(zip(offered, hashes, strict=True)):
            if sha in already:
                placed[position] = already[sha]
                duplicate.add(position)
                continue
            number += 1
            info = item.info
            parent = placed.get(item.parent) if item.parent is not None else None
            if parent is not None and parent.id is None:
                session.flush()  # an attachment names its email's row
            mail = item.mail
            item_details = _details_for(
                details, mail, offered[item.parent].mail if item.parent is not None else None
            )
            meta: dict[str, Any] = {
                "exif": [list(pair) for pair in info.exif],
                "has_location": info.has_location,
                "text_note": info.text_note,
            }
            if item_details.received_via:
                meta["received_via"] = item_details.received_via
            if item_details.custody:
                meta["custody"] = _custody_json(item_details.custody)
            if mail is not None:
                meta["email"] = [list(pair) for pair in mail.header_pairs()]
            words, state = _words_at_intake(item)
            record = EvidenceRecord(
                case_id=case_id,
                number=number,
                kind=EvidenceKind.ORIGINAL.value,
                parent_id=parent.id if parent is not None else None,
                original_name=display_name(item.name),
                content_type=info.content_type,
                size=info.size,
                width=info.width,
                height=info.height,
                page_count=info.page_count,
                sha256=sha,
                captured_at=item_details.captured_at,
                captured_by=item_details.captured_by,
                source=item_details.source,
                post_url=item_details.post_url,
                posted_at=item_details.posted_at,
                note=item_details.note,
                metadata_json=json.dumps(meta, ensure_ascii=False),
                added_by=self.ctx.actor,
                added_at=now,
                extracted_text=words,
                text_state=state,
            )
            session.add(record)
            placed[position] = record
            already[sha] = record  # the same file twice in one batch is added once
        session.flush()
        results: list[AddedEvidence] = []
        for position, item in enumerate(offered):
            record = placed[position]
            if position in duplicate:
                results.append(AddedEvidence(exhibit_from_record(record), duplicate=True))
                continue
            sha, info, mail = record.sha256, item.info, item.mail
            number = record.number
            parent = placed.get(item.parent) if item.parent is not None else None
            thumbnail, thumb_sha = item.thumbnail, thumb_hashes[position]
            if thumbnail is not None and thumb_sha is not None:
                session.add(
                    self._derivative_record(
                        record,
                        EvidenceKind.THUMBNAIL,
                        thumb_sha,
                        thumbnail,
                        "image/png",
                        f"thumbnail of {record.original_name}",
                        None,
                        None,
                    )
                )
            location = " It carries a GPS location." if info.has_location else ""
            came = ""
            if parent is not None:
                came = f" It came attached to exhibit {parent.number}."
            elif mail is not None and mail.sender:
                came = f" Email from {mail.sender}."
            add_event(
                session,
                case,
                self.ctx,
                "evidence_added",
                f"Exhibit {number} added: {record.original_name} ({_describe(info)})."
                f"{location}{came}",
                {"evidence_id": record.id, "sha256": sha, "number": number},
            )
            if item.refusals:
                add_event(
                    session,
                    case,
                    self.ctx,
                    "evidence_attachment_refused",
                    (
                        f"Exhibit {number} is kept as it arrived. " + " ".join(item.refusals)
                        if mail is None
                        else f"Attachments of exhibit {number} not kept as exhibits (they "
                        "stay inside the email as it arrived): " + " ".join(item.refusals)
                    ),
                    {"evidence_id": record.id},
                )
            results.append(AddedEvidence(exhibit_from_record(record), duplicate=False))
        added = [r.exhibit.label for r in results if not r.duplicate]
        if added:
            tick_rule(session, self.ctx, case, CAPTURE_EVIDENCE, ", ".join(added))
        if any(not r.duplicate and r.exhibit.text_state == TEXT_READ for r in results):
            index_case_evidence(session, case_id)
        return results

    # ----- reading ----------------------------------------------------------------------

    def list_evidence(self, case_id: int, *, include_copies: bool = False) -> list[Exhibit]:
        """The case's exhibits in number order (copies after their original when asked)."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        kinds = [EvidenceKind.ORIGINAL.value]
        if include_copies:
            kinds += [EvidenceKind.REDACTED.value, EvidenceKind.STRIPPED.value]
        with self.ctx.sessions() as session:
            rows = session.scalars(
                select(EvidenceRecord)
                .where(EvidenceRecord.case_id == case_id, EvidenceRecord.kind.in_(kinds))
                .order_by(EvidenceRecord.number, EvidenceRecord.id)
            ).all()
            return [exhibit_from_record(r) for r in rows]

    def get(self, exhibit_id: int) -> Exhibit:
        """One exhibit by id."""
        with self.ctx.sessions() as session:
            exhibit = exhibit_from_record(self._load(session, exhibit_id))
        self.ctx.require(Permission.VIEW_CASES, case_id=exhibit.case_id)
        return exhibit

    def _load(self, session: Session, exhibit_id: int) -> EvidenceRecord:
        record = session.get(EvidenceRecord, exhibit_id)
        if record is None:
            raise NotFoundError("That piece of evidence no longer exists.")
        return record

    def content(self, exhibit_id: int) -> bytes:
        """The stored bytes of an exhibit, exactly as received."""
        exhibit = self.get(exhibit_id)
        self.ctx.require(
            Permission.VIEW_CASES,
            case_id=exhibit.case_id,
            action="view exhibit",
            detail=exhibit.label,
        )
        try:
            return self.store.read_bytes(exhibit.sha256)
        except OSError:
            raise EvidenceRejected(
                f"The stored file for {exhibit.label} is missing; "
                "run “Verify integrity” and restore from a backup."
            ) from None
        except BlobDamagedError:
            log.warning("Exhibit %s does not open with the data key", exhibit_id)
            raise EvidenceRejected(
                f"The stored file for {exhibit.label} is damaged: it has changed since it was "
                "stored; run “Verify integrity” and restore from a backup."
            ) from None

    def redacted_copies(self, exhibit_id: int, for_audience: str | None = None) -> list[Exhibit]:
        """Redacted copies made from an original (only those for ``for_audience``, a
        recipient id or ``person:<id>``, when given), oldest first."""
        with self.ctx.sessions() as session:
            rows = session.scalars(
                select(EvidenceRecord)
                .where(
                    EvidenceRecord.parent_id == exhibit_id,
                    EvidenceRecord.kind == EvidenceKind.REDACTED.value,
                )
                .order_by(EvidenceRecord.id)
            ).all()
            copies = [exhibit_from_record(r) for r in rows]
        if for_audience is not None:
            copies = [c for c in copies if c.redacted_for == for_audience]
        return copies

    # ----- copies -----------------------------------------------------------------------

    def _derivative_record(
        self,
        parent: EvidenceRecord,
        kind: EvidenceKind,
        sha: str,
        data: bytes,
        content_type: str,
        name: str,
        width: int | None,
        height: int | None,
        meta: dict[str, str] | None = None,
    ) -> EvidenceRecord:
        return EvidenceRecord(
            case_id=parent.case_id,
            number=parent.number,
            kind=kind.value,
            parent_id=parent.id,
            original_name=name,
            content_type=content_type,
            size=len(data),
            width=width,
            height=height,
            page_count=parent.page_count
            if kind is EvidenceKind.STRIPPED or content_type == PDF
            else None,
            sha256=sha,
            captured_at=parent.captured_at,
            captured_by=parent.captured_by,
            source=parent.source,
            post_url=parent.post_url,
            posted_at=parent.posted_at,
            note="",
            metadata_json=json.dumps(meta or {}),
            added_by=self.ctx.actor,
            added_at=self.ctx.now(),
        )

    def _store_derivative(
        self,
        parent_id: int,
        kind: EvidenceKind,
        data: bytes,
        content_type: str,
        name: str,
        size: tuple[int, int] | None,
        event: str | None = None,
        meta: dict[str, str] | None = None,
    ) -> Exhibit:
        with self.ctx.sessions() as session:
            parent_case = session.scalar(
                select(EvidenceRecord.case_id).where(EvidenceRecord.id == parent_id)
            )
            sealed = case_is_sealed(session, parent_case)
        blob = self.store.put_bytes(data, sealed=sealed)
        try:
            with self.ctx.sessions.begin() as session:
                parent = self._load(session, parent_id)
                width, height = size if size else (None, None)
                record = self._derivative_record(
                    parent, kind, blob.sha256, data, content_type, name, width, height, meta
                )
                session.add(record)
                session.flush()  # its id goes into the event below
                if event is not None:
                    case = session.get(CaseRecord, parent.case_id)
                    assert case is not None
                    add_event(
                        session,
                        case,
                        self.ctx,
                        f"evidence_{kind.value}",
                        event,
                        {"evidence_id": record.id, "parent_id": parent.id, "sha256": blob.sha256},
                    )
                return exhibit_from_record(record)
        except BaseException:
            if blob.created:
                self.store.drop_copy(blob.sha256, sealed=sealed)
            raise

    def _existing_copy(self, parent_id: int, kind: EvidenceKind) -> Exhibit | None:
        with self.ctx.sessions() as session:
            record = session.scalar(
                select(EvidenceRecord)
                .where(EvidenceRecord.parent_id == parent_id, EvidenceRecord.kind == kind.value)
                .order_by(EvidenceRecord.id.desc())
                .limit(1)
            )
            return exhibit_from_record(record) if record is not None else None

    def kept_thumbnails(self, exhibit_ids: Sequence[int]) -> dict[int, bytes]:
        """The thumbnails already made of these exhibits, by exhibit id, read with one
        query; those not made yet, missing or damaged are left out (``thumbnail`` makes
        them). Safe to call from a worker thread."""
        if not exhibit_ids:
            return {}
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(EvidenceRecord.parent_id, EvidenceRecord.sha256, EvidenceRecord.case_id)
                .where(
                    EvidenceRecord.parent_id.in_(list(exhibit_ids)),
                    EvidenceRecord.kind == EvidenceKind.THUMBNAIL.value,
                )
                .order_by(EvidenceRecord.id)
            ).all()
        for case_id in {row.case_id for row in rows}:
            self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        newest = {row.parent_id: row.sha256 for row in rows}  # the last made wins
        kept: dict[int, bytes] = {}
        for exhibit_id, sha in newest.items():
            data = read_intact(self.store, sha)
            if data is not None:
                kept[exhibit_id] = data
        return kept

    def thumbnail(self, exhibit_id: int) -> bytes | None:
        """A small PNG of a picture exhibit (made once, then kept); None for PDFs and text.

        Safe to call from a worker thread: it opens its own sessions.
        """
        exhibit = self.get(exhibit_id)
        if not exhibit.is_image:
            return None
        existing = self._existing_copy(exhibit_id, EvidenceKind.THUMBNAIL)
        kept = read_intact(self.store, existing.sha256) if existing is not None else None
        if kept is not None:
            return kept
        data = derivatives.make_thumbnail(self.content(exhibit_id))
        self._store_derivative(
            exhibit_id,
            EvidenceKind.THUMBNAIL,
            data,
            "image/png",
            f"thumbnail of {exhibit.original_name}",
            None,
        )
        return data

    def redact(
        self, exhibit_id: int, boxes: Sequence[Box], for_audience: str = "author"
    ) -> Exhibit:
        """Save a redacted copy of a picture for one recipient (``author``, ``lado``,
        ``platform`` or ``person:<id>``): opaque boxes burnt into a new flattened image."""
        audience = check_audience(for_audience)
        exhibit = self.get(exhibit_id)
        original = exhibit
        if exhibit.kind is EvidenceKind.REDACTED and exhibit.parent_id is not None:
            original = self.get(exhibit.parent_id)
        elif exhibit.kind is not EvidenceKind.ORIGINAL:
            raise ValidationError("Only an original exhibit or a redacted copy can be redacted.")
        if not (exhibit.is_image or exhibit.is_pdf):
            raise ValidationError(
                f"{exhibit.label} is not a picture or a PDF; only those can be redacted here."
            )
        if not boxes:
            raise ValidationError("Please draw at least one box over what should be hidden.")
        self.ctx.require(
            Permission.EDIT_CASES,
            case_id=exhibit.case_id,
            action="redact exhibit",
            detail=exhibit.label,
        )
        self._check_intact(exhibit)
        count = len(boxes)
        stem = original.original_name.rsplit(".", 1)[0]
        content_type, suffix = "image/png", "png"
        size: tuple[int, int] | None
        if exhibit.is_pdf:
            # Pages with boxes become pictures with the boxes burnt in (nothing under them).
            from app.evidence.pdf_redaction import redacted_pdf

            try:
                data, _flattened = redacted_pdf(self.content(exhibit.id), boxes)
            except ValueError:
                raise ValidationError("A box is on a page this PDF does not have.") from None
            content_type, suffix, size = PDF, "pdf", None
        else:
            data, size = derivatives.redacted_copy(self.content(exhibit.id), boxes)
        return self._store_derivative(
            original.id,
            EvidenceKind.REDACTED,
            data,
            content_type,
            f"{stem} (redacted).{suffix}",
            size,
            event=(
                f"Redacted copy of exhibit {original.number} saved "
                f"({count} area{'s' if count != 1 else ''} hidden); the original is unchanged. "
                f"Made for {audience_label(audience)}."
            ),
            meta={"redacted_for": audience},
        )

    def _check_intact(self, exhibit: Exhibit) -> None:
        actual = self.store.hash_of_stored(exhibit.sha256)
        if actual != exhibit.sha256:
            state = "is missing" if actual is None else "has been changed since it was stored"
            raise EvidenceRejected(
                f"The stored file for {exhibit.label} {state}, so no copy can be made from it."
            )

    def exported_copy(self, exhibit_id: int, redacted: bool) -> bytes:
        """Bytes fit to leave the app (letters, bundles, export): no EXIF, GPS or metadata.

        With ``redacted`` the newest redacted copy is used, and one must exist.
        """
        exhibit = self.get(exhibit_id)
        self.ctx.require(
            Permission.VIEW_CASES,
            case_id=exhibit.case_id,
            action="export exhibit",
            detail=exhibit.label + (" (redacted)" if redacted else ""),
        )
        source = exhibit
        if redacted and exhibit.kind is not EvidenceKind.REDACTED:
            copies = self.redacted_copies(exhibit.parent_id or exhibit.id)
            if not copies:
                raise ValidationError(
                    f"{exhibit.label} has no redacted copy yet; please redact it first."
                )
            source = copies[-1]
        self._check_intact(source)
        existing = self._existing_copy(source.id, EvidenceKind.STRIPPED)
        kept = read_intact(self.store, existing.sha256) if existing is not None else None
        if kept is None:
            kept, content_type = derivatives.stripped_copy(
                self.content(source.id), source.content_type
            )
            self._store_derivative(
                source.id,
                EvidenceKind.STRIPPED,
                kept,
                content_type,
                f"{source.original_name} (without metadata)",
                (source.width, source.height) if source.width and source.height else None,
            )
        if source.is_pdf:
            # Copies stored before the sanitiser existed are made safe on the way out too.
            from app.pdf.sanitise import sanitise_pdf

            return sanitise_pdf(kept)
        return kept

    def printable_copy(self, exhibit_id: int) -> bytes:
        """A picture exhibit as a JPEG for a printed document such as the case file:
        upright, at print size and without metadata (derivatives.printable_copy).

        The stored file is read once (checked against its fingerprint as it is read) and
        decoded at most once; nothing is stored, so a document leaves no new files behind.
        """
        exhibit = self.get(exhibit_id)
        self.ctx.require(
            Permission.VIEW_CASES,
            case_id=exhibit.case_id,
            action="export exhibit",
            detail=exhibit.label,
        )
        data = read_intact(self.store, exhibit.sha256)  # the stores check the hash as they read
        if data is None:
            self._check_intact(exhibit)  # names what is wrong: missing or changed
            raise EvidenceRejected(f"The stored file for {exhibit.label} cannot be read.")
        return derivatives.printable_copy(data)

    # ----- integrity --------------------------------------------------------------------

    def verify(self, case_id: int | None = None) -> IntegrityReport:
        """Re-hash every original and redacted copy (of one case, or all) against its record."""
        self.ctx.require(Permission.VIEW_CASES, case_id=case_id)
        with self.ctx.sessions() as session:
            query = (
                select(EvidenceRecord, CaseRecord.reference)
                .join(CaseRecord, CaseRecord.id == EvidenceRecord.case_id)
                .where(
                    EvidenceRecord.kind.in_(
                        [EvidenceKind.ORIGINAL.value, EvidenceKind.REDACTED.value]
                    )
                )
                .order_by(CaseRecord.reference, EvidenceRecord.number, EvidenceRecord.id)
            )
            if case_id is not None:
                query = query.where(EvidenceRecord.case_id == case_id)
            rows = [(exhibit_from_record(r), ref) for r, ref in session.execute(query).all()]
        findings = []
        for exhibit, reference in rows:
            actual = self.store.hash_of_stored(exhibit.sha256)
            if actual == exhibit.sha256:
                continue
            problem = "missing" if actual is None else "changed"
            log.warning("Integrity: %s %s is %s", reference, exhibit.label, problem)
            findings.append(
                IntegrityFinding(
                    exhibit_id=exhibit.id,
                    case_reference=reference,
                    label=exhibit.label,
                    original_name=exhibit.original_name,
                    problem=problem,
                )
            )
        return IntegrityReport(checked=len(rows), findings=tuple(findings))

    def sweep(self) -> list[str]:
        """Remove temporary files and blobs no record refers to (run at start-up only)."""
        with self.ctx.sessions() as session:
            referenced = referenced_blob_hashes(session)
        return self.store.sweep(referenced)


def sha256_of(data: bytes) -> str:
    """The SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def describe_exhibit(exhibit: Exhibit) -> dict[str, Any]:
    """Plain, stable field names for ``evidence list --json``."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": exhibit.id,
        "number": exhibit.number,
        "kind": exhibit.kind.value,
        "parent_id": exhibit.parent_id,
        "original_name": exhibit.original_name,
        "content_type": exhibit.content_type,
        "size": exhibit.size,
        "width": exhibit.width,
        "height": exhibit.height,
        "page_count": exhibit.page_count,
        "sha256": exhibit.sha256,
        "captured_at": iso(exhibit.details.captured_at),
        "captured_by": exhibit.details.captured_by,
        "source": exhibit.details.source,
        "post_url": exhibit.details.post_url,
        "posted_at": iso(exhibit.details.posted_at),
        "note": exhibit.details.note,
        "added_by": exhibit.added_by,
        "added_at": iso(exhibit.added_at),
        "has_location": exhibit.has_location,
        "exif": dict(exhibit.exif),
        "added_at_display": format_date_time(exhibit.added_at),
    }
