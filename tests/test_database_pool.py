"""PostgreSQL's pooled connections are checked before use (``pool_pre_ping``,
set by ``meetings.database.init_database``): a connection whose server process
went away meanwhile is replaced, and the request that checks it out never sees
the dead one."""

from __future__ import annotations

import time

import psycopg
import pytest
from conftest import _on_postgres

from meetings.extensions import db as _db

pytestmark = pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL only")


def backend_pid() -> int:
    with _db.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def terminate(pid: int) -> None:
    """End the server process of a pooled connection, as a restart would."""
    dsn = _db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the server process did not end"
            time.sleep(0.05)


def test_a_pooled_connection_whose_server_went_away_is_replaced(committing_app):
    with committing_app.app_context():
        pid = backend_pid()  # the connection is back in the pool now
        terminate(pid)
        assert backend_pid() != pid


def test_a_pooled_connection_that_works_is_kept(committing_app):
    with committing_app.app_context():
        pid = backend_pid()
        assert backend_pid() == pid
