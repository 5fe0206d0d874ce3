"""Reading pupils and their contacts from the CSV exports of a school's MIS.

SIMS, Arbor and Bromcom each write a "student contacts" export with their own column
headings; the DfE's Common Basic Data Set (CBDS) names the same items in CamelCase. All of
them are read here into one shape: a row may carry a pupil, a contact, or a pupil and one
of their contacts. Headings are compared without case, spaces or punctuation, so "Legal
Surname", "LegalSurname" and "legal_surname" are one heading. Any other CSV is read through
a column mapping the school chooses once (kept by the service, keyed by the headings).

The text is decoded as the MIS writes it: UTF-8 with or without a byte-order mark, UTF-16
with one (Excel's "Unicode text"), else Windows-1252. A row that cannot be read is named by
its line number, and the whole file is refused: nothing is imported from half a file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from app.domain.errors import ValidationError
from app.domain.people import PersonKind, full_name
from app.domain.records import PersonDraft
from app.domain.validation import check_person_draft

MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
MAX_PROBLEMS_SHOWN = 20


class Field(StrEnum):
    """What a column holds, in the casebook's terms."""

    PUPIL_ID = "pupil_id"
    PUPIL_FORENAME = "pupil_forename"
    PUPIL_SURNAME = "pupil_surname"
    PUPIL_PREFERRED = "pupil_preferred_name"
    PUPIL_YEAR = "pupil_year_group"
    PUPIL_CLASS = "pupil_class"
    CONTACT_ID = "contact_id"
    CONTACT_TITLE = "contact_title"
    CONTACT_FORENAME = "contact_forename"
    CONTACT_SURNAME = "contact_surname"
    RELATIONSHIP = "contact_relationship"
    PARENTAL_RESPONSIBILITY = "contact_parental_responsibility"
    PRIORITY = "contact_priority"
    COURT_ORDER = "contact_court_order"
    CONTACT_RESTRICTION = "contact_restriction"
    ADDRESS = "contact_address"  # several columns, joined as lines in their order
    POSTCODE = "contact_postcode"
    EMAIL = "contact_email"
    PHONE = "contact_phone"  # several columns: the first one filled in
    IGNORE = "ignore"


FIELD_LABELS: dict[Field, str] = {
    Field.PUPIL_ID: "Pupil: MIS id",
    Field.PUPIL_FORENAME: "Pupil: legal forename",
    Field.PUPIL_SURNAME: "Pupil: legal surname",
    Field.PUPIL_PREFERRED: "Pupil: preferred name",
    Field.PUPIL_YEAR: "Pupil: year group",
    Field.PUPIL_CLASS: "Pupil: class / registration group",
    Field.CONTACT_ID: "Contact: MIS id",
    Field.CONTACT_TITLE: "Contact: title",
    Field.CONTACT_FORENAME: "Contact: forenames",
    Field.CONTACT_SURNAME: "Contact: surname",
    Field.RELATIONSHIP: "Contact: relationship to the pupil",
    Field.PARENTAL_RESPONSIBILITY: "Contact: parental responsibility (yes/no)",
    Field.PRIORITY: "Contact: contact priority (1, 2, ...)",
    Field.COURT_ORDER: "Contact: court order (yes/no)",
    Field.CONTACT_RESTRICTION: "Contact: contact restriction (yes/no)",
    Field.ADDRESS: "Contact: address line",
    Field.POSTCODE: "Contact: postcode",
    Field.EMAIL: "Contact: email address",
    Field.PHONE: "Contact: telephone",
    Field.IGNORE: "(not imported)",
}

_PUPIL_FIELDS = frozenset(
    {
        Field.PUPIL_ID,
        Field.PUPIL_FORENAME,
        Field.PUPIL_SURNAME,
        Field.PUPIL_PREFERRED,
        Field.PUPIL_YEAR,
        Field.PUPIL_CLASS,
    }
)


_PUPIL_ORDER = tuple(f for f in Field if f in _PUPIL_FIELDS)
_CONTACT_ORDER = tuple(f for f in Field if f not in _PUPIL_FIELDS and f is not Field.IGNORE)


