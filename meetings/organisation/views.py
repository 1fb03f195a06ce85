"""Pages of the organisation: the streets (the administrator's, and the
street office's view of its communities side by side), a community's grids,
the units; and the accounts picker (any active account, for a person of
another community, a unit or the street office)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import permissions
from auth import services as auth_services
from auth.models import Community, User
from meetings.errors import DomainError
from meetings.extensions import db
from meetings.main import people
from meetings.main.paging import page_arg
from meetings.organisation import services
from meetings.organisation.forms import (
    ConfirmForm,
    GridForm,
    GridMemberForm,
    PersonForm,
    StreetCommunityForm,
    StreetForm,
    UnitForm,
)
from meetings.organisation.models import Grid, Street, Unit
from meetings.requests.models import RequestStatus
from meetings.web import refused

bp = Blueprint("organisation", __name__)

UNITS_PAGE = 30


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _street(street_id: int) -> Street:
    return db.get_or_404(Street, street_id)


# --- the accounts picker ------------------------------------------------------------------


@bp.get("/accounts/find")
@login_required
def find_accounts():
    """The picker of any active account (``static/js/picker.js``): at least
    two characters of a name, username or phone; for administrators and
    secretaries."""
    if not permissions.manages_any_community(current_user):
        abort(403)
    found, more = people.find_accounts(request.args.get("q"))
    return jsonify(items=[people.picker_item(user) for user in found], more=more)


# --- streets ------------------------------------------------------------------------------


@bp.get("/streets")
@login_required
def streets():
    """All streets (administrators), or the streets on whose staff one is."""
    listed = services.streets_of(current_user)
    if not permissions.is_admin(current_user):
        if not listed:
            abort(403)
        if len(listed) == 1:
            return redirect(url_for("organisation.street", street_id=listed[0].id))
    return render_template("organisation/streets.html", streets=listed)


@bp.route("/streets/new", methods=["GET", "POST"])
@login_required
def new_street():
    services.require_admin(current_user)
    form = StreetForm()
    if form.validate_on_submit():
        try:
            street = services.create_street(current_user, form.name.data, form.district.data or "")
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Street %(name)s created.", name=street.name), "success")
            return redirect(url_for("organisation.manage_street", street_id=street.id))
    return render_template("organisation/street_form.html", form=form), _status(form)


@bp.get("/streets/<int:street_id>")
@login_required
def street(street_id: int):
    """The street's communities side by side: requests, overdue orders,
    meetings coming, active projects."""
    street = _street(street_id)
    services.require_street_viewer(current_user, street)
    return render_template(
        "organisation/street.html",
        overview=services.street_overview(street),
        statuses=list(RequestStatus),
        can_manage=permissions.is_admin(current_user),
    )


def _render_manage(street: Street, staff_form=None, community_form=None, status: int = 200):
    return render_template(
        "organisation/street_manage.html",
        street=street,
        staff_form=staff_form or PersonForm(formdata=None),
        community_form=community_form
        or StreetCommunityForm(auth_services.list_communities(), formdata=None),
        confirm_form=ConfirmForm(),
    ), status


@bp.get("/streets/<int:street_id>/manage")
@login_required
def manage_street(street_id: int):
    """The administrator's page of a street: its office's staff and its communities."""
    services.require_admin(current_user)
    return _render_manage(_street(street_id))


@bp.post("/streets/<int:street_id>/staff")
@login_required
def add_street_staff(street_id: int):
    services.require_admin(current_user)
    street = _street(street_id)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            services.add_street_staff(current_user, street, form.user)
        except DomainError as error:
            refused(error, form, {"user_id": "person"})
        else:
            flash(
                _(
                    "%(name)s is on the staff of %(street)s.",
                    name=form.user.display_name,
                    street=street.name,
                ),
                "success",
            )
            return redirect(url_for("organisation.manage_street", street_id=street.id))
    return _render_manage(street, staff_form=form, status=_status(form))


@bp.post("/streets/<int:street_id>/staff/<int:user_id>/remove")
@login_required
def remove_street_staff(street_id: int, user_id: int):
    services.require_admin(current_user)
    street = _street(street_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.get_or_404(User, user_id)
    try:
        services.remove_street_staff(current_user, street, user)
    except DomainError as error:
        refused(error)
    else:
        flash(_("%(name)s is no longer on the street's staff.", name=user.display_name), "info")
    return redirect(url_for("organisation.manage_street", street_id=street.id))


@bp.post("/streets/<int:street_id>/communities")
@login_required
def assign_community(street_id: int):
    services.require_admin(current_user)
    street = _street(street_id)
    form = StreetCommunityForm(auth_services.list_communities())
    if form.validate_on_submit():
        community = db.get_or_404(Community, form.community_id.data)
        services.assign_community(current_user, street, community)
        flash(
            _("%(community)s belongs to %(street)s.", community=community.name, street=street.name),
            "success",
        )
        return redirect(url_for("organisation.manage_street", street_id=street.id))
    return _render_manage(street, community_form=form, status=_status(form))


# --- grids --------------------------------------------------------------------------------


def _render_grids(community, form=None, status: int = 200):
    return render_template(
        "organisation/grids.html",
        community=community,
        grids=services.grids_of(community),
        form=form or GridForm(formdata=None),
        can_manage=permissions.can_manage(current_user, community),
    ), status


@bp.route("/communities/<int:community_id>/grids", methods=["GET", "POST"])
@login_required
def grids(community_id: int):
    """The community's grids (网格), and for its secretary a form for a new one."""
    community = db.get_or_404(Community, community_id)
    if request.method == "GET":
        services.require_grid_viewer(current_user, community)
        return _render_grids(community)
    services.require_community_manager(current_user, community)
    form = GridForm()
    if form.validate_on_submit():
        try:
            grid = services.create_grid(
                current_user, community, form.name.data, form.buildings.data
            )
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Grid %(name)s created.", name=grid.name), "success")
            return redirect(url_for("organisation.grid", grid_id=grid.id))
    return _render_grids(community, form, _status(form))


