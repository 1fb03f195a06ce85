"""Verbs over resident requests. They check permissions and state, flush,
audit and notify; they never commit (``meetings.unit_of_work`` does).

``can_*`` answer yes or no (for templates); each ``require_*`` raises
``NotAllowed`` with the one message for its rule, called by the verbs, by the
views before they read a form and by the API's ``permission_required``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, case, or_

from auth import permissions
from auth.models import Community, Membership, User
from auth.services import list_communities
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.notifications.services import notify
from meetings.organisation import roles
from meetings.organisation.models import Grid, GridMember
from meetings.requests import assignees
from meetings.requests.models import (
    TRANSITIONS,
    WAITING_FOR_SECRETARY,
    RequestCategory,
    RequestChannel,
    RequestEvent,
    RequestStatus,
    RequestStep,
    ResidentRequest,
)

TITLE_MAX = 120
DESCRIPTION_MAX = 4000
LOCATION_MAX = 200
CONTACT_MAX = 100
MESSAGE_MAX = 4000
RESIDENT_NAME_MAX = 60
RESIDENT_PHONE_MAX = 30
BUILDING_MAX = 60
# How a concern reached whoever raises it for a resident (the channels but "app").
INTAKE_CHANNELS = tuple(channel for channel in RequestChannel if channel != RequestChannel.APP)

# The secretary's three answers to a submitted request.
REPLY_ACTIONS: dict[str, RequestStatus] = {
    "accept": RequestStatus.ACCEPTED,
    "answer": RequestStatus.ANSWERED,
    "reject": RequestStatus.REJECTED,
}


# --- lookups -------------------------------------------------------------------


def get_request(request_id: int) -> ResidentRequest:
    item = db.session.get(ResidentRequest, request_id)
    if item is None:
        raise NotFound(_("No such request."))
    return item


def get_visible_request(user: User, request_id: int) -> ResidentRequest:
    """The request, if this user may see it (NotFound, NotAllowed otherwise)."""
    item = get_request(request_id)
    if not can_view(user, item):
        raise NotAllowed(
            _(
                "Only the resident, whoever raised or handles it and the community's "
                "secretary can see this request."
            )
        )
    return item


def get_request_in_full(user: User, request_id: int) -> ResidentRequest:
    """``get_visible_request`` with all the request's page and the API's answer
    show: its people, the order's assignee, history, steps with their photos,
    photos, ratings and meetings, in 7 statements however many steps and
    photos it has (bench/README.md, issue 15: "request with an order (unit)"
    28 → 14 statements at scale 1.0, with ``roles.posts_of`` read once)."""
    item = db.session.get(
        ResidentRequest,
        request_id,
        options=[
            db.joinedload(ResidentRequest.community),
            db.joinedload(ResidentRequest.requester),
            db.joinedload(ResidentRequest.raised_by),
            db.joinedload(ResidentRequest.replied_by),
            db.joinedload(ResidentRequest.claimed_by),
            db.joinedload(ResidentRequest.assignee_user),
            db.joinedload(ResidentRequest.assignee_grid),
            db.joinedload(ResidentRequest.assignee_unit),
            db.selectinload(ResidentRequest.events).joinedload(RequestEvent.actor),
            db.selectinload(ResidentRequest.steps).options(
                db.joinedload(RequestStep.author), db.selectinload(RequestStep.photos)
            ),
            db.selectinload(ResidentRequest.photos),
            db.selectinload(ResidentRequest.ratings),
            db.selectinload(ResidentRequest.meetings),
        ],
    )
    if item is None:
        raise NotFound(_("No such request."))
    return get_visible_request(user, item.id)


def link_to(item: ResidentRequest) -> str:
    """The request's page, for notifications (``requests.detail`` in views.py);
    built by hand because services also run outside a web request."""
    return f"/requests/{item.id}"


def reply_days() -> int:
    return current_app.config["REQUEST_REPLY_DAYS"]


def is_overdue(item: ResidentRequest, now: datetime | None = None) -> bool:
    return item.is_overdue(now or utcnow(), reply_days())


def reply_due_at(item: ResidentRequest) -> datetime:
    return item.reply_due_at(reply_days())


def can_view(user: User | None, item: ResidentRequest) -> bool:
    """The requester, whoever raised it for them (a secretary, a grid worker),
    the community's secretaries, whoever the order names or claimed it
    (a person, a member of the grid or unit), and the staff of the
    community's street office (reading only). ``can_view_condition`` is the
    same rule as a query."""
    if not permissions.is_authenticated(user):
        return False
    return (
        item.requester_id == user.id
        or item.raised_by_id == user.id
        or item.claimed_by_id == user.id
        or permissions.can_manage(user, item.community)
        or assignees.is_assignee(user, item)
        or roles.is_street_staff_of(user, item.community)
    )


@dataclass(frozen=True)
class Places:
    """The grids and units a person works in: read once, for a list of requests."""

    grid_ids: frozenset[int]
    unit_ids: frozenset[int]


def places_of(user: User | None) -> Places:
    return Places(frozenset(roles.grid_ids_of(user)), frozenset(roles.unit_ids_of(user)))


def _is_assignee(user: User, item: ResidentRequest, places: Places | None) -> bool:
    if places is None:
        return assignees.is_assignee(user, item)
    if item.assignee_user_id is not None:
        return item.assignee_user_id == user.id
    if item.assignee_grid_id is not None:
        return item.assignee_grid_id in places.grid_ids
    if item.assignee_unit_id is not None:
        return item.assignee_unit_id in places.unit_ids
    return False


def can_handle(user: User | None, item: ResidentRequest, places: Places | None = None) -> bool:
    """Those who act on the request — its community's secretaries, whoever
    raised it, whoever the order names or claimed it — and so see how to
    reach the resident (their phone, the contact). ``places``: the user's
    (``places_of``), when asked for many requests."""
    if not permissions.is_authenticated(user):
        return False
    return (
        item.raised_by_id == user.id
        or item.claimed_by_id == user.id
        or permissions.can_manage(user, item.community)
        or _is_assignee(user, item, places)
    )


def can_see_contact(user: User | None, item: ResidentRequest, places: Places | None = None) -> bool:
    """The resident themselves and those who handle the request."""
    return (permissions.is_authenticated(user) and item.requester_id == user.id) or can_handle(
        user, item, places
    )


def can_reply(user: User | None, item: ResidentRequest) -> bool:
    return permissions.can_manage(user, item.community)


def require_replier(user: User | None, item: ResidentRequest) -> None:
    if not can_reply(user, item):
        raise NotAllowed(_("Only the community's secretary may reply to requests."))


def communities_for_raising(user: User) -> list[Community]:
    """Where this user may raise a request: their own communities, and for a
    secretary (or administrator) the ones they run, on a resident's behalf."""
    if permissions.is_admin(user):
        return list_communities()
    communities = {m.community.id: m.community for m in user.memberships}
    return sorted(communities.values(), key=lambda c: c.name)