def heading_key(heading: str) -> str:
    """'Legal Surname', 'LegalSurname' and 'legal_surname' are one heading: 'legalsurname'."""
    return re.sub(r"[^0-9a-z]", "", heading.casefold())


# The headings each system writes, as read from their own documentation and exports (see
# tests/fixtures/mis/README.md for where each comes from). Keys are heading_key() forms.
_SIMS = {
    "upn": Field.PUPIL_ID,
    "adno": Field.PUPIL_ID,
    "legalsurname": Field.PUPIL_SURNAME,
    "legalforename": Field.PUPIL_FORENAME,
    "preferredforename": Field.PUPIL_PREFERRED,
    "year": Field.PUPIL_YEAR,
    "reg": Field.PUPIL_CLASS,
    "reggroup": Field.PUPIL_CLASS,
    "contactpersonid": Field.CONTACT_ID,
    "contacttitle": Field.CONTACT_TITLE,
    "contactforename": Field.CONTACT_FORENAME,
    "contactsurname": Field.CONTACT_SURNAME,
    "relationshiptostudent": Field.RELATIONSHIP,
    "parentalresponsibility": Field.PARENTAL_RESPONSIBILITY,
    "priority": Field.PRIORITY,
    "courtorder": Field.COURT_ORDER,
    "housename": Field.ADDRESS,
    "housenumber": Field.ADDRESS,
    "street": Field.ADDRESS,
    "district": Field.ADDRESS,
    "town": Field.ADDRESS,
    "county": Field.ADDRESS,
    "postcode": Field.POSTCODE,
    "homeemail": Field.EMAIL,
    "mobiletelephone": Field.PHONE,
    "hometelephone": Field.PHONE,
}
_ARBOR = {
    "studentid": Field.PUPIL_ID,
    "legalfirstname": Field.PUPIL_FORENAME,
    "legallastname": Field.PUPIL_SURNAME,
    "preferredfirstname": Field.PUPIL_PREFERRED,
    "yeargroup": Field.PUPIL_YEAR,
    "registrationform": Field.PUPIL_CLASS,
    "guardianid": Field.CONTACT_ID,
    "guardiantitle": Field.CONTACT_TITLE,
    "guardianfirstname": Field.CONTACT_FORENAME,
    "guardianlastname": Field.CONTACT_SURNAME,
    "relationship": Field.RELATIONSHIP,
    "parentalresponsibility": Field.PARENTAL_RESPONSIBILITY,
    "guardianpriority": Field.PRIORITY,
    "courtorder": Field.COURT_ORDER,
    "contactrestriction": Field.CONTACT_RESTRICTION,
    "addressline1": Field.ADDRESS,
    "addressline2": Field.ADDRESS,
    "addressline3": Field.ADDRESS,
    "town": Field.ADDRESS,
    "postcode": Field.POSTCODE,
    "emailaddress": Field.EMAIL,
    "mobilephone": Field.PHONE,
    "homephone": Field.PHONE,
}
_BROMCOM = {
    "studentid": Field.PUPIL_ID,
    "studentfirstname": Field.PUPIL_FORENAME,
    "studentlastname": Field.PUPIL_SURNAME,
    "studentpreferredfirstname": Field.PUPIL_PREFERRED,
    "yeargroup": Field.PUPIL_YEAR,
    "tutorgroup": Field.PUPIL_CLASS,
    "contactpersonid": Field.CONTACT_ID,
    "contactprefix": Field.CONTACT_TITLE,
    "contactfirstname": Field.CONTACT_FORENAME,
    "contactlastname": Field.CONTACT_SURNAME,
    "relationship": Field.RELATIONSHIP,
    "parentalresponsibility": Field.PARENTAL_RESPONSIBILITY,
    "contactpriority": Field.PRIORITY,
    "courtorderrestrictedaccess": Field.COURT_ORDER,
    "addressline1": Field.ADDRESS,
    "addressline2": Field.ADDRESS,
    "town": Field.ADDRESS,
    "county": Field.ADDRESS,
    "postcode": Field.POSTCODE,
    "contactemail": Field.EMAIL,
    "contactmobile": Field.PHONE,
    "contacttelephone": Field.PHONE,
}
# DfE Common Basic Data Set item names, as a CTF or census tool writes them to CSV.
_CBDS = {
    "upn": Field.PUPIL_ID,
    "legalforename": Field.PUPIL_FORENAME,
    "legalsurname": Field.PUPIL_SURNAME,
    "preferredforename": Field.PUPIL_PREFERRED,
    "ncyearactual": Field.PUPIL_YEAR,
    "registrationgroup": Field.PUPIL_CLASS,
    "contactid": Field.CONTACT_ID,
    "contacttitle": Field.CONTACT_TITLE,
    "contactforename": Field.CONTACT_FORENAME,
    "contactsurname": Field.CONTACT_SURNAME,
    "relationshiptopupil": Field.RELATIONSHIP,
    "parentalresponsibility": Field.PARENTAL_RESPONSIBILITY,
    "responsible": Field.PARENTAL_RESPONSIBILITY,
    "contactpriority": Field.PRIORITY,
    "order": Field.PRIORITY,
    "courtorder": Field.COURT_ORDER,
    "saon": Field.ADDRESS,
    "paon": Field.ADDRESS,
    "street": Field.ADDRESS,
    "locality": Field.ADDRESS,
    "town": Field.ADDRESS,
    "administrativearea": Field.ADDRESS,
    "postcode": Field.POSTCODE,
    "emailaddress": Field.EMAIL,
    "telephonenumber": Field.PHONE,
}

