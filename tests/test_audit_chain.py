"""The audit log's hash chain: each entry carries its predecessor's hash and
its own; ``flask --app wsgi audit verify`` names the first broken entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from auth.models import User
from meetings import create_app
from meetings.audit import services as audit_services
from meetings.audit.models import GENESIS_HASH, AuditEntry
from meetings.audit.services import (
    ADVISORY_LOCK_KEY,
    content_of,
    entry_hash,
    record,
    verify_chain,
)
from meetings.dbtypes import utcnow
from meetings.extensions import db as _db


def _entries(db) -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)))


@contextmanager
def _unguarded(db, table: str = "audit_entry") -> Iterator[None]:
    """Let the test change rows the triggers guard, within its own transaction
    (rolled back at its end, with the DDL: both databases have transactional DDL)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for event in ("update", "delete"):
            connection.execute(text(f"DROP TRIGGER {table}_no_{event}"))
    yield


def test_each_entry_links_to_the_one_before_and_hashes_its_content(db, make_user, community):
    people = [make_user(community=community) for _ in range(3)]
    for person in people:
        record(person, "user.profile_updated", person, fields=["display_name"], note="王阿姨")
    db.session.flush()

    entries = _entries(db)
    assert len(entries) >= 3
    assert entries[0].prev_hash == GENESIS_HASH  # each test starts from an empty log
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == before.hash
    for entry in entries:
        assert entry.hash == entry_hash(entry.prev_hash, content_of(entry))
        assert len(entry.hash) == 64
    assert verify_chain().ok


def test_entries_of_one_transaction_chain_in_the_order_they_were_recorded(db, make_user):
    user = make_user()
    first = record(user, "user.password_changed", user)
    second = record(user, "user.profile_updated", user, fields=["email"])
    third = record(user, "user.activated", user)
    assert first.hash is None  # linked when flushed
    db.session.flush()
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.id < second.id < third.id
    fourth = record(user, "user.deactivated", user)
    db.session.flush()
    assert fourth.prev_hash == third.hash
    report = verify_chain()
    assert report.ok and report.last_id == fourth.id


def test_the_hash_covers_what_reads_back_from_the_database(db, make_user):
    user = make_user()
    entry = record(user, "user.profile_updated", user, fields=("a", "b"), n=1.5, text="议事\u00e9")
    db.session.flush()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored.data == {"fields": ["a", "b"], "n": 1.5, "text": "议事\u00e9"}
    assert stored.hash == entry_hash(stored.prev_hash, content_of(stored))


def test_verify_says_ok_and_counts_the_entries(db, runner, make_user):
    user = make_user()
    record(user, "user.password_changed", user)
    db.session.flush()
    count = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry))

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ok {count} entries; last entry ")


def test_verify_names_an_entry_whose_content_was_changed(db, runner, make_user):
    user = make_user()
    entries = [record(user, "user.password_changed", user) for _ in range(3)]
    db.session.flush()
    changed = entries[1]
    with _unguarded(db):
        db.session.execute(
            text("UPDATE audit_entry SET action = 'user.registered' WHERE id = :id"),
            {"id": changed.id},
        )

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"broken at entry {changed.id}: its content does not match its hash" in result.output


def test_verify_names_the_entry_after_one_that_was_removed(db, runner, make_user):
    user = make_user()
    entries = [record(user, "user.password_changed", user) for _ in range(3)]
    db.session.flush()
    with _unguarded(db):
        db.session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": entries[1].id})

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"broken at entry {entries[2].id}: its prev_hash does not match" in result.output
    assert f"hash of entry {entries[0].id}" in result.output


def test_verify_notices_a_rewritten_entry_with_a_fresh_hash(db, make_user):
    """Rewriting an entry and recomputing its hash still breaks the next link."""
    user = make_user()
    entries = [record(user, "user.password_changed", user) for _ in range(3)]
    db.session.flush()
    forged = entries[1]
    content = content_of(forged).replace("user.password_changed", "user.registered")
    with _unguarded(db):
        db.session.execute(
            text("UPDATE audit_entry SET action = 'user.registered', hash = :hash WHERE id = :id"),
            {"id": forged.id, "hash": entry_hash(forged.prev_hash, content)},
        )

    report = verify_chain()

    assert report.broken_id == entries[2].id
    assert "prev_hash" in report.problem


# --- entries written unsealed, linked later -------------------------------------------------


