"""The order workflow on a request (派单 → 接单 → 办理 → 反馈 → 评价): the
secretary dispatches a request to a person, a grid or a unit with a due date;
an assignee claims it or hands it back; the one who claimed it records
handling steps and marks it handled with a reply to the resident; the
resident rates it, and a rating of 2 or less reopens it to the secretary.

Every state change goes through ``services.transition`` (the guarded UPDATE,
the history entry and the audit entry). The verbs check permission, then
state, then what was sent; they flush, audit and notify, never commit.
``can_*`` answer yes or no (for templates); each ``require_*`` raises
``NotAllowed`` with the message of its rule, and is what the views and the
API's ``permission_required`` call before reading a form or a body."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO

from flask import current_app
from flask_babel import LazyString, force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, and_, case, false, or_

from auth import permissions
from auth.models import Community, Membership, User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.main.periods import local_today
from meetings.notifications.services import notify, notify_all
from meetings.organisation import roles
from meetings.organisation.models import Grid, GridMember, Unit, UnitMember
from meetings.requests import photos as request_photos
from meetings.requests.assignees import is_assignee, is_handler
from meetings.requests.models import (
    RATABLE,
    RequestEvent,
    RequestRating,
    RequestStatus,
    RequestStep,
    ResidentRequest,
)
from meetings.requests.services import link_to, transition

NOTE_MAX = 4000
REASON_MAX = 2000
REPLY_MAX = 4000
COMMENT_MAX = 2000
SCORE_MIN, SCORE_MAX = 1, 5
# a rating of this or less reopens the request to the secretary
REOPEN_AT_MOST = 2

# The states a request can be dispatched from.
DISPATCHABLE = frozenset(
    {RequestStatus.SUBMITTED, RequestStatus.HANDED_BACK, RequestStatus.REOPENED}
)
# An order someone still has to work on.
OPEN_ORDER = frozenset({RequestStatus.DISPATCHED, RequestStatus.CLAIMED})
# A secretary hears again of the same late order after this long.
FLAG_AGAIN_AFTER = timedelta(days=1)

ASSIGNEE_KINDS = ("user", "grid", "unit")


# --- settings and dates --------------------------------------------------------------


def rating_days() -> int:
    return current_app.config["REQUEST_RATING_DAYS"]


def claim_hours() -> int:
    return current_app.config["ORDER_CLAIM_HOURS"]


def today(now: datetime | None = None) -> date:
    """The date in the communities' time zone (config ``TIMEZONE``)."""
    return local_today(now)


def _site_text(message: str, **params) -> str:
    """A stored text (a history entry everyone reads), in the site's language."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _(message, **params)


# --- who may do what ----------------------------------------------------------------


def can_dispatch(user: User | None, item: ResidentRequest) -> bool:
    return permissions.can_manage(user, item.community)


def require_dispatcher(user: User | None, item: ResidentRequest) -> None:
    if not can_dispatch(user, item):
        raise NotAllowed(_("Only the community's secretary may dispatch a request."))


def can_claim(user: User | None, item: ResidentRequest) -> bool:
    """Claiming and handing back: the person, grid or unit the order names."""
    return is_assignee(user, item)


def require_assignee(user: User | None, item: ResidentRequest) -> None:
    if not can_claim(user, item):
        raise NotAllowed(_("Only the person, grid or unit it is dispatched to may do this."))


def can_handle(user: User | None, item: ResidentRequest) -> bool:
    """Steps and marking handled: the assignee who claimed the order."""
    return is_handler(user, item)


def require_handler(user: User | None, item: ResidentRequest) -> None:
    if not can_handle(user, item):
        raise NotAllowed(_("Only the person who claimed the order may record its handling."))


def can_rate(user: User | None, item: ResidentRequest) -> bool:
    """The resident; for a resident without an account, whoever raised it for
    them or a secretary, recording the rating the resident gave by phone."""
    if not permissions.is_authenticated(user):
        return False
    if item.requester_id is not None:
        return item.requester_id == user.id
    return item.raised_by_id == user.id or permissions.can_manage(user, item.community)


def require_rater(user: User | None, item: ResidentRequest) -> None:
    if not can_rate(user, item):
        raise NotAllowed(_("Only the resident who raised the request may rate it."))


def can_see_order(user: User | None, item: ResidentRequest) -> bool:
    """The order's panel: the secretary, the assignees and whoever handles it."""
    return can_dispatch(user, item) or is_assignee(user, item) or is_handler(user, item)