def communities_raising_for_others(user: User, communities: list[Community]) -> set[int]:
    """Of these communities, the ones where this user may raise a request on
    a resident's behalf (those they run; all, for an administrator)."""
    return {c.id for c in communities if permissions.can_manage(user, c)}


def can_take_in(user: User | None, community: Community) -> bool:
    """Raise a request for a resident (with an account or without one): the
    community's secretaries (and administrators) and its grid workers."""
    return permissions.can_manage(user, community) or roles.is_grid_worker(user, community)


def require_intake(user: User | None, community: Community) -> None:
    if not can_take_in(user, community):
        raise NotAllowed(
            _(
                "Only the community's secretary and its grid workers may raise a request "
                "for a resident."
            )
        )


def intake_communities(user: User | None) -> list[Community]:
    """Where this user may raise requests for residents, by name: the
    communities they run and those where they work in a grid (all, for an
    administrator)."""
    if not permissions.is_authenticated(user):
        return []
    if permissions.is_admin(user):
        return list_communities()
    found = {c.id: c for c in user.secretary_of}
    for community in db.session.scalars(
        db.select(Community)
        .join(Grid, Grid.community_id == Community.id)
        .join(GridMember, GridMember.grid_id == Grid.id)
        .where(GridMember.user_id == user.id)
    ):
        found[community.id] = community
    return sorted(found.values(), key=lambda c: (c.name, c.id))


