"""Database tables. Alembic owns the schema; these classes mirror it.

The annotations are evaluated as the classes are made (no ``from __future__ import
annotations``): SQLAlchemy would otherwise evaluate each of their strings itself, which
cost an eighth of importing the tables in every command's start. A relationship to a class
defined further down names it in quotes.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.sealing import SealedText
from app.db.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class CaseRecord(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("ref_year", "ref_number", name="uq_cases_ref_year_number"),
        Index("ix_cases_status", "status"),
        Index("ix_cases_follow_up_due", "follow_up_due"),
        # Covers the overdue count: no case row is read to check its status.
        Index("ix_cases_follow_up_due_status", "follow_up_due", "status"),
        # One status in the list's usual order, read from the index.
        Index("ix_cases_status_activity", "status", "last_activity_at"),
        # Finds the sealed cases (app.services.listing.sealed_search_text).
        Index("ix_cases_sealed", text("substr(search_text, 1, 5)")),
        Index("ix_cases_last_activity_at", "last_activity_at"),
        Index("ix_cases_title", "title"),
        Index("ix_cases_poster", "poster"),
        Index("ix_cases_platform", "platform"),
        Index("ix_cases_categories", "categories"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    ref_year: Mapped[int] = mapped_column(Integer)
    ref_number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(SealedText("cases.title"))
    summary: Mapped[str] = mapped_column(SealedText("cases.summary"), default="")
    platform: Mapped[str] = mapped_column(String(100), default="")
    post_url: Mapped[str] = mapped_column(SealedText("cases.post_url"), default="")
    account_handle: Mapped[str] = mapped_column(SealedText("cases.account_handle"), default="")
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reported_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reported_by: Mapped[str] = mapped_column(SealedText("cases.reported_by"), default="")
    status: Mapped[str] = mapped_column(String(30))
    follow_up_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Kept in step by the services so that the list can sort and filter 100,000 rows
    # without joins: the sorted category ids, the first author's name, and a
    # lower-cased text of everything the search box looks at.
    categories: Mapped[str] = mapped_column(String(100), default="")
    poster: Mapped[str] = mapped_column(SealedText("cases.poster"), default="")
    search_text: Mapped[str] = mapped_column(SealedText("cases.search_text"), default="")
    code_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Retention (issue 7): safeguarding records are kept until the child is 25.
    child_date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Where the post was made (a group or page), and for an inaccurate post what is wrong
    # and the correct facts: letters name the post and state the facts.
    post_place: Mapped[str] = mapped_column(SealedText("cases.post_place"), default="")
    inaccurate_text: Mapped[str] = mapped_column(SealedText("cases.inaccurate_text"), default="")
    correct_facts: Mapped[str] = mapped_column(SealedText("cases.correct_facts"), default="")
    barring_conduct: Mapped[str] = mapped_column(SealedText("cases.barring_conduct"), default="")

    category_links: Mapped[list["CaseCategoryRecord"]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    people_links: Mapped[list["CasePersonRecord"]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    events: Mapped[list["EventRecord"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="EventRecord.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseCategoryRecord(Base):
    __tablename__ = "case_categories"
    __table_args__ = (Index("ix_case_categories_category", "category"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(30), primary_key=True)

    case: Mapped["CaseRecord"] = relationship(back_populates="category_links")


class PersonRecord(Base):
    __tablename__ = "people"
    __table_args__ = (Index("ix_people_name_key", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(SealedText("people.name"))
    name_key: Mapped[str] = mapped_column(SealedText("people.name_key"))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(SealedText("people.address"), default="")
    postcode: Mapped[str] = mapped_column(SealedText("people.postcode"), default="")
    email: Mapped[str] = mapped_column(SealedText("people.email"), default="")
    phone: Mapped[str] = mapped_column(SealedText("people.phone"), default="")
    relationship_to_pupils: Mapped[str] = mapped_column(
        "relationship", SealedText("people.relationship"), default=""
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Issue 21: names in parts, and what the school's MIS says about pupils and contacts.
    title: Mapped[str] = mapped_column(SealedText("people.title"), default="")
    forenames: Mapped[str] = mapped_column(SealedText("people.forenames"), default="")
    surname: Mapped[str] = mapped_column(SealedText("people.surname"), default="")
    preferred_name: Mapped[str] = mapped_column(SealedText("people.preferred_name"), default="")
    year_group: Mapped[str] = mapped_column(SealedText("people.year_group"), default="")
    reg_group: Mapped[str] = mapped_column(SealedText("people.reg_group"), default="")
    mis_id: Mapped[str] = mapped_column(SealedText("people.mis_id"), default="")
    parental_responsibility: Mapped[bool | None] = mapped_column(nullable=True)
    contact_priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    court_order: Mapped[bool] = mapped_column(default=False)
    contact_restriction: Mapped[bool] = mapped_column(default=False)
    # The name folded as the search box folds it ("zoe" finds Zoë); name_key keeps accents.
    search_name: Mapped[str] = mapped_column(SealedText("people.search_name"), default="")

    case_links: Mapped[list["CasePersonRecord"]] = relationship(back_populates="person")


class CasePersonRecord(Base):
    __tablename__ = "case_people"
    __table_args__ = (Index("ix_case_people_person_id", "person_id"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped["CaseRecord"] = relationship(back_populates="people_links")
    person: Mapped["PersonRecord"] = relationship(back_populates="case_links")


class FamilyLinkRecord(Base):
    """A contact of a pupil, as the MIS records it."""

    __tablename__ = "family_links"
    __table_args__ = (Index("ix_family_links_contact_id", "contact_id"),)

    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    relationship: Mapped[str] = mapped_column(String(100), default="")
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PersonImportRecord(Base):
    """One import of people from the MIS: who, when, from which file, and its counts."""

    __tablename__ = "person_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(300))
    system: Mapped[str] = mapped_column(String(40))
    counts: Mapped[str] = mapped_column(Text)  # JSON
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class PersonImportChangeRecord(Base):
    """A person an import added or changed, with their details before, for undoing it."""

    __tablename__ = "person_import_changes"
    __table_args__ = (
        Index("ix_person_import_changes_import_id", "import_id"),
        Index("ix_person_import_changes_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("person_imports.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))  # "added" or "updated"
    before: Mapped[str] = mapped_column(
        SealedText("person_import_changes.before", "{}"), default="{}"
    )


class EventRecord(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(SealedText("events.summary"))
    data: Mapped[str] = mapped_column(SealedText("events.data", "{}"), default="{}")

    case: Mapped["CaseRecord"] = relationship(back_populates="events")


class CodeVersionRecord(Base):
    """A revised Code of Conduct the school adopted; the shipped version is never stored."""

    __tablename__ = "code_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    effective_on: Mapped[date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text)  # the Code as JSON, its words verbatim
    source_name: Mapped[str] = mapped_column(String(260))
    adopted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    adopted_by: Mapped[str] = mapped_column(String(200))


class SettingRecord(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# ----- Letters (issue #5): templates the school edited and letters it issued ---------------


class LetterTemplateRecord(Base):
    """One saved version of the school's own copy of a letter template."""

    __tablename__ = "letter_templates"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_letter_templates_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class LetterRecord(Base):
    """A letter issued on a case: what was printed, to whom, how, and the PDF itself."""

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    template_version: Mapped[str] = mapped_column(String(40))
    recipient_name: Mapped[str] = mapped_column(SealedText("letters.recipient_name"))
    subject: Mapped[str] = mapped_column(SealedText("letters.subject"))
    letter_date: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10))
    field_values: Mapped[str] = mapped_column(
        SealedText("letters.field_values", "{}")
    )  # JSON: every value the template used
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(200))
    # Set when the school records that the letter left (posted, handed over, emailed);
    # until then the letter is prepared, not sent.
    sent_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    sent_method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    sent_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sent_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Worked out when the letter is recorded as sent: the reply-by clock starts then.
    reply_by: Mapped[date | None] = mapped_column(Date, nullable=True)


