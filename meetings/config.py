"""Configuration: safe defaults here, then ``instance/config.py`` (or the test
mapping), then environment variables."""

import os
import secrets
from pathlib import Path

from flask import Flask

# Environment variables read on top of the files; every other setting comes
# from the defaults or ``instance/config.py``.
ENV_SETTINGS = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "REDIS_URL": str,
    "TIMEZONE": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_USE_TLS": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "MAIL_USE_SSL": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "MAIL_DEFAULT_SENDER": str,
    "MAIL_MAX_ATTEMPTS": int,
    "SITE_URL": str,
    "SESSION_COOKIE_SECURE": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "TRUSTED_PROXIES": int,
    "LOGIN_FAILURES_PER_ACCOUNT": str,
    "LOGIN_FAILURES_PER_ADDRESS": str,
    "SIGNUP_RATE_LIMIT": str,
    "STAFF_IDLE_MINUTES": int,
    "REQUEST_REPLY_DAYS": int,
    "REQUEST_RATING_DAYS": int,
    "ORDER_CLAIM_HOURS": int,
    "MEETING_START_WINDOW_MINUTES": int,
    "UPLOAD_MAX_BYTES": int,
    "UPLOAD_MAX_PIXELS": int,
    "DATABASE_CONNECT_TIMEOUT": int,
    "DATABASE_STATEMENT_TIMEOUT": int,
    "TRUSTED_HOSTS": lambda v: [host.strip() for host in v.split(",") if host.strip()],
    "LOG_LEVEL": str,
    "LOG_FORMAT": str,
}


def defaults(instance_path: str) -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'shangliang.db'}",
        "REDIS_URL": None,
        "TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        # "Stay logged in" lasts this long from the login (residents only).
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        # A secretary's or administrator's session ends after this long without a request.
        "STAFF_IDLE_MINUTES": 30,
        "WTF_CSRF_TIME_LIMIT": 60 * 60 * 8,
        # Failed logins (form and API together) before the account, or the
        # client address, waits for the window to end; successes count nothing.
        "LOGIN_FAILURES_PER_ACCOUNT": "5 per 15 minutes",
        "LOGIN_FAILURES_PER_ADDRESS": "100 per 15 minutes",
        # sign-up forms sent per client address
        "SIGNUP_RATE_LIMIT": "10 per hour",
        "API_TOKEN_DAYS": 30,
        # a resident's request without a reply after this many days is overdue
        "REQUEST_REPLY_DAYS": 3,
        # a handled or answered request without the resident's rating after
        # this many days closes (flask requests close-unrated)
        "REQUEST_RATING_DAYS": 7,
        # an order nobody claimed after this many hours is flagged to the
        # secretary (flask requests flag-orders)
        "ORDER_CLAIM_HOURS": 24,
        "MEETING_START_WINDOW_MINUTES": 60,
        "TRUSTED_PROXIES": 0,
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_DEFAULT_SENDER": "shangliang@localhost",
        "MAIL_TIMEOUT": 30,  # seconds, per SMTP operation
        # Retries back off 1, 2, 4… minutes up to an hour; then the e-mail is failed.
        "MAIL_MAX_ATTEMPTS": 8,
        "MAIL_RETRY_SECONDS": 60,
        "MAIL_RETRY_MAX_SECONDS": 60 * 60,
        # A row left "sending" this long (its worker died) is taken up again.
        # Keep it above the time a batch can take (batch size × MAIL_TIMEOUT).
        "MAIL_CLAIM_TIMEOUT": 60 * 60,
        # Where e-mails link to, e.g. https://shangliang.example.org (else SERVER_NAME).
        "SITE_URL": None,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        # logging to standard error, see meetings.ops: INFO (WARNING under
        # TESTING) and "text", or "json" for a log collector
        "LOG_LEVEL": None,
        "LOG_FORMAT": "text",
        # a progress update's photo (JPEG, PNG or WebP), stored in the database
        "UPLOAD_MAX_BYTES": 5 * 1024 * 1024,
        # a photo with more pixels is refused from its header, before decoding
        "UPLOAD_MAX_PIXELS": 24_000_000,
        # seconds: to connect to PostgreSQL (at least 2), and for any one
        # statement (0: no limit); see meetings.database
        "DATABASE_CONNECT_TIMEOUT": 5,
        "DATABASE_STATEMENT_TIMEOUT": 30,
        # host names the site answers to; None: SITE_URL's and localhost (meetings.security)
        "TRUSTED_HOSTS": None,
        # flask-smorest serves the OpenAPI document at /api/v1/openapi.json
        "API_TITLE": "Shangliang API",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    for name, convert in ENV_SETTINGS.items():
        value = os.environ.get(name)
        # A test mapping is the whole truth for the keys it names: a
        # developer's DATABASE_URL must never point the suite at real data.
        if value and not (test_config and name in test_config):
            app.config[name] = convert(value)

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))

    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_url(app.config["DATABASE_URL"])
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)


def _normalise_url(url: str) -> str:
    # Heroku-style and bare postgres URLs get the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret_key(instance: Path) -> str:
    """Read the key written by the first run, or write a new random one."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another worker starting at the same moment won the race.
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
