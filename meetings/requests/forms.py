from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from auth.models import Community, User
from meetings.main.people import QUERY_MAX, match_member, person_problem
from meetings.requests.models import RequestCategory, RequestStatus
from meetings.requests.services import (
    CONTACT_MAX,
    DESCRIPTION_MAX,
    LOCATION_MAX,
    MESSAGE_MAX,
    TITLE_MAX,
)


class RequestForm(FlaskForm):
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
