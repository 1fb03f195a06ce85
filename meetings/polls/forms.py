"""Forms of the proposal and poll pages.

The rules (required titles, lengths, option counts, majority, quorum…) are
the services'; these forms read the input and leave the judging to them,
whose field errors ``meetings.web.show_errors_on`` puts next to the fields.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from meetings.errors import ValidationFailed
from meetings.polls.kinds import RULES, check_choice
from meetings.polls.models import Majority, Poll, PollKind, Proposal
from meetings.polls.services import OPTIONS_MAX, OptionSpec, PollSpec

# Typed-in option inputs on the poll form (blank ones are ignored).
TYPED_OPTIONS = 10
# As the API: no show of hands counts more people than this.
COUNT_MAX = 1_000_000


class ProposalForm(FlaskForm):
    title = StringField(_l("Title of the proposal"), description=_l("e.g. 铺设防滑地胶"))
    body = TextAreaField(
        _l("What it proposes (optional)"),
        description=_l("Costs, who does it, when — anything the others should know."),
        render_kw={"rows": 4},
    )


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), render_kw={"rows": 3})


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (no script needed)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OptionList(FieldList):
    """A fixed number of text inputs, ``options-0`` … ``options-9``, each read
    from its own key (WTForms' FieldList renumbers what is posted, so a gap
    such as options 0, 1 and 7 would read option 7 twice)."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.last_index = -1
        self.entries = []
        self.object_data = data
        for _ in range(self.min_entries):
            self._add_entry(formdata)


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(kind.value, kind.label) for kind in PollKind]


