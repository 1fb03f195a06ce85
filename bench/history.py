"""Five years of a street office's history (issue 14) in a fresh PostgreSQL database.

    .venv/bin/python bench/history.py [--scale 1.0] [--keep] [--seed 14]
                                      [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

``--scale 1.0`` is the street office of issue 14: 30 communities, about
20,000 residents, 50,000 requests (21,000 of them orders), 10,000 meetings,
375,000 attendances, 900,000 ballots, 35,000 visits, 700,000 notifications
and 2,800,000 audit entries over the five years up to now. Every count but
the communities', the streets' and the units' scales with the factor
(``--scale 0.01`` is a quick one; grids scale only below 0.1); the 30
communities differ in size, the largest about 2.3 times the average.

It creates a database next to ``--postgres-url`` (the server must let the
user create databases), builds the schema with the app's migrations, then
plays the five years through in memory — residents join, raise requests, the
secretaries answer or accept them, meetings are drafted, announced, held or
called off with the accepted requests as topics, attendees answer and check
in, polls are voted and counted with the app's own rule
(``meetings.polls.outcome.decide``), resolutions open projects that make
progress and get rated, minutes are written, sent round and published,
notifications go out and every step leaves its audit entry — and writes the
rows with COPY, in their final state: the schema's constraints and triggers
stay on (the triggers of migrations 0007–0009 refuse UPDATE and DELETE of
ballots, the voter roll, the audit log and published minutes, so nothing is
written twice). The audit entries get their place in the hash chain (``seq``,
``prev_hash``, ``hash``) computed with ``meetings.audit.services`` as the app
does, so ``flask --app wsgi audit verify`` says ok. Sequences are set after
the COPY and the tables analysed.

The organisation of issue 15 is there too: the 30 communities lie in three
streets (街道, round robin: community 1, 4, 7 … in the first), each with its
official on the street office's staff; each community has grids (网格, 4–8
by its size, fewer when it has few residents) whose leader and 1–3 members
are residents and which cover the buildings (幢) in turn; units serve them —
a property company per community, four departments serving all the
communities of a street and six partner units serving several. Memberships
carry standing roles. About 40% of the requests go through the order
workflow (dispatched to a grid, a unit or a person with a due date, claimed,
steps, handled with a reply, rated; a rating of 2 or less reopens and
dispatches again; handed back now and then; unclaimed and overdue orders are
flagged to the secretary — the open ones are those of the last weeks); a
fifth are raised on a resident's behalf through a channel (WeChat group,
phone, home visit, walk-in, the building's QR code), half of those for
residents without an account. Answered and handled requests are rated or
close after the rating period (7 days); grid workers keep a visit log (about
three visits per grid per month at full size); half of the projects name a
responsible unit or person and resolutions with a project carry 0–2
conditions as tasks. No photos (their bytes would dwarf the rest).

Every account's password is ``BENCH_PASSWORD`` (below). The administrator is
``admin``; the secretaries ``sec-01`` … ``sec-30`` (``sec-01`` runs the
largest community); residents ``c01-00001`` …; the street officials
``street-1`` … ``street-3`` are the staff of the streets 1–3 and members of
their communities. The grids of community NN are led by its first residents
(``c01-00001`` leads 第一网格 of 东篱社区, ``c01-00002`` 第二网格 …), their
members come next. Unit members are ``unit-UU-K``: units 01–30 are the
property companies of communities 1–30 (``unit-01-1`` works for 东篱物业),
31–42 the departments (four per street) and 43–60 the partner units (six
per street).

The database is dropped at the end unless ``--keep``, which prints its URL.
``bench/pages.py --fill SCALE`` calls :func:`fill` from here.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import importlib.util
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meetings.audit.services import canonical_content, entry_hash  # noqa: E402
from meetings.meeting.models import ROLE_CHINESE  # noqa: E402
from meetings.polls.outcome import Count, decide  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_PASSWORD = "bench-password-14"  # noqa: S105 — every account of the bench database
GENESIS_HASH = "0" * 64
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)

# --- sizes at scale 1.0 -----------------------------------------------------------------

COMMUNITIES = 30
RESIDENTS = 20_000
REQUESTS = 50_000
MEETINGS = 10_000
YEARS = 5
STREET_OFFICIALS = 3
REPLY_DAYS = 3  # the app's REQUEST_REPLY_DAYS
RATING_DAYS = 7  # the app's REQUEST_RATING_DAYS: unrated requests close then
CLAIM_HOURS = 24  # the app's ORDER_CLAIM_HOURS: an order unclaimed longer is flagged
ORDERS = 0.40  # the share of requests dispatched as orders
ON_BEHALF = 0.20  # raised for a resident by a secretary or a grid worker
WITHOUT_ACCOUNT = 0.10  # … for a resident without an account
VISITS_PER_GRID_MONTH = 3
HOUR = timedelta(hours=1)

# --- words ----------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


COMMUNITY_NAMES = words(
    "东篱 星怡 竹韵 紫薇 枫林 兰亭 桂苑 梅园 荷塘 松涛 柳岸 杏花 桃源 梧桐 银杏 "
    "碧水 青山 白鹭 金桥 玉兰 海棠 芙蓉 丁香 香樟 翠竹 锦绣 和畅 安居 康乐 长青"
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = words(
    "桂兰 建国 秀英 志强 丽华 海燕 红梅 国华 玉珍 文杰 晓明 小红 春花 德胜 淑芬 明辉 "
    "静怡 子轩 雨桐 浩然 凤英 金龙 美玲 永红 立新 卫东 爱华 振华 秀珍 宏伟 雪梅 建华 "
    "婷婷 俊杰 佳怡 书文 晓岚 立群 兰芳 福生"
)
PLACES = [f"{n}幢" for n in range(1, 60)] + words(
    "东门 西门 南门 北门 地下车库 小区广场 活动室 健身区 儿童乐园 垃圾分类点 中心路 "
    "便民服务站 电动车棚 物业中心 老年食堂 篮球场 小游园 沿河步道"
)
ISSUES = {
    "property_service": [
        "物业服务不到位",
        "保洁频次太低",
        "门禁经常故障",
        "楼道灯不亮",
        "电梯维保不及时",
    ],
    "sanitation": ["垃圾清运不及时", "绿化带堆放杂物", "下水道堵塞", "蚊虫较多", "楼道堆物"],
    "traffic": ["停车位不足", "电动车乱停放", "路面破损", "夜间照明不足", "消防通道被占"],
    "public_facilities": [
        "健身器材损坏",
        "座椅需要更换",
        "充电桩不够",
        "活动室地面破损",
        "加装电梯",
    ],
    "safety_hazard": ["外墙瓷砖脱落", "电动车楼道充电", "井盖松动", "围墙开裂", "高空抛物"],
    "other": ["噪音扰民", "宠物管理", "广告张贴", "邻里纠纷", "快递堆放"],
}
CATEGORIES = list(ISSUES)
GENERAL_ITEMS = [
    "上次决议落实情况通报",
    "实事项目进展通报",
    "居民公约修订",
    "其他事项",
    "下阶段工作安排",
]
UNITS = ["物业公司", "社区居委会", "街道城管科", "业委会", "街道办事处", "区住建局"]
ANSWERS = [
    "已联系物业处理，请您留意。",
    "已转交相关部门，预计一周内解决。",
    "经现场查看，已安排维修。",
    "感谢反映，已纳入日常巡查。",
]
REJECTIONS = ["不属于社区职责范围，已告知相关部门电话。", "经核实情况不属实。"]
COMMENTS = [
    "同意这个方案。",
    "建议先征求楼栋居民意见。",
    "费用怎么分摊？",
    "希望尽快实施。",
    "支持。",
]
ROLES = {  # role: weight among residents invited
    "resident_rep": 50,
    "party_member_rep": 10,
    "owners_committee_rep": 8,
    "property_rep": 5,
    "grid_leader": 7,
    "inservice_party_member": 5,
    "npc_deputy": 2,
    "cppcc_member": 2,
    "expert": 3,
    "observer": 8,
}
DECISION_OF_OUTCOME = {
    "adopted": "adopted",
    "decided": "adopted",
    "rejected": "rejected",
    "no_quorum": "rejected",
}
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
STREETS = ["新开街道", "小海街道", "竹行街道"]
NUMERALS = "一二三四五六七八九十"
DEPARTMENTS = ["交警中队", "城管中队", "民政办", "住建办"]
PARTNERS = ["供电所", "人民医院", "实验中学", "农商银行", "邮政支局", "城建集团"]
BUILDINGS_PER_GRID = 6
CHANNELS = {  # channel: weight among requests raised for a resident
    "wechat_group": 35,
    "phone": 20,
    "home_visit": 25,
    "walk_in": 12,
    "building_qr": 8,
}
STANDING_ROLES = {  # standing role: share of the residents holding it
    "resident_rep": 0.05,
    "party_member_rep": 0.04,
    "owners_committee_rep": 0.01,
    "inservice_party_member": 0.01,
    "npc_deputy": 0.002,
    "cppcc_member": 0.002,
}
STEP_NOTES = [
    "已到现场查看，联系相关人员。",
    "已安排维修人员上门。",
    "材料已采购，等待施工。",
    "已与居民沟通处理方案。",
    "施工中，预计明天完成。",
]
HANDLED_REPLIES = [
    "已处理完毕，请您查看。",
    "维修已完成，感谢您的反映。",
    "已清理干净，将加强日常巡查。",
    "已协调解决，如有问题请再联系网格员。",
]
HAND_BACK_REASONS = ["不属于本单位职责范围。", "人手不足，请另行派单。", "需要其他部门配合。"]
RATING_COMMENTS = {
    5: ["很满意，处理及时。", "谢谢网格员！", ""],
    4: ["比较满意。", ""],
    3: ["还行，希望更快一些。", ""],
    2: ["问题没有彻底解决。", "处理太慢。"],
    1: ["根本没有解决。", "没人来处理。"],
}
CONDITIONS = ["音量由专人控制", "施工避开休息时间", "先实地勘查", "每周通报进度", "完工后组织验收"]
VISIT_NOTES = [
    "身体状况良好，无诉求。",
    "反映楼道灯不亮。",
    "独居老人，需定期关注。",
    "反映停车难。",
    "对小区环境比较满意。",
    "反映下水道有异味。",
]
FOLLOW_UPS = ["下周再次走访。", "已告知物业。", "纳入重点关注名单。"]


# --- what is played through -------------------------------------------------------------


@dataclass(slots=True, eq=False)
class User:
    key: int
    username: str
    display_name: str
    created_at: datetime
    is_admin: bool = False
    phone: str | None = None
    is_active: bool = True
    id: int = 0


@dataclass(slots=True, eq=False)
class Request:
    community: Community
    requester: User | None  # None: a resident without an account (resident_name)
    raised_by: User | None
    created_at: datetime
    category: str
    title: str
    location: str
    channel: str = "app"
    resident_name: str | None = None
    resident_phone: str | None = None
    building: str | None = None
    status: str = "submitted"
    reply: str | None = None
    replied_at: datetime | None = None
    replied_by: User | None = None
    # (at, actor, from, to, message, extra): extra holds the order's assignee
    # and due date on a dispatch, the rating on a close or reopening by rating
    events: list[tuple] = field(default_factory=list)
    available_at: datetime | None = None  # accepted: may become a topic from then on
    # the order as it stands
    assignee: tuple[str, User | Grid | Unit] | None = None
    due: date | None = None
    dispatched_at: datetime | None = None
    claimed_by: User | None = None
    claimed_at: datetime | None = None
    handled_at: datetime | None = None
    flagged_at: datetime | None = None
    steps: list[tuple] = field(default_factory=list)  # (at, author, note)
    flags: list[tuple] = field(default_factory=list)  # (at, overdue?) told the secretary
    id: int = 0

    def move(
        self, at: datetime, actor: User | None, to: str, message: str | None, extra=None
    ) -> None:
        self.events.append((at, actor, self.status, to, message, extra))
        self.status = to


@dataclass(slots=True, eq=False)
class Meeting:
    community: Community
    title: str
    created_at: datetime
    starts_at: datetime
    ends_at: datetime
    status: str
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    published_at: datetime | None = None  # the minutes' first publication
    topics: list[Request] = field(default_factory=list)
    id: int = 0


@dataclass(slots=True, eq=False)
class Street:
    id: int
    name: str
    created_at: datetime
    official: User
    communities: list[Community] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Grid:
    id: int
    community: Community
    name: str
    buildings: list[str]
    created_at: datetime
    members: list[User] = field(default_factory=list)  # the leader first

    @property
    def leader(self) -> User:
        return self.members[0]


@dataclass(slots=True, eq=False)
class Unit:
    id: int
    name: str
    kind: str
    created_at: datetime
    communities: list[Community] = field(default_factory=list)
    members: list[User] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Community:
    number: int
    name: str
    weight: float
    created_at: datetime
    secretary: User | None = None
    street: Street | None = None
    grids: list[Grid] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)  # those serving it, its property company first
    roles: dict[int, str] = field(default_factory=dict)  # user key: standing role
    party_members: list[User] = field(default_factory=list)
    residents: list[User] = field(default_factory=list)  # in joining order
    joined: list[datetime] = field(default_factory=list)  # the residents' created_at
    regulars: list[User] = field(default_factory=list)  # come to many meetings
    requests: list[Request] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    id: int = 0


# --- COPY files -------------------------------------------------------------------------

# Load order (foreign keys) and columns of every table written.
TABLES: dict[str, tuple[str, ...]] = {
    "user_account": words(
        "id username display_name phone email password_hash is_active is_admin locale created_at"
    ),
    "street": words("id name district created_at"),
    "community": words("id name street district street_id created_at"),
    "street_staff": words("id street_id user_id created_at"),
    "membership": words("id user_id community_id is_secretary standing_role created_at"),
    "grid": words("id community_id name buildings created_at"),
    "grid_member": words("id grid_id user_id is_leader created_at"),
    "unit": words("id name kind created_at"),
    "unit_community": words("unit_id community_id"),
    "unit_member": words("id unit_id user_id created_at"),
    "resident_request": words(
        "id community_id requester_id resident_name resident_phone building channel "
        "raised_by_id title description category location contact status reply replied_at "
        "replied_by_id created_at assignee_user_id assignee_grid_id assignee_unit_id "
        "order_due_date dispatched_at claimed_by_id claimed_at handled_at flagged_at"
    ),
    "request_event": words("id request_id at actor_id from_status to_status message"),
    "request_step": words("id request_id author_id note at"),
    "request_rating": words("id request_id rated_by_id score comment created_at"),
    "visit": words("id grid_id visitor_id visited notes follow_up visited_at request_id"),
    "meeting": words(
        "id community_id title description starts_at ends_at location online_url host_id "
        "recorder_id status cancel_reason sequence created_by_id created_at updated_at "
        "scheduled_at started_at closed_at cancelled_at "
        "allow_proxies max_proxies_per_person speaking_limit_seconds"
    ),
    "meeting_topic": words("meeting_id request_id"),
    "agenda_item": words("id meeting_id position title description planned_minutes"),
    "agenda_item_request": words("agenda_item_id request_id"),
    "attendance": words(
        "id meeting_id user_id role may_vote rsvp rsvp_at presence checked_in_at "
        "checked_in_by_id invited_at invited_by_id notified_at"
    ),
    "proposal": words("id agenda_item_id author_id title body status created_at withdrawn_at"),
    "proposal_comment": words("id proposal_id author_id body created_at hidden_at hidden_by_id"),
    "poll": words(
        "id agenda_item_id title kind max_choices secret majority quorum_percent present_only "
        "in_room status created_by_id created_at opened_at closed_at eligible_count cast_count "
        "quorum_met outcome tie result_entered_by_id result_entered_at"
    ),
    "poll_option": words("id poll_id position label code proposal_id votes won"),
    "poll_voter": words("poll_id user_id"),
    "poll_vote": words("poll_id user_id"),
    "pending_ballot": words("poll_id receipt voter_id option_ids"),
    "ballot": words("poll_id receipt voter_id"),
    "ballot_choice": words("poll_id receipt option_id"),
    "minutes_version": words(
        "id meeting_id number body_markdown created_by_id created_at circulated_at "
        "published_at published_by_id"
    ),
    "minutes_confirmation": words("id version_id user_id confirmed_at comment answered_at"),
    "project": words(
        "id community_id title description responsible_unit responsible_unit_id "
        "responsible_user_id budget due_date status suspended_reason progress_percent "
        "created_by_id created_at completed_at"
    ),
    "resolution": words(
        "id meeting_id agenda_item_id poll_id decision text conditions project_id "
        "created_by_id created_at status"
    ),
    "resolution_condition": words(
        "id resolution_id text assignee_user_id assignee_unit_id due_date done_at done_by_id "
        "done_note created_by_id created_at"
    ),
    "project_request": words("project_id request_id"),
    "project_update": words(
        "id project_id on_date percent note status photo_filename photo_content_type "
        "author_id created_at"
    ),
    "project_rating": words("id project_id user_id score comment created_at"),
    "notification": words(
        "id user_id kind subject body link created_at read_at email_status attempts "
        "next_attempt_at claimed_at sent_at last_error"
    ),
    "audit_entry": words("id at actor_id action object_type object_id data seq prev_hash hash"),
}
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One field in COPY's text format (times are naive UTC, as the app stores them)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (int, date, Decimal)):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPES)
    raise TypeError(f"no COPY text for {value!r}")


class Rows:
    """A COPY file per table, written as the history is played, loaded at the end."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.files = {name: open(directory / f"{name}.tsv", "w") for name in TABLES}  # noqa: SIM115
        self.counts: Counter[str] = Counter()
        self.next_ids: Counter[str] = Counter()

    def new_id(self, table: str) -> int:
        self.next_ids[table] += 1
        return self.next_ids[table]

    def add(self, table: str, *values) -> None:
        self.files[table].write("\t".join(map(copy_text, values)) + "\n")
        self.counts[table] += 1

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


