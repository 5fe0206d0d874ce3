"""Domain errors: each carries one sentence a head teacher can act on."""

from __future__ import annotations


class CasebookError(Exception):
    """Base of every error the app reports to the user in one clear sentence."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(CasebookError):
    """Input that cannot be accepted; ``field`` names what is wrong when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfirmationNeeded(ValidationError):
    """Something unusual the person may still want: the window asks, the CLI refuses
    unless a flag confirms it. ``reason`` says which ("recipient", "kind")."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, field=reason)
        self.reason = reason


class NotFoundError(CasebookError):
    """A case, person or record that does not exist."""


class TransitionError(CasebookError):
    """A status change that the workflow does not allow."""


class DataDirectoryError(CasebookError):
    """The data directory cannot be used (missing rights, newer schema, damaged file)."""


class DatabaseTooNewError(DataDirectoryError):
    """The database was written by a newer version of the app and is left untouched."""


class DataDirectoryInUseError(DataDirectoryError):
    """Another copy of the app already has this data directory open."""

    exit_code = 3


class ConflictError(CasebookError):
    """The record was changed by someone else since it was read."""


class EvidenceRejected(CasebookError):
    """A file offered as evidence was refused."""


class TemplateError(CasebookError):
    """A letter template or the data it needs is incomplete or wrong."""


class OperationCancelled(CasebookError):
    """The person stopped a long operation before it finished; nothing was changed."""


class AccessDenied(CasebookError):
    """The signed-in user's role does not allow this."""


class SignInError(CasebookError):
    """A wrong user name, password or recovery key."""


class AccountLockedError(SignInError):
    """Too many wrong passwords in a row: the account waits, or needs unlocking."""


class AuditTamperedError(CasebookError):
    """The audit trail no longer matches its hash chain."""


class BackupError(CasebookError):
    """A backup cannot be made, or a backup offered for restore is damaged or not ours."""


# ----- Faults (issue 8): storage that fails underneath the app -----------------------------


class StorageFullError(DataDirectoryError):
    """The disk holding the casebook is full; the change was not saved."""


class ReadOnlyDataError(DataDirectoryError):
    """The casebook's folder or database cannot be written."""


class DatabaseDamagedError(DataDirectoryError):
    """The database file is damaged; it is left as it is for restoring."""


class UnencryptedCasebookError(DataDirectoryError):
    """A casebook from before encryption at rest: the head teacher must encrypt it first."""


class KeyFileError(DataDirectoryError):
    """The casebook's key file is missing or damaged: restoring a backup is the way on."""