def may_take_in_somewhere(user: User | None) -> bool:
    """Whether "log a concern for a resident" is for this user at all."""
    if not permissions.is_authenticated(user):
        return False
    return permissions.manages_any_community(user) or bool(roles.grid_ids_of(user))


MY_REQUESTS_PAGE = 20


def my_requests(user: User, page: int = 1, per_page: int = MY_REQUESTS_PAGE) -> Pagination:
    """A page of the requests raised by this resident or for them, and those
    they raised for other residents (a secretary, a grid worker), newest first."""
    statement = (
        db.select(ResidentRequest)
        .where(
            or_(ResidentRequest.requester_id == user.id, ResidentRequest.raised_by_id == user.id)
        )
        .order_by(ResidentRequest.created_at.desc(), ResidentRequest.id.desc())
        .options(db.joinedload(ResidentRequest.community), db.joinedload(ResidentRequest.requester))
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


@dataclass
class InboxItem:
    request: ResidentRequest
    is_overdue: bool
    due_at: datetime
    age: timedelta


def _overdue_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=reply_days())


INBOX_PAGE = 20


def inbox(
    community: Community,
    status: RequestStatus | None = None,
    overdue_only: bool = False,
    now: datetime | None = None,
    *,
    page: int = 1,
    per_page: int = INBOX_PAGE,
    waiting_only: bool = False,
) -> Pagination:
    """A page of the secretary's list: requests waiting for a reply first,
    oldest first within each group, the overdue ones marked (its ``items``
    are ``InboxItem``)."""
    now = now or utcnow()
    statement = (
        db.select(ResidentRequest)
        .where(ResidentRequest.community_id == community.id)
        .options(db.joinedload(ResidentRequest.requester), db.joinedload(ResidentRequest.community))
    )
    if status is not None:
        # one status: in the order of the index (community, status, created_at)
        statement = statement.where(ResidentRequest.status == status).order_by(
            ResidentRequest.created_at, ResidentRequest.id
        )
    else:
        statement = statement.order_by(
            case((ResidentRequest.status.in_(WAITING_FOR_SECRETARY), 0), else_=1),
            ResidentRequest.created_at,
            ResidentRequest.id,
        )
    if waiting_only:
        # new, handed back or reopened: what the secretary has to answer
        statement = statement.where(ResidentRequest.status.in_(WAITING_FOR_SECRETARY))
    if overdue_only:
        statement = statement.where(
            ResidentRequest.status == RequestStatus.SUBMITTED,
            ResidentRequest.created_at < _overdue_cutoff(now),
        )
    found = db.paginate(statement, page=page, per_page=per_page, error_out=False)
    days = reply_days()
    found.items = [
        InboxItem(
            request=item,
            is_overdue=item.is_overdue(now, days),
            due_at=item.reply_due_at(days),
            age=now - item.created_at,
        )
        for item in found.items
    ]
    return found


@dataclass
class InboxCounts:
    waiting: int
    overdue: int


def inbox_counts(community: Community, now: datetime | None = None) -> InboxCounts:
    now = now or utcnow()
    waiting = ResidentRequest.status.in_(WAITING_FOR_SECRETARY)
    new = ResidentRequest.status == RequestStatus.SUBMITTED
    row = db.session.execute(
        db.select(
            db.func.count().filter(waiting),
            db.func.count().filter(new, ResidentRequest.created_at < _overdue_cutoff(now)),
        ).where(ResidentRequest.community_id == community.id)
    ).one()
    return InboxCounts(waiting=row[0], overdue=row[1])