# --- the history ------------------------------------------------------------------------


class History:
    def __init__(self, scale: float, seed: int, rows: Rows, now: datetime):
        self.scale = scale
        self.random = random.Random(seed)
        self.rows = rows
        self.now = now  # naive UTC
        self.start = now - timedelta(days=365 * YEARS)
        self.audit: list[tuple] = []  # (at, actor_id, action, object_type, object_id, data)
        self.notes: list[tuple] = []  # (created_at, user_id, kind, subject, body, link)
        self.password_hash = ""
        self.users: list[User] = []
        self.communities: list[Community] = []
        self.officials: list[User] = []
        self.streets: list[Street] = []
        self.units: list[Unit] = []
        self.visits: list[tuple] = []  # (at, grid, visitor, visited, notes, follow_up, request)

    # helpers

    def between(self, low: datetime, high: datetime) -> datetime:
        if high <= low:
            return low
        span = (high - low).total_seconds()
        return low + timedelta(seconds=int(self.random.random() * span))

    def record(self, at, actor: User | None, action: str, object_type: str, object_id, **data):
        self.audit.append(
            (at, actor.id if actor else None, action, object_type, object_id, data or {})
        )

    def notify(self, at, user: User, kind: str, subject: str, body: str, link: str | None):
        self.notes.append((at, user.id, kind, subject[:200], body, link))

    def person(self, key: int, username: str, created_at: datetime) -> User:
        name = self.random.choice(SURNAMES) + self.random.choice(GIVEN)
        phone = f"13{self.random.randrange(10**9):09d}" if self.random.random() < 0.6 else None
        user = User(key, username, name, created_at, phone=phone)
        self.users.append(user)
        return user

    # 1. people and communities

    def people(self) -> None:
        admin = User(0, "admin", "街道管理员", self.start - DAY, is_admin=True)
        self.users.append(admin)
        self.admin = admin
        raw = [1 / (i + 8) for i in range(COMMUNITIES)]
        weights = [w / sum(raw) for w in raw]
        for number, weight in enumerate(weights, start=1):
            community = Community(
                number,
                COMMUNITY_NAMES[number - 1] + "社区",
                weight,
                self.start - DAY + number * MINUTE,
            )
            self.communities.append(community)
            community.secretary = self.person(
                len(self.users), f"sec-{number:02d}", community.created_at + MINUTE
            )
        for n in range(1, STREET_OFFICIALS + 1):
            official = self.person(len(self.users), f"street-{n}", self.start)
            self.officials.append(official)
            street = Street(n, STREETS[n - 1], self.start - DAY, official)
            self.streets.append(street)
        for community in self.communities:
            community.street = self.streets[(community.number - 1) % len(self.streets)]
            community.street.communities.append(community)
        self.organise_units()
        span = (self.now - self.start).total_seconds()
        for community in self.communities:
            count = max(8, round(RESIDENTS * self.scale * community.weight))
            times = sorted(
                self.start + timedelta(seconds=span * self.random.random() ** 1.3)
                if self.random.random() > 0.3
                else self.start
                for _ in range(count)
            )
            for k, joined in enumerate(times, start=1):
                user = self.person(len(self.users), f"c{community.number:02d}-{k:05d}", joined)
                user.is_active = self.random.random() > 0.01
                community.residents.append(user)
            community.joined = [user.created_at for user in community.residents]
            community.regulars = self.random.sample(
                community.residents, max(5, len(community.residents) // 7)
            )
        self.users.sort(key=lambda u: (u.created_at, u.key))
        for number, user in enumerate(self.users, start=1):
            user.id = number
        for community in self.communities:
            community.id = community.number
            self.organise_grids(community)
            self.standing_roles(community)
        self.plan_visits()

    def organise_units(self) -> None:
        """A property company per community; four departments serving all the
        communities of a street and six partner units serving some of them;
        1–4 member accounts each (``unit-UU-K``)."""
        rnd = self.random
        founded = self.start - DAY + 2 * HOUR

        def unit(name: str, kind: str, communities: list[Community]) -> Unit:
            made = Unit(len(self.units) + 1, name, kind, founded + len(self.units) * MINUTE)
            self.units.append(made)
            made.communities = sorted(communities, key=lambda c: c.number)
            for community in made.communities:
                community.units.append(made)
            for k in range(1, rnd.randint(1, 4) + 1):
                username = f"unit-{made.id:02d}-{k}"
                made.members.append(self.person(len(self.users), username, made.created_at))
            return made

        for community in self.communities:
            unit(f"{community.name[:-2]}物业", "property_company", [community])
        for street in self.streets:
            for name in DEPARTMENTS:
                unit(f"{street.name[:-2]}{name}", "department", street.communities)
        for street in self.streets:
            for name in PARTNERS:
                served = rnd.sample(street.communities, min(len(street.communities), 4))
                unit(f"{street.name[:-2]}{name}", "partner_unit", served)

    def organise_grids(self, community: Community) -> None:
        """4–8 grids by the community's size (fewer with few residents), led
        by its first residents, with the next ones as members."""
        rnd = self.random
        largest = self.communities[0].weight
        smallest = self.communities[-1].weight
        by_size = 4 + round(4 * (community.weight - smallest) / (largest - smallest))
        count = max(1, min(by_size, len(community.residents) // 6))
        workers = [u for u in community.residents if u.is_active]
        leaders, others = workers[:count], workers[count:]
        for n in range(count):
            first = n * BUILDINGS_PER_GRID + 1
            buildings = [f"{b}幢" for b in range(first, first + BUILDINGS_PER_GRID)]
            grid = Grid(
                sum(len(c.grids) for c in self.communities) + 1,
                community,
                f"第{NUMERALS[n]}网格",
                buildings,
                community.created_at + (10 + n) * MINUTE,
                [leaders[n]],
            )
            for _ in range(rnd.randint(1, 3)):
                if others:
                    grid.members.append(others.pop(0))
            community.grids.append(grid)
        for grid in community.grids:
            for user in grid.members:
                community.roles[user.key] = (
                    "grid_leader" if user is grid.leader else ("party_member_rep")
                )
                community.party_members.append(user)

    def standing_roles(self, community: Community) -> None:
        rnd = self.random
        community.roles[community.secretary.key] = "community_committee"
        community.roles[community.street.official.key] = "street_official"
        for unit in community.units[:1]:
            for user in unit.members:
                community.roles[user.key] = "property_rep"
        for user in community.residents:
            if user.key in community.roles:
                continue
            roll = rnd.random()
            for role, share in STANDING_ROLES.items():
                if roll < share:
                    community.roles[user.key] = role
                    if role == "party_member_rep" and user.is_active:
                        community.party_members.append(user)
                    break
                roll -= share

    def grid_of(self, community: Community, place: str) -> Grid:
        """The grid covering a building, else any."""
        if place.endswith("幢"):
            n = (int(place[:-1]) - 1) // BUILDINGS_PER_GRID
            if n < len(community.grids):
                return community.grids[n]
        return self.random.choice(community.grids)

    def plan_visits(self) -> None:
        """The grid workers' visit log: about three visits per grid per month
        at full size (the numbers scale); some become requests (``plan_requests``)."""
        rnd = self.random
        span = (self.now - self.start).total_seconds()
        per_community = VISITS_PER_GRID_MONTH * 12 * YEARS * 6 * COMMUNITIES  # 6 grids on average
        for community in self.communities:
            for _ in range(round(per_community * community.weight * self.scale)):
                grid = rnd.choice(community.grids)
                visitor = rnd.choice(grid.members)
                at = self.start + timedelta(seconds=span * rnd.random() ** 0.9)
                at = max(at, visitor.created_at + HOUR)
                if at < self.now:
                    self.visits.append(
                        (
                            at,
                            grid,
                            visitor,
                            f"{rnd.choice(grid.buildings)}{self.elder()}",
                            rnd.choice(VISIT_NOTES),
                            rnd.choice(FOLLOW_UPS) if rnd.random() < 0.3 else None,
                            None,
                        )
                    )

    def elder(self) -> str:
        """Whom a grid worker names: 王阿姨, 李大爷 …"""
        return self.random.choice(SURNAMES) + self.random.choice(("阿姨", "大爷", "师傅", "女士"))

    # 2. requests and the meetings that take them up

    def plan(self) -> None:
        for community in self.communities:
            self.plan_requests(community)
            self.plan_meetings(community)
        everything = [r for c in self.communities for r in c.requests]
        everything.sort(key=lambda r: r.created_at)
        for number, item in enumerate(everything, start=1):
            item.id = number
        meetings = [m for c in self.communities for m in c.meetings]
        meetings.sort(key=lambda m: m.created_at)
        for number, meeting in enumerate(meetings, start=1):
            meeting.id = number
        self.meetings = meetings

    def plan_requests(self, community: Community) -> None:
        rnd = self.random
        count = max(5, round(REQUESTS * self.scale * community.weight))
        span = (self.now - self.start).total_seconds()
        joined = [user.created_at for user in community.residents]
        secretary = community.secretary
        for _ in range(count):
            created = self.start + timedelta(seconds=span * rnd.random() ** 0.85)
            eligible = max(1, bisect.bisect_right(joined, created))
            requester = community.residents[rnd.randrange(eligible)]
            created = max(created, requester.created_at + MINUTE)
            category = rnd.choice(CATEGORIES)
            place = rnd.choice(PLACES)
            item = Request(
                community,
                requester,
                None,
                created,
                category,
                f"{place}{rnd.choice(ISSUES[category])}",
                f"{community.name}{place}",
            )
            if rnd.random() < ON_BEHALF:
                self.on_behalf(item, place)
            item.events.append(
                (created, item.raised_by or requester, None, "submitted", None, None)
            )
            community.requests.append(item)
            replied = created + timedelta(days=rnd.expovariate(1 / 1.5))
            if replied >= self.now:
                continue
            roll = rnd.random()
            if roll < ORDERS:
                self.order(item, replied)
            elif roll < ORDERS + 0.2:
                self.reply(item, replied, "answered", rnd.choice(ANSWERS))
                self.settle(item, replied)
            elif roll < ORDERS + 0.25:
                self.reply(item, replied, "rejected", rnd.choice(REJECTIONS))
                closed = replied + timedelta(days=rnd.uniform(1, 30))
                if closed < self.now and rnd.random() < 0.5:
                    item.move(closed, secretary, "closed", "已结案。")
            else:
                self.reply(item, replied, "accepted", "将提交协商议事会讨论。")
                item.available_at = replied
        community.requests.sort(key=lambda r: r.created_at)

    def on_behalf(self, item: Request, place: str) -> None:
        """Raised by the secretary or the building's grid worker, heard through
        a channel; half of them for a resident without an account. A home
        visit is in the visit log and links to the request."""
        rnd = self.random
        community = item.community
        grid = self.grid_of(community, place)
        worker = rnd.choice(grid.members)
        raiser = community.secretary if rnd.random() < 0.3 else worker
        item.raised_by = raiser
        item.channel = rnd.choices(list(CHANNELS), list(CHANNELS.values()))[0]
        if raiser is community.secretary and item.channel == "home_visit":
            item.channel = "walk_in"
        if rnd.random() < WITHOUT_ACCOUNT / ON_BEHALF:
            item.requester = None
            item.resident_name = self.elder()
            item.resident_phone = f"13{rnd.randrange(10**9):09d}" if rnd.random() < 0.8 else None
            item.building = place if place.endswith("幢") else rnd.choice(grid.buildings)
        item.created_at = max(item.created_at, raiser.created_at + MINUTE)
        if item.channel == "home_visit":
            self.visits.append(
                (
                    item.created_at - timedelta(minutes=rnd.randint(10, 90)),
                    grid,
                    raiser,
                    f"{item.building or place}{item.resident_name or item.requester.display_name}",
                    f"反映{item.title}。",
                    "已登记为诉求。",
                    item,
                )
            )

    def reply(self, item: Request, at: datetime, to: str, message: str) -> None:
        item.move(at, item.community.secretary, to, message)
        item.reply, item.replied_at, item.replied_by = message, at, item.community.secretary

    def order(self, item: Request, at: datetime, again: bool = False) -> None:
        """The order workflow from the secretary's dispatch at ``at`` (派单 →
        接单 → 办理 → 反馈 → 评价), as far as ``now``: now and then handed back
        and dispatched again, a few unclaimed or overdue for days (flagged to
        the secretary), 1–3 steps, the reply, the rating (``settle``)."""
        rnd = self.random
        secretary = item.community.secretary
        handed_back = False
        for _ in range(2):  # handed back once at most
            kind, target = self.assignee_for(item, at)
            due = (at + timedelta(days=rnd.choice((3, 5, 7, 7, 10, 14)))).date()
            note = rnd.choice((None, "请尽快处理。", "请联系居民上门查看。"))
            item.move(at, secretary, "dispatched", note, {"assignee": (kind, target), "due": due})
            item.assignee, item.due, item.dispatched_at = (kind, target), due, at
            item.claimed_by = item.claimed_at = item.flagged_at = None
            forgotten = rnd.random() < 0.06
            taken = at + HOUR * (rnd.uniform(26, 200) if forgotten else rnd.expovariate(1 / 5))
            people = [target] if kind == "user" else target.members
            worker = rnd.choice(people)
            taken = max(taken, worker.created_at + HOUR)
            if taken > at + CLAIM_HOURS * HOUR:
                self.flag(item, at + CLAIM_HOURS * HOUR + HOUR * rnd.random(), taken, False)
            overdue = datetime.combine(due + DAY, datetime.min.time()) + HOUR  # 09:00 in Shanghai
            if taken >= self.now:
                self.flag(item, overdue, self.now, True)
                return
            if not (again or handed_back) and rnd.random() < 0.05:
                handed_back = True
                item.move(taken, worker, "handed_back", rnd.choice(HAND_BACK_REASONS))
                item.assignee = item.due = item.claimed_by = item.claimed_at = None
                item.flagged_at = None
                at = taken + HOUR * rnd.uniform(2, 48)
                if at >= self.now:
                    return
                continue
            item.move(taken, worker, "claimed", None)
            item.claimed_by, item.claimed_at = worker, taken
            days = rnd.uniform(5, 40) if rnd.random() < 0.12 else rnd.uniform(0.2, 5)
            if self.now - taken < 120 * DAY and rnd.random() < 0.05:
                days = rnd.uniform(40, 150)  # stuck: still open, long overdue
            done = taken + DAY * days
            count = rnd.randint(1, 3)
            for n in range(1, count + 1):
                step = taken + (done - taken) * n / (count + 1)
                if step < self.now:
                    item.steps.append((step, worker, rnd.choice(STEP_NOTES)))
            self.flag(item, overdue, done, True)
            if done >= self.now:
                return
            reply = rnd.choice(HANDLED_REPLIES)
            item.move(done, worker, "handled", reply)
            item.reply, item.replied_at, item.replied_by = reply, done, worker
            item.handled_at = done
            self.settle(item, done, again)
            return

    def assignee_for(self, item: Request, at: datetime) -> tuple[str, User | Grid | Unit]:
        """The property company for its services, a department for roads and
        hazards, the building's grid, a partner unit, or a grid worker or
        party member by name."""
        rnd = self.random
        community = item.community
        place = item.building or item.location.removeprefix(community.name)
        units = {
            kind: [u for u in community.units if u.kind == kind]
            for kind in ("property_company", "department", "partner_unit")
        }
        weights = {  # grid, property company, department, partner unit, a person
            "property_service": (30, 55, 0, 5, 10),
            "sanitation": (35, 40, 10, 5, 10),
            "traffic": (30, 5, 45, 10, 10),
            "safety_hazard": (35, 10, 35, 10, 10),
        }.get(item.category, (40, 20, 10, 15, 15))
        choice = rnd.choices(
            ("grid", "property_company", "department", "partner_unit", "user"), weights
        )[0]
        people = [u for u in community.party_members if u.created_at < at]
        if choice == "user" and people:
            return "user", rnd.choice(people)
        if choice != "grid" and units[choice]:
            return "unit", rnd.choice(units[choice])
        return "grid", self.grid_of(community, place)

    def flag(self, item: Request, since: datetime, until: datetime, overdue: bool) -> None:
        """The secretary is told of a late order (``flask requests flag-orders``,
        hourly): when it became late and, when it is late still, today."""
        if since >= min(until, self.now):
            return
        item.flags.append((since, overdue))
        item.flagged_at = since
        if until >= self.now and self.now - since > DAY:
            item.flagged_at = self.now - HOUR * self.random.uniform(1, 20)
            item.flags.append((item.flagged_at, overdue))

    def settle(self, item: Request, at: datetime, again: bool = False) -> None:
        """A handled or answered request: the resident rates it (评价) — above
        2 closes it, 2 or less reopens it and the secretary dispatches it
        again — or it closes after the rating period. A resident without an
        account rates by phone to whoever raised the request, or not at all."""
        rnd = self.random
        rater = item.requester or (item.raised_by if rnd.random() < 0.5 else None)
        rated = at + DAY * rnd.expovariate(1 / 1.5)
        if rater is not None and rnd.random() < 0.65 and rated < at + RATING_DAYS * DAY:
            if rated >= self.now:
                return
            weights = (50, 35, 15, 0, 0) if again else (45, 33, 12, 6, 4)
            score = rnd.choices((5, 4, 3, 2, 1), weights)[0]
            comment = rnd.choice(RATING_COMMENTS[score])
            rating = {"rating": (rater, score, comment)}
            if score <= 2:
                item.move(rated, rater, "reopened", f"评分{score}分：{comment}", rating)
                dispatched = rated + HOUR * rnd.uniform(2, 48)
                if dispatched < self.now:
                    self.order(item, dispatched, again=True)
            else:
                message = f"评分{score}分。{comment}".strip()
                item.move(rated, rater, "closed", message, rating)
            return
        closed = at + RATING_DAYS * DAY + HOUR * rnd.random()
        if closed < self.now:
            item.move(closed, None, "closed", f"{RATING_DAYS}天内未评价，自动结案。")

    def plan_meetings(self, community: Community) -> None:
        rnd = self.random
        count = max(3, round(MEETINGS * self.scale * community.weight))
        first, last = self.start + 20 * DAY, self.now + 14 * DAY
        days = sorted(self.between(first, last).date() for _ in range(count))
        starts = []
        for day in days:
            hour = rnd.choice((1, 6, 11))  # 9:00, 14:00 or 19:00 in Shanghai
            starts.append(datetime(day.year, day.month, day.day, hour, 30 * rnd.randrange(2)))
        if community.number == 1 or rnd.random() < 0.3:  # a meeting under way right now
            starts.append(self.now - timedelta(minutes=45))
        queue = deque(r for r in community.requests if r.available_at is not None)
        waiting: list[Request] = []
        secretary = community.secretary
        for start in sorted(starts):
            ends = start + timedelta(minutes=rnd.choice((90, 120, 150)))
            scheduled = start - timedelta(days=rnd.uniform(5, 15))
            created = scheduled - timedelta(days=rnd.uniform(0.5, 3))
            meeting = Meeting(community, "", created, start, ends, "draft")
            community.meetings.append(meeting)
            # the accepted requests waiting by then, oldest first
            while queue and queue[0].available_at <= created:
                waiting.append(queue.popleft())
            waiting.sort(key=lambda r: r.available_at)
            take = rnd.choices((0, 1, 2, 3, 4), (10, 30, 30, 20, 10))[0]
            meeting.topics, waiting = waiting[:take], waiting[take:]
            if meeting.topics:
                meeting.title = f"{meeting.topics[0].title}协商会"
            else:
                meeting.title = f"{rnd.choice(PLACES)}{rnd.choice(GENERAL_ITEMS)}议事会"
            if start > self.now:
                if scheduled <= self.now and rnd.random() < 0.85:
                    meeting.status, meeting.scheduled_at = "scheduled", scheduled
                elif created > self.now:
                    meeting.created_at = self.now - DAY
            elif start == self.now - timedelta(minutes=45):
                meeting.status, meeting.scheduled_at, meeting.started_at = (
                    "in_progress",
                    scheduled,
                    start,
                )
            elif rnd.random() < 0.04:
                meeting.status = "cancelled"
                meeting.cancelled_at = start - timedelta(days=rnd.uniform(0.2, 2))
                if meeting.cancelled_at > scheduled:
                    meeting.scheduled_at = scheduled
            else:
                meeting.scheduled_at, meeting.started_at, meeting.closed_at = scheduled, start, ends
                published = ends + timedelta(days=rnd.uniform(2, 12))
                if published < self.now and rnd.random() > 0.01:
                    meeting.status, meeting.published_at = "minutes_published", published
                else:
                    meeting.status = "closed"
            if meeting.scheduled_at is not None:
                for item in meeting.topics:
                    item.move(
                        meeting.scheduled_at,
                        secretary,
                        "scheduled",
                        f"已列入“{meeting.title}”议程。",
                    )
            if meeting.status == "cancelled":
                for item in meeting.topics:
                    if meeting.scheduled_at is not None:
                        item.move(
                            meeting.cancelled_at, secretary, "accepted", "会议取消，另行安排。"
                        )
                    item.available_at = meeting.cancelled_at
                    queue.appendleft(item)
                queue = deque(sorted(queue, key=lambda r: r.available_at))
        # accepted long ago and never taken up: handled by the secretary
        for item in waiting + list(queue):
            handled = item.available_at + timedelta(days=rnd.uniform(90, 150))
            if item.status == "accepted" and handled < self.now:
                reply = "已通过日常工作解决。"
                item.move(handled, secretary, "handled", reply)
                item.reply, item.replied_at, item.replied_by = reply, handled, secretary
                item.handled_at = handled
                self.settle(item, handled)

    # 3. the meetings, one by one

    def play(self) -> None:
        for meeting in self.meetings:
            self.meeting(meeting)

    def meeting(self, meeting: Meeting) -> None:
        rnd, rows = self.random, self.rows
        community = meeting.community
        secretary = community.secretary
        status = meeting.status
        held = status in ("in_progress", "closed", "minutes_published")
        updated = max(
            t
            for t in (
                meeting.created_at,
                meeting.scheduled_at,
                meeting.started_at,
                meeting.closed_at,
                meeting.cancelled_at,
                meeting.published_at,
            )
            if t is not None
        )
        place = rnd.choice(PLACES)
        rows.add(
            "meeting",
            meeting.id,
            community.id,
            meeting.title,
            f"围绕“{meeting.title[:-3]}”听取居民意见，协商解决办法。",
            meeting.starts_at,
            meeting.ends_at,
            f"{community.name}{place}活动室"
            if place.endswith("幢")
            else f"{community.name}{place}",
            None,
            secretary.id,
            secretary.id,
            status,
            "场地临时无法使用，另行通知。" if status == "cancelled" else None,
            0,
            secretary.id,
            meeting.created_at,
            updated,
            meeting.scheduled_at,
            meeting.started_at,
            meeting.closed_at,
            meeting.cancelled_at,
            # the room's settings (issue 16): the defaults, no proxies
            False,
            1,
            180,
        )
        self.record(
            meeting.created_at,
            secretary,
            "meeting.created",
            "meeting",
            meeting.id,
            community_id=community.id,
            title=meeting.title,
        )
        for at, to, before in (
            (meeting.scheduled_at, "scheduled", "draft"),
            (meeting.started_at, "in_progress", "scheduled"),
            (meeting.closed_at, "closed", "in_progress"),
        ):
            if at is not None:
                self.record(
                    at,
                    secretary,
                    f"meeting.{to}",
                    "meeting",
                    meeting.id,
                    from_status=before,
                    reason=None,
                )
        if status == "cancelled":
            self.record(
                meeting.cancelled_at,
                secretary,
                "meeting.cancelled",
                "meeting",
                meeting.id,
                from_status="scheduled" if meeting.scheduled_at else "draft",
                reason="场地临时无法使用，另行通知。",
            )
        for item in meeting.topics:
            rows.add("meeting_topic", meeting.id, item.id)
            if meeting.scheduled_at is not None and item.requester is not None:
                self.notify(
                    meeting.scheduled_at,
                    item.requester,
                    "request.scheduled",
                    f"您反映的“{item.title}”将在协商议事会上讨论",
                    f"会议：{meeting.title}",
                    f"/requests/{item.id}",
                )

        attendances = self.attendances(meeting, held)
        items = self.agenda(meeting)
        outcomes = {}
        if status in ("scheduled", "in_progress") or held:
            for item_id, position, topic in items:
                outcomes[item_id] = self.deliberate(meeting, item_id, position, topic, attendances)
        if status in ("closed", "minutes_published"):
            resolutions = self.resolve(meeting, items, outcomes)
            self.minutes(meeting, attendances, resolutions)

    def attendances(self, meeting: Meeting, held: bool) -> list[tuple]:
        """Invite, answer, check in; returns (attendance id, user, role, may_vote, present)."""
        rnd, rows = self.random, self.rows
        community, secretary = meeting.community, meeting.community.secretary
        members = community.residents[: bisect.bisect_left(community.joined, meeting.created_at)]
        wanted = max(6, min(int(rnd.gauss(38, 8)), len(members) + 2))
        people: dict[int, tuple[User, str]] = {secretary.key: (secretary, "community_committee")}
        if rnd.random() < 0.5:
            official = community.street.official
            people[official.key] = (official, "street_official")
        for item in meeting.topics:
            if item.requester is not None:
                people.setdefault(item.requester.key, (item.requester, "resident_rep"))
        regulars = [u for u in community.regulars if u.created_at < meeting.created_at]
        tries = 0
        while len(people) < wanted and members and tries < 4 * wanted:
            tries += 1
            pool = regulars if regulars and rnd.random() < 0.6 else members
            user = rnd.choice(pool)
            if user.key not in people and user.is_active:
                role = community.roles.get(user.key)  # the standing role, if any
                people[user.key] = (user, role or rnd.choices(list(ROLES), list(ROLES.values()))[0])
        invited = meeting.scheduled_at or meeting.created_at
        result = []
        announced = meeting.scheduled_at is not None
        for user, role in people.values():
            attendance_id = rows.new_id("attendance")
            walk_in = held and user is not secretary and rnd.random() < 0.2
            invited_at = (
                meeting.started_at if walk_in else self.between(meeting.created_at, invited)
            )
            notified = None if walk_in or not announced else max(invited_at, meeting.scheduled_at)
            rsvp, rsvp_at, presence, checked_at, checked_by = "invited", None, None, None, None
            if walk_in:
                rsvp, rsvp_at = "accepted", invited_at
                presence, checked_at, checked_by = "present", invited_at, secretary
            elif notified is not None and user is not secretary:
                answered = self.between(
                    notified,
                    min(meeting.cancelled_at or meeting.starts_at, meeting.starts_at, self.now),
                )
                roll = rnd.random()
                if answered < self.now and roll < (0.85 if held else 0.5):
                    rsvp, rsvp_at = ("accepted" if roll < 0.75 else "declined"), answered
            elif user is secretary:
                rsvp, rsvp_at = "accepted", notified
            if held and not walk_in:
                chance = {"accepted": 0.88, "declined": 0.02, "invited": 0.4}[rsvp]
                if rnd.random() < chance:
                    presence = "present"
                    checked_at = meeting.starts_at - timedelta(minutes=rnd.uniform(0, 20))
                    checked_by = user if rnd.random() < 0.6 else secretary
                elif meeting.status != "in_progress":
                    presence = (
                        "excused" if rsvp == "declined" else rnd.choice(("absent", "excused"))
                    )
            may_vote = role != "observer"
            rows.add(
                "attendance",
                attendance_id,
                meeting.id,
                user.id,
                role,
                may_vote,
                rsvp,
                rsvp_at,
                presence,
                checked_at,
                checked_by.id if checked_by else None,
                invited_at,
                secretary.id,
                notified,
            )
            self.record(
                invited_at,
                secretary,
                "attendance.invited",
                "attendance",
                attendance_id,
                meeting_id=meeting.id,
                user_id=user.id,
                role=role,
                may_vote=may_vote,
            )
            if notified is not None:
                self.notify(
                    notified,
                    user,
                    "meeting.invited",
                    f"邀请：{meeting.title}",
                    f"诚邀您以{ROLE_CHINESE[role]}身份参加协商议事会“{meeting.title}”。",
                    f"/meetings/{meeting.id}",
                )
            if rsvp_at is not None and user is not secretary and not walk_in:
                self.record(
                    rsvp_at,
                    user,
                    "attendance.rsvp",
                    "attendance",
                    attendance_id,
                    meeting_id=meeting.id,
                    rsvp=rsvp,
                )
            if presence is not None:
                by = checked_by or secretary
                self.record(
                    checked_at or meeting.ends_at,
                    by,
                    "attendance.checked_in" if presence == "present" else "attendance.presence",
                    "attendance",
                    attendance_id,
                    meeting_id=meeting.id,
                    user_id=user.id,
                    presence=presence,
                    method="qr" if by is user else "secretary",
                )
            result.append((attendance_id, user, role, may_vote, presence == "present"))
        return result

    def agenda(self, meeting: Meeting) -> list[tuple]:
        """(agenda item id, position, topic request or None)."""
        rnd, rows = self.random, self.rows
        count = max(len(meeting.topics), rnd.choice((3, 4, 4, 5, 5, 6)))
        items = []
        for position in range(1, count + 1):
            topic = meeting.topics[position - 1] if position <= len(meeting.topics) else None
            item_id = rows.new_id("agenda_item")
            title = topic.title if topic else rnd.choice(GENERAL_ITEMS)
            rows.add(
                "agenda_item",
                item_id,
                meeting.id,
                position,
                title,
                "听取情况介绍，讨论解决方案。" if topic else "",
                rnd.choice((10, 15, 20, 30, 40)),
            )
            self.record(
                meeting.created_at + position * MINUTE,
                meeting.community.secretary,
                "agenda_item.added",
                "agenda_item",
                item_id,
                meeting_id=meeting.id,
                title=title,
            )
            if topic is not None:
                rows.add("agenda_item_request", item_id, topic.id)
            items.append((item_id, position, topic))
        return items

    def deliberate(self, meeting, item_id, position, topic, attendances) -> dict | None:
        """Proposals, comments and the item's poll; returns the closed poll's facts."""
        rnd, rows = self.random, self.rows
        secretary = meeting.community.secretary
        status = meeting.status
        # the meeting under way has its first item's poll open
        open_now = status == "in_progress" and position == 1
        if not open_now and rnd.random() > (0.9 if topic else 0.8):
            return None
        kind = rnd.choices(("yes_no_abstain", "single", "multiple"), (60, 30, 10))[0]
        prepared = self.between(meeting.created_at, min(meeting.starts_at, self.now))
        speakers = [a[1] for a in attendances] or [secretary]
        proposals = []
        if kind != "yes_no_abstain":
            for n in range(rnd.randint(2, 4)):
                proposal_id = rows.new_id("proposal")
                author = rnd.choice(speakers)
                title = f"方案{'一二三四'[n]}：{rnd.choice(UNITS)}负责实施"
                rows.add(
                    "proposal",
                    proposal_id,
                    item_id,
                    author.id,
                    title,
                    "具体做法、费用和工期见附件。",
                    "active",
                    prepared,
                    None,
                )
                self.record(
                    prepared,
                    author,
                    "proposal.tabled",
                    "proposal",
                    proposal_id,
                    agenda_item_id=item_id,
                )
                proposals.append((proposal_id, title))
                for _ in range(rnd.choices((0, 1, 2, 3), (40, 30, 20, 10))[0]):
                    comment_id = rows.new_id("proposal_comment")
                    commenter = rnd.choice(speakers)
                    said = self.between(prepared, min(meeting.ends_at, self.now))
                    hidden = rnd.random() < 0.02
                    rows.add(
                        "proposal_comment",
                        comment_id,
                        proposal_id,
                        commenter.id,
                        rnd.choice(COMMENTS),
                        said,
                        said + DAY if hidden else None,
                        secretary.id if hidden else None,
                    )
                    self.record(
                        said,
                        commenter,
                        "comment.added",
                        "proposal_comment",
                        comment_id,
                        proposal_id=proposal_id,
                    )
        if status == "scheduled" and rnd.random() < 0.7:
            return None
        poll_id = rows.new_id("poll")
        secret = rnd.random() < 0.4
        in_room = not secret and not open_now and kind != "multiple" and rnd.random() < 0.08
        majority = rnd.choices(("simple", "absolute", "two_thirds"), (75, 10, 15))[0]
        quorum = rnd.choices((None, 50, 60), (40, 40, 20))[0]
        present_only = rnd.random() < 0.4
        options = []
        if kind == "yes_no_abstain":
            for n, (code, label) in enumerate(
                (("yes", "赞成"), ("no", "反对"), ("abstain", "弃权"))
            ):
                options.append((rows.new_id("poll_option"), n + 1, label, code, None))
        else:
            for n, (proposal_id, title) in enumerate(proposals):
                options.append((rows.new_id("poll_option"), n + 1, title, None, proposal_id))
        max_choices = 2 if kind == "multiple" else 1
        title = f"关于{topic.title if topic else '本议题'}的表决"[:200]
        self.record(
            prepared,
            secretary,
            "poll.created",
            "poll",
            poll_id,
            kind=kind,
            secret=secret,
            in_room=in_room,
        )
        poll_status = "draft"
        opened = closed = None
        if status in ("in_progress", "closed", "minutes_published") and not (
            status == "in_progress" and position > 1
        ):
            poll_status = "open" if status == "in_progress" else "closed"
            opened = meeting.starts_at + (10 + 15 * position) * MINUTE
            if status == "in_progress":
                opened = min(opened, self.now - 20 * MINUTE)
            closed = opened + rnd.randint(5, 15) * MINUTE if poll_status == "closed" else None
            self.record(opened, secretary, "poll.opened", "poll", poll_id)
        votes: Counter[int] = Counter()
        eligible = cast = 0
        if poll_status != "draft" and not in_room:
            voters = [a for a in attendances if a[3] and (a[4] or not present_only)]
            eligible = len(voters)
            turnout = rnd.uniform(0.85, 0.99)
            prefer = self.preference(kind, options)
            receipts: set[str] = set()
            ballots = []
            for _attendance_id, user, _role, _may_vote, present in voters:
                rows.add("poll_voter", poll_id, user.id)
                if rnd.random() > (turnout if present else 0.3):
                    continue
                if poll_status == "open" and rnd.random() < 0.5:
                    continue  # not yet
                rows.add("poll_vote", poll_id, user.id)
                cast += 1
                chosen = self.choose(kind, options, prefer, max_choices)
                receipt = self.receipt(receipts)
                at = self.between(opened, closed or self.now)
                self.record(at, user, "ballot.cast", "poll", poll_id)
                ballots.append((receipt, None if secret else user.id, chosen))
                votes.update(chosen)
            rnd.shuffle(ballots)  # the close empties the box in a random order
            for receipt, voter_id, chosen in ballots:
                if poll_status == "open":
                    rows.add("pending_ballot", poll_id, receipt, voter_id, chosen)
                else:
                    rows.add("ballot", poll_id, receipt, voter_id)
                    for option_id in sorted(chosen):
                        rows.add("ballot_choice", poll_id, receipt, option_id)
        elif poll_status == "closed":  # a show of hands
            eligible = sum(1 for a in attendances if a[4])
            prefer = self.preference(kind, options)
            for _ in range(int(eligible * rnd.uniform(0.85, 1.0))):
                votes.update(self.choose(kind, options, prefer, 1))
            cast = sum(votes.values())
        result = None
        if poll_status == "closed":
            result = decide(
                kind,
                majority,
                eligible,
                cast,
                [Count(o[0], votes.get(o[0], 0), o[3]) for o in options],
                quorum_percent=quorum,
                max_choices=max_choices,
            )
        for option_id, n, label, code, proposal_id in options:
            rows.add(
                "poll_option",
                option_id,
                poll_id,
                n,
                label,
                code,
                proposal_id,
                votes.get(option_id, 0) if result else None,
                bool(result and option_id in result.winner_option_ids),
            )
        rows.add(
            "poll",
            poll_id,
            item_id,
            title,
            kind,
            max_choices,
            secret,
            majority,
            quorum,
            present_only,
            in_room,
            poll_status,
            secretary.id,
            prepared,
            opened,
            closed,
            eligible if result else None,
            cast if result else None,
            result.quorum_met if result else None,
            result.outcome.value if result else None,
            result.tie if result else None,
            secretary.id if result and in_room else None,
            closed if result and in_room else None,
        )
        if result is None:
            return None
        if in_room:
            self.record(
                closed,
                secretary,
                "poll.in_room_result",
                "poll",
                poll_id,
                present=eligible,
                cast=cast,
                outcome=result.outcome.value,
            )
        else:
            self.record(
                closed,
                secretary,
                "poll.closed",
                "poll",
                poll_id,
                eligible=eligible,
                cast=cast,
                outcome=result.outcome.value,
            )
        return {"poll_id": poll_id, "closed": closed, "outcome": result.outcome.value}

    def preference(self, kind: str, options: list[tuple]) -> list[float]:
        rnd = self.random
        if kind == "yes_no_abstain":
            yes = rnd.uniform(0.35, 0.9)
            abstain = rnd.uniform(0.02, 0.15)
            return [yes, max(0.01, 1 - yes - abstain), abstain]
        return [rnd.random() ** 2 + 0.05 for _ in options]

    def choose(self, kind, options, prefer, max_choices) -> list[int]:
        rnd = self.random
        if kind != "multiple":
            return [rnd.choices(options, prefer)[0][0]]
        count = rnd.randint(1, max_choices)
        chosen: list[int] = []
        while len(chosen) < count:
            option = rnd.choices(options, prefer)[0][0]
            if option not in chosen:
                chosen.append(option)
        return chosen

    def receipt(self, taken: set[str]) -> str:
        while True:
            receipt = "".join(self.random.choices(RECEIPT_ALPHABET, k=10))
            if receipt not in taken:
                taken.add(receipt)
                return receipt

    def resolve(self, meeting: Meeting, items, outcomes) -> list[tuple]:
        """Resolutions (and the projects they open); the topics are deliberated.
        Returns (request or None, decision, project facts or None)."""
        rnd, rows = self.random, self.rows
        secretary = meeting.community.secretary
        for item in meeting.topics:
            item.move(meeting.closed_at, secretary, "deliberated", "已在会上讨论。")
        resolved = []
        for item_id, _position, topic in items:
            poll = outcomes.get(item_id)
            if topic is None and (poll is None or rnd.random() < 0.5):
                continue
            decision = DECISION_OF_OUTCOME[poll["outcome"]] if poll else "adopted"
            at = (poll["closed"] if poll else meeting.ends_at - 10 * MINUTE) + MINUTE
            project = None
            if decision == "adopted" and rnd.random() < (0.6 if topic else 0.2):
                project = self.project(meeting, topic, at)
            resolution_id = rows.new_id("resolution")
            subject = topic.title if topic else "本议题"
            text = (
                f"同意按议定方案解决“{subject}”。"
                if decision == "adopted"
                else f"“{subject}”暂不实施。"
            )
            conditions = rnd.choice(
                ("", "", "先实地勘查", "费用由公共收益列支", "施工避开休息时间")
            )
            rows.add(
                "resolution",
                resolution_id,
                meeting.id,
                item_id,
                poll["poll_id"] if poll else None,
                decision,
                text,
                conditions,
                project["id"] if project else None,
                secretary.id,
                at,
                "recorded",
            )
            self.record(
                at,
                secretary,
                "resolution.recorded",
                "resolution",
                resolution_id,
                meeting_id=meeting.id,
                decision=decision,
                poll_id=poll["poll_id"] if poll else None,
                project_id=project["id"] if project else None,
            )
            if project is not None:
                self.conditions(meeting, resolution_id, project)
            resolved.append((topic, decision, text, project))
        return resolved

    def conditions(self, meeting: Meeting, resolution_id: int, project: dict) -> None:
        """0–2 conditions of the resolution as tasks, for the project's
        responsible unit or person (else a grid leader), most of them done."""
        rnd, rows = self.random, self.rows
        community, secretary = meeting.community, meeting.community.secretary
        at = project["at"] + MINUTE
        for text in rnd.sample(CONDITIONS, rnd.choice((0, 1, 1, 2))):
            condition_id = rows.new_id("resolution_condition")
            unit = project["unit"]
            user = None if unit else project["user"] or rnd.choice(community.grids).leader
            due = (at + DAY * rnd.randint(14, 60)).date()
            done = at + DAY * rnd.uniform(3, 70)
            doer = rnd.choice(unit.members) if unit else user
            if done >= self.now or rnd.random() < 0.15:
                done = None  # open; overdue once past its date
            rows.add(
                "resolution_condition",
                condition_id,
                resolution_id,
                text,
                user.id if user else None,
                unit.id if unit else None,
                due,
                done,
                doer.id if done else None,
                "已落实。" if done else None,
                secretary.id,
                at,
            )
            self.record(
                at,
                secretary,
                "condition.added",
                "resolution_condition",
                condition_id,
                resolution_id=resolution_id,
                assignee_user_id=user.id if user else None,
                assignee_unit_id=unit.id if unit else None,
                due_date=due.isoformat(),
            )
            for person in unit.members if unit else [user]:
                self.notify(
                    at,
                    person,
                    "condition.assigned",
                    f"新任务：{text}",
                    f"“{meeting.title}”的决议条件，{due:%Y-%m-%d}前完成。",
                    f"/conditions/{condition_id}",
                )
            if done is not None:
                self.record(
                    done,
                    doer,
                    "condition.done",
                    "resolution_condition",
                    condition_id,
                    resolution_id=resolution_id,
                )
                self.notify(
                    done,
                    secretary,
                    "condition.done",
                    f"已完成：{text}",
                    f"{doer.display_name}已完成此项条件。已落实。",
                    f"/conditions/{condition_id}",
                )

    def project(self, meeting: Meeting, topic: Request | None, at: datetime) -> dict:
        rnd, rows = self.random, self.rows
        community, secretary = meeting.community, meeting.community.secretary
        project_id = rows.new_id("project")
        title = f"{(topic.title if topic else meeting.title)[:40]}整改项目"
        unit = rnd.choice(UNITS)
        # half name who answers for it: a unit serving the community, or a grid leader
        responsible_unit = responsible_user = None
        reporters = [secretary]  # who post its progress
        roll = rnd.random()
        if roll < 0.35:
            responsible_unit = rnd.choice(community.units)
            unit = responsible_unit.name
            reporters += responsible_unit.members
        elif roll < 0.5:
            responsible_user = rnd.choice([g.leader for g in community.grids])
            reporters.append(responsible_user)
        budget = Decimal(rnd.randrange(2_000, 300_000)).quantize(Decimal("0.01"))
        due = (at + timedelta(days=rnd.randint(30, 180))).date()
        self.record(
            at,
            secretary,
            "project.created",
            "project",
            project_id,
            community_id=community.id,
            title=title,
            responsible_unit=unit,
            responsible_unit_id=responsible_unit.id if responsible_unit else None,
            responsible_user_id=responsible_user.id if responsible_user else None,
            budget=str(budget),
            due_date=due.isoformat(),
        )
        named = responsible_unit.members if responsible_unit else [responsible_user]
        for user in named if (responsible_unit or responsible_user) else []:
            self.notify(
                at,
                user,
                "project.responsible",
                f"您负责“{title}”",
                f"{community.name}指定您（或您的单位）负责该项目，请在项目页面报告进展。",
                f"/projects/{project_id}",
            )
        # progress up to now
        status, percent, completed, completed_by = "planned", 0, None, None
        day = at
        finish = datetime.combine(due, at.time()) + timedelta(days=rnd.randint(-20, 40))
        fate = rnd.random()
        steps = rnd.randint(1, 4)
        for step in range(1, steps + 1):
            day = at + (finish - at) * step / steps
            if day >= self.now:
                break
            last = step == steps
            to = None
            if last and fate < 0.06:
                to = "suspended"
            elif last and fate >= 0.12:
                to = "completed"
            elif status == "planned":
                to = "in_progress"
            new_percent = 100 if to == "completed" else min(95, percent + rnd.randint(10, 40))
            update_id = rows.new_id("project_update")
            # the secretary confirms completion (and suspends); the others report
            author = secretary if to in ("completed", "suspended") else rnd.choice(reporters)
            note = {"completed": "已完工并验收。", "suspended": "因资金未落实暂停。"}.get(
                to, "施工推进中。"
            )
            rows.add(
                "project_update",
                update_id,
                project_id,
                day.date(),
                new_percent,
                note,
                to,
                None,
                None,
                author.id,
                day,
            )
            self.record(
                day,
                author,
                "project.updated",
                "project",
                project_id,
                update_id=update_id,
                percent=new_percent,
                from_status=status,
                to_status=to,
                photo=False,
            )
            percent = new_percent
            if to is not None:
                status = to
            if to == "completed":
                completed, completed_by = day, author
        rows.add(
            "project",
            project_id,
            community.id,
            title,
            f"落实协商会“{meeting.title}”决议。",
            unit,
            responsible_unit.id if responsible_unit else None,
            responsible_user.id if responsible_user else None,
            budget,
            due,
            status,
            "因资金未落实暂停。" if status == "suspended" else None,
            percent,
            secretary.id,
            at,
            completed,
        )
        if completed is not None:
            voters = [u for u in community.residents if u.created_at < completed]
            for user in rnd.sample(voters, min(len(voters), rnd.randint(0, 25))):
                rated = self.between(completed, self.now)
                score = rnd.choices((5, 4, 3, 2, 1), (40, 35, 15, 6, 4))[0]
                rating_id = rows.new_id("project_rating")
                rows.add(
                    "project_rating",
                    rating_id,
                    project_id,
                    user.id,
                    score,
                    "" if rnd.random() < 0.7 else "满意。",
                    rated,
                )
                self.record(rated, user, "project.rated", "project", project_id, score=score)
        return {
            "id": project_id,
            "title": title,
            "completed": completed,
            "by": completed_by,
            "unit": responsible_unit,
            "user": responsible_user,
            "at": at,
        }

    def minutes(self, meeting: Meeting, attendances, resolved) -> None:
        rnd, rows = self.random, self.rows
        secretary = meeting.community.secretary
        published = meeting.published_at
        if published is None and rnd.random() < 0.3:
            return  # not written yet
        written = min(meeting.closed_at + DAY * rnd.uniform(0.5, 1.5), published or self.now)
        lines = [
            f"# {meeting.title}",
            "",
            f"- 时间：{meeting.starts_at:%Y-%m-%d %H:%M}（UTC）",
            f"- 出席：{sum(1 for a in attendances if a[4])}人",
            "",
            "## 会议议题",
        ]
        lines += [f"{n}. {topic.title}" for n, topic in enumerate(meeting.topics, start=1)]
        lines += ["", "## 协商情况", "与会人员充分发表意见，经协商达成以下共识。", "", "## 决议"]
        lines += [f"- {text}" for _topic, _decision, text, _project in resolved]
        body = "\n".join(lines)
        version_id = rows.new_id("minutes_version")
        circulated = None
        if rnd.random() < 0.3:
            circulated = written + DAY * rnd.uniform(0.2, 1)
            if published is not None and circulated > published:
                circulated = None
        rows.add(
            "minutes_version",
            version_id,
            meeting.id,
            1,
            body,
            secretary.id,
            written,
            circulated,
            published,
            secretary.id if published else None,
        )
        self.record(
            written,
            secretary,
            "minutes.saved",
            "minutes_version",
            version_id,
            meeting_id=meeting.id,
            number=1,
        )
        if circulated is not None:
            people = [a[1] for a in attendances if a[4] and a[1] is not secretary]
            self.record(
                circulated,
                secretary,
                "minutes.circulated",
                "minutes_version",
                version_id,
                number=1,
                to=len(people),
            )
            for user in people:
                answered = self.between(circulated, published or self.now)
                confirmed = rnd.random() < 0.4
                rows.add(
                    "minutes_confirmation",
                    rows.new_id("minutes_confirmation"),
                    version_id,
                    user.id,
                    answered if confirmed else None,
                    None,
                    answered if confirmed else None,
                )
                if confirmed:
                    self.record(
                        answered, user, "minutes.confirmed", "minutes_version", version_id, number=1
                    )
        if published is None:
            return
        self.record(
            published,
            secretary,
            "meeting.minutes_published",
            "meeting",
            meeting.id,
            from_status="closed",
        )
        self.record(
            published,
            secretary,
            "minutes.published",
            "minutes_version",
            version_id,
            meeting_id=meeting.id,
            number=1,
        )
        if rnd.random() < 0.04:
            corrected = published + DAY * rnd.uniform(1, 30)
            if corrected < self.now:
                second = rows.new_id("minutes_version")
                rows.add(
                    "minutes_version",
                    second,
                    meeting.id,
                    2,
                    body + "\n\n（更正：出席人数）",
                    secretary.id,
                    corrected,
                    None,
                    corrected,
                    secretary.id,
                )
                self.record(
                    corrected,
                    secretary,
                    "minutes.saved",
                    "minutes_version",
                    second,
                    meeting_id=meeting.id,
                    number=2,
                )
                self.record(
                    corrected,
                    secretary,
                    "minutes.corrected",
                    "minutes_version",
                    second,
                    meeting_id=meeting.id,
                    number=2,
                )
        # answering the requesters (件件有回音)
        for topic, decision, text, project in resolved:
            if topic is None:
                continue
            label = "同意" if decision == "adopted" else "不同意"
            reply = f"协商议事会“{meeting.title}”议定：\n{label}：{text}"
            if project is not None:
                reply += f" 项目：{project['title']}"
                self.rows.add("project_request", project["id"], topic.id)
            topic.move(published, secretary, "resolved", reply)
            topic.reply, topic.replied_at, topic.replied_by = reply, published, secretary
            # handled (waiting for the rating) now, or when the project is completed
            handled = published
            if project is None:
                topic.move(
                    published, secretary, "handled", f"已由“{meeting.title}”的会议纪要答复。"
                )
            elif project["completed"] is not None:
                handled = max(project["completed"], published)
                topic.reply = f"项目“{project['title']}”已完成。"
                topic.replied_at, topic.replied_by = handled, project["by"]
                topic.move(handled, project["by"], "handled", topic.reply)
            if topic.status == "handled":
                topic.handled_at = handled
                self.settle(topic, handled)
            if topic.requester is not None:
                self.notify(
                    published,
                    topic.requester,
                    "minutes.published",
                    f"您的诉求有了答复：“{meeting.title}”会议纪要已公布",
                    reply,
                    f"/minutes/{meeting.id}",
                )

    # 4. what is left: people, requests, notifications, the audit log

    def finish(self) -> None:
        rows = self.rows
        for user in self.users:
            rows.add(
                "user_account",
                user.id,
                user.username,
                user.display_name,
                user.phone,
                None,
                self.password_hash,
                user.is_active,
                user.is_admin,
                None,
                user.created_at,
            )
        admin = self.admin
        self.record(
            admin.created_at, None, "user.admin_set", "user_account", admin.id, created=True
        )
        for street in self.streets:
            rows.add("street", street.id, street.name, "南通经济技术开发区", street.created_at)
            self.record(
                street.created_at,
                admin,
                "street.created",
                "street",
                street.id,
                name=street.name,
                district="南通经济技术开发区",
            )
        for community in self.communities:
            street = community.street
            rows.add(
                "community",
                community.id,
                community.name,
                street.name,
                "南通经济技术开发区",
                street.id,
                community.created_at,
            )
            self.record(
                community.created_at,
                admin,
                "community.created",
                "community",
                community.id,
                name=community.name,
                street_id=street.id,
            )
            secretary = community.secretary
            self.membership(community, secretary, secretary.created_at, is_secretary=True)
            self.record(
                secretary.created_at,
                admin,
                "user.created",
                "user_account",
                secretary.id,
                community_id=community.id,
                is_secretary=True,
            )
            # the street's official and the property company's staff, added by the secretary
            for user in [street.official, *community.units[0].members]:
                self.membership(
                    community, user, max(user.created_at, community.created_at), added=True
                )
            for user in community.residents:
                self.membership(community, user, user.created_at)
                if self.random.random() < 0.7:
                    self.record(
                        user.created_at,
                        user,
                        "user.registered",
                        "user_account",
                        user.id,
                        community_id=community.id,
                    )
                else:
                    self.record(
                        user.created_at,
                        secretary,
                        "user.created",
                        "user_account",
                        user.id,
                        community_id=community.id,
                        is_secretary=False,
                    )
        for official in self.officials:
            self.record(
                official.created_at,
                admin,
                "user.created",
                "user_account",
                official.id,
                community_id=None,
                is_secretary=False,
            )
        self.organisation()
        self.requests()
        self.visit_log()
        self.notifications()
        self.audit_log()

    def membership(
        self,
        community: Community,
        user: User,
        at: datetime,
        is_secretary: bool = False,
        added: bool = False,
    ) -> None:
        """A member with their standing role: a person of elsewhere ``added``
        by the secretary, or a resident whose role the secretary set."""
        role = community.roles.get(user.key)
        membership_id = self.rows.new_id("membership")
        self.rows.add("membership", membership_id, user.id, community.id, is_secretary, role, at)
        if added:
            self.record(
                at,
                community.secretary,
                "membership.added",
                "membership",
                membership_id,
                community_id=community.id,
                user_id=user.id,
                standing_role=role,
            )
        elif role is not None and not is_secretary:
            self.record(
                at,
                community.secretary,
                "membership.role_set",
                "membership",
                membership_id,
                standing_role=role,
                previous=None,
            )

    def organisation(self) -> None:
        """The streets' staff, the grids and their members, the units, their
        communities and members — each step audited as the app audits it."""
        rows, admin = self.rows, self.admin
        for street in self.streets:
            official = street.official
            at = max(street.created_at, official.created_at)
            rows.add("street_staff", street.id, street.id, official.id, at)
            self.record(at, admin, "street.staff_added", "street", street.id, user_id=official.id)
            self.notify(
                at,
                official,
                "street.staff_added",
                f"您已成为{street.name}工作人员",
                f"您可以并排查看{street.name}各社区的情况。",
                f"/streets/{street.id}",
            )
        for community in self.communities:
            secretary = community.secretary
            for grid in community.grids:
                rows.add("grid", grid.id, community.id, grid.name, grid.buildings, grid.created_at)
                self.record(
                    grid.created_at,
                    secretary,
                    "grid.created",
                    "grid",
                    grid.id,
                    community_id=community.id,
                    name=grid.name,
                    buildings=grid.buildings,
                )
                for user in grid.members:
                    at = max(grid.created_at, user.created_at)
                    leads = user is grid.leader
                    rows.add("grid_member", rows.new_id("grid_member"), grid.id, user.id, leads, at)
                    self.record(
                        at,
                        secretary,
                        "grid.member_added",
                        "grid",
                        grid.id,
                        user_id=user.id,
                        is_leader=leads,
                    )
                    self.notify(
                        at,
                        user,
                        "grid.member_added",
                        f"您是{grid.name}的网格长" if leads else f"您是{grid.name}的网格员",
                        "",
                        f"/grids/{grid.id}",
                    )
        for unit in self.units:
            rows.add("unit", unit.id, unit.name, unit.kind, unit.created_at)
            for community in unit.communities:
                rows.add("unit_community", unit.id, community.id)
            self.record(
                unit.created_at,
                admin,
                "unit.created",
                "unit",
                unit.id,
                name=unit.name,
                kind=unit.kind,
                community_ids=[c.id for c in unit.communities],
            )
            for user in unit.members:
                at = user.created_at + MINUTE
                self.record(
                    user.created_at,
                    admin,
                    "user.created",
                    "user_account",
                    user.id,
                    community_id=None,
                    is_secretary=False,
                )
                rows.add("unit_member", rows.new_id("unit_member"), unit.id, user.id, at)
                self.record(at, admin, "unit.member_added", "unit", unit.id, user_id=user.id)
                self.notify(
                    at, user, "unit.member_added", f"您是{unit.name}的成员", "", f"/units/{unit.id}"
                )

    def requests(self) -> None:
        rows = self.rows
        everything = sorted((r for c in self.communities for r in c.requests), key=lambda r: r.id)
        for item in everything:
            kind, target = item.assignee or (None, None)
            rows.add(
                "resident_request",
                item.id,
                item.community.id,
                item.requester.id if item.requester else None,
                item.resident_name,
                item.resident_phone,
                item.building,
                item.channel,
                item.raised_by.id if item.raised_by else None,
                item.title,
                f"{item.location}：{item.title}，影响居民生活，希望尽快解决。",
                item.category,
                item.location,
                item.requester.phone if item.requester else None,
                item.status,
                item.reply,
                item.replied_at,
                item.replied_by.id if item.replied_by else None,
                item.created_at,
                target.id if kind == "user" else None,
                target.id if kind == "grid" else None,
                target.id if kind == "unit" else None,
                item.due,
                item.dispatched_at,
                item.claimed_by.id if item.claimed_by else None,
                item.claimed_at,
                item.handled_at,
                item.flagged_at,
            )
            for at, actor, before, to, message, extra in sorted(item.events, key=lambda e: e[0]):
                rows.add(
                    "request_event",
                    rows.new_id("request_event"),
                    item.id,
                    at,
                    actor.id if actor else None,
                    before,
                    to,
                    message,
                )
                if before is None:
                    self.record(
                        at,
                        actor,
                        "request.submitted",
                        "resident_request",
                        item.id,
                        community_id=item.community.id,
                        requester_id=item.requester.id if item.requester else None,
                        on_behalf=item.raised_by is not None,
                        channel=item.channel,
                    )
                    self.notify_secretary(
                        item,
                        at,
                        actor,
                        "request.submitted",
                        f"{item.community.name}新诉求：{item.title}",
                        item.title,
                    )
                    if item.raised_by is not None and item.requester is not None:
                        self.notify_resident(
                            item,
                            at,
                            actor,
                            "request.raised_for_you",
                            f"{actor.display_name}为您登记了诉求“{item.title}”",
                            "您可以在“我的诉求”中查看进展。",
                        )
                else:
                    self.record(
                        at,
                        actor,
                        f"request.{to}",
                        "resident_request",
                        item.id,
                        from_status=before,
                        message=message,
                    )
                self.event_effects(item, at, actor, before, to, message, extra or {})
            for at, author, note in item.steps:
                step_id = rows.new_id("request_step")
                rows.add("request_step", step_id, item.id, author.id, note, at)
                self.record(
                    at,
                    author,
                    "request.step",
                    "resident_request",
                    item.id,
                    step_id=step_id,
                    photos=0,
                )
                self.notify_resident(
                    item, at, author, "request.step", f"您的诉求“{item.title}”有新进展", note
                )
            for at, overdue in item.flags:
                self.notify_secretary(
                    item,
                    at,
                    None,
                    "order.late",
                    f"工单超期：“{item.title}”" if overdue else f"工单无人接单：“{item.title}”",
                    "已过办理期限，尚未办结。"
                    if overdue
                    else f"派单{CLAIM_HOURS}小时后仍无人接单。",
                )

    def event_effects(self, item: Request, at, actor, before, to, message, extra) -> None:
        """What a state change brings besides its history entry: the order's
        assignment, the rating and the notifications the app sends."""
        rows = self.rows
        title = item.title
        if to in ("answered", "rejected", "accepted"):
            self.notify_resident(
                item, at, actor, f"request.{to}", f"您反映的“{title}”已答复", message or ""
            )
        elif to == "dispatched":
            kind, target = extra["assignee"]
            self.record(
                at,
                actor,
                "request.order_assigned",
                "resident_request",
                item.id,
                assignee_kind=kind,
                assignee_id=target.id,
                due_date=extra["due"].isoformat(),
            )
            name = target.display_name if kind == "user" else target.name
            people = [target] if kind == "user" else target.members
            for user in people:
                if user is not actor and user.is_active:
                    self.notify(
                        at,
                        user,
                        "order.dispatched",
                        f"{name}的新工单：{title}",
                        f"{item.community.name}，{item.location}。{extra['due']:%Y-%m-%d}前办结。",
                        f"/requests/{item.id}",
                    )
            self.notify_resident(
                item,
                at,
                actor,
                "request.dispatched",
                f"您的诉求“{title}”已派单办理",
                f"{extra['due']:%Y-%m-%d}前办结。",
            )
        elif to == "claimed":
            self.notify_secretary(
                item, at, actor, "order.claimed", f"{actor.display_name}已接单“{title}”", ""
            )
            self.notify_resident(
                item,
                at,
                actor,
                "request.claimed",
                f"您的诉求“{title}”正在办理",
                f"{actor.display_name}已接单。",
            )
        elif to == "handed_back":
            self.notify_secretary(
                item,
                at,
                actor,
                "order.handed_back",
                f"{actor.display_name}退回了“{title}”",
                message or "",
            )
        elif to == "handled" and before == "claimed":
            self.notify_resident(
                item,
                at,
                actor,
                "request.handled",
                f"您的诉求“{title}”已办结",
                f"{message}\n\n请评价您的满意度。",
            )
            self.notify_secretary(
                item,
                at,
                actor,
                "order.handled",
                f"{actor.display_name}已办结工单“{title}”",
                message or "",
            )
        elif to == "closed" and actor is None:
            self.notify_resident(
                item,
                at,
                actor,
                "request.closed",
                f"您的诉求“{title}”已结案",
                f"办结{RATING_DAYS}天内未评价，自动结案。",
            )
        if "rating" in extra:
            rater, score, comment = extra["rating"]
            rows.add(
                "request_rating",
                rows.new_id("request_rating"),
                item.id,
                rater.id,
                score,
                comment,
                at,
            )
            self.record(
                at,
                rater,
                "request.rated",
                "resident_request",
                item.id,
                score=score,
                for_resident=item.requester is not rater,
            )
            handler = [item.claimed_by] if item.claimed_by is not None else []
            if score <= 2:
                for user in [item.community.secretary, *handler]:
                    if user is not rater:
                        self.notify(
                            at,
                            user,
                            "request.reopened",
                            f"“{title}”评分{score}星：已重新打开",
                            comment or "无评语。",
                            f"/requests/{item.id}",
                        )
            else:
                for user in handler:
                    if user is not rater:
                        self.notify(
                            at,
                            user,
                            "request.rated",
                            f"“{title}”评分{score}星",
                            comment,
                            f"/requests/{item.id}",
                        )

    def notify_secretary(self, item: Request, at, actor, kind: str, subject: str, body: str):
        if item.community.secretary is not actor:
            self.notify(at, item.community.secretary, kind, subject, body, f"/requests/{item.id}")

    def notify_resident(self, item: Request, at, actor, kind: str, subject: str, body: str):
        """The resident, when they have an account (and did not act themselves)."""
        if item.requester is not None and item.requester is not actor:
            self.notify(at, item.requester, kind, subject, body, f"/requests/{item.id}")

    def visit_log(self) -> None:
        rows = self.rows
        self.visits.sort(key=lambda v: v[0])
        for at, grid, visitor, visited, notes, follow_up, item in self.visits:
            at = max(at, visitor.created_at)
            visit_id = rows.new_id("visit")
            rows.add(
                "visit",
                visit_id,
                grid.id,
                visitor.id,
                visited[:120],
                notes,
                follow_up,
                at,
                item.id if item else None,
            )
            self.record(
                at,
                visitor,
                "visit.logged",
                "visit",
                visit_id,
                grid_id=grid.id,
                community_id=grid.community.id,
            )
            if item is not None:
                self.record(
                    item.created_at,
                    visitor,
                    "visit.request_raised",
                    "visit",
                    visit_id,
                    request_id=item.id,
                )

    def notifications(self) -> None:
        rnd, rows = self.random, self.rows
        self.notes.sort(key=lambda n: n[0])
        recent = self.now - timedelta(days=30)
        for created, user_id, kind, subject, body, link in self.notes:
            read = None
            if rnd.random() < (0.85 if created < recent else 0.4):
                read = min(created + timedelta(hours=rnd.uniform(0.1, 72)), self.now)
            rows.add(
                "notification",
                rows.new_id("notification"),
                user_id,
                kind,
                subject,
                body,
                link,
                created,
                read,
                "skipped",
                0,
                created,
                None,
                None,
                None,
            )
        self.notes = []

    def audit_log(self) -> None:
        """Entries in time order, linked into the chain as the app links them."""
        rows = self.rows
        self.audit.sort(key=lambda e: e[0])
        prev_hash = GENESIS_HASH
        for seq, (at, actor_id, action, object_type, object_id, data) in enumerate(
            self.audit, start=1
        ):
            content = canonical_content(
                seq, at.replace(tzinfo=UTC), actor_id, action, object_type, object_id, data
            )
            digest = entry_hash(prev_hash, content)
            rows.add(
                "audit_entry",
                seq,
                at,
                actor_id,
                action,
                object_type,
                object_id,
                data,
                seq,
                prev_hash,
                digest,
            )
            prev_hash = digest
        self.audit = []


# --- the database -----------------------------------------------------------------------


def libpq_dsn(postgres_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database(postgres_url: str, keep: bool = False) -> Iterator[str]:
    """A new empty database next to ``postgres_url``; dropped afterwards unless ``keep``."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"shangliang_history_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_dsn(postgres_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            drop_database(postgres_url, name)


def drop_database(postgres_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq_dsn(postgres_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(database_url: str) -> str:
    """The app's schema from its migrations; returns the password hash the app makes."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from meetings import create_app
    from meetings.extensions import db

    app = create_app(
        {
            "SECRET_KEY": "bench-history",
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "MAIL_SERVER": None,
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
        method = app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(BENCH_PASSWORD, method=method)


def _existing_columns(conn, table: str, columns: list[str], path: Path) -> list[str]:
    """The columns the migrated table has: a column written here (always
    NULL) that a later migration removed is left out of the file."""
    existing = {
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
        )
    }
    keep = [n for n, column in enumerate(columns) if column in existing]
    if len(keep) == len(columns):
        return columns
    text = path.read_text()
    lines = []
    for line in text.splitlines():
        fields = line.split("\t")
        if any(fields[n] != "\\N" for n in range(len(columns)) if n not in keep):
            raise RuntimeError(f"{table}: a value for a column the schema no longer has")
        lines.append("\t".join(fields[n] for n in keep))
    path.write_text("".join(line + "\n" for line in lines))
    return [columns[n] for n in keep]


def load(database_url: str, rows: Rows, log) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(libpq_dsn(database_url)) as conn:
        for table, columns in TABLES.items():
            started = time.perf_counter()
            columns = _existing_columns(conn, table, columns, rows.directory / f"{table}.tsv")
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    sql.SQL("COPY {} ({}) FROM STDIN").format(
                        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                    )
                ) as copy,
                open(rows.directory / f"{table}.tsv", "rb") as source,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
            took = time.perf_counter() - started
            log(f"  {table:<22} {rows.counts[table]:>10,} rows {took:7.1f} s")
        for table, columns in TABLES.items():
            if columns[0] == "id":
                conn.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({name}, 'id'), "
                        "(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    ).format(name=sql.Literal(table), table=sql.Identifier(table))
                )
        conn.commit()
        started = time.perf_counter()
        conn.execute(request_moments_backfill())
        conn.commit()
        log(f"  request moments {time.perf_counter() - started:.1f} s")
        conn.autocommit = True
        started = time.perf_counter()
        conn.execute("ANALYZE")
        log(f"  ANALYZE {time.perf_counter() - started:.1f} s")


def request_moments_backfill() -> str:
    """The requests' first reply, close and reopening (migration 0019), from
    the events loaded: the same statement the migration fills them with."""
    path = ROOT / "migrations" / "versions" / "0019_request_moments.py"
    spec = importlib.util.spec_from_file_location("request_moments_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BACKFILL


def fill(database_url: str, scale: float, seed: int = 14, log=print) -> dict[str, int]:
    """Fill the empty database at ``database_url``; returns the row counts."""
    started = time.perf_counter()
    password_hash = migrate(database_url)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    now = datetime.now(UTC).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="shangliang-history-") as directory:
        rows = Rows(Path(directory))
        history = History(scale, seed, rows, now)
        history.password_hash = password_hash
        step = time.perf_counter()
        history.people()
        history.plan()
        history.play()
        history.finish()
        rows.close()
        log(f"played five years at scale {scale:g} in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        load(database_url, rows, log)
        log(f"loaded in {time.perf_counter() - step:.1f} s")
    search_index(database_url, log)
    log(f"filled in {time.perf_counter() - started:.1f} s")
    return dict(rows.counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale between 0 and 10")
    with fresh_database(args.postgres_url, keep=args.keep) as url:
        counts = fill(url, args.scale, args.seed)
        width = max(map(len, counts))
        print("rows:")
        for table in TABLES:
            print(f"  {table:<{width}} {counts.get(table, 0):>10,}")
        print(f"  {'total':<{width}} {sum(counts.values()):>10,}")
        if args.keep:
            print(f"kept: {url}")
            print(f"check the chain: DATABASE_URL={url} .venv/bin/flask --app wsgi audit verify")
    return 0


# --- the public search's index (issue 17) ----------------------------------------------


def search_index(database_url: str, log=print) -> None:
    """The rows came by COPY, past the session events that keep the public
    search's index in step: build it as ``flask search reindex`` does."""
    from sqlalchemy.orm import Session

    from meetings import create_app
    from meetings.extensions import db
    from meetings.search.index import reindex

    app = create_app(
        {
            "SECRET_KEY": "bench-history",
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "MAIL_SERVER": None,
        }
    )
    started = time.perf_counter()
    with app.app_context(), Session(db.engine) as session:
        # a session of its own on this database (not the app's scoped one,
        # which a test may have bound elsewhere)
        documents, tokens = reindex(session)
        db.engine.dispose()
    took = time.perf_counter() - started
    log(f"search index: {documents:,} documents, {tokens:,} tokens in {took:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
