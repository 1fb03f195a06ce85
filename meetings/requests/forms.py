from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from auth.models import Community, Membership
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
    on_behalf_of = SelectField(
        _l("On behalf of (optional)"),
        coerce=int,
        default=0,
        description=_l("Raising it for a resident who told you about it? Choose them here."),
    )

    def __init__(
        self,
        communities: list[Community],
        candidates: list[Membership],
        own_community_ids: set[int],
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.own_community_ids = own_community_ids
        self.community_id.choices = [SelectChoice(c.id, c.name) for c in communities]
        # one community: no choice to make, the page just names it
        self.single_community = communities[0] if len(communities) == 1 else None
        if len(communities) > 1:
            self.community_id.choices.insert(0, SelectChoice(0, _l("— choose —")))
        self.category.choices = [SelectChoice("", _l("— choose —"))] + [
            SelectChoice(category.value, category.label) for category in RequestCategory
        ]
        if candidates:
            self.candidate_pairs = {(m.user_id, m.community_id) for m in candidates}
            self.on_behalf_of.choices = [SelectChoice(0, _l("— nobody: it is my own —"))] + [
                SelectChoice(m.user_id, f"{m.user.display_name}（{m.community.name}）")
                for m in candidates
            ]
        else:
            del self.on_behalf_of

    def validate_community_id(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose the community."))

    def validate_on_behalf_of(self, field) -> None:
        community_id = self.community_id.data
        if field.errors or self.community_id.errors:
            return  # not one of the choices: said already
        if field.data:
            if (field.data, community_id) not in self.candidate_pairs:
                raise ValidationError(_l("This person is not a member of the chosen community."))
        elif community_id and community_id not in self.own_community_ids:
            raise ValidationError(_l("Please choose the resident you raise this request for."))


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
