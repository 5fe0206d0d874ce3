"""Documents made from the casebook: a case's file (bundle) and the governors' report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import (
    CaseActionRecord,
    CaseOutcomeRecord,
    CasePersonRecord,
    CaseRecord,
    CaseStepRecord,
    EventRecord,
    EvidenceRecord,
    PersonRecord,
    SettingRecord,
)
from app.domain.access import Permission
from app.domain.categories import CATEGORY_INFO, Category, decode_categories
from app.domain.dates import (
    LONDON,
    MONTHS,
    format_date_time,
    format_long_date,
    format_short_date,
    london_midnight,
    london_today,
    to_london,
)
from app.domain.errors import OperationCancelled, ValidationError
from app.domain.evidence import Exhibit
from app.domain.people import ROLE_LABELS, CaseRole, PersonKind, name_key
from app.domain.policy import (
    GONE_OUTCOMES,
    OUTCOME_LABELS,
    STEP_OUTCOME_LABELS,
    CaseOutcome,
    describe_hours,
)
from app.domain.records import CaseDetail, CaseFilter, CasePerson, CaseSort, Person
from app.domain.report_figures import (
    DEFAULT_THRESHOLD,
    OTHER_PLATFORMS,
    THRESHOLD_SETTING,
    GovernorsReport,
    Removal,
    Term,
    check_threshold,
    default_terms,
    hide_small,
    merge_small,
    parse_terms,
    removal_times,
    term_of,
)
from app.domain.sharing import RULES, ExhibitName, Recipient, Scrubber, SharingRule
from app.domain.status import CLOSED_STATUSES, STATUS_LABELS
from app.evidence.intake import TYPE_LABELS, format_size
from app.services.cases import CaseService, add_event
from app.services.context import ServiceContext, resources_dir
from app.services.csv_file import Cell, csv_text
from app.services.evidence import EvidenceService
from app.services.letters import LetterService
from app.services.people import person_from_record
from app.services.workflow import WorkflowService

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

NO_PLATFORM = "Not recorded"
NO_OUTCOME = "No outcome yet"


def _fonts() -> None:
    from app.pdf.fonts import register_fonts

    register_fonts(resources_dir() / "fonts")


def _describe_exhibit(exhibit: Exhibit) -> str:
    parts = [TYPE_LABELS.get(exhibit.base_type, exhibit.base_type)]
    if exhibit.width and exhibit.height:
        parts.append(f"{exhibit.width}×{exhibit.height}")
    if exhibit.page_count:
        parts.append(f"{exhibit.page_count} page{'s' if exhibit.page_count != 1 else ''}")
    parts.append(format_size(exhibit.size))
    return ", ".join(parts)


class ReportService:
    """The case file bundle of one case, and the governors' report over a period."""

    def __init__(
        self,
        ctx: ServiceContext,
        cases: CaseService,
        evidence: EvidenceService,
        letters: LetterService,
        workflow: WorkflowService,
    ) -> None:
        self.ctx = ctx
        self.cases = cases
        self.evidence = evidence
        self.letters = letters
        self.workflow = workflow

    # ----- the case file ------------------------------------------------------------------

    def case_file(
        self,
        case_id: int,
        *,
        for_sharing: bool = False,
        recipient: Recipient | None = None,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> bytes:
        """The case's bundle as PDF: the head's complete file, or a copy for one recipient
        under that recipient's rule (``for_sharing`` alone means for the post's author)."""
        if for_sharing and recipient is None:
            recipient = Recipient.AUTHOR
        rule = RULES[recipient] if recipient is not None else None
        self.ctx.require(
            Permission.VIEW_CASES,
            case_id=case_id,
            action="export case file" + (f" for {rule.recipient.value}" if rule else ""),
        )
        from app.pdf.bundle import (
            BundleDocument,
            BundleEvent,
            BundleLetter,
            BundlePerson,
            BundleStandard,
            BundleWithheld,
            render_bundle,
        )
        from app.pdf.text import pdf_text

        _fonts()
        case = self.cases.get_case(case_id)
        exhibits = self.evidence.list_evidence(case_id)
        letters = self.letters.list_letters(case_id)
        steps = len(exhibits) + len(letters) + 2
        done = 0

        def tick() -> None:
            nonlocal done
            if cancelled is not None and cancelled():
                raise OperationCancelled("Making the case file was stopped; nothing was saved.")
            done += 1
            if progress is not None:
                progress(done, steps)

        full = rule is None or rule.everything
        # No copy that leaves the school names a pupil, the police's included.
        pupils = [
            link.person
            for link in case.people
            if rule is not None and link.person.kind is PersonKind.PUPIL
        ]
        pupil_ids = {p.id for p in pupils}
        allowed = [
            link
            for link in case.people
            if (full or (rule is not None and link.role in rule.named_roles))
            and link.person.id not in pupil_ids
        ]
        allowed_ids = {link.person.id for link in allowed}
        scrub = self._scrubber(case, allowed, full)
        if full and pupils:
            scrub = Scrubber(
                [link.person.name for link in allowed],
                [_details_of(p) for p in pupils],
            )
        withheld: list[tuple[str, str]] = []
        to_whom = rule.label if rule is not None else ""

        people = []
        hidden_people = 0
        for link in case.people:
            person = link.person
            role = ROLE_LABELS[link.role]
            if person.id in pupil_ids:
                people.append(BundlePerson("[pupil]", role))
                continue
            if person.id not in allowed_ids:
                hidden_people += 1
                people.append(BundlePerson("[third party]", role))
                continue
            details = [*person.address_lines]
            if person.postcode:
                details.append(person.postcode)
            details += [v for v in (person.email, person.phone, person.relationship) if v]
            people.append(BundlePerson(person.name, role, tuple(details)))
        if hidden_people:
            withheld.append(
                (
                    f"The names, addresses and contact details of {_count(hidden_people, 'person')}"
                    " linked to the case",
                    f"They are third parties; their details are not shared with {to_whom}.",
                )
            )
        if pupil_ids:
            withheld.append(
                (
                    f"The names of {_count(len(pupil_ids), 'pupil')} linked to the case",
                    "Pupils are never named in a copy that leaves the school.",
                )
            )
        if case.reported_by and not full:
            withheld.append(("Who reported the post", f"A third party; not shared with {to_whom}."))

        bundle_exhibits = []
        for exhibit in exhibits:
            tick()
            bundle_exhibits.append(self._bundle_exhibit(exhibit, rule, scrub, withheld))
        bundle_letters = []
        for number, letter in enumerate(letters, start=1):
            tick()
            what = f"Letter {number}: {letter.label} of {format_short_date(letter.letter_date)}"
            pdf = self.letters.letter_pdf(letter.id)
            if not full:
                if rule is not None and not rule.named_roles:
                    withheld.append((what, f"Letters are not shared with {to_whom}."))
                    continue
                if name_key(letter.recipient_name) not in {
                    name_key(p.person.name) for p in allowed
                }:
                    withheld.append(
                        (what, f"It is addressed to a third party; not shared with {to_whom}.")
                    )
                    continue
                text = pdf_text(pdf)
                if not text.strip() or scrub.reveals(text):
                    withheld.append(
                        (
                            what,
                            "It names or gives the details of someone else, so it cannot be "
                            f"shared with {to_whom} as it stands.",
                        )
                    )
                    continue
            bundle_letters.append(
                BundleLetter(
                    date=format_short_date(letter.letter_date),
                    # Each letter quoted the Code in force when it was issued.
                    label=f"{letter.label} (quoting the Code of Conduct version "
                    f"{letter.code_version})"
                    if letter.code_version
                    else letter.label,
                    recipient=letter.recipient_name,
                    subject=scrub(letter.subject),
                    pdf=pdf,
                )
            )
        escalation = self.workflow.escalation(case_id)
        lines = [
            f"{format_short_date(to_london(s.taken_at).date())}: {s.label} — "
            f"{STEP_OUTCOME_LABELS[s.outcome]}" + (f". {scrub(s.note)}" if s.note else "")
            for s in escalation.steps
        ]
        lines.append(escalation.position.describe())
        outcome = self.workflow.outcome(case_id)
        outcome_text = ""
        if outcome is not None:
            outcome_text = (
                f"{outcome.label} on {format_short_date(to_london(outcome.outcome_at).date())}"
            )
            if outcome.hours_to_removal is not None:
                outcome_text += f" ({describe_hours(outcome.hours_to_removal)} after the report)"
        code = self.ctx.code
        standards = tuple(
            BundleStandard(
                CATEGORY_INFO[c].label,
                code.standard(CATEGORY_INFO[c].standard_id).number,
                code.standard(CATEGORY_INFO[c].standard_id).text,
            )
            for c in sorted(
                case.categories, key=lambda c: code.standard(CATEGORY_INFO[c].standard_id).number
            )
        )
        summary = scrub(case.summary)
        if not full and Category.SAFEGUARDING in case.categories and case.summary.strip():
            summary = "Withheld from this copy (see “Withheld from this copy”)."
            withheld.append(
                (
                    "The summary of the case",
                    "This is a safeguarding case and its summary may identify a child.",
                )
            )
        facts = (
            ("Platform", case.platform),
            ("Address of the post", scrub(case.post_url)),
            ("Account", case.account_handle),
            ("Posted", format_date_time(case.posted_at)),
            ("Reported", format_short_date(case.reported_on)),
            ("Reported by", case.reported_by if full else ""),
            ("Opened", format_date_time(case.created_at)),
        )
        document = BundleDocument(
            reference=case.reference,
            title=scrub(case.title),
            school=self.letters.profile.get().name or "The school",
            generated_on=format_long_date(london_today(self.ctx.now())),
            generated_by=self.ctx.actor,
            for_sharing=not full,
            status=STATUS_LABELS[case.status],
            summary=summary,
            facts=facts,
            standards=standards,
            code_title=code.title,
            code_version=code.version,
            people=tuple(people),
            events=tuple(
                BundleEvent(format_date_time(e.at), e.actor, scrub(e.summary)) for e in case.events
            ),
            letters=tuple(bundle_letters),
            exhibits=tuple(bundle_exhibits),
            escalation=tuple(lines),
            outcome=outcome_text,
            copy_title=rule.title if rule is not None else "",
            rule=rule.rule if rule is not None else "",
            withheld=tuple(BundleWithheld(what, why) for what, why in withheld),
        )
        tick()
        pdf = render_bundle(document)
        tick()
        if rule is not None:
            self._record_sharing(case_id, rule, len(withheld))
        return pdf

    def _scrubber(self, case: CaseDetail, allowed: list[CasePerson], full: bool) -> Scrubber:
        """What hides, in this copy, the people its recipient may not see and file names."""
        if full:
            return Scrubber([], [])
        allowed_ids = {link.person.id for link in allowed}
        with self.ctx.sessions() as session:
            # Everyone in the casebook: a note may name someone linked to another case.
            everyone = [
                person_from_record(p)
                for p in session.scalars(select(PersonRecord)).all()
                if p.id not in allowed_ids
            ]
            files = session.execute(
                select(EvidenceRecord.number, EvidenceRecord.original_name).where(
                    EvidenceRecord.case_id == case.id
                )
            ).all()
        others = [_details_of(p) for p in everyone]
        if case.reported_by.strip():
            others.append([case.reported_by.strip()])
        others += [[letter.recipient_name] for letter in self.letters.list_letters(case.id)]
        allowed_names = [link.person.name for link in allowed]
        others = [o for o in others if name_key(o[0]) not in {name_key(n) for n in allowed_names}]
        profile = self.letters.profile.get()
        keep = [*profile.address_lines(), profile.name, profile.telephone, profile.email]
        for link in allowed:
            keep += _details_of(link.person)[1:]
        names = [ExhibitName(name, f"Exhibit {number}") for number, name in files]
        for number, name in files:
            if name.startswith("thumbnail of "):
                names.append(ExhibitName(name[len("thumbnail of ") :], f"Exhibit {number}"))
        return Scrubber(allowed_names, others, names, keep)

    def _record_sharing(self, case_id: int, rule: SharingRule, withheld: int) -> None:
        """The chronology keeps who was given a copy (a subject access response lists it)."""
        with self.ctx.sessions.begin() as session:
            case = session.get(CaseRecord, case_id)
            if case is None:
                return
            add_event(
                session,
                case,
                self.ctx,
                "case_file_shared",
                f"Case file made for {rule.label}"
                + (f"; {_count(withheld, 'item')} withheld" if withheld else ""),
                {"recipient": rule.recipient.value, "withheld": withheld},
            )

    def _bundle_exhibit(
        self,
        exhibit: Exhibit,
        rule: SharingRule | None,
        scrub: Scrubber,
        withheld: list[tuple[str, str]],
    ) -> Any:
        from app.pdf.bundle import BundleExhibit

        full = rule is None or rule.everything
        added = format_short_date(to_london(exhibit.added_at).date())
        details = []
        d = exhibit.details
        if d.captured_at:
            details.append(f"captured {format_date_time(d.captured_at)}")
        if d.captured_by and full:
            details.append(f"by {d.captured_by}")
        if d.post_url:
            details.append(scrub(d.post_url))
        if d.note:
            details.append(scrub(d.note))
        shown = ""
        shown_pdf = False
        if not full:
            assert rule is not None
            copies = self.evidence.redacted_copies(exhibit.id, rule.audience)
            if not copies:
                reason = (
                    f"No copy of it has been redacted for {rule.label} yet."
                    if exhibit.is_image or exhibit.is_pdf
                    else "It is not a picture or a PDF, so it cannot be redacted here; it is "
                    f"not shared with {rule.label}."
                )
                withheld.append((f"Exhibit {exhibit.number}, added {added}", reason))
                return BundleExhibit(
                    number=exhibit.number,
                    original_name="",
                    description="",
                    sha256=exhibit.sha256,
                    shown_sha256="",
                    content_type=exhibit.content_type,
                    data=b"",
                    withheld_reason=reason,
                    added_on=added,
                )
            shown = copies[-1].sha256
            shown_pdf = copies[-1].is_pdf
            # A picture is printed from a JPEG made straight from its pixels (no metadata
            # can travel in it); a redacted PDF leaves through its stripped copy.
            data = (
                self.evidence.exported_copy(copies[-1].id, redacted=False)
                if shown_pdf
                else self.evidence.printable_copy(copies[-1].id)
            )
            details.insert(0, f"added {added}, redacted for {rule.label}")
        elif exhibit.is_image:
            data = self.evidence.printable_copy(exhibit.id)
        else:
            data = self.evidence.content(exhibit.id)
        return BundleExhibit(
            number=exhibit.number,
            original_name=exhibit.original_name if full else "",
            description=_describe_exhibit(exhibit)
            if full
            else ("PDF (redacted copy)" if shown_pdf else "picture (redacted copy)"),
            sha256=exhibit.sha256,
            shown_sha256=shown,
            content_type=("application/pdf" if shown_pdf else "image/jpeg")
            if shown
            else exhibit.content_type,
            data=data,
            details=tuple(details),
            added_on=added,
        )

    # ----- the governors' report ------------------------------------------------------------

    def report_threshold(self) -> int:
        """The smallest count the governors' report prints (fewer is shown as "fewer than")."""
        with self.ctx.sessions() as session:
            record = session.get(SettingRecord, THRESHOLD_SETTING)
        try:
            return check_threshold(int(record.value)) if record else DEFAULT_THRESHOLD
        except (ValueError, ValidationError):
            return DEFAULT_THRESHOLD

    def set_report_threshold(self, threshold: int) -> int:
        """Change the smallest count the governors' report prints (head teacher's setting)."""
        threshold = check_threshold(threshold)
        self.ctx.require(
            Permission.SETTINGS, action="change report threshold", detail=str(threshold)
        )
        with self.ctx.sessions.begin() as session:
            record = session.get(SettingRecord, THRESHOLD_SETTING)
            if record is None:
                session.add(SettingRecord(key=THRESHOLD_SETTING, value=str(threshold)))
            else:
                record.value = str(threshold)
        return threshold

    def terms(self, start: date, end: date) -> tuple[tuple[Term, ...], bool]:
        """The school's terms overlapping the period (from the school profile), and whether
        they came from the profile (else the usual English terms are used)."""
        text = self.letters.profile.get().term_dates
        try:
            terms = parse_terms(text)
        except ValidationError:
            terms = ()
        if terms:
            return tuple(t for t in terms if t.end >= start and t.start <= end), True
        return default_terms(start, end), False

    def governors_report(
        self, start: date, end: date, threshold: int | None = None
    ) -> GovernorsReport:
        """Figures for cases opened from ``start`` to ``end`` (inclusive, London dates)."""
        self.ctx.require(Permission.REPORTS, action="governors report", detail=f"{start} to {end}")
        if end < start:
            raise ValidationError("The end of the period is before its start.")
        n = check_threshold(threshold) if threshold is not None else self.report_threshold()
        lo = datetime.combine(start, datetime.min.time()).replace(tzinfo=LONDON)
        hi = datetime.combine(end + timedelta(days=1), datetime.min.time()).replace(tzinfo=LONDON)
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(
                    CaseRecord.id,
                    CaseRecord.created_at,
                    CaseRecord.posted_at,
                    CaseRecord.reported_on,
                    CaseRecord.platform,
                    CaseRecord.status,
                    CaseRecord.categories,
                    CaseOutcomeRecord.outcome,
                    CaseOutcomeRecord.outcome_at,
                )
                .outerjoin(CaseOutcomeRecord, CaseOutcomeRecord.case_id == CaseRecord.id)
                .where(CaseRecord.created_at >= lo, CaseRecord.created_at < hi)
            ).all()
            removed_at = _removals_recorded(session, [r.id for r in rows])
            repeat_authors = _repeat_authors(session, [r.id for r in rows])
        closed_values = {s.value for s in CLOSED_STATUSES}
        standards: Counter[str] = Counter()
        platforms: Counter[str] = Counter()
        months: Counter[tuple[int, int]] = Counter()
        outcomes: Counter[str] = Counter()
        removals: list[Removal] = []
        closed = 0
        for r in rows:
            for category in decode_categories(r.categories):
                standards[category.value] += 1
            platform = r.platform.strip() or NO_PLATFORM
            platforms[platform] += 1
            local = to_london(r.created_at)
            months[(local.year, local.month)] += 1
            outcomes[OUTCOME_LABELS[CaseOutcome(r.outcome)] if r.outcome else NO_OUTCOME] += 1
            gone = [t for t in removed_at.get(r.id, ()) if t is not None]
            if r.outcome and CaseOutcome(r.outcome) in GONE_OUTCOMES:
                gone.append(r.outcome_at)
            if gone:
                removals.append(
                    Removal(
                        platform, r.posted_at, _reported_at(r.created_at, r.reported_on), min(gone)
                    )
                )
            if r.status in closed_values:
                closed += 1
        code = self.ctx.code
        by_standard = [
            (
                f"Standard {code.standard(info.standard_id).number}: {info.short_label}",
                standards.get(category.value, 0),
            )
            for category, info in sorted(
                CATEGORY_INFO.items(), key=lambda kv: code.standard(kv[1].standard_id).number
            )
        ]
        month_keys = []
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            month_keys.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        by_month = [(f"{MONTHS[m - 1][:3]} {y}", months.get((y, m), 0)) for y, m in month_keys]
        outcome_order = [OUTCOME_LABELS[o] for o in CaseOutcome] + [NO_OUTCOME]
        by_platform = merge_small(
            sorted(platforms.items(), key=lambda kv: (-kv[1], kv[0])), n, OTHER_PLATFORMS
        )
        total = len(rows)
        (total_figure,) = hide_small([("Cases", total)], n, adds_up=False)
        open_closed = hide_small([("Still open", total - closed), ("Closed", closed)], n)
        # Time to removal: per platform (small ones merged), and per term of the report.
        removal_platforms = merge_small(
            sorted(Counter(r.platform for r in removals).items(), key=lambda kv: (-kv[1], kv[0])),
            n,
            OTHER_PLATFORMS,
        )
        big = {label for label, _ in removal_platforms} - {OTHER_PLATFORMS}
        by_platform_removal = tuple(
            removal_times(
                label,
                [
                    r
                    for r in removals
                    if r.platform == label or (label == OTHER_PLATFORMS and r.platform not in big)
                ],
                n,
            )
            for label, _ in removal_platforms
        )
        terms, from_profile = self.terms(start, end)
        term_names = [t.name for t in terms]
        by_term: dict[str, list[Removal]] = {name: [] for name in term_names}
        for removal in removals:
            name = term_of(to_london(removal.reported_at).date(), terms)
            by_term.setdefault(name, []).append(removal)
        by_term_removal = tuple(removal_times(name, items, n) for name, items in by_term.items())
        return GovernorsReport(
            start=start,
            end=end,
            threshold=n,
            total=total_figure,
            open=open_closed[0],
            closed=open_closed[1],
            by_standard=hide_small(by_standard, n, adds_up=False),
            by_platform=hide_small(by_platform, n),
            by_month=hide_small(by_month, n),
            by_outcome=hide_small([(label, outcomes.get(label, 0)) for label in outcome_order], n),
            removals=removal_times("All platforms", removals, n),
            removal_by_platform=by_platform_removal,
            removal_by_term=by_term_removal,
            terms_from_profile=from_profile,
            case_count=total,
            repeat_authors=hide_small(
                [("People who wrote more than one of these posts", repeat_authors)],
                n,
                adds_up=False,
            )[0],
        )

    def governors_pdf(self, report: GovernorsReport) -> bytes:
        """The governors' report as PDF, with charts and tables."""
        from app.pdf.governors import render_governors_report

        _fonts()
        return render_governors_report(
            report,
            school=self.letters.profile.get().name or "The school",
            generated_on=format_long_date(london_today(self.ctx.now())),
        )

    @staticmethod
    def governors_csv(report: GovernorsReport) -> str:
        """The same figures as CSV (section, item, value), small counts hidden alike."""
        rows: list[list[Cell]] = [
            ["period", "from", report.start.isoformat()],
            ["period", "to", report.end.isoformat()],
            ["period", "counts hidden below", report.threshold],
            ["cases", "total", report.total.text],
            ["cases", "open", report.open.text],
            ["cases", "closed", report.closed.text],
        ]
        if report.repeat_authors is not None:
            rows.append(["cases", "people with more than one case", report.repeat_authors.text])
        for section, items in (
            ("standard", report.by_standard),
            ("platform", report.by_platform),
            ("month", report.by_month),
            ("outcome", report.by_outcome),
        ):
            rows += [[section, f.label, f.text] for f in items]
        for section, groups in (
            ("removal", (report.removals,)),
            ("removal by platform", report.removal_by_platform),
            ("removal by term", report.removal_by_term),
        ):
            for g in groups:
                rows += [
                    [section, f"{g.label}: removed or corrected", g.removed.text],
                    [section, f"{g.label}: median hours from report", _hours(g.median_from_report)],
                    [
                        section,
                        f"{g.label}: median hours from posting",
                        _hours(g.median_from_posting),
                    ],
                ]
        return csv_text(["section", "item", "value"], rows)

    # ----- the case list as CSV -------------------------------------------------------------

    def cases_csv(self, flt: CaseFilter, sort: CaseSort) -> str:
        """The case list as filtered and sorted, as CSV with UK dates."""
        self.ctx.require(Permission.VIEW_CASES, action="export case list")
        rows = self.cases.list_cases(flt, sort, 0, 10_000_000)
        header = [
            "Reference",
            "Title",
            "Posted by",
            "Platform",
            "Standards",
            "Status",
            "Follow-up due",
            "Overdue",
            "Last activity",
        ]
        return csv_text(
            header,
            (
                [
                    r.reference,
                    r.title,
                    r.poster,
                    r.platform,
                    "; ".join(CATEGORY_INFO[c].short_label for c in sorted(r.categories)),
                    STATUS_LABELS[r.status],
                    format_short_date(r.follow_up_due),
                    "yes" if r.overdue else "",
                    format_date_time(r.last_activity_at),
                ]
                for r in rows
            ),
        )