# --- the assignee ---------------------------------------------------------------------


@dataclass(frozen=True)
class AssigneeChoice:
    """Whom to dispatch to: ``kind`` is "user", "grid" or "unit"."""

    kind: str
    id: int


@dataclass(frozen=True)
class Assignee:
    """The current assignee of an order, as the pages and the API show it."""

    kind: str
    id: int
    name: str


def assignee_of(item: ResidentRequest) -> Assignee | None:
    if item.assignee_user is not None:
        return Assignee("user", item.assignee_user.id, item.assignee_user.display_name)
    if item.assignee_grid is not None:
        return Assignee("grid", item.assignee_grid.id, item.assignee_grid.name)
    if item.assignee_unit is not None:
        return Assignee("unit", item.assignee_unit.id, item.assignee_unit.name)
    return None


def may_take_orders(user: User, community: Community) -> bool:
    """A person an order may name: a member of the community, on the staff
    of its street's office, or a member of a unit serving it."""
    if not user.is_active:
        return False
    if permissions.is_member(user, community) or roles.is_street_staff_of(user, community):
        return True
    return any(roles.unit_serves(unit_id, community) for unit_id in roles.unit_ids_of(user))


def _assignee_problem(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"assignee": [message]})


def _resolve(community: Community, choice: AssigneeChoice) -> User | Grid | Unit:
    if choice is None or choice.kind not in ASSIGNEE_KINDS or not choice.id:
        raise _assignee_problem(_("Please choose a grid, a person or a unit."))
    if choice.kind == "user":
        user = db.session.get(User, choice.id)
        if user is None or not may_take_orders(user, community):
            raise _assignee_problem(
                _(
                    "Orders of %(community)s go to its members, its street office's staff "
                    "or members of a unit serving it.",
                    community=community.name,
                )
            )
        return user
    if choice.kind == "grid":
        grid = db.session.get(Grid, choice.id)
        if grid is None or grid.community_id != community.id:
            raise _assignee_problem(
                _("Please choose a grid of %(community)s.", community=community.name)
            )
        return grid
    unit = db.session.get(Unit, choice.id)
    if unit is None or not roles.unit_serves(unit, community):
        raise _assignee_problem(
            _("Please choose a unit serving %(community)s.", community=community.name)
        )
    return unit


def people_of(item: ResidentRequest) -> list[User]:
    """Whom the current order names: its person, or the members of its grid or unit."""
    if item.assignee_user is not None:
        return [item.assignee_user]
    if item.assignee_grid_id is not None:
        return list(
            db.session.scalars(
                db.select(User)
                .join(GridMember, GridMember.user_id == User.id)
                .where(GridMember.grid_id == item.assignee_grid_id, User.is_active.is_(True))
                .order_by(User.id)
            )
        )
    if item.assignee_unit_id is not None:
        return list(
            db.session.scalars(
                db.select(User)
                .join(UnitMember, UnitMember.user_id == User.id)
                .where(UnitMember.unit_id == item.assignee_unit_id, User.is_active.is_(True))
                .order_by(User.id)
            )
        )
    return []


