"""Fixtures of the poll tests, loaded with
``pytest_plugins = ["meeting_fixtures", "poll_fixtures"]``."""

from __future__ import annotations

import pytest
from poll_helpers import VOTERS, Api, Assembly

from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus


@pytest.fixture
def assembly(make_meeting, make_member, secretary, in_request, db) -> Assembly:
    voters = [make_member(f"居民代表{i}") for i in range(1, VOTERS + 1)]
    observer = make_member("列席人员")
    invite = dict.fromkeys(voters, "resident_rep") | {observer: "observer"}
    meeting = make_meeting(MeetingStatus.SCHEDULED, invite=invite)
    item = meeting_services.add_agenda_item(secretary, meeting, "飞马转盘中心路通行方案")
    other_item = meeting_services.add_agenda_item(secretary, meeting, "电梯轿厢广告")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    db.session.flush()
    return Assembly(meeting, item, voters, observer, other_item)


@pytest.fixture
def api(client, bearer) -> Api:
    return Api(client, bearer)
