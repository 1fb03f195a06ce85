"""The duty records' form: the period (a GET form, no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField


class PeriodForm(FlaskForm):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``; the service reads and checks them."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), name="from")
    end = DateField(_l("To (included)"), name="to")