def can_view_condition(user: User) -> ColumnElement[bool]:
    """``can_view`` as a WHERE condition on ``ResidentRequest`` (not for
    administrators: they see all). The person's places are read first
    (``roles.posts_of``, once per request) so that the condition is an OR of
    plain comparisons of indexed columns, which PostgreSQL answers by
    combining the indexes (BitmapOr) — an OR of subqueries read every
    request (bench/README.md, issue 15: the count of "API requests" for a
    secretary, 12.4 ms → 3.1 ms at scale 1.0, with the index on
    ``claimed_by_id``)."""
    posts = roles.posts_of(user)
    communities = {m.community_id for m in user.memberships if m.is_secretary}
    # the staff of a street office see their communities' requests (reading only)
    communities |= roles.community_ids_of_streets(set(posts.street_ids))
    conditions = [
        ResidentRequest.requester_id == user.id,
        ResidentRequest.raised_by_id == user.id,
        ResidentRequest.claimed_by_id == user.id,
        ResidentRequest.assignee_user_id == user.id,
    ]
    if communities:
        conditions.append(ResidentRequest.community_id.in_(sorted(communities)))
    if posts.grid_ids:
        conditions.append(ResidentRequest.assignee_grid_id.in_(sorted(posts.grid_ids)))
    if posts.unit_ids:
        conditions.append(ResidentRequest.assignee_unit_id.in_(sorted(posts.unit_ids)))
    return or_(*conditions)


def visible_requests(
    user: User, community_id: int | None = None, status: RequestStatus | None = None
) -> Select:
    """A query of the requests this user may see (``can_view_condition``),
    newest first — for the API's list."""
    statement = db.select(ResidentRequest)
    if not permissions.is_admin(user):
        statement = statement.where(can_view_condition(user))
    if community_id is not None:
        statement = statement.where(ResidentRequest.community_id == community_id)
    if status is not None:
        statement = statement.where(ResidentRequest.status == status)
    return statement.order_by(ResidentRequest.created_at.desc(), ResidentRequest.id.desc()).options(
        db.joinedload(ResidentRequest.requester),
        db.joinedload(ResidentRequest.raised_by),
        db.joinedload(ResidentRequest.replied_by),
        db.joinedload(ResidentRequest.community),
        # ``meeting_ids``: the meetings of the whole page in one query
        db.selectinload(ResidentRequest.meetings),
    )


# --- raising a request -----------------------------------------------------------


@dataclass
class RequestDraft:
    title: str
    description: str
    category: str
    location: str
    contact: str | None = None


@dataclass
class ResidentDetails:
    """A resident without an account, as whoever heard them names them."""

    name: str
    phone: str | None = None
    building: str | None = None


def _draft_problems(draft: RequestDraft) -> tuple[RequestDraft, dict[str, list[str]]]:
    """Trimmed fields and a message per field that is wrong."""
    title = (draft.title or "").strip()
    description = (draft.description or "").strip()
    location = (draft.location or "").strip()
    contact = (draft.contact or "").strip() or None
    fields: dict[str, list[str]] = {}
    if not title:
        fields["title"] = [_("Please say in a few words what it is about.")]
    elif len(title) > TITLE_MAX:
        fields["title"] = [_("At most %(n)d characters.", n=TITLE_MAX)]
    if not description:
        fields["description"] = [_("Please describe the problem.")]
    elif len(description) > DESCRIPTION_MAX:
        fields["description"] = [_("At most %(n)d characters.", n=DESCRIPTION_MAX)]
    if draft.category not in set(RequestCategory):
        fields["category"] = [_("Please choose a category.")]
    if not location:
        fields["location"] = [_("Please say where it is.")]
    elif len(location) > LOCATION_MAX:
        fields["location"] = [_("At most %(n)d characters.", n=LOCATION_MAX)]
    if contact is not None and len(contact) > CONTACT_MAX:
        fields["contact"] = [_("At most %(n)d characters.", n=CONTACT_MAX)]
    category = RequestCategory(draft.category) if "category" not in fields else draft.category
    return RequestDraft(title, description, category, location, contact), fields


