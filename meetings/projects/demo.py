"""Demo resolutions and projects of the seed stories, for ``flask seed-demo``,
recorded on the closed demo meetings of ``meetings.meeting.demo`` through the
same services as the site, then dated back:

- 东篱社区: the activity room at building 182 — the meeting chose full
  renovation in a single-choice poll; the project is completed and rated;
- 竹韵社区: the smart loudspeakers — agreed in a poll, with the conditions
  (site survey, a named person for the volume, playing hours) carried into
  the project, which is in progress;
- 东篱社区: the lift adverts — a short meeting, a show of hands and a
  resolution; its small project of notice boards is late;
- 东篱社区: the congested road — while the poll on the three plans is open,
  the meeting agrees on interim steps: the traffic police and the partner
  unit's volunteers answer for them, and the police post the progress.

Projects name the unit or person who answers for them; conditions are tasks
with a person or unit and a due date (the named volume keeper, the hours).

A resolution already there (same meeting and text) is left alone.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from PIL import Image, ImageDraw

from auth import services as auth_services
from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.meeting.models import AgendaItem, Meeting
from meetings.meeting.services.common import zone
from meetings.organisation.models import Unit
from meetings.polls.models import Poll
from meetings.projects import services, uploads
from meetings.projects.models import ProjectStatus, Resolution
from meetings.requests import orders
from meetings.requests.models import RequestStatus


@dataclass
class DemoUpdate:
    days_ago: int
    percent: int
    note: str
    status: str | None = None
    # a drawn "photo": (wall colour, floor colour)
    picture: tuple[str, str] | None = None
    author: str | None = None  # a responsible party's username; else the secretary


@dataclass
class DemoProject:
    title: str
    responsible_unit: str
    budget: str
    due_in_days: int  # from today; negative: already due
    description: str
    updates: list[DemoUpdate] = field(default_factory=list)
    ratings: list[tuple[str, int, str]] = field(default_factory=list)  # username, score, comment
    unit: str | None = None  # the responsible unit's name
    person: str | None = None  # the responsible person's username
    # the requesters' ratings of the requests the project handled: score, comment
    request_rating: tuple[int, str] | None = None


@dataclass
class DemoTask:
    """A condition of the resolution as a task."""

    text: str
    assignee: str  # a username, or a unit's name
    due_in_days: int
    done_days_ago: int | None = None
    note: str = ""


@dataclass
class DemoResolution:
    community: str
    meeting: str  # title of a demo meeting
    poll: str | None  # title of the poll it follows
    text: str
    conditions: str = ""
    project: DemoProject | None = None
    tasks: list[DemoTask] = field(default_factory=list)


DEMO_RESOLUTIONS = [
    DemoResolution(
        community="东篱社区",
        meeting="182幢活动室改造出新协商议事会",
        poll="选择活动室改造方案",
        text="对182幢一层活动室进行改造出新：乒乓球室、舞蹈室更换防滑地胶，墙面除霉翻新，"
        "卫生间重新改造并加装扶手。由物业负责实施，业委会和居民代表参与验收。",
        conditions="施工期间活动临时改在党群服务中心；预算不超过8.6万元，"
        "动用公共维修资金须经业委会同意。",
        project=DemoProject(
            title="182幢活动室改造出新",
            responsible_unit="物业",
            unit="优山美地物业服务中心",
            request_rating=(5, "地板换了，墙也刷了，老人们都说好。谢谢网格长和社区！"),
            budget="86000.00",
            due_in_days=-5,
            description="乒乓球室、舞蹈室地板更换为防滑地胶；墙面除霉翻新；卫生间改造并加装扶手。",
            updates=[
                DemoUpdate(
                    36,
                    10,
                    "施工队进场，拆除乒乓球室和舞蹈室的旧地板。活动临时改在党群服务中心。",
                    "in_progress",
                    ("#d8cfc0", "#8a6d4b"),
                ),
                DemoUpdate(28, 40, "乒乓球室、舞蹈室防滑地胶铺设完成。"),
                DemoUpdate(
                    18, 75, "墙面除霉翻新完成，卫生间改造中。", picture=("#f1efe8", "#7f8c8d")
                ),
                DemoUpdate(
                    8,
                    100,
                    "卫生间改造完成，加装扶手。社区、业委会和居民代表共同验收合格，活动室重新开放。",
                    "completed",
                    ("#f4f1ea", "#3f6e8c"),
                ),
            ],
            ratings=[
                ("dongli-03", 5, "地板不滑了，老人来活动放心多了。"),
                ("dongli-01", 5, "改得很好，谢谢社区和物业。"),
                ("dongli-04", 4, "墙面焕然一新，卫生间门口再加块防滑垫就更好了。"),
                ("dongli-08", 4, ""),
                ("dongli-10", 5, "施工期间安排在党群服务中心活动，考虑得很周到。"),
            ],
        ),
    ),
    DemoResolution(
        community="竹韵社区",
        meeting="智慧音箱安装项目协商会",
        poll="是否同意有条件安装智慧音箱",
        text="同意在竹韵社区有条件安装智慧音箱，用于惠民政策宣传和防灾减灾、消防安全提醒。",
        conditions="安装前先做现场勘查，音箱远离卧室窗户；音量由物业代表杜明辉专人控制；"
        "播放时段为每天8:00–20:00。",
        project=DemoProject(
            title="智慧音箱安装项目",
            responsible_unit="街道",
            person="zhuxing-01",
            budget="36000.00",
            due_in_days=25,
            description="在竹韵社区各小区公共区域安装智慧音箱，由竹行街道实施，物业配合。",
            updates=[
                DemoUpdate(
                    15,
                    20,
                    "完成现场勘查：确定12处安装点位，均远离卧室窗户，居民代表参加了勘查。",
                    "in_progress",
                    ("#cfe0d8", "#6b8f5e"),
                ),
                DemoUpdate(
                    6,
                    55,
                    "已安装7处。杜明辉设定并锁定了音量上限，播放时段设为8:00–20:00。",
                    author="zhuxing-01",
                ),
            ],
        ),
        tasks=[
            DemoTask(
                "安装前先做现场勘查，音箱点位远离卧室窗户",
                "zhuxing-01",
                due_in_days=-14,
                done_days_ago=15,
                note="12处点位已勘查确定，居民代表参加。",
            ),
            DemoTask(
                "音量由专人控制：杜明辉设定并锁定音量上限",
                "zhuyun-08",
                due_in_days=-3,
                done_days_ago=6,
                note="音量上限已锁定，钥匙由杜明辉保管。",
            ),
            DemoTask("播放时段限定为每天8:00–20:00，其余时间自动静音", "竹韵物业服务中心", 5),
        ],
    ),
    DemoResolution(
        community="东篱社区",
        meeting="电梯轿厢广告清理协商会",
        poll="是否同意清理方案",
        text="物业三日内清理全部电梯轿厢小广告；每部电梯安装一块统一公告栏；"
        "今后张贴须先到物业服务中心登记，网格长每周巡查一次。",
        project=DemoProject(
            title="电梯轿厢统一公告栏",
            responsible_unit="物业",
            unit="优山美地物业服务中心",
            budget="2400.00",
            due_in_days=-2,
            description="优山美地花园12部电梯各安装一块统一公告栏。",
            updates=[
                DemoUpdate(8, 30, "小广告已全部清理，公告栏已订购。", "in_progress"),
                DemoUpdate(
                    3,
                    60,
                    "12部电梯中已有7部装好公告栏，其余等待到货。",
                    picture=("#e6e2da", "#9c9c9c"),
                ),
            ],
        ),
    ),
    DemoResolution(
        community="东篱社区",
        meeting="飞马转盘中心路通行协商会",
        poll=None,
        text="在中心路整治方案表决之前先行疏导：交警大队早晚高峰在飞马转盘路口执勤，"
        "通达物流党支部组织志愿者协助劝离违停车辆。",
        project=DemoProject(
            title="飞马转盘中心路高峰疏导",
            responsible_unit="",
            unit="开发区交警大队",
            budget="",
            due_in_days=30,
            description="早晚高峰路口执勤、志愿者劝离违停，直到中心路整治方案落地。",
            updates=[
                DemoUpdate(
                    0,
                    10,
                    "今晚起早晚高峰各安排一名交警在飞马转盘路口执勤。",
                    "in_progress",
                    author="jiaojing-01",
                ),
            ],
        ),
        tasks=[
            DemoTask("早晚高峰组织志愿者协助劝离违停车辆", "通达物流党支部", 14),
            DemoTask("飞马转盘路口增设临时警示标志", "开发区交警大队", 3),
        ],
    ),
]


def _secretary_of(community: Community) -> User:
    return next(m.user for m in community.memberships if m.is_secretary)


def _at(day_offset: int, hour: int = 17) -> datetime:
    """A time ``day_offset`` days from today, at ``hour`` o'clock in the community's zone."""
    local_day = datetime.now(zone()).date() + timedelta(days=day_offset)
    return datetime.combine(local_day, time(hour), tzinfo=zone())


def picture(wall: str, floor: str, seed: int) -> bytes:
    """A small drawn "photo" of a room: a wall with a window, a floor of planks."""
    rng = random.Random(seed)  # noqa: S311 — decoration, not security
    width, height = 960, 640
    image = Image.new("RGB", (width, height), wall)
    draw = ImageDraw.Draw(image)
    horizon = int(height * 0.62)
    draw.rectangle((0, horizon, width, height), fill=floor)
    red, green, blue = Image.new("RGB", (1, 1), floor).getpixel((0, 0))
    seam = (red * 3 // 4, green * 3 // 4, blue * 3 // 4)
    for x in range(-height, width, 70):
        draw.line((x, height, x + (height - horizon), horizon), fill=seam, width=3)
    left = rng.randint(80, 520)
    draw.rectangle((left, 90, left + 300, 330), fill="#bcd7ea", outline="#ffffff", width=14)
    draw.line((left + 150, 90, left + 150, 330), fill="#ffffff", width=10)
    draw.rectangle((0, horizon - 12, width, horizon), fill="#ffffff")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _poll(meeting: Meeting, title: str | None) -> Poll | None:
    if title is None:
        return None
    return db.session.scalar(
        db.select(Poll)
        .join(Poll.agenda_item)
        .where(AgendaItem.meeting_id == meeting.id, Poll.title == title)
    )


def _record(demo: DemoResolution, meeting: Meeting, secretary: User) -> Resolution:
    started = utcnow()
    poll = _poll(meeting, demo.poll)
    project = demo.project
    spec = services.ResolutionSpec(
        text=demo.text,
        poll_id=poll.id if poll is not None else None,
        conditions=demo.conditions,
        project=services.ProjectSpec(
            title=project.title,
            responsible_unit=project.responsible_unit,
            due_date=_at(project.due_in_days).date(),
            budget=project.budget or None,
            description=project.description,
            responsible_unit_id=_unit_id(project.unit),
            responsible_user_id=(
                auth_services.get_user_by_username(project.person).id if project.person else None
            ),
        )
        if project is not None
        else None,
    )
    resolution = services.record_resolution(secretary, meeting, spec)
    resolution.created_at = meeting.closed_at or started
    if project is not None:
        _carry_out(project, resolution, secretary, started)
    for task in demo.tasks:
        _assign(task, resolution, secretary)
    return resolution


def _unit_id(name: str | None) -> int | None:
    if name is None:
        return None
    return db.session.scalar(db.select(Unit.id).where(Unit.name == name))


def _assign(task: DemoTask, resolution: Resolution, secretary: User) -> None:
    """The task, given a week from now (a due date may not be past when it is
    set), then dated back; done when the story says so."""
    unit_id = _unit_id(task.assignee)
    person = None if unit_id is not None else auth_services.get_user_by_username(task.assignee)
    condition = services.add_condition(
        secretary,
        resolution,
        task.text,
        _at(7).date(),
        assignee_user_id=person.id if person is not None else None,
        assignee_unit_id=unit_id,
    )
    condition.due_date = _at(task.due_in_days).date()
    condition.created_at = resolution.created_at
    if task.done_days_ago is not None:
        doer = person or secretary
        services.mark_condition_done(doer, condition, task.note)
        condition.done_at = _at(-task.done_days_ago)


def _carry_out(
    demo: DemoProject, resolution: Resolution, secretary: User, started: datetime
) -> None:
    """The progress updates (with drawn photos) and, once completed, the ratings."""
    project = resolution.project
    project.created_at = resolution.created_at
    for number, step in enumerate(demo.updates):
        photo = None
        if step.picture is not None:
            photo = uploads.store_photo(
                io.BytesIO(picture(*step.picture, seed=project.id + number))
            )
        author = auth_services.get_user_by_username(step.author) if step.author else secretary
        update = services.add_progress_update(
            author,
            project,
            step.percent,
            step.note,
            step.status,
            photo,
            on_date=_at(-step.days_ago).date(),
        )
        update.created_at = _at(-step.days_ago)
        if update.status == ProjectStatus.COMPLETED:
            project.completed_at = update.created_at
            _date_back_requests(project, update.created_at, started)
    if demo.request_rating is not None:
        score, comment = demo.request_rating
        for item in project.requests:
            if item.status == RequestStatus.HANDLED and item.requester is not None:
                orders.rate(item.requester, item, score, comment)
                when = min(project.completed_at + timedelta(hours=20), utcnow())
                item.ratings[-1].created_at = item.events[-1].at = when
    for day, (username, score, comment) in enumerate(demo.ratings, start=1):
        resident = auth_services.get_user_by_username(username)
        rating = services.rate_project(resident, project, score, comment)
        rating.created_at = min(project.completed_at + timedelta(days=day, hours=3), utcnow())


def _date_back_requests(project, completed_at: datetime, started: datetime) -> None:
    """The requests the completion handled: their last steps happened then,
    and their reply names that day."""
    _resolved, reply = services.completion_texts(project)
    for item in project.requests:
        for event in item.events:
            if event.at >= started:
                event.at = completed_at
                if event.to_status == RequestStatus.HANDLED:
                    event.message = reply
        if item.replied_at is not None and item.replied_at >= started:
            item.replied_at = item.handled_at = completed_at
            item.reply = reply


def seed_projects() -> int:
    """The demo resolutions (and their projects); returns how many were created."""
    created = 0
    for demo in DEMO_RESOLUTIONS:
        community = db.session.scalar(db.select(Community).where(Community.name == demo.community))
        if community is None:
            continue
        meeting = db.session.scalar(
            db.select(Meeting).where(
                Meeting.community_id == community.id, Meeting.title == demo.meeting
            )
        )
        if meeting is None or meeting.status not in services.RESOLVING_MEETING:
            continue
        exists = db.session.scalar(
            db.select(Resolution.id).where(
                Resolution.meeting_id == meeting.id, Resolution.text == demo.text
            )
        )
        if exists is not None:
            continue
        _record(demo, meeting, _secretary_of(community))
        created += 1
    db.session.flush()
    seed_notices()
    return created


# --- 公示 (public notice) of resolutions (issue 17) ---------------------------------------


@dataclass
class DemoObjection:
    username: str
    reason: str
    answer: str
    upheld: bool = False


@dataclass
class DemoNotice:
    """A demo resolution put on notice ``started_days_ago`` for ``days``;
    its objections made a day later and answered a day after that; settled
    by the clock when the period is over."""

    community: str
    resolution_text: str
    started_days_ago: int
    days: int = 5
    objections: list[DemoObjection] = field(default_factory=list)


DEMO_NOTICES = [
    # in notice now, for three more days; one resident objected and was answered
    DemoNotice(
        community="竹韵社区",
        resolution_text=DEMO_RESOLUTIONS[1].text,
        started_days_ago=2,
        objections=[
            DemoObjection(
                "zhuyun-05",
                "我家在3栋一楼，离广场很近。早上8点播放有点早，周末能不能推迟到9点？",
                "已与街道和物业商定：周末播放时段改为9:00–20:00，工作日不变；"
                "3栋附近的音箱朝向调整为背向住户。",
            )
        ],
    ),
    # its notice over: in effect
    DemoNotice(
        community="东篱社区",
        resolution_text=DEMO_RESOLUTIONS[2].text,
        started_days_ago=8,
        objections=[
            DemoObjection(
                "dongli-06",
                "公告栏装在轿厢里会不会挡住楼层按钮和应急电话？",
                "公告栏装在轿厢侧壁，不挡按钮和应急电话，安装后由网格长逐部检查。",
            )
        ],
    ),
]


def seed_notices() -> int:
    """Put the demo resolutions on notice, with their objections and
    answers, dated back; returns how many notices were started."""
    from meetings.projects.services import notice

    started = 0
    now = utcnow()
    for demo in DEMO_NOTICES:
        community = db.session.scalar(db.select(Community).where(Community.name == demo.community))
        if community is None:
            continue
        resolution = db.session.scalar(
            db.select(Resolution)
            .join(Resolution.meeting)
            .where(Meeting.community_id == community.id, Resolution.text == demo.resolution_text)
        )
        if resolution is None or not notice._may_start(resolution):
            continue
        secretary = _secretary_of(community)
        start = now - timedelta(days=demo.started_days_ago)
        notice.start_notice(secretary, resolution, demo.days, now=start)
        for objection_demo in demo.objections:
            resident = auth_services.get_user_by_username(objection_demo.username)
            objection = notice.object_to(
                resident, resolution, objection_demo.reason, now=start + timedelta(days=1)
            )
            answered = min(start + timedelta(days=2), now)
            notice.answer_objection(
                secretary, objection, objection_demo.answer, objection_demo.upheld, now=answered
            )
        # as the clock's job would, an hour after the period ended
        settled_at = resolution.notice_ends_at + timedelta(hours=1)
        if settled_at <= now:
            notice.settle(resolution, settled_at)
        started += 1
    db.session.flush()
    return started