SYSTEMS: dict[str, dict[str, Field]] = {
    "SIMS": _SIMS,
    "Arbor": _ARBOR,
    "Bromcom": _BROMCOM,
    "Common Basic Data Set": _CBDS,
}


@dataclass(frozen=True)
class ImportProblem:
    """A row that cannot be read, by its line in the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(ValidationError):
    """The file cannot be imported; ``problems`` names each unreadable row."""

    def __init__(self, message: str, problems: tuple[ImportProblem, ...] = ()) -> None:
        shown = "; ".join(str(p) for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        full = message + (f" {shown}" if shown else "") + (f"; and {more} more" if more > 0 else "")
        super().__init__(full.rstrip(". ") + ".", field="file")
        self.problems = problems


class MappingNeeded(ValidationError):
    """The headings are not ones the casebook knows; the school matches them once."""

    def __init__(self, headings: tuple[str, ...]) -> None:
        super().__init__(
            "The columns of this file are not ones the casebook recognises from SIMS, Arbor, "
            "Bromcom or the DfE's Common Basic Data Set; open People > Import from the MIS in "
            "the window once to match them, and the casebook will remember the matching.",
            field="file",
        )
        self.headings = headings


@dataclass(frozen=True)
class ParsedPerson:
    """A pupil or contact as the file gives them, with the first line they appear on."""

    line: int
    draft: PersonDraft
    provided: frozenset[str]  # the PersonDraft fields the file's columns give

    @property
    def key(self) -> str:
        """Who this is within the file: the MIS id, else name and postcode."""
        group = "pupil" if self.draft.kind is PersonKind.PUPIL else "contact"
        if self.draft.mis_id:
            return f"{group}:id:{self.draft.mis_id}"
        name = " ".join(self.draft.name.casefold().split())
        return f"{group}:name:{name}|{self.draft.postcode}"


@dataclass(frozen=True)
class ParsedFile:
    """A whole file, read and checked: its people and which contacts belong to which pupils."""

    system: str  # "SIMS", "Arbor", ... or "other CSV"
    encoding: str
    headings: tuple[str, ...]
    mapping: dict[str, Field]
    rows: int
    pupils: tuple[ParsedPerson, ...]
    contacts: tuple[ParsedPerson, ...]
    links: tuple[tuple[str, str, str], ...]  # pupil key, contact key, relationship
    fingerprint: str = ""  # SHA-256 of the file's bytes
    ignored: tuple[str, ...] = field(default_factory=tuple)  # headings not imported


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 with BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as error:
        raise ImportRefused(
            "This file is not text the casebook can read (neither UTF-8 nor Windows-1252); "
            f"the first unreadable byte is at position {error.start}."
        ) from None


def _delimiter(text: str) -> str:
    sample = text[:8192]
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(data: bytes) -> tuple[str, tuple[str, ...], list[tuple[int, list[str]]]]:
    """(encoding, headings, [(line, values)]) of a CSV file, or a refusal."""
    if not data.strip():
        raise ImportRefused("The file is empty.")
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(
            f"The file is too large to be an MIS export ({len(data) // 1_048_576} MB; at most "
            f"{MAX_IMPORT_BYTES // 1_048_576} MB)."
        )
    text, encoding = decode(data)
    if "\x00" in text:
        raise ImportRefused("This is not a CSV file: it holds binary data.")
    delimiter = _delimiter(text)
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        # Excel's hint line ("sep=;") names the separator; it is not a heading. It keeps
        # its line so that rows are still named by their line in the file.
        delimiter, text = first.strip()[4], "\n" + rest
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    headings: tuple[str, ...] = ()
    try:
        for values in reader:
            if not headings:
                if not any(v.strip() for v in values):
                    continue
                headings = tuple(v.strip() for v in values)
                continue
            if not any(v.strip() for v in values):
                continue
            rows.append((reader.line_num, values))
            if len(rows) > MAX_IMPORT_ROWS:
                raise ImportRefused(f"The file has more than {MAX_IMPORT_ROWS:,} rows.")
    except csv.Error as error:
        raise ImportRefused(
            "The file cannot be read as CSV.",
            (ImportProblem(reader.line_num, f"{error}; check the quotation marks"),),
        ) from None
    if not headings:
        raise ImportRefused("The file has no column headings.")
    return encoding, headings, rows


def recognise(headings: tuple[str, ...]) -> tuple[str, dict[str, Field]] | None:
    """The system whose headings these are, and the mapping; None if none fits."""
    keys = [heading_key(h) for h in headings]
    best: tuple[int, str, dict[str, Field]] | None = None
    for system, known in SYSTEMS.items():
        mapping = {h: known[k] for h, k in zip(headings, keys, strict=True) if k in known}
        score = len(mapping)
        if usable(mapping) and (best is None or score > best[0]):
            best = (score, system, mapping)
    if best is None:
        return None
    return best[1], best[2]


def usable(mapping: dict[str, Field]) -> bool:
    """A mapping names at least a pupil's or a contact's forename and surname."""
    fields = set(mapping.values())
    pupil = {Field.PUPIL_FORENAME, Field.PUPIL_SURNAME} <= fields
    contact = {Field.CONTACT_FORENAME, Field.CONTACT_SURNAME} <= fields
    return pupil or contact


def mapping_signature(headings: tuple[str, ...]) -> str:
    """The key a remembered mapping is kept under: the file's headings, in order."""
    joined = "\x1f".join(heading_key(h) for h in headings)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


