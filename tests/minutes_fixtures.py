"""Fixtures of the minutes tests, loaded with
``pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]``.

``held_meeting``: story 1 of DESIGN.md, held and closed — attendees of four
roles (one excused, one absent), a resident's request as the topic of the
agenda item, proposals (one withdrawn), an online secret poll and a show of
hands, and two resolutions, one of them opening a project with the property
company responsible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from auth.models import User
from meetings.meeting import services as meeting_services
from meetings.meeting.models import AgendaItem, Meeting, MeetingStatus
from meetings.minutes import services as minutes_services
from meetings.minutes.models import MinutesVersion
from meetings.polls import services as poll_services
from meetings.polls.models import Poll
from meetings.projects.models import Decision, Project, Resolution
from meetings.requests.models import ResidentRequest


@dataclass
class HeldMeeting:
    meeting: Meeting
    item: AgendaItem
    request: ResidentRequest
    cppcc: User
    owners: User
    voters: list[User]
    excused: User
    absent: User
    online_poll: Poll
    in_room_poll: Poll
    project: Project
    resolution: Resolution
    plain_resolution: Resolution


@pytest.fixture
def held_meeting(
    db, make_meeting, make_member, secretary, accepted_request, in_request
) -> HeldMeeting:
    cppcc = make_member("钱政协")
    owners = make_member("孙业委")
    voters = [make_member(f"居民代表{i}") for i in (1, 2, 3)]
    excused = make_member("周请假")
    absent = make_member("吴缺席")
    invite = (
        {cppcc: "cppcc_member", owners: "owners_committee_rep"}
        | dict.fromkeys(voters, "resident_rep")
        | {excused: "party_member_rep", absent: "resident_rep"}
    )
    meeting = make_meeting(
        MeetingStatus.DRAFT,
        invite=invite,
        request_ids=[accepted_request.id],
        host_id=secretary.id,
        recorder_id=voters[0].id,
    )
    item = meeting_services.add_agenda_item(
        secretary,
        meeting,
        "活动室改造方案",
        "地板磨损，打滑；\n墙面剥落。",
        30,
        request_ids=[accepted_request.id],
    )
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.SCHEDULED)
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    by_user = {a.user_id: a for a in meeting.attendances}
    for person in [cppcc, owners, *voters]:
        meeting_services.mark_presence(secretary, by_user[person.id], "present")
    meeting_services.mark_presence(secretary, by_user[excused.id], "excused")
    meeting_services.mark_presence(secretary, by_user[absent.id], "absent")

    poll_services.table_proposal(voters[0], item, "铺设防滑地板", "乒乓球室和舞蹈室换防滑地胶")
    withdrawn = poll_services.table_proposal(owners, item, "只做局部修补")
    poll_services.withdraw_proposal(owners, withdrawn)

    online = poll_services.create_poll(
        secretary,
        item,
        poll_services.PollSpec(title="是否改造活动室", kind="yes_no_abstain", secret=True),
    )
    poll_services.open_poll(secretary, online)
    yes, _no, abstain = (o.id for o in online.options)
    for person, choice in [(cppcc, yes), (owners, yes), (voters[0], yes), (voters[1], abstain)]:
        poll_services.cast_ballot(person, online, [choice])
    poll_services.close_poll(secretary, online)

    in_room = poll_services.create_poll(
        secretary,
        item,
        poll_services.PollSpec(
            title="改造期间活动室是否暂停开放", kind="yes_no_abstain", in_room=True
        ),
    )
    poll_services.open_poll(secretary, in_room)
    hands = dict(zip([o.id for o in in_room.options], [4, 1, 0], strict=True))
    poll_services.record_in_room_result(secretary, in_room, 5, hands)

    project = Project(
        community=meeting.community,
        title="活动室改造出新",
        responsible_unit="物业公司",
        budget=Decimal("86000.00"),
        due_date=date(2027, 3, 31),
        created_by=secretary,
    )
    resolution = Resolution(
        meeting=meeting,
        agenda_item=item,
        poll=online,
        decision=Decision.ADOPTED,
        text="同意对182幢活动室进行改造，铺设防滑地板。",
        conditions="施工安排在白天；每周通报进度",
        project=project,
        created_by=secretary,
    )
    plain = Resolution(
        meeting=meeting,
        agenda_item=item,
        poll=in_room,
        decision=Decision.ADOPTED,
        text="改造期间活动室暂停开放，活动移至社区服务中心。",
        created_by=secretary,
    )
    db.session.add_all([project, resolution, plain])
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    db.session.flush()
    return HeldMeeting(
        meeting,
        item,
        accepted_request,
        cppcc,
        owners,
        voters,
        excused,
        absent,
        online,
        in_room,
        project,
        resolution,
        plain,
    )


@pytest.fixture
def published(db, held_meeting, secretary) -> MinutesVersion:
    """The held meeting with version 1 of its minutes published."""
    version = minutes_services.save_version(
        secretary, held_meeting.meeting, "# 活动室改造出新协商议事会\n\n决定铺设防滑地板。\n"
    )
    minutes_services.publish(secretary, version)
    db.session.flush()
    return version
