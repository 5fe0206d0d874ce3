"""People linked to a case and the part they play in it."""

from __future__ import annotations

from enum import StrEnum

from app.domain.choices import parse_choice


class PersonKind(StrEnum):
    """Who the person is to the school."""

    PARENT = "parent"
    CARER = "carer"
    VISITOR = "visitor"
    STAFF = "staff"
    PUPIL = "pupil"
    OTHER = "other"


PERSON_KIND_LABELS: dict[PersonKind, str] = {
    PersonKind.PARENT: "Parent",
    PersonKind.CARER: "Carer",
    PersonKind.VISITOR: "Visitor",
    PersonKind.STAFF: "Member of staff",
    PersonKind.PUPIL: "Pupil",
    PersonKind.OTHER: "Other",
}


class CaseRole(StrEnum):
    """The part a person plays in one case."""

    AUTHOR = "author"
    REPORTER = "reporter"
    SUBJECT = "subject"
    WITNESS = "witness"


ROLE_LABELS: dict[CaseRole, str] = {
    CaseRole.AUTHOR: "Author of post",
    CaseRole.REPORTER: "Reported it",
    CaseRole.SUBJECT: "Subject of post",
    CaseRole.WITNESS: "Witness",
}


# How the chronology speaks of a role: "Zoë linked as the author of the post".
ROLE_PHRASES: dict[CaseRole, str] = {
    CaseRole.AUTHOR: "the author of the post",
    CaseRole.REPORTER: "the person who reported it",
    CaseRole.SUBJECT: "the subject of the post",
    CaseRole.WITNESS: "a witness",
}


def parse_role(value: str) -> CaseRole:
    """Turn a role id into a ``CaseRole``, or explain the choices."""
    return parse_choice(CaseRole, value, "a role")


def parse_person_kind(value: str) -> PersonKind:
    """Turn a person kind id into a ``PersonKind``, or explain the choices."""
    return parse_choice(PersonKind, value, "a kind of person")


def name_key(name: str) -> str:
    """A case-insensitive, space-normalised key used to match a person by name."""
    return " ".join(name.casefold().split())
