"""Live updates of a meeting (issue 16): what changed in the room reaches the
big screen, the secretary's panel and every attendee's phone.

``publish(meeting_id, event, data)`` is what the services call, inside the
request's transaction; the event goes out only once the transaction commits
(a refused change sends nothing). Event names and their data are those of the
API's ``GET /api/v1/meetings/{id}/events``: ``agenda``, ``checkin``,
``turnout`` ``{poll_id, cast, eligible, by_proxy}``, ``poll_opened``
``{poll_id}``, ``poll_closed`` ``{poll_id}``, ``speaker``.

This first version only keeps the events of the transaction (the fan-out
comes with the live stream)."""

from __future__ import annotations

from typing import Any

from meetings.extensions import db

PENDING_KEY = "live_events"


def publish(meeting_id: int, event: str, data: dict[str, Any] | None = None) -> None:
    """Send ``event`` to everyone following the meeting, once the request's
    transaction has committed."""
    db.session.info.setdefault(PENDING_KEY, []).append((meeting_id, event, dict(data or {})))
