"""The statistics' period form (a GET form: no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional


class PeriodForm(FlaskForm):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``, both optional (the current month);
    ``statistics.services.make_period`` checks the period itself."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), name="from", validators=[Optional()])
    end = DateField(_l("To (included)"), name="to", validators=[Optional()])
