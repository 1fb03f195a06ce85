"""Forms of the meeting pages."""

from __future__ import annotations

import re

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
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from auth.models import Community, User
from meetings.dbtypes import database_id
from meetings.main.people import QUERY_MAX, match_member, person_problem
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


def topic_choices(topics) -> list[SelectChoice]:
    return [SelectChoice(t.id, f"{t.title}（{t.status.label}）") for t in topics]


PERSON_HELP = _l(
    "Type part of their name, their username or phone number, and choose them. "
    "Leave empty if not chosen yet."
)
TOPIC_NUMBER = re.compile(r"#?(\d{1,9})")


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
    more_topics = StringField(
        _l("Another request as a topic"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Not in the list above? Type part of its title and choose it, "
            "or type its number (e.g. 12, 40)."
        ),
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
    host = StringField(
        _l("Host (主持人)"), validators=[Optional(), Length(max=QUERY_MAX)], description=PERSON_HELP
    )
    recorder = StringField(
        _l("Recorder (记录人)"),
        validators=[Optional(), Length(max=QUERY_MAX)],
        description=PERSON_HELP,
    )

    def __init__(self, community: Community, topics, more_topics: bool, *args, **kwargs):
        """``topics``: the requests listed as checkboxes; ``more_topics``:
        whether others may be found with the topic search."""
        super().__init__(*args, **kwargs)
        self.community = community
        self.has_more_topics = more_topics
        self.request_ids.choices = topic_choices(topics)
        # filled in by the validators: the people named, the topics typed by number
        self.people: dict[str, User | None] = {"host": None, "recorder": None}
        self.typed_topic_ids: list[int] = []

    def _person(self, field) -> None:
        if not (field.data or "").strip():
            return
        match = match_member(self.community.id, field.data)
        if match.user is None:
            raise ValidationError(person_problem(match, self.community.name))
        self.people[field.name] = match.user

    def validate_host(self, field) -> None:
        self._person(field)

    def validate_recorder(self, field) -> None:
        self._person(field)

    def validate_more_topics(self, field) -> None:
        """Request numbers, "12, 40" or "#12" (the topic search types them for
        the secretary who picks a title); whether each may be a topic is the
        service's to say."""
        text = (field.data or "").replace("，", ",").replace("、", ",")
        parts = [part.strip() for part in re.split(r"[,\s]+", text) if part.strip()]
        numbers = [TOPIC_NUMBER.fullmatch(part) for part in parts]
        if not all(numbers):
            raise ValidationError(
                _l("Please give request numbers, e.g. 12, 40, or choose the request in the list.")
            )
        self.typed_topic_ids = [int(number.group(1)) for number in numbers if number]

    def values(self) -> dict:
        """The form's content as the services' keyword arguments."""
        host, recorder = self.people["host"], self.people["recorder"]
        chosen = list(self.request_ids.data or []) + self.typed_topic_ids
        return {
            "title": self.title.data,
            "request_ids": list(dict.fromkeys(chosen)),
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "location": self.location.data or "",
            "online_url": self.online_url.data or None,
            "description": self.description.data or "",
            "host_id": host.id if host is not None else None,
            "recorder_id": recorder.id if recorder is not None else None,
        }


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=meeting_services.REASON_MAX)],
        description=_l("Sent to everyone invited."),
        render_kw={"rows": 3},
    )


class TransitionForm(FlaskForm):
    """A state change without a reason (schedule, start, close); ``confirm=1``
    once the secretary has answered the question a start far from the
    meeting's time or a close with attendees not marked asks."""

    to = HiddenField(validators=[DataRequired()])
    confirm = HiddenField()


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
        self.request_ids.choices = topic_choices(topics)

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


ROLE_BLANK = _l("— role —")


class InviteRow(Form):
    """One member in the invitation list (a sub-form: no CSRF of its own)."""

    user_id = HiddenField()
    selected = BooleanField()
    role = SelectField(choices=role_choices(blank=ROLE_BLANK), validate_choice=False)


class InviteForm(FlaskForm):
    """Check several members; give each a role, or one role for all."""

    role_for_all = SelectField(
        _l("Role for everyone checked"),
        choices=role_choices(blank=_l("— the role chosen on each line —")),
        validate_choice=False,
    )
    rows = FieldList(FormField(InviteRow), max_entries=100)

    def fill(self, users: list[User], defaults: dict[int, str] | None = None) -> None:
        """One row per person of this page of the list, its role pre-filled
        with the person's usual one (``defaults``), or, once posted, per row
        posted; ``people`` are the users of the rows, by id."""
        defaults = defaults or {}
        if not self.is_submitted():
            for user in users:
                self.rows.append_entry(
                    {"user_id": str(user.id), "role": str(defaults.get(user.id, ""))}
                )
        self.people = {str(user.id): user for user in users}
        # the roles translated once for all the rows, not once per row
        choices = [SelectChoice(c.value, str(c.label)) for c in role_choices(ROLE_BLANK)]
        for row in self.rows:
            row.role.choices = choices

    def posted_user_ids(self) -> list[int]:
        """The ids in the posted rows (checked or not), in their order."""
        ids = [row.user_id.data or "" for row in self.rows]
        return [int(value) for value in ids if value.isdigit() and len(value) < 10]


class MemberSearchForm(FlaskForm):
    """Find members to invite (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Find members"),
        validators=[Optional(), Length(max=QUERY_MAX)],
        description=_l("Part of a name, a username or a phone number."),
    )


class CopyChoiceForm(FlaskForm):
    """Choose an earlier meeting whose people to invite (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    from_meeting_id = SelectField(
        _l("Invite the same people as"), coerce=int, validators=[DataRequired()]
    )

    def __init__(self, meetings, when, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.from_meeting_id.choices = [SelectChoice(0, _l("— choose a meeting —"))] + [
            SelectChoice(m.id, f"{when(m)} · {m.title}") for m in meetings
        ]


class CopyConfirmForm(FlaskForm):
    """Confirm the invitations of an earlier meeting's people."""

    from_meeting_id = HiddenField()


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
