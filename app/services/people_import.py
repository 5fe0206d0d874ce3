"""Importing pupils and contacts from the school's MIS: preview, import, undo.

An import is planned against the people already recorded before anything is written: each
pupil or contact of the file is matched on its MIS id, else on name and postcode; a near
match (same surname at the same postcode, a name spelt a little differently, the same name
at another postcode) goes to a review list instead of being guessed. The preview gives the
counts; the import writes everything in one transaction and records what it changed, so the
latest import can be undone as a whole. People already linked to cases keep their links.

Importing needs the head teacher's (DSL's) role: the file must be matched against people
only safeguarding cases name, whose details only that role can open.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.models import (
    CasePersonRecord,
    FamilyLinkRecord,
    LetterRecord,
    PersonImportChangeRecord,
    PersonImportRecord,
    PersonRecord,
    SettingRecord,
    SubjectAccessRequestRecord,
)
from app.db.sealing import Unreadable
from app.domain.access import Permission
from app.domain.errors import NotFoundError, ValidationError
from app.domain.mis_import import (
    Field,
    ParsedFile,
    ParsedPerson,
    heading_key,
    mapping_signature,
    parse_people,
    usable,
)
from app.domain.people import PersonKind, name_key
from app.domain.records import Person, PersonDraft, draft_of
from app.services.context import ServiceContext
from app.services.listing import refresh_cases_of_person
from app.services.people import person_from_record, write_person

MAPPING_SETTING = "people_import.mapping."
NEAR_RATIO = 0.88

# A decision on a row of the review list: add as a new person, merge into this person, or
# leave out of this import.
NEW = "new"
SKIP = "skip"
Decision = int | str


@dataclass(frozen=True)
class ReviewItem:
    """A pupil or contact of the file that may be someone already recorded."""

    key: str
    line: int
    name: str
    kind: PersonKind
    postcode: str
    candidate_id: int
    candidate_name: str
    candidate_postcode: str
    reason: str
    decision: Decision | None = None  # None: not decided yet, so left out of the import


@dataclass(frozen=True)
class ImportPreview:
    """What an import would do (or did): counts, and the rows a person should look at."""

    file_name: str
    system: str
    encoding: str
    rows: int
    pupils: int
    contacts: int
    new: int
    updated: int
    unchanged: int
    to_review: int
    skipped: int
    links_new: int
    review: tuple[ReviewItem, ...] = ()
    ignored_columns: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """The counts by name, as the CLI's JSON and the import record give them."""
        return {
            "rows": self.rows,
            "pupils": self.pupils,
            "contacts": self.contacts,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "to_review": self.to_review,
            "skipped": self.skipped,
            "links_new": self.links_new,
        }


@dataclass(frozen=True)
class ImportResult:
    """An import written: its number (None when nothing changed) and its counts."""

    import_id: int | None
    preview: ImportPreview


@dataclass(frozen=True)
class ImportInfo:
    """One past import, as the import screen lists them."""

    id: int
    at: datetime
    by: str
    file_name: str
    system: str
    counts: dict[str, int]
    undone_at: datetime | None


@dataclass(frozen=True)
class UndoResult:
    """What undoing an import did."""

    import_id: int
    removed: int  # people the import added, removed again
    restored: int  # people the import changed, back as they were
    kept: int  # left as they are: now on a case, or changed again since


@dataclass
class _Plan:
    new: list[ParsedPerson] = field(default_factory=list)
    updates: list[tuple[ParsedPerson, PersonRecord, PersonDraft]] = field(default_factory=list)
    unchanged: dict[str, int] = field(default_factory=dict)  # key -> person id
    review: list[ReviewItem] = field(default_factory=list)
    skipped: int = 0
    merged: dict[str, int] = field(default_factory=dict)  # key -> person id (updated)
    links_new: list[tuple[str, str, str]] = field(default_factory=list)


def _overlay(current: PersonDraft, parsed: ParsedPerson) -> PersonDraft:
    """The current details with what the file gives put over them."""
    changes = {name: getattr(parsed.draft, name) for name in parsed.provided}
    if current.kind not in (PersonKind.PARENT, PersonKind.CARER, PersonKind.PUPIL):
        changes.pop("kind", None)  # a member of staff who is also a parent stays staff
    return replace(current, **changes)


def _is_pupil(kind: PersonKind) -> bool:
    return kind is PersonKind.PUPIL


