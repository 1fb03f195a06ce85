"""Live updates of a meeting (issue 16): what changed in the room reaches the
big screen, the secretary's panel and every attendee's phone.

``publish(meeting_id, event, data)`` is what the services call, inside the
request's transaction; the event goes out only once the transaction commits
(a refused change sends nothing: the events of a transaction that rolls
back or is closed without a commit are dropped). Event names and their data
are those of the API's ``GET /api/v1/meetings/{id}/events``: ``agenda``,
``checkin``, ``turnout`` ``{poll_id, cast, eligible, by_proxy}``,
``poll_opened`` ``{poll_id}``, ``poll_closed`` ``{poll_id}``, ``speaker``.

How an event travels:

* **Broker.** With ``REDIS_URL`` the committed event is published on the
  meeting's Redis channel (``<LIVE_CHANNEL_PREFIX>:meeting:<id>``) and every
  process (gunicorn worker, host) listens to all meetings' channels with one
  connection of its own (``psubscribe``), started with its first stream.
  Without Redis (the embedded default), or while Redis does not answer (a
  warning in the log; Redis is tried again with the next event), the event
  goes straight to the streams of this process.
* **Hub.** Each process keeps, per meeting, the open streams
  (``Subscriber``), and hands each event to all of them, encoded once.
* **Turnout is coalesced.** A ballot publishes ``turnout`` ``{poll_id}``
  only (``cast_ballot`` stays one statement lighter): the hub marks the poll
  dirty and asks one of the meeting's streams in this process to read the
  counts, at most once every ``LIVE_TURNOUT_SECONDS`` (0.3 s), and to hand
  the latest counts to all. 2,000 ballots to 2,000 phones make a few
  turnout events a second, not four million.

Each event carries an id (``<milliseconds>-<n>``); a client that connects, or
reconnects with ``Last-Event-ID``, is first sent the meeting's current
``state`` (see ``meetings.room.stream``), so nothing missed while away matters.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from meetings.extensions import REDIS_TIMEOUT_SECONDS, db

PENDING_KEY = "live_events"
EXTENSION = "shangliang_live"
TURNOUT = "turnout"
# Defaults of the settings (app.config may set each).
TURNOUT_SECONDS = 0.3

logger = logging.getLogger("shangliang.live")


def publish(meeting_id: int, event: str, data: dict[str, Any] | None = None) -> None:
    """Send ``event`` to everyone following the meeting, once the request's
    transaction has committed."""
    db.session.info.setdefault(PENDING_KEY, []).append((meeting_id, event, dict(data or {})))


# --- after the commit ------------------------------------------------------------------


@sa_event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    broker = broker_for(current_app)
    for meeting_id, name, data in pending:
        broker.send(meeting_id, name, data)


@sa_event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit (a rollback, a
    close): its events never happened."""
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


# --- the events ------------------------------------------------------------------------

_numbers = itertools.count(1)


def event_id() -> str:
    return f"{int(time.time() * 1000)}-{next(_numbers)}"


