"""Proxies (委托投票): where the meeting allows them, an attendee with a vote
(the principal) names another attendee of the same meeting to vote for them;
the secretary confirms it, a written authorisation (委托书) attached when
there is one.

The rules, each in one place:

- the meeting allows proxies (``Meeting.allow_proxies``, off by default) and
  is scheduled or in progress;
- the principal has a vote (``Attendance.may_vote``); the proxy is another
  attendee of the same meeting;
- one standing proxy (requested or confirmed) per principal and meeting: the
  partial unique index ``uq_proxy_standing`` holds it in the database too;
- at most ``Meeting.max_proxies_per_person`` standing proxies held by one
  person (counted again when the secretary confirms);
- only a confirmed proxy casts a ballot for the principal
  (``cast_ballot(..., on_behalf_of=principal)``), one ballot per principal
  and poll, each with its own receipt;
- **revocation**: the principal may revoke a requested or confirmed proxy,
  except while a poll of the meeting is open in which the principal is on
  the roll already (voted by themself, by the proxy or assisted): "until
  either of them has voted in that poll". Once that poll has closed, the
  proxy can be revoked again, for the polls to come. The secretary may refuse
  a requested proxy (the same state, ``revoked``); a confirmed one is the
  principal's to revoke.
"""

from __future__ import annotations

from typing import BinaryIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, select

from auth.models import User
from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Attendance, Meeting, MeetingStatus
from meetings.meeting.permissions import can_manage_meeting, require_manager
from meetings.notifications.services import notify, notify_all
from meetings.polls.models import Poll, PollStatus, PollVote
from meetings.projects.uploads import store_photo
from meetings.requests.orders import secretaries_of
from meetings.room.models import Proxy, ProxyStatus

# Meetings in which proxies may be named, confirmed and used.
PROXY_MEETING = {MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS}
STANDING = (ProxyStatus.REQUESTED, ProxyStatus.CONFIRMED)


def get_proxy(proxy_id: int) -> Proxy:
    proxy = db.session.get(Proxy, proxy_id)
    if proxy is None:
        raise NotFound(_("No such proxy."))
    return proxy


def _attendance(meeting: Meeting, user_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.user_id == user_id)
    )


def require_may_name_proxy(actor: User | None, meeting: Meeting) -> None:
    """An attendee with a vote, in a meeting that allows proxies."""
    if not meeting.allow_proxies:
        raise NotAllowed(_("This meeting does not allow voting by proxy."))
    attendance = _attendance(meeting, actor.id) if actor is not None else None
    if attendance is None or not attendance.may_vote:
        raise NotAllowed(_("Only an attendee with a vote may name a proxy."))


