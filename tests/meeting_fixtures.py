"""Fixtures of the meeting tests, loaded by ``pytest_plugins = ["meeting_fixtures"]``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from meeting_helpers import PATH, next_week

from auth.models import Community, User
from meetings.meeting import services
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.requests import services as request_services
from meetings.requests.models import ResidentRequest


@pytest.fixture
def in_request(app):
    """Services called directly render messages for the current request's
    user, so give them one (reading English, the messages' source text)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def make_meeting(db, community, secretary) -> Callable[..., Meeting]:
    """``make_meeting(status="scheduled", invite={user: "resident_rep"}, …)``:
    a meeting built through the services, brought to ``status``."""

    def make(
        status: MeetingStatus | str = MeetingStatus.DRAFT,
        *,
        by: User | None = None,
        community: Community = community,
        invite: dict[User, str] | None = None,
        reason: str = "台风预警，改期举行",
        **values,
    ) -> Meeting:
        actor = by or secretary
        starts_at = values.pop("starts_at", next_week())
        meeting = services.create_meeting(
            actor,
            community,
            **{
                "title": "活动室改造出新协商议事会",
                "starts_at": starts_at,
                "ends_at": values.pop("ends_at", starts_at + timedelta(hours=2)),
                "location": "优山美地花园182幢一层社区活动室",
                "description": "商量活动室地板、墙面和卫生间的改造。",
            }
            | values,
        )
        if invite:
            services.invite(
                actor,
                meeting,
                [services.Invitation(user, role) for user, role in invite.items()],
            )
        for step in PATH[MeetingStatus(status)]:
            services.transition_meeting(actor, meeting, step, reason)
        db.session.flush()
        return meeting

    return make


@pytest.fixture
def make_member(make_user, community) -> Callable[..., User]:
    def make(name: str, *, of: Community = community, **kwargs) -> User:
        return make_user(community=of, display_name=name, **kwargs)

    return make


@pytest.fixture
def attendee(make_member) -> User:
    """A member of the community invited to the meetings of the tests that use it."""
    return make_member("张秀英")


@pytest.fixture
def accepted_request(db, resident, secretary, community) -> ResidentRequest:
    """A resident's request, accepted by the secretary as a topic."""
    item = request_services.raise_request(
        resident,
        community,
        request_services.RequestDraft(
            title="活动室地板磨损",
            description="182幢一层活动室的地板磨损严重，容易打滑。",
            category="public_facilities",
            location="优山美地花园182幢一层",
        ),
    )
    request_services.reply_to_request(secretary, item, "accept", "纳入协商议事会议题")
    db.session.flush()
    return item
