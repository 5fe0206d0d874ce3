"""Importing pupils and contacts from MIS exports: each system's fixture, re-imports that
merge instead of duplicating, broken files refused whole, the review list, undo."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.access import Role
from app.domain.categories import Category
from app.domain.errors import AccessDenied, NotFoundError
from app.domain.mis_import import Field, ImportRefused, MappingNeeded
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.services.casebook import Services, open_casebook
from app.services.people_import import NEW, SKIP

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mis"
SIMS = FIXTURES / "sims_student_contacts.csv"
ARBOR = FIXTURES / "arbor_student_guardians.csv"
BROMCOM = FIXTURES / "bromcom_student_contacts.csv"
CBDS = FIXTURES / "cbds_pupil_contacts.csv"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = open_casebook(tmp_path / "data", actor="Head")
    yield s
    s.close()


def _people(services: Services) -> dict[str, object]:
    return {p.name: p for p in services.people.search_people("", limit=10_000)}


def _rows(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize(
    ("path", "system", "encoding", "pupils", "contacts", "links"),
    [
        (SIMS, "SIMS", "UTF-8 with BOM", 4, 5, 6),
        (ARBOR, "Arbor", "UTF-8", 3, 4, 4),
        (BROMCOM, "Bromcom", "Windows-1252", 2, 4, 4),
        (CBDS, "Common Basic Data Set", "UTF-8", 1, 1, 1),
    ],
)
def test_each_systems_export_is_recognised_and_imported_once(
    services: Services,
    path: Path,
    system: str,
    encoding: str,
    pupils: int,
    contacts: int,
    links: int,
) -> None:
    data = path.read_bytes()
    preview = services.people_import.preview(data, path.name)
    assert (preview.system, preview.encoding) == (system, encoding)
    assert (preview.pupils, preview.contacts, preview.new, preview.links_new) == (
        pupils,
        contacts,
        pupils + contacts,
        links,
    )
    assert _people(services) == {}  # the preview wrote nothing
    result = services.people_import.import_file(data, path.name)
    assert result.import_id is not None
    assert len(_people(services)) == pupils + contacts
    again = services.people_import.import_file(data, path.name)
    assert again.import_id is None  # nothing to change
    assert (again.preview.new, again.preview.unchanged) == (0, pupils + contacts)
    assert len(_people(services)) == pupils + contacts


def test_what_the_sims_export_says_is_kept(services: Services) -> None:
    services.people_import.import_file(SIMS.read_bytes(), SIMS.name)
    people = _people(services)
    amelia = people["Amelia Hart"]
    assert amelia.kind is PersonKind.PUPIL
    assert (amelia.preferred_name, amelia.year_group, amelia.reg_group, amelia.mis_id) == (
        "Millie",
        "Year 4",
        "4W",
        "001234",  # the first id column the export has (SIMS: the admission number)
    )
    joanne = people["Joanne Hart"]
    assert joanne.salutation == "Dear Mrs Hart"
    assert joanne.address_lines == ("14 Rainford Road", "Eccleston", "St Helens", "Merseyside")
    assert (joanne.postcode, joanne.parental_responsibility, joanne.contact_priority) == (
        "WA10 5AA",
        True,
        1,
    )
    dale = people["Dale Pike"]
    assert dale.court_order and dale.parental_responsibility
    gran = people["Bernadette O'Connor"]
    assert gran.kind is PersonKind.CARER and gran.parental_responsibility is False
    # Joanne is the mother of two pupils: one person, linked to both.
    family = {p.name for p, _ in services.people_import.family(joanne.id)}
    assert family == {"Amelia Hart", "Oscar Hart"}
    assert people["Zoë Łukasiewicz"].salutation == "Dear Zoë Łukasiewicz"


def test_bromcom_windows_1252_names_read_right(services: Services) -> None:
    services.people_import.import_file(BROMCOM.read_bytes(), BROMCOM.name)
    people = _people(services)
    assert {"Chloé Dubois", "Hélène Dubois", "Seán Dubois"} <= set(people)
    assert people["Jordan Reeves"].court_order
    assert people["Jordan Reeves"].parental_responsibility is False


def test_reimport_with_changes_updates_without_duplicating(services: Services) -> None:
    services.people_import.import_file(ARBOR.read_bytes(), ARBOR.name)
    rows = _rows(ARBOR, "utf-8")
    header = rows[0]
    # Rachel Grant moved house; Yusuf moved class; a new pupil joined with her mother.
    rows[1][header.index("Address Line 1")] = "2 Bishop Road"
    rows[1][header.index("Postcode")] = "WA10 6XY"
    rows[3][header.index("Registration Form")] = "5T"
    rows.append(
        ["STU-10030", "Maya", "Okoro", "", "Year 1", "1A", "GDN-4430", "Mrs", "Ada", "Okoro",
         "Mother", "Yes", "1", "No", "No", "8 Dunriding Lane", "", "St Helens", "WA10 4AB",
         "", "07700 900230"]
    )  # fmt: skip
    preview = services.people_import.preview(_csv(rows), ARBOR.name)
    assert (preview.new, preview.updated, preview.unchanged) == (2, 2, 5)
    services.people_import.import_file(_csv(rows), ARBOR.name)
    people = _people(services)
    assert len(people) == 9
    assert people["Rachel Grant"].postcode == "WA10 6XY"
    assert people["Rachel Grant"].address_lines == ("2 Bishop Road", "St Helens")
    assert people["Yusuf Ahmed"].reg_group == "5T"


def test_people_linked_to_cases_keep_their_links(services: Services) -> None:
    services.people_import.import_file(SIMS.read_bytes(), SIMS.name)
    case = services.cases.open_case(
        CaseDraft(title="Post", categories=frozenset({Category.ABUSIVE}))
    )
    dale = _people(services)["Dale Pike"]
    services.cases.link_person(case.id, dale.id, CaseRole.AUTHOR)
    rows = _rows(SIMS, "utf-8-sig")
    rows[2][rows[0].index("Mobile Telephone")] = "07700 999999"
    services.people_import.import_file(_csv(rows), SIMS.name)
    detail = services.cases.get_case(case.id)
    assert [(p.person.id, p.person.phone) for p in detail.people] == [(dale.id, "07700 999999")]


def test_a_person_typed_by_hand_is_matched_on_name_and_postcode(services: Services) -> None:
    typed = services.people.add_person(
        PersonDraft(name="Joanne Hart", address_lines=("14 Rainford Road",), postcode="wa10 5aa")
    )
    preview = services.people_import.preview(SIMS.read_bytes(), SIMS.name)
    assert (preview.updated, preview.new) == (1, 8)
    services.people_import.import_file(SIMS.read_bytes(), SIMS.name)
    joanne = services.people.get_person(typed.id)
    assert (joanne.title, joanne.mis_id) == ("Mrs", "S-5501")
    assert [p.name for p in services.people.search_people("joanne hart")] == ["Joanne Hart"]


def test_near_matches_wait_for_review_and_decisions_apply(services: Services) -> None:
    jo = services.people.add_person(
        PersonDraft(name="J. Hart", surname="Hart", forenames="J.", postcode="WA10 5AA")
    )
    zoe = services.people.add_person(PersonDraft(name="Zoë Łukasiewicz", postcode="L1 1AA"))
    preview = services.people_import.preview(SIMS.read_bytes(), SIMS.name)
    review = {item.name: item for item in preview.review}
    assert set(review) == {"Joanne Hart", "Zoë Łukasiewicz"}
    assert review["Joanne Hart"].candidate_id == jo.id
    assert review["Zoë Łukasiewicz"].reason == "the same name is recorded at L1 1AA"
    # Undecided rows are left out, with the links that need them.
    assert (preview.to_review, preview.new, preview.links_new) == (2, 7, 3)
    decisions = {review["Joanne Hart"].key: jo.id, review["Zoë Łukasiewicz"].key: NEW}
    result = services.people_import.import_file(SIMS.read_bytes(), SIMS.name, decisions)
    assert (result.preview.to_review, result.preview.updated, result.preview.new) == (0, 1, 8)
    assert services.people.get_person(jo.id).name == "Joanne Hart"
    assert services.people.get_person(zoe.id).postcode == "L1 1AA"  # a different Zoë, kept
    skip = {item.key: SKIP for item in preview.review}
    assert services.people_import.preview(SIMS.read_bytes(), "x", skip).to_review == 0


def test_broken_rows_are_named_and_nothing_is_written(services: Services) -> None:
    rows = _rows(BROMCOM, "cp1252")
    header = rows[0]
    rows[2][header.index("Contact Email")] = "not an address"
    rows[3][header.index("Contact Priority")] = "first"
    rows[4][header.index("Parental Responsibility")] = "maybe"
    rows.append(["70014", "Evie", "", "", "Year 1"] + [""] * (len(header) - 5))
    with pytest.raises(ImportRefused) as refused:
        services.people_import.import_file(_csv(rows, "cp1252"), BROMCOM.name)
    message = refused.value.message
    assert message.startswith("Nothing was imported: 4 rows of the file cannot be read.")
    assert "line 3: 'not an address' is not an email address" in message
    assert "line 4: 'first' is not a contact priority" in message
    assert "line 5: 'maybe' is not yes or no for parental responsibility" in message
    assert "line 6: the pupil's legal forename or surname is missing" in message
    assert [p.line for p in refused.value.problems] == [3, 4, 5, 6]
    assert _people(services) == {}
    assert services.people_import.imports() == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV file"),
        (b'Legal Surname,Legal Forename\r\n"Hart,Amelia\r\n', "line"),
        (b"Legal Surname,Legal Forename\r\nHart,Amelia,extra\r\n", "line 2: it has 3 values"),
    ],
)
def test_hostile_files_are_refused_in_one_sentence(
    services: Services, data: bytes, words: str
) -> None:
    with pytest.raises(ImportRefused, match=words):
        services.people_import.import_file(data, "x.csv")
    assert _people(services) == {}


def test_every_encoding_the_mis_writes_gives_the_same_names(services: Services) -> None:
    text = "Legal Forename,Legal Surname,UPN\r\nZoë,Łukasiewicz,X1\r\nChloé,Dubois,X2\r\n"
    names = {"Zoë Łukasiewicz", "Chloé Dubois"}
    for data in (
        text.encode("utf-8"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),
        text.encode("utf-16"),
    ):
        services.people_import.import_file(data, "x.csv")
        assert set(_people(services)) == names
    latin = text.replace("Łukasiewicz", "Lukasiewicz").encode("cp1252")
    assert services.people_import.preview(latin, "x.csv").encoding == "Windows-1252"


def test_another_csv_needs_a_mapping_once_then_it_is_remembered(services: Services) -> None:
    data = _csv(
        [["Child first", "Child last", "Carer", "Carer surname", "Post code"],
         ["Amelia", "Hart", "Joanne", "Hart", "WA10 5AA"]]
    )  # fmt: skip
    with pytest.raises(MappingNeeded) as needed:
        services.people_import.preview(data, "other.csv")
    headings = needed.value.headings
    mapping = dict(
        zip(
            headings,
            (Field.PUPIL_FORENAME, Field.PUPIL_SURNAME, Field.CONTACT_FORENAME,
             Field.CONTACT_SURNAME, Field.POSTCODE),
            strict=True,
        )
    )  # fmt: skip
    services.people_import.remember_mapping(headings, mapping)
    preview = services.people_import.preview(data, "other.csv")
    assert (preview.system, preview.new, preview.links_new) == ("other CSV", 2, 1)
    assert services.people_import.remembered_mapping(headings) == mapping


def test_an_import_is_undone_as_a_whole(services: Services) -> None:
    typed = services.people.add_person(
        PersonDraft(name="Joanne Hart", address_lines=("14 Rainford Road",), postcode="WA10 5AA")
    )
    services.people_import.import_file(SIMS.read_bytes(), SIMS.name)
    case = services.cases.open_case(
        CaseDraft(title="Post", categories=frozenset({Category.ABUSIVE}))
    )
    dale = _people(services)["Dale Pike"]
    services.cases.link_person(case.id, dale.id, CaseRole.AUTHOR)
    undone = services.people_import.undo_last()
    # Seven added people go; Dale stays (a case names him); Joanne is as she was typed.
    assert (undone.removed, undone.restored, undone.kept) == (7, 1, 1)
    assert set(_people(services)) == {"Joanne Hart", "Dale Pike"}
    joanne = services.people.get_person(typed.id)
    assert (joanne.mis_id, joanne.title, joanne.address_lines) == ("", "", ("14 Rainford Road",))
    assert services.people_import.family(dale.id) == []
    assert services.people_import.imports()[0].undone_at is not None
    with pytest.raises(NotFoundError, match="no import to undo"):
        services.people_import.undo_last()


def test_only_the_head_may_import(tmp_path: Path) -> None:
    services = open_casebook(tmp_path / "data")
    try:
        services.users.create_first_user("head", "correct horse battery")
        services.users.add_user("office", Role.OFFICE, "paper staple lantern")
        services.users.sign_in("office", "paper staple lantern")
        with pytest.raises(AccessDenied):
            services.people_import.import_file(SIMS.read_bytes(), SIMS.name)
    finally:
        services.close()


@pytest.mark.parametrize(
    ("path", "encoding", "contact_id", "phone", "email"),
    [
        (SIMS, "utf-8-sig", "Contact Person ID", "Home Telephone", "Home Email"),
        (ARBOR, "utf-8", "Guardian ID", "Mobile Phone", "Email Address"),
        (BROMCOM, "cp1252", "Contact Person ID", "Contact Mobile", "Contact Email"),
        (CBDS, "utf-8", "ContactID", "TelephoneNumber", "EmailAddress"),
    ],
)
def test_each_fixture_reimported_with_changes_and_with_broken_rows(
    services: Services, path: Path, encoding: str, contact_id: str, phone: str, email: str
) -> None:
    services.people_import.import_file(path.read_bytes(), path.name)
    before = _people(services)
    rows = _rows(path, encoding)
    header = rows[0]
    changed_id = rows[1][header.index(contact_id)]
    for row in rows[1:]:  # the contact's new number, on every row that names them
        if row[header.index(contact_id)] == changed_id:
            row[header.index(phone)] = "07700 123456"
    result = services.people_import.import_file(_csv(rows, encoding), path.name)
    assert (result.preview.new, result.preview.updated) == (0, 1)
    after = _people(services)
    assert set(after) == set(before)  # no duplicates
    changed = [name for name in after if after[name].phone == "07700 123456"]
    assert len(changed) == 1 and after[changed[0]].mis_id == changed_id
    rows[-1][header.index(email)] = "not an email"
    rows[1][header.index(phone)] = "07700 000000"
    with pytest.raises(ImportRefused, match=f"line {len(rows)}: 'not an email'"):
        services.people_import.import_file(_csv(rows, encoding), path.name)
    assert _people(services) == after  # nothing of the broken file was written


def test_semicolons_and_excels_separator_line_are_understood(services: Services) -> None:
    text = "sep=;\r\nLegal Forename;Legal Surname;UPN\r\nAmelia;Hart;X1\r\n;Oscar;X2\r\n"
    with pytest.raises(ImportRefused, match="line 4:"):
        services.people_import.preview(text.encode("utf-8"), "x.csv")
    good = text.replace(";Oscar;", "Oscar;Hart;").encode("utf-8")
    assert services.people_import.preview(good, "x.csv").new == 2
