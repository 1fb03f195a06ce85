"""Command line: ``flask --app wsgi create-admin``, ``seed-demo``,
``notifications deliver``, ``audit verify``, ``backup`` and ``restore``."""

import click
from flask import Flask

from auth import services as auth_services
from meetings import demo
from meetings.audit.cli import audit_cli
from meetings.backup import backup_command, restore_command
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.notifications.cli import notifications_cli
from meetings.projects.notice_cli import resolutions_cli
from meetings.requests.order_cli import requests_cli


@click.command("create-admin")
@click.argument("username")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The administrator's password (asked for when left out).",
)
def create_admin_command(username: str, password: str) -> None:
    """Create an administrator, or set the password of an existing one."""
    try:
        user, created = auth_services.set_admin_password(username, password)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} administrator {user.username}.")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo communities and people (running it again changes nothing)."""
    report = demo.seed()
    db.session.commit()
    for line in report:
        click.echo(line)


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(requests_cli)
    app.cli.add_command(resolutions_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