def _count(n: int, word: str) -> str:
    plural = "people" if word == "person" else word + "s"
    return f"{n} {word if n == 1 else plural}"


def _details_of(person: Person) -> list[str]:
    """A person's name first, then every contact detail recorded."""
    details = [person.name, *person.address_lines]
    details += [v for v in (person.postcode, person.email, person.phone) if v]
    if person.preferred_name:  # a pupil's "Millie" names her as surely as "Amelia Hart"
        details.append(person.preferred_name)
    return details


def _repeat_authors(session: Session, case_ids: list[int]) -> int:
    """How many people are linked as the author of more than one of these cases."""
    if not case_ids:
        return 0
    per_person = (
        select(CasePersonRecord.person_id)
        .where(
            CasePersonRecord.case_id.in_(case_ids),
            CasePersonRecord.role == CaseRole.AUTHOR.value,
        )
        .group_by(CasePersonRecord.person_id)
        .having(func.count(func.distinct(CasePersonRecord.case_id)) > 1)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(per_person)) or 0)


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _reported_at(created_at: datetime, reported_on: date | None) -> datetime:
    """When the post was reported: the moment the case was opened, or, when the report is
    recorded on an earlier day, the start of that day (London time)."""
    if reported_on is not None and reported_on < to_london(created_at).date():
        return london_midnight(reported_on)
    return created_at