_HOUSE_NUMBER = re.compile(r"^\d+[A-Za-z]?$")
_YES = {"yes", "y", "true", "t", "1", "x", "✓"}
_NO = {"no", "n", "false", "f", "0", ""}
_PARENT_WORDS = re.compile(r"\b(mother|father|parent|mum|dad|step-?mother|step-?father)\b")


def _flag(value: str, label: str) -> bool:
    text = value.strip().casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"'{value.strip()}' is not yes or no for {label}")


def contact_kind(relationship: str) -> PersonKind:
    """A mother, father or parent is a parent; anyone else caring for the pupil a carer."""
    text = relationship.casefold()
    return PersonKind.PARENT if _PARENT_WORDS.search(text) else PersonKind.CARER


def _values(mapping: dict[int, Field], values: list[str]) -> dict[Field, str]:
    found: dict[Field, str] = {}
    address: list[str] = []
    for index, column in mapping.items():
        value = values[index].strip() if index < len(values) else ""
        if column is Field.ADDRESS:
            if value and address and _HOUSE_NUMBER.match(address[-1]):
                address[-1] = f"{address[-1]} {value}"  # "12" and "Example Close"
            elif value:
                address.append(value)
        elif column is not Field.IGNORE and value and not found.get(column):
            found[column] = value
    if address:
        found[Field.ADDRESS] = "\n".join(address)
    return found


