"""Demo organisation for ``seed-demo``: the streets, grids and units of the
seed stories, with invented people. Runs after the communities and their
residents exist and before the meetings (whose invitations use it).
Idempotent: what exists is left alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth import services as auth_services
from auth.models import Community, Membership, User
from meetings.extensions import db
from meetings.organisation.models import (
    Grid,
    GridMember,
    Street,
    StreetStaff,
    Unit,
    UnitKind,
    UnitMember,
)

DISTRICT = "南通经济技术开发区"

# People of the organisation who are no community's residents (invented names).
STAFF_ACCOUNTS = [
    ("zhongxing-01", "邵建华"),  # 中兴街道 office
    ("zhuxing-01", "韩立平"),  # 竹行街道 office
    ("jiaojing-01", "霍振宇"),  # traffic police (交警大队)
    ("gongjian-01", "邝志成"),  # the partner unit's Party branch (共建单位)
]

# street name → its office's staff
STREETS = {
    "中兴街道": ["zhongxing-01"],
    "竹行街道": ["zhuxing-01", "zhuyun-02"],
}

# (username, community, standing role): the people's usual part in meetings.
# dongli-02 is the district CPPCC member who sits in both communities' meetings.
STANDING_ROLES = [
    ("dongli-02", "东篱社区", "cppcc_member"),
    ("dongli-02", "竹韵社区", "cppcc_member"),
    ("dongli-09", "东篱社区", "grid_leader"),
    ("dongli-11", "东篱社区", "grid_leader"),
    ("dongli-12", "东篱社区", "property_rep"),
    ("xingyi-04", "星怡社区", "party_member_rep"),
    ("xingyi-06", "星怡社区", "inservice_party_member"),
    ("xingyi-10", "星怡社区", "grid_leader"),
    ("xingyi-11", "星怡社区", "grid_leader"),
    ("xingyi-12", "星怡社区", "property_rep"),
    ("zhuyun-02", "竹韵社区", "street_official"),
    ("zhuyun-08", "竹韵社区", "property_rep"),
    ("zhuyun-11", "竹韵社区", "grid_leader"),
]


@dataclass
class DemoGrid:
    community: str
    name: str
    buildings: list[str]
    leader: str
    members: list[str] = field(default_factory=list)


GRIDS = [
    DemoGrid(
        "东篱社区", "第三网格", [f"{n}幢" for n in range(180, 186)], "dongli-09", ["dongli-04"]
    ),
    DemoGrid("东篱社区", "第四网格", [f"{n}幢" for n in range(186, 192)], "dongli-11"),
    DemoGrid(
        "星怡社区", "第二网格", [f"{n}号楼" for n in range(30, 36)], "xingyi-10", ["xingyi-04"]
    ),
    DemoGrid(
        "星怡社区", "第五网格", [f"{n}号楼" for n in range(50, 56)], "xingyi-11", ["xingyi-06"]
    ),
    DemoGrid("竹韵社区", "第一网格", ["1号楼", "2号楼", "3号楼", "4号楼"], "zhuyun-11"),
]


@dataclass
class DemoUnit:
    name: str
    kind: UnitKind
    communities: list[str]
    members: list[str]


UNITS = [
    DemoUnit("优山美地物业服务中心", UnitKind.PROPERTY_COMPANY, ["东篱社区"], ["dongli-12"]),
    DemoUnit("星怡红色物业服务站", UnitKind.PROPERTY_COMPANY, ["星怡社区"], ["xingyi-12"]),
    DemoUnit("竹韵物业服务中心", UnitKind.PROPERTY_COMPANY, ["竹韵社区"], ["zhuyun-08"]),
    DemoUnit("开发区交警大队", UnitKind.DEPARTMENT, ["东篱社区", "星怡社区"], ["jiaojing-01"]),
    DemoUnit("通达物流党支部", UnitKind.PARTNER_UNIT, ["东篱社区"], ["gongjian-01"]),
]


def _user(username: str) -> User:
    user = auth_services.get_user_by_username(username)
    if user is None:
        raise LookupError(f"demo account {username} is missing")
    return user


def _community(name: str) -> Community:
    return db.session.scalar(db.select(Community).where(Community.name == name))


def _ensure_staff_accounts(password: str) -> int:
    created = 0
    for username, display_name in STAFF_ACCOUNTS:
        if auth_services.get_user_by_username(username) is None:
            user = User(username=username, display_name=display_name)
            user.set_password(password)
            db.session.add(user)
            created += 1
    db.session.flush()
    return created


def _ensure_streets() -> None:
    for name, staff in STREETS.items():
        street = db.session.scalar(db.select(Street).where(Street.name == name))
        if street is None:
            street = Street(name=name, district=DISTRICT)
            db.session.add(street)
            db.session.flush()
        for community in db.session.scalars(db.select(Community).where(Community.street == name)):
            community.street_id = street.id
        have = {s.user_id for s in street.staff}
        for username in staff:
            user = _user(username)
            if user.id not in have:
                db.session.add(StreetStaff(street=street, user=user))
    db.session.flush()


def _ensure_standing_roles() -> None:
    for username, community_name, role in STANDING_ROLES:
        user, community = _user(username), _community(community_name)
        membership = user.membership_in(community.id)
        if membership is None:
            membership = Membership(user=user, community=community)
            db.session.add(membership)
        if membership.standing_role is None:
            membership.standing_role = role
    db.session.flush()


def _ensure_grids() -> None:
    for demo in GRIDS:
        community = _community(demo.community)
        grid = db.session.scalar(
            db.select(Grid).where(Grid.community_id == community.id, Grid.name == demo.name)
        )
        if grid is not None:
            continue
        grid = Grid(community=community, name=demo.name, buildings=demo.buildings)
        db.session.add(grid)
        grid.members.append(GridMember(user=_user(demo.leader), is_leader=True))
        for username in demo.members:
            grid.members.append(GridMember(user=_user(username), is_leader=False))
    db.session.flush()


def _ensure_units() -> None:
    for demo in UNITS:
        if db.session.scalar(db.select(Unit.id).where(Unit.name == demo.name)) is not None:
            continue
        unit = Unit(name=demo.name, kind=demo.kind)
        unit.communities = [_community(name) for name in demo.communities]
        unit.members = [UnitMember(user=_user(username)) for username in demo.members]
        db.session.add(unit)
    db.session.flush()


def seed_organisation(password: str) -> int:
    """Streets, standing roles, grids and units; returns the accounts created."""
    created = _ensure_staff_accounts(password)
    _ensure_streets()
    _ensure_standing_roles()
    _ensure_grids()
    _ensure_units()
    return created
