"""``flask --app wsgi resolutions settle-notices``: settle the 公示 (public
notices) of resolutions whose period is over and whose objections are all
answered — by the clock (cron or a systemd timer, see docs/deploy.md). Each
run commits what it changed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from meetings.extensions import db
from meetings.projects.services import notice

resolutions_cli = AppGroup("resolutions", help="Resolutions and their public notice (公示).")


@resolutions_cli.command("settle-notices")
def settle_notices_command() -> None:
    """Make resolutions effective (or withdrawn) once their notice is over."""
    settled = notice.settle_due()
    db.session.commit()
    click.echo(f"Settled {len(settled)} public notice(s).")