def _pupil(line: int, got: dict[Field, str], columns: set[Field]) -> ParsedPerson | None:
    forename = got.get(Field.PUPIL_FORENAME, "")
    surname = got.get(Field.PUPIL_SURNAME, "")
    if not (forename or surname or got.get(Field.PUPIL_ID)):
        return None
    if not (forename and surname):
        raise ValueError("the pupil's legal forename or surname is missing")
    draft = check_person_draft(
        PersonDraft(
            name=full_name(forename, surname),
            kind=PersonKind.PUPIL,
            forenames=forename,
            surname=surname,
            preferred_name=got.get(Field.PUPIL_PREFERRED, ""),
            year_group=got.get(Field.PUPIL_YEAR, ""),
            reg_group=got.get(Field.PUPIL_CLASS, ""),
            mis_id=got.get(Field.PUPIL_ID, ""),
        )
    )
    provided = {"name", "kind", "forenames", "surname"}
    for column, name in (
        (Field.PUPIL_PREFERRED, "preferred_name"),
        (Field.PUPIL_YEAR, "year_group"),
        (Field.PUPIL_CLASS, "reg_group"),
        (Field.PUPIL_ID, "mis_id"),
    ):
        if column in columns:
            provided.add(name)
    return ParsedPerson(line, draft, frozenset(provided))


def _contact(line: int, got: dict[Field, str], columns: set[Field]) -> ParsedPerson | None:
    forename = got.get(Field.CONTACT_FORENAME, "")
    surname = got.get(Field.CONTACT_SURNAME, "")
    if not (forename or surname):
        return None
    if not surname:
        raise ValueError("the contact's surname is missing")
    priority_text = got.get(Field.PRIORITY, "")
    if priority_text and not priority_text.isdigit():
        raise ValueError(f"'{priority_text}' is not a contact priority (1, 2, ...)")
    pr_text = got.get(Field.PARENTAL_RESPONSIBILITY)
    relationship = got.get(Field.RELATIONSHIP, "")
    draft = check_person_draft(
        PersonDraft(
            name=full_name(forename, surname),
            kind=contact_kind(relationship),
            title=got.get(Field.CONTACT_TITLE, ""),
            forenames=forename,
            surname=surname,
            relationship=relationship,
            address_lines=tuple(got.get(Field.ADDRESS, "").split("\n"))
            if got.get(Field.ADDRESS)
            else (),
            postcode=got.get(Field.POSTCODE, ""),
            email=got.get(Field.EMAIL, ""),
            phone=got.get(Field.PHONE, ""),
            mis_id=got.get(Field.CONTACT_ID, ""),
            parental_responsibility=None
            if Field.PARENTAL_RESPONSIBILITY not in columns
            else _flag(pr_text or "", "parental responsibility"),
            contact_priority=int(priority_text) if priority_text else None,
            court_order=_flag(got.get(Field.COURT_ORDER, ""), "court order"),
            contact_restriction=_flag(
                got.get(Field.CONTACT_RESTRICTION, ""), "contact restriction"
            ),
        )
    )
    provided = {"name", "kind", "title", "forenames", "surname"}
    for column, names in (
        (Field.RELATIONSHIP, ("relationship",)),
        (Field.ADDRESS, ("address_lines",)),
        (Field.POSTCODE, ("postcode",)),
        (Field.EMAIL, ("email",)),
        (Field.PHONE, ("phone",)),
        (Field.CONTACT_ID, ("mis_id",)),
        (Field.PARENTAL_RESPONSIBILITY, ("parental_responsibility",)),
        (Field.PRIORITY, ("contact_priority",)),
        (Field.COURT_ORDER, ("court_order",)),
        (Field.CONTACT_RESTRICTION, ("contact_restriction",)),
    ):
        if column in columns:
            provided.update(names)
    if Field.CONTACT_TITLE not in columns:
        provided.discard("title")
    return ParsedPerson(line, draft, frozenset(provided))


