"""PDF documents built with reportlab from plain records; never touches the database."""

from app.modules_on_first_use import load_on_first_use
from app.pdf.reportlab_import import defer_address_pattern

defer_address_pattern()
# reportlab imports both at its start; most documents use neither (no picture, no shaping).
load_on_first_use("PIL.Image")
load_on_first_use("uharfbuzz")