class PeopleImportService:
    """Pupils and contacts from the MIS's CSV exports."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ----- the column mapping of other CSVs ------------------------------------------------

    def remembered_mapping(self, headings: tuple[str, ...]) -> dict[str, Field] | None:
        """The matching chosen earlier for a file with these headings, if any."""
        with self.ctx.sessions() as session:
            row = session.get(SettingRecord, MAPPING_SETTING + mapping_signature(headings))
        if row is None:
            return None
        stored = json.loads(row.value)
        return {h: Field(stored.get(heading_key(h), Field.IGNORE.value)) for h in headings}

    def remember_mapping(self, headings: tuple[str, ...], mapping: Mapping[str, Field]) -> None:
        """Keep the matching of these headings for the next file that has them."""
        self.ctx.require(Permission.SAFEGUARDING)
        if not usable(dict(mapping)):
            raise ValidationError(
                "Match at least the forename and surname columns of the pupil or the contact.",
                field="mapping",
            )
        value = json.dumps(
            {heading_key(h): mapping.get(h, Field.IGNORE).value for h in headings},
            sort_keys=True,
        )
        with self.ctx.sessions.begin() as session:
            session.merge(
                SettingRecord(key=MAPPING_SETTING + mapping_signature(headings), value=value)
            )

    def read(self, data: bytes, file_name: str = "") -> ParsedFile:
        """The file read and checked (a refusal names each unreadable row)."""
        from app.domain.mis_import import read_table

        del file_name  # named in refusals by the caller
        table = read_table(data)
        return parse_people(data, self.remembered_mapping(table[1]), table=table)

    # ----- preview and import ------------------------------------------------------------

    def preview(
        self, data: bytes, file_name: str = "", decisions: Mapping[str, Decision] | None = None
    ) -> ImportPreview:
        """What importing the file would do; nothing is written."""
        self.ctx.require(Permission.SAFEGUARDING)
        parsed = self.read(data, file_name)
        with self.ctx.sessions() as session:
            plan = self._plan(session, parsed, decisions or {})
            return self._preview(parsed, plan, file_name)

    def import_file(
        self, data: bytes, file_name: str = "", decisions: Mapping[str, Decision] | None = None
    ) -> ImportResult:
        """Import the file in one transaction; rows still to review are left out."""
        self.ctx.require(Permission.SAFEGUARDING, action="import people", target=file_name)
        parsed = self.read(data, file_name)
        now = self.ctx.now()
        with self.ctx.sessions.begin() as session:
            plan = self._plan(session, parsed, decisions or {})
            preview = self._preview(parsed, plan, file_name)
            if not (plan.new or plan.updates or plan.links_new):
                return ImportResult(None, preview)
            record = PersonImportRecord(
                at=now,
                by=self.ctx.actor,
                file_name=file_name[:300],
                system=parsed.system,
                counts=json.dumps(preview.counts()),
            )
            session.add(record)
            session.flush()
            ids = dict(plan.unchanged) | dict(plan.merged)
            added: list[tuple[str, PersonRecord]] = []
            for parsed_person in plan.new:
                person = PersonRecord(created_at=now, updated_at=now)
                write_person(person, parsed_person.draft)
                session.add(person)
                added.append((parsed_person.key, person))
            session.flush()
            changes: list[PersonImportChangeRecord] = []
            for key, person in added:
                ids[key] = person.id
                changes.append(
                    PersonImportChangeRecord(
                        import_id=record.id, person_id=person.id, action="added", before="{}"
                    )
                )
            linked = set(session.scalars(select(CasePersonRecord.person_id).distinct()).all())
            for _parsed, person, merged in plan.updates:
                before = asdict(draft_of(person_from_record(person)))
                changes.append(
                    PersonImportChangeRecord(
                        import_id=record.id,
                        person_id=person.id,
                        action="updated",
                        before=json.dumps(before, ensure_ascii=False),
                    )
                )
                write_person(person, merged)
                person.updated_at = now
            session.add_all(changes)
            session.add_all(
                FamilyLinkRecord(
                    pupil_id=ids[pupil],
                    contact_id=ids[contact],
                    relationship=rel[:100],
                    import_id=record.id,
                )
                for pupil, contact, rel in plan.links_new
            )
            session.flush()
            for _parsed, person, _merged in plan.updates:
                if person.id in linked:
                    # The case list shows and searches the author's name from its own columns.
                    refresh_cases_of_person(session, person.id)
            import_id = record.id
        self.ctx.audit("imported people", file_name, json.dumps(preview.counts()))
        return ImportResult(import_id, preview)

    def _preview(self, parsed: ParsedFile, plan: _Plan, file_name: str) -> ImportPreview:
        return ImportPreview(
            file_name=file_name,
            system=parsed.system,
            encoding=parsed.encoding,
            rows=parsed.rows,
            pupils=len(parsed.pupils),
            contacts=len(parsed.contacts),
            new=len(plan.new),
            updated=len(plan.updates),
            unchanged=len(plan.unchanged),
            to_review=sum(1 for item in plan.review if item.decision is None),
            skipped=plan.skipped,
            links_new=len(plan.links_new),
            review=tuple(plan.review),
            ignored_columns=parsed.ignored,
        )

    def _plan(
        self, session: Session, parsed: ParsedFile, decisions: Mapping[str, Decision]
    ) -> _Plan:
        records = [
            r
            for r in session.scalars(select(PersonRecord)).all()
            if not isinstance(r.name_key, Unreadable)
        ]
        by_id = {r.id: r for r in records}
        people = {r.id: person_from_record(r) for r in records}
        by_mis: dict[tuple[bool, str], int] = {}
        by_name: dict[tuple[bool, str], list[int]] = {}
        by_postcode: dict[str, list[int]] = {}
        for pid, p in people.items():
            group = _is_pupil(p.kind)
            if p.mis_id:
                by_mis[(group, p.mis_id)] = pid
            by_name.setdefault((group, name_key(p.name)), []).append(pid)
            if p.postcode:
                by_postcode.setdefault(p.postcode, []).append(pid)
        existing_links = set(
            session.execute(select(FamilyLinkRecord.pupil_id, FamilyLinkRecord.contact_id)).all()
        )
        plan = _Plan()
        resolved: dict[str, int | None] = {}  # key -> person id, None for new
        for parsed_person in (*parsed.pupils, *parsed.contacts):
            draft = parsed_person.draft
            group = _is_pupil(draft.kind)
            target: int | None = None
            review: tuple[int, str] | None = None
            if draft.mis_id and (group, draft.mis_id) in by_mis:
                target = by_mis[(group, draft.mis_id)]
            else:
                target, review = self._match(draft, group, people, by_name, by_postcode)
            decision = decisions.get(parsed_person.key)
            if review is not None and target is None:
                candidate = people[review[0]]
                plan.review.append(
                    ReviewItem(
                        key=parsed_person.key,
                        line=parsed_person.line,
                        name=draft.name,
                        kind=draft.kind,
                        postcode=draft.postcode,
                        candidate_id=candidate.id,
                        candidate_name=candidate.name,
                        candidate_postcode=candidate.postcode,
                        reason=review[1],
                        decision=decision,
                    )
                )
                if decision is None:
                    continue
                if decision == SKIP:
                    plan.skipped += 1
                    continue
                if isinstance(decision, int):
                    if decision not in by_id:
                        raise NotFoundError("That person no longer exists.")
                    target = decision
            if target is None:
                plan.new.append(parsed_person)
                resolved[parsed_person.key] = None
                continue
            current = draft_of(people[target])
            merged = _overlay(current, parsed_person)
            if merged == current:
                plan.unchanged[parsed_person.key] = target
            else:
                plan.updates.append((parsed_person, by_id[target], merged))
                plan.merged[parsed_person.key] = target
            resolved[parsed_person.key] = target
        for pupil, contact, relationship in parsed.links:
            if pupil not in resolved or contact not in resolved:
                continue  # one of them is on the review list or left out
            pair = (resolved[pupil], resolved[contact])
            if None in pair or pair not in existing_links:
                plan.links_new.append((pupil, contact, relationship))
        return plan

    @staticmethod
    def _match(
        draft: PersonDraft,
        group: bool,
        people: dict[int, Person],
        by_name: dict[tuple[bool, str], list[int]],
        by_postcode: dict[str, list[int]],
    ) -> tuple[int | None, tuple[int, str] | None]:
        """(exact match, near match with its reason) for a person without a known MIS id."""
        key = name_key(draft.name)

        def other_mis(pid: int) -> bool:  # the MIS says this is someone else
            mis = people[pid].mis_id
            return bool(mis and draft.mis_id and mis != draft.mis_id)

        same_name = [pid for pid in by_name.get((group, key), []) if not other_mis(pid)]
        if group:
            exact = same_name
        else:
            exact = [pid for pid in same_name if people[pid].postcode == draft.postcode]
        if len(exact) == 1:
            return exact[0], None
        if len(exact) > 1:
            return None, (exact[0], "more than one person recorded has this name")
        if same_name:
            where = people[same_name[0]].postcode or "no postcode"
            return None, (same_name[0], f"the same name is recorded at {where}")
        if not group and draft.postcode:
            for pid in by_postcode.get(draft.postcode, []):
                if other_mis(pid) or _is_pupil(people[pid].kind):
                    continue
                if _near(draft, people[pid]):
                    return None, (pid, "a similar name is recorded at the same postcode")
        return None, None

    # ----- past imports and undo ---------------------------------------------------------

    def imports(self) -> list[ImportInfo]:
        """Past imports, newest first."""
        self.ctx.require(Permission.VIEW_CASES)
        with self.ctx.sessions() as session:
            rows = session.scalars(
                select(PersonImportRecord).order_by(PersonImportRecord.id.desc())
            ).all()
            return [
                ImportInfo(
                    id=r.id,
                    at=r.at,
                    by=r.by,
                    file_name=r.file_name,
                    system=r.system,
                    counts=json.loads(r.counts),
                    undone_at=r.undone_at,
                )
                for r in rows
            ]

    def undo_last(self) -> UndoResult:
        """Undo the latest import not yet undone: people it added go (unless a case,
        letter or request names them now), people it changed go back as they were (unless
        changed again since), and the family links it made go."""
        self.ctx.require(Permission.SAFEGUARDING, action="undo people import")
        now = self.ctx.now()
        with self.ctx.sessions.begin() as session:
            record = session.scalar(
                select(PersonImportRecord)
                .where(PersonImportRecord.undone_at.is_(None))
                .order_by(PersonImportRecord.id.desc())
                .limit(1)
            )
            if record is None:
                raise NotFoundError("There is no import to undo.")
            changes = session.scalars(
                select(PersonImportChangeRecord).where(
                    PersonImportChangeRecord.import_id == record.id
                )
            ).all()
            in_use: set[int] = set()
            for column in (
                CasePersonRecord.person_id,
                LetterRecord.person_id,
                SubjectAccessRequestRecord.person_id,
            ):
                in_use.update(i for i in session.scalars(select(column).distinct()) if i)
            session.execute(delete(FamilyLinkRecord).where(FamilyLinkRecord.import_id == record.id))
            removed = restored = kept = 0
            to_remove: list[int] = []
            for change in changes:
                person = session.get(PersonRecord, change.person_id)
                if person is None:
                    continue
                changed_since = person.updated_at > record.at
                if change.action == "added":
                    if person.id in in_use or changed_since:
                        kept += 1
                    else:
                        to_remove.append(person.id)
                    continue
                if changed_since or isinstance(change.before, Unreadable):
                    kept += 1
                    continue
                before: dict[str, Any] = json.loads(change.before)
                before["kind"] = PersonKind(before["kind"])
                before["address_lines"] = tuple(before["address_lines"])
                write_person(person, PersonDraft(**before))
                person.updated_at = now
                restored += 1
                if person.id in in_use:
                    session.flush()
                    refresh_cases_of_person(session, person.id)
            if to_remove:
                session.execute(
                    delete(PersonImportChangeRecord).where(
                        PersonImportChangeRecord.person_id.in_(to_remove)
                    )
                )
                session.execute(
                    delete(FamilyLinkRecord).where(
                        FamilyLinkRecord.pupil_id.in_(to_remove)
                        | FamilyLinkRecord.contact_id.in_(to_remove)
                    )
                )
                session.execute(delete(PersonRecord).where(PersonRecord.id.in_(to_remove)))
                removed = len(to_remove)
            record.undone_at = now
            record.undone_by = self.ctx.actor
            import_id = record.id
        return UndoResult(import_id, removed, restored, kept)

    def family(self, person_id: int) -> list[tuple[Person, str]]:
        """A pupil's contacts, or a contact's pupils, with the relationship."""
        self.ctx.require(Permission.VIEW_CASES)
        from app.services.people import visible_people

        with self.ctx.sessions() as session:
            rows = session.execute(
                select(PersonRecord, FamilyLinkRecord.relationship)
                .join(
                    FamilyLinkRecord,
                    (FamilyLinkRecord.contact_id == PersonRecord.id)
                    & (FamilyLinkRecord.pupil_id == person_id)
                    | (FamilyLinkRecord.pupil_id == PersonRecord.id)
                    & (FamilyLinkRecord.contact_id == person_id),
                )
                .where(*visible_people(self.ctx))
                .order_by(PersonRecord.contact_priority, PersonRecord.id)
            ).all()
            return [(person_from_record(r), rel) for r, rel in rows]


def _near(draft: PersonDraft, person: Person) -> bool:
    """Probably one person, living at the same postcode: the same words of the name in
    another order ('Nguyễn Thị Hồng', 'Hồng Nguyễn Thị'), a name spelt a little
    differently, or an initial for a forename ('G. Pryce-Jones', 'Gareth Pryce-Jones'). Two
    people sharing only a surname ('James Hart', 'Joanne Hart') are not."""
    mine = name_key(draft.name).replace(".", "").split()
    theirs = name_key(person.name).replace(".", "").split()
    if not mine or not theirs:
        return False
    if sorted(mine) == sorted(theirs):
        return True
    if difflib.SequenceMatcher(None, " ".join(mine), " ".join(theirs)).ratio() >= NEAR_RATIO:
        return True
    same_surname = mine[-1] == theirs[-1]
    initial = mine[0][0] == theirs[0][0] and (len(mine[0]) == 1 or len(theirs[0]) == 1)
    return same_surname and initial
