"""Engine set-up: SQLite pragmas and transaction handling, connection pools.

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
SQLite's ``busy_timeout``.

A transaction that only reads may say so (``read_only_transaction``): on
SQLite it is a plain ``BEGIN``, which in WAL mode neither waits for the writer
nor holds it up; on PostgreSQL it runs in autocommit, without the round trips
of ``BEGIN`` and ``COMMIT``. The API looks up bearer tokens that way, so the
write lock is held only while a request's own work runs.

PostgreSQL connections are checked before use only when they have been idle
for a while (``ping_when_idle``), not at every checkout (``pool_pre_ping``
costs a round trip per request). The pool lends the connection given back
last (``pool_use_lifo``): under a burst the same few connections serve, with
their prepared statements and plans ready (PostgreSQL plans a connection's
first five runs of a prepared statement anew), and the others stay idle.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from psycopg.rows import namedtuple_row
from sqlalchemy import TextClause, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError

from meetings.extensions import db, migrate

# How long a writer waits for the one before it, as SQLite's busy_timeout.
SQLITE_BUSY_SECONDS = 10.0
# The execution option marking a transaction that writes nothing.
READ_ONLY = "shangliang_read_only"
# A pooled PostgreSQL connection idle this long is checked before use
# (``ping_when_idle``).
PING_AFTER_IDLE_SECONDS = 2.0
_IDLE_SINCE = "shangliang_idle_since"
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


@contextlib.contextmanager
def read_only_transaction() -> Iterator[None]:
    """Run the block's reads outside any write transaction, ended (without
    expiring what it loaded) when the block ends. On SQLite it is a
    transaction that does not take the write lock; on PostgreSQL each
    statement is its own (autocommit: no ``BEGIN``/``COMMIT`` round trips
    for a lookup). When the session is in a transaction already (or bound to
    a test's connection), the block simply runs in the session's transaction."""
    bind = engine_outside_transaction()
    if bind is None:
        yield
        return
    session = db.session()
    if bind.dialect.name == "sqlite":
        session.connection(execution_options={READ_ONLY: True})
    else:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()  # nothing to write: this ends the read
    finally:
        session.expire_on_commit = expire_on_commit


def engine_outside_transaction() -> Engine | None:
    """The engine, when the session has no transaction going on (and is not
    bound to a test's connection), else None. Does not start a session when
    there is none yet: a request served straight on a pooled connection
    (``run_alone``) then never builds one."""
    scoped = db.session
    if scoped.registry.has():
        session = scoped()
        if session.in_transaction():
            return None
        bind = session.get_bind()
    else:
        bind = _session_bind()
    return bind if isinstance(bind, Engine) else None


def commit_if_begun() -> None:
    """Commit the session's transaction if one has begun, without starting
    a session when there is none."""
    if db.session.registry.has() and db.session().in_transaction():
        db.session.commit()


def dialect_name() -> str:
    """The name of the session's database dialect, without starting a session."""
    return _session_bind().dialect.name


def _session_bind() -> Engine | Connection:
    """What the app's sessions are bound to: the engine, or a test's connection."""
    return db.session.session_factory.kw.get("bind") or db.engine


def run_alone(statement: TextClause, values: dict[str, Any]) -> Any:
    """Run one statement as a transaction of its own and return its one row
    (attributes by column name); a failure undoes exactly that statement.
    For a hot path on PostgreSQL: outside a session transaction it runs in
    autocommit straight on a pooled driver connection (no ``BEGIN``/``COMMIT``
    round trips, and a quarter of a millisecond less Python than through the
    session), as a server-side prepared statement. Within a session
    transaction (or bound to a test's connection), or on another database,
    it runs in a savepoint of the session's transaction instead."""
    return run_alone_rows(statement, values)[0]


def run_alone_rows(statement: TextClause, values: dict[str, Any]) -> list[Any]:
    """``run_alone`` for a statement of several rows: all of them."""
    bind = engine_outside_transaction()
    if bind is None or bind.dialect.name != "postgresql":
        session = db.session()
        with session.begin_nested():
            return list(session.connection().execute(statement, values))
    compiled = _for_driver(statement, bind)
    pooled = bind.raw_connection()
    driver = pooled.driver_connection
    try:
        driver.autocommit = True
        with driver.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(compiled.sql, compiled.params(values), prepare=True)
            return cursor.fetchall()
    except bind.dialect.loaded_dbapi.Error as error:
        if driver.broken or driver.closed:
            pooled.invalidate(error)  # the server went away: a new connection next time
        raise DBAPIError.instance(
            compiled.sql, values, error, bind.dialect.loaded_dbapi.Error, dialect=bind.dialect
        ) from error
    finally:
        if not driver.closed:
            driver.autocommit = False  # as the pool lends it out
        pooled.close()


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled for the engine's driver, with its parameters'
    converters (SQLAlchemy's bind processors), for ``run_alone``."""

    sql: str
    processors: dict[str, Callable[[Any], Any]]

    def params(self, values: dict[str, Any]) -> dict[str, Any]:
        convert = self.processors
        return {k: convert[k](v) if k in convert else v for k, v in values.items()}


# By the statement itself (it hashes by identity, and the key keeps it alive:
# the few statements run this way are built once and kept anyway).
_DRIVER_STATEMENTS: dict[tuple[TextClause, str], _DriverStatement] = {}


def _for_driver(statement: TextClause, engine: Engine) -> _DriverStatement:
    key = (statement, engine.dialect.name)
    found = _DRIVER_STATEMENTS.get(key)
    if found is None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        found = _DRIVER_STATEMENTS[key] = _DriverStatement(compiled.string, processors)
    return found


def ping_when_idle(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Make sure a pooled connection still works before handing it out, when
    it has been idle ``idle_seconds`` or more (the database may have been
    restarted, or a firewall dropped the connection, meanwhile); a dead one
    is replaced. ``pool_pre_ping`` does this at every checkout, a round trip
    per request; a connection given back moments ago is all but certainly
    alive, and in a burst of requests every connection is. Should the
    server go away while the app is busy, the first statement on a dead
    connection fails, and SQLAlchemy then renews the whole pool."""

    @event.listens_for(engine.pool, "checkin")
    def _idle_from(dbapi_connection, connection_record) -> None:
        connection_record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_idle(dbapi_connection, connection_record, connection_proxy) -> None:
        idle_since = connection_record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # new (just connected), or given back moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool throws the connection away and checks out another.
            raise DisconnectionError(str(error)) from error


def init_database(app: Flask) -> None:
    engine_options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        engine_options.setdefault("pool_size", POOL_SIZE)
        engine_options.setdefault("pool_use_lifo", True)  # see the module's note
    elif uri.startswith("sqlite") and not _in_memory(uri):
        engine_options.setdefault("pool_size", POOL_SIZE)
        connect_args = engine_options.setdefault("connect_args", {})
        connect_args.setdefault("factory", SQLiteConnection)
    db.init_app(app)
    if uri.startswith("postgresql") and not engine_options.get("pool_pre_ping"):
        with app.app_context():
            ping_when_idle(db.engine)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]))


def _in_memory(uri: str) -> bool:
    return uri in ("sqlite://", "sqlite:///") or ":memory:" in uri or "mode=memory" in uri