def _removals_recorded(session: Session, case_ids: list[int]) -> dict[int, list[datetime]]:
    """Every moment a case's records say the post came down: a re-check that found it gone,
    an escalation step that ended in removal, the removal ticked off the checklist."""
    found: dict[int, list[datetime]] = {}
    if not case_ids:
        return found
    gone_steps = [o.value for o in GONE_OUTCOMES]
    for case_id, at in session.execute(
        select(CaseStepRecord.case_id, CaseStepRecord.taken_at).where(
            CaseStepRecord.case_id.in_(case_ids), CaseStepRecord.outcome.in_(gone_steps)
        )
    ).all():
        found.setdefault(case_id, []).append(at)
    for case_id, at in session.execute(
        select(CaseActionRecord.case_id, CaseActionRecord.done_at).where(
            CaseActionRecord.case_id.in_(case_ids),
            CaseActionRecord.rule_id == "record-removal",
            CaseActionRecord.done_at.is_not(None),
        )
    ).all():
        found.setdefault(case_id, []).append(at)
    for case_id, at, data in session.execute(
        select(EventRecord.case_id, EventRecord.at, EventRecord.data).where(
            EventRecord.case_id.in_(case_ids), EventRecord.kind == "post_rechecked"
        )
    ).all():
        if json.loads(data or "{}").get("still_up") is False:
            found.setdefault(case_id, []).append(at)
    return found
