"""Counting the SQL statements a request runs (issue 14: a page's number of
queries does not grow with the data)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from meetings.extensions import db

# The test's transaction turns the app's commits into savepoints: not the app's queries.
_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    """The statements run inside the block, in order (savepoints left out)."""
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_BOOKKEEPING):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def queries_of(client, url: str, **kwargs) -> int:
    """How many statements a GET of ``url`` runs; the page must answer 200."""
    with counting_queries() as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements)
