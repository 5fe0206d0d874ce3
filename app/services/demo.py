"""A fictional demonstration casebook covering every standard of the Code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.db.models import CaseRecord, SettingRecord
from app.domain.categories import Category
from app.domain.dates import london_today
from app.domain.errors import ValidationError
from app.domain.letters import DEFAULT_PROFILE
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.domain.status import CaseStatus
from app.services.casebook import Services
from app.services.context import resources_dir

DEMO_SETTING = "demo_data"
DEMO_ACTOR = "Mrs J. Example (demo head teacher)"

# Fictional details so that demonstration letters can be printed straight away.
DEMO_SCHOOL_PROFILE = DEFAULT_PROFILE.with_values(
    address="Example Lane (demonstration address)\nEccleston\nSt Helens\nWA10 0XX",
    telephone="01744 000 000",
    email="office@example.sch.uk",
    website="www.example.sch.uk",
    head_teacher="Mrs J. Example",
    head_title="Head teacher",
    safeguarding_lead="Mr P. Sample (deputy head teacher)",
    chair_of_governors="Dr A. Placeholder",
    complaints_procedure="Complaints Procedure",
    complaints_contact="the School Business Manager",
    anti_bullying_procedure="Anti-bullying Policy",
    anti_bullying_contact="Mrs K. Whitfield",
    attendance_procedure="Attendance Policy",
    attendance_contact="the Attendance Officer",
    send_procedure="SEND Information Report",
    send_contact="the SENCo, Miss R. Illustration",
)

A = Category.ABUSIVE
I = Category.INACCURATE  # noqa: E741 - matches the Code's standard letter
P = Category.PROCEDURE
S = Category.SAFEGUARDING


@dataclass(frozen=True)
class _DemoPerson:
    name: str
    kind: PersonKind
    address: tuple[str, ...]
    postcode: str
    email: str
    relationship: str


PEOPLE = [
    _DemoPerson(
        "Zoë Łukasiewicz",
        PersonKind.PARENT,
        ("12 Example Close", "Eccleston", "St Helens"),
        "WA10 5AA",
        "zoe.l@example.org",
        "Mother of a Year 4 pupil",
    ),
    _DemoPerson(
        "Nguyễn Thị Hồng",
        PersonKind.PARENT,
        ("4 Sample Street", "Eccleston", "St Helens"),
        "WA10 5AB",
        "hong.nguyen@example.org",
        "Mother of a Year 2 pupil",
    ),
    _DemoPerson(
        "Siobhán O'Brien",
        PersonKind.CARER,
        ("27 Fictional Road", "Rainford", "St Helens"),
        "WA11 8ZZ",
        "siobhan.obrien@example.net",
        "Grandmother and carer of a Reception pupil",
    ),
    _DemoPerson(
        "Дмитрий Соколов",
        PersonKind.PARENT,
        ("Flat 3, Demo House", "1 Placeholder Way", "St Helens"),
        "WA9 1XX",
        "d.sokolov@example.com",
        "Father of a Year 6 pupil",
    ),
    _DemoPerson(
        "Gareth Pryce-Jones",
        PersonKind.PARENT,
        ("8 Illustration Avenue", "Eccleston", "St Helens"),
        "WA10 4QQ",
        "",
        "Father of Year 1 and Year 5 pupils",
    ),
    _DemoPerson(
        "Ayşe Yılmaz",
        PersonKind.PARENT,
        ("55 Example Close", "Eccleston", "St Helens"),
        "WA10 5AA",
        "ayse.y@example.org",
        "Mother of a Year 3 pupil; class representative",
    ),
    _DemoPerson(
        "Eleni Papadopoulou",
        PersonKind.VISITOR,
        ("2 Mock Terrace", "Prescot"),
        "L34 9ZZ",
        "",
        "Sports club coach who visits weekly",
    ),
    _DemoPerson("Mrs K. Whitfield", PersonKind.STAFF, (), "", "", "Year 4 class teacher"),
]


@dataclass(frozen=True)
class _DemoCase:
    title: str
    categories: frozenset[Category]
    platform: str
    handle: str
    url: str
    author: int | None  # index into PEOPLE
    reporter: int | None  # index into PEOPLE
    summary: str
    days_ago: int  # when the post was made
    status: CaseStatus
    follow_up: int | None  # days from today; negative is overdue
    place: str = ""  # the group or page
    inaccurate: str = ""
    facts: str = ""


CASES = [
    _DemoCase(
        title="Abusive comments about Year 4 teacher",
        categories=frozenset({A}),
        platform="Facebook",
        handle="@zoe.l.4",
        url="https://www.facebook.com/groups/example-parents/posts/1001",
        author=0,
        reporter=5,
        summary="Post in the village parents' group calling a named teacher 'useless' and worse. Several replies repeat the insults.",
        days_ago=20,
        status=CaseStatus.AWAITING_REMOVAL,
        follow_up=-3,
        place="Eccleston Village Parents",
    ),
    _DemoCase(
        title="Claim that the school is closing its nursery",
        categories=frozenset({I}),
        platform="Facebook",
        handle="Hong N",
        url="https://www.facebook.com/example/posts/2002",
        author=1,
        reporter=5,
        summary="States as fact that the nursery will close at Easter. No such decision has been made.",
        days_ago=12,
        status=CaseStatus.LETTER_SENT,
        place="St Helens Mums and Dads",
        inaccurate="the school’s nursery will close at Easter.",
        facts="no decision has been made to close the nursery; it is open and taking "
        "children for September as usual.",
        follow_up=4,
    ),
    _DemoCase(
        title="Photo of sports day showing pupils' faces and names",
        categories=frozenset({S}),
        platform="Instagram",
        handle="@siobhan_ob",
        url="https://www.instagram.com/p/EXAMPLE3",
        author=2,
        reporter=6,
        summary="Photo of the Reception sports day race with three children's faces visible and first names in the caption.",
        days_ago=3,
        status=CaseStatus.EVIDENCE_GATHERED,
        follow_up=0,
    ),
    _DemoCase(
        title="Complaint about homework policy aired publicly",
        categories=frozenset({P}),
        platform="X (Twitter)",
        handle="@dsokolov_dad",
        url="https://x.com/dsokolov_dad/status/4004",
        author=3,
        reporter=None,
        summary="Thread complaining about the homework policy and asking other parents to email governors.",
        days_ago=30,
        status=CaseStatus.RESOLVED,
        follow_up=None,
    ),
    _DemoCase(
        title="Threatening message naming the head teacher",
        categories=frozenset({A}),
        platform="WhatsApp",
        handle="Class 5 parents group",
        url="",
        author=4,
        reporter=5,
        summary="Screenshot forwarded by a parent: message says the head 'had better watch out' at pick-up.",
        days_ago=1,
        status=CaseStatus.ESCALATED,
        follow_up=1,
    ),
    _DemoCase(
        title="Bullying allegation posted instead of reported",
        categories=frozenset({P, S}),
        platform="Facebook",
        handle="Ayşe Y.",
        url="https://www.facebook.com/groups/example-parents/posts/1006",
        author=5,
        reporter=None,
        summary="Post alleges a named Year 3 pupil bullies others and invites comment.",
        days_ago=6,
        status=CaseStatus.LETTER_SENT,
        follow_up=-1,
    ),
    _DemoCase(
        title="Video of playground filmed through the fence",
        categories=frozenset({S}),
        platform="TikTok",
        handle="@unknown_user_77",
        url="https://www.tiktok.com/@unknown_user_77/video/7007",
        author=None,
        reporter=2,
        summary="Short video of morning break, children identifiable. Account holder not known.",
        days_ago=2,
        status=CaseStatus.NEW,
        follow_up=1,
    ),
    _DemoCase(
        title="Inaccurate post about SATs results",
        categories=frozenset({I}),
        platform="Mumsnet",
        handle="EcclestonMum22",
        url="https://www.mumsnet.com/talk/example/8008",
        author=None,
        reporter=1,
        summary="Thread claims the school's results were 'the worst in St Helens'. Published figures show otherwise.",
        days_ago=45,
        status=CaseStatus.CLOSED_NO_ACTION,
        follow_up=None,
        place="Primary education board",
        inaccurate="the school’s results were “the worst in St Helens”.",
        facts="the published results place the school above the St Helens average in "
        "reading, writing and mathematics.",
    ),
    _DemoCase(
        title="Attendance dispute discussed on community page",
        categories=frozenset({P}),
        platform="Nextdoor",
        handle="Gareth P-J",
        url="https://nextdoor.co.uk/p/example9",
        author=4,
        reporter=None,
        summary="Parent disputes an unauthorised absence in a public post instead of through the attendance procedure.",
        days_ago=9,
        status=CaseStatus.AWAITING_REMOVAL,
        follow_up=-7,
    ),
    _DemoCase(
        title="Discriminatory remarks about a pupil's family",
        categories=frozenset({A, S}),
        platform="Facebook",
        handle="@d.sokolov",
        url="https://www.facebook.com/example/posts/1010",
        author=3,
        reporter=0,
        summary="Comment under a school event photo making remarks about a family's nationality.",
        days_ago=5,
        status=CaseStatus.LETTER_SENT,
        follow_up=2,
    ),
    _DemoCase(
        title="Additional needs support criticised in blog post",
        categories=frozenset({I, P}),
        platform="Blog",
        handle="Eccleston Parent Blog",
        url="https://example-parent-blog.example/posts/send",
        author=1,
        reporter=2,
        summary="Blog post about SEND support with inaccurate statements about funding.",
        days_ago=15,
        status=CaseStatus.EVIDENCE_GATHERED,
        follow_up=-2,
        inaccurate="the school has cut its funding for pupils with special educational needs.",
        facts="the school’s spending on support for pupils with special educational needs has "
        "risen this year, as the SEND information report on the school website sets out.",
    ),
    _DemoCase(
        title="Coach's post mocking pupils' performance",
        categories=frozenset({A}),
        platform="Instagram",
        handle="@coach_eleni",
        url="https://www.instagram.com/p/EXAMPLE12",
        author=6,
        reporter=7,
        summary="Sports visitor posted a story mocking the school team by name.",
        days_ago=25,
        status=CaseStatus.RESOLVED,
        follow_up=None,
    ),
    _DemoCase(
        title="Rumour that a teacher has been dismissed",
        categories=frozenset({I}),
        platform="Facebook",
        handle="Local Mums Eccleston",
        url="https://www.facebook.com/groups/example-local/posts/1313",
        author=None,
        reporter=0,
        summary="Unsourced post claims a named teacher was dismissed. The teacher is on planned leave.",
        days_ago=0,
        status=CaseStatus.NEW,
        follow_up=3,
        place="Local Mums Eccleston",
        inaccurate="a named teacher has been dismissed.",
        facts="the teacher has not been dismissed; they are on planned leave and will return "
        "after it.",
    ),
]

_PATH: dict[CaseStatus, list[CaseStatus]] = {
    CaseStatus.NEW: [],
    CaseStatus.EVIDENCE_GATHERED: [CaseStatus.EVIDENCE_GATHERED],
    CaseStatus.LETTER_SENT: [CaseStatus.EVIDENCE_GATHERED, CaseStatus.LETTER_SENT],
    CaseStatus.AWAITING_REMOVAL: [
        CaseStatus.EVIDENCE_GATHERED,
        CaseStatus.LETTER_SENT,
        CaseStatus.AWAITING_REMOVAL,
    ],
    CaseStatus.ESCALATED: [CaseStatus.EVIDENCE_GATHERED, CaseStatus.ESCALATED],
    CaseStatus.RESOLVED: [
        CaseStatus.EVIDENCE_GATHERED,
        CaseStatus.LETTER_SENT,
        CaseStatus.AWAITING_REMOVAL,
        CaseStatus.RESOLVED,
    ],
    CaseStatus.CLOSED_NO_ACTION: [CaseStatus.EVIDENCE_GATHERED, CaseStatus.CLOSED_NO_ACTION],
}


# Checklist actions (resources/workflow/policy.json ids) done by the time a case reaches
# each status in the demonstration.
_DONE_BY_STATUS: dict[CaseStatus, tuple[str, ...] | str] = {
    CaseStatus.EVIDENCE_GATHERED: ("capture-evidence", "inform-dsl", "log-safeguarding"),
    CaseStatus.LETTER_SENT: (
        "send-letter-safeguarding",
        "send-letter-removal",
        "send-letter-correction",
        "send-letter-procedure",
        "report-platform",
    ),
    CaseStatus.ESCALATED: ("report-platform",),
    CaseStatus.RESOLVED: "all",
    CaseStatus.CLOSED_NO_ACTION: "all",
}


DEMO_MIS_EXPORT = "demo_mis_export_sims.csv"


def demo_mis_export() -> bytes:
    """A fictional SIMS contacts export of the demonstration families."""
    return (resources_dir() / "demo" / DEMO_MIS_EXPORT).read_bytes()


def import_demo_mis_export(services: Services, case_ids: list[int]) -> int | None:
    """Import the fictional MIS export as a school's first import would: the parents typed
    in by hand are matched and gain their titles and MIS ids, their children arrive as
    pupils, and two near matches wait on the review list. One pupil is then recorded as
    the pupil two cases concern (never named in their letters), which joins them up."""
    result = services.people_import.import_file(demo_mis_export(), DEMO_MIS_EXPORT)
    pupil = next(iter(services.people.search_people("Ola Łukasiewicz")), None)
    if pupil is not None and pupil.kind is PersonKind.PUPIL:
        # The abusive post about her class teacher, and the bullying allegation.
        for index in (0, 5):
            services.cases.link_person(case_ids[index], pupil.id, CaseRole.SUBJECT)
    return result.import_id


def is_empty(services: Services) -> bool:
    """True when the casebook holds no cases yet."""
    with services.ctx.sessions() as session:
        return not session.scalar(select(func.count()).select_from(CaseRecord))


def is_demo(services: Services) -> bool:
    """True when this casebook was filled with the fictional demonstration set.

    Answered from the keyring's note before anyone has signed in (the sign-in screen's
    hint), and from the database once it is open.
    """
    if services.keys.note(DEMO_SETTING):
        return True
    if not services.database_open:
        return False
    with services.ctx.sessions() as session:
        return session.get(SettingRecord, DEMO_SETTING) is not None


def check_demo_allowed(services: Services) -> None:
    """Refuse unless the casebook is empty: demonstration data never mixes with real cases."""
    if not is_empty(services):
        raise ValidationError(
            f"The casebook in {services.paths.root} already holds cases; demonstration data is "
            "only added to an empty casebook."
        )


def create_demo(services: Services) -> int:
    """Fill an empty casebook with fictional cases; returns how many were made."""
    check_demo_allowed(services)
    real_clock, real_actor = services.ctx.clock, services.ctx.actor
    services.ctx.actor = DEMO_ACTOR
    start = real_clock()
    # Due dates and report dates are school (London) dates, not UTC ones.
    today = london_today(start)
    moment = start
    services.ctx.clock = lambda: moment
    try:
        case_ids: list[int] = []
        people = []
        for p in PEOPLE:
            people.append(
                services.people.add_person(
                    PersonDraft(
                        name=p.name,
                        kind=p.kind,
                        address_lines=p.address,
                        postcode=p.postcode,
                        email=p.email,
                        relationship=p.relationship,
                    )
                )
            )
        for demo in CASES:
            posted = (start - timedelta(days=demo.days_ago, hours=5)).replace(microsecond=0)
            moment = max(posted + timedelta(hours=2), start - timedelta(days=demo.days_ago))
            due = today + timedelta(days=demo.follow_up) if demo.follow_up is not None else None
            reporter = people[demo.reporter].name if demo.reporter is not None else "Office staff"
            case = services.cases.open_case(
                CaseDraft(
                    title=demo.title,
                    categories=demo.categories,
                    summary=demo.summary,
                    platform=demo.platform,
                    post_url=demo.url,
                    account_handle=demo.handle,
                    posted_at=posted,
                    reported_on=min(london_today(moment), today),
                    reported_by=reporter,
                    follow_up_due=due,
                    post_place=demo.place,
                    inaccurate_text=demo.inaccurate,
                    correct_facts=demo.facts,
                )
            )
            case_ids.append(case.id)
            if demo.author is not None:
                services.cases.link_person(case.id, people[demo.author].id, CaseRole.AUTHOR)
            if demo.reporter is not None:
                services.cases.link_person(case.id, people[demo.reporter].id, CaseRole.REPORTER)
            for step in _PATH[demo.status]:
                moment = min(moment + timedelta(hours=20), start)
                services.cases.change_status(case.id, step, "")
                # Tick the checklist as far as the case has gone, so Today shows only the
                # follow-ups a real office would still have open.
                done = _DONE_BY_STATUS.get(step, ())
                for item in services.workflow.checklist(case.id):
                    if item.done_at is None and (done == "all" or item.rule_id in done):
                        services.workflow.tick(item.id)
        import_demo_mis_export(services, case_ids)
    finally:
        services.ctx.clock, services.ctx.actor = real_clock, real_actor
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    with services.ctx.sessions.begin() as session:
        session.add(
            SettingRecord(
                key=DEMO_SETTING,
                value=json.dumps({"created_at": datetime.now(UTC).isoformat()}),
            )
        )
    services.keys.set_note(DEMO_SETTING, "fictional demonstration data")
    return len(CASES)
