from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class ReadForm(FlaskForm):
    """Mark one notification read; with ``open`` pressed, go on to its link."""

    open = SubmitField(_l("Open"))
    mark = SubmitField(_l("Mark as read"))


class ReadAllForm(FlaskForm):
    """A POST button with its CSRF token."""
