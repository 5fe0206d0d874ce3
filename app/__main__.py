"""``python -m app`` runs the same front door as the ``casebook`` command."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A helper process (reading pictures) starts this program again with the spawn method
    # (on Windows, and always in the bundle): it must serve, not open the casebook.
    multiprocessing.freeze_support()
    from app.launch import main

    sys.exit(main())
