"""PDF documents built with reportlab from plain records; never touches the database."""