def _refuse_if(fields: dict[str, list[str]]) -> None:
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields)


def _checked(draft: RequestDraft) -> RequestDraft:
    """Trimmed fields, or ValidationFailed with a message per field."""
    draft, fields = _draft_problems(draft)
    _refuse_if(fields)
    return draft


def _channel(
    channel: RequestChannel | str | None, fields: dict[str, list[str]], *, on_behalf: bool
) -> RequestChannel | None:
    """The channel, or a message in ``fields``: raised for a resident, say
    how it reached you (anything but "app"); raised by the resident, any,
    "app" when not said."""
    if channel is None or channel == "":
        if not on_behalf:
            return RequestChannel.APP
        fields["channel"] = [_("Please say how the concern reached you.")]
        return None
    if channel not in set(RequestChannel) or (on_behalf and channel == RequestChannel.APP):
        fields["channel"] = [_("Please say how the concern reached you.")]
        return None
    return RequestChannel(channel)


PHONE_CHARACTERS = frozenset("0123456789+-() ")


def _resident_problems(resident: ResidentDetails, fields: dict[str, list[str]]) -> ResidentDetails:
    name = (resident.name or "").strip()
    phone = (resident.phone or "").strip() or None
    building = (resident.building or "").strip() or None
    if not name:
        fields["resident_name"] = [_("Please give the resident's name, e.g. “王阿姨”.")]
    elif len(name) > RESIDENT_NAME_MAX:
        fields["resident_name"] = [_("At most %(n)d characters.", n=RESIDENT_NAME_MAX)]
    if phone is not None:
        if len(phone) > RESIDENT_PHONE_MAX:
            fields["resident_phone"] = [_("At most %(n)d characters.", n=RESIDENT_PHONE_MAX)]
        elif not set(phone) <= PHONE_CHARACTERS or not any(c.isdigit() for c in phone):
            fields["resident_phone"] = [
                _("A phone number has digits only (spaces, +, - and brackets may separate them).")
            ]
    if building is not None and len(building) > BUILDING_MAX:
        fields["building"] = [_("At most %(n)d characters.", n=BUILDING_MAX)]
    return ResidentDetails(name, phone, building)


def _create(
    community: Community,
    draft: RequestDraft,
    *,
    actor: User,
    channel: RequestChannel,
    requester: User | None = None,
    resident: ResidentDetails | None = None,
) -> ResidentRequest:
    on_behalf = requester is None or requester.id != actor.id
    item = ResidentRequest(
        community=community,
        requester=requester,
        resident_name=resident.name if resident else None,
        resident_phone=resident.phone if resident else None,
        building=resident.building if resident else None,
        channel=channel,
        raised_by=actor if on_behalf else None,
        title=draft.title,
        description=draft.description,
        category=draft.category,
        location=draft.location,
        contact=draft.contact,
        status=RequestStatus.SUBMITTED,
        created_at=utcnow(),
    )
    db.session.add(item)
    db.session.add(
        RequestEvent(
            request=item,
            at=item.created_at,
            actor=actor,
            from_status=None,
            to_status=RequestStatus.SUBMITTED,
        )
    )
    db.session.flush()
    record(
        actor,
        "request.submitted",
        item,
        community_id=community.id,
        requester_id=requester.id if requester else None,
        on_behalf=on_behalf,
        channel=channel.value,
    )
    _notify_secretaries(item, actor)
    return item


