"""Deletion really forgets: the audit trail keeps the fact, not the titles, names or files.

The database is decrypted page by page (free pages and the write-ahead log included), as
someone holding the data key could read it, and searched for what the case contained.
"""

from __future__ import annotations

import io
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from PIL import Image

from app.domain.categories import Category
from app.domain.evidence import EvidenceDetails
from app.domain.letters import LetterKind
from app.domain.people import CaseRole, PersonKind
from app.domain.records import CaseDraft, PersonDraft
from app.domain.status import CaseStatus
from app.services.audit import FORGOTTEN
from app.services.casebook import Services
from app.services.demo import DEMO_SCHOOL_PROFILE
from tests.conftest import reopen

TITLE = "Post naming Tommy Pryce-Jones at sports day"
FILE_NAME = "Tommy_Pryce-Jones_4B_sports_day.png"
REPORTER = "Priya Shahzadeh"
STREET = "12 Mill Lane"
REASON = "Six years since closure; reviewed by the head"

PAGE = 4096
RESERVE = 80  # SQLCipher 4: 16-byte IV and 64-byte HMAC at the end of every page


def _decrypt_page(page: bytes, key: bytes, first: bool) -> bytes:
    start = 16 if first else 0  # page 1 begins with the file's salt
    iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE - RESERVE]) + decryptor.finalize()


def decrypted_bytes(database: Path, key: bytes) -> bytes:
    """Every page of the database file and its write-ahead log, decrypted."""
    out = []
    data = database.read_bytes()
    for offset in range(0, len(data) - PAGE + 1, PAGE):
        out.append(_decrypt_page(data[offset : offset + PAGE], key, offset == 0))
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        frames = wal.read_bytes()[32:]
        for offset in range(0, len(frames) - (24 + PAGE) + 1, 24 + PAGE):
            number = int.from_bytes(frames[offset : offset + 4], "big")
            page = frames[offset + 24 : offset + 24 + PAGE]
            out.append(_decrypt_page(page, key, number == 1))
    return b"".join(out)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "PNG")
    return out.getvalue()


def _full_case(services: Services) -> int:
    services.letters.profile.save(DEMO_SCHOOL_PROFILE)
    reporter = services.people.add_person(
        PersonDraft(name=REPORTER, kind=PersonKind.PARENT, address_lines=(STREET, "Ashby"))
    )
    case = services.cases.open_case(
        CaseDraft(
            title=TITLE,
            categories=frozenset({Category.ABUSIVE}),
            summary=f"Reported by {REPORTER} of {STREET}.",
            platform="Facebook",
            post_url="https://www.facebook.com/groups/ashby/posts/1",
        )
    )
    services.cases.link_person(case.id, reporter.id, CaseRole.REPORTER)
    services.cases.add_note(case.id, f"Phoned {REPORTER}.")
    added = services.evidence.add_bytes(case.id, [(FILE_NAME, _png())], EvidenceDetails())
    services.evidence.content(added[0].exhibit.id)
    services.evidence.exported_copy(added[0].exhibit.id, False)
    letter = services.letters.issue(
        case.id, LetterKind.ACKNOWLEDGEMENT, reporter.id, confirm_post_details=True
    )
    services.letters.letter_pdf(letter.id)
    services.cases.get_case(case.id)
    services.cases.change_status(case.id, CaseStatus.CLOSED_NO_ACTION)
    return case.id


def test_deleted_case_leaves_no_title_name_or_file_name_in_the_trail(
    services: Services,
) -> None:
    services.users.create_first_user("head", "tide-marble-orchard-42")
    case_id = _full_case(services)
    reference = services.cases.get_case(case_id).reference
    shown = " ".join(e.detail for e in services.audit.entries(target=reference))
    assert TITLE in shown and FILE_NAME in shown and REPORTER in shown  # until deleted
    key = services.data_key
    assert key is not None
    assert TITLE.encode("utf-8") in decrypted_bytes(services.paths.database, key.raw)

    services.retention.delete_case(case_id, REASON)

    entries = services.audit.entries(target=reference)
    details = " ".join(e.detail for e in entries)
    for secret in (TITLE, FILE_NAME, REPORTER, STREET, "Pryce-Jones", "Tommy"):
        assert secret not in details
    assert FORGOTTEN in details
    deleted = entries[0]
    assert (deleted.action, deleted.target, deleted.detail) == ("case deleted", reference, REASON)
    assert deleted.user == "head"
    assert services.audit.verify().ok
    exported = services.audit.export_csv(entries).decode("utf-8-sig")
    assert "Pryce-Jones" not in exported and REPORTER not in exported

    services.close()
    plain = decrypted_bytes(services.paths.database, key.raw)
    assert b"SQLite format 3" not in plain[:16] and b"audit_entries" in plain  # really decrypted
    for secret in (TITLE, FILE_NAME, REPORTER, STREET, "Pryce-Jones"):
        assert secret.encode("utf-8") not in plain, secret
    again = reopen(services)
    try:
        assert again.audit.verify().ok
    finally:
        again.close()


def test_a_deleted_case_reference_is_never_issued_again(services: Services) -> None:
    first = services.cases.open_case(CaseDraft(title="One", categories={Category.ABUSIVE}))
    second = services.cases.open_case(CaseDraft(title="Two", categories={Category.ABUSIVE}))
    services.cases.change_status(second.id, CaseStatus.CLOSED_NO_ACTION)
    services.retention.delete_case(second.id, REASON)
    third = services.cases.open_case(CaseDraft(title="Three", categories={Category.ABUSIVE}))
    assert third.reference not in (first.reference, second.reference)
    assert third.reference.endswith("-0003")
    # Also after the newest case of all is deleted and the casebook opened again.
    services.cases.change_status(third.id, CaseStatus.CLOSED_NO_ACTION)
    services.retention.delete_case(third.id, REASON)
    again = reopen(services)
    try:
        fourth = again.cases.open_case(CaseDraft(title="Four", categories={Category.ABUSIVE}))
        assert fourth.reference.endswith("-0004")
        history = again.audit.entries(target=third.reference)
        assert [e.action for e in history][:2] == ["case deleted", "delete case"]
        assert all(e.detail != "Four" for e in history)
    finally:
        again.close()
