"""The verbs of the organisation: streets and their office's staff, members
of a community with a standing role, grids and their workers, units and
their members; and the street's view of its communities side by side.

Each verb checks who acts (the ``require_*`` below, which the web views and
the API handlers call first too), flushes, audits and tells the person it
concerns; the caller commits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_

from auth import permissions
from auth.models import Community, Membership, User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import AttendeeRole, Meeting, MeetingStatus
from meetings.notifications.services import notify
from meetings.organisation import roles
from meetings.organisation.models import (
    Grid,
    GridMember,
    Street,
    StreetStaff,
    Unit,
    UnitKind,
    UnitMember,
    unit_community,
)
from meetings.projects.models import Project, ProjectStatus
from meetings.requests.models import RequestStatus, ResidentRequest

NAME_MAX = 100
GRID_NAME_MAX = 60
BUILDING_MAX = 60
BUILDINGS_MAX = 200
# One building per line, or separated by commas (, ，) or 、.
BUILDING_SEPARATORS = re.compile(r"[\n\r,，、;；]+")


# --- who may ----------------------------------------------------------------------------


def can_see_street(user: User | None, street: Street) -> bool:
    """The street office's staff and administrators."""
    return permissions.is_admin(user) or roles.is_street_staff(user, street.id)


def require_admin(user: User | None) -> None:
    if not permissions.is_admin(user):
        raise NotAllowed(_("Only an administrator may do this."))


def require_street_viewer(user: User | None, street: Street) -> None:
    if not can_see_street(user, street):
        raise NotAllowed(_("Only the staff of this street's office may see this."))


def require_community_manager(user: User | None, community: Community) -> None:
    if not permissions.can_manage(user, community):
        raise NotAllowed(_("Only the community's secretary may do this."))


def can_see_grids(user: User | None, community: Community) -> bool:
    """The secretary, the community's grid workers and its street's staff."""
    return (
        permissions.can_manage(user, community)
        or roles.is_grid_worker(user, community)
        or roles.is_street_staff_of(user, community)
    )


def require_grid_viewer(user: User | None, community: Community) -> None:
    if not can_see_grids(user, community):
        raise NotAllowed(_("Only the community's secretary and grid workers may see this."))


def can_manage_unit(user: User | None, unit: Unit) -> bool:
    """Administrators, and the secretaries of a community the unit serves."""
    if permissions.is_admin(user):
        return True
    if not permissions.is_authenticated(user):
        return False
    run = {c.id for c in user.secretary_of}
    return bool(run & roles.served_community_ids(unit))


def require_unit_manager(user: User | None, unit: Unit) -> None:
    if not can_manage_unit(user, unit):
        raise NotAllowed(
            _("Only an administrator or the secretary of a community it serves may do this.")
        )


def can_see_unit(user: User | None, unit: Unit) -> bool:
    return can_manage_unit(user, unit) or roles.is_unit_member(user, unit)


def require_unit_viewer(user: User | None, unit: Unit) -> None:
    if not can_see_unit(user, unit):
        raise NotAllowed(
            _("Only the unit's members and the secretaries of the communities it serves see it.")
        )


def require_unit_creator(user: User | None) -> None:
    """Administrators, and secretaries (for units serving their own communities)."""
    if not permissions.manages_any_community(user):
        raise NotAllowed(_("Only an administrator or a secretary may create units."))


# --- lookups ----------------------------------------------------------------------------


def get_street(street_id: int) -> Street:
    street = db.session.get(Street, street_id)
    if street is None:
        raise NotFound(_("No such street."))
    return street


def get_grid(grid_id: int) -> Grid:
    grid = db.session.get(Grid, grid_id)
    if grid is None:
        raise NotFound(_("No such grid."))
    return grid


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("No such unit."))
    return unit


def get_community(community_id: int) -> Community:
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound(_("No such community."))
    return community


