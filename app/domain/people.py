"""People linked to a case and the part they play in it."""

from __future__ import annotations

from enum import StrEnum

from app.domain.choices import parse_choice


class PersonKind(StrEnum):
    """Who the person is to the school."""

    PARENT = "parent"
    CARER = "carer"
    PUPIL = "pupil"
    VISITOR = "visitor"
    STAFF = "staff"
    OTHER = "other"


PERSON_KIND_LABELS: dict[PersonKind, str] = {
    PersonKind.PARENT: "Parent",
    PersonKind.CARER: "Carer",
    PersonKind.PUPIL: "Pupil",
    PersonKind.VISITOR: "Visitor",
    PersonKind.STAFF: "Member of staff",
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


# Titles offered in the person dialog; any other short title may be typed.
COMMON_TITLES = ("Mr", "Mrs", "Miss", "Ms", "Mx", "Dr", "Prof", "Rev")

NO_NAME_SALUTATION = "Dear Parent/Carer"


def full_name(forenames: str, surname: str) -> str:
    """'Zoë Łukasiewicz' from its parts, spaces normalised."""
    return " ".join(f"{forenames} {surname}".split())


def salutation(title: str = "", surname: str = "", name: str = "") -> str:
    """How a letter greets its recipient, without the comma: "Dear Mrs Whitfield"; with no
    title "Dear Zoë Łukasiewicz"; and "Dear Parent/Carer" when no name is known."""
    title = " ".join(title.split()).rstrip(".") if title.strip() not in {"", "."} else ""
    surname = " ".join(surname.split())
    name = " ".join(name.split())
    if title and (surname or name):
        return f"Dear {title} {surname or name}"
    if name or surname:
        return f"Dear {name or surname}"
    return NO_NAME_SALUTATION


class Restriction(StrEnum):
    """Why a letter to a contact must be confirmed first."""

    NO_PARENTAL_RESPONSIBILITY = "no_parental_responsibility"
    COURT_ORDER = "court_order"
    CONTACT_RESTRICTION = "contact_restriction"


RESTRICTION_LABELS: dict[Restriction, str] = {
    Restriction.NO_PARENTAL_RESPONSIBILITY: "has no parental responsibility",
    Restriction.COURT_ORDER: "has a court order recorded",
    Restriction.CONTACT_RESTRICTION: "has a contact restriction recorded",
}


def restrictions_of(
    parental_responsibility: bool | None, court_order: bool, contact_restriction: bool
) -> tuple[Restriction, ...]:
    """The flags that make a letter to this contact need confirming; ``None`` for parental
    responsibility means not known (typed in by hand), which is not itself a flag."""
    found = []
    if parental_responsibility is False:
        found.append(Restriction.NO_PARENTAL_RESPONSIBILITY)
    if court_order:
        found.append(Restriction.COURT_ORDER)
    if contact_restriction:
        found.append(Restriction.CONTACT_RESTRICTION)
    return tuple(found)


def describe_restrictions(name: str, restrictions: tuple[Restriction, ...]) -> str:
    """'Mr Dale Pike has a court order recorded and has no parental responsibility.'"""
    parts = [RESTRICTION_LABELS[r] for r in restrictions]
    if not parts:
        return ""
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{name} {joined}."
