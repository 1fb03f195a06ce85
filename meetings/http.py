"""The one place where errors become HTTP responses: a JSON error body for the
API, an error page for everyone else. Input no database can take is turned
away here too, before it reaches a query."""

from __future__ import annotations

from itertools import chain
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from meetings.dbtypes import MAX_ID
from meetings.errors import DomainError
from meetings.extensions import db

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
}


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
    if status >= 500:
        db.session.rollback()
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
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_exception(InternalServerError(original_exception=error))


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


def contains_nul(value: Any) -> bool:
    """Whether text somewhere in this (JSON-like) value holds a NUL character.

    Walked without recursion: a body may nest as deep as the JSON parser allows.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def refuse_nul_characters() -> None:
    """Nobody types a NUL character and PostgreSQL cannot store one: a query
    string or form holding one is a bad request. (JSON bodies are checked
    field by field by the API's parser, ``meetings.api.core``.)"""
    form = request.form if request.mimetype in FORM_TYPES else MultiDict()
    for key, values in chain(request.args.lists(), form.lists()):
        if contains_nul(key) or contains_nul(values):
            abort(400)


def init_input_checks(app: Flask) -> None:
    """Before the blueprints: their URL rules are built with these converters."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul_characters)


def init_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