def _notify_secretaries(item: ResidentRequest, actor: User) -> None:
    """Tell the community's secretaries (read alone, not with every member)."""
    secretaries = db.session.scalars(
        db.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.community_id == item.community_id,
            Membership.is_secretary.is_(True),
            User.id != actor.id,
        )
        .order_by(User.display_name, User.id)
    ).all()
    for secretary in secretaries:
        notify(
            secretary,
            "request.submitted",
            _l(
                "New request in %(community)s: %(title)s",
                community=item.community.name,
                title=item.title,
            ),
            _l("Location: %(location)s", location=item.location),
            link_to(item),
        )


def raise_request(
    actor: User,
    community: Community,
    draft: RequestDraft,
    channel: RequestChannel | str | None = None,
) -> ResidentRequest:
    """A resident raises a request in their own community (``channel``:
    "app" unless they came by another way, say the QR code on their building)."""
    if not permissions.is_member(actor, community):
        raise NotAllowed(_("You can raise requests only in your own community."))
    draft, fields = _draft_problems(draft)
    chosen = _channel(channel, fields, on_behalf=False)
    _refuse_if(fields)
    return _create(community, draft, actor=actor, channel=chosen, requester=actor)


def raise_on_behalf(
    actor: User,
    community: Community,
    resident: User,
    draft: RequestDraft,
    channel: RequestChannel | str | None = RequestChannel.WALK_IN,
) -> ResidentRequest:
    """A secretary or grid worker types in the request of a resident with an
    account, who follows it as their own. ``channel``: how it reached them
    (a walk-in, when not said: the secretary's desk)."""
    require_intake(actor, community)
    draft, fields = _draft_problems(draft)
    chosen = _channel(channel, fields, on_behalf=True)
    if not permissions.is_member(resident, community):
        fields["requester_id"] = [
            _(
                "%(name)s is not a member of %(community)s.",
                name=resident.display_name,
                community=community.name,
            )
        ]
    if "requester_id" in fields:
        # the one problem a form of any shape must show
        raise ValidationFailed(fields["requester_id"][0], fields)
    _refuse_if(fields)
    item = _create(community, draft, actor=actor, channel=chosen, requester=resident)
    notify(
        resident,
        "request.raised_for_you",
        _l(
            "%(name)s raised the request “%(title)s” for you",
            name=actor.display_name,
            title=item.title,
        ),
        _l("You can follow it under “My requests”."),
        link_to(item),
    )
    return item


def raise_for_resident(
    actor: User,
    community: Community,
    resident: ResidentDetails,
    draft: RequestDraft,
    channel: RequestChannel | str | None,
) -> ResidentRequest:
    """A secretary or grid worker logs the concern of a resident without an
    account — named, with a phone number and building when known — heard
    in a WeChat group, on the phone, on a home visit… (``channel``, needed).
    Nobody is notified but the secretaries: the resident has no account, the
    one who raised it follows it."""
    require_intake(actor, community)
    draft, fields = _draft_problems(draft)
    resident = _resident_problems(resident, fields)
    chosen = _channel(channel, fields, on_behalf=True)
    _refuse_if(fields)
    return _create(community, draft, actor=actor, channel=chosen, resident=resident)


# --- state changes -----------------------------------------------------------------


def notify_resident(item: ResidentRequest, kind: str, subject, body="", link=None) -> None:
    """Tell the resident of a change, when they have an account (one without
    hears it from whoever raised the request for them, who sees its page)."""
    if item.requester is not None:
        notify(item.requester, kind, subject, body, link)


