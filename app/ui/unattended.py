"""The window's start before PySide6 is loaded: what an unattended start (the benchmarks)
sets going first, and the order of the start's heaviest imports.

Nothing here imports Qt: ``app.launch`` calls it before the window's code is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import ENV_USER, prepare_data_dir

if TYPE_CHECKING:
    from app.security.crypto import DerivationAhead

# For the benchmarks: print a line and quit once the case list has been painted.
ENV_FIRST_PAINT = "CASEBOOK_QUIT_AFTER_FIRST_PAINT"
# The password an unattended start signs in with (as the command line's).
ENV_PASSWORD = "CASEBOOK_PASSWORD"


def is_unattended() -> bool:
    """True when the window starts unattended: signing in with a password given beforehand."""
    return bool(os.environ.get(ENV_FIRST_PAINT))


def derive_ahead(data_dir: Path) -> DerivationAhead | None:
    """Argon2id on the password in the environment, started before anything heavy."""
    password = os.environ.get(ENV_PASSWORD, "")
    if not password:
        return None
    from app.services.keys import derivation_ahead

    paths = prepare_data_dir(data_dir)
    return derivation_ahead(paths.keyring, password, os.environ.get(ENV_USER, "").strip())


def import_the_data_layer() -> None:
    """Import SQLAlchemy, the tables and the services before PySide6.

    Once PySide6 is loaded, every module imported after it passes through its import hook
    (which reads the module's source to see whether it uses Qt) and every ``import``
    statement through its wrapper of ``__import__``: the data layer's several hundred
    modules imported after it made the window's start a twentieth slower. The window
    needs all of them before its first paint either way (to open the casebook and sign
    in), so importing them first costs nothing.
    """
    # The services, with the tables and SQLAlchemy under them.
    import app.services.demo
    import app.services.faults  # noqa: F401