def require_proxy_party(actor: User | None, proxy: Proxy) -> None:
    """The principal, the proxy and the secretary see a proxy."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("Only the principal, the proxy and the secretary may see this."))
    if actor.id not in (proxy.principal_id, proxy.proxy_id) and not can_manage_meeting(
        actor, proxy.meeting
    ):
        raise NotAllowed(_("Only the principal, the proxy and the secretary may see this."))


def _standing_of(meeting: Meeting, principal_id: int) -> Proxy | None:
    return db.session.scalar(
        select(Proxy).where(
            Proxy.meeting_id == meeting.id,
            Proxy.principal_id == principal_id,
            Proxy.status.in_(STANDING),
        )
    )


def _held(meeting: Meeting, proxy_user_id: int, statuses, but: Proxy | None = None) -> int:
    statement = (
        select(func.count())
        .select_from(Proxy)
        .where(
            Proxy.meeting_id == meeting.id,
            Proxy.proxy_id == proxy_user_id,
            Proxy.status.in_(statuses),
        )
    )
    if but is not None:
        statement = statement.where(Proxy.id != but.id)
    return db.session.scalar(statement) or 0


def _require_proxy_meeting(meeting: Meeting) -> None:
    if meeting.status not in PROXY_MEETING:
        raise Conflict(_("Proxies are named only for a scheduled meeting or one in progress."))


def _invalid_proxy(message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the marked fields."), {"proxy_user_id": [message]})


def request_proxy(
    actor: User, meeting: Meeting, proxy_user: User | None, document: BinaryIO | None = None
) -> Proxy:
    """The principal names ``proxy_user`` to vote for them; the secretary
    confirms it. ``document``: a photo or scan of the written authorisation."""
    require_may_name_proxy(actor, meeting)
    _require_proxy_meeting(meeting)
    if proxy_user is None:
        raise _invalid_proxy(_("Choose one of the meeting's attendees."))
    if proxy_user.id == actor.id:
        raise _invalid_proxy(_("Choose someone else: you cannot be your own proxy."))
    if _attendance(meeting, proxy_user.id) is None:
        raise _invalid_proxy(_("Choose one of the meeting's attendees."))
    if _standing_of(meeting, actor.id) is not None:
        raise Conflict(_("You have named a proxy already: revoke it first to name another."))
    cap = meeting.max_proxies_per_person
    if _held(meeting, proxy_user.id, STANDING) >= cap:
        raise Conflict(
            _(
                "%(name)s votes for as many people as a proxy may already (%(n)d).",
                name=proxy_user.display_name,
                n=cap,
            )
        )
    stored = None
    if document is not None:
        stored = store_photo(document, "document")
    proxy = Proxy(
        meeting_id=meeting.id,
        principal_id=actor.id,
        proxy_id=proxy_user.id,
        status=ProxyStatus.REQUESTED,
        document_id=stored.id if stored is not None else None,
    )
    db.session.add(proxy)
    db.session.flush()
    record(actor, "proxy.requested", proxy, meeting_id=meeting.id, proxy_user_id=proxy_user.id)
    link = f"/meetings/{meeting.id}"
    notify(
        proxy_user,
        "proxy.named",
        _l("%(name)s asks you to vote for them", name=actor.display_name),
        _l(
            "%(name)s has named you as their proxy in “%(meeting)s”. "
            "Once the secretary confirms it, you may vote for them.",
            name=actor.display_name,
            meeting=meeting.title,
        ),
        link=link,
    )
    notify_all(
        secretaries_of(meeting.community_id),
        "proxy.requested",
        _l("A proxy to confirm: %(meeting)s", meeting=meeting.title),
        _l(
            "%(principal)s has named %(proxy)s to vote for them.",
            principal=actor.display_name,
            proxy=proxy_user.display_name,
        ),
        link=f"/meetings/{meeting.id}/attendees#proxies",
    )
    return proxy


def _lock_meeting(meeting: Meeting) -> None:
    """Confirmations of one meeting take turns (the cap is counted under it)."""
    db.session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())


def confirm_proxy(actor: User, proxy: Proxy) -> Proxy:
    """The secretary confirms a requested proxy: from now on the proxy may
    vote for the principal."""
    meeting = proxy.meeting
    require_manager(actor, meeting)
    _lock_meeting(meeting)
    db.session.refresh(proxy)
    if proxy.status != ProxyStatus.REQUESTED:
        raise InvalidTransition(_("Only a proxy waiting for confirmation can be confirmed."))
    _require_proxy_meeting(meeting)
    if not meeting.allow_proxies:
        raise Conflict(_("This meeting does not allow voting by proxy."))
    principal = _attendance(meeting, proxy.principal_id)
    if principal is None or not principal.may_vote or _attendance(meeting, proxy.proxy_id) is None:
        raise Conflict(_("The principal no longer has a vote, or the proxy no longer attends."))
    cap = meeting.max_proxies_per_person
    if _held(meeting, proxy.proxy_id, (ProxyStatus.CONFIRMED,), but=proxy) >= cap:
        raise Conflict(
            _(
                "%(name)s votes for as many people as a proxy may already (%(n)d).",
                name=proxy.proxy.display_name,
                n=cap,
            )
        )
    proxy.status = ProxyStatus.CONFIRMED
    proxy.confirmed_at = utcnow()
    proxy.confirmed_by_id = actor.id
    db.session.flush()
    record(actor, "proxy.confirmed", proxy, meeting_id=meeting.id)
    notify(
        proxy.proxy,
        "proxy.confirmed",
        _l("You may vote for %(name)s", name=proxy.principal.display_name),
        _l(
            "The secretary has confirmed that you vote for %(name)s in “%(meeting)s”. "
            "Each of your ballots is cast separately: yours, then theirs.",
            name=proxy.principal.display_name,
            meeting=meeting.title,
        ),
        link=f"/meetings/{meeting.id}",
    )
    return proxy


def in_use(proxy: Proxy) -> bool:
    """A poll of the meeting is open in which the principal has voted
    already (themself, through the proxy or assisted)."""
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(PollVote.poll_id == Poll.id, PollVote.user_id == proxy.principal_id)
                .where(Poll.status == PollStatus.OPEN, Poll.id.in_(_meeting_poll_ids(proxy)))
            )
        )
    )


def _meeting_poll_ids(proxy: Proxy):
    return (
        select(Poll.id)
        .join(AgendaItem, AgendaItem.id == Poll.agenda_item_id)
        .where(AgendaItem.meeting_id == proxy.meeting_id)
    )


def revoke_proxy(actor: User, proxy: Proxy) -> Proxy:
    """The principal revokes their proxy (until it is in use, see the
    module); the secretary refuses a requested one."""
    is_principal = getattr(actor, "is_authenticated", False) and actor.id == proxy.principal_id
    if not is_principal:
        require_manager(actor, proxy.meeting)
        if proxy.status != ProxyStatus.REQUESTED:
            raise InvalidTransition(
                _(
                    "The secretary refuses a proxy waiting for confirmation; "
                    "its principal revokes a confirmed one."
                )
            )
    if proxy.status not in STANDING:
        raise InvalidTransition(_("This proxy has been revoked already."))
    if is_principal and in_use(proxy):
        raise Conflict(
            _(
                "A poll in which you have voted is still open: "
                "the proxy can be revoked once it closes."
            )
        )
    was = proxy.status
    proxy.status = ProxyStatus.REVOKED
    proxy.revoked_at = utcnow()
    db.session.flush()
    refused = not is_principal
    record(
        actor, "proxy.revoked", proxy, meeting_id=proxy.meeting_id, was=was.value, refused=refused
    )
    meeting = proxy.meeting
    if refused:
        notify(
            proxy.principal,
            "proxy.refused",
            _l("Your proxy was not confirmed"),
            _l(
                "The secretary did not confirm %(name)s as your proxy in “%(meeting)s”.",
                name=proxy.proxy.display_name,
                meeting=meeting.title,
            ),
            link=f"/meetings/{meeting.id}",
        )
    elif was == ProxyStatus.CONFIRMED:
        notify(
            proxy.proxy,
            "proxy.revoked",
            _l("You no longer vote for %(name)s", name=proxy.principal.display_name),
            _l(
                "%(name)s has revoked your proxy in “%(meeting)s”.",
                name=proxy.principal.display_name,
                meeting=meeting.title,
            ),
            link=f"/meetings/{meeting.id}",
        )
    return proxy


def proxies_statement(meeting: Meeting, user: User | None = None) -> Select:
    """The meeting's proxies, the standing ones first (newest first); with
    ``user``, those in which they are the principal or the proxy."""
    statement = (
        select(Proxy)
        .where(Proxy.meeting_id == meeting.id)
        .options(db.joinedload(Proxy.principal), db.joinedload(Proxy.proxy))
        .order_by(Proxy.status == ProxyStatus.REVOKED, Proxy.requested_at.desc(), Proxy.id.desc())
    )
    if user is not None:
        statement = statement.where((Proxy.principal_id == user.id) | (Proxy.proxy_id == user.id))
    return statement


def proxies_of(meeting: Meeting, user: User | None = None) -> list[Proxy]:
    return list(db.session.scalars(proxies_statement(meeting, user)))


def visible_proxies(actor: User | None, meeting: Meeting) -> Select:
    """The secretary sees all of the meeting's proxies; an attendee theirs."""
    if can_manage_meeting(actor, meeting):
        return proxies_statement(meeting)
    if actor is None or _attendance(meeting, actor.id) is None:
        raise NotAllowed(_("Only the meeting's attendees and its secretary may see this."))
    return proxies_statement(meeting, actor)


