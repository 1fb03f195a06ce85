"""PostgreSQL's pooled connections are checked before use only after they
have been idle a while (``meetings.database.ping_when_idle``): a connection
whose server process went away meanwhile is replaced, and the request that
checks it out never sees the dead one. ``run_alone`` borrows one for a
statement in autocommit and gives it back as it found it."""

from __future__ import annotations

import time

import psycopg
import pytest
import sqlalchemy as sa
from conftest import _on_postgres
from sqlalchemy.exc import IntegrityError

from meetings import database
from meetings.database import PING_AFTER_IDLE_SECONDS, ping_when_idle
from meetings.extensions import db as _db

pytestmark = pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL only")

# A statement whose second insert breaks a unique constraint: it fails as a whole.
INSERT_TWICE = sa.text(
    "WITH first AS (INSERT INTO community (name, street, district, created_at)"
    " VALUES ('竹韵社区', '', '', now()))"
    " INSERT INTO community (name, street, district, created_at)"
    " VALUES ('竹韵社区', '', '', now()) RETURNING id"
)


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


# --- run_alone: one statement, a transaction of its own, straight on the driver -----------


def test_run_alone_commits_its_statement_and_lends_the_connection_back_as_it_was(
    committing_app,
):
    insert_community = sa.text(
        "INSERT INTO community (name, street, district, created_at)"
        " VALUES (:name, '', '', now()) RETURNING id, name"
    )
    with committing_app.app_context():
        row = database.run_alone(insert_community, {"name": "东篱社区"})
        assert row.name == "东篱社区"
        assert not _db.session().in_transaction()
        # Committed: another connection sees it at once.
        with _db.engine.connect() as other:
            assert other.scalar(sa.text("SELECT name FROM community WHERE id = :id"), row._asdict())
        # The pooled connection goes back to transactions: a rollback undoes.
        _db.session.execute(sa.text("DELETE FROM community"))
        _db.session.rollback()
        assert _db.session.scalar(sa.text("SELECT count(*) FROM community")) == 1
        _db.session.rollback()


def test_run_alone_raises_sqlalchemys_error_and_undoes_the_statement(committing_app):
    with committing_app.app_context():
        with pytest.raises(IntegrityError) as raised:
            database.run_alone(INSERT_TWICE, {})
        assert raised.value.orig.diag.constraint_name == "uq_community_name"
        assert _db.session.scalar(sa.text("SELECT count(*) FROM community")) == 0
        _db.session.rollback()


def test_run_alone_takes_a_connection_just_pinged_after_being_idle(committing_app, monkeypatch):
    """A connection idle a while is pinged when checked out; the statement of
    its own still runs on it, in autocommit, and the connection goes back
    to the pool fit for transactions."""
    select_one = sa.text("SELECT 1 AS one")
    with committing_app.app_context():
        assert database.run_alone(select_one, {}).one == 1
        later = time.monotonic() + PING_AFTER_IDLE_SECONDS + 1
        monkeypatch.setattr(database.time, "monotonic", lambda: later)

        assert database.run_alone(select_one, {}).one == 1
        with _db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1


def test_run_alone_outside_a_transaction_builds_no_session(committing_app):
    """The ballot's path: no ORM session is built for the statement (nor
    for asking whether one is in a transaction)."""
    with committing_app.test_request_context():
        assert database.engine_outside_transaction() is _db.engine
        assert database.run_alone(sa.text("SELECT 1 AS one"), {}).one == 1
        assert not _db.session.registry.has()


def test_run_alone_within_a_session_transaction_is_undone_with_it(committing_app):
    insert_community = sa.text(
        "INSERT INTO community (name, street, district, created_at)"
        " VALUES ('松风社区', '', '', now()) RETURNING id"
    )
    with committing_app.app_context():
        _db.session.execute(sa.text("SELECT 1"))  # a transaction is going on
        assert database.engine_outside_transaction() is None
        database.run_alone(insert_community, {})
        assert _db.session.scalar(sa.text("SELECT count(*) FROM community")) == 1
        _db.session.rollback()
        assert _db.session.scalar(sa.text("SELECT count(*) FROM community")) == 0
        _db.session.rollback()


def test_a_session_bound_to_a_test_connection_is_never_gone_round(db):
    assert database.engine_outside_transaction() is None


def test_the_pool_lends_the_connection_given_back_last(committing_app):
    """Under a burst the same few connections serve, their prepared statements
    and plans ready; the others stay idle."""
    with committing_app.app_context():
        first, second = _db.engine.raw_connection(), _db.engine.raw_connection()
        pids = [pooled.driver_connection.info.backend_pid for pooled in (first, second)]
        second.close()
        first.close()  # given back last
        again = _db.engine.raw_connection()
        assert again.driver_connection.info.backend_pid == pids[0]
        again.close()