class PollForm(FlaskForm):
    title = StringField(_l("Question put to the vote"), description=_l("e.g. 是否改造活动室"))
    kind = RadioField(
        _l("Kind of poll"),
        choices=kind_choices(),
        default=PollKind.YES_NO_ABSTAIN.value,
        validate_choice=False,  # the service names a wrong kind
    )
    proposal_ids = CheckboxesField(
        _l("Options taken from this item's proposals"),
        coerce=int,
        description=_l(
            "For / against / abstain: tick the one proposal voted on (or none). "
            "Choose one / several: each ticked proposal becomes an option."
        ),
    )
    options = OptionList(
        StringField(),
        label=_l("Options typed in"),
        min_entries=TYPED_OPTIONS,
    )
    max_choices = IntegerField(
        _l("At most how many choices (choose several)"),
        validators=[Optional()],
        description=_l("Leave empty to allow every option."),
        render_kw={"inputmode": "numeric", "min": 1, "max": OPTIONS_MAX},
    )
    secret = RadioField(
        _l("Ballot"),
        choices=[
            SelectChoice("named", _l("Named: the secretary sees who voted what")),
            SelectChoice("secret", _l("Secret: nobody can see who voted what")),
        ],
        default="named",
    )
    majority = RadioField(
        _l("Majority needed"),
        choices=[SelectChoice(m.value, m.label) for m in Majority],
        default=Majority.SIMPLE.value,
        validate_choice=False,
    )
    quorum_percent = IntegerField(
        _l("Quorum: at least this percentage of the eligible voters must vote (optional)"),
        validators=[Optional()],
        description=_l("e.g. 50. Leave empty for no quorum."),
        render_kw={"inputmode": "numeric", "min": 1, "max": 100},
    )
    present_only = BooleanField(
        _l("Only attendees checked in as present may vote"),
        description=_l("The voters are fixed when the poll opens."),
    )
    in_room = BooleanField(
        _l("Show of hands in the room (举手表决)"),
        description=_l("You enter the counts; nobody votes on a phone."),
    )

    def __init__(self, proposals: list[Proposal], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal_ids.choices = [SelectChoice(p.id, p.title) for p in proposals]
        for number, entry in enumerate(self.options, start=1):
            entry.label.text = _l("Option %(n)d", n=number)

    def spec(self) -> PollSpec:
        """The form's content as the service's poll specification: ticked
        proposals first, then the typed options that are not blank."""
        options = [OptionSpec(proposal_id=pid) for pid in self.proposal_ids.data or []]
        options += [
            OptionSpec(label=entry.data)
            for entry in self.options
            if entry.data and entry.data.strip()
        ]
        return PollSpec(
            title=self.title.data or "",
            kind=self.kind.data or "",
            options=options,
            max_choices=self.max_choices.data,
            secret=self.secret.data == "secret",
            majority=self.majority.data or "",
            quorum_percent=self.quorum_percent.data,
            present_only=self.present_only.data,
            in_room=self.in_room.data,
        )


class BallotForm(FlaskForm):
    """One's choice: the first post shows it for confirmation (``confirm``
    empty), the second casts it (``confirm=1``); ``change`` goes back."""

    confirm = HiddenField()
    change = SubmitField(_l("Change my choice"))

    def __init__(self, poll: Poll, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.option_ids.choices = [SelectChoice(o.id, o.label) for o in poll.options]
        self.poll = poll

    @staticmethod
    def for_poll(poll: Poll, *args, **kwargs) -> BallotForm:
        form_class = MultipleBallotForm if RULES[poll.kind].several_choices else SingleBallotForm
        return form_class(poll, *args, **kwargs)

    @property
    def chosen(self) -> list[int]:
        data = self.option_ids.data
        if data is None:
            return []
        return list(data) if isinstance(data, list) else [data]


class SingleBallotForm(BallotForm):
    option_ids = RadioField(
        _l("Your choice"),
        coerce=int,
        validators=[InputRequired(message=_l("Please choose an option."))],
    )


class MultipleBallotForm(BallotForm):
    option_ids = CheckboxesField(_l("Your choices"), coerce=int)

    def validate_option_ids(self, field) -> None:
        # Asked before the confirmation step, by the poll kind's own rule.
        try:
            check_choice(self.poll, field.data or [])
        except ValidationFailed as error:
            raise ValidationError(error.fields["option_ids"][0]) from None


def optional_id(value) -> int | None:
    """A chosen id, or None for the empty choice (or anything not a number)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def assisted_form(poll: Poll, voters: list, *args, **kwargs) -> BallotForm:
    """Assisted voting: the secretary records the ballot of an attendee
    without a phone (one of ``voters``, eligible and not voted yet), in front
    of a named witness. The choice is the poll kind's ballot field."""
    base = MultipleBallotForm if RULES[poll.kind].several_choices else SingleBallotForm
    fields = {
        "voter_id": SelectField(
            _l("Voter"),
            coerce=optional_id,
            choices=[SelectChoice("", _l("Choose…"))]
            + [SelectChoice(user.id, user.display_name) for user in voters],
            validators=[InputRequired(message=_l("Choose the voter."))],
            validate_choice=False,  # the service names a wrong voter
        ),
        "witness": StringField(
            _l("Witness"),
            description=_l("The name of the person who saw the voter choose, e.g. 张红（楼栋长）."),
        ),
    }
    form = type("AssistedBallotForm", (base,), fields)(poll, *args, **kwargs)
    form.option_ids.label.text = _l("Their choice")
    return form


class InRoomForm(FlaskForm):
    """The show of hands: the number present and the hands per option
    (one ``option_<id>`` field each, see ``in_room_form``)."""

    present = IntegerField(
        _l("People present who may vote"),
        validators=[
            InputRequired(message=_l("Please enter the number of people present.")),
            NumberRange(max=COUNT_MAX, message=_l("At most %(max)s.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )


def in_room_form(poll: Poll, *args, **kwargs) -> InRoomForm:
    """A form with a count field for each of the poll's options."""
    fields = {
        f"option_{option.id}": IntegerField(
            option.shown_label,
            validators=[Optional(), NumberRange(max=COUNT_MAX, message=_l("At most %(max)s."))],
            render_kw={"inputmode": "numeric", "min": 0},
        )
        for option in poll.options
    }
    form_class = type("PollInRoomForm", (InRoomForm,), fields)
    form = form_class(*args, **kwargs)
    form.option_fields = [(option, form[f"option_{option.id}"]) for option in poll.options]
    return form


def in_room_counts(form: InRoomForm) -> dict[int, int]:
    """The hands entered per option id (blank fields left out: the service asks for them)."""
    return {option.id: field.data for option, field in form.option_fields if field.data is not None}


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
