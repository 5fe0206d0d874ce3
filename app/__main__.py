"""``python -m app`` runs the same front door as the ``casebook`` command."""

import sys

from app.launch import main

sys.exit(main())
