"""Records kept as written: the database refuses to change them.

Triggers (migrations ``0007_integrity`` and ``0009_ballot_box``) refuse UPDATE
and DELETE of audit entries, ballots (those in the box until their poll
closes), their choices and the voter roll, and of published minutes versions.
Services never try; should a change reach one anyway (say, deleting
an agenda item whose poll has ballots), the request gets a 409 with a plain
message instead of a server error.
"""

from __future__ import annotations

import re

from flask import Flask, Response
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from meetings.errors import Conflict
from meetings.http import handle_domain_error, handle_unexpected

# The messages the triggers raise, on SQLite and PostgreSQL alike.
TRIGGER_MESSAGE = re.compile(
    r"\b(audit_entry|ballot|ballot_choice|pending_ballot|poll_vote) is append-only\b"
    r"|\bpublished minutes_version is frozen\b"
)


class RecordKept(Conflict):
    code = "record_kept"


def refused_by_trigger(error: DBAPIError) -> bool:
    """Whether the database refused the statement to keep a record as written."""
    return TRIGGER_MESSAGE.search(str(error.orig)) is not None


def handle_database_error(error: DBAPIError) -> Response | tuple[str, int]:
    if refused_by_trigger(error):
        return handle_domain_error(
            RecordKept(
                _(
                    "Ballots, the audit log and published minutes are kept as they "
                    "were recorded: they cannot be changed or deleted."
                )
            )
        )
    return handle_unexpected(error)


def init_app(app: Flask) -> None:
    """After ``meetings.http.init_error_handlers``: database errors are more
    specific than ``Exception``, so Flask picks this handler for them."""
    app.register_error_handler(DBAPIError, handle_database_error)
