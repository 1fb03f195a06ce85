"""A community's history that grows: ``History.grow(n)`` adds ``n`` more of
everything the lists show (members, requests, meetings with minutes,
polls waiting for a vote, projects, notifications), built through the
services as the app builds them. For the tests that count a page's queries
at two sizes (``test_list_queries.py``)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from meeting_helpers import next_week
from request_helpers import raise_request

from auth.models import Community, User
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes import services as minutes_services
from meetings.notifications import services as notification_services
from meetings.polls import services as poll_services
from meetings.projects import services as project_services
from meetings.requests import services as request_services

_numbers = itertools.count(1)


class History:
    """One community's growing past. ``voter`` is invited to every meeting
    and on the roll of every poll; ``resident`` raises every request."""

    def __init__(
        self, community: Community, secretary: User, resident: User, voter: User, make_member
    ):
        self.community = community
        self.secretary = secretary
        self.resident = resident
        self.voter = voter
        self.make_member = make_member
        self.meetings: list[Meeting] = []

    def grow(self, n: int) -> None:
        for _ in range(n):
            self._add_one()
        db.session.flush()

    def _meeting(self, status: MeetingStatus, number: int, request_ids=()) -> Meeting:
        starts_at = next_week() + timedelta(days=number)
        meeting = meeting_services.create_meeting(
            self.secretary,
            self.community,
            title=f"第{number}次协商议事会",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            location="社区活动室",
            description="",
            request_ids=list(request_ids),
            host_id=self.secretary.id,
            recorder_id=self.voter.id,
        )
        member = self.make_member(f"居民{number}")
        meeting_services.invite(
            self.secretary,
            meeting,
            [
                meeting_services.Invitation(self.voter, "resident_rep"),
                meeting_services.Invitation(member, "observer"),
            ],
        )
        meeting_services.add_agenda_item(self.secretary, meeting, f"议题{number}")
        steps = [MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED]
        for step in steps[: steps.index(status) + 1] if status in steps else []:
            meeting_services.transition_meeting(self.secretary, meeting, step)
        self.meetings.append(meeting)
        return meeting

    def _add_one(self) -> None:
        number = next(_numbers)
        secretary = self.secretary
        # requests: one waiting, one accepted (a topic), one answered
        raise_request(self.resident, self.community, title=f"诉求{number}：路灯不亮")
        accepted = raise_request(self.resident, self.community, title=f"诉求{number}：活动室")
        request_services.reply_to_request(secretary, accepted, "accept", "纳入议题")
        answered = raise_request(self.resident, self.community, title=f"诉求{number}：垃圾桶")
        request_services.reply_to_request(secretary, answered, "answer", "已经安排清运。")
        topic = raise_request(self.resident, self.community, title=f"诉求{number}：地板")
        request_services.reply_to_request(secretary, topic, "accept", "纳入议题")

        # a meeting with its minutes published (and a project on its resolution)
        held = self._meeting(MeetingStatus.CLOSED, number, request_ids=[topic.id])
        project_services.record_resolution(
            secretary,
            held,
            project_services.ResolutionSpec(
                text=f"决议{number}：改造活动室。",
                agenda_item_id=held.agenda_items[0].id,
                project=project_services.ProjectSpec(
                    title=f"项目{number}：活动室改造出新",
                    responsible_unit="物业",
                    due_date=(next_week() + timedelta(days=60)).date(),
                ),
            ),
        )
        version = minutes_services.save_version(secretary, held, f"# 纪要{number}\n\n决定改造。\n")
        minutes_services.publish(secretary, version)

        # a meeting in progress with an open poll the voter has not voted in yet
        live = self._meeting(MeetingStatus.IN_PROGRESS, number)
        poll = poll_services.create_poll(
            secretary,
            live.agenda_items[0],
            poll_services.PollSpec(title=f"表决{number}", kind="yes_no_abstain"),
        )
        poll_services.open_poll(secretary, poll)
        # and one the voter has voted in
        voted = poll_services.create_poll(
            secretary,
            live.agenda_items[0],
            poll_services.PollSpec(title=f"已投表决{number}", kind="yes_no_abstain"),
        )
        poll_services.open_poll(secretary, voted)
        poll_services.cast_ballot(self.voter, voted, [voted.options[0].id])

        # a scheduled one and a draft
        self._meeting(MeetingStatus.SCHEDULED, number)
        self._meeting(MeetingStatus.DRAFT, number)

        notification_services.notify(self.voter, "test", f"通知{number}")
