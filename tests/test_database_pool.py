"""PostgreSQL's pooled connections are checked before use only after they
have been idle a while (``meetings.database.ping_when_idle``): a connection
whose server process went away meanwhile is replaced, and the request that
checks it out never sees the dead one."""

from __future__ import annotations

import time

import psycopg
import pytest
import sqlalchemy as sa
from conftest import _on_postgres

from meetings import database
from meetings.database import PING_AFTER_IDLE_SECONDS, ping_when_idle

pytestmark = pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL only")


@pytest.fixture
def engine(empty_database_url):
    engine = sa.create_engine(empty_database_url, pool_size=1, max_overflow=0)
    ping_when_idle(engine)
    yield engine
    engine.dispose()


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def terminate(engine, pid: int) -> None:
    """End the server process of a pooled connection, as a restart would."""
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the server process did not end"
            time.sleep(0.05)


def test_a_connection_idle_for_a_while_is_checked_and_replaced_when_dead(engine, monkeypatch):
    pid = backend_pid(engine)  # the pool's one connection, given back now
    terminate(engine, pid)
    later = time.monotonic() + PING_AFTER_IDLE_SECONDS + 1
    monkeypatch.setattr(database.time, "monotonic", lambda: later)

    assert backend_pid(engine) != pid


def test_a_connection_idle_for_a_while_that_works_is_kept(engine, monkeypatch):
    pid = backend_pid(engine)
    later = time.monotonic() + PING_AFTER_IDLE_SECONDS + 1
    monkeypatch.setattr(database.time, "monotonic", lambda: later)

    assert backend_pid(engine) == pid
