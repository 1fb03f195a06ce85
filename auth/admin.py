"""The administrator's area (communities, accounts, secretaries) and a
secretary's page to create accounts in their community."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions, services
from auth.forms import (
    AccountSearchForm,
    AdminAccountForm,
    CommunityForm,
    ConfirmForm,
    SecretaryAccountForm,
)
from auth.models import Community, User
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.main.paging import page_arg
from meetings.web import refused

bp = Blueprint("admin", __name__)


def _require_admin() -> None:
    if not permissions.is_admin(current_user):
        abort(403)


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _new_account(form) -> services.NewAccount:
    return services.NewAccount(
        username=form.username.data,
        display_name=form.display_name.data,
        password=form.password.data,
        phone=form.phone.data,
    )


@bp.get("/admin/")
@login_required
def index():
    _require_admin()
    search = AccountSearchForm(formdata=request.args if request.args.get("q") else None)
    query = search.q.data if search.validate() else ""
    return render_template(
        "admin/index.html",
        communities=services.community_overview(),
        users=services.find_users(query or "", page_arg()),
        search=search,
        query=query,
        confirm_form=ConfirmForm(),
    )


@bp.route("/admin/communities/new", methods=["GET", "POST"])
@login_required
def new_community():
    _require_admin()
    form = CommunityForm()
    if form.validate_on_submit():
        try:
            community = services.create_community(
                current_user, form.name.data, form.street.data, form.district.data or ""
            )
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Community %(name)s created.", name=community.name), "success")
            return redirect(url_for("admin.community", community_id=community.id))
    return render_template("admin/community_form.html", form=form), _status(form)


@bp.get("/admin/communities/<int:community_id>")
@login_required
def community(community_id: int):
    _require_admin()
    community = db.get_or_404(Community, community_id)
    return render_template(
        "admin/community.html",
        community=community,
        memberships=services.members_of(community, page_arg()),
        confirm_form=ConfirmForm(),
    )


@bp.post("/admin/communities/<int:community_id>/secretaries/<int:user_id>")
@login_required
def appoint_secretary(community_id: int, user_id: int):
    return _set_secretary(community_id, user_id, True)


@bp.post("/admin/communities/<int:community_id>/secretaries/<int:user_id>/stand-down")
@login_required
def stand_down_secretary(community_id: int, user_id: int):
    return _set_secretary(community_id, user_id, False)


def _set_secretary(community_id: int, user_id: int, is_secretary: bool):
    _require_admin()
    community = db.get_or_404(Community, community_id)
    user = db.get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        services.set_secretary(current_user, user, community, is_secretary)
        if is_secretary:
            flash(
                _(
                    "%(name)s is now a secretary of %(community)s.",
                    name=user.display_name,
                    community=community.name,
                ),
                "success",
            )
        else:
            flash(
                _(
                    "%(name)s is no longer a secretary of %(community)s.",
                    name=user.display_name,
                    community=community.name,
                ),
                "info",
            )
    return redirect(url_for("admin.community", community_id=community.id))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    _require_admin()
    communities = services.list_communities()
    form = AdminAccountForm(communities)
    if form.validate_on_submit():
        community = db.session.get(Community, form.community_id.data or 0)
        try:
            user = services.create_account(
                current_user, _new_account(form), community, is_secretary=form.is_secretary.data
            )
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/user_form.html", form=form), _status(form)


@bp.route("/admin/users/<int:user_id>/active", methods=["GET", "POST"])
@login_required
def toggle_active(user_id: int):
    """Ask first, then (de)activate: deactivating logs the person out everywhere."""
    _require_admin()
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.set_active(current_user, user, not user.is_active)
        except DomainError as error:
            refused(error)
        else:
            flash(_("Account %(username)s updated.", username=user.username), "success")
        return redirect(url_for("admin.index"))
    return render_template("admin/confirm_active.html", user=user, form=form)


@bp.route("/admin/users/<int:user_id>/sign-out", methods=["GET", "POST"])
@login_required
def sign_out_everywhere(user_id: int):
    """Ask first, then end every session, remembered login and API token of the account."""
    _require_admin()
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        return redirect(url_for("auth.sign_out_everywhere"))
    form = ConfirmForm()
    if form.validate_on_submit():
        services.sign_out_everywhere(current_user, user)
        flash(_("%(username)s is signed out on all devices.", username=user.username), "success")
        return redirect(url_for("admin.index"))
    return render_template("admin/confirm_sign_out.html", user=user, form=form)


@bp.route("/communities/<int:community_id>/accounts", methods=["GET", "POST"])
@login_required
def community_accounts(community_id: int):
    """A secretary creates resident accounts in their own community."""
    community = db.get_or_404(Community, community_id)
    if not permissions.can_create_account_in(current_user, community):
        abort(403)
    form = SecretaryAccountForm()
    if form.validate_on_submit():
        try:
            user = services.create_account(current_user, _new_account(form), community)
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.community_accounts", community_id=community.id))
    return render_template(
        "admin/community_accounts.html",
        community=community,
        memberships=services.members_of(community, page_arg()),
        form=form,
    ), _status(form)
