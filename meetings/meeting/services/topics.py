"""A meeting's topics: the requests (居民诉求) it deliberates, and how their
states follow the meeting's — accepted → scheduled when it is scheduled,
→ deliberated when it closes, back when it is cancelled or they are taken off."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from auth.models import Community, User
from meetings.extensions import db
from meetings.meeting.models import Meeting, MeetingStatus, meeting_topic
from meetings.meeting.services.common import link_to, place_text, when_text
from meetings.notifications.services import notify
from meetings.requests import services as request_services
from meetings.requests.models import RequestStatus, ResidentRequest

# A request can be a topic once accepted; it stays one while meetings deal with it.
TOPIC_STATUSES = frozenset(
    {RequestStatus.ACCEPTED, RequestStatus.SCHEDULED, RequestStatus.DELIBERATED}
)
# Meetings that hold their topics "scheduled".
LIVE_STATUSES = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS})


def candidate_topics(community: Community, meeting: Meeting | None = None) -> list[ResidentRequest]:
    """Requests that may become topics: accepted (or already under
    deliberation) requests of the community, and the meeting's own topics."""
    statement = (
        db.select(ResidentRequest)
        .where(
            ResidentRequest.community_id == community.id,
            ResidentRequest.status.in_([status.value for status in TOPIC_STATUSES]),
        )
        .order_by(ResidentRequest.created_at, ResidentRequest.id)
    )
    candidates = list(db.session.scalars(statement))
    if meeting is not None:
        candidates += [topic for topic in meeting.topics if topic not in candidates]
    return candidates


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
    notify(
        item.requester,
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