def _grid(grid_id: int) -> Grid:
    return db.get_or_404(Grid, grid_id)


def _member_form(grid: Grid, formdata=None, **kwargs) -> GridMemberForm:
    community = grid.community
    return GridMemberForm(
        formdata=formdata,
        match=lambda text: people.match_member(community.id, text),
        scope=community.name,
        **kwargs,
    )


def _render_grid(grid: Grid, member_form=None, status: int = 200):
    return render_template(
        "organisation/grid.html",
        grid=grid,
        member_form=member_form or _member_form(grid),
        confirm_form=ConfirmForm(),
        can_manage=permissions.can_manage(current_user, grid.community),
    ), status


@bp.get("/grids/<int:grid_id>")
@login_required
def grid(grid_id: int):
    grid = _grid(grid_id)
    services.require_grid_viewer(current_user, grid.community)
    return _render_grid(grid)


@bp.route("/grids/<int:grid_id>/edit", methods=["GET", "POST"])
@login_required
def edit_grid(grid_id: int):
    grid = _grid(grid_id)
    services.require_community_manager(current_user, grid.community)
    form = GridForm(
        data=None
        if request.method == "POST"
        else {"name": grid.name, "buildings": "\n".join(grid.buildings or [])}
    )
    if form.validate_on_submit():
        try:
            services.update_grid(current_user, grid, form.name.data, form.buildings.data)
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Grid %(name)s saved.", name=grid.name), "success")
            return redirect(url_for("organisation.grid", grid_id=grid.id))
    return render_template("organisation/grid_form.html", grid=grid, form=form), _status(form)


@bp.post("/grids/<int:grid_id>/members")
@login_required
def add_grid_member(grid_id: int):
    grid = _grid(grid_id)
    services.require_community_manager(current_user, grid.community)
    form = _member_form(grid, formdata=request.form)
    if form.validate_on_submit():
        try:
            services.add_grid_member(current_user, grid, form.user, form.is_leader.data)
        except DomainError as error:
            refused(error, form, {"user_id": "person"})
        else:
            flash(_("%(name)s added to the grid.", name=form.user.display_name), "success")
            return redirect(url_for("organisation.grid", grid_id=grid.id))
    return _render_grid(grid, form, _status(form))


