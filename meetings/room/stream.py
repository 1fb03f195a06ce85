"""``GET /api/v1/meetings/{id}/events``: a meeting's live updates as
server-sent events (``text/event-stream``), see ``meetings.room.live``.

Who may follow: the meeting's attendees and its secretary — with a bearer
token, or with the browser's login session (``EventSource`` cannot send
headers; a GET changes nothing, so no CSRF token is needed) — and the holder
of a screen link (``?screen=TOKEN``, the big screen, no login). A revoked
link is refused, and an open stream of a link revoked meanwhile ends at its
next check (``LIVE_RECHECK_SECONDS``, 30 s).

The first event is always ``state``: the agenda item under way, the
speakers, the open polls' turnout and the attendance; then the events as
they come, and a comment line every ``LIVE_HEARTBEAT_SECONDS`` (15 s) that
keeps proxies from closing a quiet connection. A stream lasts at most
``LIVE_STREAM_SECONDS`` and the client (``EventSource``) reconnects by
itself: under gevent workers an hour by default, under gthread workers a
minute, as there a stream holds one of the worker's threads.

The stream holds no database connection while it waits: the state is read
by the request (whose session ends before the first byte is sent), and each
later read (the turnout, the screen link's check) runs in an application
context of its own, whose session ends with the read.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import Any

from flask import Flask, Response, abort, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from auth.models import User
from meetings.api.core import BEARER, blueprint, current_api_user
from meetings.errors import NotAllowed, Unauthorized
from meetings.extensions import db
from meetings.meeting import api as meeting_api
from meetings.meeting.models import AgendaItem, Meeting
from meetings.meeting.permissions import require_insider
from meetings.meeting.services.common import get_meeting
from meetings.polls.models import Poll, PollStatus
from meetings.room import live

logger = logging.getLogger("shangliang.live")

bp = blueprint("api_live", "Live updates of a meeting (server-sent events)")

HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 30.0
# a stream's longest life: under gevent, and under threads (gthread)
LIFETIME_GEVENT_SECONDS = 3600.0
LIFETIME_THREADS_SECONDS = 60.0
RETRY_MILLISECONDS = 2000
# open streams per process under threaded workers (see _thread_stream_limit)
THREAD_STREAMS = 2

STREAM_DOC = {
    "parameters": [
        {
            "in": "query",
            "name": "screen",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "the token of a screen link (the big screen, no login)",
        }
    ],
    "responses": {
        "200": {
            "description": "text/event-stream: first `state`, then `agenda`, `checkin`, "
            "`turnout` {poll_id, cast, eligible, by_proxy}, `poll_opened` {poll_id}, "
            "`poll_closed` {poll_id}, `speaker`; a comment line as heartbeat",
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "description": "one event; its data is JSON (docs/api.md)",
                        "properties": {
                            "id": {"type": "string"},
                            "event": {"type": "string"},
                            "data": {"type": "string"},
                        },
                        "required": ["event", "data"],
                    }
                }
            },
        },
        "403": {"description": "forbidden: not an attendee or the secretary; a revoked link"},
        "503": {
            "description": "unavailable: a threaded server's streams are all taken (Retry-After)"
        },
    },
}


def _setting(name: str, default: float) -> float:
    value = current_app.config.get(name)
    return float(default if value is None else value)


def _under_gevent() -> bool:
    gevent_monkey = sys.modules.get("gevent.monkey")
    return bool(gevent_monkey and gevent_monkey.is_module_patched("socket"))


def lifetime() -> float:
    default = LIFETIME_GEVENT_SECONDS if _under_gevent() else LIFETIME_THREADS_SECONDS
    return _setting("LIVE_STREAM_SECONDS", default)


def _thread_stream_limit() -> int | None:
    """Under gunicorn's threaded workers (gthread) each open stream holds one
    of the worker's threads: at most ``LIVE_THREAD_STREAMS`` (2) streams per
    process, so that pages and ballots always find a thread; more are
    answered 503. No limit under gevent, nor under other servers (``flask
    run`` gives each request a thread of its own)."""
    if _under_gevent() or not request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return None
    return int(_setting("LIVE_THREAD_STREAMS", THREAD_STREAMS))


def _follower() -> User:
    """The bearer token's user, else the login session's; 401 without either."""
    if request.headers.get("Authorization"):
        return current_api_user()
    if current_user.is_authenticated:
        return current_user._get_current_object()
    raise Unauthorized(_("A valid bearer token or a login is required."))


def _screen_meeting(token: str) -> Meeting | None:
    from meetings.room import services as room_services

    return room_services.meeting_for_screen_token(token)


def state(meeting: Meeting) -> dict[str, Any]:
    """What the room shows now (names and roles only, never a choice)."""
    from meetings.room import services as room_services

    item = meeting.current_agenda_item
    queue = room_services.speaker_queue(meeting)
    polls = db.session.scalars(
        db.select(Poll)
        .join(Poll.agenda_item)
        .where(AgendaItem.meeting_id == meeting.id, Poll.status == PollStatus.OPEN)
        .order_by(Poll.id)
    ).all()
    turnout = {row["poll_id"]: row for row in live.read_turnout([p.id for p in polls])}

    def speaker(entry) -> dict[str, Any] | None:
        if entry is None:
            return None
        return {
            "id": entry.id,
            "user_id": entry.user_id,
            "name": entry.user.display_name,
            "started_at": entry.started_at.isoformat() if entry.started_at else None,
        }

    return {
        "meeting_id": meeting.id,
        "status": meeting.status.value,
        "agenda_item": {"id": item.id, "title": item.title} if item is not None else None,
        "current_item_started_at": (
            meeting.current_item_started_at.isoformat() if meeting.current_item_started_at else None
        ),
        "speakers": {
            "current": speaker(queue.current),
            "waiting": [speaker(entry) for entry in queue.waiting],
        },
        "polls": [
            {"poll_id": p.id, "title": p.title, "in_room": p.in_room} | turnout.get(p.id, {})
            for p in polls
        ],
        "attendance": live.attendance_counts(meeting.id),
    }


@bp.route("/meetings/<int:meeting_id>/events", methods=["GET"], tags=[meeting_api.bp.name])
@bp.doc(**BEARER, **STREAM_DOC)
def events(meeting_id: int):
    """Follow the meeting live: server-sent events (see docs/api.md)."""
    screen = request.args.get("screen")
    if screen is not None:
        meeting = _screen_meeting(screen)
        if meeting is None or meeting.id != meeting_id:
            raise NotAllowed(_("This screen link does not work: it was revoked or is wrong."))
    else:
        follower = _follower()
        meeting = get_meeting(meeting_id)
        require_insider(follower, meeting)
    app = current_app._get_current_object()
    hub_and_broker = live.live_for(app)
    limit = _thread_stream_limit()
    if limit is not None and hub_and_broker.hub.streams() >= limit:
        abort(503)  # the page works without; live.js tries again later
    hub_and_broker.broker.listen()
    # Subscribed before the state is read: nothing falls in between.
    subscriber = hub_and_broker.hub.subscribe(meeting.id)
    try:
        first = live.encode("state", state(meeting))
    except BaseException:
        hub_and_broker.hub.unsubscribe(subscriber)
        raise
    settings = {
        "heartbeat": _setting("LIVE_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS),
        "recheck": _setting("LIVE_RECHECK_SECONDS", RECHECK_SECONDS),
        "lifetime": lifetime(),
    }
    hub = hub_and_broker.hub
    body = _follow(app, hub, subscriber, meeting.id, first, screen, settings)
    return Response(
        _Body(body, lambda: hub.unsubscribe(subscriber)),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class _Body:
    """The stream's body, unsubscribed when the server closes it, even
    before its first byte (a client gone at once)."""

    def __init__(self, events, on_close) -> None:
        self._events = events
        self._on_close = on_close

    def __iter__(self):
        return self._events

    def close(self) -> None:
        try:
            self._events.close()
        finally:
            self._on_close()


def _follow(
    app: Flask, hub, subscriber, meeting_id: int, first: bytes, screen: str | None, settings: dict
):
    """The stream's body. It runs after the request has ended (its session
    closed): each read below opens an application context of its own and
    ends it at once."""
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n".encode() + first
        now = time.monotonic()
        ends = now + settings["lifetime"]
        next_beat = now + settings["heartbeat"]
        next_check = now + settings["recheck"] if screen is not None else float("inf")
        while True:
            now = time.monotonic()
            if now >= ends:
                return
            due = min(ends, next_beat, next_check, subscriber.tick_at or float("inf"))
            chunks = subscriber.wait(due - now)
            if subscriber.tick_due():
                with app.app_context():
                    _read_and_send_turnout(hub, subscriber, meeting_id)
                chunks += subscriber.wait(0)
            if chunks:
                yield b"".join(chunks)
            now = time.monotonic()
            if now >= next_beat:
                yield b": keep-alive\n\n"
                next_beat = now + settings["heartbeat"]
            if now >= next_check:
                next_check = now + settings["recheck"]
                with app.app_context():
                    still_works = _screen_still_works(screen, meeting_id)
                if not still_works:
                    yield live.encode("revoked", {})
                    return
    finally:
        hub.unsubscribe(subscriber)


def _read_and_send_turnout(hub, subscriber, meeting_id: int) -> None:
    polls = subscriber.take_dirty()
    try:
        counts = live.read_turnout(polls)
    except SQLAlchemyError as error:
        logger.warning("live updates: could not read the turnout: %s", error)
        counts = []
    finally:
        _end_reading()
    hub.send_turnout(meeting_id, counts)


def _screen_still_works(screen: str, meeting_id: int) -> bool:
    try:
        meeting = _screen_meeting(screen)
        return meeting is not None and meeting.id == meeting_id
    except SQLAlchemyError as error:
        logger.warning("live updates: could not check a screen link: %s", error)
        return True  # the database is away: check again later
    finally:
        _end_reading()


def _end_reading() -> None:
    """End the read's session: the connection goes back to the pool."""
    with contextlib.suppress(SQLAlchemyError):
        db.session.remove()
