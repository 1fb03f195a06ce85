"""``flask --app wsgi audit verify`` and ``audit seal``: the audit log's hash chain.

``audit verify`` remembers where the chain last checked out (its place,
entry id and hash) in ``instance/audit-verified.json`` and the next run
checks only what was added since, after making sure that entry is still the
one it checked; ``--full`` walks the whole chain again. The file is kept
beside the app, not in the database, so that someone able to rewrite the
database cannot move it along with the entries."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from meetings.audit.services import (
    SEAL_BATCH,
    ChainReport,
    Checkpoint,
    chain_length,
    seal,
    verify_chain,
)
from meetings.extensions import db

audit_cli = AppGroup("audit", help="The append-only audit log.")

CHECKPOINT_FILE = "audit-verified.json"
# How often ``audit verify`` says how far it got (entries), on stderr.
PROGRESS_EVERY = 100_000


def _checkpoint_path() -> Path:
    return Path(current_app.instance_path) / CHECKPOINT_FILE


def _database() -> str:
    """Which database a checkpoint belongs to (its URL without the password, hashed)."""
    url = db.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def load_checkpoint() -> Checkpoint | None:
    """The last check's checkpoint for this database, if there is one."""
    try:
        saved = json.loads(_checkpoint_path().read_text(encoding="utf-8"))
        if saved.get("database") != _database():
            return None
        return Checkpoint(int(saved["seq"]), int(saved["entry_id"]), str(saved["hash"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save_checkpoint(checkpoint: Checkpoint) -> None:
    path = _checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = {
        "database": _database(),
        "seq": checkpoint.seq,
        "entry_id": checkpoint.entry_id,
        "hash": checkpoint.hash,
        "verified_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)  # never half a file


@audit_cli.command("verify")
@click.option(
    "--full",
    is_flag=True,
    help="Check the whole chain from its first entry, not only what was added "
    "since the last check (after restoring a backup, and now and then).",
)
def verify_command(full: bool) -> None:
    """Check the entries' hashes and links, in chain order.

    Goes on from where the last check ended (instance/audit-verified.json),
    unless --full. Says how far it got every 100,000 entries (on stderr),
    then prints "ok N entries" and the last entry's id and hash (keep them:
    an entry cut off the end leaves a shorter chain that still checks out),
    or names the first broken entry and exits with status 1. Entries
    written moments ago may not be linked yet: they are counted apart.
    """
    since = None if full else load_checkpoint()
    total = chain_length()
    if since is not None:
        click.echo(
            f"Checking the entries after place {since.seq:,} (entry {since.entry_id}), "
            f"where the last check ended; --full checks them all.",
            err=True,
        )

    def progress(report: ChainReport) -> None:
        done = (since.seq if since else 0) + report.count
        click.echo(f"… {done:,} of {total:,} entries checked", err=True)

    report = verify_chain(since=since, progress=progress, every=PROGRESS_EVERY)
    if report.ok:
        if report.checkpoint is not None:
            save_checkpoint(report.checkpoint)
        new = " new" if since is not None else ""
        tail = f"; last entry {report.last_id} {report.last_hash}" if report.last_id else ""
        waiting = f"; {report.unsealed} newer not linked yet" if report.unsealed else ""
        click.echo(f"ok {report.count}{new} entries{tail}{waiting}")
        return
    click.echo(
        f"broken at entry {report.broken_id}: {report.problem} "
        f"({report.count} entries before it check out)",
        err=True,
    )
    sys.exit(1)


@audit_cli.command("seal")
def seal_command() -> None:
    """Link the entries not linked yet into the chain.

    A transaction that writes entries links the backlog as it commits, unless
    another one is linking at that moment (PostgreSQL); this waits for the
    lock and links whatever is left, a batch per transaction.
    """
    total = 0
    while True:
        linked = seal(db.session.connection(), wait=True) or 0
        db.session.commit()
        total += linked
        if linked < SEAL_BATCH:  # nothing was left after these
            break
    click.echo(f"Linked {total} entries.")
