"""A resolution following a choice among options names the option chosen
(issue 17: it said only "依据表决…：已选出" / "Decided"), on the meeting
page, the project page, the request page and the correction form; a tie is
said plainly; and the options are loaded without a query per resolution."""

from __future__ import annotations

import re

import pytest
from query_count import queries_of

from meetings.extensions import db
from meetings.projects import services

pytest_plugins = ["meeting_fixtures", "project_fixtures"]

SITES = ("方案A：广场东侧", "方案B：篮球场北侧", "方案C：停车场旁")


def _choice(closed_poll, votes, title="音箱安装位置"):
    return closed_poll(votes, kind="single", options=SITES, title=title)


def _resolve(secretary, meeting, poll, text="音箱装在篮球场北侧。", **spec):
    return services.record_resolution(
        secretary, meeting, services.ResolutionSpec(text=text, poll_id=poll.id, **spec)
    )


def _lines(html: str) -> list[str]:
    """The resolutions' poll lines, as text."""
    found = re.findall(r'<p class="muted resolution-poll">(.*?)</p>', html, re.S)
    return [re.sub(r"\s+", " ", line).strip() for line in found]


def test_the_meeting_page_names_the_chosen_option(
    english, login, secretary, deliberation, closed_poll
):
    poll = _choice(closed_poll, [SITES[1], SITES[1], SITES[0]])
    _resolve(secretary, deliberation.meeting, poll)
    db.session.flush()
    login(secretary)
    html = english.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)
    assert _lines(html) == ["Following the poll “音箱安装位置”: chosen 方案B：篮球场北侧"]
    assert "Decided" not in _lines(html)[0]


def test_a_tie_is_said_plainly(english, login, secretary, deliberation, closed_poll):
    poll = _choice(closed_poll, [SITES[2], SITES[0]])  # one vote each
    assert poll.tie is True
    _resolve(secretary, deliberation.meeting, poll, text="两处票数相同，另行协商。")
    db.session.flush()
    login(secretary)
    html = english.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)
    assert _lines(html) == [
        "Following the poll “音箱安装位置”: a tie between 方案A：广场东侧、方案C：停车场旁"
    ]


def test_a_yes_no_poll_says_adopted(english, login, secretary, deliberation, closed_poll):
    poll = closed_poll(["yes", "yes", "no"])
    _resolve(secretary, deliberation.meeting, poll, text="同意改造。")
    db.session.flush()
    login(secretary)
    html = english.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)
    assert _lines(html) == ["Following the poll “是否改造活动室”: Adopted"]


def test_the_project_and_request_pages_name_it_too(
    english, login, secretary, resident, deliberation, closed_poll, accepted_request
):
    poll = _choice(closed_poll, [SITES[1], SITES[1], SITES[0]])
    resolution = _resolve(
        secretary,
        deliberation.meeting,
        poll,
        project=services.ProjectSpec(
            title="智慧音箱安装", responsible_unit="物业", due_date=deliberation.meeting.ends_at
        ),
    )
    db.session.flush()
    expected = ["Following the poll “音箱安装位置”: chosen 方案B：篮球场北侧"]
    login(secretary)
    project_page = english.get(f"/projects/{resolution.project_id}").get_data(as_text=True)
    assert _lines(project_page) == expected
    edit_page = english.get(f"/resolutions/{resolution.id}/edit").get_data(as_text=True)
    assert "chosen 方案B：篮球场北侧" in edit_page
    login(resident)
    request_page = english.get(f"/requests/{accepted_request.id}").get_data(as_text=True)
    assert _lines(request_page) == expected


@pytest.fixture
def project_with(secretary, deliberation, closed_poll):
    """``project_with(n)``: a project behind ``n`` resolutions, each following
    its own choice poll (``project_with(n, project)`` adds to it)."""

    def make(n: int, project=None):
        for i in range(n):
            poll = _choice(closed_poll, [SITES[i % 3]] * 2, title=f"表决{i}")
            resolution = _resolve(
                secretary,
                deliberation.meeting,
                poll,
                text=f"第{i}项决定。",
                **(
                    {"project_id": project.id}
                    if project
                    else {
                        "project": services.ProjectSpec(
                            title="智慧音箱安装",
                            responsible_unit="物业",
                            due_date=deliberation.meeting.ends_at,
                        )
                    }
                ),
            )
            project = project or resolution.project
        db.session.flush()
        return project

    return make


def test_no_query_per_resolution(login, secretary, deliberation, project_with, client):
    """One resolution or three: the meeting and project pages run as many queries."""
    login(secretary)
    project = project_with(1)
    meeting_url = f"/meetings/{deliberation.meeting.id}"
    project_url = f"/projects/{project.id}"
    one = (queries_of(client, meeting_url), queries_of(client, project_url))
    project_with(2, project)  # two more resolutions, with two more polls, on the same project
    db.session.expire_all()
    three = (queries_of(client, meeting_url), queries_of(client, project_url))
    assert three == one


def test_the_published_minutes_list_names_the_chosen_option(
    english, community, secretary, deliberation, closed_poll
):
    """The poll results under each published minutes (the community's list)
    named no option either: "Decided"."""
    from meetings.meeting import services as meeting_services
    from meetings.meeting.models import MeetingStatus
    from meetings.minutes import services as minutes_services

    _choice(closed_poll, [SITES[1], SITES[1], SITES[0]])
    meeting = deliberation.meeting
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    minutes_services.publish(
        secretary, minutes_services.save_version(secretary, meeting, "# 纪要\n\n音箱位置已议定。\n")
    )
    db.session.flush()
    body = english.get(f"/communities/{community.id}/minutes").get_data(as_text=True)
    assert "音箱安装位置: <strong>chosen 方案B：篮球场北侧</strong>" in body
