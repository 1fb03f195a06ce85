"""Operations: ``GET /healthz``, a request id on every request and one
structured log line per request.

Logging goes to standard error (gunicorn and systemd's journal collect it),
through the ``shangliang`` logger tree (and Flask-Limiter's logger, whose
warnings say when the rate limits lose Redis), configured by two settings:

* ``LOG_LEVEL`` — ``INFO`` by default (``WARNING`` under ``TESTING``);
* ``LOG_FORMAT`` — ``text`` for people, or ``json``: one JSON object per line
  (``time``, ``level``, ``logger``, ``message``, ``request_id`` and the
  request's fields) for a log collector.

Each request gets an id: the proxy's ``X-Request-ID`` when it is a sane token
(nginx: ``proxy_set_header X-Request-ID $request_id;``), else a new one. It is
sent back in the ``X-Request-ID`` response header and carried by every log
line written while the request runs. The request line (logger
``shangliang.request``) holds ``request_id``, ``method``, ``path``,
``status``, ``duration_ms``, ``user_id`` (when someone is logged in) and
``remote_addr`` (the client, behind ``TRUSTED_PROXIES``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import redis
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    request,
)
from flask.logging import default_handler
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError

from meetings.extensions import REDIS_TIMEOUT_SECONDS, db, limiter

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
LOG_FORMATS = ("text", "json")
HANDLER_NAME = "shangliang"
# the Redis clients of the health check, by URL, in app.extensions
REDIS_HEALTH = "shangliang_redis_health"

logger = logging.getLogger("shangliang")
request_logger = logging.getLogger("shangliang.request")
# Flask-Limiter's own: "Rate limit storage unreachable - falling back to
# in-memory storage" when Redis goes away. It has only a NullHandler.
limiter_logger = logging.getLogger("flask-limiter")

bp = Blueprint("ops", __name__)


# --- health -----------------------------------------------------------------------------


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """For the load balancer and monitoring: each dependency the app needs,
    ``"ok"`` or ``"unreachable"`` — ``database`` always, ``redis`` when
    ``REDIS_URL`` is set — and ``status`` ``"ok"`` with 200 when all answer,
    else ``"error"`` with 503. Each check is bounded: the database by
    ``DATABASE_CONNECT_TIMEOUT`` and ``DATABASE_STATEMENT_TIMEOUT``, Redis
    by ``REDIS_TIMEOUT_SECONDS``.

    While Redis is down the app keeps working (the rate limits fall back to
    each worker's memory), but the limits are no longer shared between
    workers: the health check says so, so that someone looks."""
    checks = {"database": _database_answers()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _redis_answers()
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "error"}
    body |= {name: "ok" if answers else "unreachable" for name, answers in checks.items()}
    return jsonify(body), 200 if healthy else 503


def _database_answers() -> bool:
    """``SELECT 1`` round the session (no transaction, so on SQLite no wait
    for the write lock) on a pooled connection of its own."""
    engine = db.engine
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool, rolled back
    except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error):
        logger.exception("health check: the database does not answer")
        return False
    return True


def _redis_answers() -> bool:
    """``PING`` on a client of the health check's own (one per URL, kept)."""
    url = current_app.config["REDIS_URL"]
    clients = current_app.extensions.setdefault(REDIS_HEALTH, {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
    try:
        client.ping()
    except redis.RedisError as error:
        logger.error("health check: Redis does not answer: %s", error)
        return False
    return True


# --- request id and the request log -----------------------------------------------------


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _loaded_user_id() -> int | None:
    """Who made the request, if the request found out (the API token's owner,
    or the user flask-login loaded), read from what is loaded: logging never
    queries. It runs before the request's commit (``meetings.unit_of_work``)."""
    token = g.get("api_token")
    if token is not None:
        return token.user_id
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        identity = sa_inspect(user).identity  # the primary key, kept when expired
        return identity[0] if identity else None
    return None


def _log_request(response: Response) -> Response:
    if "request_id" not in g:  # a hook before ours answered (it never should)
        _start_request()
    the_id = g.request_id
    response.headers[REQUEST_ID_HEADER] = the_id
    method, path, status = request.method, request.path, response.status_code
    if path == "/healthz" and status == 200:
        return response  # a probe every few seconds is noise
    level = logging.WARNING if status >= 500 else logging.INFO
    if not request_logger.isEnabledFor(level):
        return response
    duration = (time.perf_counter() - g.request_started) * 1000
    fields = {
        "request_id": the_id,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(duration, 1),
        "user_id": _loaded_user_id(),
        "remote_addr": request.remote_addr,
    }
    request_logger.log(
        level, "%s %s %s %.1fms", method, path, status, duration, extra={"fields": fields}
    )
    return response


# --- formatting -------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Gives every record written during a request that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "request_id", None):
            record.request_id = "-"
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            extra = {k: v for k, v in fields.items() if k in ("user_id", "remote_addr")}
            line += "".join(f" {k}={v}" for k, v in extra.items() if v is not None)
        return line


def init_logging(app: Flask) -> None:
    """One handler, ours, on the ``shangliang`` logger and on Flask's
    ``app.logger`` (in place of Flask's default one), so the errors the app
    logs carry the request id too. Replaced, not added, when another app is
    created in the same process."""
    fmt = str(app.config.get("LOG_FORMAT") or "text").lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    level = app.config.get("LOG_LEVEL") or ("WARNING" if app.testing else "INFO")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.set_name(HANDLER_NAME)
    app.logger.removeHandler(default_handler)
    for target in (logger, app.logger, limiter_logger):
        for old in [h for h in target.handlers if h.get_name() == HANDLER_NAME]:
            target.removeHandler(old)
        target.addHandler(handler)
    logger.setLevel(str(level).upper())
    # Ours writes to standard error; a root handler set up by someone else
    # would print each line a second time.
    logger.propagate = False


def init_app(app: Flask) -> None:
    """Before the other ``init_*`` calls, so the request clock starts first."""
    init_logging(app)
    app.before_request(_start_request)
    app.after_request(_log_request)
    app.register_blueprint(bp)
