"""A shared (PostgreSQL) casebook works out each case's word starts in half the time.

PostgreSQL only; a SQLite casebook is unchanged.

``casebook_word_starts`` (migrations 0023 and 0025) is the expression of the index that
serves searches of one or two characters (``ix_cases_word_starts``), worked out for every
case saved and for every case when the index is made. As a SQL function with a ``FROM``
clause it cannot be inlined: the server starts a small query for each case (its executor,
a set of rows, an aggregate with ``DISTINCT``). Over a million cases that took 21 s of the
server's processor time, and the index 26-28 s to make. The same words worked out in
PL/pgSQL (the text split once, each word's first one and two characters appended) take
10 s, and the index 19.6 s (measured one after the other at load 13).

The answer is the same set of word starts for every text, in another order and with a
start repeated where two words share it: the index keeps each start once per case, and the
searches ask whether a case's starts *contain* the typed ones (``@>``), so neither the index
(which is not made again) nor any search's answer changes. Checked over the million cases
of the benchmark casebook, and in ``tests/postgres/test_window_queries.py``.

Revision ID: 0029_postgres_split_word_starts
Revises: 0027_postgres_searched_walk
Create Date: 2026-12-05
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0029_postgres_split_word_starts"
down_revision = "0027_postgres_searched_walk"
branch_labels = None
depends_on = None

# The same words as services/server_search.py's pattern: runs of letters and digits.
WORD_STARTS_SPLIT_ONCE = """
CREATE OR REPLACE FUNCTION casebook_word_starts(words text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    found text[] := '{}';
    word text;
BEGIN
    FOREACH word IN ARRAY regexp_split_to_array(words, '[^[:alnum:]]+') LOOP
        IF word <> '' THEN
            found := found || ARRAY[left(word, 1), left(word, 2)];
        END IF;
    END LOOP;
    RETURN found;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(WORD_STARTS_SPLIT_ONCE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    tallies = importlib.import_module("app.db.migrations.versions.0025_postgres_tallies")
    op.execute(tallies.WORD_STARTS_BY_SPLITTING)
