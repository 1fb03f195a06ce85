"""``flask --app wsgi audit verify`` and ``audit seal``: the audit log's hash chain."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from meetings.audit.services import SEAL_BATCH, seal, verify_chain
from meetings.extensions import db

audit_cli = AppGroup("audit", help="The append-only audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check every entry's hash and link, in chain order.

    Prints "ok N entries" and the last entry's id and hash (keep them: an
    entry cut off the end leaves a shorter chain that still checks out), or
    names the first broken entry and exits with status 1. Entries written
    moments ago may not be linked yet: they are counted apart.
    """
    report = verify_chain()
    if report.ok:
        tail = f"; last entry {report.last_id} {report.last_hash}" if report.count else ""
        waiting = f"; {report.unsealed} newer not linked yet" if report.unsealed else ""
        click.echo(f"ok {report.count} entries{tail}{waiting}")
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
