"""Fixtures: one app and schema (built by the migrations) per run, each test
in a transaction rolled back at its end.

The suite runs on SQLite by default; ``TEST_DATABASE_URL=postgresql+psycopg://…``
runs the same tests on PostgreSQL in a database of their own, dropped afterwards.
"""

from __future__ import annotations

import contextvars
import html
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

from auth import services as auth_services
from auth.models import Community, Membership, User
from meetings import create_app
from meetings.extensions import db as _db
from meetings.extensions import limiter
from meetings.i18n import LANGUAGE_COOKIE

# Hypothesis examples that go through the app: the same ones on every run (a
# failure is a finding, never luck), no example database, no deadlines or
# health checks (calls through the app are slow by Hypothesis' measure).
# Use as a parent: ``@settings(THROUGH_THE_APP, max_examples=…)``.
THROUGH_THE_APP = settings(
    derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)

PASSWORD = "correct-horse-9"


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an application context of its
    own, as it does in production.

    The ``db`` fixture keeps an application context pushed for the whole test,
    and Flask reuses a pushed context for requests: ``g`` (flask-login's cached
    user, the API token) would then carry over from one request to the next
    and from one client to another. Each request here also gets a database
    session of its own, on the test's connection and inside its transaction.
    """

    def open(self, *args, **kwargs):
        return contextvars.copy_context().run(self._open_outside_test_context, *args, **kwargs)

    def _open_outside_test_context(self, *args, **kwargs):
        _cv_app.set(None)  # type: ignore[arg-type]
        return super().open(*args, **kwargs)


def _postgres_database(url: str) -> tuple[str, Callable[[], None]]:
    """Create a uniquely named database next to the one in ``url``."""
    base = make_url(url)
    name = f"shangliang_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


def _on_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    if _on_postgres():
        test_url, drop = _postgres_database(os.environ["TEST_DATABASE_URL"])
        yield test_url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A new, empty database of the kind the suite runs on, dropped afterwards:
    for tests that need real commits or DDL away from the shared one."""
    if _on_postgres():
        url, drop = _postgres_database(os.environ["TEST_DATABASE_URL"])
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture(scope="session")
def app_config(database_url, tmp_path_factory) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": database_url,
        "REDIS_URL": None,
        "WTF_CSRF_ENABLED": False,
        # Generous, for tests that log in or sign up many times (the fuzzers);
        # tests of these limits set the defaults back (test_login_limits.py).
        "LOGIN_FAILURES_PER_ACCOUNT": "1000 per minute",
        "LOGIN_FAILURES_PER_ADDRESS": "1000 per minute",
        "SIGNUP_RATE_LIMIT": "1000 per minute",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "MAIL_SERVER": None,
        # a live stream (GET /api/v1/meetings/<id>/events) that a test reads
        # to its end ends at once; tests/test_live.py sets its own
        "LIVE_STREAM_SECONDS": 0.05,
    }


@pytest.fixture(scope="session")
def app(app_config, tmp_path_factory) -> Iterator[Flask]:
    app = create_app(app_config)
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        # The schema comes from the migrations, so a missing one fails the run.
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


class ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session ignores a ``bind`` given to it and takes the
    app's engine; this one uses the test's connection it is bound to."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind or self.bind or super().get_bind(mapper, clause, **kwargs)


@pytest.fixture(autouse=True)
def db(app) -> Iterator:
    """Each test runs inside a transaction that is rolled back at its end;
    the app's commits become savepoints within it."""
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original_session = _db.session
        _db.session = _db._make_scoped_session(
            {
                "class_": ConnectionBoundSession,
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
            }
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original_session
            transaction.rollback()
            connection.close()
    limiter.reset()


@pytest.fixture
def committing_app(app_config, empty_database_url) -> Iterator[Flask]:
    """An app on an empty database, migrated, whose sessions commit for real
    (the ``db`` fixture's session is bound to the shared test connection)."""
    other = create_app({**app_config, "DATABASE_URL": empty_database_url})
    with other.app_context():
        upgrade()
    test_session = _db.session
    _db.session = _db._make_scoped_session({})
    try:
        yield other
    finally:
        _db.session = test_session
        with other.app_context():
            _db.engine.dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def english(client) -> FlaskClient:
    """The client reads the site in English, the messages' source text."""
    client.set_cookie(LANGUAGE_COOKIE, "en")
    return client


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)


@pytest.fixture
def make_community(db) -> Callable[..., Community]:
    def make(
        name: str | None = None, street: str = "中兴街道", district: str = "开发区"
    ) -> Community:
        community = Community(
            name=name or f"测试社区{next(_counter)}", street=street, district=district
        )
        db.session.add(community)
        db.session.flush()
        return community

    return make


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(
        username: str | None = None,
        *,
        community: Community | None = None,
        secretary: bool = False,
        admin: bool = False,
        active: bool = True,
        display_name: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        number = next(_counter)
        user = User(
            username=username or f"user{number}",
            display_name=display_name or f"居民{number}",
            is_admin=admin,
            is_active=active,
        )
        user.set_password(password)
        db.session.add(user)
        if community is not None:
            db.session.add(Membership(user=user, community=community, is_secretary=secretary))
        db.session.flush()
        return user

    return make


@pytest.fixture
def community(make_community) -> Community:
    return make_community("东篱社区")


@pytest.fixture
def other_community(make_community) -> Community:
    return make_community("星怡社区", street="竹行街道")


@pytest.fixture
def admin(make_user) -> User:
    return make_user("root", admin=True, display_name="管理员")


@pytest.fixture
def secretary(make_user, community) -> User:
    return make_user("sec", community=community, secretary=True, display_name="林书记")


@pytest.fixture
def other_secretary(make_user, other_community) -> User:
    return make_user("othersec", community=other_community, secretary=True, display_name="周书记")


@pytest.fixture
def resident(make_user, community) -> User:
    return make_user("resident", community=community, display_name="王阿姨")


@pytest.fixture
def login(client) -> Callable[[User], FlaskClient]:
    """Log the client in through the real login form."""

    def do_login(user: User, password: str = PASSWORD) -> FlaskClient:
        response = client.post(
            "/auth/login", data={"username": user.username, "password": password}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do_login


@pytest.fixture
def bearer(db) -> Callable[[User], dict[str, str]]:
    """Authorization headers with a fresh API token for the user."""

    def headers(user: User) -> dict[str, str]:
        plain, _token = auth_services.issue_token(user)
        return {"Authorization": f"Bearer {plain}"}

    return headers


CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def field_errors(html_text: str, field_id: str) -> list[str]:
    """The error messages shown next to a form field (``_forms.html``)."""
    match = re.search(
        rf'<ul class="errors" id="{re.escape(field_id)}-error">(.*?)</ul>', html_text, re.S
    )
    if match is None:
        return []
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def form_errors(html_text: str) -> list[str]:
    """The messages at the top of a form, outside any field."""
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', html_text, re.S)
    if match is None:
        return []
    return [html.unescape(m) for m in re.findall(r"<p>(.*?)</p>", match.group(1), re.S)]


def flashes(html_text: str) -> list[str]:
    """The flashed messages shown at the top of the page."""
    return [
        html.unescape(m)
        for m in re.findall(r'<p class="alert alert-\w+">(.*?)</p>', html_text, re.S)
    ]
