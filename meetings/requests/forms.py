from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from auth.models import Community, User
from meetings.main.people import QUERY_MAX, match_member, person_problem
from meetings.organisation.models import Grid
from meetings.requests.models import RequestCategory, RequestStatus
from meetings.requests.photos import MAX_PHOTOS
from meetings.requests.services import (
    BUILDING_MAX,
    CONTACT_MAX,
    DESCRIPTION_MAX,
    INTAKE_CHANNELS,
    LOCATION_MAX,
    MESSAGE_MAX,
    RESIDENT_NAME_MAX,
    RESIDENT_PHONE_MAX,
    TITLE_MAX,
)
from meetings.requests.visits import FOLLOW_UP_MAX, NOTES_MAX, VISITED_MAX

PHOTO_ACCEPT = {"accept": "image/jpeg,image/png,image/webp"}


def _photos_field() -> MultipleFileField:
    return MultipleFileField(
        _l("Photos (optional)"),
        description=_l(
            "One or several JPEG, PNG or WebP photos of the problem, each at most 5 MB."
        ),
        render_kw=PHOTO_ACCEPT,
    )


class PhotosMixin:
    """A ``photos`` field of one or several files (the form is sent as
    multipart/form-data): ``chosen_photos`` are the files actually chosen."""

    @property
    def chosen_photos(self) -> list:
        return [f for f in (self.photos.data or []) if getattr(f, "filename", "")]

    def validate_photos(self, field) -> None:
        if len(self.chosen_photos) > MAX_PHOTOS:
            raise ValidationError(_l("At most %(n)d photos.", n=MAX_PHOTOS))


class RequestForm(PhotosMixin, FlaskForm):
    """Raise a request. ``on_behalf_of`` is there only for a secretary."""

    community_id = SelectField(_l("Community (社区)"), coerce=int)
    title = StringField(
        _l("What is it about?"),
        validators=[
            DataRequired(message=_l("Please say in a few words what it is about.")),
            Length(max=TITLE_MAX),
        ],
        description=_l("A few words, e.g. “The activity room floor is worn and slippery”."),
    )
    category = SelectField(
        _l("Category"),
        validators=[DataRequired(message=_l("Please choose a category."))],
    )
    description = TextAreaField(
        _l("Describe the problem"),
        validators=[
            DataRequired(message=_l("Please describe the problem.")),
            Length(max=DESCRIPTION_MAX),
        ],
        description=_l("What is wrong, since when, whom it affects."),
    )
    location = StringField(
        _l("Where?"),
        validators=[DataRequired(message=_l("Please say where it is.")), Length(max=LOCATION_MAX)],
        description=_l("Building, entrance or place, e.g. “Building 182, ground floor”."),
    )
    contact = StringField(
        _l("How to reach you (optional)"),
        validators=[Optional(), Length(max=CONTACT_MAX)],
        description=_l("A phone number or a time to call. Only the secretary sees it."),
    )
    photos = _photos_field()
    on_behalf_of = StringField(
        _l("On behalf of (optional)"),
        # no Optional(): an empty field is checked too (an administrator must name someone)
        validators=[Length(max=QUERY_MAX)],
        description=_l(
            "Raising it for a resident who told you about it? Type part of their name, "
            "their username or phone number, and choose them."
        ),
    )

    def __init__(
        self,
        communities: list[Community],
        own_community_ids: set[int],
        behalf_community_ids: set[int],
        actor_id: int,
        *args,
        **kwargs,
    ):
        """``behalf_community_ids``: where the actor may raise a request for a
        resident (the communities they run); none leaves the field out."""
        super().__init__(*args, **kwargs)
        self.own_community_ids = own_community_ids
        self.behalf_community_ids = behalf_community_ids
        self.actor_id = actor_id
        self.communities = {c.id: c for c in communities}
        # the resident named in ``on_behalf_of``, once validated
        self.resident: User | None = None
        self.community_id.choices = [SelectChoice(c.id, c.name) for c in communities]
        # one community: no choice to make, the page just names it
        self.single_community = communities[0] if len(communities) == 1 else None
        if len(communities) > 1:
            self.community_id.choices.insert(0, SelectChoice(0, _l("— choose —")))
        self.category.choices = [SelectChoice("", _l("— choose —"))] + [
            SelectChoice(category.value, category.label) for category in RequestCategory
        ]
        if not behalf_community_ids:
            del self.on_behalf_of

    def validate_community_id(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose the community."))

    def validate_on_behalf_of(self, field) -> None:
        """The typed username, phone number or name must name one active
        member of the chosen community (with the picker's script, the
        username of the person chosen)."""
        community_id = self.community_id.data
        if field.errors or self.community_id.errors or not community_id:
            return  # said already
        if not (field.data or "").strip():
            if community_id not in self.own_community_ids:
                raise ValidationError(_l("Please choose the resident you raise this request for."))
            return
        community = self.communities[community_id]
        if community_id not in self.behalf_community_ids:
            raise ValidationError(
                _l(
                    "Only the secretary of %(community)s may raise a request for a resident there.",
                    community=community.name,
                )
            )
        match = match_member(community_id, field.data)
        if match.user is None:
            raise ValidationError(person_problem(match, community.name))
        if match.user.id == self.actor_id:
            raise ValidationError(
                _l("That is you: leave this field empty to raise your own request.")
            )
        self.resident = match.user


def _channel_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("— choose —"))] + [
        SelectChoice(channel.value, channel.label) for channel in INTAKE_CHANNELS
    ]


