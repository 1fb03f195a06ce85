"""Hypothesis over the main web forms: hostile text in one field at a time.

Each example posts a form that is valid but for one field, which holds text
of the kind people paste or attackers send: very long, emoji, control
characters (NUL, lone carriage returns), mixed scripts and right-to-left
marks, SQL and HTML fragments, nothing but whitespace. The answer is either

- a clear error: the form again (422) with a message next to the field, or
  400 for a NUL character, which nobody types (``meetings.http``), and no
  row written; or
- a redirect after a correct save: exactly the rows of one save, the field
  stored as sent (without surrounding whitespace; the minutes as the editor
  cleans them), and the page it leads to showing it escaped.

The fields of numbers, dates and choices get numbers out of range,
impossible dates and text: they are converted, so only "refused next to the
field, or saved whole" is checked there.

Never a 500, never half a save. Each example runs in a savepoint rolled back
after it, so that each meets the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from conftest import PASSWORD, THROUGH_THE_APP, field_errors, form_errors
from hypothesis import given, settings
from hypothesis import strategies as st
from meeting_helpers import next_week

from auth.models import User
from meetings.meeting import services as meeting_services
from meetings.meeting.models import AgendaItem, Meeting, MeetingStatus
from meetings.minutes import services as minutes_services
from meetings.minutes.models import MinutesVersion
from meetings.polls import services as poll_services
from meetings.polls.models import Comment, Poll, PollOption, Proposal
from meetings.projects.models import Project, ProjectUpdate, Resolution
from meetings.requests.models import ResidentRequest

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

MAX_EXAMPLES = 30

HTML_FRAGMENTS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<b onmouseover='alert(1)'>粗体</b>",
    "</textarea><script>alert(2)</script>",
]
FRAGMENTS = HTML_FRAGMENTS + [
    "'; DROP TABLE meetings; --",
    "' OR '1'='1",
    "%s%n%x",
    "{{ 7 * 7 }}",
    "\\x00",
    "\x00",
    "\r",
    "\r\n",
    "\n\n",
    "\t",
    "\x1b[31m",
    "\x7f\x85\u2028\u2029",
    "\ufeff\u200b\u200d",
    "\u202e\u202dRTL",
    "مرحبا بالجيران",
    "שלום",
    "活动室地板磨损",
    "𠀀𪚥𰻞",
    "😀👨‍👩‍👧‍👦🏳️‍🌈",
    "Z̤͔ͧ̑̓ä̖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "ｆｕｌｌｗｉｄｔｈ\u3000",
    "  ",
]
# Around the usual column and form limits, in characters.
LENGTHS = [30, 31, 60, 61, 100, 101, 120, 121, 200, 201, 500, 501, 2000, 4000, 4001, 20001]

hostile_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=6).map("".join),
    st.text(),
    st.builds(
        lambda unit, length: (unit * length)[:length],
        st.sampled_from(["长", "a", "😀", "<", "\u0301", " x"]),
        st.sampled_from(LENGTHS),
    ),
    st.text(alphabet=" \t\r\n\u3000\u00a0\u2003", min_size=1, max_size=10),
)
# For the fields that hold numbers, dates and choices.
NUMBERS = [
    "-1", "0", "-0", "1.5", "12,5", " 7 ", "１２", "٣", "1_000", "0x10", "1e3",
    "2147483648", "9223372036854775808", "99999999999999999999999999",
    "NaN", "Infinity", "-inf", "1e999999", "1e-999999", "12500.505", "-86000",
    "2026-02-30", "0001-01-01", "9999-12-31", "10000-01-01", "2026-12-02T25:61",
    "0001-01-01T00:00", "9999-12-31T23:59",
]  # fmt: skip
numberish = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers().map(str),
    st.floats().map(str),
    hostile_text,
)


@dataclass
class Form:
    """A form as posted: where, by whom, valid values, the fields tried,
    and the table a save writes to."""

    url: str
    data: dict[str, str]
    fields: list[str]
    table: type
    user: User | None = None
    # An edit changes this row instead of adding one to ``table``.
    row_id: int | None = None
    # The posted field's column, when it has another name.
    columns: dict[str, str] = field(default_factory=dict)
    # Other tables a save writes to, and how many rows.
    also: dict[type, int] = field(default_factory=dict)
    # What the app keeps of a text: surrounding whitespace goes.
    normalise: Callable[[str], str] = str.strip
    # Fields of numbers, dates and choices, tried too: their value is
    # converted, so only "refused or saved whole" is checked for them.
    loose: list[str] = field(default_factory=list)


def count(db, table: type) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(table))


def local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


MEETING_LOOSE = ["starts_at", "ends_at", "host", "recorder", "request_ids", "more_topics"]


@pytest.fixture
def forms(
    db, held_meeting, make_meeting, make_member, secretary, resident, community, in_request
) -> dict[str, Form]:
    voter = make_member("参会居民")
    live = make_meeting(
        MeetingStatus.SCHEDULED,
        invite={voter: "resident_rep", secretary: "community_committee"},
    )
    item = meeting_services.add_agenda_item(secretary, live, "飞马转盘中心路通行方案")
    meeting_services.transition_meeting(secretary, live, MeetingStatus.IN_PROGRESS)
    proposal = poll_services.table_proposal(voter, item, "设置道闸", "只许本小区车辆进入")
    draft = make_meeting(MeetingStatus.DRAFT, title="电梯轿厢广告协商会")
    db.session.flush()
    starts = next_week()
    meeting_data = {
        "title": "楼道堆物协商会",
        "starts_at": local(starts),
        "ends_at": local(starts + timedelta(hours=2)),
        "location": "社区活动室",
        "online_url": "",
        "description": "",
        "host": "",
        "recorder": "",
        "more_topics": "",
    }
    held = held_meeting
    return {
        "signup": Form(
            "/auth/signup",
            {
                "username": "newcomer",
                "display_name": "新居民",
                "phone": "",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "community_id": str(community.id),
            },
            ["username", "display_name", "phone"],
            User,
            loose=["community_id"],
        ),
        "request": Form(
            "/requests/new",
            {
                "community_id": str(community.id),
                "title": "楼道堆物",
                "category": "public_facilities",
                "description": "3号楼楼道里堆满了杂物。",
                "location": "3号楼",
                "contact": "",
            },
            ["title", "description", "location", "contact"],
            ResidentRequest,
            resident,
            loose=["community_id", "category"],
        ),
        "request_on_behalf": Form(
            "/requests/new",
            {
                "community_id": str(community.id),
                "title": "楼道堆物",
                "category": "public_facilities",
                "description": "3号楼楼道里堆满了杂物。",
                "location": "3号楼",
                "contact": "",
                "on_behalf_of": resident.username,
            },
            ["title", "description"],
            ResidentRequest,
            secretary,
            loose=["on_behalf_of"],
        ),
        "meeting": Form(
            f"/communities/{community.id}/meetings/new",
            meeting_data,
            ["title", "location", "description", "online_url"],
            Meeting,
            secretary,
            loose=MEETING_LOOSE,
        ),
        "meeting_edit": Form(
            f"/meetings/{draft.id}/edit",
            meeting_data,
            ["title", "location", "description", "online_url"],
            Meeting,
            secretary,
            row_id=draft.id,
            loose=MEETING_LOOSE,
        ),
        "agenda_item": Form(
            f"/meetings/{draft.id}/agenda",
            {"title": "电梯轿厢广告", "description": "", "planned_minutes": "20"},
            ["title", "description"],
            AgendaItem,
            secretary,
            loose=["planned_minutes", "request_ids"],
        ),
        "proposal": Form(
            f"/agenda-items/{item.id}/proposals/new",
            {"title": "划定临时停车位", "body": ""},
            ["title", "body"],
            Proposal,
            voter,
        ),
        "comment": Form(
            f"/proposals/{proposal.id}/comments",
            {"body": "道闸费用谁出？"},
            ["body"],
            Comment,
            voter,
        ),
        "poll": Form(
            f"/agenda-items/{item.id}/polls/new",
            {
                "title": "通行方案",
                "kind": "single",
                "options-0": "设置道闸",
                "options-1": "维持现状",
                "max_choices": "",
                "secret": "named",
                "majority": "simple",
                "quorum_percent": "",
            },
            ["title", "options-0"],
            Poll,
            secretary,
            columns={"options-0": "label"},
            also={PollOption: 2},
            loose=["kind", "max_choices", "secret", "majority", "quorum_percent"],
        ),
        "resolution": Form(
            f"/meetings/{held.meeting.id}/resolutions/new",
            {
                "agenda_item_id": str(held.item.id),
                "poll_id": "0",
                "decision": "",
                "text": "同意在中心路设置道闸。",
                "conditions": "",
                "project_mode": "new",
                "project_title": "中心路道闸",
                "responsible_unit": "物业",
                "due_date": (starts + timedelta(days=60)).strftime("%Y-%m-%d"),
                "budget": "12500.50",
                "project_description": "",
                "project_id": "0",
            },
            ["text", "conditions", "project_title", "responsible_unit", "project_description"],
            Resolution,
            secretary,
            columns={"project_title": "title", "project_description": "description"},
            also={Project: 1},
            loose=["agenda_item_id", "poll_id", "decision", "due_date", "budget", "project_id"],
        ),
        "minutes": Form(
            f"/meetings/{held.meeting.id}/minutes/edit",
            {"body": "# 纪要\n\n决定铺设防滑地板。", "base": "0", "save": "1"},
            ["body"],
            MinutesVersion,
            secretary,
            columns={"body": "body_markdown"},
            normalise=minutes_services.clean_body,
        ),
        "project_update": Form(
            f"/projects/{held.project.id}/updates",
            {"percent": "30", "status": "in_progress", "note": "地板已铺设一半。", "on_date": ""},
            ["note"],
            ProjectUpdate,
            secretary,
            loose=["percent", "status", "on_date"],
        ),
        "account": Form(
            "/auth/account",
            {"display_name": "王阿姨", "phone": "", "email": ""},
            ["display_name", "phone", "email"],
            User,
            resident,
            row_id=resident.id,
        ),
    }


def stored_value(db, form: Form, name: str) -> str | None:
    """The posted field's value as the database holds it now."""
    db.session.expire_all()
    table = form.table
    column = form.columns.get(name, name)
    if table is Resolution and (name.startswith("project_") or name == "responsible_unit"):
        table = Project
    if table is Poll and name.startswith("options-"):
        table = PollOption
    statement = db.select(getattr(table, column))
    if form.row_id is not None:
        statement = statement.where(table.id == form.row_id)
    elif table is PollOption:
        statement = statement.order_by(table.id.desc()).limit(2).offset(1)
    else:
        statement = statement.order_by(table.id.desc()).limit(1)
    return db.session.scalar(statement)


