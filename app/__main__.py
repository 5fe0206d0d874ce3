"""``python -m app`` runs the same front door as the ``casebook`` command."""

import sys

if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # In the bundle, a helper process (reading pictures) starts this program again
        # with the spawn method: it must serve, not open the casebook. From source the
        # helper is started by Python itself, and ``freeze_support`` does nothing, so
        # multiprocessing (a fiftieth of the window's start) is imported only for reading.
        import multiprocessing

        multiprocessing.freeze_support()
    from app.launch import main

    sys.exit(main())