def get_active_user(user_id: int, field_name: str = "user_id") -> User:
    """A person named in a body or a form: 422 when there is none (active)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        message = _("No such person.")
        raise ValidationFailed(message, {field_name: [message]})
    return user


def streets_of(user: User | None) -> list[Street]:
    """All streets for an administrator; the streets on whose staff one is."""
    statement = db.select(Street).order_by(Street.name)
    if not permissions.is_admin(user):
        statement = statement.where(Street.id.in_(roles.street_ids_of(user) or {0}))
    return list(db.session.scalars(statement))


def street_by_name(name: str) -> Street | None:
    return db.session.scalar(db.select(Street).where(Street.name == name.strip()))


def grids_of(community: Community) -> list[Grid]:
    return list(
        db.session.scalars(
            db.select(Grid)
            .where(Grid.community_id == community.id)
            .order_by(Grid.name)
            .options(db.selectinload(Grid.members).joinedload(GridMember.user))
        )
    )


def units_statement(user: User | None):
    """The units this person sees: all (administrators), those serving the
    communities they are secretary of, those they belong to."""
    statement = db.select(Unit).order_by(Unit.name, Unit.id)
    if permissions.is_admin(user):
        return statement
    run = {c.id for c in user.secretary_of} if permissions.is_authenticated(user) else set()
    serving = db.select(unit_community.c.unit_id).where(
        unit_community.c.community_id.in_(run or {0})
    )
    return statement.where(or_(Unit.id.in_(serving), Unit.id.in_(roles.unit_ids_of(user) or {0})))


# --- validation -------------------------------------------------------------------------


def standing_role_or_error(value: str | None) -> str | None:
    """An attendee role code, or None (a resident) for an empty one."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return AttendeeRole(value).value
    except ValueError:
        message = _("Please choose one of the roles.")
        raise ValidationFailed(message, {"standing_role": [message]}) from None


def parse_buildings(text: str | list[str] | None) -> list[str]:
    """ "1栋、2栋, 3栋" or one per line (or a list) → ["1栋", "2栋", "3栋"]:
    trimmed, no empty ones, no repeats, in order."""
    parts = BUILDING_SEPARATORS.split(text) if isinstance(text, str) else list(text or [])
    return list(dict.fromkeys(part.strip() for part in parts if part and part.strip()))


def _check_buildings(buildings: list[str]) -> None:
    if len(buildings) > BUILDINGS_MAX:
        message = _("At most %(n)d buildings.", n=BUILDINGS_MAX)
        raise ValidationFailed(message, {"buildings": [message]})
    if any(len(b) > BUILDING_MAX for b in buildings):
        message = _("A building's name has at most %(n)d characters.", n=BUILDING_MAX)
        raise ValidationFailed(message, {"buildings": [message]})


