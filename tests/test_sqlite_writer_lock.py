"""SQLite's writers line up on a lock of the app's own (``meetings.database``):
one writer at a time across threads and processes, handed on at COMMIT or
ROLLBACK, bounded like SQLite's busy_timeout, and never taken by a
transaction that only reads."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import sqlalchemy as sa
from conftest import _on_postgres

from meetings.database import READ_ONLY, SQLiteConnection, WriterLock

pytestmark = pytest.mark.skipif(_on_postgres(), reason="SQLite only")


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(
        f"sqlite:///{tmp_path / 'lock.db'}", connect_args={"factory": SQLiteConnection}
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield engine
    engine.dispose()


def lock_of(engine) -> WriterLock:
    return WriterLock.for_database(engine.url.database)


def held(lock: WriterLock) -> bool:
    """Whether some thread of this process holds the lock."""
    if lock._thread_lock.acquire(blocking=False):
        lock._thread_lock.release()
        return False
    return True


def test_a_write_transaction_holds_the_lock_until_commit_or_rollback(engine):
    lock = lock_of(engine)
    with engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            assert held(lock)
        assert not held(lock)
        transaction = conn.begin()
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert held(lock)
        transaction.rollback()
        assert not held(lock)
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    assert not held(lock)


def test_a_second_writer_waits_for_the_first(engine):
    order = []
    first_in = threading.Event()

    def first():
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            first_in.set()
            time.sleep(0.3)
            order.append("first commits")

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(5)
    with engine.begin() as conn:
        order.append("second begins")
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    thread.join(5)
    assert order == ["first commits", "second begins"]


def test_a_reader_neither_takes_nor_waits_for_the_lock(engine):
    with engine.begin() as writer:
        writer.exec_driver_sql("INSERT INTO t VALUES (1)")
        started = time.monotonic()
        with engine.connect() as reader:
            reader = reader.execution_options(**{READ_ONLY: True})
            with reader.begin():
                assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        assert time.monotonic() - started < 1


HOLD_IN_ANOTHER_PROCESS = """
import sys, time
from meetings.database import WriterLock
lock = WriterLock.for_database(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


def hold_elsewhere(engine, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_IN_ANOTHER_PROCESS)]
        + [engine.url.database, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_processes_take_turns(engine):
    process = hold_elsewhere(engine, 0.5)
    try:
        started = time.monotonic()
        with engine.begin() as conn:
            waited = time.monotonic() - started
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert waited > 0.2
    finally:
        process.wait(10)
        process.stdout.close()


def test_waiting_is_bounded_like_busy_timeout(engine):
    process = hold_elsewhere(engine, 3)
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            lock_of(engine).acquire(timeout=0.3)
        assert time.monotonic() - started < 2
        assert not held(lock_of(engine))  # the thread lock was given back
    finally:
        process.wait(10)
        process.stdout.close()
