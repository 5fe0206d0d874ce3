"""Opening a casebook: the data folder, the database, migrations and the services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from app.config import DataPaths, current_user, prepare_data_dir
from app.db.engine import (
    make_engine,
    make_server_engine,
    make_session_factory,
    migrate,
    migrate_server,
)
from app.domain.dates import utc_now
from app.evidence.blobstore import BlobStorage, BlobStore
from app.services.audit import AuditService
from app.services.backup import BackupService
from app.services.blobs import DatabaseBlobStore
from app.services.cases import CaseService
from app.services.context import ServiceContext, load_default_code
from app.services.evidence import EvidenceService, referenced_blob_hashes
from app.services.letters import LetterService
from app.services.people import PersonService
from app.services.reports import ReportService
from app.services.retention import RetentionService
from app.services.users import UserService
from app.services.workflow import WorkflowService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the UI and CLI need, for one open casebook. Passed in, never global."""

    ctx: ServiceContext
    paths: DataPaths
    engine: Engine
    cases: CaseService
    people: PersonService
    evidence: EvidenceService
    letters: LetterService
    workflow: WorkflowService
    reports: ReportService
    users: UserService
    audit: AuditService
    backups: BackupService
    retention: RetentionService
    migration_backup: Path | None = None

    def sweep_blobs(self, written_before: float | None = None) -> list[str]:
        """Remove crash leftovers and blobs no record refers to (evidence, letters, profile).

        Only the process holding the data folder's lock may call this: another process's
        write in progress would otherwise lose its new blob before its row is committed.
        While this process may itself be writing (the window's background sweep), pass
        ``written_before`` (when it started) so that its own imports are left alone.
        """
        with self.ctx.sessions() as session:
            referenced = referenced_blob_hashes(session)
        referenced |= self.letters.referenced_blobs()
        return self.evidence.store.sweep(referenced, written_before)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def open_casebook(
    data_dir: Path,
    *,
    actor: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    may_migrate: bool = True,
    database_url: str | None = None,
    sweep: bool = True,
) -> Services:
    """Open (creating and migrating as needed) the casebook in ``data_dir``.

    ``may_migrate=False`` is for a process that does not hold the data folder's lock:
    it may read and write an up-to-date database but must not change its schema.
    ``database_url`` (PostgreSQL) puts the records and their files on a server that
    several PCs share; the data folder then keeps only this PC's log and lock.
    """
    paths = prepare_data_dir(data_dir)
    engine = make_server_engine(database_url) if database_url else make_engine(paths.database)
    backup = None
    try:
        if database_url:
            migrate_server(engine, may_change=may_migrate)
        else:
            backup = migrate(engine, paths.database, paths.backups, may_change=may_migrate)
    except BaseException:
        engine.dispose()
        raise
    ctx = ServiceContext(
        sessions=make_session_factory(engine),
        actor=actor or current_user(),
        code=load_default_code(),
        data_dir=paths.root,
        clock=clock,
    )
    audit = AuditService(ctx)
    ctx.audit_sink = audit.record
    cases = CaseService(ctx)
    blobs: BlobStorage = DatabaseBlobStore(ctx) if database_url else BlobStore(paths.blobs)
    evidence = EvidenceService(ctx, blobs)
    letters = LetterService(ctx, blobs, cases)
    workflow = WorkflowService(ctx, evidence)
    services = Services(
        ctx=ctx,
        paths=paths,
        engine=engine,
        cases=cases,
        people=PersonService(ctx),
        evidence=evidence,
        letters=letters,
        workflow=workflow,
        reports=ReportService(ctx, cases, evidence, letters, workflow),
        users=UserService(ctx),
        audit=audit,
        backups=BackupService(ctx, paths, blobs if isinstance(blobs, BlobStore) else None, engine),
        retention=RetentionService(ctx, blobs, evidence, letters),
        migration_backup=backup,
    )
    if may_migrate and sweep:
        # Only the process holding the data folder may tidy the store: another process's
        # import in progress would otherwise lose its temporary files. The window passes
        # sweep=False and tidies on a worker once it is showing (see ui/app.py).
        services.sweep_blobs()
    return services
