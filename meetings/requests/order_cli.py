"""``flask --app wsgi requests close-unrated`` and ``requests flag-orders``:
the order workflow's rules that run by the clock (cron or a systemd timer,
see docs/deploy.md). Each run commits what it changed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from meetings.extensions import db
from meetings.requests import orders

requests_cli = AppGroup("requests", help="Resident requests and their orders.")


@requests_cli.command("close-unrated")
def close_unrated_command() -> None:
    """Close handled or answered requests left unrated for REQUEST_RATING_DAYS."""
    closed = orders.close_unrated()
    db.session.commit()
    click.echo(f"Closed {len(closed)} unrated request(s).")


@requests_cli.command("flag-orders")
def flag_orders_command() -> None:
    """Tell the secretaries of orders unclaimed for ORDER_CLAIM_HOURS or overdue."""
    flagged = orders.flag_late_orders()
    db.session.commit()
    click.echo(f"Flagged {len(flagged)} late order(s).")
