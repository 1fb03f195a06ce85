"""Forms of the order panel on a request's page (``requests/_order.html``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from auth.models import Community, User
from meetings.extensions import db
from meetings.main.people import QUERY_MAX, clean_text, match_member, person_problem
from meetings.organisation.models import Grid, Unit
from meetings.requests.orders import (
    COMMENT_MAX,
    NOTE_MAX,
    REASON_MAX,
    REPLY_MAX,
    AssigneeChoice,
)

SCORE_LABELS = {
    5: _l("5 – Very satisfied"),
    4: _l("4 – Satisfied"),
    3: _l("3 – Acceptable"),
    2: _l("2 – Not satisfied"),
    1: _l("1 – Very dissatisfied"),
}


class DispatchForm(FlaskForm):
    """The secretary's dispatch: to a grid, a person or a unit, with a due date."""

    kind = RadioField(
        _l("Dispatch to"),
        choices=[
            SelectChoice("grid", _l("A grid")),
            SelectChoice("user", _l("A person")),
            SelectChoice("unit", _l("A unit")),
        ],
        validators=[InputRequired(message=_l("Please choose a grid, a person or a unit."))],
    )
    grid_id = SelectField(_l("Which grid"), coerce=int, validators=[Optional()])
    person = StringField(
        _l("Which person"),
        validators=[Length(max=QUERY_MAX)],
        description=_l("Type part of their name, their username or phone number, and choose."),
    )
    unit_id = SelectField(_l("Which unit"), coerce=int, validators=[Optional()])
    due_date = DateField(
        _l("Due by"),
        validators=[InputRequired(message=_l("Please give the date it is due."))],
    )
    note = TextAreaField(
        _l("Note for the assignee (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        render_kw={"rows": 3},
    )

    def __init__(self, community: Community, grids: list[Grid], units: list[Unit], *args, **kw):
        super().__init__(*args, **kw)
        self.community = community
        self.grid_id.choices = [SelectChoice(0, _l("— choose —"))] + [
            SelectChoice(grid.id, grid.name) for grid in grids
        ]
        self.unit_id.choices = [SelectChoice(0, _l("— choose —"))] + [
            SelectChoice(unit.id, unit.name) for unit in units
        ]
        # the person named in ``person``, once validated
        self.person_user: User | None = None

    def validate_grid_id(self, field) -> None:
        if self.kind.data == "grid" and not field.data:
            raise ValidationError(_l("Please choose the grid."))

    def validate_unit_id(self, field) -> None:
        if self.kind.data == "unit" and not field.data:
            raise ValidationError(_l("Please choose the unit."))

    def validate_person(self, field) -> None:
        """A member of the community named by username, phone or full name;
        someone from the street office or a unit by their username."""
        if self.kind.data != "user" or field.errors:
            return
        text = clean_text(field.data)
        if not text:
            raise ValidationError(_l("Please choose the person."))
        match = match_member(self.community.id, text)
        if match.user is None and not match.candidates:
            self.person_user = db.session.scalar(
                db.select(User).where(db.func.lower(User.username) == text.lower())
            )
            if self.person_user is None:
                raise ValidationError(person_problem(match, self.community.name))
            return
        if match.user is None:
            raise ValidationError(person_problem(match, self.community.name))
        self.person_user = match.user

    def assignee(self) -> AssigneeChoice:
        if self.kind.data == "grid":
            return AssigneeChoice("grid", self.grid_id.data)
        if self.kind.data == "unit":
            return AssigneeChoice("unit", self.unit_id.data)
        return AssigneeChoice("user", self.person_user.id if self.person_user else 0)

    @property
    def assignee_field(self) -> str:
        """Where an error about the assignee goes."""
        return {"grid": "grid_id", "unit": "unit_id", "user": "person"}.get(self.kind.data, "kind")


class ClaimForm(FlaskForm):
    """The claim button (its CSRF token)."""


class HandBackForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you hand it back?"),
        validators=[
            DataRequired(message=_l("Please say why you hand it back.")),
            Length(max=REASON_MAX),
        ],
        description=_l("The secretary reads it and sends the order on, or answers it."),
        render_kw={"rows": 3},
    )


class StepForm(FlaskForm):
    note = TextAreaField(
        _l("What was done"),
        validators=[DataRequired(message=_l("Please say what was done.")), Length(max=NOTE_MAX)],
        render_kw={"rows": 3},
    )
    photos = MultipleFileField(
        _l("Photos (optional)"),
        description=_l("JPEG, PNG or WebP, taken with the phone's camera or chosen."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )

    def streams(self):
        return [photo.stream for photo in self.photos.data or [] if photo and photo.filename]


class HandledForm(FlaskForm):
    reply = TextAreaField(
        _l("Reply to the resident"),
        validators=[
            DataRequired(message=_l("Please write the reply for the resident.")),
            Length(max=REPLY_MAX),
        ],
        description=_l("What was done about it. The resident reads it and rates it."),
        render_kw={"rows": 4},
    )


class OrderRatingForm(FlaskForm):
    score = RadioField(
        _l("How satisfied are you with how it was handled?"),
        choices=[SelectChoice(score, label) for score, label in SCORE_LABELS.items()],
        coerce=int,
        validators=[InputRequired(message=_l("Please choose a score from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Optional(), Length(max=COMMENT_MAX)],
        render_kw={"rows": 3},
    )
