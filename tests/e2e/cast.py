"""The people of the stories: one community per story, so that each story
can run alone and none sees another's requests, meetings or minutes.

Only the secretaries and the attendees are created before the server starts
(an administrator would do it on the admin pages); a resident who raises a
request in a story signs up on the site, or is one of these members.
A community may also have its grids (a leader from its members, the
buildings they cover) and the units serving it (property companies and
the like, whose staff have accounts of their own, in no community).
Invented names, as in the demo data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PASSWORD = "e2e-shangliang-2024"


@dataclass(frozen=True)
class Member:
    username: str
    name: str


@dataclass(frozen=True)
class Grid:
    """网格: its leader (网格长) is one of the community's members."""

    name: str
    buildings: tuple[str, ...]
    leader: str  # the part the leader plays, a key of the community's members


@dataclass(frozen=True)
class Unit:
    """单位 serving the community, with its staff's accounts."""

    name: str
    kind: str  # a UnitKind code: "property_company", "department", "partner_unit"
    staff: dict[str, Member]  # by the part they play in the story


@dataclass(frozen=True)
class Community:
    name: str
    street: str
    secretary: Member
    members: dict[str, Member]  # by the part they play in the story
    standing_roles: dict[str, str] = field(default_factory=dict)  # part → attendee role code
    grids: tuple[Grid, ...] = ()
    units: tuple[Unit, ...] = ()

    def __getitem__(self, part: str) -> Member:
        return self.members[part]


DISTRICT = "南通经济技术开发区"


def _activity_room(name: str, prefix: str) -> Community:
    """Story 1 (活动室地板磨损), played in Chinese and again in English."""
    return Community(
        name,
        "中兴街道",
        Member(f"{prefix}-sec", "林书文"),
        {
            "cppcc": Member(f"{prefix}-zhang", "张秀英"),
            "owners": Member(f"{prefix}-liu", "刘志强"),
            "party": Member(f"{prefix}-chen", "陈美玲"),
            "rep1": Member(f"{prefix}-yang", "杨德胜"),
            "rep2": Member(f"{prefix}-zhao", "赵淑珍"),
            "property": Member(f"{prefix}-sun", "孙海涛"),
        },
    )


ACTIVITY_ROOM = _activity_room("东篱社区", "dongli")
ACTIVITY_ROOM_EN = _activity_room("枫林社区", "fenglin")

# Story 2 (智慧音箱安装): the secretary enters the request for 潘国栋.
LOUDSPEAKERS = Community(
    "竹韵社区",
    "竹行街道",
    Member("zhuyun-sec", "陈立群"),
    {
        "requester": Member("zhuyun-pan", "潘国栋"),
        "street": Member("zhuyun-dong", "董立新"),
        "committee": Member("zhuyun-yuan", "袁翠花"),
        "property": Member("zhuyun-jiang", "蒋丽君"),
        "rep1": Member("zhuyun-cai", "蔡永生"),
        "rep2": Member("zhuyun-yu", "余桂芳"),
    },
)

# Story 3 (电梯轿厢广告): answered the same day, by a show of hands.
ELEVATOR = Community(
    "星怡社区",
    "竹行街道",
    Member("xingyi-sec", "周晓岚"),
    {
        "requester": Member("xingyi-he", "何静怡"),
        "grid": Member("xingyi-luo", "罗卫东"),
        "property": Member("xingyi-liang", "梁素芬"),
        "rep1": Member("xingyi-song", "宋家豪"),
        "rep2": Member("xingyi-tang", "唐月娥"),
    },
)

# Story 4 (飞马转盘中心路): several proposals, one single-choice poll.
ROAD = Community(
    "紫琅社区",
    "中兴街道",
    Member("zilang-sec", "许振华"),
    {
        "requester": Member("zilang-deng", "邓春燕"),
        "rep1": Member("zilang-feng", "冯建平"),
        "rep2": Member("zilang-cao", "曹雪梅"),
        "rep3": Member("zilang-peng", "彭志远"),
        "owners": Member("zilang-zeng", "曾宝珠"),
        "property": Member("zilang-xiao", "萧汉明"),
    },
)

# Story 5 (楼道漏水): the order workflow. The grid leader logs a resident's
# concern from a WeChat message, the secretary dispatches it to the property
# company, whose staff handle it; the resident is not satisfied.
PROPERTY_COMPANY = Unit(
    "桂园物业服务中心", "property_company", {"property": Member("guiyuan-qian", "钱明亮")}
)
ORDERS = Community(
    "桂园社区",
    "竹行街道",
    Member("guiyuan-sec", "吴春兰"),
    {
        "resident": Member("guiyuan-gu", "顾秀梅"),
        "grid": Member("guiyuan-shi", "石建国"),
    },
    standing_roles={"grid": "grid_leader"},
    grids=(Grid("桂园第一网格", ("1栋", "2栋", "3栋", "5栋"), leader="grid"),),
    units=(PROPERTY_COMPANY,),
)

# Story 6 (加装电梯): the meeting in the room. The big screen, the residents'
# phones; 方德明 cannot come and names 韩秀兰 his proxy; 苏桂英 has no
# smartphone and votes with the secretary in front of a witness.
ROOM = Community(
    "枫桥社区",
    "中兴街道",
    Member("fengqiao-sec", "沈慧敏"),
    {
        "principal": Member("fengqiao-fang", "方德明"),
        "proxy": Member("fengqiao-han", "韩秀兰"),
        "voter": Member("fengqiao-wei", "魏国庆"),
        "assisted": Member("fengqiao-su", "苏桂英"),
    },
)

COMMUNITIES = [ACTIVITY_ROOM, ACTIVITY_ROOM_EN, LOUDSPEAKERS, ELEVATOR, ROAD, ORDERS, ROOM]
