"""Log in, log out, sign up, my account, change password."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from auth import services
from auth.forms import ChangePasswordForm, ConfirmForm, LoginForm, ProfileForm, SignupForm
from meetings.errors import DomainError
from meetings.extensions import limiter
from meetings.web import refused, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _start_session(user, remember: bool = False) -> None:
    # A fresh session on every login, so a planted session id is worthless.
    session.clear()
    login_user(user, remember=remember)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            _start_session(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(safe_next(form.next.data) or url_for("main.index"))
        form.form_errors.append(_("Wrong username or password."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignupForm(services.list_communities())
    if form.validate_on_submit():
        try:
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