def shown_errors(page: str, name: str) -> list[str]:
    return field_errors(page, name) + form_errors(page)


def check_escaped(page: str, text: str) -> None:
    for fragment in HTML_FRAGMENTS:
        if fragment in text:
            assert fragment not in page, f"{fragment!r} is on the page unescaped"


@pytest.mark.parametrize(
    "name",
    [
        "signup",
        "request",
        "request_on_behalf",
        "meeting",
        "meeting_edit",
        "agenda_item",
        "proposal",
        "comment",
        "poll",
        "resolution",
        "minutes",
        "project_update",
        "account",
    ],
)
def test_hostile_text_is_refused_next_to_its_field_or_saved_whole(name, forms, app, db):
    form = forms[name]
    client = app.test_client()
    if form.user is not None:
        response = client.post(
            "/auth/login", data={"username": form.user.username, "password": PASSWORD}
        )
        assert response.status_code == 302

    def post(field_name: str, text: str) -> None:
        savepoint = db.session.connection().begin_nested()
        try:
            check_one(db, client, form, field_name, text)
        finally:
            savepoint.rollback()

    # Every text field meets every HTML fragment once, whatever the random
    # draw: thirty examples spread over a form's fields may miss one.
    for field_name in form.fields:
        for fragment in HTML_FRAGMENTS:
            post(field_name, fragment)

    @settings(THROUGH_THE_APP, max_examples=MAX_EXAMPLES)
    @given(
        st.sampled_from(form.fields + form.loose).flatmap(
            lambda name: st.tuples(st.just(name), numberish if name in form.loose else hostile_text)
        )
    )
    def post_drawn(field_and_text: tuple[str, str]) -> None:
        post(*field_and_text)

    post_drawn()


