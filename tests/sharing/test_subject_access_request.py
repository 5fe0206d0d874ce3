"""Subject access as a tracked request, and the response as the person receives it."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.domain.categories import Category
from app.domain.errors import ValidationError
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.domain.subject_access import bank_holidays, response_due
from app.services.casebook import Services, open_casebook
from tests.conftest import Clock
from tests.e2e.test_cli import PASSWORD, USER, cli
from tests.sharing.conftest import (
    AUTHOR_VALUES,
    CHILD_VALUES,
    REPORTER,
    REPORTER_STREET,
    REPORTER_VALUES,
    THIRD_FILE,
    THIRD_VALUES,
    Planted,
    assert_absent,
    pdf_text,
    plain_picture,
    zip_text,
)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 9, 3), date(2026, 10, 5)),  # 3 October 2026 is a Saturday
        (date(2026, 9, 21), date(2026, 10, 21)),
        (date(2027, 1, 31), date(2027, 3, 1)),  # no 31 February; 28th is a Sunday
        (date(2028, 1, 31), date(2028, 2, 29)),  # a leap year
        (date(2026, 11, 25), date(2026, 12, 29)),  # Christmas, Boxing Day (substitute Monday)
        (date(2027, 2, 26), date(2027, 3, 30)),  # Good Friday, the weekend, Easter Monday
        (date(2027, 2, 28), date(2027, 3, 30)),  # Easter Sunday 28 March 2027
        (date(2026, 3, 6), date(2026, 4, 7)),  # Easter Monday 6 April 2026
    ],
)
def test_the_response_is_due_one_calendar_month_on(received: date, due: date) -> None:
    assert response_due(received) == due


def test_bank_holidays_of_england_and_wales() -> None:
    assert date(2026, 12, 28) in bank_holidays(2026)  # Boxing Day on a Saturday
    assert date(2027, 5, 31) in bank_holidays(2027)  # spring bank holiday
    assert date(2027, 3, 26) in bank_holidays(2027)  # Good Friday


def test_a_request_is_recorded_with_its_due_date_and_extension(
    services: Services, planted: Planted, clock: Clock
) -> None:
    sar = services.subject_access
    request = sar.record_request(
        planted.author_id, date(2026, 11, 20), "Passport seen at the office"
    )
    assert request.due_on == date(2026, 12, 21)  # 20 December is a Sunday
    assert request.identity_checked and request.identity_note == "Passport seen at the office"
    with pytest.raises(ValidationError, match="reason"):
        sar.extend(request.id, 2, "")
    extended = sar.extend(request.id, 2, "Six years of correspondence to review")
    assert extended.extended_to == date(2027, 2, 22)  # 20 February 2027 is a Saturday
    assert extended.deadline == date(2027, 2, 22)
    with pytest.raises(ValidationError, match="already extended"):
        sar.extend(request.id, 1, "Again")
    late = sar.record_request(planted.reporter_id, date(2026, 10, 1))
    with pytest.raises(ValidationError, match="within the first month"):
        sar.extend(late.id, 1, "Too late")  # 24 November is after 2 November
    assert not late.identity_checked
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    future = date(2026, 11, 26)
    with pytest.raises(ValidationError, match="future"):
        sar.record_request(planted.author_id, future)
    listed = sar.requests(open_only=True)
    assert [r.id for r in listed] == [late.id, request.id]  # soonest deadline first
    assert late.overdue(date(2026, 11, 25))


def test_the_reporters_response_gives_article_15_and_hides_everyone_else(
    services: Services, planted: Planted
) -> None:
    request = services.subject_access.record_request(
        planted.reporter_id, date(2026, 11, 22), "Known to the office"
    )
    export = services.subject_access.respond(request.id)
    everything = zip_text(export.zip_bytes)
    assert_absent(everything, AUTHOR_VALUES + CHILD_VALUES + THIRD_VALUES, "reporter's response")
    assert_absent(everything, (THIRD_FILE, "own_post"), "reporter's response")
    flat = " ".join(pdf_text(export.pdf).split())
    assert REPORTER in flat and REPORTER_STREET in flat  # her own data
    for required in (
        "Why the school holds this information",
        "What kinds of information",
        "Who it has been given to",
        "Where it came from",
        "How long it is kept",
        "rectification",
        "erasure",
        "restriction",
        "objection",
        "Information Commissioner's Office",
        "Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF",
        "0303 123 1113",
        "Request received 22/11/2026",
        "Response due by 22/12/2026",
    ):
        assert required in flat, required
    # Exhibit 1 was redacted for her and is in; the copy redacted for the author is not.
    names = zipfile.ZipFile(io.BytesIO(export.zip_bytes)).namelist()
    assert [n for n in names if n.startswith("evidence/")] == [
        f"evidence/{planted.reference} Exhibit 1 (redacted).png"
    ]
    counts = export.counts()
    assert counts["exhibits_included"] == 1 and counts["exhibits_withheld"] == 2
    assert counts["items_withheld"] == 3  # two exhibits and the letter to the author
    assert sum(w["count"] for w in counts["withheld"]) == counts["items_withheld"]
    assert "3 item(s) are withheld" in flat
    assert services.subject_access.get(request.id).responded_on == date(2026, 11, 24)


def test_an_exhibit_redacted_for_the_author_never_reaches_another_requester(
    services: Services, planted: Planted
) -> None:
    request = services.subject_access.record_request(planted.third_id, date(2026, 11, 24), "ok")
    export = services.subject_access.respond(request.id, mark_answered=False)
    names = zipfile.ZipFile(io.BytesIO(export.zip_bytes)).namelist()
    assert not [n for n in names if n.startswith("evidence/")]
    assert {r["item"] for r in export.counts()["to_review"]} == {
        "Exhibit 1",
        "Exhibit 2",
        "Exhibit 3",
    }
    assert_absent(zip_text(export.zip_bytes), REPORTER_VALUES + AUTHOR_VALUES, "witness")
    assert services.subject_access.get(request.id).open  # a draft is not a response


def test_cli_sar_reports_what_it_withheld(tmp_path: Path) -> None:
    data = tmp_path / "data"
    services = open_casebook(data, actor=USER)
    try:
        services.users.create_first_user(USER, PASSWORD)
        case = services.cases.open_case(
            CaseDraft(title="Old post", categories=frozenset({Category.ABUSIVE}))
        )
        dana = services.people.add_person(PersonDraft(name="Dana Wells", kind=PersonKind.PARENT))
        services.cases.link_person(case.id, dana.id, CaseRole.AUTHOR)
        services.evidence.add_bytes(
            case.id, [("a.png", plain_picture()), ("b.png", plain_picture("red"))]
        )
    finally:
        services.close()
    out = tmp_path / "sar.zip"
    done = cli("sar", "--person", "dana wells", "--out", str(out), "--json", data_dir=data)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["person"] == "Dana Wells"
    assert counts["exhibits_included"] == 0 and counts["exhibits_withheld"] == 2
    assert counts["withheld"][0]["count"] == 2 and "Schedule 2" in counts["withheld"][0]["ground"]
    assert "identity is not recorded as checked" in done.stderr
    again = cli(
        "sar",
        "--person",
        "Dana Wells",
        "--out",
        str(out),
        "--identity",
        "Passport",
        data_dir=data,
    )
    assert again.returncode == 0, again.stderr
    assert "0 of 2 exhibits included, 2 item(s) withheld" in again.stdout
    assert "Saved everything" not in again.stdout
    listing = cli("sar", "--list", "--json", data_dir=data)
    requests = json.loads(listing.stdout)
    assert len(requests) == 2 and requests[0]["responded_on"]
    assert requests[1]["identity_note"] == "Passport"
    bad = cli("sar", "--person", "Dana Wells", "--extend", "5", "--reason", "x", data_dir=data)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
