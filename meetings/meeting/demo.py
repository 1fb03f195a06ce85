"""Demo meetings of the four seed stories (DESIGN.md), for ``flask seed-demo``:
three past and closed (the activity room, the smart loudspeakers, the lift
adverts), one in progress (the Feima roundabout road), two scheduled for the
coming days (a charging shed for e-bikes, an elderly canteen) — with agendas,
attendees drawn from the invented demo residents, the proposals they tabled
and the polls they voted in, cast and counted by the polls' services so that
the results are real. Built through the same services as the site; a meeting
already there (same title) is left alone. What the meetings resolved, and the
projects that followed, are ``meetings.projects.demo``'s."""

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
from meetings.polls import services as poll_services
from meetings.polls.models import Poll, Proposal
from meetings.requests.models import RequestStatus, ResidentRequest


@dataclass
class DemoProposal:
    item: int  # position of the agenda item
    author: str  # username of an attendee
    title: str
    body: str = ""


@dataclass
class DemoPoll:
    item: int  # position of the agenda item
    title: str
    kind: str  # yes_no_abstain: on the item's first proposal; else its proposals are the options
    ballots: dict[str, str] = field(default_factory=dict)  # username → option code or title
    secret: bool = True
    # 举手表决: the number present and the hands per option code or title
    in_room: tuple[int, dict[str, int]] | None = None
    close: bool = True


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
    proposals: list[DemoProposal] = field(default_factory=list)
    polls: list[DemoPoll] = field(default_factory=list)


