"""When a service the app needs fails, the app says so and nothing hangs.

- A database that accepts connections and never answers, or refuses them:
  pages answer the "temporarily unavailable" page (503, ``Retry-After``), the
  API ``{"error": {"code": "unavailable"}}``, within the connect timeout;
  static files are served without the database; ``/healthz`` names it.
- PostgreSQL cancels a statement that runs past ``DATABASE_STATEMENT_TIMEOUT``.
- Redis down (``REDIS_URL`` pointing at a closed port): logins by form and by
  API and the PDF route keep working on a real server (the rate limits fall
  back to memory, with a warning in the log), and ``/healthz`` fails naming
  Redis. That one runs gunicorn: Flask-Limiter keeps its storage on the
  module's one ``limiter``, which this process's other tests share.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.client import HTTPException
from pathlib import Path

import pytest
from conftest import PASSWORD, _on_postgres, csrf_token_from
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from auth.models import User
from meetings import create_app
from meetings.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT = 2  # seconds, libpq's least
ENGLISH = {"Accept-Language": "en"}


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_database() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never says a
    word (a database server that hangs): its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()
        for connection in held:
            connection.close()


@pytest.fixture
def app_on(app_config) -> Iterator[Callable[..., Flask]]:
    """An app on another database, whose requests use sessions of their own
    (the ``db`` fixture binds ``db.session`` to the suite's test connection)."""
    apps: list[Flask] = []
    test_session = _db.session
    _db.session = _db._make_scoped_session({})

    def make(url: str, **settings) -> Flask:
        other = create_app({**app_config, "DATABASE_URL": url, **settings})
        apps.append(other)
        return other

    try:
        yield make
    finally:
        _db.session = test_session
        for other in apps:
            with other.app_context():
                _db.engine.dispose()


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# --- a database that never answers, or refuses ----------------------------------------------


@pytest.fixture
def hanging(app_on, silent_database) -> Flask:
    return app_on(
        f"postgresql+psycopg://shangliang@127.0.0.1:{silent_database}/shangliang",
        DATABASE_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
    )


def test_a_page_answers_503_within_the_connect_timeout(hanging):
    response, seconds = timed(lambda: hanging.test_client().get("/", headers=ENGLISH))
    assert response.status_code == 503
    assert seconds < CONNECT_TIMEOUT + 2
    page = response.get_data(as_text=True)
    assert "<h1>Temporarily unavailable</h1>" in page
    assert "Nothing was saved" in page
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_503_page_is_in_the_visitors_language(hanging):
    response = hanging.test_client().get("/")
    assert response.status_code == 503
    assert "暂时无法使用" in response.get_data(as_text=True)


def test_a_login_answers_503_too(hanging):
    response = hanging.test_client().post(
        "/auth/login", data={"username": "wangayi", "password": PASSWORD}, headers=ENGLISH
    )
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)


def test_an_api_call_with_a_token_answers_503_too(hanging):
    """Looking the bearer token up asks the database, which does not answer."""
    response = hanging.test_client().get("/api/v1/me", headers={"Authorization": "Bearer x"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"


def test_the_api_answers_unavailable_within_the_connect_timeout(hanging):
    response, seconds = timed(lambda: hanging.test_client().get("/api/v1/communities"))
    assert response.status_code == 503
    assert seconds < CONNECT_TIMEOUT + 2
    assert response.json["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "30"


def test_healthz_says_the_database_is_unreachable_within_the_timeout(hanging):
    response, seconds = timed(lambda: hanging.test_client().get("/healthz"))
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}
    assert seconds < CONNECT_TIMEOUT + 2


def test_static_files_need_no_database(hanging):
    response, seconds = timed(lambda: hanging.test_client().get("/static/css/app.css"))
    assert response.status_code == 200
    assert seconds < 1
    response.close()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql+psycopg://shangliang@127.0.0.1:{port}/x", id="postgresql-refused"),
        pytest.param("sqlite:///{tmp}/no-such-folder/shangliang.db", id="sqlite-cannot-open"),
    ],
)
def test_a_database_that_cannot_be_reached_gives_the_503_page(app_on, tmp_path, url):
    refused = app_on(url.format(port=closed_port(), tmp=tmp_path))
    page = refused.test_client().get("/", headers=ENGLISH)
    assert page.status_code == 503
    assert "Temporarily unavailable" in page.get_data(as_text=True)
    api = refused.test_client().get("/api/v1/communities")
    assert api.status_code == 503 and api.json["error"]["code"] == "unavailable"


@pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL's statement_timeout")
def test_postgresql_cancels_a_statement_past_the_statement_timeout(app_on, database_url):
    app = app_on(database_url, DATABASE_STATEMENT_TIMEOUT=1)
    with app.app_context():
        assert _db.session.scalar(text("SHOW statement_timeout")) == "1s"
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"):
            _db.session.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 3
        _db.session.rollback()


@pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL's statement_timeout")
def test_the_statement_timeout_is_30_seconds_by_default(app_on, database_url):
    with app_on(database_url).app_context():
        assert _db.session.scalar(text("SHOW statement_timeout")) == "30s"


# --- Redis down, on a real server -----------------------------------------------------------


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Just enough of a browser: cookies, no redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects()
        )

    def open(self, path: str, data: bytes | None = None, headers: dict | None = None):
        # always http://127.0.0.1:<port>/…, built here
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()


@pytest.fixture
def served_without_redis(committing_app, tmp_path) -> Iterator[tuple[Browser, Path]]:
    """gunicorn on a database with one resident, ``REDIS_URL`` at a closed port."""
    with committing_app.app_context():
        user = User(username="wangayi", display_name="王阿姨")
        user.set_password(PASSWORD)
        _db.session.add(user)
        _db.session.commit()
    port = closed_port()
    log = tmp_path / "gunicorn.log"
    env = os.environ | {
        "DATABASE_URL": committing_app.config["DATABASE_URL"],
        "SECRET_KEY": "test-secret-key-not-for-production",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "LOG_LEVEL": "INFO",
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "1", "--threads", "2", "wsgi:app"),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            with contextlib.closing(connection), contextlib.suppress(OSError, HTTPException):
                connection.request("GET", "/static/css/app.css")
                if connection.getresponse().status == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield Browser(f"http://127.0.0.1:{port}"), log
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_with_redis_down_logins_work_and_healthz_names_redis(served_without_redis):
    browser, log = served_without_redis

    status, page = browser.open("/auth/login")
    assert status == 200
    form = {"username": "wangayi", "password": PASSWORD, "csrf_token": csrf_token_from(page)}
    status, _page = browser.open("/auth/login", urllib.parse.urlencode(form).encode())
    assert status == 302
    assert browser.open("/my/meetings")[0] == 200

    status, body = browser.open(
        "/api/v1/tokens",
        json.dumps({"username": "wangayi", "password": PASSWORD}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 201 and json.loads(body)["token"]

    # the PDF route is rate limited too: no published minutes, so 404, not 500
    assert browser.open("/minutes/999.pdf")[0] == 404

    status, body = browser.open("/healthz")
    assert status == 503
    assert json.loads(body) == {"status": "error", "database": "ok", "redis": "unreachable"}
    assert "falling back to in-memory storage" in log.read_text()
