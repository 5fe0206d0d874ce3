"""``casebook person add``, ``people``, ``people import`` and ``case link``, as scripts see them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import add_case, assert_refused, cli, set_up

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mis"

PERSON_FIELDS = {
    "id",
    "name",
    "title",
    "forenames",
    "surname",
    "kind",
    "address_lines",
    "postcode",
    "email",
    "phone",
    "relationship",
    "preferred_name",
    "year_group",
    "class",
    "mis_id",
    "parental_responsibility",
    "contact_priority",
    "court_order",
    "contact_restriction",
    "salutation",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return set_up(tmp_path / "casebook")


def test_person_add_then_people_lists_them(data_dir: Path) -> None:
    added = cli(
        "person", "add", "--name", "Karen Whitfield", "--title", "Mrs", "--forenames", "Karen",
        "--surname", "Whitfield", "--kind", "parent", "--address-line", "4 Kiln Lane",
        "--address-line", "St Helens", "--postcode", "wa10 6ab", "--email", "k@example.org",
        "--phone", "01744 000000", "--json", data_dir=data_dir,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    person = json.loads(added.stdout)
    assert set(person) == PERSON_FIELDS
    assert person["salutation"] == "Dear Mrs Whitfield"
    assert person["postcode"] == "WA10 6AB"
    assert person["address_lines"] == ["4 Kiln Lane", "St Helens"]
    plain = cli("person", "add", "--name", "Zoë Łukasiewicz", "--kind", "pupil", data_dir=data_dir)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip().isdigit()
    listed = cli("people", "--json", data_dir=data_dir)
    assert [p["name"] for p in json.loads(listed.stdout)] == ["Karen Whitfield", "Zoë Łukasiewicz"]
    found = cli("people", "--search", "łukas", data_dir=data_dir)
    assert found.returncode == 0, found.stderr
    assert "Zoë Łukasiewicz  (Pupil)" in found.stdout
    assert found.stdout.endswith("1 person\n")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--name", " "], "Please give the person's name."),
        (["--name", "A B", "--kind", "uncle"], "'uncle' is not a kind of person"),
        (["--name", "A B", "--postcode", "12345"], "'12345' is not a UK postcode."),
        (["--name", "A B", "--email", "nope"], "'nope' is not an email address."),
    ],
)
def test_person_add_refuses_bad_values_in_one_line(
    data_dir: Path, args: list[str], words: str
) -> None:
    result = cli("person", "add", *args, data_dir=data_dir)
    assert_refused(result, 2 if "--kind" in args else 1, words)
    assert json.loads(cli("people", "--json", data_dir=data_dir).stdout) == []


def test_case_link_by_name_or_number(data_dir: Path) -> None:
    add_case(data_dir, "Post about the fair")
    number = cli("person", "add", "--name", "Dale Pike", data_dir=data_dir).stdout.strip()
    cli("person", "add", "--name", "Amelia Hart", "--kind", "pupil", data_dir=data_dir)
    by_name = cli("case", "link", "SM-2026-0001", "--person", "dale pike", "--role", "author",
                  data_dir=data_dir)  # fmt: skip
    assert by_name.returncode == 0, by_name.stderr
    by_number = cli("case", "link", "SM-2026-0001", "--person", number, "--role", "witness",
                    data_dir=data_dir)  # fmt: skip
    assert by_number.returncode == 0, by_number.stderr
    pupil = cli("case", "link", "SM-2026-0001", "--person", "Amelia Hart", "--role", "subject",
                data_dir=data_dir)  # fmt: skip
    assert pupil.returncode == 0, pupil.stderr
    case = json.loads(cli("case", "show", "SM-2026-0001", "--json", data_dir=data_dir).stdout)
    assert [(p["name"], p["role"]) for p in case["people"]] == [
        ("Dale Pike", "author"),
        ("Dale Pike", "witness"),
        ("Amelia Hart", "subject"),
    ]
    again = cli("case", "link", "SM-2026-0001", "--person", "Dale Pike", "--role", "author",
                data_dir=data_dir)  # fmt: skip
    assert_refused(again, 1, "already linked")
    nobody = cli("case", "link", "SM-2026-0001", "--person", "Nobody", "--role", "author",
                 data_dir=data_dir)  # fmt: skip
    assert_refused(nobody, 1, "No one called Nobody is recorded")
    bad_role = cli("case", "link", "SM-2026-0001", "--person", "Dale Pike", "--role", "boss",
                   data_dir=data_dir)  # fmt: skip
    assert_refused(bad_role, 2, "'boss' is not a role")


def test_people_import_dry_run_then_import_then_again(data_dir: Path) -> None:
    file = str(FIXTURES / "sims_student_contacts.csv")
    dry = cli("people", "import", file, "--dry-run", "--json", data_dir=data_dir)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["system"] == "SIMS" and report["dry_run"] is True
    assert report["counts"]["new"] == 9
    assert json.loads(cli("people", "--json", data_dir=data_dir).stdout) == []
    done = cli("people", "import", file, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "new: 9   updated: 0   unchanged: 0   to review: 0" in done.stdout
    assert "Imported." in done.stdout
    again = cli("people", "import", file, "--json", data_dir=data_dir)
    assert json.loads(again.stdout)["counts"]["unchanged"] == 9
    assert json.loads(again.stdout)["import_id"] is None
    assert len(json.loads(cli("people", "--json", data_dir=data_dir).stdout)) == 9


def test_people_import_refuses_a_broken_file_naming_lines(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "Legal Surname,Legal Forename,UPN\nHart,Amelia,1\n,Oscar,2\nNwosu,Chidi,3\n",
        encoding="utf-8",
    )
    result = cli("people", "import", str(broken), data_dir=data_dir)
    assert_refused(result, 1, "Nothing was imported", "line 3:")
    assert json.loads(cli("people", "--json", data_dir=data_dir).stdout) == []
    missing = cli("people", "import", str(tmp_path / "nope.csv"), data_dir=data_dir)
    assert_refused(missing, 1, "There is no file")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("A,B\n1,2\n", encoding="utf-8")
    assert_refused(
        cli("people", "import", str(unknown), data_dir=data_dir), 1, "Import from the MIS"
    )


def test_letter_to_a_restricted_contact_needs_confirm_restriction(
    data_dir: Path, tmp_path: Path
) -> None:
    from app.domain.categories import Category
    from app.domain.people import CaseRole
    from app.domain.records import CaseDraft, PersonDraft
    from app.services.demo import DEMO_SCHOOL_PROFILE
    from tests.conftest import open_signed_in
    from tests.e2e.test_cli import PASSWORD, USER

    services = open_signed_in(data_dir, USER, PASSWORD)
    try:
        services.letters.profile.save(DEMO_SCHOOL_PROFILE)
        case = services.cases.open_case(
            CaseDraft(title="Post", categories=frozenset({Category.ABUSIVE}), platform="Facebook")
        )
        dale = services.people.add_person(
            PersonDraft(name="Dale Pike", title="Mr", surname="Pike", court_order=True,
                        address_lines=("2 Church Street",), postcode="L34 3LA")
        )  # fmt: skip
        services.cases.link_person(case.id, dale.id, CaseRole.AUTHOR)
    finally:
        services.close()
    out = tmp_path / "letter.pdf"
    args = (
        "letter",
        "SM-2026-0001",
        "--kind",
        "removal",
        "--out",
        str(out),
        "--confirm-post-details",
    )
    refused = cli(*args, data_dir=data_dir)
    assert_refused(refused, 1, "Dale Pike has a court order recorded.", "--confirm-restriction")
    assert not out.exists()
    done = cli(*args, "--confirm-restriction", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert out.exists()


def test_cases_frequent_authors(data_dir: Path) -> None:
    for title in ("First post", "Second post", "Other post"):
        add_case(data_dir, title)
    cli("person", "add", "--name", "Dale Pike", data_dir=data_dir)
    for reference in ("SM-2026-0001", "SM-2026-0002"):
        linked = cli("case", "link", reference, "--person", "Dale Pike", "--role", "author",
                     data_dir=data_dir)  # fmt: skip
        assert linked.returncode == 0, linked.stderr
    result = cli("cases", "--frequent-authors", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert [r["reference"] for r in json.loads(result.stdout)] == ["SM-2026-0001", "SM-2026-0002"]
