"""The proposal and poll pages through the browser's eyes: tabling and
withdrawing proposals, the discussion and hiding a comment, the poll form's
errors, opening and closing, the ballot with its confirmation step and
receipt, refusals, the result page, the show of hands, who may see and do
what, and the meeting page's number of queries with proposals and polls."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from conftest import PASSWORD, field_errors, flashes, form_errors
from flask import Flask
from flask.testing import FlaskClient
from meeting_helpers import fresh
from test_meetings_pages import counted_queries

from auth.models import User
from meetings.errors import InvalidTransition
from meetings.extensions import db
from meetings.i18n import LANGUAGE_COOKIE
from meetings.meeting import services as meeting_services
from meetings.meeting.models import AgendaItem, MeetingStatus
from meetings.polls import services, views
from meetings.polls.models import (
    Ballot,
    Comment,
    PendingBallot,
    Poll,
    PollStatus,
    PollVote,
    Proposal,
    ProposalStatus,
)

pytest_plugins = ["meeting_fixtures"]  # make_meeting, make_member, attendee, in_request…

ACTORS = ["secretary", "other_secretary", "attendee", "resident", "anonymous"]
RECEIPT = re.compile(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}")


# --- the scene ------------------------------------------------------------------------


@pytest.fixture
def voters(make_member) -> list[User]:
    """Two more attendees with a vote (the ``attendee`` fixture is the third)."""
    return [make_member("李建国"), make_member("赵桂兰")]


@pytest.fixture
def observer(make_member) -> User:
    return make_member("列席人员")


@pytest.fixture
def people(secretary, other_secretary, attendee, resident, voters, observer) -> dict:
    return {
        "secretary": secretary,
        "other_secretary": other_secretary,
        "attendee": attendee,
        "resident": resident,
        "anonymous": None,
        "voter1": voters[0],
        "voter2": voters[1],
        "observer": observer,
    }


@pytest.fixture
def client_of(app: Flask, people) -> Callable[[str], FlaskClient]:
    """``client_of("attendee")``: a client of its own, logged in, reading English."""

    def make(actor: str) -> FlaskClient:
        client = app.test_client()
        client.set_cookie(LANGUAGE_COOKIE, "en")
        if people[actor] is not None:
            response = client.post(
                "/auth/login", data={"username": people[actor].username, "password": PASSWORD}
            )
            assert response.status_code == 302
        return client

    return make


@pytest.fixture
def item(in_request, make_meeting, secretary, attendee, voters, observer) -> AgendaItem:
    """An agenda item of a meeting in progress: three attendees with a vote, an observer."""
    invite = {
        attendee: "resident_rep",
        voters[0]: "resident_rep",
        voters[1]: "owners_committee_rep",
        observer: "observer",
    }
    meeting = make_meeting("scheduled", invite=invite)
    item = meeting_services.add_agenda_item(secretary, meeting, "活动室改造方案")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    db.session.flush()
    return item


@pytest.fixture
def proposal(item, attendee) -> Proposal:
    proposal = services.table_proposal(attendee, item, "铺设防滑地胶", "乒乓球室和舞蹈室换防滑地胶")
    db.session.flush()
    return proposal


def make_poll(item, secretary, *, open_it=True, options=(), **spec) -> Poll:
    spec = {"title": "是否改造活动室", "kind": "yes_no_abstain"} | spec
    poll = services.create_poll(
        secretary,
        item,
        services.PollSpec(options=[services.OptionSpec(label=label) for label in options], **spec),
    )
    if open_it:
        services.open_poll(secretary, poll)
    db.session.flush()
    return poll


def option_id(poll: Poll, label: str) -> int:
    return next(option.id for option in poll.options if option.label == label)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def meeting_url(item: AgendaItem) -> str:
    return f"/meetings/{item.meeting_id}"


# --- proposals --------------------------------------------------------------------------


def test_an_attendee_tables_a_proposal_from_the_meeting_page(client_of, item, attendee):
    client = client_of("attendee")
    page = client.get(meeting_url(item)).get_data(as_text=True)
    assert "Table a proposal" in page
    assert f'action="/agenda-items/{item.id}/proposals/new"' in page

    response = client.post(
        f"/agenda-items/{item.id}/proposals/new",
        data={"title": "铺设防滑地胶", "body": "换成防滑地胶，预算约三万元"},
    )
    assert response.status_code == 302
    proposal = db.session.scalar(db.select(Proposal).where(Proposal.agenda_item_id == item.id))
    assert response.headers["Location"] == f"/proposals/{proposal.id}"
    assert proposal.author_id == attendee.id

    shown = text_of(client.get(meeting_url(item)))
    assert "铺设防滑地胶" in shown and "by 张秀英" in shown and "0 comments" in shown
    page = text_of(client.get(f"/proposals/{proposal.id}"))
    assert "换成防滑地胶，预算约三万元" in page


def test_a_proposal_without_a_title_is_asked_again_and_not_saved(client_of, item):
    response = client_of("attendee").post(
        f"/agenda-items/{item.id}/proposals/new", data={"title": "  ", "body": "正文"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "title") == ["Please fill this in."]
    assert "正文" in page  # what was typed is kept
    assert db.session.scalar(db.select(db.func.count()).select_from(Proposal)) == 0


def test_the_secretary_tables_too_but_a_resident_may_not(client_of, item, secretary):
    ok = client_of("secretary").post(
        f"/agenda-items/{item.id}/proposals/new", data={"title": "请物业先出报价"}
    )
    assert ok.status_code == 302
    refused = client_of("resident").post(
        f"/agenda-items/{item.id}/proposals/new", data={"title": "我也想提"}
    )
    assert refused.status_code == 403
    titles = db.session.scalars(db.select(Proposal.title)).all()
    assert titles == ["请物业先出报价"]


def test_only_the_author_withdraws_after_a_confirmation(client_of, proposal, item):
    url = f"/proposals/{proposal.id}/withdraw"
    other = client_of("voter1")
    assert other.get(url).status_code == 403
    assert other.post(url).status_code == 403
    assert client_of("secretary").post(url).status_code == 403
    assert fresh(proposal).status == ProposalStatus.ACTIVE

    author = client_of("attendee")
    assert f'href="{url}"' in author.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    confirm = author.get(url)
    assert confirm.status_code == 200 and "Yes, withdraw it" in confirm.get_data(as_text=True)
    done = author.post(url, follow_redirects=True)
    assert "Your proposal is withdrawn; it stays on the page, marked so." in flashes(
        done.get_data(as_text=True)
    )
    assert fresh(proposal).status == ProposalStatus.WITHDRAWN

    page = text_of(author.get(f"/proposals/{proposal.id}"))
    assert "Withdrawn" in page and "A withdrawn proposal takes no more comments." in page
    meeting_page = author.get(meeting_url(item)).get_data(as_text=True)
    assert re.search(r"proposal-line is-withdrawn.*?Withdrawn", meeting_page, re.S)
    again = author.post(url, follow_redirects=True)
    assert "This proposal has already been withdrawn." in flashes(again.get_data(as_text=True))


def test_attendees_discuss_a_proposal(client_of, proposal):
    client = client_of("voter1")
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "建议选浅色"})
    assert response.status_code == 302
    comment = db.session.scalar(db.select(Comment))
    assert response.headers["Location"].endswith(f"/proposals/{proposal.id}#comment-{comment.id}")
    page = text_of(client_of("attendee").get(f"/proposals/{proposal.id}"))
    assert "建议选浅色" in page and "李建国" in page

    empty = client.post(f"/proposals/{proposal.id}/comments", data={"body": ""})
    assert empty.status_code == 422
    assert field_errors(empty.get_data(as_text=True), "body") == ["Please fill this in."]
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 1

    assert (
        client_of("resident").post(f"/proposals/{proposal.id}/comments", data={"body": "路过"})
    ).status_code == 403


def test_the_secretary_hides_an_abusive_comment_which_is_kept_and_shown_as_hidden(
    client_of, proposal, voters
):
    comment = services.add_comment(voters[0], proposal, "骂人的话")
    db.session.flush()
    url = f"/comments/{comment.id}/hide"
    attendee = client_of("attendee")
    assert f'href="{url}"' not in attendee.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert attendee.get(url).status_code == 403
    assert attendee.post(url).status_code == 403
    assert client_of("other_secretary").post(url).status_code == 403
    assert fresh(comment).hidden_at is None

    secretary = client_of("secretary")
    assert f'href="{url}"' in secretary.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    confirm = secretary.get(url)
    assert confirm.status_code == 200 and "骂人的话" in text_of(confirm)
    assert secretary.post(url).status_code == 302

    kept = fresh(comment)
    assert kept.body == "骂人的话" and kept.hidden_at is not None
    for who in ("attendee", "secretary"):
        page = text_of(client_of(who).get(f"/proposals/{proposal.id}"))
        assert "Hidden by the secretary." in page
        assert "骂人的话" not in page


# --- creating a poll --------------------------------------------------------------------

GOOD_POLL = {
    "title": "选择改造方案",
    "kind": "single",
    "options-0": "方案甲",
    "options-1": "方案乙",
    "secret": "named",
    "majority": "simple",
}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Please fill this in."),
        ({"options-1": ""}, "options", "A poll needs at least two options."),
        ({"options-1": "方案甲"}, "options", "Two options have the same label: 方案甲"),
        ({"max_choices": "2"}, "max_choices", "Only a poll of several choices takes this."),
        (
            {"kind": "multiple", "max_choices": "3"},
            "max_choices",
            "Between 1 and the number of options.",
        ),
        ({"quorum_percent": "150"}, "quorum_percent", "A percentage from 1 to 100."),
        ({"quorum_percent": "half"}, "quorum_percent", "Not a valid integer value."),
        (
            {"kind": "multiple", "in_room": "y"},
            "in_room",
            "A show of hands takes one choice per person.",
        ),
        ({"secret": "secret", "in_room": "y"}, "secret", "A show of hands cannot be secret."),
        ({"kind": "ranked"}, "kind", "Not a valid choice."),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_poll_form_errors_are_shown_next_to_the_fields_and_nothing_is_saved(
    client_of, item, changes, field, message
):
    response = client_of("secretary").post(
        f"/agenda-items/{item.id}/polls/new", data=GOOD_POLL | changes
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, field) == [message]
    assert db.session.scalar(db.select(db.func.count()).select_from(Poll)) == 0


def test_a_poll_takes_ticked_proposals_and_typed_options(client_of, item, proposal, voters):
    withdrawn = services.table_proposal(voters[0], item, "暂不改造")
    services.withdraw_proposal(voters[0], withdrawn)
    db.session.flush()
    client = client_of("secretary")
    form = client.get(f"/agenda-items/{item.id}/polls/new").get_data(as_text=True)
    assert "铺设防滑地胶" in form and "暂不改造" not in form  # active proposals only

    response = client.post(
        f"/agenda-items/{item.id}/polls/new",
        data={
            "title": "选择改造方案",
            "kind": "multiple",
            "proposal_ids": str(proposal.id),
            "options-0": "",
            "options-1": "更换照明",
            "options-2": "   ",
            "options-7": "维修卫生间",
            "max_choices": "2",
            "secret": "secret",
            "majority": "absolute",
            "quorum_percent": "50",
            "present_only": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    poll = db.session.scalar(db.select(Poll))
    assert response.headers["Location"] == f"/polls/{poll.id}"
    assert [o.label for o in poll.options] == ["铺设防滑地胶", "更换照明", "维修卫生间"]
    assert poll.options[0].proposal_id == proposal.id
    assert (poll.kind, poll.max_choices, poll.secret, poll.majority) == (
        "multiple",
        2,
        True,
        "absolute",
    )
    assert (poll.quorum_percent, poll.present_only, poll.in_room, poll.status) == (
        50,
        True,
        False,
        PollStatus.DRAFT,
    )


def test_a_for_against_poll_can_be_on_one_proposal(client_of, item, proposal):
    response = client_of("secretary").post(
        f"/agenda-items/{item.id}/polls/new",
        data={
            "title": "是否采纳防滑地胶方案",
            "kind": "yes_no_abstain",
            "proposal_ids": str(proposal.id),
            "secret": "named",
            "majority": "two_thirds",
        },
    )
    assert response.status_code == 302
    poll = db.session.scalar(db.select(Poll))
    assert [o.label for o in poll.options] == ["赞成", "反对", "弃权"]
    assert poll.options[0].proposal_id == proposal.id


def test_only_the_secretary_of_the_community_creates_polls(client_of, item):
    url = f"/agenda-items/{item.id}/polls/new"
    for actor, status in [("other_secretary", 403), ("attendee", 403), ("resident", 403)]:
        assert client_of(actor).post(url, data=GOOD_POLL).status_code == status, actor
    assert client_of("anonymous").post(url, data=GOOD_POLL).status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(Poll)) == 0


# --- opening, the turnout, closing ----------------------------------------------------


def test_the_secretary_opens_watches_and_closes_a_poll_from_its_page(
    client_of, item, secretary, voters
):
    poll = make_poll(item, secretary, open_it=False, secret=True)
    client = client_of("secretary")
    page = text_of(client.get(meeting_url(item)))
    assert "是否改造活动室" in page and "Not yet open" in page

    draft = text_of(client.get(f"/polls/{poll.id}"))
    assert "Right now that is 3 people." in draft
    opened = client.post(f"/polls/{poll.id}/open", follow_redirects=True)
    assert "Voting is open: 3 people may vote now." in flashes(opened.get_data(as_text=True))
    assert fresh(poll).status == PollStatus.OPEN

    services.cast_ballot(voters[0], fresh(poll), [option_id(poll, "赞成")])
    db.session.flush()
    live = text_of(client.get(f"/polls/{poll.id}"))
    assert re.search(
        r'class="turnout-count"><strong data-live-field="cast">1</strong> / '
        r'<span data-live-field="eligible">3</span><',
        live,
    )
    assert "1 vote" not in live and "33.3%" not in live  # numbers only, never choices
    assert "1 of 3 voted" in text_of(client.get(meeting_url(item)))

    confirm = text_of(client.get(f"/polls/{poll.id}/close"))
    assert "Yes, close and count" in confirm and "2 people have not voted yet." in confirm
    assert fresh(poll).status == PollStatus.OPEN  # asking is not closing
    closed = client.post(f"/polls/{poll.id}/close", follow_redirects=True)
    page = text_of(closed)
    assert "The poll is closed and counted." in flashes(page)
    assert "Adopted (通过)" in page
    assert "Who voted what" not in page  # a secret poll has no such list
    assert fresh(poll).status == PollStatus.CLOSED


def test_opening_twice_is_refused_on_the_page(client_of, item, secretary):
    poll = make_poll(item, secretary)
    response = client_of("secretary").post(f"/polls/{poll.id}/open")
    assert response.status_code == 409
    assert "Only a poll that has not been opened can be opened." in flashes(
        response.get_data(as_text=True)
    )


def test_attendees_cannot_open_or_close(client_of, item, secretary):
    poll = make_poll(item, secretary, open_it=False)
    for actor in ("attendee", "other_secretary", "resident"):
        assert client_of(actor).post(f"/polls/{poll.id}/open").status_code == 403, actor
    assert fresh(poll).status == PollStatus.DRAFT
    services.open_poll(secretary, fresh(poll))
    db.session.flush()
    for actor in ("attendee", "other_secretary", "resident"):
        assert client_of(actor).post(f"/polls/{poll.id}/close").status_code == 403, actor
    assert fresh(poll).status == PollStatus.OPEN


def test_named_votes_are_listed_for_the_secretary_after_closing(
    client_of, item, secretary, attendee, voters
):
    poll = make_poll(item, secretary, kind="single", options=["方案甲", "方案乙"])
    services.cast_ballot(attendee, poll, [option_id(poll, "方案乙")])
    services.cast_ballot(voters[0], poll, [option_id(poll, "方案甲")])
    services.close_poll(secretary, poll)
    db.session.flush()
    page = text_of(client_of("secretary").get(f"/polls/{poll.id}"))
    assert "Who voted what" in page
    assert re.search(r"张秀英</td><td[^>]*>方案乙<", page)
    assert re.search(r"李建国</td><td[^>]*>方案甲<", page)
    assert "Who voted what" not in text_of(client_of("attendee").get(f"/polls/{poll.id}"))


# --- the ballot ---------------------------------------------------------------------------


def test_for_against_abstain_are_glossed_for_readers_of_english(client_of, item, secretary):
    """The options are stored as 赞成、反对、弃权; an English ballot says what they mean."""
    poll = make_poll(item, secretary)
    client = client_of("attendee")
    english = text_of(client.get(f"/polls/{poll.id}/vote"))
    for label, meaning in (("赞成", "For"), ("反对", "Against"), ("弃权", "Abstain")):
        assert re.search(rf"{label}\s*<span class=\"option-gloss\"[^>]*>\({meaning}\)", english)
    client.set_cookie(LANGUAGE_COOKIE, "zh_CN")
    chinese = text_of(client.get(f"/polls/{poll.id}/vote"))
    assert "赞成" in chinese and "option-gloss" not in chinese


def test_the_named_table_receipts_and_show_of_hands_are_glossed_too(client_of, item, secretary):
    poll = make_poll(item, secretary, secret=False)
    voter = client_of("attendee")
    cast = {"option_ids": str(option_id(poll, "反对")), "confirm": "1"}
    assert voter.post(f"/polls/{poll.id}/vote", data=cast).status_code in (200, 302)
    services.close_poll(secretary, poll)
    db.session.flush()
    host = client_of("secretary")
    assert "反对 (Against)" in text_of(host.get(f"/polls/{poll.id}"))  # who voted what
    assert "反对 (Against)" in text_of(host.get(f"/polls/{poll.id}/receipts"))

    hands = make_poll(item, secretary, title="举手表决", in_room=True)
    form = text_of(host.get(f"/polls/{hands.id}"))
    assert re.search(r"<label[^>]*>\s*弃权 \(Abstain\)", form)


def test_voting_on_a_phone_asks_for_confirmation_then_shows_a_receipt(
    client_of, item, secretary, attendee
):
    poll = make_poll(item, secretary, secret=True)
    yes = option_id(poll, "赞成")
    client = client_of("attendee")

    meeting_page = client.get(meeting_url(item)).get_data(as_text=True)
    assert f'href="/polls/{poll.id}/vote"' in meeting_page and "Vote now" in meeting_page
    assert "Vote now" in client.get("/my/meetings").get_data(as_text=True)

    ballot = client.get(f"/polls/{poll.id}/vote")
    assert ballot.status_code == 200
    page = text_of(ballot)
    assert page.count('type="radio"') == 3 and "<legend" in page
    assert 'name="confirm"' not in page  # the first step never casts

    step = client.post(f"/polls/{poll.id}/vote", data={"option_ids": str(yes)})
    assert step.status_code == 200
    page = text_of(step)
    assert "Is this your choice?" in page and "赞成" in page
    assert f'name="option_ids" value="{yes}"' in page and 'name="confirm" value="1"' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(PollVote)) == 0

    back = client.post(f"/polls/{poll.id}/vote", data={"option_ids": str(yes), "change": "1"})
    assert back.status_code == 200
    assert re.search(rf'checked[^>]*value="{yes}"|value="{yes}"[^>]*checked', text_of(back))
    assert 'name="confirm"' not in text_of(back)

    cast = client.post(f"/polls/{poll.id}/vote", data={"option_ids": str(yes), "confirm": "1"})
    assert cast.status_code == 302 and cast.headers["Location"] == f"/polls/{poll.id}/vote"
    done = text_of(client.get(f"/polls/{poll.id}/vote"))
    assert "You have voted — thank you" in done
    shown = RECEIPT.search(done).group(0)
    ballot_row = db.session.scalar(db.select(PendingBallot).where(PendingBallot.poll_id == poll.id))
    assert shown.replace("-", "") == ballot_row.receipt
    assert ballot_row.voter_id is None  # secret

    again = text_of(client.get(f"/polls/{poll.id}/vote"))
    assert "You have already voted" in again and shown in again
    assert "Vote now" not in client.get(meeting_url(item)).get_data(as_text=True)
    assert "You have voted" in client.get(meeting_url(item)).get_data(as_text=True)


def test_choosing_nothing_or_too_many_is_asked_again(client_of, item, secretary):
    poll = make_poll(item, secretary, kind="multiple", options=["甲", "乙", "丙"], max_choices=2)
    client = client_of("attendee")
    nothing = client.post(f"/polls/{poll.id}/vote", data={})
    assert nothing.status_code == 422
    assert field_errors(nothing.get_data(as_text=True), "option_ids") == [
        "Please choose an option."
    ]
    assert text_of(client.get(f"/polls/{poll.id}/vote")).count('type="checkbox"') == 3

    ids = [str(option.id) for option in poll.options]
    too_many = client.post(f"/polls/{poll.id}/vote", data={"option_ids": ids})
    assert too_many.status_code == 422
    assert field_errors(too_many.get_data(as_text=True), "option_ids") == [
        "Choose at most 2 options."
    ]
    two = client.post(f"/polls/{poll.id}/vote", data={"option_ids": ids[:2], "confirm": "1"})
    assert two.status_code == 302
    ballot = db.session.scalar(db.select(PendingBallot).where(PendingBallot.poll_id == poll.id))
    assert sorted(ballot.option_ids) == sorted(int(i) for i in ids[:2])


def test_a_second_ballot_is_refused(client_of, item, secretary, attendee):
    poll = make_poll(item, secretary)
    services.cast_ballot(attendee, poll, [option_id(poll, "赞成")])
    db.session.flush()
    client = client_of("attendee")
    response = client.post(
        f"/polls/{poll.id}/vote", data={"option_ids": str(option_id(poll, "反对")), "confirm": "1"}
    )
    assert response.status_code == 409
    page = text_of(response)
    assert "You have already voted" in page and f'href="{meeting_url(item)}"' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(PendingBallot)) == 1


def test_a_closed_poll_refuses_votes_and_points_to_the_result(client_of, item, secretary):
    poll = make_poll(item, secretary)
    services.close_poll(secretary, poll)
    db.session.flush()
    client = client_of("attendee")
    for response in (
        client.get(f"/polls/{poll.id}/vote"),
        client.post(
            f"/polls/{poll.id}/vote",
            data={"option_ids": str(option_id(poll, "赞成")), "confirm": "1"},
        ),
    ):
        assert response.status_code == 409
        page = text_of(response)
        assert "This poll is closed" in page
        assert f'href="/polls/{poll.id}/result"' in page
        assert f'href="{meeting_url(item)}"' in page


def test_a_poll_not_yet_open_refuses_votes(client_of, item, secretary):
    poll = make_poll(item, secretary, open_it=False)
    response = client_of("attendee").get(f"/polls/{poll.id}/vote")
    assert response.status_code == 409
    assert "Voting has not started yet" in text_of(response)


def test_someone_not_on_the_roll_is_refused_clearly(client_of, item, secretary):
    poll = make_poll(item, secretary)
    for actor in ("observer", "secretary"):
        client = client_of(actor)
        ballot = client.get(f"/polls/{poll.id}/vote")
        assert ballot.status_code == 403, actor
        assert "You cannot vote in this poll" in text_of(ballot)
        assert f'href="{meeting_url(item)}"' in text_of(ballot)
        posted = client.post(
            f"/polls/{poll.id}/vote",
            data={"option_ids": str(option_id(poll, "赞成")), "confirm": "1"},
        )
        assert posted.status_code == 403, actor
    assert "Vote now" not in client_of("observer").get(meeting_url(item)).get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(PendingBallot)) == 0


def test_present_only_leaves_out_those_not_checked_in(client_of, item, secretary, attendee):
    meeting_services.mark_presence(
        secretary, meeting_services.get_attendance(item.meeting, attendee.id), "present"
    )
    poll = make_poll(item, secretary, present_only=True)
    assert client_of("attendee").get(f"/polls/{poll.id}/vote").status_code == 200
    refused = client_of("voter1").get(f"/polls/{poll.id}/vote")
    assert refused.status_code == 403
    assert "checked in as present when it opened" in text_of(refused)


# --- results --------------------------------------------------------------------------


def test_the_result_page_shows_outcome_numbers_and_bars(
    client_of, item, secretary, attendee, voters
):
    poll = make_poll(item, secretary, quorum_percent=50)
    services.cast_ballot(attendee, poll, [option_id(poll, "赞成")])
    services.cast_ballot(voters[0], poll, [option_id(poll, "赞成")])
    services.cast_ballot(voters[1], poll, [option_id(poll, "弃权")])
    db.session.flush()

    early = client_of("attendee").get(f"/polls/{poll.id}/result")
    assert early.status_code == 409
    assert "The result is shown once the poll has closed." in text_of(early)

    services.close_poll(secretary, poll)
    db.session.flush()
    response = client_of("attendee").get(f"/polls/{poll.id}/result")
    assert response.status_code == 200
    page = text_of(response)
    assert "Adopted (通过)" in page
    numbers = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))
    assert numbers["Eligible voters"] == "3" and numbers["Ballots cast"] == "3"
    assert re.search(r'<dt>Quorum</dt><dd>50%<span class="numbers-note">met</span>', page)
    assert re.search(r"赞成.*?2 votes · 66\.7%", page, re.S)
    assert re.search(r"反对.*?0 votes · 0%", page, re.S)
    assert re.search(r"弃权.*?1 vote · 33\.3%", page, re.S)
    assert 'class="result-bar-fill" x="0" y="0" width="66.67"' in page
    assert "style=" not in page.split("<main", 1)[1]  # the CSP allows no inline styles


@pytest.mark.parametrize(
    ("votes", "words"),
    [
        ({"甲": 2, "乙": 1}, "Chosen: 甲"),
        ({"甲": 1, "乙": 1}, "Tie (票数相同)"),
    ],
)
def test_single_choice_results_say_the_winner_or_the_tie(
    client_of, item, secretary, attendee, voters, votes, words
):
    poll = make_poll(item, secretary, kind="single", options=["甲", "乙"])
    people = iter([attendee, *voters])
    for label, count in votes.items():
        for _ in range(count):
            services.cast_ballot(next(people), poll, [option_id(poll, label)])
    services.close_poll(secretary, poll)
    db.session.flush()
    page = text_of(client_of("voter1").get(f"/polls/{poll.id}/result"))
    assert words in page
    if "Tie" in words:
        assert "These options have the same number of votes" in page and "甲、乙" in page


def test_no_quorum_is_said_in_words(client_of, item, secretary, attendee):
    poll = make_poll(item, secretary, quorum_percent=60)
    services.cast_ballot(attendee, poll, [option_id(poll, "赞成")])
    services.close_poll(secretary, poll)
    db.session.flush()
    page = text_of(client_of("attendee").get(f"/polls/{poll.id}/result"))
    assert "No quorum (未达法定人数)" in page and "not met" in page


def test_the_receipts_list_highlights_ones_own_receipt(client_of, item, secretary, voters):
    poll = make_poll(item, secretary, secret=True)
    services.cast_ballot(voters[0], poll, [option_id(poll, "反对")])
    db.session.flush()
    client = client_of("attendee")
    client.post(
        f"/polls/{poll.id}/vote", data={"option_ids": str(option_id(poll, "赞成")), "confirm": "1"}
    )
    [mine] = [
        ballot.receipt
        for ballot in db.session.scalars(
            db.select(PendingBallot).where(PendingBallot.poll_id == poll.id)
        )
        if ballot.option_ids == [option_id(poll, "赞成")]
    ]
    assert client.get(f"/polls/{poll.id}/receipts").status_code == 409  # not closed yet
    services.close_poll(secretary, fresh(poll))
    db.session.flush()
    page = text_of(client.get(f"/polls/{poll.id}/receipts"))
    receipts = {line.receipt for line in services.receipts(poll)}
    assert mine in receipts and len(receipts) == 2
    highlighted = re.search(r'<tr class="receipt-mine" id="my-receipt">(.*?)</tr>', page, re.S)
    assert highlighted is not None
    row = highlighted.group(1)
    assert "赞成" in row and "yours" in row
    assert RECEIPT.search(row).group(0).replace("-", "") == mine
    other = next(iter(receipts - {mine}))
    assert f"{other[:4]}-{other[4:8]}-{other[8:]}" in page and "反对" in page
    # someone else's browser highlights nothing
    assert "receipt-mine" not in client_of("voter2").get(f"/polls/{poll.id}/receipts").get_data(
        as_text=True
    )


# --- the show of hands ----------------------------------------------------------------


def test_the_secretary_enters_a_show_of_hands_which_closes_the_poll(client_of, item, secretary):
    poll = make_poll(item, secretary, in_room=True)
    yes, no, abstain = (option_id(poll, label) for label in ("赞成", "反对", "弃权"))
    client = client_of("secretary")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert 'name="present"' in page and f'name="option_{yes}"' in page

    too_many = client.post(
        f"/polls/{poll.id}/in-room",
        data={"present": "5", f"option_{yes}": "4", f"option_{no}": "2", f"option_{abstain}": "0"},
    )
    assert too_many.status_code == 422
    assert field_errors(too_many.get_data(as_text=True), "present") == [
        "More hands were counted than people present."
    ]
    blank = client.post(
        f"/polls/{poll.id}/in-room",
        data={"present": "5", f"option_{yes}": "4", f"option_{no}": "1"},
    )
    assert blank.status_code == 422
    assert field_errors(blank.get_data(as_text=True), f"option_{abstain}") == [
        "Please enter a number of hands (0 or more)."
    ]
    assert fresh(poll).status == PollStatus.OPEN

    entered = client.post(
        f"/polls/{poll.id}/in-room",
        data={"present": "6", f"option_{yes}": "4", f"option_{no}": "1", f"option_{abstain}": "1"},
    )
    assert entered.status_code == 302
    assert fresh(poll).status == PollStatus.CLOSED
    result = text_of(client_of("attendee").get(f"/polls/{poll.id}/result"))
    assert "Adopted (通过)" in result
    assert "Show of hands: counts entered by 林书记 on" in result
    numbers = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", result))
    assert (numbers["Present"], numbers["Hands counted"]) == ("6", "6")
    assert re.search(r"赞成.*?4 votes · 66\.7%", result, re.S)


def test_nobody_votes_online_in_a_show_of_hands(client_of, item, secretary):
    poll = make_poll(item, secretary, in_room=True)
    response = client_of("attendee").get(f"/polls/{poll.id}/vote")
    assert response.status_code == 409
    assert "Show of hands in the room" in text_of(response)
    assert client_of("attendee").post(f"/polls/{poll.id}/in-room", data={}).status_code == 403


# --- who may see each page ------------------------------------------------------------


def manager_only(ok: int = 200) -> dict[str, int]:
    return {
        "secretary": ok,
        "other_secretary": 403,
        "attendee": 403,
        "resident": 403,
        "anonymous": 302,
    }


INSIDERS = {
    "secretary": 200,
    "other_secretary": 403,
    "attendee": 200,
    "resident": 403,
    "anonymous": 302,
}

PAGES = [
    ("/agenda-items/{item}/proposals/new", INSIDERS),
    ("/proposals/{proposal}", INSIDERS),
    ("/proposals/{proposal}/withdraw", INSIDERS | {"secretary": 403}),  # its author only
    ("/comments/{comment}/hide", manager_only()),
    ("/agenda-items/{item}/polls/new", manager_only()),
    ("/polls/{open}", INSIDERS),
    ("/polls/{open}/close", manager_only()),
    ("/polls/{open}/vote", INSIDERS | {"secretary": 403}),  # not on the roll
    ("/polls/{closed}/result", INSIDERS),
    ("/polls/{closed}/receipts", INSIDERS),
]


@pytest.fixture
def pages_scene(item, proposal, secretary, voters) -> dict:
    comment = services.add_comment(voters[0], proposal, "同意")
    open_poll = make_poll(item, secretary)
    closed = make_poll(item, secretary, title="是否请物业出报价")
    services.close_poll(secretary, closed)
    db.session.flush()
    return {
        "item": item.id,
        "proposal": proposal.id,
        "comment": comment.id,
        "open": open_poll.id,
        "closed": closed.id,
    }


@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_who_may_see_each_page(client_of, pages_scene, path, expected):
    url = path.format(**pages_scene)
    for actor in ACTORS:
        response = client_of(actor).get(url)
        assert response.status_code == expected[actor], (actor, url)
        if expected[actor] == 302:
            assert response.headers["Location"].startswith("/auth/login")


# POST actions and what outsiders get: the secretary's and the attendees' own
# are exercised above, one scenario each.
ACTIONS = [
    ("/agenda-items/{item}/proposals/new", {"title": "外人的方案"}),
    ("/proposals/{proposal}/comments", {"body": "外人的评论"}),
    ("/proposals/{proposal}/withdraw", {}),
    ("/comments/{comment}/hide", {}),
    ("/agenda-items/{item}/polls/new", GOOD_POLL),
    ("/polls/{draft}/open", {}),
    ("/polls/{open}/close", {}),
    ("/polls/{open}/vote", {"option_ids": "{yes}", "confirm": "1"}),
]


@pytest.mark.parametrize(("path", "data"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_outsiders_change_nothing(client_of, pages_scene, item, secretary, path, data):
    draft = make_poll(item, secretary, open_it=False, title="草稿表决")
    scene = pages_scene | {"draft": draft.id}
    scene["yes"] = option_id(db.session.get(Poll, scene["open"]), "赞成")
    url = path.format(**scene)
    body = {key: value.format(**scene) for key, value in data.items()}
    before = _snapshot()
    for actor, status in [("other_secretary", 403), ("resident", 403), ("anonymous", 302)]:
        response = client_of(actor).post(url, data=body)
        assert response.status_code == status, (actor, url)
    assert _snapshot() == before


def _snapshot() -> tuple:
    db.session.expire_all()
    count = db.select(db.func.count())
    return (
        db.session.scalar(count.select_from(Proposal)),
        db.session.scalar(count.select_from(Comment)),
        db.session.scalar(count.select_from(Poll)),
        db.session.scalar(count.select_from(Ballot)),
        db.session.scalar(count.select_from(PendingBallot)),
        tuple(db.session.scalars(db.select(Poll.status).order_by(Poll.id))),
        tuple(db.session.scalars(db.select(Proposal.status).order_by(Proposal.id))),
        tuple(db.session.scalars(db.select(Comment.hidden_at).order_by(Comment.id))),
    )


def test_a_browser_keeps_its_last_receipts_only(app):
    with app.test_request_context():
        for poll_id in range(1, 26):
            views.remember_receipt(Poll(id=poll_id), f"R{poll_id:09d}")
        kept = views.receipts_kept()
        assert len(kept) == views.RECEIPTS_KEPT
        assert min(kept) == 6 and kept[25] == "R000000025"
        views.remember_receipt(Poll(id=7), "AGAIN00007")
        assert list(views.receipts_kept())[-1] == 7


def test_residents_see_proposals_and_results_once_the_minutes_are_published(
    client_of, pages_scene, item, secretary
):
    meeting = item.meeting
    resident = client_of("resident")
    assert "铺设防滑地胶" not in resident.get(meeting_url(item)).get_data(as_text=True)
    services.close_poll(secretary, db.session.get(Poll, pages_scene["open"]))  # before the end
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    meeting_services.mark_minutes_published(secretary, meeting)
    db.session.flush()
    for actor in ("resident", "anonymous", "other_secretary"):
        client = client_of(actor)
        assert "铺设防滑地胶" in client.get(meeting_url(item)).get_data(as_text=True), actor
        result = client.get(f"/polls/{pages_scene['closed']}/result")
        assert result.status_code == 200, actor
        assert client.get(f"/proposals/{pages_scene['proposal']}").status_code == 200, actor
        assert client.get(f"/polls/{pages_scene['closed']}/receipts").status_code == 200, actor
    page = text_of(client_of("attendee").get(f"/proposals/{pages_scene['proposal']}"))
    assert "The meeting is over: the discussion is closed." in page


def test_a_draft_meetings_polls_are_missing_for_outsiders(
    client_of, in_request, make_meeting, secretary, attendee
):
    meeting = make_meeting("draft", invite={attendee: "resident_rep"})
    item = meeting_services.add_agenda_item(secretary, meeting, "议题一")
    poll = make_poll(item, secretary, open_it=False)
    assert client_of("attendee").get(f"/polls/{poll.id}").status_code == 200
    for actor in ("resident", "other_secretary", "anonymous"):
        assert client_of(actor).get(f"/polls/{poll.id}").status_code == 404, actor


def test_unknown_ids_are_not_found(client_of, item):
    client = client_of("secretary")
    for url in ("/polls/999999", "/proposals/999999", "/agenda-items/999999/polls/new"):
        assert client.get(url).status_code == 404, url
    assert client.post("/comments/999999/hide").status_code == 404


# --- the meeting page's queries -------------------------------------------------------


def busy_item(item: AgendaItem, secretary, attendee, proposals: int, polls: int) -> None:
    for n in range(proposals):
        proposal = services.table_proposal(attendee, item, f"方案{item.id}-{n}")
        services.add_comment(attendee, proposal, "附议")
    for n in range(polls):
        make_poll(item, secretary, title=f"表决{item.id}-{n}")


@pytest.mark.parametrize("viewer", ["secretary", "attendee"])
def test_the_meeting_page_with_proposals_and_polls_takes_a_fixed_number_of_queries(
    client_of, in_request, make_meeting, secretary, attendee, viewer
):
    counts = []
    for items in (1, 8):
        meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
        for n in range(items):
            item = meeting_services.add_agenda_item(secretary, meeting, f"议题{n}")
            busy_item(item, secretary, attendee, proposals=3, polls=2)
        db.session.flush()
        client = client_of(viewer)
        client.get(f"/meetings/{meeting.id}")  # warm up
        with counted_queries() as statements:
            response = client.get(f"/meetings/{meeting.id}")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    page = response.get_data(as_text=True)
    assert len(re.findall(r'class="proposal-line[ "]', page)) == 24
    assert len(re.findall(r'class="poll-line[ "]', page)) == 16
    assert "Vote now" in page if viewer == "attendee" else "of 1 voted" in page


def test_posting_a_strange_option_index_is_harmless(client_of, item):
    response = client_of("secretary").post(
        f"/agenda-items/{item.id}/polls/new", data=GOOD_POLL | {"options-²": "x"}
    )
    assert response.status_code == 302
    assert [o.label for o in db.session.scalar(db.select(Poll)).options] == ["方案甲", "方案乙"]


def test_a_negative_count_is_refused_next_to_its_field(client_of, item, secretary):
    poll = make_poll(item, secretary, in_room=True)
    response = client_of("secretary").post(f"/polls/{poll.id}/in-room", data={"present": "-1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "present") == ["Not a negative number."]
    assert form_errors(page) == ["Please correct the marked fields."]


def test_a_meeting_with_an_open_poll_does_not_end_until_the_poll_is_closed(
    client_of, item, secretary, bearer
):
    poll = make_poll(item, secretary, title="是否铺设防滑地胶")
    meeting = item.meeting
    page = client_of("secretary").post(f"/meetings/{meeting.id}/transition", data={"to": "closed"})
    assert page.status_code == 409
    assert "The poll “是否铺设防滑地胶” is still open" in text_of(page)
    api = client_of("anonymous").post(
        f"/api/v1/meetings/{meeting.id}/transitions",
        json={"to": "closed"},
        headers=bearer(secretary),
    )
    assert api.status_code == 409
    assert api.get_json()["error"]["code"] == "poll_still_open"
    db.session.expire_all()
    assert fresh(poll).status == PollStatus.OPEN
    assert db.session.get(type(meeting), meeting.id).status == MeetingStatus.IN_PROGRESS

    services.close_poll(secretary, fresh(poll))
    db.session.flush()
    closed = client_of("secretary").post(
        f"/meetings/{meeting.id}/transition", data={"to": "closed", "confirm": "1"}
    )
    assert closed.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(meeting), meeting.id).status == MeetingStatus.CLOSED


def test_a_scheduled_meeting_with_an_open_poll_is_not_cancelled_either(
    in_request, make_meeting, secretary, attendee
):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    item = meeting_services.add_agenda_item(secretary, meeting, "电梯广告收益")
    make_poll(item, secretary)
    with pytest.raises(InvalidTransition):
        meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CANCELLED, "改期")


def test_a_voter_lands_on_the_ballot_waiting_for_them_after_logging_in(
    app, item, secretary, attendee
):
    poll = make_poll(item, secretary, title="是否铺设防滑地胶")
    client = app.test_client()
    login = client.post("/auth/login", data={"username": attendee.username, "password": PASSWORD})
    assert login.location == "/welcome"
    assert client.get("/welcome").location == f"/polls/{poll.id}/vote"

    make_poll(item, secretary, title="是否请物业出报价")
    assert client.get("/welcome").location == "/my/meetings"  # two wait: the list of them

    for waiting in services.polls_of(item):
        services.cast_ballot(attendee, waiting, [waiting.options[0].id])
    db.session.flush()
    assert client.get("/welcome").location == "/"  # nothing waits: home
