"""Forms of the organisation's pages: streets, grids, units and their people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from meetings.main import people
from meetings.main.people import QUERY_MAX
from meetings.organisation.models import UnitKind
from meetings.organisation.services import GRID_NAME_MAX, NAME_MAX

PERSON_HELP = _l("A username, a phone number or a full name: type and choose.")


def person_field(label=None) -> StringField:
    return StringField(
        label or _l("Person"),
        validators=[DataRequired(), Length(max=QUERY_MAX)],
        description=PERSON_HELP,
    )


class StreetForm(FlaskForm):
    name = StringField(
        _l("Name of the street (街道)"), validators=[DataRequired(), Length(max=NAME_MAX)]
    )
    district = StringField(_l("District (区)"), validators=[Optional(), Length(max=NAME_MAX)])


class PersonForm(FlaskForm):
    """One existing person, found by what is typed (the person picker): any
    active account, or, with ``match`` and ``scope``, a member of a
    community (``people.match_member``). ``user`` is who it names."""

    person = person_field()

    def __init__(self, *args, match=None, scope: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._match = match or people.match_account
        self._scope = scope
        self.user = None

    def validate_person(self, field) -> None:
        found = self._match(field.data)
        if found.user is None:
            raise ValidationError(people.person_problem(found, self._scope))
        self.user = found.user


class StreetCommunityForm(FlaskForm):
    community_id = SelectField(_l("Community"), coerce=int, validators=[DataRequired()])

    def __init__(self, communities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community_id.choices = [SelectChoice(0, _l("— choose —"))] + [
            SelectChoice(c.id, f"{c.name}（{c.street}）") for c in communities
        ]


class GridForm(FlaskForm):
    name = StringField(
        _l("Name of the grid (网格)"),
        validators=[DataRequired(), Length(max=GRID_NAME_MAX)],
        description=_l("For example 第一网格."),
    )
    buildings = TextAreaField(
        _l("Buildings it covers"),
        validators=[Optional(), Length(max=10_000)],
        description=_l("One per line, or separated by commas or 、: 1栋、2栋、3栋"),
        render_kw={"rows": 4},
    )


class GridMemberForm(PersonForm):
    person = person_field(_l("Member of the community"))
    is_leader = BooleanField(_l("Grid leader (网格长)"))


class UnitForm(FlaskForm):
    name = StringField(
        _l("Name of the unit (单位)"), validators=[DataRequired(), Length(max=NAME_MAX)]
    )
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, kind.label) for kind in UnitKind],
        validators=[DataRequired()],
    )
    community_ids = SelectMultipleField(
        _l("Communities it serves"),
        coerce=int,
        validators=[DataRequired(message=_l("Please choose at least one community it serves."))],
    )

    def __init__(self, communities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community_ids.choices = [SelectChoice(c.id, c.name) for c in communities]


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