def check_one(db, client, form: Form, name: str, text: str) -> None:
    tables = [form.table, *form.also]
    # A save writes the rows of one save; an edit, none.
    grows = {form.table: int(form.row_id is None)} | form.also
    before = {table: count(db, table) for table in tables}
    old = (
        stored_value(db, form, name) if form.row_id is not None and name not in form.loose else None
    )
    # Signing up logs the newcomer in: each attempt starts as a guest.
    poster = client if form.user is not None else client.application.test_client()
    response = poster.post(form.url, data=form.data | {name: text})
    after = {table: count(db, table) for table in tables}
    page = response.get_data(as_text=True)
    assert response.status_code < 500, f"{name}={text!r}: {page}"

    if response.status_code in (302, 303):
        assert after == {table: before[table] + grows[table] for table in tables}
        if name not in form.loose:
            stored = stored_value(db, form, name) or ""
            assert stored == form.normalise(text), f"{name}: {text!r} was stored as {stored!r}"
        shown = poster.get(response.location)
        assert shown.status_code == 200
        check_escaped(shown.get_data(as_text=True), text)
        return

    assert after == before, f"{name}={text!r} was refused, yet rows were written"
    if form.row_id is not None and name not in form.loose:
        assert stored_value(db, form, name) == old
    if "\x00" in text:
        assert response.status_code == 400
        return
    assert response.status_code == 422, f"{name}={text!r}: {response.status_code}"
    assert shown_errors(page, name), f"no message for {name!r} with {text!r}"
    check_escaped(page, text)


