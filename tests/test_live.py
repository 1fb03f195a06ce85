"""Live updates (issue 16): events go out after the commit only, the stream
``GET /api/v1/meetings/{id}/events`` and who may follow it, its first event
(the state), turnout counted and coalesced, and both brokers (in-process,
and Redis when one answers at 127.0.0.1:6379)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import redis
from poll_helpers import Assembly

from meetings.extensions import db as _db
from meetings.room import live
from meetings.room import services as room_services

pytest_plugins = ["meeting_fixtures", "poll_fixtures"]

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def quick_streams(app, monkeypatch):
    """Streams that end by themselves within a second, beating often."""
    monkeypatch.setitem(app.config, "LIVE_STREAM_SECONDS", 1.0)
    monkeypatch.setitem(app.config, "LIVE_HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "LIVE_RECHECK_SECONDS", 0.1)


class Stream:
    """An open stream read through the test client, event by event."""

    def __init__(self, response) -> None:
        self.response = response
        self.status = response.status_code
        self._chunks = iter(response.response) if self.status == 200 else iter(())
        self._buffer = ""
        self.events: list[tuple[str, dict, str]] = []  # (name, data, id)
        self.comments = 0

    def next_event(self) -> tuple[str, dict, str] | None:
        """The next event, or None when the stream ended."""
        while "\n\n" not in self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return None
            self._buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        block, self._buffer = self._buffer.split("\n\n", 1)
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" not in fields:
            self.comments += block.startswith(":")
            return self.next_event()
        event = (fields["event"], json.loads(fields["data"]), fields["id"])
        self.events.append(event)
        return event

    def until(self, name: str) -> tuple[str, dict, str] | None:
        while (event := self.next_event()) is not None:
            if event[0] == name:
                return event
        return None

    def rest(self) -> list[tuple[str, dict, str]]:
        while self.next_event() is not None:
            pass
        return self.events

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def follow(client, bearer):
    opened = []

    def open_stream(meeting, user=None, *, screen: str | None = None, headers=None) -> Stream:
        url = f"/api/v1/meetings/{meeting.id}/events"
        if screen is not None:
            url += f"?screen={screen}"
        headers = headers if headers is not None else (bearer(user) if user else {})
        stream = Stream(client.get(url, headers=headers))
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


@pytest.fixture
def open_poll(api, assembly: Assembly, secretary):
    poll = api.create_poll(secretary, assembly.item)
    api.open_poll(secretary, poll["id"])
    return poll


# --- after the commit only -----------------------------------------------------------


def test_events_go_out_after_the_commit_and_never_after_a_rollback(app, db, assembly):
    meeting_id = assembly.meeting.id
    hub = live.live_for(app).hub
    subscriber = hub.subscribe(meeting_id)
    try:
        live.publish(meeting_id, "agenda", {"agenda_item_id": 1})
        assert subscriber.wait(0) == []  # not yet committed
        db.session.rollback()
        db.session.commit()
        assert subscriber.wait(0) == []  # rolled back: never sent

        live.publish(meeting_id, "agenda", {"agenda_item_id": 2})
        db.session.commit()
        (chunk,) = subscriber.wait(0)
        assert b"event: agenda\n" in chunk and b'"agenda_item_id":2' in chunk
    finally:
        hub.unsubscribe(subscriber)


def test_a_refused_change_sends_nothing(app, api, assembly, secretary):
    hub = live.live_for(app).hub
    subscriber = hub.subscribe(assembly.meeting.id)
    try:
        poll = api.create_poll(secretary, assembly.item)
        api.open_poll(secretary, poll["id"])
        assert any(b"poll_opened" in chunk for chunk in subscriber.wait(0))
        # opening it again is refused (409): no second poll_opened
        assert api.post(f"/polls/{poll['id']}/open", secretary).status_code == 409
        assert subscriber.wait(0) == []
    finally:
        hub.unsubscribe(subscriber)


# --- who may follow ------------------------------------------------------------------


def test_attendee_and_secretary_follow_outsiders_do_not(
    follow, assembly, secretary, other_secretary, resident
):
    assert follow(assembly.meeting, assembly.voters[0]).status == 200
    assert follow(assembly.meeting, assembly.observer).status == 200
    assert follow(assembly.meeting, secretary).status == 200
    outsider = follow(assembly.meeting, resident)
    assert outsider.status == 403
    assert outsider.response.json["error"]["code"] == "forbidden"
    assert follow(assembly.meeting, other_secretary).status == 403
    anonymous = follow(assembly.meeting)
    assert anonymous.status == 401
    assert follow(assembly.meeting, headers={"Authorization": "Bearer nonsense"}).status == 401


def test_the_login_session_is_enough_for_the_browser(client, login, assembly, resident):
    login(assembly.voters[0])
    response = client.get(f"/api/v1/meetings/{assembly.meeting.id}/events")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    response.close()


def test_a_stranger_with_a_session_is_refused(client, login, assembly, resident):
    login(resident)
    response = client.get(f"/api/v1/meetings/{assembly.meeting.id}/events")
    assert response.status_code == 403


def test_a_missing_meeting_is_not_found(follow, assembly, secretary):
    class Gone:
        id = 2_000_000

    assert follow(Gone, secretary).status == 404


def test_a_screen_link_follows_until_revoked(follow, assembly, secretary, db, in_request):
    link, token = room_services.create_screen_link(secretary, assembly.meeting, "活动室电视")
    db.session.flush()
    stream = follow(assembly.meeting, screen=token)
    assert stream.status == 200
    assert stream.next_event()[0] == "state"
    # another meeting's stream with this link: refused
    other = follow(type("M", (), {"id": assembly.meeting.id + 1000}), screen=token)
    assert other.status in (403, 404)
    assert follow(assembly.meeting, screen="not-a-token").status == 403

    room_services.revoke_screen_link(secretary, link)
    db.session.flush()
    # the open stream ends at its next check, with a last word
    assert stream.until("revoked") is not None
    assert stream.next_event() is None
    assert follow(assembly.meeting, screen=token).status == 403


# --- what the stream says ------------------------------------------------------------


def test_the_first_event_is_the_state(follow, assembly, open_poll, secretary):
    stream = follow(assembly.meeting, assembly.voters[0])
    name, data, ident = stream.next_event()
    assert name == "state" and ident
    assert data["meeting_id"] == assembly.meeting.id
    assert data["status"] == "in_progress"
    assert data["attendance"]["invited"] == len(assembly.voters) + 1
    (poll,) = data["polls"]
    assert poll["poll_id"] == open_poll["id"]
    assert (poll["cast"], poll["eligible"], poll["by_proxy"]) == (0, len(assembly.voters), 0)
    assert data["speakers"] == {"current": None, "waiting": []}


def test_a_reconnecting_client_gets_the_state_first(follow, bearer, assembly):
    headers = bearer(assembly.voters[0]) | {"Last-Event-ID": "1700000000000-5"}
    stream = follow(assembly.meeting, headers=headers)
    assert stream.next_event()[0] == "state"


def test_a_ballot_moves_the_turnout_without_a_choice(follow, api, assembly, open_poll):
    stream = follow(assembly.meeting, assembly.voters[0])
    assert stream.next_event()[0] == "state"
    yes = open_poll["options"][0]["id"]
    api.vote(assembly.voters[1], open_poll["id"], yes)
    name, data, _id = stream.until("turnout")
    assert data == {"poll_id": open_poll["id"], "cast": 1, "eligible": 6, "by_proxy": 0}


def test_many_ballots_make_few_turnout_events(follow, api, assembly, open_poll):
    stream = follow(assembly.meeting, assembly.voters[0])
    assert stream.next_event()[0] == "state"
    yes = open_poll["options"][0]["id"]
    for voter in assembly.voters:
        api.vote(voter, open_poll["id"], yes)
    turnouts = [data for name, data, _id in stream.rest() if name == "turnout"]
    assert 1 <= len(turnouts) < len(assembly.voters)
    assert turnouts[-1]["cast"] == len(assembly.voters)


def test_poll_opened_and_closed_reach_the_stream(follow, api, assembly, secretary):
    stream = follow(assembly.meeting, assembly.voters[0])
    assert stream.next_event()[0] == "state"
    poll = api.create_poll(secretary, assembly.item)
    api.open_poll(secretary, poll["id"])
    assert stream.until("poll_opened")[1] == {"poll_id": poll["id"]}
    api.close_poll(secretary, poll["id"])
    assert stream.until("poll_closed")[1] == {"poll_id": poll["id"]}


def test_presence_marked_sends_the_attendance(follow, api, assembly, secretary):
    stream = follow(assembly.meeting, secretary)
    assert stream.next_event()[0] == "state"
    voter = assembly.voters[2]
    response = api.client.patch(
        f"/api/v1/meetings/{assembly.meeting.id}/attendances/{voter.id}",
        json={"presence": "present"},
        headers=api.headers(secretary),
    )
    assert response.status_code == 200, response.json
    name, data, _id = stream.until("checkin")
    assert data["present"] == 1 and data["voting_invited"] == len(assembly.voters)


def test_threaded_gunicorn_keeps_threads_for_pages(app, client, bearer, assembly, monkeypatch):
    """Under gunicorn's gthread workers a stream holds a thread: at most
    LIVE_THREAD_STREAMS per process, the next one is answered 503."""
    monkeypatch.setitem(app.config, "LIVE_THREAD_STREAMS", 1)
    url = f"/api/v1/meetings/{assembly.meeting.id}/events"
    environ = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}
    first = client.get(url, headers=bearer(assembly.voters[0]), environ_base=environ)
    assert first.status_code == 200
    second = client.get(url, headers=bearer(assembly.voters[1]), environ_base=environ)
    assert second.status_code == 503
    assert second.json["error"]["code"] == "unavailable"
    assert "Retry-After" in second.headers
    first.close()
    again = client.get(url, headers=bearer(assembly.voters[1]), environ_base=environ)
    assert again.status_code == 200
    again.close()


def test_the_stream_beats_and_ends_by_itself(follow, assembly):
    stream = follow(assembly.meeting, assembly.voters[0])
    began = time.monotonic()
    stream.rest()
    assert time.monotonic() - began < 3
    assert stream.comments >= 1


def test_no_stream_keeps_a_subscription_after_it_ends(app, follow, assembly):
    hub = live.live_for(app).hub
    stream = follow(assembly.meeting, assembly.voters[0])
    stream.next_event()
    assert hub.listeners(assembly.meeting.id) == 1
    stream.close()
    assert hub.listeners(assembly.meeting.id) == 0


# --- the brokers ---------------------------------------------------------------------


def test_in_process_broker_by_default(app):
    assert isinstance(live.broker_for(app), live.LocalBroker)
    assert not isinstance(live.broker_for(app), live.RedisBroker)


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def through_redis(app, monkeypatch):
    if not _redis_answers():
        pytest.skip("no Redis at 127.0.0.1:6379")
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "LIVE_CHANNEL_PREFIX", f"shangliang-test-{uuid.uuid4().hex}")
    monkeypatch.setitem(app.config, "LIVE_STREAM_SECONDS", 3.0)
    yield
    app.extensions.pop(live.EXTENSION, None)


def test_redis_broker_carries_the_events(app, through_redis, follow, api, assembly, secretary):
    broker = live.broker_for(app)
    assert isinstance(broker, live.RedisBroker)
    stream = follow(assembly.meeting, assembly.voters[0])
    assert stream.next_event()[0] == "state"
    assert broker.listening.wait(5)
    poll = api.create_poll(secretary, assembly.item)
    api.open_poll(secretary, poll["id"])
    assert stream.until("poll_opened")[1] == {"poll_id": poll["id"]}
    api.vote(assembly.voters[1], poll["id"], poll["options"][0]["id"])
    assert stream.until("turnout")[1]["cast"] == 1


def test_redis_down_falls_back_to_this_process(app, monkeypatch, caplog, assembly):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nobody there
    try:
        broker = live.broker_for(app)
        assert isinstance(broker, live.RedisBroker)
        subscriber = broker.hub.subscribe(assembly.meeting.id)
        # the app's loggers do not propagate (and the migrations' logging
        # set-up turned off those that existed then)
        monkeypatch.setattr(live.logger, "disabled", False)
        live.logger.addHandler(caplog.handler)
        try:
            live.publish(assembly.meeting.id, "agenda", {"agenda_item_id": 3})
            _db.session.commit()
        finally:
            live.logger.removeHandler(caplog.handler)
        assert any(b"event: agenda" in chunk for chunk in subscriber.wait(0))
        assert "Redis does not answer" in caplog.text
        broker.hub.unsubscribe(subscriber)
    finally:
        app.extensions.pop(live.EXTENSION, None)


# --- the pages that follow -----------------------------------------------------------


def test_meeting_page_follows_the_meeting(client, login, assembly, open_poll, secretary):
    login(secretary)
    page = client.get(f"/meetings/{assembly.meeting.id}").get_data(as_text=True)
    assert f'data-live-meeting="{assembly.meeting.id}"' in page
    assert "js/live.js" in page
    assert 'id="live-vote-now" data-live-refresh="poll_opened poll_closed"' in page
    assert '<div data-live="attendance">' in page and "quorum-panel" in page


def test_open_poll_page_follows_its_turnout(client, login, assembly, open_poll, secretary):
    login(secretary)
    page = client.get(f"/polls/{open_poll['id']}").get_data(as_text=True)
    assert f'data-live="turnout" data-poll-id="{open_poll["id"]}"' in page
    assert 'data-live-reload="poll_closed"' in page
