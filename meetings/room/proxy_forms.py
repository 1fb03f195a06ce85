"""Forms of the proxy pages (委托投票): naming a proxy, and the empty form
of the confirm, refuse and revoke buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from meetings.meeting.models import Attendance


def optional_id(value) -> int | None:
    """A chosen id, or None for the empty choice (or anything not a number)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ProxyForm(FlaskForm):
    proxy_user_id = SelectField(
        _l("Who votes for you"),
        coerce=optional_id,
        validators=[InputRequired(message=_l("Choose one of the meeting's attendees."))],
        description=_l("Another attendee of this meeting. The secretary confirms it."),
        validate_choice=False,  # the service names a wrong choice
    )
    document = FileField(
        _l("Written authorisation (委托书), optional"),
        description=_l("A photo of the signed authorisation: JPEG, PNG or WebP, at most 5 MB."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )

    def __init__(self, candidates: list[Attendance], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.proxy_user_id.choices = [SelectChoice("", _l("Choose…"))] + [
            SelectChoice(a.user_id, a.user.display_name) for a in candidates
        ]


class ProxyActionForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