def _merge_contact(first: ParsedPerson, again: ParsedPerson) -> ParsedPerson:
    """One contact on several rows (a parent of siblings): parental responsibility for any
    child counts, the highest priority counts, and a flag on any row counts."""
    a, b = first.draft, again.draft
    pr = a.parental_responsibility
    if b.parental_responsibility is not None:
        pr = bool(pr) or b.parental_responsibility
    priorities = [p for p in (a.contact_priority, b.contact_priority) if p is not None]
    kind = PersonKind.PARENT if PersonKind.PARENT in (a.kind, b.kind) else a.kind
    return replace(
        first,
        draft=replace(
            a,
            kind=kind,
            parental_responsibility=pr,
            contact_priority=min(priorities) if priorities else None,
            court_order=a.court_order or b.court_order,
            contact_restriction=a.contact_restriction or b.contact_restriction,
        ),
    )


Table = tuple[str, tuple[str, ...], list[tuple[int, list[str]]]]


def parse_people(
    data: bytes, remembered: dict[str, Field] | None = None, *, table: Table | None = None
) -> ParsedFile:
    """Read a whole MIS export, or refuse it naming every row that cannot be read
    (``table`` is the file already read by ``read_table``, to save reading it twice)."""
    encoding, headings, rows = table if table is not None else read_table(data)
    found = recognise(headings)
    if remembered is not None and usable(remembered):
        system, mapping = "other CSV", {h: remembered.get(h, Field.IGNORE) for h in headings}
    elif found is not None:
        system, mapping = found
    else:
        raise MappingNeeded(headings)
    by_index = {i: mapping[h] for i, h in enumerate(headings) if h in mapping}
    columns = set(by_index.values())
    width = len(headings)
    pupils: dict[str, ParsedPerson] = {}
    contacts: dict[str, ParsedPerson] = {}
    links: dict[tuple[str, str], str] = {}
    problems: list[ImportProblem] = []
    seen_pupils: dict[tuple[str, ...], ParsedPerson] = {}
    seen_contacts: dict[tuple[str, ...], ParsedPerson] = {}
    for line, values in rows:
        if len(values) > width and any(v.strip() for v in values[width:]):
            problems.append(
                ImportProblem(
                    line, f"it has {len(values)} values but the headings name only {width}"
                )
            )
            continue
        got = _values(by_index, values)
        # A pupil appears once per contact and a contact once per child: each distinct set
        # of values is checked once.
        pupil_values = tuple(got.get(f, "") for f in _PUPIL_ORDER)
        contact_values = tuple(got.get(f, "") for f in _CONTACT_ORDER)
        try:
            pupil = seen_pupils.get(pupil_values) or _pupil(line, got, columns)
            contact = seen_contacts.get(contact_values) or _contact(line, got, columns)
        except ValidationError as error:
            problems.append(ImportProblem(line, error.message.rstrip(".")))
            continue
        except ValueError as error:
            problems.append(ImportProblem(line, str(error)))
            continue
        if pupil is None and contact is None:
            problems.append(ImportProblem(line, "it names neither a pupil nor a contact"))
            continue
        if pupil is not None:
            seen_pupils[pupil_values] = pupil
            pupils.setdefault(pupil.key, pupil)
        if contact is not None:
            seen_contacts[contact_values] = contact
        if contact is not None:
            earlier = contacts.get(contact.key)
            contacts[contact.key] = contact if earlier is None else _merge_contact(earlier, contact)
        if pupil is not None and contact is not None:
            links.setdefault((pupil.key, contact.key), contact.draft.relationship)
    if problems:
        raise ImportRefused(
            f"Nothing was imported: {len(problems)} row{'s' if len(problems) != 1 else ''} "
            "of the file cannot be read.",
            tuple(problems),
        )
    return ParsedFile(
        system=system,
        encoding=encoding,
        headings=headings,
        mapping=mapping,
        rows=len(rows),
        pupils=tuple(pupils.values()),
        contacts=tuple(contacts.values()),
        links=tuple((p, c, r) for (p, c), r in links.items()),
        fingerprint=hashlib.sha256(data).hexdigest(),
        ignored=tuple(h for h in headings if mapping.get(h, Field.IGNORE) is Field.IGNORE),
    )
