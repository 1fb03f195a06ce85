"""The grid workers' visit log (走访记录): whom they saw on a home visit,
what they heard, what follows. A visit can become a request, raised for the
resident (without an account, by default) and heard "on a home visit".

A grid worker logs visits in their own grids and sees their own; the grid's
leader (网格长) and the community's secretary see every visit of the grid."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, or_

from auth import permissions
from auth.models import Membership, User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.organisation import roles
from meetings.organisation.models import Grid, GridMember
from meetings.requests import services
from meetings.requests.models import RequestChannel, ResidentRequest, Visit

VISITED_MAX = 120
NOTES_MAX = 4000
FOLLOW_UP_MAX = 4000
VISITS_PAGE = 20


# --- lookups and permissions -----------------------------------------------------


def get_grid(grid_id: int) -> Grid:
    grid = db.session.get(Grid, grid_id)
    if grid is None:
        raise NotFound(_("No such grid."))
    return grid


def can_log_visit(user: User | None, grid: Grid) -> bool:
    """A leader or member of the grid."""
    return grid.id in roles.grid_ids_of(user)


def require_visitor(user: User | None, grid: Grid) -> None:
    if not can_log_visit(user, grid):
        raise NotAllowed(_("Only the grid's leader and members may log visits in it."))


def sees_all_visits(user: User | None, grid: Grid) -> bool:
    """The grid's leader and the community's secretary (and administrators)."""
    return grid.id in roles.led_grid_ids(user) or permissions.can_manage(user, grid.community)


def can_view_visit(user: User | None, visit: Visit) -> bool:
    if not permissions.is_authenticated(user):
        return False
    return visit.visitor_id == user.id or sees_all_visits(user, visit.grid)


def get_visible_visit(user: User | None, visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(_("No such visit."))
    if not can_view_visit(user, visit):
        raise NotAllowed(
            _("Only the visitor, the grid's leader and the community's secretary see a visit.")
        )
    return visit


def can_keep_a_log(user: User | None) -> bool:
    """Whether the visit log is for this user at all: a grid worker, or
    someone who runs a community."""
    return bool(roles.grid_ids_of(user)) or permissions.manages_any_community(user)


def grids_of_visitor(user: User | None) -> list[Grid]:
    """The grids this person may log visits in, by community and name."""
    ids = roles.grid_ids_of(user)
    if not ids:
        return []
    return list(
        db.session.scalars(
            db.select(Grid)
            .where(Grid.id.in_(ids))
            .options(db.joinedload(Grid.community))
            .order_by(Grid.community_id, Grid.name)
        )
    )


def _seen_grids(user: User) -> Select:
    """The ids of the grids whose every visit this user sees (a query)."""
    led = db.select(GridMember.grid_id).where(
        GridMember.user_id == user.id, GridMember.is_leader.is_(True)
    )
    run = db.select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.is_secretary.is_(True)
    )
    return db.select(Grid.id).where(or_(Grid.id.in_(led), Grid.community_id.in_(run)))


def visible_grids(user: User) -> list[Grid]:
    """The grids whose visits this user sees some of: those they work in and
    those of the communities they run (all, for an administrator)."""
    statement = db.select(Grid).options(db.joinedload(Grid.community))
    if not permissions.is_admin(user):
        mine = db.select(GridMember.grid_id).where(GridMember.user_id == user.id)
        statement = statement.where(or_(Grid.id.in_(mine), Grid.id.in_(_seen_grids(user))))
    return list(db.session.scalars(statement.order_by(Grid.community_id, Grid.name)))


def visits_query(user: User, grid_id: int | None = None) -> Select:
    """The visits this user sees, newest first (one SELECT): their own, and
    all those of the grids they lead or whose community they run."""
    statement = db.select(Visit)
    if not permissions.is_admin(user):
        statement = statement.where(
            or_(Visit.visitor_id == user.id, Visit.grid_id.in_(_seen_grids(user)))
        )
    if grid_id is not None:
        statement = statement.where(Visit.grid_id == grid_id)
    return statement.order_by(Visit.visited_at.desc(), Visit.id.desc()).options(
        db.joinedload(Visit.grid).joinedload(Grid.community),
        db.joinedload(Visit.visitor),
        db.joinedload(Visit.request),
    )


def visits_page(
    user: User, grid_id: int | None = None, page: int = 1, per_page: int = VISITS_PAGE
) -> Pagination:
    return db.paginate(visits_query(user, grid_id), page=page, per_page=per_page, error_out=False)


# --- logging a visit ---------------------------------------------------------------


def log_visit(
    actor: User,
    grid: Grid,
    visited: str,
    notes: str,
    follow_up: str | None = None,
    visited_at: datetime | None = None,
) -> Visit:
    """A grid worker writes down a visit in one of their grids."""
    require_visitor(actor, grid)
    visited = (visited or "").strip()
    notes = (notes or "").strip()
    follow_up = (follow_up or "").strip() or None
    fields: dict[str, list[str]] = {}
    if not visited:
        fields["visited"] = [_("Please say whom you visited, e.g. “3栋 王阿姨”.")]
    elif len(visited) > VISITED_MAX:
        fields["visited"] = [_("At most %(n)d characters.", n=VISITED_MAX)]
    if not notes:
        fields["notes"] = [_("Please write down what you heard.")]
    elif len(notes) > NOTES_MAX:
        fields["notes"] = [_("At most %(n)d characters.", n=NOTES_MAX)]
    if follow_up is not None and len(follow_up) > FOLLOW_UP_MAX:
        fields["follow_up"] = [_("At most %(n)d characters.", n=FOLLOW_UP_MAX)]
    now = utcnow()
    if visited_at is not None and visited_at > now:
        fields["visited_at"] = [_("A visit cannot be in the future.")]
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)
    visit = Visit(
        grid=grid,
        visitor=actor,
        visited=visited,
        notes=notes,
        follow_up=follow_up,
        visited_at=visited_at or now,
    )
    db.session.add(visit)
    db.session.flush()
    record(actor, "visit.logged", visit, grid_id=grid.id, community_id=grid.community_id)
    return visit


# --- a visit becomes a request -------------------------------------------------------


def can_raise_from(user: User | None, visit: Visit) -> bool:
    """The visitor, the grid's leader, the community's secretary — while the
    visit has no request yet."""
    return (
        visit.request_id is None
        and can_view_visit(user, visit)
        and services.can_take_in(user, visit.grid.community)
    )


def require_raiser_from(user: User | None, visit: Visit) -> None:
    if not (can_view_visit(user, visit) and services.can_take_in(user, visit.grid.community)):
        raise NotAllowed(
            _(
                "Only the visitor, the grid's leader and the community's secretary may turn "
                "a visit into a request."
            )
        )
    if visit.request_id is not None:
        raise Conflict(_("This visit has become a request already."))


def draft_from(visit: Visit) -> services.RequestDraft:
    """What the intake form starts with: the notes and the follow-up."""
    first_line = visit.notes.strip().splitlines()[0] if visit.notes.strip() else ""
    title = first_line[: services.TITLE_MAX]
    description = visit.notes
    if visit.follow_up:
        description = f"{visit.notes}\n\n{visit.follow_up}"
    return services.RequestDraft(
        title=title,
        description=description[: services.DESCRIPTION_MAX],
        category="",
        location="",
    )


def resident_from(visit: Visit) -> services.ResidentDetails:
    return services.ResidentDetails(name=visit.visited[: services.RESIDENT_NAME_MAX])


def raise_from_visit(
    actor: User,
    visit: Visit,
    draft: services.RequestDraft,
    *,
    resident: services.ResidentDetails | None = None,
    requester: User | None = None,
    channel: RequestChannel | str | None = RequestChannel.HOME_VISIT,
) -> ResidentRequest:
    """The visit becomes a request of its grid's community, raised for the
    resident named (``resident``, by default whom the visit names) or for
    one with an account (``requester``); the visit then links to it.
    409 ``conflict`` when it has one already (also of two at once)."""
    require_raiser_from(actor, visit)
    community = visit.grid.community
    if requester is not None:
        item = services.raise_on_behalf(actor, community, requester, draft, channel)
    else:
        item = services.raise_for_resident(
            actor, community, resident or resident_from(visit), draft, channel
        )
    claimed = db.session.execute(
        db.update(Visit)
        .where(Visit.id == visit.id, Visit.request_id.is_(None))
        .values(request_id=item.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(_("This visit has become a request already."))
    db.session.refresh(visit)
    record(actor, "visit.request_raised", visit, request_id=item.id)
    return item