class LetterEmailRecord(Base):
    """A letter sent (or being sent) by email: written before the server is contacted.

    ``state`` is "pending" while an attempt is under way, or when one was interrupted
    before the server answered (it may have been delivered); "failed" when the server
    definitely did not take it; "sent" once it accepted it. The Message-ID is made once
    and kept, so a second attempt is the same message.
    """

    __tablename__ = "letter_emails"
    __table_args__ = (Index("ix_letter_emails_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(
        ForeignKey("letters.id", ondelete="CASCADE"), unique=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    state: Mapped[str] = mapped_column(String(10))
    to_address: Mapped[str] = mapped_column(SealedText("letter_emails.to_address"))
    cc_address: Mapped[str] = mapped_column(SealedText("letter_emails.cc_address"), default="")
    eml_sha256: Mapped[str] = mapped_column(String(64))
    eml_size: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_by: Mapped[str] = mapped_column(String(200))
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    server_reply: Mapped[str] = mapped_column(SealedText("letter_emails.server_reply"), default="")


# ----- Evidence (issue 4) ---------------------------------------------------------------


class EvidenceRecord(Base):
    """A stored file: an original exhibit as received, or a copy made from one."""

    __tablename__ = "evidence"
    __table_args__ = (
        Index("ix_evidence_case_id", "case_id"),
        Index("ix_evidence_sha256", "sha256"),
        Index("ix_evidence_parent_id", "parent_id"),
        Index(
            "uq_evidence_case_number_original",
            "case_id",
            "number",
            unique=True,
            # The migration (0003) gives a server the same WHERE; naming the PostgreSQL
            # option here would load that dialect in every process that imports the models.
            sqlite_where=text("kind = 'original'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), nullable=True
    )
    original_name: Mapped[str] = mapped_column(SealedText("evidence.original_name"))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    page_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    captured_by: Mapped[str] = mapped_column(SealedText("evidence.captured_by"), default="")
    source: Mapped[str] = mapped_column(SealedText("evidence.source"), default="")
    post_url: Mapped[str] = mapped_column(SealedText("evidence.post_url"), default="")
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(SealedText("evidence.note"), default="")
    metadata_json: Mapped[str] = mapped_column(
        SealedText("evidence.metadata_json", "{}"), default="{}"
    )
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The words read from it (OCR, a PDF's text layer, an email), and whether still to read.
    extracted_text: Mapped[str] = mapped_column(
        SealedText("evidence.extracted_text"), default="", server_default=""
    )
    text_state: Mapped[str] = mapped_column(String(20), default="", server_default="")


# ----- Workflow (issue 6): checklist actions, escalation steps and outcomes -----------------


class CaseActionRecord(Base):
    """One item of a case's checklist, planned from the school's policy."""

    __tablename__ = "case_actions"
    __table_args__ = (
        Index("ix_case_actions_case_id", "case_id"),
        Index("ix_case_actions_open_due", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(500))
    letter: Mapped[str] = mapped_column(String(30), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(SealedText("case_actions.note"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseStepRecord(Base):
    """A step of the escalation ladder taken on a case, with its outcome and date."""

    __tablename__ = "case_steps"
    __table_args__ = (Index("ix_case_steps_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(500))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(SealedText("case_steps.note"), default="")
    # The reference number a platform or helpline gave the report (empty if none).
    reference: Mapped[str] = mapped_column(String(200), default="", server_default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseOutcomeRecord(Base):
    """How a case ended, and how long the post stayed up after it was reported."""

    __tablename__ = "case_outcomes"
    __table_args__ = (Index("ix_case_outcomes_outcome_at", "outcome_at"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(30))
    outcome_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hours_to_removal: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))


# ----- Security (issue #7): users and the hash-chained audit trail ------------------------


class UserRecord(Base):
    """A person who signs in; the password is kept only as an Argon2id hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    # Lower-cased name: sign-in ignores case, and two users cannot differ only by case.
    name_key: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(default=False)
    retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A MAC under the safeguarding key over name and role: office staff cannot make one.
    seal: Mapped[str] = mapped_column(Text, default="", server_default="")


class AuditEntryRecord(Base):
    """One line of the audit trail; ``hash`` covers the line and the previous line's hash."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # HMAC of seq and hash under this entry's own key (services/audit.py); None before the
    # trail was sealed.
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditSealRecord(Base):
    """The key the next audit entry is MACed with (one row; None until the trail is sealed)."""

    __tablename__ = "audit_seal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_seq: Mapped[int] = mapped_column(Integer)
    entry_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditCheckpointRecord(Base):
    """A head teacher's seal over the trail up to ``seq``, and the next run's sealed key."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user: Mapped[str] = mapped_column(String(60))
    key_check: Mapped[str] = mapped_column(String(32))
    entry_key: Mapped[str] = mapped_column(String(200))
    mac: Mapped[str] = mapped_column(String(64))


class AuditCaseKeyRecord(Base):
    """The key sealing the details of one case's audit entries; None once it is deleted."""

    __tablename__ = "audit_case_keys"

    reference: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# ----- Shared storage (issue 8): blobs in the database for a casebook on a server ---------


class BlobRecord(Base):
    """The bytes of one blob, for a casebook every PC reaches through PostgreSQL."""

    __tablename__ = "blobs"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ----- Retention (issue 7): legal holds and what remains of deleted cases -----------------


class LegalHoldRecord(Base):
    """A case that must be kept whatever its review date says."""

    __tablename__ = "legal_holds"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
    set_by: Mapped[str] = mapped_column(String(200))


class CaseDeletionRecord(Base):
    """All that remains of a deleted case: its reference, when, who and why."""

    __tablename__ = "case_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)


class SubjectAccessRequestRecord(Base):
    """A subject access request: who, received when, identity checked, due, answered."""

    __tablename__ = "subject_access_requests"
    __table_args__ = (Index("ix_subject_access_requests_person_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    requester_name: Mapped[str] = mapped_column(String(200))
    received_on: Mapped[date] = mapped_column(Date)
    identity_checked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    identity_note: Mapped[str] = mapped_column(String(500), default="")
    due_on: Mapped[date] = mapped_column(Date)
    extended_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    responded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    response: Mapped[str] = mapped_column(Text, default="")  # JSON: what was sent, counts
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ----- Encryption at rest (issue 7): the keyring of a casebook on a server ----------------


class KeyringRecord(Base):
    """The keyring document of a casebook shared through PostgreSQL (one row, id 1)."""

    __tablename__ = "keyring"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
