"""Forms of the resolution, project, progress and rating pages.

The rules (required text, the poll's result, transitions, percent, budget,
one rating each…) are the services'; these forms read the input, and
``meetings.web.refused`` puts the services' field errors next to the fields
(see ``RESOLUTION_FIELDS``).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from meetings.dbtypes import database_id
from meetings.polls.models import Poll
from meetings.projects import services
from meetings.projects.models import Decision, Project, ProjectStatus
from meetings.projects.services import ProjectSpec, ResolutionSpec
from meetings.projects.services.responsible import match_eligible, person_problem

PERSON_HELP = _l(
    "Type a name, username or phone number: a member of the community, of its street "
    "office or of a unit serving it."
)


class ResponsibleFields:
    """A chosen unit (``responsible_unit_id``) and a typed person
    (``responsible_person``), read against the project's community."""

    community = None
    responsible_user = None

    def set_units(self, units) -> None:
        self.responsible_unit_id.choices = [SelectChoice(0, _l("— no unit with accounts —"))] + [
            SelectChoice(unit.id, unit.name) for unit in units
        ]

    def validate_responsible_person(self, field) -> None:
        self.responsible_user = None
        if not (field.data or "").strip():
            return
        match = match_eligible(self.community, field.data)
        if match.user is None:
            raise ValidationError(person_problem(match))
        self.responsible_user = match.user


def _unit_field():
    return SelectField(
        _l("Responsible unit with accounts (optional)"),
        coerce=database_id,
        validate_choice=False,
        description=_l("Its members see the project under “My tasks” and report its progress."),
    )


def _person_field():
    return StringField(
        _l("Responsible person (optional)"),
        description=PERSON_HELP,
        render_kw={"autocomplete": "off"},
    )


# The services' field names → the resolution form's fields.
RESOLUTION_FIELDS = {
    "project": "project_mode",
    "project.title": "project_title",
    "project.responsible_unit": "responsible_unit",
    "project.responsible_unit_id": "responsible_unit_id",
    "project.responsible_user_id": "responsible_person",
    "project.due_date": "due_date",
    "project.budget": "budget",
    "project.description": "project_description",
}
# The services' field names → the progress form's fields.
UPDATE_FIELDS = {"progress_percent": "percent"}
# … the project form's, and the condition form's.
PROJECT_FIELDS = {"responsible_user_id": "responsible_person"}
CONDITION_FIELDS = {
    "assignee": "assignee_kind",
    "assignee.user_id": "person",
    "assignee.unit_id": "unit_id",
}

PERCENT_MESSAGE = _l("A percentage from 0 to 100.")


class ResolutionWordingForm(FlaskForm):
    """What a resolution says: recorded with it, corrected until the minutes
    are published."""

    text = TextAreaField(
        _l("What the meeting decided"),
        description=_l("e.g. 对182幢一层活动室进行改造出新：更换防滑地板，翻新墙面，改造卫生间。"),
        render_kw={"rows": 5},
    )
    conditions = TextAreaField(
        _l("Conditions (optional)"),
        description=_l("e.g. 先做现场勘查；音量由专人控制；播放时段8:00–20:00"),
        render_kw={"rows": 3},
    )


