"""Demo data for ``flask --app wsgi seed-demo``: the communities of the seed
stories with invented people. Idempotent: what exists is left alone."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app

from auth import services as auth_services
from auth.models import Community, Membership, User
from meetings.dbtypes import utcnow
from meetings.duty import demo as duty_demo
from meetings.extensions import db
from meetings.meeting import demo as meeting_demo
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes import demo_text as minutes_demo_text
from meetings.minutes import services as minutes_services
from meetings.minutes.draft import generate_draft
from meetings.organisation import demo as organisation_demo
from meetings.projects import demo as project_demo
from meetings.requests import demo as request_demo
from meetings.requests import services as request_services
from meetings.requests.models import RequestCategory, ResidentRequest

DISTRICT = "南通经济技术开发区"

# (community, street, username prefix) — the communities of the newspaper reports.
COMMUNITIES = [
    ("东篱社区", "中兴街道", "dongli"),
    ("星怡社区", "竹行街道", "xingyi"),
    ("竹韵社区", "竹行街道", "zhuyun"),
]

# Invented names: never the people of the reports.
SECRETARIES = ["林书文", "周晓岚", "陈立群"]
RESIDENTS = [
    [
        "王桂兰",
        "李建国",
        "张秀英",
        "刘志强",
        "陈美玲",
        "杨德胜",
        "赵淑珍",
        "孙海涛",
        "吴玉梅",
        "徐国庆",
        "朱丽华",
        "马文斌",
    ],
    [
        "何静怡",
        "罗卫东",
        "梁素芬",
        "宋家豪",
        "唐月娥",
        "许振华",
        "邓春燕",
        "冯建平",
        "曹雪梅",
        "彭志远",
        "曾宝珠",
        "萧汉明",
    ],
    [
        "田秀云",
        "董立新",
        "袁翠花",
        "潘国栋",
        "蒋丽君",
        "蔡永生",
        "余桂芳",
        "杜明辉",
        "叶春兰",
        "程大伟",
        "魏红霞",
        "沈家宝",
    ],
]


def demo_password() -> str:
    """DEMO_PASSWORD, or a random one written to the instance folder on first use."""
    if env := os.environ.get("DEMO_PASSWORD"):
        return env
    path = Path(current_app.instance_path) / "demo-password.txt"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password


def _ensure_user(username: str, display_name: str, password: str) -> tuple[User, bool]:
    user = auth_services.get_user_by_username(username)
    if user is not None:
        return user, False
    user = User(username=username, display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    return user, True


def _ensure_member(user: User, community: Community, is_secretary: bool) -> None:
    if user.membership_in(community.id) is None:
        db.session.add(Membership(user=user, community=community, is_secretary=is_secretary))


def _ensure_admin(report: list[str]) -> None:
    admin = db.session.scalar(db.select(User).where(User.is_admin.is_(True)).limit(1))
    if admin is not None:
        report.append(f"Administrator: {admin.username} (exists; password unchanged)")
        return
    password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    auth_services.set_admin_password("admin", password)
    report.append(f"Administrator created: admin / {password}")


def seed() -> list[str]:
    report: list[str] = []
    _ensure_admin(report)
    password = demo_password()
    created = 0
    for (name, street, prefix), secretary, residents in zip(
        COMMUNITIES, SECRETARIES, RESIDENTS, strict=True
    ):
        community = db.session.scalar(db.select(Community).where(Community.name == name))
        if community is None:
            community = Community(name=name, street=street, district=DISTRICT)
            db.session.add(community)
            db.session.flush()
        user, new = _ensure_user(f"{prefix}-sec", secretary, password)
        created += new
        db.session.flush()
        _ensure_member(user, community, is_secretary=True)
        for number, resident in enumerate(residents, start=1):
            user, new = _ensure_user(f"{prefix}-{number:02d}", resident, password)
            created += new
            db.session.flush()
            _ensure_member(user, community, is_secretary=False)
    db.session.flush()
    created += organisation_demo.seed_organisation(password)
    report.append(f"Demo accounts created: {created}")
    report.append(f"Demo requests created: {_seed_requests()}")
    report.append(f"Demo orders created: {request_demo.seed_orders()}")
    report.append(f"Demo meetings created: {meeting_demo.seed_meetings()}")
    report.append(f"Demo resolutions created: {project_demo.seed_projects()}")
    report.append(f"Demo minutes published: {_seed_minutes()}")
    report.append(f"Demo duty records: {duty_demo.seed_duty()} rows")
    report.append(
        "Demo logins: dongli-sec, xingyi-sec, zhuyun-sec (secretaries), "
        "dongli-09 and xingyi-10 (grid leaders), dongli-12 and xingyi-12 (property "
        "companies), zhuxing-01 (竹行街道 office), jiaojing-01 (traffic police), "
        f"dongli-01 … zhuyun-12 (residents); password: {password}"
    )
    return report


# --- minutes (会议纪要) of the meetings that are over ---------------------------


def _seed_minutes() -> int:
    """Publish the minutes of every closed demo meeting, as its community's
    secretary would: the generated draft with what was said written in (no
    place left to write), so that the portal has something to show.
    Runs after the projects, since a resolution cannot follow publication."""
    published = 0
    names = [name for name, _street, _prefix in COMMUNITIES]
    closed = db.session.scalars(
        db.select(Meeting)
        .join(Meeting.community)
        .where(Meeting.status == MeetingStatus.CLOSED, Community.name.in_(names))
        .order_by(Meeting.id)
    )
    for meeting in closed:
        secretary = next(
            (m.user for m in auth_services.members_of(meeting.community) if m.is_secretary), None
        )
        if secretary is None:
            continue
        body = minutes_demo_text.finished(meeting.title, generate_draft(meeting))
        version = minutes_services.save_version(secretary, meeting, body)
        minutes_services.publish(secretary, version)
        published += 1
    db.session.flush()
    return published


# --- resident requests (居民诉求) of the seed stories -------------------------


@dataclass
class DemoRequest:
    community: str
    requester: str  # username of an invented resident
    title: str
    category: RequestCategory
    location: str
    description: str
    days_ago: int
    raised_by: str | None = None  # the secretary who typed it in for the resident
    reply: tuple[str, str, int] | None = None  # (action, message, days ago)


DEMO_REQUESTS = [
    DemoRequest(
        "东篱社区",
        "dongli-03",
        "活动室地板磨损",
        RequestCategory.PUBLIC_FACILITIES,
        "优山美地花园182幢一层活动室",
        "182幢一层的活动室用了很多年，乒乓球室、舞蹈室的地板磨损严重，有的地方鼓包，"
        "容易绊脚打滑，老人来活动很不安全。墙面也有霉斑，卫生间环境较差。",
        days_ago=55,
        reply=(
            "accept",
            "已列入议题。社区将召开“有事好商量”协商议事会，请政协委员、业委会代表、"
            "党员代表和居民代表一起商量活动室改造方案。",
            53,
        ),
    ),
    DemoRequest(
        "东篱社区",
        "dongli-05",
        "电梯轿厢广告",
        RequestCategory.PROPERTY_SERVICE,
        "优山美地花园各幢电梯轿厢",
        "电梯轿厢里贴满了小广告，成了“大花脸”，既不美观，也挡住了安全提示。",
        days_ago=9,
        reply=(
            "answer",
            "网格长当天已和社区总网格长到现场查看，并召开协商议事会商定：小广告由物业全部清理，"
            "电梯内设统一公告栏，今后张贴须先到物业登记。",
            9,
        ),
    ),
    DemoRequest(
        "东篱社区",
        "dongli-08",
        "飞马转盘中心路拥堵",
        RequestCategory.TRAFFIC,
        "优山美地花园飞马转盘中心路",
        "小区内部的飞马转盘中心路车流和人流越来越多，车辆乱停乱放，早晚上下班高峰出行不畅。",
        days_ago=14,
        reply=(
            "accept",
            "已列入议题。将请居民代表、业委会代表和物业代表一起协商：设道闸、定停车规则，"
            "还是移交市政管理。",
            12,
        ),
    ),
    DemoRequest(
        "竹韵社区",
        "zhuyun-04",
        "智慧音箱安装",
        RequestCategory.PUBLIC_FACILITIES,
        "竹韵社区各小区公共区域",
        "街道提议在小区安装智慧音箱，用于惠民政策宣传和防灾减灾、消防安全提醒。"
        "居民担心音箱装在卧室窗下影响休息，希望先商量安装位置、音量和播放时段。",
        days_ago=30,
        raised_by="zhuyun-sec",
        reply=(
            "accept",
            "已列入议题。将邀请街道代表、社区两委委员、物业代表和居民代表协商安装位置、"
            "音量控制和播放时段。",
            28,
        ),
    ),
    DemoRequest(
        "东篱社区",
        "dongli-01",
        "楼道里给电动自行车充电",
        RequestCategory.SAFETY_HAZARD,
        "优山美地花园各幢楼道",
        "有人把电动自行车推进楼道、从家里拉电线充电，晚上楼道里停满了车，"
        "一旦起火后果不堪设想。希望小区建集中充电棚。",
        days_ago=6,
        reply=(
            "accept",
            "已列入议题。社区将召开协商会，请业委会、物业和居民代表商量充电棚的选址和收费。",
            4,
        ),
    ),
    DemoRequest(
        "星怡社区",
        "xingyi-03",
        "广场舞音响太吵",
        RequestCategory.OTHER,
        "星怡花园中心广场",
        "每天晚上广场舞的音响开到九点半以后，声音很大，住在附近的老人和孩子休息不好。",
        days_ago=5,  # no reply yet: overdue
    ),
]


def _seed_requests() -> int:
    """The requests of the seed stories, through the same services as the
    site, then dated back. A request already there (same title) is left alone."""
    created = 0
    now = utcnow()
    for demo in DEMO_REQUESTS:
        community = db.session.scalar(db.select(Community).where(Community.name == demo.community))
        exists = db.session.scalar(
            db.select(ResidentRequest.id).where(
                ResidentRequest.community_id == community.id, ResidentRequest.title == demo.title
            )
        )
        if exists is not None:
            continue
        requester = auth_services.get_user_by_username(demo.requester)
        draft = request_services.RequestDraft(
            demo.title, demo.description, demo.category, demo.location
        )
        if demo.raised_by:
            secretary = auth_services.get_user_by_username(demo.raised_by)
            item = request_services.raise_on_behalf(secretary, community, requester, draft)
        else:
            item = request_services.raise_request(requester, community, draft)
        item.created_at = item.events[0].at = now - timedelta(days=demo.days_ago, hours=2)
        if demo.reply is not None:
            action, message, days_ago = demo.reply
            secretary = next(m.user for m in community.memberships if m.is_secretary)
            request_services.reply_to_request(secretary, item, action, message)
            item.replied_at = item.events[-1].at = now - timedelta(days=days_ago)
        created += 1
    db.session.flush()
    return created