def _insert_unsealed(db, user, action: str) -> int:
    """An entry as a PostgreSQL writer among others leaves it: no link yet."""
    db.session.flush()
    if db.session.connection().dialect.name == "postgresql":
        new_id = db.session.scalar(text("SELECT nextval('audit_entry_id_seq')"))
    else:
        new_id = (db.session.scalar(text("SELECT max(id) FROM audit_entry")) or 0) + 1
    db.session.execute(
        text(
            "INSERT INTO audit_entry (id, at, actor_id, action, object_type, object_id, data)"
            " VALUES (:id, :at, :actor, :action, 'user_account', :actor, '{}')"
        ),
        {"id": new_id, "at": utcnow().replace(tzinfo=None), "actor": user.id, "action": action},
    )
    return new_id


def test_unsealed_entries_are_counted_then_linked_by_the_next_writer(db, runner, make_user):
    user = make_user()
    first = record(user, "user.password_changed", user)
    db.session.flush()
    waiting = _insert_unsealed(db, user, "user.profile_updated")

    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (1, 1)
    assert "1 newer not linked yet" in runner.invoke(args=["audit", "verify"]).output

    later = record(user, "user.activated", user)
    db.session.flush()

    assert later.id > waiting
    linked = db.session.execute(
        text("SELECT prev_hash, hash FROM audit_entry WHERE id = :id"), {"id": waiting}
    ).one()
    assert linked.prev_hash == first.hash and later.prev_hash == linked.hash
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (3, 0)


