"""Forms of the secretary's remote control (the room page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from meetings.dbtypes import database_id
from meetings.meeting.services import meetings as meeting_services
from meetings.room.services import LABEL_MAX


class ActionForm(FlaskForm):
    """A button that only posts (next item, next speaker, revoke…): its CSRF token."""


class ScreenLinkForm(FlaskForm):
    label = StringField(
        _l("Where it is shown (optional)"),
        validators=[Optional(), Length(max=LABEL_MAX)],
        description=_l("e.g. 活动室电视"),
    )


class AddSpeakerForm(FlaskForm):
    user_id = SelectField(_l("Attendee"), coerce=database_id, validators=[InputRequired()])

    def __init__(self, attendances, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = [
            (a.user_id, f"{a.user.display_name} · {a.role.label}") for a in attendances
        ]


class AgendaItemChoiceForm(FlaskForm):
    agenda_item_id = SelectField(
        _l("Agenda item"), coerce=database_id, validators=[InputRequired()]
    )

    def __init__(self, items, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agenda_item_id.choices = [(i.id, f"{i.position}. {i.title}") for i in items]


class RoomSettingsForm(FlaskForm):
    speaking_limit_seconds = IntegerField(
        _l("Speaking limit (seconds)"),
        validators=[
            InputRequired(),
            NumberRange(*meeting_services.SPEAKING_LIMIT_SECONDS),
        ],
        description=_l("Each speaker's time on the big screen: 180 is three minutes."),
        render_kw={"inputmode": "numeric"},
    )
    allow_proxies = BooleanField(_l("Allow proxy voting (委托投票)"))
    max_proxies_per_person = IntegerField(
        _l("Proxies one person may hold"),
        validators=[InputRequired(), NumberRange(*meeting_services.PROXIES_PER_PERSON)],
        render_kw={"inputmode": "numeric"},
    )

    def values(self) -> dict:
        return {
            "speaking_limit_seconds": self.speaking_limit_seconds.data,
            "allow_proxies": bool(self.allow_proxies.data),
            "max_proxies_per_person": self.max_proxies_per_person.data,
        }