def proxies_held_by(user: User | None, meeting: Meeting) -> list[Proxy]:
    """The confirmed proxies ``user`` holds in the meeting, by principal's name."""
    if user is None or not getattr(user, "is_authenticated", False) or not meeting.allow_proxies:
        return []
    held = db.session.scalars(
        select(Proxy)
        .where(
            Proxy.meeting_id == meeting.id,
            Proxy.proxy_id == user.id,
            Proxy.status == ProxyStatus.CONFIRMED,
        )
        .options(db.joinedload(Proxy.principal))
    )
    return sorted(held, key=lambda proxy: (proxy.principal.display_name, proxy.id))


def can_cast_for(actor: User | None, poll: Poll, principal: User | None) -> Proxy | None:
    """The confirmed proxy by which ``actor`` may cast ``principal``'s ballot
    in ``poll``, or None."""
    if actor is None or principal is None or not getattr(actor, "is_authenticated", False):
        return None
    meeting = poll.meeting
    if not meeting.allow_proxies or actor.id == principal.id:
        return None
    return db.session.scalar(
        select(Proxy).where(
            Proxy.meeting_id == meeting.id,
            Proxy.principal_id == principal.id,
            Proxy.proxy_id == actor.id,
            Proxy.status == ProxyStatus.CONFIRMED,
        )
    )


def require_proxy_for(actor: User | None, poll: Poll, principal: User | None) -> Proxy:
    proxy = can_cast_for(actor, poll, principal)
    if proxy is None:
        raise NotAllowed(_("You are not a confirmed proxy of this person in this meeting."))
    return proxy


def get_principal(user_id: int) -> User:
    """The person a proxy votes for, by id: an unknown id is refused as a
    person one is no proxy of (nothing tells whether the account exists)."""
    principal = db.session.get(User, user_id)
    if principal is None:
        raise NotAllowed(_("You are not a confirmed proxy of this person in this meeting."))
    return principal
