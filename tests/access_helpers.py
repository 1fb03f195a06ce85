"""The people and the world of the access matrix (``test_access.py``).

The world is one community with a meeting in each state and everything that
hangs off them, built through the services as the app builds it. It is built
in parts, on demand: ``World.ids["poll"]`` builds the meeting in progress
with its polls the first time a row's path or body names ``{poll}``, so each
test pays only for the part its row is about.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta

from project_helpers import image_bytes
from request_helpers import raise_request

from auth.models import Community, User
from meetings.extensions import db
from meetings.meeting import checkin
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes import services as minutes_services
from meetings.notifications import services as notification_services
from meetings.organisation import services as organisation_services
from meetings.polls import services as poll_services
from meetings.projects import services as project_services
from meetings.projects import uploads
from meetings.room import proxies
from meetings.room import services as room_services

ROLES = (
    "anonymous",
    "resident",  # a member of the community, invited to nothing
    "attendee",  # invited to every meeting as an observer (列席), who does not vote
    "voter",  # invited to every meeting as a resident representative, who votes
    "secretary",  # of the community
    "other_secretary",  # of another community
    "admin",
)

# Expected of those who must sign in first: on the web a redirect to the
# login page, from the API 401.
SIGN_IN = "sign in"

Expected = dict[str, int | str]


def expect(anonymous, resident, attendee, voter, secretary, other_secretary, admin) -> Expected:
    values = (anonymous, resident, attendee, voter, secretary, other_secretary, admin)
    return dict(zip(ROLES, values, strict=True))


def everyone(status) -> Expected:
    return dict.fromkeys(ROLES, status)


def users(status) -> Expected:
    """Anyone signed in."""
    return everyone(status) | {"anonymous": SIGN_IN}


def guests(status) -> Expected:
    """Pages for people not signed in; the signed in are sent home."""
    return everyone(302) | {"anonymous": status}


def admins(status) -> Expected:
    return users(403) | {"admin": status}


def managers(status, others=403, anonymous=SIGN_IN) -> Expected:
    """The community's secretary and administrators."""
    return everyone(others) | {"anonymous": anonymous, "secretary": status, "admin": status}


def insiders(status, others=403, anonymous=SIGN_IN) -> Expected:
    """The meeting's attendees (voting or not), its secretary and administrators."""
    return managers(status, others, anonymous) | {"attendee": status, "voter": status}


def members(status, others=403) -> Expected:
    """Members of the community, its secretary among them (an administrator
    is a member of none)."""
    return everyone(others) | {
        "anonymous": SIGN_IN,
        "resident": status,
        "attendee": status,
        "voter": status,
        "secretary": status,
    }


class World:
    """The objects of one test, by name; ``ids`` are what the table's
    templates are filled with."""

    def __init__(self, make_meeting, community: Community, people: dict[str, User | None]):
        self.make_meeting = make_meeting
        self.community = community
        self.people = people
        self.objects: dict[str, object] = {}
        self.photos: list[uploads.Photo] = []
        self.ids = _Ids(self)
        self.ids |= {role: user.id for role, user in people.items() if user is not None}
        self.ids["community"] = community.id
        self.ids["other_community"] = people["other_secretary"].memberships[0].community_id

    def get(self, name: str):
        if name not in self.objects:
            self.ids[name]  # noqa: B018 - builds the part that holds it
        return self.objects[name]

    def add(self, **objects) -> None:
        for name, obj in objects.items():
            self.objects[name] = obj
            self.ids[name] = obj if isinstance(obj, str) else obj.id

    def discard_photos(self) -> None:
        for photo in self.photos:
            uploads.discard(photo)


class _Ids(dict):
    def __init__(self, world: World):
        super().__init__()
        self.world = world

    def __missing__(self, name: str):
        if name not in PARTS:
            raise KeyError(name)
        PARTS[name](self.world)
        db.session.flush()
        return self[name]


def _meeting(world: World, status: MeetingStatus, title: str, items: int = 1) -> Meeting:
    """A meeting with the attendee and the voter invited and ``items`` agenda
    items, brought to ``status``."""
    secretary = world.people["secretary"]
    meeting = world.make_meeting(
        MeetingStatus.DRAFT,
        invite={world.people["attendee"]: "observer", world.people["voter"]: "resident_rep"},
        title=title,
    )
    for n in range(1, items + 1):
        meeting_services.add_agenda_item(secretary, meeting, f"{title}：议题{n}")
    steps = [MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED]
    for step in steps[: steps.index(status) + 1] if status in steps else []:
        meeting_services.transition_meeting(secretary, meeting, step)
    return meeting


