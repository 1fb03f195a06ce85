"""The administrator's area (communities, accounts, secretaries) and a
secretary's page of their community's accounts and members: new resident
accounts, existing people added with a standing role."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions, services
from auth.forms import (
    AccountSearchForm,
    AdminAccountForm,
    CommunityForm,
    ConfirmForm,
    MemberForm,
    SecretaryAccountForm,
    StandingRoleForm,
)
from auth.models import Community, User
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.main.paging import page_arg
from meetings.meeting.models import AttendeeRole
from meetings.organisation import services as organisation
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


def _render_accounts(community: Community, form=None, member_form=None, status: int = 200):
    return render_template(
        "admin/community_accounts.html",
        community=community,
        memberships=services.members_of(community, page_arg()),
        form=form or SecretaryAccountForm(formdata=None),
        member_form=member_form or MemberForm(formdata=None),
        role_form=StandingRoleForm(formdata=None),
        # translated once, not once per member
        roles={role.value: str(role.label) for role in AttendeeRole},
    ), status


def _managed_community(community_id: int) -> Community:
    community = db.get_or_404(Community, community_id)
    if not permissions.can_create_account_in(current_user, community):
        abort(403)
    return community


@bp.route("/communities/<int:community_id>/accounts", methods=["GET", "POST"])
@login_required
def community_accounts(community_id: int):
    """A secretary creates resident accounts in their own community, adds
    existing people (of another community, a unit, the street office) with a
    standing role, and changes a member's standing role."""
    community = _managed_community(community_id)
    form = SecretaryAccountForm()
    if form.validate_on_submit():
        try:
            user = services.create_account(current_user, _new_account(form), community)
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.community_accounts", community_id=community.id))
    return _render_accounts(community, form=form, status=_status(form))


@bp.post("/communities/<int:community_id>/members")
@login_required
def add_member(community_id: int):
    community = _managed_community(community_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            organisation.add_member(current_user, community, form.user, form.standing_role.data)
        except DomainError as error:
            refused(error, form, {"user_id": "person"})
        else:
            flash(
                _(
                    "%(name)s is now a member of %(community)s.",
                    name=form.user.display_name,
                    community=community.name,
                ),
                "success",
            )
            return redirect(url_for("admin.community_accounts", community_id=community.id))
    return _render_accounts(community, member_form=form, status=_status(form))


@bp.post("/communities/<int:community_id>/members/<int:user_id>/role")
@login_required
def set_standing_role(community_id: int, user_id: int):
    community = _managed_community(community_id)
    user = db.get_or_404(User, user_id)
    form = StandingRoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        organisation.set_standing_role(current_user, community, user, form.standing_role.data)
    except DomainError as error:
        refused(error)
    else:
        flash(_("%(name)s: saved.", name=user.display_name), "success")
    return redirect(
        url_for("admin.community_accounts", community_id=community.id, _anchor=f"member-{user.id}")
    )