class ResolutionForm(ResponsibleFields, ResolutionWordingForm):
    agenda_item_id = SelectField(_l("Agenda item"), coerce=database_id, validate_choice=False)
    poll_id = SelectField(
        _l("The poll it follows"),
        coerce=int,
        validate_choice=False,
        description=_l("The resolution says what the poll decided: it cannot say the opposite."),
    )
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("", _l("As the poll decided (agreed, if there is no poll)")),
            SelectChoice(Decision.ADOPTED.value, Decision.ADOPTED.label),
            SelectChoice(Decision.REJECTED.value, Decision.REJECTED.label),
        ],
        default="",
        validate_choice=False,
    )
    project_mode = RadioField(
        _l("Project (实事项目)"),
        choices=[
            SelectChoice("none", _l("No project")),
            SelectChoice("new", _l("Open a new project")),
            SelectChoice("existing", _l("Add to an existing project")),
        ],
        default="none",
    )
    project_title = StringField(
        _l("Title of the new project"), description=_l("e.g. 活动室改造出新")
    )
    responsible_unit = StringField(
        _l("Responsible unit"),
        description=_l("物业, 街道, 社区 or a department; a chosen unit's name when left empty"),
        render_kw={"list": "responsible-units", "autocomplete": "off"},
    )
    responsible_unit_id = _unit_field()
    responsible_person = _person_field()
    due_date = DateField(_l("Due date"), validators=[Optional()])
    budget = StringField(
        _l("Budget in yuan (optional)"),
        description=_l("e.g. 86000 or 12500.50"),
        render_kw={"inputmode": "decimal"},
    )
    project_description = TextAreaField(
        _l("Description of the project (optional)"), render_kw={"rows": 3}
    )
    project_id = SelectField(_l("Existing project"), coerce=database_id, validate_choice=False)

    def __init__(
        self,
        items,
        polls: list[Poll],
        projects: list[Project],
        community=None,
        units=(),
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.community = community
        self.set_units(units)
        self.agenda_item_id.choices = [SelectChoice(0, _l("— not tied to one item —"))] + [
            SelectChoice(item.id, f"{item.position}. {item.title}") for item in items
        ]
        self.poll_id.choices = [SelectChoice(0, _l("No poll"))] + [
            SelectChoice(poll.id, f"{poll.title}（{poll.outcome.label}）") for poll in polls
        ]
        self.project_id.choices = [SelectChoice(0, _l("— choose —"))] + [
            SelectChoice(project.id, f"{project.title}（{project.status.label}）")
            for project in projects
        ]

    def validate_project_id(self, field) -> None:
        if self.project_mode.data == "existing" and not field.data:
            raise ValidationError(_l("Please choose the project."))

    def validate_responsible_person(self, field) -> None:
        if self.project_mode.data == "new":
            super().validate_responsible_person(field)

    def spec(self) -> ResolutionSpec:
        project = None
        if self.project_mode.data == "new":
            project = ProjectSpec(
                title=self.project_title.data or "",
                responsible_unit=self.responsible_unit.data or "",
                due_date=self.due_date.data,
                budget=self.budget.data or None,
                description=self.project_description.data or "",
                responsible_unit_id=self.responsible_unit_id.data or None,
                responsible_user_id=self.responsible_user.id if self.responsible_user else None,
            )
        return ResolutionSpec(
            text=self.text.data or "",
            poll_id=self.poll_id.data or None,
            agenda_item_id=self.agenda_item_id.data or None,
            decision=self.decision.data or None,
            conditions=self.conditions.data or "",
            project=project,
            project_id=(self.project_id.data or None)
            if self.project_mode.data == "existing"
            else None,
        )


class ProgressForm(FlaskForm):
    """A progress update, sent as multipart/form-data (the photo)."""

    percent = IntegerField(
        _l("Progress in percent"),
        validators=[
            InputRequired(message=PERCENT_MESSAGE),
            NumberRange(min=0, max=100, message=PERCENT_MESSAGE),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": 100},
    )
    status = SelectField(_l("State"), validate_choice=False)
    note = TextAreaField(
        _l("What has been done"),
        description=_l("To suspend the project, give the reason here."),
        render_kw={"rows": 4},
    )
    on_date = DateField(_l("Date"), validators=[Optional()])
    photo = FileField(
        _l("Photo (optional)"),
        description=_l("A JPEG, PNG or WebP photo of at most %(mb)s MB.", mb="5"),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )

    def __init__(self, project: Project, *args, may_complete: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice("", _l("No change: %(status)s", status=project.status.label))
        ] + [
            SelectChoice(status.value, status.label)
            for status in project.next_statuses
            if may_complete or status != ProjectStatus.COMPLETED
        ]
        if not may_complete:
            self.percent.description = _l(
                "At 100%%, the secretary is asked to confirm the completion.", percent=100
            )
        if not self.is_submitted():
            self.percent.data = project.progress_percent
            self.on_date.data = services.today()


SCORE_LABELS = {
    5: _l("5 – Very satisfied"),
    4: _l("4 – Satisfied"),
    3: _l("3 – Acceptable"),
    2: _l("2 – Not satisfied"),
    1: _l("1 – Very dissatisfied"),
}


class RatingForm(FlaskForm):
    score = RadioField(
        _l("How satisfied are you with the result?"),
        choices=[SelectChoice(score, label) for score, label in SCORE_LABELS.items()],
        coerce=int,
        validators=[InputRequired(message=_l("Please choose a score from 1 to 5."))],
    )
    comment = TextAreaField(_l("Comment (optional)"), render_kw={"rows": 3})


class ConfirmCompletionForm(FlaskForm):
    note = TextAreaField(
        _l("Acceptance note (optional)"),
        description=_l("e.g. 已现场验收，质量合格。"),
        render_kw={"rows": 2},
    )


class ProjectForm(ResponsibleFields, FlaskForm):
    """The secretary edits a project: what it is, who answers for it, when it is due."""

    title = StringField(_l("Title"))
    responsible_unit = StringField(
        _l("Responsible unit"),
        description=_l("物业, 街道, 社区 or a department; a chosen unit's name when left empty"),
        render_kw={"list": "responsible-units", "autocomplete": "off"},
    )
    responsible_unit_id = _unit_field()
    responsible_person = _person_field()
    due_date = DateField(_l("Due date"), validators=[Optional()])
    budget = StringField(
        _l("Budget in yuan (optional)"),
        description=_l("e.g. 86000 or 12500.50"),
        render_kw={"inputmode": "decimal"},
    )
    description = TextAreaField(_l("Description (optional)"), render_kw={"rows": 3})

    def __init__(self, project: Project, units, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = project.community
        self.set_units(units)
        if not self.is_submitted():
            self.title.data = project.title
            self.responsible_unit.data = project.responsible_unit
            self.responsible_unit_id.data = project.responsible_unit_id or 0
            user = project.responsible_user
            self.responsible_person.data = user.username if user else ""
            self.due_date.data = project.due_date
            self.budget.data = "" if project.budget is None else str(project.budget)
            self.description.data = project.description

    def changes(self) -> services.ProjectChanges:
        return services.ProjectChanges(
            title=self.title.data or "",
            description=self.description.data or "",
            responsible_unit=self.responsible_unit.data or "",
            responsible_unit_id=self.responsible_unit_id.data or 0,
            responsible_user_id=self.responsible_user.id if self.responsible_user else 0,
            due_date=self.due_date.data,
            budget=self.budget.data or None,
        )


class ConditionForm(FlaskForm):
    """The secretary makes a condition a task: what, who (a person or a unit), by when."""

    text = TextAreaField(
        _l("The condition"),
        description=_l("e.g. 音量由专人控制；播放时段8:00–20:00"),
        render_kw={"rows": 2},
    )
    assignee_kind = RadioField(
        _l("Who sees to it"),
        choices=[
            SelectChoice("person", _l("A person")),
            SelectChoice("unit", _l("A unit")),
        ],
        default="person",
    )
    person = StringField(
        _l("The person"), description=PERSON_HELP, render_kw={"autocomplete": "off"}
    )
    unit_id = SelectField(_l("The unit"), coerce=database_id, validate_choice=False)
    due_date = DateField(_l("Due date"), validators=[Optional()])

    def __init__(self, community, units, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.assignee = None
        self.unit_id.choices = [SelectChoice(0, _l("— choose —"))] + [
            SelectChoice(unit.id, unit.name) for unit in units
        ]

    def validate_person(self, field) -> None:
        if self.assignee_kind.data != "person":
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Please name the person."))
        match = match_eligible(self.community, field.data)
        if match.user is None:
            raise ValidationError(person_problem(match))
        self.assignee = match.user

    def validate_unit_id(self, field) -> None:
        if self.assignee_kind.data == "unit" and not field.data:
            raise ValidationError(_l("Please choose the unit."))

    def assignee_ids(self) -> tuple[int | None, int | None]:
        if self.assignee_kind.data == "unit":
            return None, self.unit_id.data or None
        return (self.assignee.id if self.assignee else None), None


class ConditionDoneForm(FlaskForm):
    # the page to go back to (my tasks), a path on this site
    next = HiddenField()
    note = TextAreaField(
        _l("Note (optional)"),
        description=_l("What was done, e.g. 已指定专人管理音量。"),
        render_kw={"rows": 2},
    )
