"""``audit verify`` at five years of history: it says how far it got, and it
goes on from where the last check ended (the checkpoint in the instance
folder) unless ``--full``. A change after the checkpoint is found by the
next ordinary check; a change before it only by ``--full``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from meetings.audit import cli as audit_cli
from meetings.audit.models import AuditEntry
from meetings.audit.services import Checkpoint, record, verify_chain


@pytest.fixture
def checkpoint_file(app) -> Iterator[Path]:
    path = Path(app.instance_path) / audit_cli.CHECKPOINT_FILE
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture
def write(db, make_user):
    """``write(n)``: n entries, committed (so linked into the chain)."""
    user = make_user()

    def entries(n: int) -> list[AuditEntry]:
        written = [record(user, "user.password_changed", user, n=i) for i in range(n)]
        db.session.commit()
        return written

    return entries


@contextmanager
def _unguarded(db) -> Iterator[None]:
    """Let the test change audit rows, within its own (rolled back) transaction."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
    else:
        for event in ("update", "delete"):
            connection.execute(text(f"DROP TRIGGER audit_entry_no_{event}"))
    yield


def _change(db, entry: AuditEntry) -> None:
    with _unguarded(db):
        db.session.execute(
            text("UPDATE audit_entry SET action = 'user.registered' WHERE id = :id"),
            {"id": entry.id},
        )


def _verify(runner, *args: str):
    return runner.invoke(args=["audit", "verify", *args])


def test_verify_keeps_where_the_chain_checked_out(db, runner, write, checkpoint_file):
    entries = write(3)
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    saved = json.loads(checkpoint_file.read_text())
    last = db.session.get(AuditEntry, entries[-1].id)
    assert (saved["seq"], saved["entry_id"], saved["hash"]) == (last.seq, last.id, last.hash)


def test_the_next_check_reads_only_the_new_entries(db, runner, write, checkpoint_file):
    write(3)
    assert _verify(runner).exit_code == 0
    newer = write(2)

    result = _verify(runner)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok 2 new entries; last entry {newer[-1].id} ")
    assert "where the last check ended; --full checks them all" in result.stderr
    assert json.loads(checkpoint_file.read_text())["entry_id"] == newer[-1].id


def test_a_change_after_the_checkpoint_is_found_by_the_next_check(
    db, runner, write, checkpoint_file
):
    write(3)
    assert _verify(runner).exit_code == 0
    newer = write(3)
    _change(db, newer[1])

    result = _verify(runner)

    assert result.exit_code == 1
    assert f"broken at entry {newer[1].id}: its content does not match its hash" in result.stderr
    # the checkpoint stays where the chain last checked out
    assert json.loads(checkpoint_file.read_text())["entry_id"] != newer[-1].id


def test_a_change_before_the_checkpoint_is_found_by_the_full_check(
    db, runner, write, checkpoint_file
):
    older = write(3)
    assert _verify(runner).exit_code == 0
    write(1)
    _change(db, older[0])

    assert _verify(runner).exit_code == 0  # not read again: only what came since

    result = _verify(runner, "--full")
    assert result.exit_code == 1
    assert f"broken at entry {older[0].id}: its content does not match its hash" in result.stderr


def test_a_checkpoint_the_chain_no_longer_holds_is_refused(db, runner, write, checkpoint_file):
    """Entries cut off the end (or a database restored from an older
    backup): the entry checked last is gone, and the check says so."""
    entries = write(3)
    assert _verify(runner).exit_code == 0
    with _unguarded(db):
        db.session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": entries[-1].id})

    result = _verify(runner)

    assert result.exit_code == 1
    assert "the chain no longer holds the entry checked last time" in result.stderr
    assert "--full" in result.stderr
    assert _verify(runner, "--full").exit_code == 0  # what is left checks out


def test_a_checkpoint_of_another_database_is_not_used(db, runner, write, checkpoint_file):
    entries = write(2)
    checkpoint_file.write_text(
        json.dumps({"database": "elsewhere", "seq": 1, "entry_id": 1, "hash": "0" * 64})
    )
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "new entries" not in result.stdout
    assert json.loads(checkpoint_file.read_text())["entry_id"] == entries[-1].id


def test_verify_says_how_far_it_got(db, runner, write, checkpoint_file, monkeypatch):
    write(5)
    total = db.session.scalar(db.select(db.func.max(AuditEntry.seq)))
    monkeypatch.setattr(audit_cli, "PROGRESS_EVERY", 2)

    result = _verify(runner, "--full")

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[:2] == [f"… 2 of {total} entries checked", f"… 4 of {total} entries checked"]
    assert len(lines) == total // 2


def test_verify_chain_reports_progress_and_goes_on_from_a_checkpoint(db, write):
    write(4)
    seen = []
    report = verify_chain(progress=lambda r: seen.append(r.count), every=3)
    assert report.ok and seen == [3, 6, 9][: report.count // 3]

    newer = write(2)
    again = verify_chain(since=report.checkpoint)
    assert (again.count, again.last_id) == (2, newer[-1].id)
    assert again.checkpoint == Checkpoint(again.last_seq, newer[-1].id, again.last_hash)
