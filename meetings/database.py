"""Engine set-up: SQLite pragmas and its one writer at a time, connection pools.

SQLite has one writer at a time. Every transaction starts with ``BEGIN
IMMEDIATE`` (see ``_sqlite_on_begin``), so a transaction that reads and then
writes waits its turn instead of failing. Left to SQLite, the waiting is a
busy handler that sleeps 1, 2, 5 … up to 100 ms between tries: under a burst
of ballots from several gunicorn processes most of the time went into those
sleeps, and the unlucky waited seconds. So the writers of this app line up on
a lock of their own first (``WriterLock``: a thread lock within the process,
then an exclusive ``flock`` on ``<database>-writer`` across processes), taken
just before ``BEGIN IMMEDIATE`` and given back right after ``COMMIT`` or
``ROLLBACK``. Other programs writing to the file are still waited for by
SQLite's ``busy_timeout``. A connection with the ``READ_ONLY`` execution
option begins with a plain ``BEGIN``, which in WAL mode neither waits for the
writer nor holds it up.

PostgreSQL connections are checked before use (``pool_pre_ping``), so a
connection the server dropped (a restart, a firewall) is replaced instead of
failing a request.

No request waits for the database without end (``meetings.http`` turns each
of these into a 503 page or the API's ``unavailable``):

* PostgreSQL: connecting gives up after ``DATABASE_CONNECT_TIMEOUT`` seconds
  (libpq's ``connect_timeout``: a server that accepts and never answers, a
  host that drops packets; at least 2 s, per address tried); any statement
  the server runs longer than ``DATABASE_STATEMENT_TIMEOUT`` seconds is
  cancelled by the server (``statement_timeout``, set for every connection
  in the startup packet; 0 turns it off, e.g. for a long ``flask db
  upgrade``). Data sent and not acknowledged for ``TCP_USER_TIMEOUT`` and a
  silent peer while waiting for an answer (TCP keepalives, about 45 s) end a
  connection to a server that vanished from the network.
* SQLite: there is no server to wait for; a writer waits at most
  ``SQLITE_BUSY_SECONDS`` for the one before it (``WriterLock`` and
  ``busy_timeout``), then gets "database is locked".
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from meetings.extensions import db, migrate

# How long a writer waits for the one before it, as SQLite's busy_timeout.
SQLITE_BUSY_SECONDS = 10.0
# The execution option marking a transaction that writes nothing.
READ_ONLY = "shangliang_read_only"
# Each gunicorn thread can keep its own pooled connection (SQLAlchemy's
# default of 5 would open and close a connection per request beyond that).
POOL_SIZE = 10


class WriterLock:
    """One writer at a time on a SQLite file, for the threads and processes of
    this app: a ``threading.Lock`` in each process, then ``flock`` on a file
    beside the database between processes. A process that dies loses its
    ``flock`` with it. Waiting is bounded by ``SQLITE_BUSY_SECONDS``, after
    which the caller gets SQLite's own "database is locked"."""

    _by_path: dict[str, WriterLock] = {}
    _by_path_guard = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._pid = -1
        self._reset()

    @classmethod
    def for_database(cls, database_file: str) -> WriterLock:
        path = database_file + "-writer"
        with cls._by_path_guard:
            lock = cls._by_path.get(path)
            if lock is None:
                lock = cls._by_path[path] = cls(path)
            return lock

    def _reset(self) -> None:
        # After a fork the child needs a lock and a file description of its
        # own: an inherited one would share the parent's flock.
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = os.getpid()

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def acquire(self, timeout: float = SQLITE_BUSY_SECONDS) -> None:
        if self._pid != os.getpid():
            self._reset()
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            fd = self._file()
            delay = 0.0002
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    pass
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError("database is locked")
                # Only one thread per process waits here; short sleeps hand
                # the lock on within a millisecond or so of its release.
                time.sleep(delay)
                delay = min(delay * 2, 0.001)
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


class SQLiteConnection(sqlite3.Connection):
    """sqlite3's connection, giving the writer lock back when its transaction ends."""

    writer_lock: WriterLock | None = None
    holds_writer_lock = False

    def take_writer_lock(self) -> None:
        if self.writer_lock is not None and not self.holds_writer_lock:
            self.writer_lock.acquire()
            self.holds_writer_lock = True

    def give_back_writer_lock(self) -> None:
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self.give_back_writer_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            if not self.in_transaction:
                self.give_back_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_back_writer_lock()


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_on_begin) so that
    # SAVEPOINTs work and transactions start where the ORM says they do.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten, not left in free pages: the ballot box's
    # rows, once counted, leave nothing behind (docs/ballot-secrecy.md).
    cursor.execute("PRAGMA secure_delete=ON")
    if isinstance(dbapi_connection, SQLiteConnection):
        main_file = next(
            (row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"), ""
        )
        if main_file:  # not an in-memory database
            dbapi_connection.writer_lock = WriterLock.for_database(main_file)
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
        return
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads
    # and then writes fails at once with SQLITE_BUSY when another process wrote
    # in between (busy_timeout does not apply to that upgrade); under a burst
    # of ballots that would refuse votes. Waiting in line is what we want.
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, SQLiteConnection):
        dbapi_connection.take_writer_lock()
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if isinstance(dbapi_connection, SQLiteConnection):
            dbapi_connection.give_back_writer_lock()
        raise


# Seconds, when the settings DATABASE_CONNECT_TIMEOUT and DATABASE_STATEMENT_TIMEOUT are unset.
DEFAULT_CONNECT_TIMEOUT = 5
DEFAULT_STATEMENT_TIMEOUT = 30
# Seconds data sent to PostgreSQL may stay unacknowledged (libpq's
# tcp_user_timeout), and TCP keepalives: the first probe after KEEPALIVE_IDLE
# without traffic, then one every KEEPALIVE_INTERVAL, KEEPALIVE_COUNT in all.
TCP_USER_TIMEOUT = 10
KEEPALIVE_IDLE = 30
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3


def postgresql_connect_args(connect_timeout: int, statement_timeout: int) -> dict:
    """libpq's connection parameters for the timeouts (in seconds)."""
    args = {
        "connect_timeout": max(int(connect_timeout), 0),
        "tcp_user_timeout": TCP_USER_TIMEOUT * 1000,
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE,
        "keepalives_interval": KEEPALIVE_INTERVAL,
        "keepalives_count": KEEPALIVE_COUNT,
    }
    if statement_timeout > 0:
        args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
    return args


def init_database(app: Flask) -> None:
    engine_options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        engine_options.setdefault("pool_size", POOL_SIZE)
        engine_options.setdefault("pool_pre_ping", True)
        timeouts = postgresql_connect_args(
            app.config.get("DATABASE_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT) or 0,
            app.config.get("DATABASE_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT) or 0,
        )
        connect_args = engine_options.setdefault("connect_args", {})
        for name, value in timeouts.items():
            connect_args.setdefault(name, value)
    elif uri.startswith("sqlite") and not _in_memory(uri):
        engine_options.setdefault("pool_size", POOL_SIZE)
        connect_args = engine_options.setdefault("connect_args", {})
        connect_args.setdefault("factory", SQLiteConnection)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]))


def _in_memory(uri: str) -> bool:
    return uri in ("sqlite://", "sqlite:///") or ":memory:" in uri or "mode=memory" in uri