def secretaries_of(community_id: int) -> list[User]:
    return list(
        db.session.scalars(
            db.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.community_id == community_id,
                Membership.is_secretary.is_(True),
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _others(users: Iterable[User], actor: User | None) -> list[User]:
    return [user for user in users if actor is None or user.id != actor.id]


def _tell_secretaries(item: ResidentRequest, actor: User | None, kind: str, subject, body=""):
    secretaries = _others(secretaries_of(item.community_id), actor)
    notify_all(secretaries, kind, subject, body, link_to(item))


def _tell_resident(item: ResidentRequest, actor: User | None, kind: str, subject, body=""):
    """The resident, when they have an account (and did not act themselves)."""
    if item.requester is not None and (actor is None or item.requester.id != actor.id):
        notify(item.requester, kind, subject, body, link_to(item))


# --- field checks ---------------------------------------------------------------------


def _text(value: str | None, field: str, maximum: int, missing: str | None) -> str | None:
    """The trimmed text; ``missing``: the message when it is required and empty."""
    value = (value or "").strip()
    if not value:
        if missing is not None:
            raise ValidationFailed(missing, {field: [missing]})
        return None
    if len(value) > maximum:
        message = _("At most %(n)d characters.", n=maximum)
        raise ValidationFailed(message, {field: [message]})
    return value


def _require_state(item: ResidentRequest, allowed: Iterable[RequestStatus], message: str) -> None:
    if item.status not in allowed:
        raise InvalidTransition(message)


# --- the verbs ------------------------------------------------------------------------


def dispatch(
    actor: User,
    item: ResidentRequest,
    assignee: AssigneeChoice,
    due_date: date | None,
    note: str | None = None,
) -> ResidentRequest:
    """The secretary sends the request to a person, a grid of the community
    or a unit serving it, to be handled by ``due_date`` (派单)."""
    require_dispatcher(actor, item)
    _require_state(
        item,
        DISPATCHABLE,
        _(
            "This request is “%(status)s”: only a new, handed back or reopened request "
            "can be dispatched.",
            status=item.status.label,
        ),
    )
    target = _resolve(item.community, assignee)
    fields: dict[str, list[str]] = {}
    if due_date is None:
        fields["due_date"] = [_("Please give the date it is due.")]
    elif due_date < today():
        fields["due_date"] = [_("The due date cannot be in the past.")]
    try:
        note = _text(note, "note", NOTE_MAX, None)
    except ValidationFailed as error:
        fields |= error.fields
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)

    event = transition(item, RequestStatus.DISPATCHED, actor, note)
    item.assignee_user = target if isinstance(target, User) else None
    item.assignee_grid = target if isinstance(target, Grid) else None
    item.assignee_unit = target if isinstance(target, Unit) else None
    item.order_due_date = due_date
    item.dispatched_at = event.at
    item.claimed_by = None
    item.claimed_at = None
    item.flagged_at = None
    db.session.flush()
    chosen = assignee_of(item)
    record(
        actor,
        "request.order_assigned",
        item,
        assignee_kind=chosen.kind,
        assignee_id=chosen.id,
        due_date=due_date.isoformat(),
    )
    notify_all(
        _others(people_of(item), actor),
        "order.dispatched",
        _l(
            "New order for %(assignee)s: %(title)s",
            assignee=chosen.name,
            title=item.title,
        ),
        _l(
            "%(community)s, %(location)s. Due %(date)s.",
            community=item.community.name,
            location=item.location,
            date=LazyString(format_date, due_date, "long"),
        ),
        link_to(item),
    )
    _tell_resident(
        item,
        actor,
        "request.dispatched",
        _l("Your request “%(title)s” has been sent to be handled", title=item.title),
        _l("It is due by %(date)s.", date=LazyString(format_date, due_date, "long")),
    )
    return item


def claim(actor: User, item: ResidentRequest) -> ResidentRequest:
    """An assignee takes the order on (接单); of two at once, one wins."""
    require_assignee(actor, item)
    event = transition(item, RequestStatus.CLAIMED, actor)
    item.claimed_by = actor
    item.claimed_at = event.at
    db.session.flush()
    _tell_secretaries(
        item,
        actor,
        "order.claimed",
        _l("%(name)s took on the order “%(title)s”", name=actor.display_name, title=item.title),
    )
    _tell_resident(
        item,
        actor,
        "request.claimed",
        _l("Your request “%(title)s” is being handled", title=item.title),
        _l("%(name)s has taken it on.", name=actor.display_name),
    )
    return item


def hand_back(actor: User, item: ResidentRequest, reason: str | None) -> ResidentRequest:
    """An assignee gives an order they have not claimed back to the
    secretary, with the reason; it is nobody's order until dispatched again
    (the history keeps whose it was)."""
    require_assignee(actor, item)
    _require_state(
        item,
        {RequestStatus.DISPATCHED},
        _(
            "This request is “%(status)s”: only an order not yet taken on can be handed back.",
            status=item.status.label,
        ),
    )
    reason = _text(reason, "reason", REASON_MAX, _("Please say why you hand it back."))
    previous = assignee_of(item)
    transition(item, RequestStatus.HANDED_BACK, actor, reason)
    item.assignee_user = item.assignee_grid = item.assignee_unit = None
    item.order_due_date = None
    item.claimed_by = None
    item.claimed_at = None
    item.flagged_at = None
    db.session.flush()
    _tell_secretaries(
        item,
        actor,
        "order.handed_back",
        _l(
            "%(name)s (%(assignee)s) handed back “%(title)s”",
            name=actor.display_name,
            assignee=previous.name if previous else "",
            title=item.title,
        ),
        reason,
    )
    return item


def add_step(
    actor: User, item: ResidentRequest, note: str | None, photos: Sequence[IO[bytes]] = ()
) -> RequestStep:
    """The one who claimed the order records what was done (办理), with photos."""
    require_handler(actor, item)
    _require_state(
        item,
        {RequestStatus.CLAIMED},
        _("Steps are recorded while the order is being handled."),
    )
    note = _text(note, "note", NOTE_MAX, _("Please say what was done."))
    step = RequestStep(request=item, author=actor, note=note, at=utcnow())
    db.session.add(step)
    db.session.flush()
    for stream in photos:
        request_photos.add_request_photo(actor, item, stream, step=step, field="photos")
    record(actor, "request.step", item, step_id=step.id, photos=len(photos))
    _tell_resident(
        item,
        actor,
        "request.step",
        _l("Progress on your request “%(title)s”", title=item.title),
        note,
    )
    return step


def mark_handled(actor: User, item: ResidentRequest, reply: str | None) -> ResidentRequest:
    """The one who claimed the order marks it handled with the reply to the
    resident (反馈), who is asked to rate it."""
    require_handler(actor, item)
    _require_state(
        item,
        {RequestStatus.CLAIMED},
        _(
            "This request is “%(status)s”: only an order being handled can be marked handled.",
            status=item.status.label,
        ),
    )
    reply = _text(reply, "reply", REPLY_MAX, _("Please write the reply for the resident."))
    event = transition(item, RequestStatus.HANDLED, actor, reply)
    item.reply = reply
    item.replied_at = item.handled_at = event.at
    item.replied_by = actor
    db.session.flush()
    _tell_resident(
        item,
        actor,
        "request.handled",
        _l("Your request “%(title)s” has been handled", title=item.title),
        _l("%(reply)s\n\nPlease rate how satisfied you are.", reply=reply),
    )
    _tell_secretaries(
        item,
        actor,
        "order.handled",
        _l("%(name)s handled the order “%(title)s”", name=actor.display_name, title=item.title),
        reply,
    )
    return item


def _rated_since_ratable(item: ResidentRequest) -> bool:
    """Whether the handling (or answer) last given has a rating already."""
    became_ratable = db.session.scalar(
        db.select(db.func.max(RequestEvent.at)).where(
            RequestEvent.request_id == item.id, RequestEvent.to_status.in_(RATABLE)
        )
    )
    if became_ratable is None:
        return False
    return (
        db.session.scalar(
            db.select(RequestRating.id)
            .where(RequestRating.request_id == item.id, RequestRating.created_at >= became_ratable)
            .limit(1)
        )
        is not None
    )


def rate(
    actor: User, item: ResidentRequest, score: int | None, comment: str | None = None
) -> RequestRating:
    """The resident rates how the request was handled or answered (评价):
    above 2 closes it, 2 or less reopens it to the secretary."""
    require_rater(actor, item)
    if item.status not in RATABLE:
        if _rated_since_ratable(item):
            raise Conflict(_("This handling of the request has been rated already."))
        raise InvalidTransition(
            _(
                "This request is “%(status)s”: it can be rated once it is handled or answered.",
                status=item.status.label,
            )
        )
    if not isinstance(score, int) or isinstance(score, bool) or not SCORE_MIN <= score <= SCORE_MAX:
        message = _("Please choose a score from 1 to 5.")
        raise ValidationFailed(message, {"score": [message]})
    comment = _text(comment, "comment", COMMENT_MAX, None) or ""
    reopen = score <= REOPEN_AT_MOST
    if reopen:
        message = _site_text("Rated %(score)d of 5: %(comment)s", score=score, comment=comment)
    else:
        message = _site_text("Rated %(score)d of 5.", score=score) + (
            f" {comment}" if comment else ""
        )
    event = transition(
        item, RequestStatus.REOPENED if reopen else RequestStatus.CLOSED, actor, message
    )
    rating = RequestRating(
        request=item, rated_by=actor, score=score, comment=comment, created_at=event.at
    )
    db.session.add(rating)
    db.session.flush()
    record(actor, "request.rated", item, score=score, for_resident=item.requester_id != actor.id)
    handler = [item.claimed_by] if item.claimed_by is not None else []
    if reopen:
        notify_all(
            _others([*secretaries_of(item.community_id), *handler], actor),
            "request.reopened",
            _l(
                "“%(title)s” rated %(score)d stars: reopened",
                title=item.title,
                score=score,
            ),
            comment or _l("No comment."),
            link_to(item),
        )
    else:
        notify_all(
            _others(handler, actor),
            "request.rated",
            _l("“%(title)s” rated %(score)d stars", title=item.title, score=score),
            comment,
            link_to(item),
        )
    return rating


# --- rules that run by the clock ------------------------------------------------------


def close_unrated(now: datetime | None = None) -> list[ResidentRequest]:
    """Handled or answered requests left without a rating for
    ``REQUEST_RATING_DAYS`` close (``flask requests close-unrated``)."""
    now = now or utcnow()
    days = rating_days()
    cutoff = now - timedelta(days=days)
    found = list(
        db.session.scalars(
            db.select(ResidentRequest)
            .where(
                or_(
                    and_(
                        ResidentRequest.status == RequestStatus.HANDLED,
                        ResidentRequest.handled_at < cutoff,
                    ),
                    and_(
                        ResidentRequest.status == RequestStatus.ANSWERED,
                        ResidentRequest.replied_at < cutoff,
                    ),
                )
            )
            .order_by(ResidentRequest.id)
        )
    )
    message = _site_text("Closed: no rating within %(days)d days.", days=days)
    closed = []
    for item in found:
        if not item.reply:
            continue  # never answered in words: the secretary closes it
        transition(item, RequestStatus.CLOSED, None, message)
        _tell_resident(
            item,
            None,
            "request.closed",
            _l("Your request “%(title)s” is closed", title=item.title),
            _l("It was closed %(days)d days after it was handled, without a rating.", days=days),
        )
        closed.append(item)
    return closed


def late_order_condition(now: datetime | None = None) -> ColumnElement[bool]:
    """An order left unclaimed for ``ORDER_CLAIM_HOURS``, or past its due
    date and not handled: the secretary's and the street's flags."""
    now = now or utcnow()
    return or_(unclaimed_condition(now), overdue_condition(now))


def unclaimed_condition(now: datetime | None = None) -> ColumnElement[bool]:
    now = now or utcnow()
    return and_(
        ResidentRequest.status == RequestStatus.DISPATCHED,
        ResidentRequest.dispatched_at < now - timedelta(hours=claim_hours()),
    )


def overdue_condition(now: datetime | None = None) -> ColumnElement[bool]:
    return and_(
        ResidentRequest.status.in_(OPEN_ORDER),
        ResidentRequest.order_due_date < today(now),
    )


def is_unclaimed_late(item: ResidentRequest, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        item.status == RequestStatus.DISPATCHED
        and item.dispatched_at is not None
        and item.dispatched_at < now - timedelta(hours=claim_hours())
    )


def is_order_overdue(item: ResidentRequest, now: datetime | None = None) -> bool:
    return (
        item.status in OPEN_ORDER
        and item.order_due_date is not None
        and item.order_due_date < today(now)
    )


def flag_late_orders(now: datetime | None = None) -> list[ResidentRequest]:
    """Tell the secretaries of each late order (``flask requests flag-orders``):
    once, and again only a day after they were last told."""
    now = now or utcnow()
    found = list(
        db.session.scalars(
            db.select(ResidentRequest)
            .where(
                late_order_condition(now),
                or_(
                    ResidentRequest.flagged_at.is_(None),
                    ResidentRequest.flagged_at < now - FLAG_AGAIN_AFTER,
                ),
            )
            .order_by(ResidentRequest.community_id, ResidentRequest.id)
        )
    )
    for item in found:
        chosen = assignee_of(item)
        name = chosen.name if chosen else ""
        if is_order_overdue(item, now):
            subject = _l(
                "Order overdue: “%(title)s” (%(assignee)s)", title=item.title, assignee=name
            )
            body = _l(
                "It was due on %(date)s and is not handled yet.",
                date=LazyString(format_date, item.order_due_date, "long"),
            )
        else:
            subject = _l(
                "Order not taken on: “%(title)s” (%(assignee)s)", title=item.title, assignee=name
            )
            body = _l(
                "Nobody has claimed it %(hours)d hours after it was dispatched.",
                hours=claim_hours(),
            )
        _tell_secretaries(item, None, "order.late", subject, body)
        item.flagged_at = now
    db.session.flush()
    return found


# --- lists ----------------------------------------------------------------------------

ORDERS_PAGE = 20


def my_orders_statement(user: User):
    """The requests dispatched to this person, their grids and their units,
    open orders first (soonest due first), then the others, newest first."""
    grid_ids = roles.grid_ids_of(user)
    unit_ids = roles.unit_ids_of(user)
    mine = [ResidentRequest.assignee_user_id == user.id]
    if grid_ids:
        mine.append(ResidentRequest.assignee_grid_id.in_(grid_ids))
    if unit_ids:
        mine.append(ResidentRequest.assignee_unit_id.in_(unit_ids))
    return (
        db.select(ResidentRequest)
        .where(or_(*mine) if mine else false())
        .order_by(
            case((ResidentRequest.status.in_(OPEN_ORDER), 0), else_=1),
            case((ResidentRequest.status.in_(OPEN_ORDER), ResidentRequest.order_due_date)),
            ResidentRequest.dispatched_at.desc(),
            ResidentRequest.id.desc(),
        )
        .options(
            db.joinedload(ResidentRequest.community),
            db.joinedload(ResidentRequest.assignee_user),
            db.joinedload(ResidentRequest.assignee_grid),
            db.joinedload(ResidentRequest.assignee_unit),
            db.joinedload(ResidentRequest.claimed_by),
            db.selectinload(ResidentRequest.ratings).joinedload(RequestRating.rated_by),
        )
    )


@dataclass
class OrderItem:
    request: ResidentRequest
    assignee: Assignee | None
    is_unclaimed: bool
    is_overdue: bool


def _order_items(found: Pagination, now: datetime) -> Pagination:
    found.items = [
        OrderItem(
            request=item,
            assignee=assignee_of(item),
            is_unclaimed=is_unclaimed_late(item, now),
            is_overdue=is_order_overdue(item, now),
        )
        for item in found.items
    ]
    return found


def my_orders(
    user: User, page: int = 1, per_page: int = ORDERS_PAGE, now: datetime | None = None
) -> Pagination:
    """A page of ``my_orders_statement`` (its ``items`` are ``OrderItem``)."""
    found = db.paginate(
        my_orders_statement(user), page=page, per_page=per_page, max_per_page=200, error_out=False
    )
    return _order_items(found, now or utcnow())


ORDER_FILTERS = ("unclaimed", "overdue")


def community_orders(
    community: Community,
    page: int = 1,
    wanted: str | None = None,
    now: datetime | None = None,
    per_page: int = ORDERS_PAGE,
) -> Pagination:
    """The secretary's open orders, soonest due first; ``wanted``:
    "unclaimed" (not taken on in ``ORDER_CLAIM_HOURS``) or "overdue"."""
    now = now or utcnow()
    statement = (
        db.select(ResidentRequest)
        .where(
            ResidentRequest.community_id == community.id,
            ResidentRequest.status.in_(OPEN_ORDER),
        )
        .order_by(ResidentRequest.order_due_date, ResidentRequest.dispatched_at, ResidentRequest.id)
        .options(
            db.joinedload(ResidentRequest.assignee_user),
            db.joinedload(ResidentRequest.assignee_grid),
            db.joinedload(ResidentRequest.assignee_unit),
            db.joinedload(ResidentRequest.claimed_by),
        )
    )
    if wanted == "unclaimed":
        statement = statement.where(unclaimed_condition(now))
    elif wanted == "overdue":
        statement = statement.where(overdue_condition(now))
    found = db.paginate(statement, page=page, per_page=per_page, error_out=False)
    return _order_items(found, now)


@dataclass
class OrderCounts:
    open: int
    unclaimed: int
    overdue: int


def order_counts(community: Community, now: datetime | None = None) -> OrderCounts:
    now = now or utcnow()
    row = db.session.execute(
        db.select(
            db.func.count(),
            db.func.count().filter(unclaimed_condition(now)),
            db.func.count().filter(overdue_condition(now)),
        ).where(
            ResidentRequest.community_id == community.id,
            ResidentRequest.status.in_(OPEN_ORDER),
        )
    ).one()
    return OrderCounts(open=row[0], unclaimed=row[1], overdue=row[2])


# --- for the request's page and the API -------------------------------------------------


def latest_rating(item: ResidentRequest) -> RequestRating | None:
    return item.ratings[-1] if item.ratings else None
