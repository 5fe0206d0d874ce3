"""The stored files of safeguarding cases, kept sealed under the safeguarding key.

Evidence originals and the copies made from them, and the PDFs of letters, are written
sealed when their case is a safeguarding case (``BlobStorage.put_bytes(sealed=True)``).
This module brings files already stored to the form their cases ask for: after a case
joins or leaves safeguarding, and at a head teacher's sign-in (files of a casebook from
before sealing, or a re-seal a power cut interrupted). A file that only safeguarding
cases hold is kept only as its sealed copy; a file an ordinary case also holds is kept in
clear, since office staff may open it there.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import select, union_all

from app.db.models import CaseRecord, EvidenceRecord, LetterEmailRecord, LetterRecord
from app.db.sealing import is_safeguarding
from app.domain.categories import Category
from app.evidence.blobstore import BlobDamagedError, BlobStorage
from app.services.context import ServiceContext

log = logging.getLogger(__name__)


def _holders(ctx: ServiceContext, case_id: int | None) -> dict[str, list[str]]:
    """The categories of every case holding each file of ``case_id`` (or of any
    safeguarding case), by the file's hash."""
    sources = (
        (EvidenceRecord, EvidenceRecord.sha256),
        (LetterRecord, LetterRecord.pdf_sha256),
        (LetterEmailRecord, LetterEmailRecord.eml_sha256),
    )
    # Each question is one statement over the three tables (UNION ALL), not three: this
    # runs at every head teacher's sign-in, where compiling each statement afresh cost
    # more than running it.
    with ctx.sessions() as session:
        queries = []
        for model, column in sources:
            query = select(column).join(CaseRecord, CaseRecord.id == model.case_id)
            if case_id is not None:
                query = query.where(CaseRecord.id == case_id)
            else:
                query = query.where(CaseRecord.categories.contains(Category.SAFEGUARDING.value))
            queries.append(query)
        wanted = {str(sha) for sha in session.scalars(union_all(*queries)) if sha}
        holders: dict[str, list[str]] = defaultdict(list)
        if not wanted:
            return holders
        chosen = sorted(wanted)
        rows = session.execute(
            union_all(
                *(
                    select(column, CaseRecord.categories)
                    .join(CaseRecord, CaseRecord.id == model.case_id)
                    .where(column.in_(chosen))
                    for model, column in sources
                )
            )
        )
        for sha, categories in rows:
            holders[str(sha)].append(str(categories))
    return holders


def reseal_files(ctx: ServiceContext, store: BlobStorage, case_id: int | None = None) -> int:
    """Seal (or unseal) the stored files of one case, or of every safeguarding case, as
    their cases ask; return how many files changed form. Needs the safeguarding key to
    unseal, and its public half to seal."""
    changed = 0
    for sha, categories in _holders(ctx, case_id).items():
        want_sealed = all(is_safeguarding(c) for c in categories)
        has_clear = store.has_copy(sha, sealed=False)
        has_sealed = store.has_copy(sha, sealed=True)
        try:
            if want_sealed and has_clear:
                if not has_sealed:
                    store.put_bytes(store.read_bytes(sha), sealed=True)
                if store.has_copy(sha, sealed=True):
                    store.drop_copy(sha, sealed=False)
                    changed += 1
            elif not want_sealed and has_sealed:
                if not has_clear:
                    store.put_bytes(store.read_bytes(sha), sealed=False)
                store.drop_copy(sha, sealed=True)
                changed += 1
        except (OSError, BlobDamagedError):
            # Missing, damaged, or sealed while this user has no key: "Verify" reports it,
            # and a head's next sign-in tries again.
            log.warning("Could not re-seal a stored file", exc_info=True)
    if changed:
        log.info("Re-sealed %d stored file(s)", changed)
    return changed