def _closed_poll(world: World, item, title: str, secret: bool = False):
    secretary = world.people["secretary"]
    poll = poll_services.create_poll(
        secretary, item, poll_services.PollSpec(title=title, kind="yes_no_abstain", secret=secret)
    )
    poll_services.open_poll(secretary, poll)
    poll_services.cast_ballot(world.people["voter"], poll, [poll.options[0].id])
    poll_services.close_poll(secretary, poll)
    return poll


def _request(world: World) -> None:
    world.add(request=raise_request(world.people["resident"], world.community))


def _notification(world: World) -> None:
    note = notification_services.notify(world.people["resident"], "test", "您的诉求已受理")
    db.session.flush()
    world.add(notification=note)


def _draft(world: World) -> None:
    world.add(draft=_meeting(world, MeetingStatus.DRAFT, "草稿会议"))


def _scheduled(world: World) -> None:
    meeting = _meeting(world, MeetingStatus.SCHEDULED, "已安排会议", items=2)
    world.add(scheduled=meeting, scheduled_item=meeting.agenda_items[0])


def _in_progress(world: World) -> None:
    """A proposal with a comment, and polls in draft, open (online and a
    show of hands) and closed."""
    secretary, voter = world.people["secretary"], world.people["voter"]
    meeting = _meeting(world, MeetingStatus.IN_PROGRESS, "进行中会议")
    item = meeting.agenda_items[0]
    proposal = poll_services.table_proposal(voter, item, "铺设防滑地板", "乒乓球室换防滑地胶")
    draft_poll = poll_services.create_poll(
        secretary, item, poll_services.PollSpec(title="草稿表决", kind="yes_no_abstain")
    )
    poll = poll_services.create_poll(
        secretary, item, poll_services.PollSpec(title="进行中表决", kind="yes_no_abstain")
    )
    poll_services.open_poll(secretary, poll)
    room_poll = poll_services.create_poll(
        secretary,
        item,
        poll_services.PollSpec(title="举手表决", kind="yes_no_abstain", in_room=True),
    )
    poll_services.open_poll(secretary, room_poll)
    world.add(
        meeting=meeting,
        item=item,
        proposal=proposal,
        comment=poll_services.add_comment(voter, proposal, "赞成，越快越好"),
        draft_poll=draft_poll,
        poll=poll,
        option=poll.options[0],
        room_poll=room_poll,
        closed_poll=_closed_poll(world, item, "已结束表决"),
        token=checkin.make_token(meeting.id, voter.id),
    )


def _new_project(world: World, title: str):
    resolution = project_services.record_resolution(
        world.people["secretary"],
        world.get("meeting"),
        project_services.ResolutionSpec(
            text=f"决定：{title}。",
            agenda_item_id=world.ids["item"],
            project=project_services.ProjectSpec(
                title=title, responsible_unit="物业", due_date=date.today() + timedelta(days=60)
            ),
        ),
    )
    return resolution.project


def _project(world: World) -> None:
    """A project opened by a resolution of the meeting, with a progress photo."""
    project = _new_project(world, "活动室改造出新")
    photo = uploads.store_photo(io.BytesIO(image_bytes()))
    world.photos.append(photo)
    update = project_services.add_progress_update(
        world.people["secretary"], project, 30, "地板已拆除", photo=photo
    )
    world.add(project=project, update=update, resolution=project.resolutions[0])


def _completed_project(world: World) -> None:
    """A completed project, which the community's residents may rate."""
    project = _new_project(world, "智慧音箱安装")
    secretary = world.people["secretary"]
    project_services.add_progress_update(secretary, project, 50, "开工", status="in_progress")
    project_services.add_progress_update(secretary, project, 100, "安装完毕", status="completed")
    world.add(completed_project=project)


def _condition(world: World) -> None:
    """A condition of the project's resolution, assigned to the voter."""
    resolution = world.get("resolution")
    condition = project_services.add_condition(
        world.people["secretary"],
        resolution,
        "音量由专人控制",
        date.today() + timedelta(days=7),
        assignee_user_id=world.people["voter"].id,
    )
    world.add(condition=condition)


