"""The duty records' form: the period (a GET form, no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from meetings.meeting.models import AttendeeRole


class PeriodForm(FlaskForm):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``; the service reads and checks them."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), name="from")
    end = DateField(_l("To (included)"), name="to")


class StreetSummaryForm(PeriodForm):
    """The street's summary: the period, and one role or all."""

    role = SelectField(_l("Role"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [("", _l("All roles"))] + [
            (role.value, role.label) for role in AttendeeRole
        ]
