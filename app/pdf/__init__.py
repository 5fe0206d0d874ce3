"""PDF documents built with reportlab from plain records; never touches the database."""

from app.pdf.reportlab_import import defer_address_pattern

defer_address_pattern()
