"""Forms of the minutes pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from meetings.minutes import services
from meetings.search.models import DocumentKind
from meetings.search.services import QUERY_MAX


class MinutesForm(FlaskForm):
    """The editor: "preview" shows the text rendered, "save" keeps a version."""

    body = TextAreaField(
        _l("Minutes (Markdown)"),
        validators=[Length(max=services.BODY_MAX)],
        description=_l(
            "# heading, ## subheading, - list item, **bold**, | table | cells |. "
            "A new line stays a new line."
        ),
    )
    # the version the text was based on, to notice someone else's save
    base = HiddenField()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save as a new version"))


class PreviewForm(FlaskForm):
    """The live preview's request (static/js/minutes-preview.js)."""

    body = TextAreaField(validators=[Length(max=services.BODY_MAX)])


class VersionForm(FlaskForm):
    """A one-button action on a version: send it round."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


class PublishForm(FlaskForm):
    # hidden, so that ``hidden_tag()`` sends back the version the page showed
    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)], widget=HiddenInput())
    sure = BooleanField(
        _l("I have read this version: publish it to the residents."),
        validators=[DataRequired(_l("Please tick the box to confirm."))],
    )
    # only on the page when places are still marked as to write (【待填写：…】)
    anyway = BooleanField(
        _l("Publish anyway, with the places above still to write (the history records it)")
    )


class ConfirmForm(FlaskForm):
    """An attendee's answer to the draft sent round."""

    answer = RadioField(
        _l("Your answer"),
        choices=[
            SelectChoice("confirm", _l("The minutes are correct: I confirm them")),
            SelectChoice("comment", _l("Something should change (say what below)")),
        ],
        validators=[InputRequired(_l("Please choose an answer."))],
    )
    comment = TextAreaField(
        _l("Comment"),
        validators=[Optional(), Length(max=services.COMMENT_MAX)],
        description=_l("What is missing or wrong, and how it should read."),
    )
    version = HiddenField()


class DiffForm(FlaskForm):
    """Choose two versions to compare (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    old = SelectField(_l("Earlier version"), coerce=int)
    new = SelectField(_l("Later version"), coerce=int)

    def __init__(self, numbers: list[int], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [SelectChoice(n, _l("Version %(number)d", number=n)) for n in numbers]
        self.old.choices = choices
        self.new.choices = choices


class SearchForm(FlaskForm):
    """The public search (GET)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Words to look for"),
        validators=[DataRequired(_l("Please type a word to look for.")), Length(max=QUERY_MAX)],
        description=_l("For example 充电, 电梯 or 防滑地板."),
    )
    community = SelectField(_l("Community"), coerce=int, validators=[Optional()])
    kind = SelectField(
        _l("Show"),
        choices=[
            SelectChoice("", _l("Everything")),
            SelectChoice(DocumentKind.MEETING.value, _l("Meetings")),
            SelectChoice(DocumentKind.REQUEST.value, _l("Answered requests")),
            SelectChoice(DocumentKind.PROJECT.value, _l("Projects")),
            SelectChoice(DocumentKind.MINUTES.value, _l("Minutes")),
        ],
        validators=[Optional()],
    )

    def __init__(self, communities, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.community.choices = [SelectChoice(0, _l("All communities"))] + [
            SelectChoice(c.id, c.name) for c in communities
        ]
