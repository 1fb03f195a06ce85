"""The one place where errors become HTTP responses: a JSON error body for the
API, an error page for everyone else. Input no database can take is turned
away here too, before it reaches a query.

A database that cannot be reached, does not answer in time
(``DATABASE_CONNECT_TIMEOUT``, ``DATABASE_STATEMENT_TIMEOUT``, see
``meetings.database``) or is locked past SQLite's busy timeout is a 503 with
``Retry-After``, not a 500: the page (``errors/503.html``) is drawn without
asking the database anything, and the API answers ``unavailable``."""

from __future__ import annotations

import re
from itertools import chain
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.routing import IntegerConverter

from meetings.dbtypes import MAX_ID
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.i18n import LANGUAGE_COOKIE

API_PREFIX = "/api/"

# snake_case codes of the API contract for plain HTTP errors
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}
# How soon a client may try again after a 503, in seconds.
RETRY_AFTER_SECONDS = 30


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="shangliang"'
    return response


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nest messages by field; the contract wants a flat map."""
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_schema": list(messages)}
        flat: dict[str, list[str]] = {}
        for index, item in enumerate(messages):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    if isinstance(messages, dict):
        flat = {}
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix or "_schema": [str(messages)]}


def _webargs_fields(error: HTTPException) -> dict[str, list[str]]:
    messages = (getattr(error, "data", None) or {}).get("messages")
    if not messages:
        return {}
    # webargs nests by location ("json", "query", …); locations are not field names.
    merged: dict[str, list[str]] = {}
    for location_messages in messages.values():
        merged.update(_flatten(location_messages))
    return merged


def handle_http_exception(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    if status == 500 and database_unavailable(getattr(error, "original_exception", None)):
        # raised where Flask no longer looks for our handlers (the request's
        # commit, in an after_request hook): it comes here as a plain 500
        return handle_database_unavailable(error.original_exception)
    if status >= 500:
        db.session.rollback()
    if status == 503:
        return unavailable_response()
    if isinstance(error, SecurityError):
        # A Host the site does not answer to (TRUSTED_HOSTS, meetings.security):
        # no URL can be built for it, so no page of ours either, and the
        # answer does not repeat the host.
        message = _("This site does not answer to that host name.")
        if wants_json():
            return json_error(400, "bad_request", message)
        return Response(message, 400, mimetype="text/plain")
    if wants_json():
        if status >= 500:
            return json_error(status, "server_error", _("Something went wrong on our side."))
        code = HTTP_CODES.get(status, "error")
        fields = _webargs_fields(error) if status in (400, 422) else {}
        if status == 400 and fields:
            message = _("The request body is not valid JSON.")
        elif status == 422:
            message = _("Please correct the marked fields.")
        elif status == 429:
            message = _("Too many attempts. Please wait a minute and try again.")
        else:
            message = error.description or error.name
        response = json_error(status, code, message, fields if status == 422 else None)
        if status == 405 and isinstance(error, HTTPException):
            response.headers.update(error.get_headers())
            response.headers["Content-Type"] = "application/json"
        return response
    return render_error_page(status)


def render_error_page(status: int, message: str | None = None) -> tuple[str, int]:
    template = (
        f"errors/{status}.html" if status in (400, 403, 404, 429, 500) else "errors/other.html"
    )
    return render_template(template, status=status, message=message), status


def handle_domain_error(error: DomainError) -> Response | tuple[str, int]:
    db.session.rollback()
    if wants_json():
        return json_error(error.status, error.code, error.message, error.fields or None)
    return render_error_page(error.status, error.message)


def handle_unexpected(error: Exception) -> Response | tuple[str, int]:
    if database_unavailable(error):
        return handle_database_unavailable(error)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_exception(InternalServerError(original_exception=error))


# --- the database does not answer ------------------------------------------------------


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` says the database cannot be used just now (refused,
    timed out, gone, locked, no connection free in the pool), rather than
    that the request or the code is wrong."""
    return isinstance(error, OperationalError | PoolTimeoutError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def handle_database_unavailable(error: BaseException) -> Response | tuple[str, int]:
    # One line, without the traceback: while the database is away every
    # request says the same.
    cause = getattr(error, "orig", None) or error
    current_app.logger.error(
        "the database is unavailable on %s %s: %s: %s",
        request.method,
        request.path,
        type(cause).__name__,
        str(cause).strip().splitlines()[0] if str(cause).strip() else "",
    )
    db.session.rollback()  # gives back what the session holds, if anything
    return unavailable_response()


def unavailable_response(message: str | None = None) -> Response:
    """503 with Retry-After: the JSON error ``unavailable``, or the page."""
    if wants_json():
        response = json_error(
            503,
            "unavailable",
            message or _("The service is unavailable just now. Please try again in a minute."),
        )
    else:
        response = Response(render_unavailable_page(message), 503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def render_unavailable_page(message: str | None = None) -> str:
    """``errors/503.html``, drawn without asking the database anything: the
    template on its own (no context processors, which count unread
    notifications) in the language of the visitor's cookie or browser (the
    signed-in user's own choice would need the database)."""
    with force_locale(_visitor_locale()):
        template = current_app.jinja_env.get_template("errors/503.html")
        return template.render(message=message)


def _visitor_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in supported:
        return chosen
    best = request.accept_languages.best_match(["zh", "en"], default="zh")
    return "en" if best == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]


def numbers_up_to(limit: int) -> str:
    """A regex for the whole numbers from 0 to ``limit`` (leading zeros allowed)."""
    digits = str(limit)
    shorter = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    # Same length: equal up to some digit, smaller there, anything after it.
    smaller = [
        rf"{digits[:i]}[0-{int(d) - 1}]\d{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if d != "0"
    ]
    return "0*(?:" + "|".join([*shorter, *smaller, digits]) + ")"


class IdConverter(IntegerConverter):
    """``<int:…>`` in our URLs is a database id: a number beyond an INTEGER
    column's range matches no page (404) instead of overflowing in the driver.

    The bound is in the regex: werkzeug answers 405, not 404, when a value
    its regex took is refused afterwards and another method shares the path."""

    regex = numbers_up_to(MAX_ID)

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


# Text no column can hold: NUL (PostgreSQL refuses it in text) and lone
# surrogates (half of a UTF-16 pair, not a character: UTF-8 cannot encode
# one, so the driver fails at the insert). JSON can carry both ("\u0000",
# "\ud800"); nobody types either.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored ("nul" or "surrogate"), or None when it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return "nul" if found.group() == "\x00" else "surrogate"


def unstorable_fields(value: Any) -> dict[str, str]:
    """Where text in this (JSON-like) value cannot be stored, and why: a
    dotted path to each such value (``choices.1``; ``""`` for the value
    itself) and ``unstorable``'s reason. A key that cannot be stored is
    reported on its parent's path.

    Walked without recursion: a body may nest as deep as the JSON parser allows.
    """
    found: dict[str, str] = {}
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            reason = unstorable(item)
            if reason:
                found.setdefault(path, reason)
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = unstorable(key) if isinstance(key, str) else None
                if reason:
                    found.setdefault(path, reason)
                    continue
                pending.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list | tuple):
            pending.extend(
                (f"{path}.{index}" if path else str(index), child)
                for index, child in enumerate(item)
            )
    return found


def contains_unstorable(value: Any) -> bool:
    """Whether text somewhere in this (JSON-like) value cannot be stored."""
    return bool(unstorable_fields(value))


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def refuse_unstorable_text() -> None:
    """A query string or form holding text no column can take (a NUL
    character, a lone surrogate) is a bad request (400): no browser sends
    one from a form, so there is no field to show the error next to.
    (Werkzeug already leaves bytes that are not UTF-8 percent-encoded; JSON
    bodies are checked field by field by the API's parser, 422, see
    ``meetings.api.core``.)"""
    form = request.form if request.mimetype in FORM_TYPES else MultiDict()
    for key, values in chain(request.args.lists(), form.lists()):
        if contains_unstorable(key) or contains_unstorable(values):
            abort(400)


def init_input_checks(app: Flask) -> None:
    """Before the blueprints: their URL rules are built with these converters."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_unstorable_text)


def init_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
