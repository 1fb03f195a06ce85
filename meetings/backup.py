"""``flask --app wsgi backup PATH`` and ``restore PATH``.

A backup is a consistent copy of the whole database taken while the server is
running and writing to it. It is everything the site keeps: the progress
photos are in the database too (``stored_file``, see
``meetings.projects.uploads``); of ``instance/`` only ``config.py`` and
``secret_key``, if you use them, need keeping elsewhere.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies the
  live file, write-ahead log included, in one step, that is from one read
  snapshot; writers go on meanwhile (WAL mode). The copy is a single SQLite
  file (rollback journal mode), checked with ``PRAGMA quick_check``.
* PostgreSQL: ``pg_dump --format=custom --no-owner --no-privileges``, which
  reads everything in one REPEATABLE READ snapshot. The password, if any, goes
  to ``pg_dump`` through ``PGPASSWORD``, never on its command line.

The file is written beside ``PATH`` under a temporary name and renamed into
place once complete, so ``PATH`` is never a half-written backup; only its
owner may read it.

``restore`` loads a backup into the configured database, which must be empty
(no tables: a new SQLite file, or ``createdb``): it never overwrites data.
SQLite backups restore into SQLite and PostgreSQL dumps into PostgreSQL.
Stop the server first, restore, run ``flask --app wsgi audit verify``, start it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine

from meetings.extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why."""


# --- backing up -------------------------------------------------------------------------


def backup_database(url: URL, path: Path) -> None:
    """Write a consistent copy of the database at ``url`` to ``path`` (a new file)."""
    if path.exists():
        raise BackupError(f"{path} exists already: give the backup a new file name.")
    if not path.parent.is_dir():
        raise BackupError(f"There is no directory {path.parent}.")
    with _temporary_beside(path) as partial:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(url), partial)
        elif url.get_backend_name() == "postgresql":
            _run(
                "pg_dump",
                ["--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"],
                url,
            )
        else:
            raise BackupError(f"Cannot back up a {url.get_backend_name()} database.")
        os.replace(partial, path)


@contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """An empty file beside ``path``, readable by its owner only (a backup
    holds everything, password hashes included), removed unless renamed."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("The database is not an SQLite file.")
    return Path(url.database)


def _sqlite_backup(source_file: Path, target_file: Path) -> None:
    if not source_file.is_file():
        raise BackupError(f"There is no database file {source_file}.")
    with (
        closing(sqlite3.connect(source_file, timeout=30)) as source,
        closing(sqlite3.connect(target_file)) as target,
    ):
        source.backup(target)  # pages=-1: all in one step, from one snapshot
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        (check,) = target.execute("PRAGMA quick_check").fetchone()
    if check != "ok":
        raise BackupError(f"The copy does not check out: {check}")


# --- restoring --------------------------------------------------------------------------


def restore_database(engine: Engine, path: Path) -> None:
    """Load the backup at ``path`` into the empty database behind ``engine``."""
    if not path.is_file():
        raise BackupError(f"There is no backup file {path}.")
    kind = backup_kind(path)
    url = engine.url
    backend = url.get_backend_name()
    if kind is None:
        raise BackupError(f"{path} is neither an SQLite backup nor a pg_dump custom-format file.")
    if kind != backend:
        raise BackupError(f"{path} is a {kind} backup; the database configured is {backend}.")
    tables = existing_tables(engine)
    if tables:
        raise BackupError(
            f"The database is not empty ({len(tables)} tables, e.g. {tables[0]}): "
            "restore only into a new, empty database."
        )
    engine.dispose()  # no connection of ours stays open on the database being restored
    if backend == "sqlite":
        _sqlite_restore(path, _sqlite_file(url))
    else:
        _run(
            "pg_restore",
            ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(path)],
            url,
        )


def backup_kind(path: Path) -> str | None:
    """ "sqlite" or "postgresql", from the file's first bytes; None for neither."""
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header == SQLITE_HEADER:
        return "sqlite"
    if header.startswith(PG_DUMP_HEADER):
        return "postgresql"
    return None


def existing_tables(engine: Engine) -> list[str]:
    if engine.dialect.name == "sqlite":
        # outside any transaction: no wait for the write lock
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            return sorted(name for (name,) in cursor.fetchall())
        finally:
            connection.close()
    with engine.connect() as connection:
        return sorted(inspect(connection).get_table_names())


def _sqlite_restore(backup_file: Path, target_file: Path) -> None:
    target_file.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(backup_file)) as source,
        closing(sqlite3.connect(target_file, timeout=30)) as target,
    ):
        (check,) = source.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(f"The backup does not check out: {check}")
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")


# --- PostgreSQL client tools ------------------------------------------------------------


def libpq_connection(url: URL) -> tuple[str, dict[str, str]]:
    """The URL as libpq takes it (no ``+psycopg``), without the password, and
    the environment that carries the password."""
    env = {"PGPASSWORD": url.password} if url.password else {}
    # (``URL.set`` takes None for "unchanged")
    dsn = url.set(drivername="postgresql")._replace(password=None)
    return dsn.render_as_string(hide_password=False), env


def _run(program: str, arguments: list[str], url: URL) -> None:
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"{program} is not installed (Debian: apt install postgresql-client; "
            "its major version must be at least the server's)."
        )
    dsn, env = libpq_connection(url)
    result = subprocess.run(  # noqa: S603 — fixed program, arguments built here
        [executable, f"--dbname={dsn}", *arguments],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip() or result.returncode}")


# --- the commands -----------------------------------------------------------------------


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the database to PATH (a new file), while the
    server runs."""
    url = db.engine.url
    try:
        backup_database(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up {url.render_as_string()} to {path} ({path.stat().st_size} bytes).")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Load the backup at PATH into the configured database, which must be empty."""
    engine = db.engine
    try:
        restore_database(engine, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Restored {path} into {engine.url.render_as_string()}. "
        "Check it with: flask --app wsgi audit verify"
    )
