"""Demo orders (派单 → 接单 → 办理 → 反馈 → 评价) and visit logs of the seed
stories, for ``flask seed-demo``, through the same services as the site,
then dated back. Invented people (``meetings.organisation.demo``):

- 星怡社区's 五微 way (居民点单、支部吹哨、党员报到、网格办理、物业保障): the
  flea bites in the underground garage and the cooking oil spilled on a
  staircase, both handled by the property company within hours and rated;
  a cluttered corridor dispatched to a party member, who is on it; a broken
  door lock dispatched to a grid and left unclaimed past its due date;
- 东篱社区: a grid leader logs the bathroom leak of an elderly resident
  without an account from a WeChat message, with a photo; the property
  company fixes it and the grid leader records her rating; a street lamp
  "fixed" by half gets 2 stars and is reopened; a lift button waits for the
  property company to claim it; the grid leaders' visit logs.

A story already there (same community and title) is left alone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auth import services as auth_services
from auth.models import Community, User
from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.organisation.models import Grid, Unit
from meetings.projects.demo import picture
from meetings.requests import orders, photos, services, visits
from meetings.requests.models import RequestCategory, ResidentRequest, Visit


@dataclass
class Resident:
    """A resident without an account, as the grid worker heard them."""

    name: str
    phone: str
    building: str


@dataclass
class DemoOrder:
    community: str
    title: str
    category: RequestCategory
    location: str
    description: str
    hours_ago: int  # when it was raised
    requester: str | None = None  # a resident's username …
    resident: Resident | None = None  # … or one without an account
    raised_by: str | None = None  # the grid worker who logged it
    channel: str = "app"
    photo: tuple[str, str] | None = None  # a drawn photo: (wall colour, floor colour)
    # (kind, username / grid / unit name, due in days): dispatched by the secretary
    dispatch_to: tuple[str, str, int] | None = None
    claimed_by: str | None = None
    steps: list[str] = field(default_factory=list)
    reply: str | None = None  # marked handled with this reply
    rating: tuple[int, str] | None = None  # by the resident (or the grid worker for them)


DEMO_ORDERS = [
    DemoOrder(
        "星怡社区",
        "地下车库有跳蚤",
        RequestCategory.SANITATION,
        "星怡花园52号楼地下车库",
        "昨晚去地下车库推电瓶车，腿上被跳蚤咬了好几个包，在微信群里说了一下，希望物业尽快消杀。",
        hours_ago=30,
        requester="xingyi-07",
        channel="wechat_group",
        dispatch_to=("unit", "星怡红色物业服务站", 1),
        claimed_by="xingyi-12",
        steps=["上午对52号楼地下车库全面喷洒药水除虫，下午复查。"],
        reply="物业已对地下车库全面消杀，一周后再喷洒一次。如再发现请随时在群里说。",
        rating=(5, "今早就看到物业在喷药水，反应速度很快！"),
    ),
    DemoOrder(
        "星怡社区",
        "楼道和电梯里泼了食用油",
        RequestCategory.SAFETY_HAZARD,
        "星怡花园32号楼2单元楼道及电梯",
        "32号楼201室新来的租户搬家时把食用油泼在楼道和电梯里了，地面很滑，老人小孩容易摔倒。",
        hours_ago=20,
        resident=Resident("蒋女士", "13951230000", "32号楼"),
        raised_by="xingyi-10",
        channel="wechat_group",
        dispatch_to=("unit", "星怡红色物业服务站", 0),
        claimed_by="xingyi-12",
        steps=["物业保洁员、党员和网格长与租户一起清洗楼道和电梯地面，用了一个多小时。"],
        reply="楼道和电梯地面已清洗干净，摆放了“小心地滑”提示牌，已提醒租户注意。",
        rating=(5, "蒋女士在群里说：清理得很干净，谢谢大家。"),
    ),
    DemoOrder(
        "星怡社区",
        "楼道堆放杂物",
        RequestCategory.SAFETY_HAZARD,
        "星怡花园35号楼1单元",
        "1单元一楼楼道里堆了旧家具和纸箱，挡住了消防通道。",
        hours_ago=10,
        requester="xingyi-05",
        dispatch_to=("user", "xingyi-04", 2),
        claimed_by="xingyi-04",
        steps=["已联系堆放的住户，约好明天上午一起清理。"],
    ),
    DemoOrder(
        "星怡社区",
        "单元门禁损坏",
        RequestCategory.PUBLIC_FACILITIES,
        "星怡花园52号楼3单元",
        "3单元门禁刷卡没反应，门一直关不上，外来人员随便进出。",
        hours_ago=80,
        requester="xingyi-08",
        dispatch_to=("grid", "第五网格", 1),
    ),
    DemoOrder(
        "东篱社区",
        "卫生间吊顶渗水",
        RequestCategory.PROPERTY_SERVICE,
        "优山美地花园183幢",
        "柳阿婆在网格微信群里说：家里卫生间吊顶渗水好几天了，一直在滴水，"
        "像是楼上漏下来的。阿婆一个人住，行动不便。",
        hours_ago=50,
        resident=Resident("柳阿婆", "13862410000", "183幢"),
        raised_by="dongli-09",
        channel="wechat_group",
        photo=("#e9e4d8", "#b9b2a3"),
        dispatch_to=("unit", "优山美地物业服务中心", 2),
        claimed_by="dongli-12",
        steps=[
            "上门查看：楼上卫生间防水层破损，已联系楼上住户。",
            "重新做了楼上卫生间防水，更换了柳阿婆家受潮的吊顶。",
        ],
        reply="楼上卫生间防水已重做，吊顶已更换，不再渗水。网格长已上门告知阿婆。",
        rating=(5, "阿婆说不滴水了，很满意（网格长电话回访记录）。"),
    ),
    DemoOrder(
        "东篱社区",
        "小区路灯不亮",
        RequestCategory.PUBLIC_FACILITIES,
        "优山美地花园186幢至188幢之间的步道",
        "步道上的两盏路灯已经一个星期不亮了，晚上散步看不清路。",
        hours_ago=120,
        requester="dongli-10",
        dispatch_to=("unit", "优山美地物业服务中心", 2),
        claimed_by="dongli-12",
        steps=["更换了187幢旁路灯的灯泡。"],
        reply="路灯已修好。",
        rating=(2, "只修好了一盏，188幢旁边那盏还是不亮。"),
    ),
    DemoOrder(
        "东篱社区",
        "电梯按钮失灵",
        RequestCategory.PROPERTY_SERVICE,
        "优山美地花园184幢2号电梯",
        "2号电梯里8楼的按钮按了没反应，只能到7楼再走上去。",
        hours_ago=3,
        requester="dongli-07",
        dispatch_to=("unit", "优山美地物业服务中心", 3),
    ),
]


@dataclass
class DemoVisit:
    community: str
    grid: str
    visitor: str
    visited: str
    notes: str
    follow_up: str
    days_ago: int


DEMO_VISITS = [
    DemoVisit(
        "东篱社区",
        "第四网格",
        "dongli-11",
        "190幢 柴大爷",
        "柴大爷中风后坐轮椅已有一段时间，家属白天上班。向家属介绍了护理补贴政策。",
        "协助家属准备护理补贴申请材料，下周一送社区民政条线。",
        days_ago=4,
    ),
    DemoVisit(
        "东篱社区",
        "第三网格",
        "dongli-09",
        "183幢 柳阿婆",
        "回访卫生间渗水：吊顶已换，不再滴水，阿婆很满意。阿婆独居，腿脚不便。",
        "每周电话问候一次。",
        days_ago=1,
    ),
    DemoVisit(
        "星怡社区",
        "第二网格",
        "xingyi-10",
        "32号楼 新搬来的租户",
        "提醒租户搬家注意楼道卫生，介绍了小区垃圾分类和电动车充电规定。",
        "",
        days_ago=0,
    ),
]


def _user(username: str) -> User:
    return auth_services.get_user_by_username(username)


def _secretary_of(community: Community) -> User:
    return next(m.user for m in community.memberships if m.is_secretary)


def _assignee(community: Community, kind: str, name: str) -> orders.AssigneeChoice:
    if kind == "user":
        return orders.AssigneeChoice("user", _user(name).id)
    if kind == "grid":
        grid_id = db.session.scalar(
            db.select(Grid.id).where(Grid.community_id == community.id, Grid.name == name)
        )
        return orders.AssigneeChoice("grid", grid_id)
    return orders.AssigneeChoice(
        "unit", db.session.scalar(db.select(Unit.id).where(Unit.name == name))
    )


def _raise(demo: DemoOrder, community: Community) -> ResidentRequest:
    draft = services.RequestDraft(demo.title, demo.description, demo.category, demo.location)
    if demo.resident is not None:
        details = services.ResidentDetails(
            demo.resident.name, demo.resident.phone, demo.resident.building
        )
        return services.raise_for_resident(
            _user(demo.raised_by), community, details, draft, demo.channel
        )
    requester = _user(demo.requester)
    if demo.raised_by is not None:
        return services.raise_on_behalf(
            _user(demo.raised_by), community, requester, draft, demo.channel
        )
    return services.raise_request(requester, community, draft, demo.channel)


def _date_back(item: ResidentRequest, raised_at: datetime) -> None:
    """Raised ``hours_ago``; each later step an hour or two after the one before."""
    now = utcnow()
    item.created_at = raised_at
    steps = [*item.events, *item.steps, *item.ratings, *item.photos]
    times = sorted({id(s): s for s in steps}.values(), key=lambda s: _when(s))
    gap = min(timedelta(hours=2), (now - raised_at) / (len(times) + 1))
    for number, step in enumerate(times):
        moment = raised_at + gap * number
        for name in ("at", "created_at"):
            if hasattr(step, name):
                setattr(step, name, moment)
    if item.dispatched_at:
        item.dispatched_at = _first(item, "dispatched") or item.dispatched_at
    if item.claimed_at:
        item.claimed_at = _first(item, "claimed") or item.claimed_at
    if item.handled_at:
        item.handled_at = item.replied_at = _first(item, "handled") or item.handled_at


def _when(step) -> datetime:
    return getattr(step, "at", None) or step.created_at


def _first(item: ResidentRequest, status: str) -> datetime | None:
    return next((e.at for e in item.events if e.to_status == status), None)


def _play(demo: DemoOrder, community: Community) -> None:
    secretary = _secretary_of(community)
    item = _raise(demo, community)
    raiser = _user(demo.raised_by) if demo.raised_by else _user(demo.requester)
    if demo.photo is not None:
        photos.add_request_photo(
            raiser, item, io.BytesIO(picture(*demo.photo, seed=len(demo.title)))
        )
    if demo.dispatch_to is not None:
        kind, name, due_in_days = demo.dispatch_to
        due = orders.today() + timedelta(days=due_in_days)
        orders.dispatch(secretary, item, _assignee(community, kind, name), due)
    if demo.claimed_by is not None:
        handler = _user(demo.claimed_by)
        orders.claim(handler, item)
        for note in demo.steps:
            orders.add_step(handler, item, note)
        if demo.reply is not None:
            orders.mark_handled(handler, item, demo.reply)
    if demo.rating is not None:
        score, comment = demo.rating
        orders.rate(item.requester or raiser, item, score, comment)
    _date_back(item, utcnow() - timedelta(hours=demo.hours_ago))
    if demo.dispatch_to is not None and demo.claimed_by is None and demo.hours_ago > 48:
        # waited past its due date: dispatched days ago, due yesterday
        item.order_due_date = orders.today() - timedelta(days=1)


def seed_orders() -> int:
    """The demo orders and visits; returns how many orders were created."""
    created = 0
    for demo in DEMO_ORDERS:
        community = db.session.scalar(db.select(Community).where(Community.name == demo.community))
        if community is None:
            continue
        exists = db.session.scalar(
            db.select(ResidentRequest.id).where(
                ResidentRequest.community_id == community.id, ResidentRequest.title == demo.title
            )
        )
        if exists is not None:
            continue
        _play(demo, community)
        created += 1
    db.session.flush()
    _seed_visits()
    return created


def _seed_visits() -> None:
    for demo in DEMO_VISITS:
        grid = db.session.scalar(
            db.select(Grid)
            .join(Grid.community)
            .where(Community.name == demo.community, Grid.name == demo.grid)
        )
        if grid is None:
            continue
        logged = db.session.scalar(
            db.select(Visit.id).where(Visit.grid_id == grid.id, Visit.visited == demo.visited)
        )
        if logged is not None:
            continue
        visits.log_visit(
            _user(demo.visitor),
            grid,
            demo.visited,
            demo.notes,
            demo.follow_up or None,
            visited_at=utcnow() - timedelta(days=demo.days_ago, hours=3),
        )
    db.session.flush()