def _category_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("— choose —"))] + [
        SelectChoice(category.value, category.label) for category in RequestCategory
    ]


class IntakeForm(PhotosMixin, FlaskForm):
    """A secretary or grid worker logs a concern they heard, for a resident
    with an account (``on_behalf_of``) or without one (name, phone,
    building). The resident's details and the channel are checked by the
    service (``raise_for_resident``), next to these fields."""

    community_id = SelectField(_l("Community (社区)"), coerce=int, validate_choice=False)
    has_account = RadioField(
        _l("Whose concern is it? The resident"),
        choices=[
            SelectChoice("no", _l("has no account: I give their name")),
            SelectChoice("yes", _l("has an account: I choose them")),
        ],
        default="no",
        validators=[InputRequired(message=_l("Please say whether the resident has an account."))],
    )
    on_behalf_of = StringField(
        _l("Resident with an account"),
        validators=[Length(max=QUERY_MAX)],
        description=_l("Type part of their name, username or phone number, and choose them."),
    )
    resident_name = StringField(
        _l("Resident's name"),
        validators=[Length(max=RESIDENT_NAME_MAX)],
        description=_l("As people call them, e.g. “王阿姨”."),
    )
    resident_phone = StringField(
        _l("Their phone (optional)"),
        validators=[Length(max=RESIDENT_PHONE_MAX)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    building = StringField(
        _l("Building (optional)"),
        validators=[Length(max=BUILDING_MAX)],
        description=_l("E.g. “3栋2单元”."),
    )
    channel = SelectField(_l("How did it reach you?"))
    title = StringField(
        _l("What is it about?"),
        validators=[
            DataRequired(message=_l("Please say in a few words what it is about.")),
            Length(max=TITLE_MAX),
        ],
    )
    category = SelectField(
        _l("Category"), validators=[DataRequired(message=_l("Please choose a category."))]
    )
    description = TextAreaField(
        _l("What did you hear?"),
        validators=[
            DataRequired(message=_l("Please describe the problem.")),
            Length(max=DESCRIPTION_MAX),
        ],
    )
    location = StringField(
        _l("Where?"),
        validators=[DataRequired(message=_l("Please say where it is.")), Length(max=LOCATION_MAX)],
    )
    photos = _photos_field()

    def __init__(self, communities: list[Community], actor_id: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor_id = actor_id
        self.communities = {c.id: c for c in communities}
        self.resident: User | None = None
        self.community_id.choices = [SelectChoice(c.id, c.name) for c in communities]
        self.single_community = communities[0] if len(communities) == 1 else None
        if len(communities) > 1:
            self.community_id.choices.insert(0, SelectChoice(0, _l("— choose —")))
        self.channel.choices = _channel_choices()
        self.category.choices = _category_choices()

    @property
    def for_account(self) -> bool:
        return self.has_account.data == "yes"

    def validate_community_id(self, field) -> None:
        if not field.data or field.data not in self.communities:
            raise ValidationError(_l("Please choose the community."))

    def validate_on_behalf_of(self, field) -> None:
        """For a resident with an account: the typed username, phone number
        or name names one active member of the chosen community."""
        if not self.for_account or field.errors or self.community_id.errors:
            return
        community = self.communities.get(self.community_id.data)
        if community is None:
            return  # said on the community
        if not (field.data or "").strip():
            raise ValidationError(_l("Please choose the resident you raise this request for."))
        match = match_member(community.id, field.data)
        if match.user is None:
            raise ValidationError(person_problem(match, community.name))
        if match.user.id == self.actor_id:
            raise ValidationError(
                _l("That is you: raise your own request under “Raise a request”.")
            )
        self.resident = match.user


class PhotoForm(PhotosMixin, FlaskForm):
    """Add photos to a request, on its page."""

    photos = MultipleFileField(
        _l("Add photos"),
        description=_l("JPEG, PNG or WebP, each at most 5 MB."),
        render_kw=PHOTO_ACCEPT,
    )

    def validate_photos(self, field) -> None:
        if not self.chosen_photos:
            raise ValidationError(_l("Please choose one or several photos."))
        super().validate_photos(field)


class VisitForm(FlaskForm):
    """A grid worker's visit log entry."""

    grid_id = SelectField(_l("Grid (网格)"), coerce=int, validate_choice=False)
    visited = StringField(
        _l("Whom did you visit?"),
        validators=[
            DataRequired(message=_l("Please say whom you visited, e.g. “3栋 王阿姨”.")),
            Length(max=VISITED_MAX),
        ],
        description=_l("Building and name, e.g. “3栋 王阿姨”."),
    )
    notes = TextAreaField(
        _l("What did you hear?"),
        validators=[
            DataRequired(message=_l("Please write down what you heard.")),
            Length(max=NOTES_MAX),
        ],
    )
    follow_up = TextAreaField(
        _l("Follow-up (optional)"),
        validators=[Optional(), Length(max=FOLLOW_UP_MAX)],
        description=_l("What you will do, or what should happen next."),
    )

    def __init__(self, grids: list[Grid], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = {g.id: g for g in grids}
        self.grid_id.choices = [SelectChoice(g.id, f"{g.community.name} · {g.name}") for g in grids]
        self.single_grid = grids[0] if len(grids) == 1 else None
        if len(grids) > 1:
            self.grid_id.choices.insert(0, SelectChoice(0, _l("— choose —")))

    def validate_grid_id(self, field) -> None:
        if not field.data or field.data not in self.grids:
            raise ValidationError(_l("Please choose the grid."))


class ReplyForm(FlaskForm):
    """The secretary's answer to a submitted request."""

    action = RadioField(
        _l("Your reply"),
        choices=[
            SelectChoice("accept", _l("Accept it as a topic for a consultation meeting")),
            SelectChoice("answer", _l("Answer it directly")),
            SelectChoice("reject", _l("Do not take it up, and say why")),
        ],
        validators=[InputRequired(message=_l("Please choose accept, answer or reject."))],
    )
    message = TextAreaField(
        _l("Message to the resident"),
        validators=[Length(max=MESSAGE_MAX)],
        description=_l("Needed when you answer or decline. The resident sees it."),
    )

    def __init__(self, status: RequestStatus = RequestStatus.SUBMITTED, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # handed back or reopened: accepted or answered, or dispatched again — not
        # declined (any other state: the service's refusal says what it is)
        if status in (RequestStatus.HANDED_BACK, RequestStatus.REOPENED):
            self.action.choices = [c for c in self.action.choices if c.value != "reject"]


class InboxFilterForm(FlaskForm):
    """The inbox's filter (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice("", _l("All requests")),
            SelectChoice("overdue", _l("Overdue: no reply yet")),
        ] + [SelectChoice(status.value, status.label) for status in RequestStatus]
