"""``flask --app wsgi notifications deliver [--loop]``: the e-mail worker."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from meetings.extensions import db
from meetings.notifications.deliver import DeliveryReport, deliver_due

notifications_cli = AppGroup("notifications", help="The notification outbox.")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT instead of killing the process, so a
    batch in progress finishes and records what it sent."""
    stop = threading.Event()

    def handler(signum, frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _echo(report: DeliveryReport) -> None:
    click.echo(f"Claimed {report.claimed}: {report}.")


@notifications_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running until SIGTERM or SIGINT.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait between runs with --loop.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=1000),
    default=100,
    show_default=True,
    help="Most e-mails claimed at once.",
)
def deliver_command(loop: bool, interval: float, batch: int) -> None:
    """Send the e-mails that are due; retry failed ones later."""
    if not current_app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not set: e-mail is off, notifications stay in the inbox.")
        return
    if not loop:
        _echo(deliver_due(limit=batch))
        return
    with _stop_on_signals() as stop:
        click.echo(f"Delivering every {interval:g} s; stop with SIGTERM or Ctrl-C.")
        while not stop.is_set():
            try:
                report = deliver_due(limit=batch)
            except OperationalError as error:
                # The database is away (restart, network): try again next round.
                db.session.rollback()
                current_app.logger.warning("notification delivery: %s", error)
                stop.wait(interval)
                continue
            if report.claimed:
                _echo(report)
            if report.claimed < batch:  # caught up: rest until the next round
                stop.wait(interval)
        click.echo("Stopped.")
