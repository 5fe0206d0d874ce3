"""SQLAlchemy models, engine set-up and Alembic migrations."""

from app.modules_on_first_use import load_on_first_use

# SQLAlchemy imports the standard library's package metadata (importlib.metadata, which
# brings importlib.resources) as it starts, but reads it only to find a dialect or plugin
# that a third-party package names by entry point; a casebook's dialects (SQLite through
# sqlcipher3, PostgreSQL through psycopg) are SQLAlchemy's own. Importing it cost a letter
# from the command line about 4 ms of processor time, so it runs when first used: on
# PostgreSQL that is at once (psycopg's binary package reads its version through it). The
# command line imports this package before SQLAlchemy; where SQLAlchemy came first (the
# window imports it through a service), this changes nothing.
load_on_first_use("importlib.metadata")
