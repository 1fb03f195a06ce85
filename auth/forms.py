from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from auth.services import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
    password_problems,
)
from meetings.meeting.models import AttendeeRole
from meetings.organisation.forms import PersonForm

USERNAME_HELP = _l("3 to 40 letters, digits, dots, dashes or underscores.")


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device"))
    next = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.remember.description = _l(
            "Not for secretaries and administrators: they are logged out after "
            "%(n)d minutes without activity.",
            n=current_app.config["STAFF_IDLE_MINUTES"],
        )


def _username_field() -> StringField:
    return StringField(
        _l("Username"),
        validators=[DataRequired(), Regexp(USERNAME_PATTERN, message=USERNAME_HELP)],
        description=USERNAME_HELP,
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )


def _new_password_field(label=None) -> PasswordField:
    return PasswordField(
        label or _l("Password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l(
            "At least %(n)d characters, not a common password, not containing the username.",
            n=MIN_PASSWORD_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )


class AccountFields(FlaskForm):
    """What every new account needs."""

    username = _username_field()
    display_name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Shown to others, e.g. 王阿姨 or 李建国."),
    )
    phone = TelField(_l("Phone (optional)"), validators=[Optional(), Length(max=30)])
    password = _new_password_field()

    def validate_password(self, field: PasswordField) -> None:
        # The service checks again; here the refusal comes with the form's other errors.
        if field.errors:  # too short: said already
            return
        if problems := password_problems(field.data or "", self.username.data):
            raise ValidationError(problems[0])


class SignupForm(AccountFields):
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    community_id = SelectField(
        _l("Your community (社区)"),
        coerce=int,
        validators=[DataRequired(message=_l("Please choose your community."))],
    )

    def __init__(self, communities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community_id.choices = [SelectChoice(0, _l("— choose —"))] + [
            SelectChoice(c.id, f"{c.name}（{c.street}）") for c in communities
        ]


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ProfileForm(FlaskForm):
    """A user's own name and contact details (the "my account" page)."""

    display_name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Shown to others, e.g. 王阿姨 or 李建国."),
    )
    phone = TelField(_l("Phone (optional)"), validators=[Optional(), Length(max=30)])
    email = EmailField(
        _l("E-mail (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=EMAIL_MAX_LENGTH),
            Regexp(
                EMAIL_PATTERN,
                message=_l("Please enter an e-mail address such as name@example.com."),
            ),
        ],
        description=_l("Your notifications are also sent here. Leave it empty for none."),
        render_kw={"autocomplete": "email", "autocapitalize": "none"},
    )


class CommunityForm(FlaskForm):
    name = StringField(
        _l("Name of the community (社区)"), validators=[DataRequired(), Length(max=100)]
    )
    street = StringField(_l("Street (街道)"), validators=[DataRequired(), Length(max=100)])
    district = StringField(_l("District (区)"), validators=[Optional(), Length(max=100)])


class AdminAccountForm(AccountFields):
    """An administrator creates any account."""

    community_id = SelectField(_l("Community"), coerce=int)
    is_secretary = BooleanField(_l("Secretary of this community"))

    def __init__(self, communities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community_id.choices = [SelectChoice(0, _l("— none —"))] + [
            SelectChoice(c.id, c.name) for c in communities
        ]


class SecretaryAccountForm(AccountFields):
    """A secretary creates a resident account in their community."""


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""


class AccountSearchForm(FlaskForm):
    """The administrator looks for accounts (GET)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Find an account"),
        validators=[Optional(), Length(max=100)],
        description=_l("Part of a username, a name or a phone number."),
    )


def standing_role_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Resident (no standing role)"))] + [
        SelectChoice(role.value, role.label) for role in AttendeeRole
    ]


class MemberForm(PersonForm):
    """A secretary makes an existing person (of another community, a unit,
    the street office) a member with a standing role."""

    standing_role = SelectField(
        _l("Standing role"),
        choices=standing_role_choices(),
        validators=[Optional()],
        description=_l("Their usual part in this community's meetings: invitations pre-fill it."),
    )


class StandingRoleForm(FlaskForm):
    standing_role = SelectField(
        _l("Standing role"), choices=standing_role_choices(), validators=[Optional()]
    )
