"""Forms of the meeting pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from meetings.dbtypes import database_id
from meetings.meeting.models import AttendeeRole, Presence, Rsvp
from meetings.meeting.services import agenda as agenda_services
from meetings.meeting.services import meetings as meeting_services

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def role_choices(blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(role.value, role.label) for role in AttendeeRole]
    if blank is not None:
        choices.insert(0, SelectChoice("", blank))
    return choices


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes: works on a phone, no script."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        # Choices come from the database; the service says what is wrong.
        pass


def _person_choices(members, none_label) -> list[SelectChoice]:
    return [SelectChoice(0, none_label)] + [
        SelectChoice(m.user.id, m.user.display_name) for m in members
    ]


def _topic_choices(topics) -> list[SelectChoice]:
    return [SelectChoice(t.id, f"{t.title}（{t.status.label}）") for t in topics]


class MeetingForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=meeting_services.TITLE_MAX)],
        description=_l("e.g. 活动室改造出新协商议事会"),
    )
    request_ids = CheckboxListField(
        _l("Topics: the requests this meeting deliberates"),
        coerce=database_id,
        validate_choice=False,
    )
    starts_at = DateTimeLocalField(
        _l("Starts"), format=DATETIME_FORMATS, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField(_l("Ends"), format=DATETIME_FORMATS, validators=[InputRequired()])
    location = StringField(
        _l("Place"),
        validators=[Optional(), Length(max=meeting_services.LOCATION_MAX)],
        description=_l("e.g. 182幢一层社区活动室. Leave empty for an online meeting."),
    )
    online_url = URLField(
        _l("Online link (optional)"),
        validators=[Optional(), Length(max=meeting_services.ONLINE_URL_MAX)],
        description=_l("Shown to the invited only."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=meeting_services.DESCRIPTION_MAX)],
        render_kw={"rows": 5},
    )
    host_id = SelectField(_l("Host (主持人)"), coerce=int)
    recorder_id = SelectField(_l("Recorder (记录人)"), coerce=int)

    def __init__(self, members, topics, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.host_id.choices = _person_choices(members, _l("— not yet chosen —"))
        self.recorder_id.choices = _person_choices(members, _l("— not yet chosen —"))
        self.request_ids.choices = _topic_choices(topics)

    def values(self) -> dict:
        """The form's content as the services' keyword arguments."""
        return {
            "title": self.title.data,
            "request_ids": list(self.request_ids.data or []),
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "location": self.location.data or "",
            "online_url": self.online_url.data or None,
            "description": self.description.data or "",
            "host_id": self.host_id.data or None,
            "recorder_id": self.recorder_id.data or None,
        }


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=meeting_services.REASON_MAX)],
        description=_l("Sent to everyone invited."),
        render_kw={"rows": 3},
    )


class TransitionForm(FlaskForm):
    """A state change without a reason (schedule, start, close)."""

    to = HiddenField(validators=[DataRequired()])


class AgendaItemForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=agenda_services.TITLE_MAX)]
    )
    description = TextAreaField(
        _l("Description (optional)"),
        validators=[Optional(), Length(max=agenda_services.DESCRIPTION_MAX)],
        render_kw={"rows": 3},
    )
    planned_minutes = IntegerField(
        _l("Planned minutes (optional)"),
        validators=[Optional(), NumberRange(min=1, max=agenda_services.MINUTES_MAX)],
        render_kw={"inputmode": "numeric", "min": 1, "max": agenda_services.MINUTES_MAX},
    )
    request_ids = CheckboxListField(
        _l("Requests dealt with"), coerce=database_id, validate_choice=False
    )

    def __init__(self, topics, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_ids.choices = _topic_choices(topics)

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "planned_minutes": self.planned_minutes.data,
            "request_ids": list(self.request_ids.data or []),
        }


class MoveForm(FlaskForm):
    """Up, down, or (from the drag-and-drop script) to a position."""

    direction = SelectField(
        choices=[SelectChoice("up", "up"), SelectChoice("down", "down"), SelectChoice("", "")],
        validators=[Optional()],
    )
    position = IntegerField(validators=[Optional(), NumberRange(min=1, max=10_000)])


class InviteRow(Form):
    """One member in the invitation list (a sub-form: no CSRF of its own)."""

    user_id = HiddenField()
    selected = BooleanField()
    role = SelectField(choices=role_choices(blank=_l("— role —")), validate_choice=False)


class InviteForm(FlaskForm):
    """Check several members; give each a role, or one role for all."""

    role_for_all = SelectField(
        _l("Role for everyone checked"),
        choices=role_choices(blank=_l("— the role chosen on each line —")),
        validate_choice=False,
    )
    rows = FieldList(FormField(InviteRow))

    def fill(self, members) -> None:
        """One row per member not yet invited (keeps what was posted)."""
        if not self.is_submitted():
            for membership in members:
                self.rows.append_entry({"user_id": str(membership.user.id), "role": ""})
        self.members = {str(m.user.id): m for m in members}


class AttendanceForm(FlaskForm):
    """The secretary changes an attendee's role or voting right."""

    role = SelectField(_l("Role"), choices=role_choices())
    may_vote = BooleanField(_l("May vote"))


class RsvpForm(FlaskForm):
    rsvp = SelectField(
        choices=[SelectChoice(Rsvp.ACCEPTED.value, ""), SelectChoice(Rsvp.DECLINED.value, "")]
    )


class PresenceForm(FlaskForm):
    presence = SelectField(choices=[SelectChoice(p.value, p.label) for p in Presence])


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