def encode(name: str, data: dict[str, Any], ident: str | None = None) -> bytes:
    """One server-sent event, as it goes on the wire."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {ident or event_id()}\nevent: {name}\ndata: {body}\n\n".encode()


def read_turnout(poll_ids: list[int]) -> list[dict[str, Any]]:
    """The open polls' counts (never a choice): eligible voters, ballots cast,
    of which by proxy. Read in a transaction that writes nothing."""
    from meetings.database import READ_ONLY
    from meetings.polls.models import OnBehalfKind, PollVote, PollVoter, VoteOnBehalf

    if not poll_ids:
        return []
    if not db.session().in_transaction():
        db.session.connection(execution_options={READ_ONLY: True})

    def counted(column, *where) -> dict[int, int]:
        statement = (
            db.select(column, db.func.count()).where(column.in_(poll_ids), *where).group_by(column)
        )
        return dict(db.session.execute(statement).all())

    eligible = counted(PollVoter.poll_id)
    cast = counted(PollVote.poll_id)
    by_proxy = counted(VoteOnBehalf.poll_id, VoteOnBehalf.kind == OnBehalfKind.PROXY)
    return [
        {
            "poll_id": poll_id,
            "cast": cast.get(poll_id, 0),
            "eligible": eligible.get(poll_id, 0),
            "by_proxy": by_proxy.get(poll_id, 0),
        }
        for poll_id in sorted(poll_ids)
    ]


def attendance_counts(meeting_id: int) -> dict[str, int]:
    """The room's attendance in one aggregate query (a meeting of 2,000
    attendees is not loaded row by row for each phone that connects)."""
    from sqlalchemy import case
    from sqlalchemy import func as f

    from meetings.meeting.models import Attendance, Presence

    present = Attendance.presence == Presence.PRESENT
    voting = Attendance.may_vote.is_(True)
    row = db.session.execute(
        db.select(
            f.count(),
            f.sum(case((present, 1), else_=0)),
            f.sum(case((voting, 1), else_=0)),
            f.sum(case((present & voting, 1), else_=0)),
        ).where(Attendance.meeting_id == meeting_id)
    ).one()
    invited, present_count, voting_invited, voting_present = (value or 0 for value in row)
    return {
        "present": present_count,
        "invited": invited,
        "voting_present": voting_present,
        "voting_invited": voting_invited,
    }


# --- the hub: the open streams of this process -----------------------------------------


class Subscriber:
    """One open stream: the events waiting for it, and whether it is the one
    asked to read the turnout (``tick_at``)."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self._waiting: deque[bytes] = deque()
        self._ready = threading.Event()
        self.tick_at: float | None = None  # monotonic time to read the turnout

    def put(self, chunk: bytes) -> None:
        self._waiting.append(chunk)
        self._ready.set()

    def wake(self) -> None:
        self._ready.set()

    def wait(self, timeout: float) -> list[bytes]:
        """The events that came, after waiting at most ``timeout`` seconds."""
        if timeout > 0:
            self._ready.wait(timeout)
        self._ready.clear()
        chunks = []
        while self._waiting:
            chunks.append(self._waiting.popleft())
        return chunks

    def tick_due(self) -> bool:
        return self.tick_at is not None and time.monotonic() >= self.tick_at

    def take_dirty(self) -> list[int]:
        """As the turnout's reader: the polls to read (and the next read is
        not before ``interval`` from now)."""
        return self.room.take_dirty(self)


@dataclass(eq=False)
class Room:
    """A meeting's open streams in this process."""

    meeting_id: int
    interval: float
    subscribers: set[Subscriber] = field(default_factory=set)
    dirty: set[int] = field(default_factory=set)
    next_tick: float = 0.0
    reader: Subscriber | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fan_out(self, chunk: bytes) -> int:
        with self.lock:
            subscribers = list(self.subscribers)
        for subscriber in subscribers:
            subscriber.put(chunk)
        return len(subscribers)

    def mark_dirty(self, poll_id: int) -> None:
        with self.lock:
            self.dirty.add(poll_id)
            self._choose_reader()

    def _choose_reader(self) -> None:
        """(Under the lock.) Ask one stream to read the counts when due."""
        if self.reader is not None or not self.dirty or not self.subscribers:
            return
        self.reader = next(iter(self.subscribers))
        self.reader.tick_at = max(time.monotonic(), self.next_tick)
        self.reader.wake()

    def take_dirty(self, subscriber: Subscriber) -> list[int]:
        with self.lock:
            subscriber.tick_at = None
            if self.reader is subscriber:
                self.reader = None
            polls, self.dirty = sorted(self.dirty), set()
            self.next_tick = time.monotonic() + self.interval
            return polls

    def add(self, subscriber: Subscriber) -> None:
        with self.lock:
            self.subscribers.add(subscriber)
            self._choose_reader()

    def remove(self, subscriber: Subscriber) -> bool:
        """True when the room is left empty."""
        with self.lock:
            self.subscribers.discard(subscriber)
            if self.reader is subscriber:
                self.reader = None
                self._choose_reader()
            return not self.subscribers


class Hub:
    def __init__(self, interval: float = TURNOUT_SECONDS) -> None:
        self.interval = interval
        self.rooms: dict[int, Room] = {}
        self.lock = threading.Lock()

    def subscribe(self, meeting_id: int) -> Subscriber:
        with self.lock:
            room = self.rooms.get(meeting_id)
            if room is None:
                room = self.rooms[meeting_id] = Room(meeting_id, self.interval)
            subscriber = Subscriber(room)
            room.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        room = subscriber.room
        with self.lock:
            if room.remove(subscriber) and self.rooms.get(room.meeting_id) is room:
                del self.rooms[room.meeting_id]

    def streams(self) -> int:
        """Open streams in this process, all meetings."""
        with self.lock:
            return sum(len(room.subscribers) for room in self.rooms.values())

    def listeners(self, meeting_id: int) -> int:
        room = self.rooms.get(meeting_id)
        return len(room.subscribers) if room else 0

    def dispatch(self, meeting_id: int, name: str, data: dict[str, Any]) -> None:
        """An event of the meeting reached this process: to its streams."""
        room = self.rooms.get(meeting_id)
        if room is None:
            return  # nobody here follows the meeting
        if name == TURNOUT:
            poll_id = data.get("poll_id")
            if isinstance(poll_id, int):
                room.mark_dirty(poll_id)
            return
        room.fan_out(encode(name, data))

    def send_turnout(self, meeting_id: int, counts: list[dict[str, Any]]) -> None:
        room = self.rooms.get(meeting_id)
        if room is None:
            return
        for data in counts:
            room.fan_out(encode(TURNOUT, data))


