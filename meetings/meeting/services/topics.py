"""A meeting's topics: the requests (居民诉求) it deliberates, and how their
states follow the meeting's — accepted → scheduled when it is scheduled,
→ deliberated when it closes, back when it is cancelled or they are taken off."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, or_

from auth.models import Community, User
from meetings.dbtypes import MAX_ID
from meetings.extensions import db
from meetings.main.people import QUERY_MAX, like_pattern
from meetings.meeting.models import Meeting, MeetingStatus, meeting_topic
from meetings.meeting.services.common import link_to, place_text, when_text
from meetings.requests import services as request_services
from meetings.requests.models import RequestStatus, ResidentRequest

# A request can be a topic once accepted; it stays one while meetings deal with it.
TOPIC_STATUSES = frozenset(
    {RequestStatus.ACCEPTED, RequestStatus.SCHEDULED, RequestStatus.DELIBERATED}
)
# Meetings that hold their topics "scheduled".
LIVE_STATUSES = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS})


# How many candidate topics the meeting form lists as checkboxes; the others
# are found by the topic search (``find_topics``) or typed by number.
TOPIC_CHOICES = 20


def _candidates(community: Community):
    return db.select(ResidentRequest).where(
        ResidentRequest.community_id == community.id,
        ResidentRequest.status.in_([status.value for status in TOPIC_STATUSES]),
    )


def candidate_topics(
    community: Community, meeting: Meeting | None = None, limit: int = TOPIC_CHOICES
) -> tuple[list[ResidentRequest], bool]:
    """Requests that may become topics, for the meeting form's checkboxes: the
    meeting's own topics, then accepted requests waiting for a meeting and
    requests already deliberated, oldest first — at most ``limit`` besides the
    meeting's own, and whether there are more."""
    waiting_first = case((ResidentRequest.status == RequestStatus.ACCEPTED, 0), else_=1)
    statement = _candidates(community).order_by(
        waiting_first, ResidentRequest.created_at, ResidentRequest.id
    )
    current = list(meeting.topics) if meeting is not None else []
    if current:
        statement = statement.where(ResidentRequest.id.not_in([topic.id for topic in current]))
    found = list(db.session.scalars(statement.limit(limit + 1)))
    return current + found[:limit], len(found) > limit


def find_topics(
    community: Community, query: str | None, limit: int = TOPIC_CHOICES
) -> tuple[list[ResidentRequest], bool]:
    """The topic search: requests that may become topics whose title contains
    the query, or whose number it is; at most ``limit``, and whether there are more."""
    text = " ".join((query or "").split())[:QUERY_MAX].lstrip("#")
    statement = _candidates(community)
    if text:
        matches = ResidentRequest.title.ilike(like_pattern(text), escape="\\")
        if text.isdigit() and int(text) <= MAX_ID:
            matches = or_(matches, ResidentRequest.id == int(text))
        statement = statement.where(matches)
    found = list(
        db.session.scalars(
            statement.order_by(ResidentRequest.created_at.desc(), ResidentRequest.id.desc()).limit(
                limit + 1
            )
        )
    )
    return found[:limit], len(found) > limit


def topics_by_ids(community: Community, ids: list[int]) -> list[ResidentRequest]:
    """These requests of the community, by id, in one query."""
    return list(
        db.session.scalars(
            db.select(ResidentRequest)
            .where(ResidentRequest.community_id == community.id, ResidentRequest.id.in_(ids))
            .order_by(ResidentRequest.id)
        )
    )


def topics_or_error(
    community: Community,
    request_ids: Iterable[int],
    current: list[ResidentRequest],
    fields: dict[str, list[str]],
) -> list[ResidentRequest]:
    """The requests of these ids that may be the meeting's topics; problems go
    into ``fields`` under ``request_ids``."""
    wanted = list(dict.fromkeys(request_ids))
    if not wanted:
        return []
    found = {
        item.id: item
        for item in db.session.scalars(
            db.select(ResidentRequest).where(ResidentRequest.id.in_(wanted))
        )
    }
    problems = []
    topics = []
    for request_id in wanted:
        item = found.get(request_id)
        if item is None or item.community_id != community.id:
            problems.append(_("Request %(id)d is not a request of this community.", id=request_id))
        elif item.status not in TOPIC_STATUSES and item not in current:
            problems.append(
                _(
                    "Request “%(title)s” is “%(status)s”: only accepted requests become topics.",
                    title=item.title,
                    status=item.status.label,
                )
            )
        else:
            topics.append(item)
    if problems:
        fields["request_ids"] = problems
    return topics


# --- states of the requests -----------------------------------------------------------


def on_other_meeting(item: ResidentRequest, meeting: Meeting, statuses: Iterable) -> bool:
    return (
        db.session.scalar(
            db.select(Meeting.id)
            .join(meeting_topic, meeting_topic.c.meeting_id == Meeting.id)
            .where(
                meeting_topic.c.request_id == item.id,
                Meeting.id != meeting.id,
                Meeting.status.in_([status.value for status in statuses]),
            )
            .limit(1)
        )
        is not None
    )


def schedule_topic(actor: User | None, meeting: Meeting, item: ResidentRequest) -> None:
    """An accepted (or earlier deliberated) request goes on a scheduled meeting."""
    if item.status not in (RequestStatus.ACCEPTED, RequestStatus.DELIBERATED):
        return
    request_services.transition(
        item,
        RequestStatus.SCHEDULED,
        actor,
        _("On the agenda of “%(title)s”.", title=meeting.title),
    )
    # a resident without an account hears it from whoever raised the request
    request_services.notify_resident(
        item,
        "request.scheduled",
        _l(
            "Your request “%(title)s” will be discussed at a consultation meeting",
            title=item.title,
        ),
        _l(
            "“%(meeting)s”, %(when)s, %(place)s.",
            meeting=meeting.title,
            when=when_text(meeting),
            place=place_text(meeting),
        ),
        link_to(meeting),
    )


def unschedule_topic(actor: User | None, meeting: Meeting, item: ResidentRequest) -> None:
    """Off this meeting (removed, or the meeting was cancelled): back to where
    it was, unless another scheduled meeting still has it."""
    if item.status != RequestStatus.SCHEDULED or on_other_meeting(item, meeting, LIVE_STATUSES):
        return
    discussed = on_other_meeting(
        item, meeting, {MeetingStatus.CLOSED, MeetingStatus.MINUTES_PUBLISHED}
    )
    request_services.transition(
        item,
        RequestStatus.DELIBERATED if discussed else RequestStatus.ACCEPTED,
        actor,
        _("No longer on the agenda of “%(title)s”.", title=meeting.title),
    )


def deliberate_topics(actor: User | None, meeting: Meeting) -> None:
    """The meeting is over: its scheduled topics have been discussed."""
    for item in meeting.topics:
        if item.status == RequestStatus.SCHEDULED:
            request_services.transition(
                item,
                RequestStatus.DELIBERATED,
                actor,
                _("Discussed at “%(title)s”.", title=meeting.title),
            )


def set_topics(actor: User | None, meeting: Meeting, topics: list[ResidentRequest]) -> None:
    old, new = list(meeting.topics), topics
    meeting.topics = list(new)
    # agenda items deal only with the meeting's topics
    for item in meeting.agenda_items:
        if any(request not in new for request in item.requests):
            item.requests = [request for request in item.requests if request in new]
    db.session.flush()
    if meeting.status in LIVE_STATUSES:
        for item in new:
            if item not in old:
                schedule_topic(actor, meeting, item)
        for item in old:
            if item not in new:
                unschedule_topic(actor, meeting, item)