def _closed(world: World) -> None:
    """Version 1 of the minutes sent round to the attendees, version 2 not yet."""
    secretary = world.people["secretary"]
    meeting = _meeting(world, MeetingStatus.CLOSED, "已闭会会议")
    first = minutes_services.save_version(secretary, meeting, "# 纪要草稿\n")
    minutes_services.circulate(secretary, first)
    minutes_services.save_version(secretary, meeting, "# 纪要草稿\n\n第二稿。\n")
    world.add(closed=meeting)


def _published(world: World) -> None:
    """Minutes published: the meeting and its poll are public now."""
    secretary = world.people["secretary"]
    meeting = _meeting(world, MeetingStatus.IN_PROGRESS, "已公开会议")
    poll = _closed_poll(world, meeting.agenda_items[0], "公开表决", secret=True)
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    minutes_services.publish(
        secretary, minutes_services.save_version(secretary, meeting, "# 会议纪要\n")
    )
    world.add(published=meeting, public_poll=poll)


def _proxies(world: World) -> None:
    """A meeting in progress that allows proxies (委托投票): the voter has
    named the attendee as proxy, waiting for the secretary."""
    meeting = _meeting(world, MeetingStatus.IN_PROGRESS, "委托投票会议")
    meeting.allow_proxies = True
    proxy = proxies.request_proxy(world.people["voter"], meeting, world.people["attendee"])
    world.add(proxy_meeting=meeting, proxy=proxy)


def _room(world: World) -> None:
    """The big screen's link of the meeting in progress (and its token), and
    the voter waiting in its speakers' queue."""
    meeting, secretary = world.get("meeting"), world.people["secretary"]
    link, token = room_services.create_screen_link(secretary, meeting, "活动室电视")
    speaker = room_services.ask_for_the_floor(world.people["voter"], meeting)
    world.add(screen_link=link, screen_token=token, speaker=speaker)


def _organisation(world: World) -> None:
    """The community's street (no staff among the people of the table), a
    grid with the voter in it, a property company serving the community with
    the attendee as its member."""
    admin, secretary = world.people["admin"], world.people["secretary"]
    street = organisation_services.create_street(admin, "访问街道", "开发区")
    organisation_services.assign_community(admin, street, world.community)
    grid = organisation_services.create_grid(secretary, world.community, "第一网格", ["1栋"])
    organisation_services.add_grid_member(secretary, grid, world.people["voter"])
    unit = organisation_services.create_unit(
        admin, "访问物业公司", "property_company", [world.community]
    )
    organisation_services.add_unit_member(admin, unit, world.people["attendee"])
    world.add(org_street=street, org_grid=grid, org_unit=unit)


# Which part builds each object.
PARTS: dict[str, Callable[[World], None]] = {
    **dict.fromkeys(["org_street", "org_grid", "org_unit"], _organisation),
    "request": _request,
    "notification": _notification,
    "draft": _draft,
    "scheduled": _scheduled,
    "scheduled_item": _scheduled,
    **dict.fromkeys(
        [
            "meeting",
            "item",
            "proposal",
            "comment",
            "draft_poll",
            "poll",
            "option",
            "room_poll",
            "closed_poll",
            "token",
        ],
        _in_progress,
    ),
    "project": _project,
    "update": _project,
    "resolution": _project,
    "completed_project": _completed_project,
    "condition": _condition,
    "closed": _closed,
    "published": _published,
    "public_poll": _published,
    **dict.fromkeys(["proxy_meeting", "proxy"], _proxies),
    **dict.fromkeys(["screen_link", "screen_token", "speaker"], _room),
}


# --- 公示 (issue 17, NOTICE): a resolution of the closed meeting in public
# notice, with the resident's objection --------------------------------------------------


def _notice(world: World) -> None:
    from meetings.projects.services import notice as notice_services

    secretary = world.people["secretary"]
    resolution = project_services.record_resolution(
        secretary,
        world.get("closed"),
        project_services.ResolutionSpec(text="同意安装智慧音箱，播放时间8:00–20:00。"),
    )
    notice_services.start_notice(secretary, resolution, 5)
    objection = notice_services.object_to(world.people["resident"], resolution, "晚上太吵。")
    world.add(notice_resolution=resolution, objection=objection)


PARTS.update(dict.fromkeys(["notice_resolution", "objection"], _notice))