def transition(
    item: ResidentRequest, to: RequestStatus, actor: User | None, message: str | None = None
) -> RequestEvent:
    """Move a request to its next state and keep the step in its history and
    the audit log. Callers check permissions and notify.

    The change is a guarded UPDATE (``… WHERE status = <current>``), so of two
    secretaries replying at the same moment only one succeeds.
    """
    to = RequestStatus(to)
    current = item.status
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(
            _(
                "This request is “%(current)s”: it cannot become “%(to)s”.",
                current=current.label,
                to=to.label,
            )
        )
    if to == RequestStatus.CLOSED and not item.reply:
        raise InvalidTransition(_("A request is closed only after the resident has had a reply."))
    now = utcnow()
    result = db.session.execute(
        db.update(ResidentRequest)
        .where(ResidentRequest.id == item.id, ResidentRequest.status == current)
        .values(status=to, **_moments(item, current, to, now))
        .execution_options(synchronize_session="evaluate")
    )
    if result.rowcount != 1:
        raise InvalidTransition(
            _("Someone else changed this request just now. Please look at it again.")
        )
    event = RequestEvent(
        request=item, at=now, actor=actor, from_status=current, to_status=to, message=message
    )
    db.session.add(event)
    db.session.flush()
    record(actor, f"request.{to.value}", item, from_status=current.value, message=message)
    return event


def _moments(
    item: ResidentRequest, current: RequestStatus, to: RequestStatus, now: datetime
) -> dict[str, datetime]:
    """The moments a step sets on the request (its first reply, first close,
    last reopening): what the statistics count, the same as its events say."""
    moments = {}
    if current == RequestStatus.SUBMITTED and item.first_replied_at is None:
        moments["first_replied_at"] = now
    if to == RequestStatus.CLOSED and item.closed_at is None:
        moments["closed_at"] = now
    if to == RequestStatus.REOPENED:
        moments["reopened_at"] = now
    return moments


_REPLY_SUBJECTS = {
    RequestStatus.ACCEPTED: lambda title: _l(
        "Your request “%(title)s” was accepted as a topic for a consultation meeting",
        title=title,
    ),
    RequestStatus.ANSWERED: lambda title: _l(
        "Your request “%(title)s” has been answered", title=title
    ),
    RequestStatus.REJECTED: lambda title: _l(
        "Your request “%(title)s” was not accepted", title=title
    ),
}


def reply_to_request(
    actor: User, item: ResidentRequest, action: str, message: str | None
) -> ResidentRequest:
    """The secretary's answer to a request waiting for them: ``accept`` it as
    a topic, ``answer`` it directly (a message is needed) or, while it is
    new, ``reject`` it (a reason is needed). A request handed back by its
    assignee or reopened by a low rating is accepted or answered the same
    way (or dispatched again). The requester is notified."""
    require_replier(actor, item)
    to = REPLY_ACTIONS.get(action)
    if to is None:
        message_text = _("Please choose accept, answer or reject.")
        raise ValidationFailed(message_text, {"action": [message_text]})
    if item.status not in WAITING_FOR_SECRETARY:
        raise InvalidTransition(
            _(
                "This request is already “%(status)s”: only a request waiting for a reply "
                "can be accepted, answered or rejected.",
                status=item.status.label,
            )
        )
    if to not in TRANSITIONS[item.status]:
        problem = _("Only a new request can be declined; this one can be accepted or answered.")
        raise InvalidTransition(problem, {"action": [problem]})
    message = (message or "").strip() or None
    if message is None and to == RequestStatus.ANSWERED:
        problem = _("Please write the answer for the resident.")
        raise ValidationFailed(problem, {"message": [problem]})
    if message is None and to == RequestStatus.REJECTED:
        problem = _("Please give the resident the reason.")
        raise ValidationFailed(problem, {"message": [problem]})
    if message is not None and len(message) > MESSAGE_MAX:
        problem = _("At most %(n)d characters.", n=MESSAGE_MAX)
        raise ValidationFailed(problem, {"message": [problem]})

    event = transition(item, to, actor, message)
    item.reply = message
    item.replied_at = event.at
    item.replied_by = actor
    db.session.flush()
    notify_resident(
        item,
        f"request.{to.value}",
        _REPLY_SUBJECTS[to](item.title),
        message
        or _l("It will be discussed at a consultation meeting. You will be told when it is set."),
        link_to(item),
    )
    return item


# Later issues: mark_scheduled / mark_deliberated / mark_resolved / close, each
# a permission check plus ``transition`` and a notification to the requester.