# --- the searches: hostile text in a query string -------------------------------------------

# (path with {community} and {meeting}, its fixed query, the parameter drawn, JSON or a page)
SEARCHES = [
    ("/people", {"community": "{community}"}, "q", True),
    ("/communities/{community}/topics", {}, "q", True),
    ("/meetings/{meeting}/attendees", {}, "q", False),
    ("/meetings/{meeting}/attendees", {}, "page", False),
    ("/communities/{community}/requests", {}, "page", False),
    ("/communities/{community}/dashboard", {}, "page", False),
    ("/search", {"q": "活动室"}, "page", False),
    ("/search", {"q": "活动室"}, "projects_page", False),
    ("/search", {}, "q", False),
]


@pytest.mark.parametrize(("path", "query", "name", "json"), SEARCHES)
def test_hostile_search_text_is_answered_not_a_500(
    path, query, name, json, app, db, make_meeting, secretary, community, in_request
):
    meeting = make_meeting(MeetingStatus.SCHEDULED)
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"username": secretary.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    url = path.format(community=community.id, meeting=meeting.id)
    fixed = {key: value.format(community=community.id) for key, value in query.items()}

    @settings(THROUGH_THE_APP, max_examples=MAX_EXAMPLES)
    @given(st.one_of(hostile_text, numberish))
    def ask(text: str) -> None:
        response = client.get(url, query_string=fixed | {name: text})
        assert response.status_code < 500, f"{name}={text!r}"
        if "\x00" in text:
            assert response.status_code == 400
            return
        assert response.status_code in (200, 422), f"{name}={text!r}: {response.status_code}"
        if json:
            found = response.get_json()
            assert len(found["items"]) <= 20 and isinstance(found["more"], bool)
        else:
            check_escaped(response.get_data(as_text=True), text)

    ask()
