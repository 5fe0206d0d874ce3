"""Names are shown as typed: directional controls and zero-width characters are refused
in names, handles, titles, user names and file names, with one sentence; joiners that a
real name needs (Persian, Devanagari, an emoji family) are kept as typed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from app.db.models import CaseRecord, PersonRecord
from app.domain.access import Role
from app.domain.errors import EvidenceRejected, ValidationError
from app.domain.people import PersonKind
from app.domain.records import CaseDetail, PersonDraft
from app.services.casebook import Services
from tests.conftest import case_draft

SPOOFS = {
    "right_to_left_override": ("@ad\u202enimda", "U+202E"),
    "left_to_right_isolate": ("Mrs \u2066Head\u2069", "U+2066"),
    "right_to_left_mark": ("Ann\u200f Smith", "U+200F"),
    "zero_width_space": ("Zo\u200bë Parent", "U+200B"),
    "zero_width_joiner_in_latin": ("ad\u200dmin", "U+200D"),
    "zero_width_non_joiner_at_the_end": ("Mary\u200c", "U+200C"),
    "word_joiner": ("Sam\u2060Smith", "U+2060"),
    "byte_order_mark_inside": ("Jo\ufeffhn", "U+FEFF"),
    "soft_hyphen": ("Ja\u00adne", "U+00AD"),
    "joiner_in_cyrillic": ("Ел\u200dена", "U+200D"),
}
REAL_NAMES = {
    "persian_zwnj": "مهر\u200cناز",
    "devanagari_zwj": "क्\u200dषमा",
    "emoji_family_title": "Post with 👨\u200d👩\u200d👧",
}


def _count(services: Services, model: type) -> int:
    with services.ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _one_sentence(message: str, code: str) -> None:
    assert code in message and "\n" not in message and message.endswith(".")


@pytest.mark.parametrize("kind", sorted(SPOOFS))
@pytest.mark.parametrize("field", ["title", "account_handle", "platform", "reported_by"])
def test_case_fields_refuse_hidden_characters(services: Services, kind: str, field: str) -> None:
    text, code = SPOOFS[kind]
    values = {"title": "Ordinary title", field: text}
    title = values.pop("title")
    with pytest.raises(ValidationError) as caught:
        services.cases.open_case(case_draft(title, **values))
    _one_sentence(caught.value.message, code)
    assert _count(services, CaseRecord) == 0


@pytest.mark.parametrize("kind", sorted(SPOOFS))
def test_person_names_refuse_hidden_characters(services: Services, kind: str) -> None:
    text, code = SPOOFS[kind]
    with pytest.raises(ValidationError) as caught:
        services.people.add_person(PersonDraft(name=text, kind=PersonKind.PARENT))
    _one_sentence(caught.value.message, code)
    assert "name" in caught.value.message
    assert _count(services, PersonRecord) == 0


@pytest.mark.parametrize("kind", sorted(SPOOFS))
def test_user_names_refuse_hidden_characters(services: Services, kind: str) -> None:
    text, code = SPOOFS[kind]
    with pytest.raises(ValidationError) as caught:
        services.users.add_user(text, Role.OFFICE, "a long enough pass phrase 42")
    _one_sentence(caught.value.message, code)


@pytest.mark.parametrize("kind", sorted(SPOOFS))
def test_file_names_refuse_hidden_characters(
    services: Services, make_case: Callable[..., CaseDetail], kind: str
) -> None:
    text, code = SPOOFS[kind]
    case = make_case()
    with pytest.raises(EvidenceRejected) as caught:
        services.evidence.add_bytes(case.id, [(f"{text}.txt", b"hello")])
    message = caught.value.message
    _one_sentence(message, code)
    # The name in the refusal shows the hidden character rather than obeying it.
    assert f"⟨{code}⟩" in message or code in ("U+200C", "U+200D")
    assert not [p for p in services.paths.blobs.rglob("*") if p.is_file()]


def test_a_spoofed_extension_is_refused_not_shown_reversed(
    services: Services, make_case: Callable[..., CaseDetail]
) -> None:
    case = make_case()
    with pytest.raises(EvidenceRejected, match=r"invoice⟨U\+202E⟩gpj\.exe"):
        services.evidence.add_bytes(case.id, [("invoice\u202egpj.exe", b"hello")])


@pytest.mark.parametrize("kind", sorted(REAL_NAMES))
def test_joiners_a_real_name_needs_are_kept_as_typed(
    services: Services, make_case: Callable[..., CaseDetail], kind: str
) -> None:
    text = REAL_NAMES[kind]
    person = services.people.add_person(PersonDraft(name=text, kind=PersonKind.PARENT))
    assert person.name == text
    case = make_case(title=text, account_handle=text)
    assert case.title == text and case.account_handle == text
    (added,) = services.evidence.add_bytes(case.id, [(f"{text}.txt", b"hello")])
    assert added.exhibit.original_name == f"{text}.txt"
