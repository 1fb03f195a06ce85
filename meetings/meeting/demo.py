"""Demo meetings of the four seed stories (DESIGN.md), for ``flask seed-demo``:
one past and closed, one in progress, two scheduled — with agendas and
attendees drawn from the invented demo residents. Built through the same
services as the site; a meeting already there (same title) is left alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auth import services as auth_services
from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.meeting import checkin, services
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.meeting.services.topics import TOPIC_STATUSES
from meetings.requests.models import ResidentRequest


@dataclass
class DemoMeeting:
    community: str
    title: str
    status: MeetingStatus
    days_from_now: int  # the day, relative to today (negative: in the past)
    local_time: tuple[int, int] | None  # (hour, minute) in the community's zone; None: now
    minutes: int
    location: str
    description: str
    host: str
    recorder: str
    topics: list[str]  # titles of the community's requests
    agenda: list[tuple[str, int, str]]  # (title, planned minutes, description)
    attendees: list[tuple[str, str]]  # (username, role)
    accepted: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # marked by the secretary
    scanned: list[str] = field(default_factory=list)  # checked in by QR code
    excused: list[str] = field(default_factory=list)
    online_url: str | None = None


DEMO_MEETINGS = [
    # Story 3: adverts in the lift cars, dealt with by a short meeting.
    DemoMeeting(
        community="东篱社区",
        title="电梯轿厢广告清理协商会",
        status=MeetingStatus.CLOSED,
        days_from_now=-9,
        local_time=(16, 0),
        minutes=45,
        location="优山美地花园物业服务中心会议室",
        description="电梯轿厢被小广告贴成“大花脸”。网格长当天到现场查看后，"
        "请物业、业委会和居民代表坐下来商量清理办法和今后的张贴管理。",
        host="dongli-sec",
        recorder="dongli-11",
        topics=[],
        agenda=[
            ("网格长通报现场查看情况", 10, "各幢电梯轿厢广告张贴情况和居民反映的问题。"),
            ("清理办法与张贴管理", 25, "物业清理时限；电梯内设统一公告栏；张贴须先登记。"),
            ("形成协商意见", 10, ""),
        ],
        attendees=[
            ("dongli-05", "resident_rep"),
            ("dongli-01", "resident_rep"),
            ("dongli-11", "grid_leader"),
            ("dongli-06", "owners_committee_rep"),
            ("dongli-12", "property_rep"),
        ],
        accepted=["dongli-05", "dongli-01", "dongli-11", "dongli-06", "dongli-12"],
        present=["dongli-05", "dongli-11", "dongli-06", "dongli-12"],
        excused=["dongli-01"],
    ),
    # Story 1: the worn floor of the activity room at building 182.
    DemoMeeting(
        community="东篱社区",
        title="182幢活动室改造出新协商议事会",
        status=MeetingStatus.IN_PROGRESS,
        days_from_now=0,
        local_time=None,
        minutes=90,
        location="优山美地花园182幢一层社区活动室",
        description="活动室乒乓球室、舞蹈室地板磨损鼓包，墙面发霉，卫生间环境较差。"
        "请政协委员、业委会、党员和居民代表一起商量改造方案。",
        host="dongli-sec",
        recorder="dongli-07",
        topics=["活动室地板磨损"],
        agenda=[
            ("网格长介绍活动室现状", 10, "第三网格网格长介绍居民反映和现场情况。"),
            ("物业介绍改造方案", 20, "地板更换、墙面翻新、卫生间改造三部分，含预算。"),
            ("讨论改造方案", 30, "各方代表发表意见，可提出修改方案。"),
            ("表决改造方案", 15, ""),
            ("确定责任单位和完成时限", 10, ""),
        ],
        attendees=[
            ("dongli-02", "cppcc_member"),
            ("dongli-06", "owners_committee_rep"),
            ("dongli-04", "party_member_rep"),
            ("dongli-10", "inservice_party_member"),
            ("dongli-03", "resident_rep"),
            ("dongli-01", "resident_rep"),
            ("dongli-09", "grid_leader"),
            ("dongli-12", "property_rep"),
            ("dongli-07", "community_committee"),
            ("dongli-11", "observer"),
        ],
        accepted=["dongli-02", "dongli-06", "dongli-04", "dongli-03", "dongli-01", "dongli-09"],
        declined=["dongli-10"],
        present=["dongli-02", "dongli-06", "dongli-09", "dongli-07"],
        scanned=["dongli-03", "dongli-04"],
        excused=["dongli-10"],
    ),
    # Story 4: the congested internal road at the Feima roundabout.
    DemoMeeting(
        community="东篱社区",
        title="飞马转盘中心路通行协商会",
        status=MeetingStatus.SCHEDULED,
        days_from_now=6,
        local_time=(19, 0),
        minutes=120,
        location="优山美地花园物业服务中心会议室",
        description="中心路车流人流增长，车辆乱停乱放，早晚高峰出行不畅。"
        "商量三种方案：设置隔离栏、制定停车规则、移交市政道路管理。",
        host="dongli-sec",
        recorder="dongli-07",
        topics=["飞马转盘中心路拥堵"],
        agenda=[
            ("介绍中心路现状和居民意见", 15, ""),
            ("方案一：道路中央设置隔离栏", 15, "需对接交警五大队。"),
            ("方案二：划定停车位，制定停车规则", 15, "由物业和业委会起草。"),
            ("方案三：纳入市政道路管理", 15, "需对接民政局等部门。"),
            ("单选表决", 15, "在三个方案中选择一个。"),
        ],
        attendees=[
            ("dongli-08", "resident_rep"),
            ("dongli-01", "resident_rep"),
            ("dongli-06", "owners_committee_rep"),
            ("dongli-12", "property_rep"),
            ("dongli-04", "party_member_rep"),
            ("dongli-05", "community_committee"),
            ("dongli-11", "grid_leader"),
            ("dongli-09", "observer"),
        ],
        accepted=["dongli-08", "dongli-06", "dongli-12"],
        declined=["dongli-09"],
        online_url="https://meeting.example.org/dongli/feima",
    ),
    # Story 2: smart loudspeakers proposed by the street office.
    DemoMeeting(
        community="竹韵社区",
        title="智慧音箱安装项目协商会",
        status=MeetingStatus.SCHEDULED,
        days_from_now=10,
        local_time=(15, 0),
        minutes=90,
        location="竹韵社区党群服务中心二楼会议室",
        description="街道提议安装智慧音箱。居民代表担心靠近卧室，"
        "商量安装位置（先做现场勘查）、音量由专人控制、播放时段。",
        host="zhuyun-sec",
        recorder="zhuyun-05",
        topics=["智慧音箱安装"],
        agenda=[
            ("街道介绍智慧音箱安装项目", 10, ""),
            ("居民代表意见：安装位置", 20, "远离卧室窗户；先做现场勘查。"),
            ("音量控制与播放时段", 20, "明确专人负责音量；约定播放时段。"),
            ("形成协商意见", 10, ""),
        ],
        attendees=[
            ("zhuyun-02", "street_official"),
            ("zhuyun-05", "community_committee"),
            ("zhuyun-06", "npc_deputy"),
            ("zhuyun-08", "property_rep"),
            ("zhuyun-04", "resident_rep"),
            ("zhuyun-01", "resident_rep"),
            ("zhuyun-03", "resident_rep"),
            ("zhuyun-11", "grid_leader"),
            ("zhuyun-10", "expert"),
        ],
        accepted=["zhuyun-02", "zhuyun-04", "zhuyun-10"],
    ),
]


def _start(demo: DemoMeeting, now: datetime) -> datetime:
    local_now = now.astimezone(services.zone())
    if demo.local_time is None:  # under way: began half an hour ago
        return (local_now - timedelta(minutes=30)).replace(second=0, microsecond=0)
    hour, minute = demo.local_time
    day = local_now + timedelta(days=demo.days_from_now)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _users(usernames: list[str]) -> dict[str, User]:
    return {name: auth_services.get_user_by_username(name) for name in usernames}


def _topic_ids(community: Community, titles: list[str]) -> list[int]:
    """The requests of the stories, where the requests' demo made them and
    they can still become topics."""
    ids = []
    for title in titles:
        item = db.session.scalar(
            db.select(ResidentRequest).where(
                ResidentRequest.community_id == community.id, ResidentRequest.title == title
            )
        )
        if item is not None and item.status in TOPIC_STATUSES:
            ids.append(item.id)
    return ids


def _build(demo: DemoMeeting, community: Community, now: datetime) -> Meeting:
    people = _users([demo.host, demo.recorder] + [username for username, _role in demo.attendees])
    secretary = people[demo.host]
    starts_at = _start(demo, now)
    meeting = services.create_meeting(
        secretary,
        community,
        title=demo.title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=demo.minutes),
        location=demo.location,
        online_url=demo.online_url,
        description=demo.description,
        host_id=secretary.id,
        recorder_id=people[demo.recorder].id,
        request_ids=_topic_ids(community, demo.topics),
    )
    for title, minutes, description in demo.agenda:
        services.add_agenda_item(secretary, meeting, title, description, minutes)
    services.invite(
        secretary,
        meeting,
        [services.Invitation(people[username], role) for username, role in demo.attendees],
    )
    services.transition_meeting(secretary, meeting, MeetingStatus.SCHEDULED)
    by_user = {a.user.username: a for a in meeting.attendances}
    for username in demo.accepted:
        services.set_rsvp(people[username], by_user[username], "accepted")
    for username in demo.declined:
        services.set_rsvp(people[username], by_user[username], "declined")
    if demo.status in (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED):
        services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
        for username in demo.present:
            services.mark_presence(secretary, by_user[username], "present")
        for username in demo.excused:
            services.mark_presence(secretary, by_user[username], "excused")
        for username in demo.scanned:
            user = people[username]
            services.check_in_with_token(user, checkin.make_token(meeting.id, user.id))
    if demo.status == MeetingStatus.CLOSED:
        services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    _date_back(meeting, starts_at, demo.minutes)
    return meeting


def _date_back(meeting: Meeting, starts_at: datetime, minutes: int) -> None:
    """Make the steps of a past or running meeting look as they happened."""
    if meeting.status not in (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED):
        return
    meeting.created_at = meeting.scheduled_at = starts_at - timedelta(days=3)
    meeting.started_at = starts_at
    if meeting.status == MeetingStatus.CLOSED:
        meeting.closed_at = starts_at + timedelta(minutes=minutes)
    for attendance in meeting.attendances:
        attendance.invited_at = attendance.notified_at = meeting.scheduled_at
        if attendance.rsvp_at is not None:
            attendance.rsvp_at = starts_at - timedelta(days=1)
        if attendance.checked_in_at is not None:
            attendance.checked_in_at = starts_at - timedelta(minutes=5)


def seed_meetings() -> int:
    """The demo meetings; returns how many were created."""
    created = 0
    now = utcnow()
    for demo in DEMO_MEETINGS:
        community = db.session.scalar(db.select(Community).where(Community.name == demo.community))
        if community is None:
            continue
        exists = db.session.scalar(
            db.select(Meeting.id).where(
                Meeting.community_id == community.id, Meeting.title == demo.title
            )
        )
        if exists is not None:
            continue
        _build(demo, community, now)
        created += 1
    db.session.flush()
    return created
