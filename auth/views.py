"""Log in, log out, sign up, my account, change password, sign out everywhere.

Sessions are rows on the server (``auth.sessions``); the limits on failed
logins and sign-ups are in ``auth.limits``."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from auth import limits, services, sessions
from auth.forms import ChangePasswordForm, ConfirmForm, LoginForm, ProfileForm, SignupForm
from meetings.errors import DomainError
from meetings.web import refused, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _start_session(user, remember: bool = False) -> None:
    """A new session row and a fresh cookie (a planted session id is
    worthless); remember-me only for residents."""
    remember = remember and sessions.may_remember(user)
    session.clear()
    sessions.open_session(user, remember)
    login_user(user, remember=remember)
    session.permanent = True


def _end_session() -> None:
    """This browser's session ends on the server, then its cookies go (the
    session cleared first: ``logout_user`` leaves the order to delete the
    remember-me cookie in it)."""
    sessions.end_session(current_user.session_token if current_user.is_authenticated else None)
    session.clear()
    logout_user()


def _wait_page(template: str, form, error: limits.TooManyAttempts):
    """The form again, with how long to wait above it."""
    form.form_errors.append(error.message)
    page = render_template(template, form=form)
    return page, error.status, {"Retry-After": str(error.retry_after)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.attempt_login(
                form.username.data, form.password.data, get_remote_address()
            )
        except limits.TooManyAttempts as error:
            return _wait_page("auth/login.html", form, error)
        if user is not None:
            _start_session(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(safe_next(form.next.data) or url_for("main.landing"))
        form.form_errors.append(_("Wrong username or password."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        _end_session()
        flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/sign-out-everywhere", methods=["GET", "POST"])
@login_required
def sign_out_everywhere():
    """Ask first, then end every session of the user, this one included."""
    form = ConfirmForm()
    if form.validate_on_submit():
        services.sign_out_everywhere(current_user, current_user)
        _end_session()
        flash(_("You have been signed out on all devices."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/sign_out_everywhere.html", form=form)


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignupForm(services.list_communities())
    if form.validate_on_submit():
        try:
            limits.count_signup(get_remote_address())
            community = services.get_community(form.community_id.data)
            user = services.register_resident(
                services.NewAccount(
                    username=form.username.data,
                    display_name=form.display_name.data,
                    password=form.password.data,
                    phone=form.phone.data,
                ),
                community,
            )
        except limits.TooManyAttempts as error:
            return _wait_page("auth/signup.html", form, error)
        except DomainError as error:
            refused(error, form)
        else:
            _start_session(user)
            flash(_("Your account is ready. Welcome!"), "success")
            return redirect(url_for("main.index"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/signup.html", form=form), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except DomainError as error:
            refused(error, form)
        else:
            # Every session ended with the old password; this browser goes on in a new one.
            _start_session(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.index"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user, form.display_name.data, form.phone.data, form.email.data
            )
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Your details have been saved."), "success")
            return redirect(url_for("auth.account"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/account.html", form=form), status