# --- brokers -------------------------------------------------------------------------


class LocalBroker:
    """The embedded default: events reach the streams of this process."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def send(self, meeting_id: int, name: str, data: dict[str, Any]) -> None:
        self.hub.dispatch(meeting_id, name, data)

    def listen(self) -> None:
        """Nothing to start."""


class RedisBroker(LocalBroker):
    """Events through Redis pub/sub, for every worker and host; this process's
    streams are fed by one listening thread (``psubscribe`` to all meetings)."""

    def __init__(self, hub: Hub, url: str, prefix: str) -> None:
        super().__init__(hub)
        self.url = url
        self.prefix = f"{prefix}:meeting:"
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._listener: threading.Thread | None = None
        self._guard = threading.Lock()
        self.listening = threading.Event()  # subscribed (for the tests and the bench)
        self._down = False

    def channel(self, meeting_id: int) -> str:
        return f"{self.prefix}{meeting_id}"

    def send(self, meeting_id: int, name: str, data: dict[str, Any]) -> None:
        message = json.dumps({"event": name, "data": data}, separators=(",", ":"))
        try:
            self.client.publish(self.channel(meeting_id), message)
        except redis.RedisError as error:
            if not self._down:
                logger.warning(
                    "live updates: Redis does not answer (%s); events reach this process's "
                    "streams only until it is back",
                    error,
                )
            self._down = True
            self.hub.dispatch(meeting_id, name, data)
            return
        if self._down:
            logger.warning("live updates: Redis answers again")
            self._down = False

    def listen(self) -> None:
        with self._guard:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(
                target=self._listen_forever, name="shangliang-live-redis", daemon=True
            )
            self._listener.start()

    def _listen_forever(self) -> None:
        delay = 0.5
        while True:
            client = redis.Redis.from_url(
                self.url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=None
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(f"{self.prefix}*")
                self.listening.set()
                delay = 0.5
                for message in pubsub.listen():
                    self._deliver(message)
            except redis.RedisError as error:
                logger.warning("live updates: lost Redis (%s); listening again soon", error)
            except Exception:  # never let the listener die
                logger.exception("live updates: the Redis listener failed")
            finally:
                self.listening.clear()
                try:
                    pubsub.close()
                    client.close()
                except Exception:  # noqa: S110 — closing a connection that is gone
                    pass
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    def _deliver(self, message: dict) -> None:
        if message.get("type") != "pmessage":
            return
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        try:
            meeting_id = int(channel.removeprefix(self.prefix))
            payload = json.loads(message["data"])
            name, data = payload["event"], payload["data"]
        except (ValueError, KeyError, TypeError):
            logger.warning("live updates: an unreadable message on %s", channel)
            return
        self.hub.dispatch(meeting_id, name, data)


@dataclass
class Live:
    hub: Hub
    broker: LocalBroker
    pid: int
    url: str | None


def broker_for(app: Flask) -> LocalBroker:
    return live_for(app).broker


def live_for(app: Flask) -> Live:
    """This process's hub and broker for the app (made anew after a fork, or
    when ``REDIS_URL`` changed: the tests switch it)."""
    url = app.config.get("REDIS_URL") or None
    live = app.extensions.get(EXTENSION)
    if live is not None and live.pid == os.getpid() and live.url == url:
        return live
    with _create_guard:
        live = app.extensions.get(EXTENSION)
        if live is not None and live.pid == os.getpid() and live.url == url:
            return live
        hub = Hub(float(app.config.get("LIVE_TURNOUT_SECONDS") or TURNOUT_SECONDS))
        if url:
            prefix = app.config.get("LIVE_CHANNEL_PREFIX") or "shangliang"
            broker: LocalBroker = RedisBroker(hub, url, prefix)
        else:
            broker = LocalBroker(hub)
        live = app.extensions[EXTENSION] = Live(hub, broker, os.getpid(), url)
        return live


_create_guard = threading.Lock()