def _name_or_error(name: str, maximum: int, field_name: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        message = _("Please enter a name.")
        raise ValidationFailed(message, {field_name: [message]})
    if len(name) > maximum:
        message = _("At most %(n)d characters.", n=maximum)
        raise ValidationFailed(message, {field_name: [message]})
    return name


# --- streets ----------------------------------------------------------------------------


def create_street(actor: User, name: str, district: str = "") -> Street:
    require_admin(actor)
    name = _name_or_error(name, NAME_MAX)
    district = (district or "").strip()[:NAME_MAX]
    if street_by_name(name) is not None:
        message = _("A street with this name exists.")
        raise Conflict(message, {"name": [message]})
    street = Street(name=name, district=district)
    db.session.add(street)
    db.session.flush()
    record(actor, "street.created", street, name=name, district=district)
    return street


def street_for_text(actor: User, name: str, district: str = "") -> Street:
    """The street record of this name, created when there is none yet: a
    community given its street as text is linked to the record."""
    return street_by_name(name) or create_street(actor, name, district)


def add_street_staff(actor: User, street: Street, user: User) -> StreetStaff:
    require_admin(actor)
    if not user.is_active:
        message = _("No such person.")
        raise ValidationFailed(message, {"user_id": [message]})
    if roles.is_street_staff(user, street.id):
        message = _(
            "%(name)s is already on the staff of %(street)s.",
            name=user.display_name,
            street=street.name,
        )
        raise Conflict(message, {"user_id": [message]})
    staff = StreetStaff(street=street, user=user)
    db.session.add(staff)
    db.session.flush()
    record(actor, "street.staff_added", street, user_id=user.id)
    notify(
        user,
        "street.staff_added",
        _l("You are on the staff of %(street)s", street=street.name),
        _l("You now see the communities of %(street)s side by side.", street=street.name),
        f"/streets/{street.id}",
    )
    return staff


def remove_street_staff(actor: User, street: Street, user: User) -> None:
    require_admin(actor)
    staff = db.session.scalar(
        db.select(StreetStaff).where(
            StreetStaff.street_id == street.id, StreetStaff.user_id == user.id
        )
    )
    if staff is None:
        raise NotFound(_("This person is not on the street's staff."))
    db.session.delete(staff)
    db.session.flush()
    record(actor, "street.staff_removed", street, user_id=user.id)


def assign_community(actor: User, street: Street, community: Community) -> Community:
    """The community belongs to this street (its ``street`` text follows)."""
    require_admin(actor)
    if community.street_id == street.id and community.street == street.name:
        return community
    previous = community.street_id
    community.street_id = street.id
    community.street = street.name
    db.session.flush()
    record(actor, "community.street_set", community, street_id=street.id, previous=previous)
    return community


# --- members of a community with a standing role ----------------------------------------


def add_member(
    actor: User, community: Community, user: User, standing_role: str | None = None
) -> Membership:
    """Make an existing person (of another community, a unit, the street…) a
    member of this community with a standing role. Already a member: 409."""
    require_community_manager(actor, community)
    role = standing_role_or_error(standing_role)
    if not user.is_active:
        message = _("No such person.")
        raise ValidationFailed(message, {"user_id": [message]})
    if user.membership_in(community.id) is not None:
        message = _(
            "%(name)s is already a member of %(community)s.",
            name=user.display_name,
            community=community.name,
        )
        raise Conflict(message, {"user_id": [message]})
    membership = Membership(user=user, community=community, standing_role=role)
    db.session.add(membership)
    db.session.flush()
    record(
        actor,
        "membership.added",
        membership,
        community_id=community.id,
        user_id=user.id,
        standing_role=role,
    )
    notify(
        user,
        "membership.added",
        _l("You are now a member of %(community)s", community=community.name),
        "",
        f"/communities/{community.id}",
    )
    return membership


def set_standing_role(
    actor: User, community: Community, user: User, standing_role: str | None
) -> Membership:
    require_community_manager(actor, community)
    role = standing_role_or_error(standing_role)
    membership = user.membership_in(community.id)
    if membership is None:
        raise NotFound(_("This person is not a member of the community."))
    if membership.standing_role != role:
        previous = membership.standing_role
        membership.standing_role = role
        db.session.flush()
        record(actor, "membership.role_set", membership, standing_role=role, previous=previous)
    return membership


# --- grids ------------------------------------------------------------------------------


def _check_grid_name(community: Community, name: str, grid: Grid | None = None) -> str:
    name = _name_or_error(name, GRID_NAME_MAX)
    taken = db.session.scalar(
        db.select(Grid.id).where(Grid.community_id == community.id, Grid.name == name)
    )
    if taken is not None and (grid is None or taken != grid.id):
        message = _("The community has a grid of this name.")
        raise Conflict(message, {"name": [message]})
    return name


def create_grid(
    actor: User, community: Community, name: str, buildings: str | list[str] | None = None
) -> Grid:
    require_community_manager(actor, community)
    name = _check_grid_name(community, name)
    buildings = parse_buildings(buildings)
    _check_buildings(buildings)
    grid = Grid(community=community, name=name, buildings=buildings)
    db.session.add(grid)
    db.session.flush()
    record(actor, "grid.created", grid, community_id=community.id, name=name, buildings=buildings)
    return grid


def update_grid(actor: User, grid: Grid, name: str, buildings: str | list[str] | None) -> Grid:
    require_community_manager(actor, grid.community)
    name = _check_grid_name(grid.community, name, grid)
    buildings = parse_buildings(buildings)
    _check_buildings(buildings)
    if (grid.name, list(grid.buildings or [])) != (name, buildings):
        grid.name, grid.buildings = name, buildings
        db.session.flush()
        record(actor, "grid.updated", grid, name=name, buildings=buildings)
    return grid


def _grid_member(grid: Grid, user: User) -> GridMember | None:
    return next((m for m in grid.members if m.user_id == user.id), None)


def add_grid_member(actor: User, grid: Grid, user: User, is_leader: bool = False) -> GridMember:
    """A member of the grid's community joins the grid, as its leader (网格长)
    or a member (网格员)."""
    community = grid.community
    require_community_manager(actor, community)
    if not user.is_active or user.membership_in(community.id) is None:
        message = _(
            "%(name)s is not a member of %(community)s.",
            name=user.display_name,
            community=community.name,
        )
        raise ValidationFailed(message, {"user_id": [message]})
    if _grid_member(grid, user) is not None:
        message = _("%(name)s is already in this grid.", name=user.display_name)
        raise Conflict(message, {"user_id": [message]})
    member = GridMember(grid=grid, user=user, is_leader=bool(is_leader))
    db.session.add(member)
    db.session.flush()
    record(actor, "grid.member_added", grid, user_id=user.id, is_leader=member.is_leader)
    notify(
        user,
        "grid.member_added",
        _l("You work in the grid %(grid)s", grid=grid.name)
        if not member.is_leader
        else _l("You lead the grid %(grid)s", grid=grid.name),
        "",
        f"/grids/{grid.id}",
    )
    return member


def set_grid_leader(actor: User, grid: Grid, user: User, is_leader: bool) -> GridMember:
    require_community_manager(actor, grid.community)
    member = _grid_member(grid, user)
    if member is None:
        raise NotFound(_("This person is not in the grid."))
    if member.is_leader != is_leader:
        member.is_leader = is_leader
        db.session.flush()
        record(actor, "grid.leader_set", grid, user_id=user.id, is_leader=is_leader)
    return member


def remove_grid_member(actor: User, grid: Grid, user: User) -> None:
    require_community_manager(actor, grid.community)
    member = _grid_member(grid, user)
    if member is None:
        raise NotFound(_("This person is not in the grid."))
    grid.members.remove(member)
    db.session.flush()
    record(actor, "grid.member_removed", grid, user_id=user.id)


# --- units ------------------------------------------------------------------------------


def _kind_or_error(kind: UnitKind | str) -> UnitKind:
    try:
        return UnitKind(kind)
    except ValueError:
        message = _("Please choose the kind of unit.")
        raise ValidationFailed(message, {"kind": [message]}) from None


def create_unit(actor: User, name: str, kind: UnitKind | str, communities: list[Community]) -> Unit:
    """A unit serving these communities: an administrator for any, a
    secretary for those they run only."""
    require_unit_creator(actor)
    name = _name_or_error(name, NAME_MAX)
    kind = _kind_or_error(kind)
    communities = list({c.id: c for c in communities}.values())
    if not communities:
        message = _("Please choose at least one community it serves.")
        raise ValidationFailed(message, {"community_ids": [message]})
    foreign = [c for c in communities if not permissions.can_manage(actor, c)]
    if foreign:
        raise NotAllowed(
            _(
                "You may create units only for the communities you are secretary of, "
                "not %(community)s.",
                community=foreign[0].name,
            )
        )
    if db.session.scalar(db.select(Unit.id).where(Unit.name == name)) is not None:
        message = _("A unit with this name exists.")
        raise Conflict(message, {"name": [message]})
    unit = Unit(name=name, kind=kind, communities=communities)
    db.session.add(unit)
    db.session.flush()
    record(
        actor,
        "unit.created",
        unit,
        name=name,
        kind=kind.value,
        community_ids=[c.id for c in communities],
    )
    return unit


def add_unit_member(actor: User, unit: Unit, user: User) -> UnitMember:
    require_unit_manager(actor, unit)
    if not user.is_active:
        message = _("No such person.")
        raise ValidationFailed(message, {"user_id": [message]})
    if any(m.user_id == user.id for m in unit.members):
        message = _(
            "%(name)s is already a member of %(unit)s.", name=user.display_name, unit=unit.name
        )
        raise Conflict(message, {"user_id": [message]})
    member = UnitMember(unit=unit, user=user)
    db.session.add(member)
    db.session.flush()
    record(actor, "unit.member_added", unit, user_id=user.id)
    notify(
        user,
        "unit.member_added",
        _l("You are a member of %(unit)s", unit=unit.name),
        "",
        f"/units/{unit.id}",
    )
    return member


def remove_unit_member(actor: User, unit: Unit, user: User) -> None:
    require_unit_manager(actor, unit)
    member = next((m for m in unit.members if m.user_id == user.id), None)
    if member is None:
        raise NotFound(_("This person is not a member of the unit."))
    unit.members.remove(member)
    db.session.flush()
    record(actor, "unit.member_removed", unit, user_id=user.id)


# --- the street's view --------------------------------------------------------------------

# Requests still waiting for someone: not answered, rejected or closed.
OPEN_REQUEST_STATUSES = frozenset(RequestStatus) - {
    RequestStatus.ANSWERED,
    RequestStatus.REJECTED,
    RequestStatus.CLOSED,
}
ACTIVE_PROJECT_STATUSES = (ProjectStatus.PLANNED, ProjectStatus.IN_PROGRESS)
LIST_LIMIT = 20


@dataclass
class CommunityFigures:
    """One community's line in the street view."""

    community: Community
    # the open requests (``OPEN_REQUEST_STATUSES``) by status
    requests_by_status: dict[str, int] = field(default_factory=dict)
    oldest_open_at: datetime | None = None
    orders_overdue: int = 0
    meetings_upcoming: int = 0
    next_meeting_at: datetime | None = None
    projects_active: int = 0
    projects_progress: int | None = None  # average percent of the active ones

    @property
    def id(self) -> int:
        return self.community.id

    @property
    def name(self) -> str:
        return self.community.name

    @property
    def requests_open(self) -> int:
        return sum(
            n for status, n in self.requests_by_status.items() if status in OPEN_REQUEST_STATUSES
        )

    def oldest_open_days(self, now: datetime) -> int | None:
        if self.oldest_open_at is None:
            return None
        return (now - self.oldest_open_at).days


@dataclass
class StreetOverview:
    street: Street
    communities: list[CommunityFigures]
    overdue_orders: list[ResidentRequest]
    upcoming_meetings: list[Meeting]
    active_projects: list[Project]
    now: datetime
    today: date

    @property
    def totals(self) -> CommunityFigures:
        total = CommunityFigures(community=self.street)  # type: ignore[arg-type]
        for line in self.communities:
            for status, n in line.requests_by_status.items():
                total.requests_by_status[status] = total.requests_by_status.get(status, 0) + n
            total.orders_overdue += line.orders_overdue
            total.meetings_upcoming += line.meetings_upcoming
            total.projects_active += line.projects_active
        return total


def _overdue_condition(today: date, now: datetime):
    """Orders past their due date (dispatched or claimed), and orders nobody
    has claimed within the claim window (``ORDER_CLAIM_HOURS``)."""
    claim_hours = current_app.config.get("ORDER_CLAIM_HOURS", 24)
    unclaimed_since = now - timedelta(hours=claim_hours)
    return or_(
        (
            ResidentRequest.status.in_([RequestStatus.DISPATCHED, RequestStatus.CLAIMED])
            & (ResidentRequest.order_due_date < today)
        ),
        (
            (ResidentRequest.status == RequestStatus.DISPATCHED)
            & (ResidentRequest.dispatched_at < unclaimed_since)
        ),
    )


def street_overview(street: Street, now: datetime | None = None) -> StreetOverview:
    """The street's communities side by side, in a fixed number of queries
    however many communities and years: each figure is one GROUP BY over the
    street's communities (the inbox index on requests, the community-and-time
    index on meetings)."""
    now = now or utcnow()
    today = now.date()
    communities = list(
        db.session.scalars(
            db.select(Community).where(Community.street_id == street.id).order_by(Community.name)
        )
    )
    lines = {c.id: CommunityFigures(community=c) for c in communities}
    # The ids themselves, not a subquery: with both lists known, the
    # requests by status read only the open requests of the street from the
    # inbox index (community, status, created_at), not five years of closed
    # ones (bench/README.md, issue 15: 17.3 ms → 1.7 ms at scale 1.0).
    in_street = sorted(lines)

    for community_id, status, count, oldest in db.session.execute(
        db.select(
            ResidentRequest.community_id,
            ResidentRequest.status,
            func.count(),
            func.min(ResidentRequest.created_at),
        )
        .where(
            ResidentRequest.community_id.in_(in_street),
            ResidentRequest.status.in_(sorted(OPEN_REQUEST_STATUSES)),
        )
        .group_by(ResidentRequest.community_id, ResidentRequest.status)
    ):
        line = lines.get(community_id)
        if line is None:
            continue
        status = RequestStatus(status)
        line.requests_by_status[status.value] = count
        if status in OPEN_REQUEST_STATUSES and (
            line.oldest_open_at is None or oldest < line.oldest_open_at
        ):
            line.oldest_open_at = oldest

    overdue = _overdue_condition(today, now)
    open_orders = ResidentRequest.status.in_([RequestStatus.DISPATCHED, RequestStatus.CLAIMED])
    for community_id, count in db.session.execute(
        db.select(ResidentRequest.community_id, func.count())
        .where(ResidentRequest.community_id.in_(in_street), open_orders, overdue)
        .group_by(ResidentRequest.community_id)
    ):
        if community_id in lines:
            lines[community_id].orders_overdue = count

    upcoming = (Meeting.status == MeetingStatus.SCHEDULED) & (Meeting.starts_at > now)
    for community_id, count, first in db.session.execute(
        db.select(Meeting.community_id, func.count(), func.min(Meeting.starts_at))
        .where(Meeting.community_id.in_(in_street), upcoming)
        .group_by(Meeting.community_id)
    ):
        if community_id in lines:
            lines[community_id].meetings_upcoming = count
            lines[community_id].next_meeting_at = first

    active = Project.status.in_(ACTIVE_PROJECT_STATUSES)
    for community_id, count, progress in db.session.execute(
        db.select(Project.community_id, func.count(), func.avg(Project.progress_percent))
        .where(Project.community_id.in_(in_street), active)
        .group_by(Project.community_id)
    ):
        if community_id in lines:
            lines[community_id].projects_active = count
            lines[community_id].projects_progress = (
                round(progress) if progress is not None else None
            )

    overdue_orders = list(
        db.session.scalars(
            db.select(ResidentRequest)
            .where(ResidentRequest.community_id.in_(in_street), open_orders, overdue)
            .order_by(ResidentRequest.dispatched_at, ResidentRequest.id)
            .limit(LIST_LIMIT)
            .options(db.joinedload(ResidentRequest.community))
        )
    )
    upcoming_meetings = list(
        db.session.scalars(
            db.select(Meeting)
            .where(Meeting.community_id.in_(in_street), upcoming)
            .order_by(Meeting.starts_at, Meeting.id)
            .limit(LIST_LIMIT)
            .options(db.joinedload(Meeting.community))
        )
    )
    active_projects = list(
        db.session.scalars(
            db.select(Project)
            .where(Project.community_id.in_(in_street), active)
            .order_by(Project.due_date.is_(None), Project.due_date, Project.id)
            .limit(LIST_LIMIT)
            .options(db.joinedload(Project.community))
        )
    )
    return StreetOverview(
        street=street,
        communities=list(lines.values()),
        overdue_orders=overdue_orders,
        upcoming_meetings=upcoming_meetings,
        active_projects=active_projects,
        now=now,
        today=today,
    )
