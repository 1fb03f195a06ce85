"""The audit log's hash chain: entries are written unsealed, linked in the
order they are sealed (``seq``) when their transaction commits, and
``flask --app wsgi audit verify`` names the first broken entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from auth.models import User
from meetings import create_app
from meetings.audit.cli import CHECKPOINT_FILE
from meetings.audit.models import GENESIS_HASH, AuditEntry
from meetings.audit.services import (
    ADVISORY_LOCK_KEY,
    content_of,
    entry_hash,
    record,
    seal,
    verify_chain,
)
from meetings.dbtypes import utcnow
from meetings.extensions import db as _db


@pytest.fixture(autouse=True)
def _check_from_the_start(app):
    """``audit verify`` goes on from the last check's checkpoint (in the
    instance folder, shared by the run): each test here checks the whole
    chain of its own (rolled back) world. See test_audit_verify.py."""
    checkpoint = Path(app.instance_path) / CHECKPOINT_FILE
    checkpoint.unlink(missing_ok=True)
    yield
    checkpoint.unlink(missing_ok=True)


def _entries(db) -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)))


def _chain(db) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq)
        )
    )


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


def _insert_unsealed(db, user, action: str) -> int:
    """An entry committed without being linked, as a writer leaves it when
    another transaction is linking at that moment: this session does not
    count it as its own record."""
    return db.session.execute(
        text(
            "INSERT INTO audit_entry (at, actor_id, action, object_type, object_id, data)"
            " VALUES (:at, :actor, :action, 'user_account', :actor, '{}') RETURNING id"
        ),
        {"at": utcnow().replace(tzinfo=None), "actor": user.id, "action": action},
    ).scalar_one()


def _on_postgres(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def test_each_entry_links_to_the_one_before_and_hashes_its_content(db, make_user, community):
    people = [make_user(community=community) for _ in range(3)]
    for person in people:
        record(person, "user.profile_updated", person, fields=["display_name"], note="王阿姨")
    db.session.commit()

    entries = _chain(db)
    assert len(entries) >= 3
    assert [entry.seq for entry in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS_HASH  # each test starts from an empty log
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == before.hash
    for entry in entries:
        assert entry.hash == entry_hash(entry.prev_hash, content_of(entry))
        assert len(entry.hash) == 64
    assert verify_chain().ok


def test_entries_go_in_unsealed_and_are_linked_in_the_order_recorded_at_the_commit(db, make_user):
    user = make_user()
    first = record(user, "user.password_changed", user)
    second = record(user, "user.profile_updated", user, fields=["email"])
    third = record(user, "user.activated", user)
    db.session.flush()
    assert first.id < second.id < third.id
    assert (first.seq, first.prev_hash, first.hash) == (None, None, None)
    assert verify_chain().unsealed == 3

    db.session.commit()

    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    fourth = record(user, "user.deactivated", user)
    db.session.commit()
    assert fourth.seq == 4 and fourth.prev_hash == third.hash
    report = verify_chain()
    assert report.ok and report.last_id == fourth.id and report.unsealed == 0


def test_a_savepoint_does_not_link_its_entries_the_commit_does(db, make_user):
    user = make_user()
    with db.session.begin_nested():
        entry = record(user, "user.password_changed", user)
    assert entry.seq is None

    db.session.commit()

    assert entry.seq == 1 and entry.prev_hash == GENESIS_HASH


def test_the_hash_covers_what_reads_back_from_the_database(db, make_user):
    user = make_user()
    entry = record(user, "user.profile_updated", user, fields=("a", "b"), n=1.5, text="议事\u00e9")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored.data == {"fields": ["a", "b"], "n": 1.5, "text": "议事\u00e9"}
    assert stored.hash == entry_hash(stored.prev_hash, content_of(stored))


def test_verify_says_ok_and_counts_the_entries(db, runner, make_user):
    user = make_user()
    record(user, "user.password_changed", user)
    db.session.commit()
    count = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry))

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ok {count} entries; last entry ")


def test_verify_names_an_entry_whose_content_was_changed(db, runner, make_user):
    user = make_user()
    entries = [record(user, "user.password_changed", user) for _ in range(3)]
    db.session.commit()
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
    db.session.commit()
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
    db.session.commit()
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


def test_verify_notices_an_entry_inserted_into_the_chain(db, make_user):
    """An entry slipped in between two others cannot claim the first one's
    hash as its prev_hash (the second one has it, and it is unique)."""
    user = make_user()
    entries = [record(user, "user.password_changed", user) for _ in range(2)]
    db.session.commit()
    slipped_in = _insert_unsealed(db, user, "user.registered")
    content = content_of(db.session.get(AuditEntry, slipped_in))
    forged_prev = entry_hash(GENESIS_HASH, "forged")
    with _unguarded(db):
        db.session.execute(
            text("UPDATE audit_entry SET seq = seq + 1 WHERE id = :id"), {"id": entries[1].id}
        )
        db.session.execute(
            text("UPDATE audit_entry SET seq = 2, prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"id": slipped_in, "prev": forged_prev, "hash": entry_hash(forged_prev, content)},
        )

    report = verify_chain()

    assert report.broken_id == slipped_in
    assert f"hash of entry {entries[0].id}" in report.problem


def test_verify_names_an_entry_taken_out_of_the_chain(db, make_user):
    user = make_user()
    entries = [record(user, "user.password_changed", user) for _ in range(2)]
    db.session.commit()
    with _unguarded(db):
        db.session.execute(
            text("UPDATE audit_entry SET seq = NULL WHERE id = :id"), {"id": entries[1].id}
        )

    report = verify_chain()

    assert report.broken_id == entries[1].id
    assert "no place (seq) in the chain" in report.problem


# --- entries left unsealed, linked later ----------------------------------------------------


def test_a_commit_that_recorded_entries_links_the_backlog(db, runner, make_user):
    user = make_user()
    first = record(user, "user.password_changed", user)
    db.session.commit()
    waiting = _insert_unsealed(db, user, "user.profile_updated")
    db.session.commit()  # recorded nothing: links nothing

    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (1, 1)
    assert "1 newer not linked yet" in runner.invoke(args=["audit", "verify"]).output

    later = record(user, "user.activated", user)
    db.session.commit()

    linked = db.session.get(AuditEntry, waiting)
    assert (linked.seq, linked.prev_hash) == (2, first.hash)
    assert later.seq == 3 and later.prev_hash == linked.hash
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (3, 0)


def test_audit_seal_links_what_is_left(db, runner, make_user):
    user = make_user()
    record(user, "user.password_changed", user)
    db.session.commit()
    _insert_unsealed(db, user, "user.profile_updated")

    result = runner.invoke(args=["audit", "seal"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Linked 1 entries."
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (2, 0)


def test_seal_links_a_long_backlog_a_batch_at_a_time(db, make_user):
    user = make_user()
    waiting = [_insert_unsealed(db, user, f"user.step{n}") for n in range(5)]
    connection = db.session.connection()

    assert seal(connection, wait=True, batch=2) == 2
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (2, 3)
    assert report.last_id == waiting[1]  # in id order
    assert [seal(connection, wait=True, batch=2) for _ in range(3)] == [2, 1, 0]
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (5, 0)


def test_postgresql_a_commit_while_another_links_leaves_its_entries_to_a_later_one(db, make_user):
    if db.session.connection().dialect.name != "postgresql":
        pytest.skip("on SQLite every write transaction holds the linkers' lock")
    user = make_user()
    with _db.engine.connect() as linker:
        linker.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        try:
            busy = record(user, "user.profile_updated", user)
            db.session.commit()  # does not wait
        finally:
            linker.execute(text("SELECT pg_advisory_unlock_all()"))
    assert busy.id is not None and busy.seq is None
    assert verify_chain().unsealed == 1

    later = record(user, "user.activated", user)
    db.session.commit()

    assert (busy.seq, later.seq) == (1, 2) and later.prev_hash == busy.hash
    report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (2, 0)


def test_an_unsealed_entry_may_be_sealed_once_and_changed_never(db, make_user):
    user = make_user()
    waiting = _insert_unsealed(db, user, "user.profile_updated")
    params = {"id": waiting, "h": "f" * 64}

    for statement in (
        "UPDATE audit_entry SET action = 'user.registered' WHERE id = :id",
        "UPDATE audit_entry SET action = 'user.registered', seq = 1, prev_hash = :h, hash = :h"
        " WHERE id = :id",
        "UPDATE audit_entry SET prev_hash = :h, hash = :h WHERE id = :id",
        "UPDATE audit_entry SET seq = 1 WHERE id = :id",
        "UPDATE audit_entry SET hash = :h WHERE id = :id",
    ):
        with pytest.raises(IntegrityError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement), params)

    db.session.execute(
        text("UPDATE audit_entry SET seq = 1, prev_hash = :h, hash = :h WHERE id = :id"), params
    )
    for statement in (
        "UPDATE audit_entry SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = :id",
        "UPDATE audit_entry SET seq = 2 WHERE id = :id",
    ):
        with pytest.raises(IntegrityError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement), params)


def test_a_fork_cannot_be_written(db, make_user):
    """Two entries sealed after the same one, or in the same place, are refused
    by the unique prev_hash and seq, whatever wrote them."""
    user = make_user()
    first, second = (_insert_unsealed(db, user, "user.password_changed") for _ in range(2))
    sealing = text("UPDATE audit_entry SET seq = :seq, prev_hash = :prev, hash = :h WHERE id = :id")
    db.session.execute(sealing, {"id": first, "seq": 1, "prev": GENESIS_HASH, "h": "a" * 64})

    with pytest.raises(IntegrityError), db.session.begin_nested():  # the same predecessor
        db.session.execute(sealing, {"id": second, "seq": 2, "prev": GENESIS_HASH, "h": "b" * 64})
    with pytest.raises(IntegrityError), db.session.begin_nested():  # the same place
        db.session.execute(sealing, {"id": second, "seq": 1, "prev": "a" * 64, "h": "b" * 64})


# --- with real commits, on a database of its own ---------------------------------------------


def _writer(app: Flask) -> int:
    with app.app_context():
        user = User(username="writer", display_name="记录员")
        user.set_password("correct-horse-9")
        _db.session.add(user)
        _db.session.commit()
        return user.id


def test_postgresql_entries_committed_in_the_opposite_order_of_their_ids_are_both_linked(
    committing_app,
):
    if not _on_postgres(committing_app):
        pytest.skip("SQLite has one writer at a time")
    user_id = _writer(committing_app)
    with committing_app.app_context():  # a transaction on one connection
        actor = _db.session.get(User, user_id)
        first = record(actor, "user.password_changed", actor)
        _db.session.flush()
        with committing_app.app_context():  # and another, on a second connection
            actor = _db.session.get(User, user_id)
            second = record(actor, "user.profile_updated", actor)
            _db.session.flush()
            assert second.id > first.id
            _db.session.commit()
            second_id = second.id
        _db.session.commit()
        first_id = first.id

    with committing_app.app_context():
        seqs = dict(_db.session.execute(select(AuditEntry.id, AuditEntry.seq)).all())
        report = verify_chain()
    assert seqs == {second_id: 1, first_id: 2}
    assert report.ok, report.problem
    assert (report.count, report.unsealed, report.last_id) == (2, 0, first_id)


def test_postgresql_an_uncommitted_entry_is_not_linked_by_another_transaction(committing_app):
    if not _on_postgres(committing_app):
        pytest.skip("SQLite has one writer at a time")
    user_id = _writer(committing_app)
    with committing_app.app_context():
        actor = _db.session.get(User, user_id)
        waiting = record(actor, "user.password_changed", actor)
        _db.session.flush()
        with committing_app.app_context():  # on another connection
            result = committing_app.test_cli_runner().invoke(args=["audit", "seal"])
            assert result.output.strip() == "Linked 0 entries."
        assert _db.session.scalar(select(AuditEntry.seq).where(AuditEntry.id == waiting.id)) is None

        _db.session.commit()

        assert waiting.seq == 1
        report = verify_chain()
    assert report.ok and (report.count, report.unsealed) == (1, 0)


def test_concurrent_appends_do_not_fork_the_chain(committing_app):
    user_id = _writer(committing_app)
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


# --- migrations ----------------------------------------------------------------------------


@pytest.fixture
def other_app(app_config, empty_database_url) -> Iterator[Flask]:
    other = create_app({**app_config, "DATABASE_URL": empty_database_url})
    yield other
    with other.app_context():
        _db.engine.dispose()


def _insert_entries(count: int) -> None:
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
                for n in range(1, count + 1)
            ],
        )


def _seqs() -> list[int | None]:
    with _db.engine.connect() as connection:
        return list(connection.execute(text("SELECT seq FROM audit_entry ORDER BY id")).scalars())


def test_the_migrations_chain_the_entries_written_before_them(other_app):
    """0007 fills in the chain for entries already in the log, the same way
    ``seal()`` extends it (the migration keeps a frozen copy of the format),
    and 0008 numbers them."""
    with other_app.app_context():
        upgrade(revision="0006_outcomes")
        _insert_entries(3)
        upgrade()
        with _db.engine.connect() as connection:
            report = verify_chain(connection)
            first = connection.execute(
                text("SELECT prev_hash FROM audit_entry ORDER BY id LIMIT 1")
            ).scalar_one()
        seqs = _seqs()
    assert report.ok, report.problem
    assert report.count == 3
    assert first == GENESIS_HASH
    assert seqs == [1, 2, 3]


def test_an_entry_waiting_at_the_migration_is_sealed_after_it(other_app):
    with other_app.app_context():
        upgrade(revision="0006_outcomes")
        _insert_entries(2)
        upgrade(revision="0007_integrity")
        _insert_entries(1)  # written unsealed, as 0007's writers could leave one
        upgrade()
        assert _seqs() == [1, 2, None]
        with _db.engine.begin() as connection:
            assert seal(connection, wait=True) == 1
        with _db.engine.connect() as connection:
            report = verify_chain(connection)
        assert _seqs() == [1, 2, 3]
    assert report.ok and (report.count, report.unsealed) == (3, 0)


def test_the_migration_goes_back_to_a_chain_in_id_order_and_up_again(committing_app):
    user_id = _writer(committing_app)
    with committing_app.app_context():
        actor = _db.session.get(User, user_id)
        for _ in range(3):
            record(actor, "user.password_changed", actor)
        _db.session.commit()
        _db.session.remove()

        downgrade(revision="0007_integrity")
        with _db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("audit_entry")}
        upgrade()
        seqs = _seqs()
        report = verify_chain()
    assert "seq" not in columns
    assert seqs == [1, 2, 3]
    assert report.ok and report.count == 3


def test_the_migration_does_not_go_back_when_entries_were_linked_out_of_id_order(
    committing_app,
):
    user_id = _writer(committing_app)
    with committing_app.app_context():
        actor = _db.session.get(User, user_id)
        entries = [record(actor, "user.password_changed", actor) for _ in range(2)]
        _db.session.flush()
        # Linked the way a linker would had the first not been committed yet.
        prev_hash = GENESIS_HASH
        for seq, entry in enumerate(reversed(entries), start=1):
            digest = entry_hash(prev_hash, content_of(entry))
            _db.session.execute(
                text(
                    "UPDATE audit_entry SET seq = :seq, prev_hash = :prev, hash = :h WHERE id = :id"
                ),
                {"seq": seq, "prev": prev_hash, "h": digest, "id": entry.id},
            )
            prev_hash = digest
        _db.session.commit()
        assert verify_chain().ok
        _db.session.remove()

        with pytest.raises(SystemExit):  # flask-migrate logs the error and exits
            downgrade(revision="0007_integrity")
        with _db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("audit_entry")}
    assert "seq" in columns
