"""Schemathesis over the API's own OpenAPI document, in-process.

Every operation of ``/api/v1/openapi.json`` is called with generated input
(valid and invalid) and the bearer token of a community's secretary. The
community holds a closed meeting with polls, a project, a request and draft
minutes, a meeting in progress with proposals, a comment and polls, and a
draft meeting, so that most calls reach real objects: the ids in paths and
bodies are mostly swapped for ids of one of these meetings.

Checks: never a server error; every status code is one the operation
documents by itself (not only through ``default``); the content type and
the body are the documented ones.

Each call runs in a savepoint rolled back after it, so that one example
(revoking the token, closing a poll, deleting an item) does not change what
the next one meets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import schemathesis
from conftest import PASSWORD, THROUGH_THE_APP
from hypothesis import given, settings
from hypothesis import strategies as st
from meeting_helpers import next_week
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from auth import api as auth_api
from meetings.duty import api as duty_api
from meetings.meeting import api as meeting_api
from meetings.meeting import checkin
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.minutes import api as minutes_api
from meetings.minutes import services as minutes_services
from meetings.notifications import api as notifications_api
from meetings.notifications.models import Notification
from meetings.organisation import api as organisation_api
from meetings.organisation import services as organisation_services
from meetings.organisation.models import Street, Unit, UnitKind
from meetings.polls import api as polls_api
from meetings.polls import services as poll_services
from meetings.projects import api as projects_api
from meetings.projects import notice_api
from meetings.requests import api as requests_api
from meetings.requests import order_api as orders_api
from meetings.requests import services as request_services
from meetings.room import api as room_api
from meetings.room import proxy_api
from meetings.search import api as search_api
from meetings.statistics import api as statistics_api

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

# Examples per operation: for some 55 operations, about half a minute of
# work on SQLite, a minute on PostgreSQL.
MAX_EXAMPLES = 20


@dataclass
class Scene:
    """The ids of one meeting and what hangs off it, by the names the API
    gives them in paths and bodies."""

    ids: dict[str, list[int]] = field(default_factory=dict)

    def add(self, name: str, *values: int) -> None:
        self.ids.setdefault(name, []).extend(values)


@dataclass
class World:
    token: str
    scenes: list[Scene]


@pytest.fixture
def world(
    db, held_meeting, make_meeting, make_member, secretary, community, resident, bearer
) -> World:
    held = held_meeting
    draft_minutes = minutes_services.save_version(
        secretary, held.meeting, "# 纪要\n\n决定铺设防滑地板。\n"
    )
    minutes_services.circulate(secretary, draft_minutes)

    voters = [make_member(f"参会居民{i}") for i in (1, 2)]
    live = make_meeting(
        MeetingStatus.SCHEDULED,
        invite=dict.fromkeys(voters, "resident_rep") | {secretary: "community_committee"},
    )
    item = meeting_services.add_agenda_item(secretary, live, "飞马转盘中心路通行方案")
    meeting_services.transition_meeting(secretary, live, MeetingStatus.IN_PROGRESS)
    proposal = poll_services.table_proposal(voters[0], item, "设置道闸", "只许本小区车辆进入")
    comment = poll_services.add_comment(voters[1], proposal, "道闸费用谁出？")
    own_proposal = poll_services.table_proposal(secretary, item, "划定临时停车位")
    draft_poll = poll_services.create_poll(
        secretary,
        item,
        poll_services.PollSpec(
            title="通行方案",
            kind="single",
            options=[
                poll_services.OptionSpec(proposal_id=proposal.id),
                poll_services.OptionSpec(label="维持现状"),
            ],
        ),
    )
    open_poll = poll_services.create_poll(
        secretary,
        item,
        poll_services.PollSpec(title="是否设置道闸", kind="yes_no_abstain", secret=True),
    )
    poll_services.open_poll(secretary, open_poll)

    draft = make_meeting(MeetingStatus.DRAFT, title="电梯轿厢广告协商会")
    draft_item = meeting_services.add_agenda_item(secretary, draft, "电梯轿厢广告")
    submitted = request_services.raise_request(
        resident,
        community,
        request_services.RequestDraft(
            title="电梯轿厢广告太多",
            description="3号楼电梯里贴满了广告。",
            category="public_facilities",
            location="3号楼",
        ),
    )
    # the organisation: the community's street, a grid, a unit serving it
    street = Street(name="模糊街道", district="开发区")
    db.session.add(street)
    community.street_record = street
    grid = organisation_services.create_grid(secretary, community, "模糊网格", ["1栋"])
    unit = Unit(name="模糊物业", kind=UnitKind.PROPERTY_COMPANY, communities=[community])
    db.session.add(unit)
    db.session.flush()

    notifications = list(
        db.session.scalars(db.select(Notification.id).where(Notification.user_id == secretary.id))
    )
    common = {
        "community_id": [community.id],
        "notification_id": notifications,
        "requester_id": [resident.id],
        "version": [1],
        "from": [1],
        "to": [1],
        "username": [secretary.username],
        "password": [PASSWORD],
        "street_id": [street.id],
        "grid_id": [grid.id],
        "unit_id": [unit.id],
        "from_meeting_id": [draft.id, held.meeting.id],
    }
    scenes = []
    # The objects most calls can act on come first: sampling favours them.
    for meeting, items, polls, proposals, comments, projects, requests, people in [
        (
            live,
            [item],
            [open_poll, draft_poll],
            [own_proposal, proposal],
            [comment],
            [held.project],
            [submitted],
            [secretary, *voters],
        ),
        (
            held.meeting,
            [held.item],
            [held.online_poll, held.in_room_poll],
            poll_services.proposals_of(held.item),
            [],
            [held.project],
            [held.request],
            [held.cppcc, held.owners, *held.voters],
        ),
        (draft, [draft_item], [], [], [], [], [submitted], [resident]),
    ]:
        scene = Scene({name: list(values) for name, values in common.items()})
        scene.add("meeting_id", meeting.id)
        scene.add("item_id", *(i.id for i in items))
        scene.add("agenda_item_id", *(i.id for i in items))
        scene.add("poll_id", *(p.id for p in polls))
        scene.add("option_id", *(o.id for p in polls for o in p.options))
        scene.add("proposal_id", *(p.id for p in proposals))
        scene.add("comment_id", *(c.id for c in comments))
        scene.add("project_id", *(p.id for p in projects))
        scene.add("request_id", *(r.id for r in requests))
        scene.add("user_id", *(u.id for u in people))
        scene.add("token", *(checkin.make_token(meeting.id, u.id) for u in people))
        for name in ("host_id", "recorder_id"):
            scene.add(name, *(u.id for u in people))
        scenes.append(scene)

    token = bearer(secretary)["Authorization"]
    return World(token=token, scenes=scenes)


@pytest.fixture(scope="module")
def api_schema(app):
    # Read through the app itself, as a client would.
    # An explicit (default) configuration: no schemathesis.toml is looked for.
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=schemathesis.Config())


# The API's areas, each an OpenAPI tag: one test per area, a subtest per operation.
AREAS = [
    module.bp.name
    for module in (auth_api, requests_api, notifications_api, meeting_api, polls_api)
    + (projects_api, minutes_api, orders_api, organisation_api, proxy_api, room_api)
    + (duty_api,)
    + (search_api,)
    + (notice_api,)
    + (statistics_api,)
]

# Lists of ids in bodies, named for what each element is.
LIST_ELEMENTS = {"request_ids": "request_id", "option_ids": "option_id"}


def real_ids(data, scene: Scene, value, name: str | None = None):
    """``value`` with most of the ids in it replaced by ids of the scene."""
    if isinstance(value, dict):
        return {key: real_ids(data, scene, item, key) for key, item in value.items()}
    if isinstance(value, list):
        element = LIST_ELEMENTS.get(name or "", name)
        return [real_ids(data, scene, item, element) for item in value]
    known = scene.ids.get(name or "")
    if known and type(value) is type(known[0]):
        # Now and then the generated value: unknown ids must be handled too.
        return data.draw(st.sampled_from([*known, *known, *known, value]), label=name)
    return value


# Values no generator finds by chance (times in order, a place), laid over
# the generated body of these operations in one case out of two.
def _meeting_times() -> dict:
    starts = next_week()
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "location": "社区活动室",
    }


FIXUPS = {
    "POST /api/v1/meetings": _meeting_times,
    "PATCH /api/v1/meetings/{meeting_id}": _meeting_times,
    "POST /api/v1/agenda-items/{item_id}/polls": lambda: {"kind": "yes_no_abstain"},
}


def documented_status_code(ctx, response, case) -> None:
    """Each status code is listed for the operation by itself: the
    ``default`` response the document also has does not count."""
    documented = {code for code in case.operation.responses.status_codes if code != "default"}
    assert str(response.status_code) in documented, (
        f"{case.operation.label} answered {response.status_code}, "
        f"documents only {', '.join(sorted(documented))}"
    )


CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    documented_status_code,
]


def fuzz(operation, client, world: World, db) -> None:
    """Hypothesis over one operation: valid and invalid input alike."""
    headers = {"Authorization": world.token}
    # Two valid cases to one invalid one: the valid ones get further in.
    valid = operation.as_strategy(GenerationMode.POSITIVE, headers=headers)
    invalid = operation.as_strategy(GenerationMode.NEGATIVE, headers=headers)
    cases = st.one_of(valid, valid, invalid)

    @settings(THROUGH_THE_APP, max_examples=MAX_EXAMPLES)
    @given(case=cases, data=st.data())
    def call(case, data):
        scene = data.draw(st.sampled_from(world.scenes), label="scene")
        case.path_parameters = real_ids(data, scene, case.path_parameters)
        case.query = real_ids(data, scene, case.query)
        if isinstance(case.body, dict | list):
            case.body = real_ids(data, scene, case.body)
        fixup = FIXUPS.get(operation.label)
        if fixup and isinstance(case.body, dict) and data.draw(st.booleans(), label="fixup"):
            case.body = case.body | fixup()
        savepoint = db.session.connection().begin_nested()
        try:
            case.call_and_validate(session=client, headers=headers, checks=CHECKS)
        finally:
            savepoint.rollback()

    call()


def rows(db) -> dict[str, int]:
    return {
        table.name: db.session.scalar(db.select(db.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("area", AREAS)
def test_api_answers_every_input_as_documented(area, api_schema, client, world, db, subtests):
    operations = [result.ok() for result in api_schema.include(tag=area).get_all_operations()]
    assert operations
    before = rows(db)
    for operation in operations:
        with subtests.test(operation.label):
            fuzz(operation, client, world, db)
    # Every example was rolled back: the next one met the same world.
    assert rows(db) == before
    assert client.get("/api/v1/me", headers={"Authorization": world.token}).status_code == 200


def test_every_operation_is_in_an_area(api_schema):
    tags = {
        tag for result in api_schema.get_all_operations() for tag in result.ok().tags or ["(none)"]
    }
    assert tags <= set(AREAS)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/agenda-items/2147483648/polls"),
        ("POST", "/api/v1/agenda-items/2147483648/polls"),
        ("GET", "/api/v1/meetings/99999999999/minutes"),
        ("PUT", "/api/v1/meetings/99999999999/minutes"),
        ("GET", "/meetings/2147483648/agenda"),
        ("GET", "/meetings/0002147483648/agenda"),
    ],
)
def test_an_id_beyond_the_database_range_is_not_found_by_any_method(
    method, path, client, secretary, bearer, login
):
    # It used to be 405 where another method shares the path.
    login(secretary)
    response = client.open(path, method=method, headers=bearer(secretary), json={})
    assert response.status_code == 404


def test_ids_up_to_the_limit_reach_the_view(client, secretary, bearer, make_meeting, in_request):
    meeting = make_meeting()
    headers = bearer(secretary)
    assert client.get(f"/api/v1/meetings/000{meeting.id}", headers=headers).status_code == 200
    # The largest id is looked up (and not found) by the view, not refused by the router.
    found = client.get("/api/v1/meetings/2147483647", headers=headers)
    unrouted = client.get("/api/v1/meetings/2147483648", headers=headers)
    assert found.status_code == unrouted.status_code == 404
    assert found.json["error"]["message"] != unrouted.json["error"]["message"]
