"""Small helpers shared by the HTML views."""

from urllib.parse import urlsplit

from flask import flash
from flask_wtf import FlaskForm

from meetings.errors import DomainError, NotAllowed
from meetings.extensions import db


def refused(
    error: DomainError,
    form: FlaskForm | None = None,
    field_map: dict[str, str] | None = None,
) -> None:
    """A service refused the page's action: undo what it did, then say why,
    next to the form's fields (or at the form's top), or without a form as a
    flashed message above the next page. A refusal of permission goes on to
    the error page (403)."""
    db.session.rollback()
    if isinstance(error, NotAllowed):
        raise error
    if form is not None:
        show_errors_on(form, error, field_map)
    else:
        flash(error.message, "error")


def show_errors_on(
    form: FlaskForm, error: DomainError, field_map: dict[str, str] | None = None
) -> None:
    """Put a service's field errors next to the matching form fields.

    Errors for fields the form does not have go to the form's top.
    """
    field_map = field_map or {}
    leftovers: list[str] = []
    for name, messages in (error.fields or {}).items():
        field = getattr(form, field_map.get(name, name), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages]
        else:
            leftovers.extend(messages)
    if leftovers or not error.fields:
        form.form_errors.extend(leftovers or [error.message])


def safe_next(target: str | None) -> str | None:
    """A redirect target on this site, or None: never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