@bp.post("/grids/<int:grid_id>/members/<int:user_id>/leader")
@login_required
def toggle_grid_leader(grid_id: int, user_id: int):
    """Make a member the grid's leader (网格长), or a member again."""
    grid = _grid(grid_id)
    services.require_community_manager(current_user, grid.community)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    member = next((m for m in grid.members if m.user_id == user_id), None)
    if member is None:
        abort(404)
    services.set_grid_leader(current_user, grid, member.user, not member.is_leader)
    flash(_("%(name)s: saved.", name=member.user.display_name), "success")
    return redirect(url_for("organisation.grid", grid_id=grid.id))


@bp.post("/grids/<int:grid_id>/members/<int:user_id>/remove")
@login_required
def remove_grid_member(grid_id: int, user_id: int):
    grid = _grid(grid_id)
    services.require_community_manager(current_user, grid.community)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.get_or_404(User, user_id)
    try:
        services.remove_grid_member(current_user, grid, user)
    except DomainError as error:
        refused(error)
    else:
        flash(_("%(name)s is no longer in the grid.", name=user.display_name), "info")
    return redirect(url_for("organisation.grid", grid_id=grid.id))


# --- units --------------------------------------------------------------------------------


@bp.get("/units")
@login_required
def units():
    """The units one sees: all (administrators), those serving one's
    communities (secretaries), one's own (members)."""
    statement = services.units_statement(current_user).options(db.selectinload(Unit.communities))
    page = db.paginate(statement, page=page_arg(), per_page=UNITS_PAGE, error_out=False)
    if not page.total and not permissions.manages_any_community(current_user):
        abort(403)
    return render_template(
        "organisation/units.html",
        units=page,
        can_create=permissions.manages_any_community(current_user),
    )


def _unit_communities():
    return auth_services.managed_communities(current_user)


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
def new_unit():
    services.require_unit_creator(current_user)
    form = UnitForm(_unit_communities())
    if form.validate_on_submit():
        communities = [db.session.get(Community, i) for i in form.community_ids.data]
        try:
            unit = services.create_unit(
                current_user, form.name.data, form.kind.data, [c for c in communities if c]
            )
        except DomainError as error:
            refused(error, form)
        else:
            flash(_("Unit %(name)s created.", name=unit.name), "success")
            return redirect(url_for("organisation.unit", unit_id=unit.id))
    return render_template("organisation/unit_form.html", form=form), _status(form)


def _unit(unit_id: int) -> Unit:
    return db.get_or_404(Unit, unit_id)


def _render_unit(unit: Unit, member_form=None, status: int = 200):
    return render_template(
        "organisation/unit.html",
        unit=unit,
        member_form=member_form or PersonForm(formdata=None),
        confirm_form=ConfirmForm(),
        can_manage=services.can_manage_unit(current_user, unit),
    ), status


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    unit = _unit(unit_id)
    services.require_unit_viewer(current_user, unit)
    return _render_unit(unit)


@bp.post("/units/<int:unit_id>/members")
@login_required
def add_unit_member(unit_id: int):
    unit = _unit(unit_id)
    services.require_unit_manager(current_user, unit)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            services.add_unit_member(current_user, unit, form.user)
        except DomainError as error:
            refused(error, form, {"user_id": "person"})
        else:
            flash(
                _("%(name)s added to %(unit)s.", name=form.user.display_name, unit=unit.name),
                "success",
            )
            return redirect(url_for("organisation.unit", unit_id=unit.id))
    return _render_unit(unit, form, _status(form))


@bp.post("/units/<int:unit_id>/members/<int:user_id>/remove")
@login_required
def remove_unit_member(unit_id: int, user_id: int):
    unit = _unit(unit_id)
    services.require_unit_manager(current_user, unit)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.get_or_404(User, user_id)
    try:
        services.remove_unit_member(current_user, unit, user)
    except DomainError as error:
        refused(error)
    else:
        flash(
            _(
                "%(name)s is no longer a member of %(unit)s.",
                name=user.display_name,
                unit=unit.name,
            ),
            "info",
        )
    return redirect(url_for("organisation.unit", unit_id=unit.id))
