"""Fixtures of the resolution and project tests, loaded with
``pytest_plugins = ["meeting_fixtures", "project_fixtures"]``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pytest
from project_helpers import Deliberation

from meetings.meeting import services as meeting_services
from meetings.meeting.models import AgendaItem, MeetingStatus
from meetings.polls import services as poll_services
from meetings.polls.models import Poll
from meetings.projects import services
from meetings.projects.models import Project


@pytest.fixture
def deliberation(
    make_meeting, make_member, secretary, accepted_request, in_request, db
) -> Deliberation:
    voters = [make_member(f"居民代表{i}") for i in range(1, 4)]
    meeting = make_meeting(
        MeetingStatus.DRAFT,
        invite=dict.fromkeys(voters, "resident_rep"),
        request_ids=[accepted_request.id],
    )
    item = meeting_services.add_agenda_item(
        secretary, meeting, "活动室改造方案", request_ids=[accepted_request.id]
    )
    meeting_services.add_agenda_item(secretary, meeting, "其他事项")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.SCHEDULED)
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    proposal = poll_services.table_proposal(voters[0], item, "全面改造出新", "地板、墙面、卫生间")
    db.session.flush()
    return Deliberation(meeting, item, voters, accepted_request, proposal)


@pytest.fixture
def closed_poll(deliberation, secretary, db) -> Callable[..., Poll]:
    """``closed_poll(["yes", "no", "yes"])``: a yes/no/abstain poll on the
    proposal, one ballot per voter as given, closed; ``kind="single"`` with
    ``options=[…]`` and choices by label for a choice among options."""

    def make(
        choices: Sequence[str] = ("yes", "yes", "no"),
        *,
        kind: str = "yes_no_abstain",
        options: Sequence[str] = (),
        item: AgendaItem | None = None,
        title: str = "是否改造活动室",
    ) -> Poll:
        item = item or deliberation.item
        if kind == "yes_no_abstain":
            specs = [poll_services.OptionSpec(proposal_id=deliberation.proposal.id)]
        else:
            specs = [poll_services.OptionSpec(label=label) for label in options]
        poll = poll_services.create_poll(
            secretary, item, poll_services.PollSpec(title=title, kind=kind, options=specs)
        )
        poll_services.open_poll(secretary, poll)
        by_key = {(o.code.value if o.code else o.label): o.id for o in poll.options}
        for voter, choice in zip(deliberation.voters, choices, strict=False):
            poll_services.cast_ballot(voter, poll, [by_key[choice]])
        poll_services.close_poll(secretary, poll)
        db.session.flush()
        return poll

    return make


@pytest.fixture
def make_project(deliberation, secretary, db) -> Callable[..., Project]:
    """A project opened by a resolution of the meeting (no poll), planned."""

    def make(**overrides) -> Project:
        spec = services.ProjectSpec(
            **(
                {
                    "title": "活动室改造出新",
                    "responsible_unit": "物业",
                    "due_date": date.today() + timedelta(days=60),
                    "budget": "86000",
                }
                | overrides
            )
        )
        resolution = services.record_resolution(
            secretary,
            deliberation.meeting,
            services.ResolutionSpec(
                text="对182幢活动室进行改造出新。",
                agenda_item_id=deliberation.item.id,
                conditions="施工期间活动改在党群服务中心。",
                project=spec,
            ),
        )
        db.session.flush()
        return resolution.project

    return make


@pytest.fixture
def project(make_project) -> Project:
    return make_project()