DEMO_MEETINGS = [
    # Story 3: adverts in the lift cars, dealt with the same day by a short meeting.
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
        proposals=[
            DemoProposal(
                2,
                "dongli-12",
                "三日内清理小广告，各幢电梯设统一公告栏",
                "物业三日内清理全部电梯轿厢小广告；每部电梯安装一块统一公告栏，"
                "今后张贴须先到物业服务中心登记。",
            ),
        ],
        polls=[
            DemoPoll(
                2,
                "是否同意清理方案",
                "yes_no_abstain",
                secret=False,
                in_room=(4, {"yes": 4, "no": 0, "abstain": 0}),
            ),
        ],
    ),
    # Story 1: the worn floor of the activity room at building 182.
    DemoMeeting(
        community="东篱社区",
        title="182幢活动室改造出新协商议事会",
        status=MeetingStatus.CLOSED,
        days_from_now=-40,
        local_time=(19, 0),
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
        present=["dongli-02", "dongli-06", "dongli-09", "dongli-07", "dongli-12"],
        scanned=["dongli-03", "dongli-04"],
        excused=["dongli-10"],
        proposals=[
            DemoProposal(
                4,
                "dongli-06",
                "全面改造出新：地板、墙面、卫生间",
                "乒乓球室、舞蹈室更换防滑地胶；墙面除霉翻新；卫生间重新改造并加装扶手。"
                "物业估算约8.6万元。",
            ),
            DemoProposal(
                4,
                "dongli-03",
                "先更换乒乓球室和舞蹈室地板",
                "先解决最危险的地板，墙面和卫生间明年再做，约3.2万元。",
            ),
        ],
        polls=[
            DemoPoll(
                4,
                "选择活动室改造方案",
                "single",
                ballots={
                    "dongli-02": "全面改造出新：地板、墙面、卫生间",
                    "dongli-06": "全面改造出新：地板、墙面、卫生间",
                    "dongli-04": "全面改造出新：地板、墙面、卫生间",
                    "dongli-09": "全面改造出新：地板、墙面、卫生间",
                    "dongli-07": "全面改造出新：地板、墙面、卫生间",
                    "dongli-03": "先更换乒乓球室和舞蹈室地板",
                    "dongli-12": "全面改造出新：地板、墙面、卫生间",
                },
            ),
        ],
    ),
    # Story 4: the congested internal road at the Feima roundabout, under way now.
    DemoMeeting(
        community="东篱社区",
        title="飞马转盘中心路通行协商会",
        status=MeetingStatus.IN_PROGRESS,
        days_from_now=0,
        local_time=None,
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
        accepted=["dongli-08", "dongli-06", "dongli-12", "dongli-01", "dongli-04"],
        declined=["dongli-09"],
        present=["dongli-06", "dongli-12", "dongli-11"],
        scanned=["dongli-08", "dongli-04"],
        online_url="https://meeting.example.org/dongli/feima",
        proposals=[
            DemoProposal(5, "dongli-08", "道路中央设置隔离栏", "对接交警五大队，早晚高峰分流。"),
            DemoProposal(
                5, "dongli-12", "划定停车位，制定停车规则", "由物业和业委会起草，违停劝离。"
            ),
            DemoProposal(
                5, "dongli-06", "纳入市政道路管理", "由社区联系挂钩单位，对接民政局等部门。"
            ),
        ],
        polls=[
            DemoPoll(
                5,
                "选择中心路整治方案",
                "single",
                ballots={"dongli-08": "道路中央设置隔离栏", "dongli-06": "纳入市政道路管理"},
                close=False,
            ),
        ],
    ),
    # Coming up: the charging shed residents asked for, scheduled for next week.
    DemoMeeting(
        community="东篱社区",
        title="电动自行车集中充电棚选址协商会",
        status=MeetingStatus.SCHEDULED,
        days_from_now=6,
        local_time=(19, 0),
        minutes=90,
        location="优山美地花园182幢一层社区活动室",
        description="楼道里停放、充电的电动自行车越来越多，存在火灾隐患。"
        "请业委会、物业和居民代表商量集中充电棚的选址、收费和管理办法。",
        host="dongli-sec",
        recorder="dongli-07",
        topics=["楼道里给电动自行车充电"],
        agenda=[
            ("物业介绍可选场地", 15, "飞马转盘东侧空地、地下车库入口旁两处。"),
            ("讨论选址和收费办法", 40, "按次还是包月；是否设智能断电。"),
            ("表决选址方案", 15, ""),
        ],
        attendees=[
            ("dongli-01", "resident_rep"),
            ("dongli-03", "resident_rep"),
            ("dongli-06", "owners_committee_rep"),
            ("dongli-12", "property_rep"),
            ("dongli-04", "party_member_rep"),
            ("dongli-09", "grid_leader"),
        ],
        accepted=["dongli-01", "dongli-06", "dongli-12"],
    ),
    # Coming up in the other community: an elderly canteen (长者助餐点).
    DemoMeeting(
        community="竹韵社区",
        title="长者助餐点开办协商会",
        status=MeetingStatus.SCHEDULED,
        days_from_now=10,
        local_time=(15, 0),
        minutes=60,
        location="竹韵社区党群服务中心二楼会议室",
        description="社区老人多，子女白天上班，午饭不方便。商量在党群服务中心开办长者助餐点："
        "场地、供餐单位、价格和补贴。",
        host="zhuyun-sec",
        recorder="zhuyun-05",
        topics=[],
        agenda=[
            ("介绍助餐点设想和街道补贴政策", 15, ""),
            ("讨论供餐单位和价格", 30, ""),
            ("形成协商意见", 15, ""),
        ],
        attendees=[
            ("zhuyun-02", "street_official"),
            ("zhuyun-05", "community_committee"),
            ("zhuyun-01", "resident_rep"),
            ("zhuyun-03", "resident_rep"),
            ("zhuyun-08", "property_rep"),
        ],
        accepted=["zhuyun-02", "zhuyun-01"],
    ),
    # Story 2: smart loudspeakers proposed by the street office.
    DemoMeeting(
        community="竹韵社区",
        title="智慧音箱安装项目协商会",
        status=MeetingStatus.CLOSED,
        days_from_now=-20,
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
            ("dongli-02", "cppcc_member"),
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
        accepted=[
            "zhuyun-02",
            "zhuyun-05",
            "zhuyun-06",
            "zhuyun-08",
            "zhuyun-04",
            "zhuyun-01",
            "zhuyun-03",
            "zhuyun-10",
        ],
        present=["zhuyun-02", "zhuyun-05", "zhuyun-06", "zhuyun-08", "zhuyun-11", "zhuyun-10"],
        scanned=["zhuyun-04", "zhuyun-01", "zhuyun-03"],
        proposals=[
            DemoProposal(
                4,
                "zhuyun-02",
                "有条件安装智慧音箱",
                "先做现场勘查，音箱远离卧室窗户；音量由物业专人控制；每天8:00–20:00播放。",
            ),
        ],
        polls=[
            DemoPoll(
                4,
                "是否同意有条件安装智慧音箱",
                "yes_no_abstain",
                ballots={
                    "zhuyun-02": "yes",
                    "zhuyun-05": "yes",
                    "zhuyun-06": "yes",
                    "zhuyun-08": "yes",
                    "zhuyun-04": "yes",
                    "zhuyun-01": "yes",
                    "zhuyun-03": "no",
                    "zhuyun-11": "abstain",
                },
            ),
        ],
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
        _deliberate(demo, meeting, people)
    if demo.status == MeetingStatus.CLOSED:
        services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    _date_back(meeting, starts_at, demo.minutes, since=now)
    return meeting


def _deliberate(demo: DemoMeeting, meeting: Meeting, people: dict[str, User]) -> None:
    """The proposals tabled and the polls voted in the room, through the polls'
    services: ballots cast one by one and counted at the close."""
    secretary = people[demo.host]
    items = {item.position: item for item in meeting.agenda_items}
    tabled: dict[int, list[Proposal]] = {}
    for proposal in demo.proposals:
        tabled.setdefault(proposal.item, []).append(
            poll_services.table_proposal(
                people[proposal.author], items[proposal.item], proposal.title, proposal.body
            )
        )
    for demo_poll in demo.polls:
        proposals = tabled.get(demo_poll.item, [])
        if demo_poll.kind == "yes_no_abstain":
            options = [poll_services.OptionSpec(proposal_id=proposals[0].id)] if proposals else []
        else:
            options = [poll_services.OptionSpec(proposal_id=p.id) for p in proposals]
        poll = poll_services.create_poll(
            secretary,
            items[demo_poll.item],
            poll_services.PollSpec(
                title=demo_poll.title,
                kind=demo_poll.kind,
                options=options,
                secret=demo_poll.secret and demo_poll.in_room is None,
                in_room=demo_poll.in_room is not None,
            ),
        )
        poll_services.open_poll(secretary, poll)
        option_of = {(o.code.value if o.code else o.label): o.id for o in poll.options}
        if demo_poll.in_room is not None:
            present, hands = demo_poll.in_room
            counts = {option_of[key]: number for key, number in hands.items()}
            poll_services.record_in_room_result(secretary, poll, present, counts)
            continue
        for username, choice in demo_poll.ballots.items():
            poll_services.cast_ballot(people[username], poll, [option_of[choice]])
        if demo_poll.close:
            poll_services.close_poll(secretary, poll)


def _date_back(meeting: Meeting, starts_at: datetime, minutes: int, since: datetime) -> None:
    """Make the steps of a past or running meeting look as they happened
    (``since``: when the demo began writing them)."""
    if meeting.status not in (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED):
        return
    meeting.created_at = meeting.scheduled_at = starts_at - timedelta(days=3)
    meeting.started_at = starts_at
    if meeting.status == MeetingStatus.CLOSED:
        meeting.closed_at = starts_at + timedelta(minutes=minutes)
    for topic in meeting.topics:
        for event in topic.events:
            if event.at >= since and event.to_status == RequestStatus.SCHEDULED:
                event.at = meeting.scheduled_at
            elif event.at >= since and event.to_status == RequestStatus.DELIBERATED:
                event.at = meeting.closed_at or event.at
    for attendance in meeting.attendances:
        attendance.invited_at = attendance.notified_at = meeting.scheduled_at
        if attendance.rsvp_at is not None:
            attendance.rsvp_at = starts_at - timedelta(days=1)
        if attendance.checked_in_at is not None:
            attendance.checked_in_at = starts_at - timedelta(minutes=5)
    item_ids = [item.id for item in meeting.agenda_items]
    now = utcnow()
    for number, proposal in enumerate(
        db.session.scalars(
            db.select(Proposal).where(Proposal.agenda_item_id.in_(item_ids)).order_by(Proposal.id)
        ),
        start=1,
    ):
        proposal.created_at = min(starts_at + timedelta(minutes=5 * number), now)
    for poll in db.session.scalars(db.select(Poll).where(Poll.agenda_item_id.in_(item_ids))):
        poll.created_at = poll.opened_at = min(starts_at + timedelta(minutes=minutes // 2), now)
        if poll.closed_at is not None:
            poll.closed_at = poll.opened_at + timedelta(minutes=10)
            if poll.result_entered_at is not None:
                poll.result_entered_at = poll.closed_at


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