def test_audit_seal_links_what_is_left(db, runner, make_user):
    user = make_user()
    record(user, "user.password_changed", user)
    db.session.flush()
    _insert_unsealed(db, user, "user.profile_updated")

    result = runner.invoke(args=["audit", "seal"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Linked 1 entries."
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (2, 0)


def test_a_long_backlog_is_linked_a_batch_at_a_time(db, runner, make_user, monkeypatch):
    monkeypatch.setattr(audit_services, "SEAL_BATCH", 2)
    user = make_user()
    for n in range(3):
        _insert_unsealed(db, user, f"user.step{n}")

    newest = record(user, "user.activated", user)
    db.session.flush()

    assert newest.hash is None  # behind the rest of the backlog: next time
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (2, 2)
    assert runner.invoke(args=["audit", "seal"]).output.strip() == "Linked 2 entries."
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (4, 0)


def test_postgresql_writers_among_others_go_in_unsealed_without_waiting(db, make_user):
    if db.session.connection().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: every entry goes in linked")
    user = make_user()  # no entry yet: this transaction holds no lock of the log
    with _db.engine.connect() as other_writer:
        # another transaction between its flush and its commit
        other_writer.execute(
            text("SELECT pg_advisory_lock_shared(:key)"), {"key": ADVISORY_LOCK_KEY}
        )
        try:
            busy = record(user, "user.profile_updated", user)
            db.session.flush()
        finally:
            other_writer.execute(text("SELECT pg_advisory_unlock_all()"))
    assert busy.id is not None and busy.hash is None

    alone = record(user, "user.activated", user)
    db.session.flush()

    assert alone.hash is not None
    db.session.refresh(busy)
    assert busy.hash is not None and alone.prev_hash == busy.hash
    assert verify_chain().unsealed == 0


def test_an_entry_appended_at_once_is_linked_in_the_order_of_the_calls(db, make_user):
    """``append`` (the ballot's hot path: one INSERT, no ORM object) flushes
    what was recorded before it, and is linked like a recorded entry."""
    user = make_user()
    record(user, "user.password_changed", user)  # still waiting in the session
    audit_services.append(user.id, "ballot.cast", "poll", 7)
    record(user, "user.activated", user)
    db.session.flush()

    entries = _entries(db)
    assert [e.action for e in entries] == ["user.password_changed", "ballot.cast", "user.activated"]
    assert (entries[1].actor_id, entries[1].object_type, entries[1].object_id) == (
        user.id,
        "poll",
        7,
    )
    assert entries[1].data == {} and entries[1].prev_hash == entries[0].hash
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (3, 0)


def test_postgresql_an_entry_appended_among_other_writers_goes_in_unsealed(db, make_user):
    if db.session.connection().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: every entry goes in linked")
    user = make_user()
    with _db.engine.connect() as other_writer:
        other_writer.execute(
            text("SELECT pg_advisory_lock_shared(:key)"), {"key": ADVISORY_LOCK_KEY}
        )
        try:
            audit_services.append(user.id, "ballot.cast", "poll", 7, note="王阿姨")
        finally:
            other_writer.execute(text("SELECT pg_advisory_unlock_all()"))
    (busy,) = _entries(db)
    assert busy.id is not None and (busy.prev_hash, busy.hash) == (None, None)
    assert busy.data == {"note": "王阿姨"}

    alone = record(user, "user.activated", user)
    db.session.flush()

    db.session.refresh(busy)
    assert busy.prev_hash == GENESIS_HASH and alone.prev_hash == busy.hash
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (2, 0)


def test_a_hot_path_entry_links_the_backlog_every_so_often(db, make_user, monkeypatch):
    """A statement of its own (the ballot on PostgreSQL) appends unsealed and
    has the backlog linked when its entry's id is a multiple of SEAL_EVERY."""
    monkeypatch.setattr(audit_services, "SEAL_EVERY", 3)
    user = make_user()
    waiting = []
    while not waiting or waiting[-1] % 3:
        audit_services.seal_now_and_then(None)  # a refused ballot: no entry
        waiting.append(_insert_unsealed(db, user, "ballot.cast"))
        if waiting[-1] % 3:
            audit_services.seal_now_and_then(waiting[-1])  # not due: left for later
            assert verify_chain().unsealed == len(waiting)

    audit_services.seal_now_and_then(waiting[-1])

    report = verify_chain()
    assert report.ok and report.unsealed == 0 and report.last_id == waiting[-1]


def test_an_unsealed_entry_may_be_linked_once_and_changed_never(db, make_user):
    user = make_user()
    waiting = _insert_unsealed(db, user, "user.profile_updated")
    params = {"id": waiting, "h": "f" * 64}

    for statement in (
        "UPDATE audit_entry SET action = 'user.registered' WHERE id = :id",
        "UPDATE audit_entry SET action = 'user.registered', prev_hash = :h, hash = :h"
        " WHERE id = :id",
        "UPDATE audit_entry SET hash = :h WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement), params)

    db.session.execute(
        text("UPDATE audit_entry SET prev_hash = :h, hash = :h WHERE id = :id"), params
    )
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(
            text("UPDATE audit_entry SET hash = NULL, prev_hash = NULL WHERE id = :id"), params
        )


# --- with real commits, on a database of its own ---------------------------------------------


def test_concurrent_appends_do_not_fork_the_chain(committing_app):
    with committing_app.app_context():
        user = User(username="writer", display_name="记录员")
        user.set_password("correct-horse-9")
        _db.session.add(user)
        _db.session.commit()
        user_id = user.id

    threads_count, per_thread = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def append(number: int) -> None:
        try:
            with committing_app.app_context():
                start.wait()
                for step in range(per_thread):
                    actor = _db.session.get(User, user_id)
                    record(actor, "user.profile_updated", actor, thread=number, step=step)
                    record(actor, "user.password_changed", actor)
                    _db.session.commit()
                _db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    with committing_app.app_context():
        # On PostgreSQL, the last writers may have left entries for "audit seal".
        assert committing_app.test_cli_runner().invoke(args=["audit", "seal"]).exit_code == 0
        report = verify_chain()
        assert report.ok, report.problem
        assert (report.count, report.unsealed) == (threads_count * per_thread * 2, 0)


def test_the_migration_chains_the_entries_written_before_it(app_config, empty_database_url):
    """0007 fills in the chain for entries already in the log, the same way
    ``record()`` extends it (the migration keeps a frozen copy of the format)."""
    other = create_app({**app_config, "DATABASE_URL": empty_database_url})
    try:
        with other.app_context():
            upgrade(revision="0006_outcomes")
            with _db.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO audit_entry (at, action, object_type, object_id, data)"
                        " VALUES (:at, :action, 'user_account', :n, :data)"
                    ),
                    [
                        {
                            "at": f"2026-11-2{n} 08:00:0{n}.00012{n}",
                            "action": f"user.step{n}",
                            "n": n,
                            "data": f'{{"名": "值", "n": {n}}}',
                        }
                        for n in range(1, 4)
                    ],
                )
            upgrade()
            with _db.engine.connect() as connection:
                report = verify_chain(connection)
                first = connection.execute(
                    text("SELECT prev_hash FROM audit_entry ORDER BY id LIMIT 1")
                ).scalar_one()
        assert report.ok, report.problem
        assert report.count == 3
        assert first == GENESIS_HASH
    finally:
        with other.app_context():
            _db.engine.dispose()
