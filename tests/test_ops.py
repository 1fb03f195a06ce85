"""Operations: the health check and the request log with its request id."""

from __future__ import annotations

import json
import logging
import os
import re
import socket

import pytest
import redis
from sqlalchemy.exc import OperationalError

from meetings import create_app
from meetings.extensions import db as _db
from meetings.ops import JsonFormatter, TextFormatter

HEX_ID = re.compile(r"[0-9a-f]{32}")
# the Redis of the test machine (make test: a local redis-server)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def request_log(caplog):
    """The lines of the ``shangliang.request`` logger. (It does not propagate
    to the root logger; pytest attaches caplog to such loggers itself.)"""
    logger = logging.getLogger("shangliang.request")
    # Alembic's logging set-up (the migrations run at the start of the suite)
    # disables the loggers that existed before it.
    disabled, logger.disabled = logger.disabled, False
    caplog.set_level(logging.INFO, logger="shangliang.request")
    try:
        yield caplog
    finally:
        logger.disabled = disabled


def _lines(caplog) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == "shangliang.request"]


def test_healthz_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_says_503_when_the_database_does_not_answer(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connect", {}, Exception("connection refused"))

    monkeypatch.setattr(_db.engine, "raw_connection", unreachable)
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    return REDIS_URL


def test_healthz_checks_redis_when_it_is_configured(app, client, monkeypatch, redis_url):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_says_503_naming_redis_when_redis_is_down(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "ok", "redis": "unreachable"}


def test_healthz_needs_no_login_and_no_rate_limit(app, client):
    answers = {client.get("/healthz").status_code for _ in range(30)}
    assert answers == {200}


def test_every_response_carries_a_request_id(client, request_log):
    first = client.get("/")
    second = client.get("/")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(HEX_ID.fullmatch(i) for i in ids)
    assert ids[0] != ids[1]


def test_a_sane_request_id_from_the_proxy_is_kept(client, request_log):
    response = client.get("/", headers={"X-Request-ID": "nginx-3f2a9c1d7e"})
    assert response.headers["X-Request-ID"] == "nginx-3f2a9c1d7e"
    assert _lines(request_log)[-1]["request_id"] == "nginx-3f2a9c1d7e"


@pytest.mark.parametrize(
    "incoming", ["", "x" * 200, "a b", "id;forged=1", "<script>", "-leading-dash"]
)
def test_an_odd_request_id_is_replaced(client, incoming, request_log):
    response = client.get("/", headers={"X-Request-ID": incoming})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_one_structured_line_per_request(client, request_log):
    response = client.get("/no-such-page", environ_base={"REMOTE_ADDR": "203.0.113.7"})

    [line] = _lines(request_log)
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/no-such-page", 404)
    assert line["remote_addr"] == "203.0.113.7"
    assert line["user_id"] is None
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_the_line_names_the_logged_in_user(client, login, resident, request_log):
    login(resident)
    request_log.clear()
    client.get("/")
    assert _lines(request_log)[-1]["user_id"] == resident.id


def test_the_line_names_the_api_token_owner_even_after_a_commit(
    client, bearer, resident, request_log
):
    """The commit expires the token the request loaded; its owner is noted before."""
    headers = bearer(resident)
    request_log.clear()
    response = client.delete("/api/v1/tokens/current", headers=headers)
    assert response.status_code == 204
    assert _lines(request_log)[-1]["user_id"] == resident.id


def test_a_successful_health_probe_is_not_logged(client, request_log):
    client.get("/healthz")
    assert _lines(request_log) == []


def _record(**fields) -> logging.LogRecord:
    record = logging.LogRecord(
        "shangliang.request", logging.INFO, __file__, 1, "GET / 200", (), None
    )
    record.fields = fields
    record.request_id = fields.get("request_id")
    return record


def test_the_json_format_is_one_object_per_line():
    line = JsonFormatter().format(
        _record(request_id="abc", method="GET", path="/会议", status=200, duration_ms=1.5)
    )
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["logger"] == "shangliang.request"
    assert entry["level"] == "INFO"
    assert (entry["request_id"], entry["path"], entry["status"]) == ("abc", "/会议", 200)


def test_the_text_format_reads_as_a_sentence():
    line = TextFormatter().format(_record(request_id="abc", user_id=7, remote_addr="192.0.2.1"))
    assert line.endswith("INFO shangliang.request [abc] GET / 200 user_id=7 remote_addr=192.0.2.1")


def test_log_format_and_level_come_from_the_settings(app_config):
    other = create_app({**app_config, "LOG_FORMAT": "json", "LOG_LEVEL": "debug"})
    try:
        logger = logging.getLogger("shangliang")
        [handler] = [h for h in logger.handlers if h.get_name() == "shangliang"]
        assert isinstance(handler.formatter, JsonFormatter)
        assert logger.level == logging.DEBUG
        assert handler in other.logger.handlers
    finally:
        create_app(app_config)  # back to the suite's settings

    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app({**app_config, "LOG_FORMAT": "xml"})
