"""The "Proposals and polls" part of the JSON API (API.md): every endpoint's
answer, status and error codes, and who may call it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from meeting_helpers import fresh
from poll_helpers import error_fields, error_of

from auth import services as auth_services
from auth.models import ApiToken
from meetings.dbtypes import utcnow
from meetings.errors import NotAllowed
from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus, Presence
from meetings.notifications.models import Notification
from meetings.polls import services
from meetings.polls.models import Ballot, PendingBallot, Poll, PollStatus, Proposal
from meetings.polls.services import ballots

# Everyone but the community's secretary, and what each is told.
NOT_THE_SECRETARY = [
    ("voter", (403, "forbidden")),
    ("observer", (403, "forbidden")),
    ("other_secretary", (403, "forbidden")),
    ("resident", (403, "forbidden")),
    ("anonymous", (401, "unauthorized")),
]

pytest_plugins = ["meeting_fixtures", "poll_fixtures"]

RECEIPT = re.compile(rf"^[{services.RECEIPT_ALPHABET}]{{{services.RECEIPT_LENGTH}}}$")


@pytest.fixture
def people(assembly, secretary, other_secretary, resident):
    """Everyone whose rights differ, by name (``None`` is a caller without a token)."""
    return {
        "secretary": secretary,
        "voter": assembly.voters[0],
        "observer": assembly.observer,
        "other_secretary": other_secretary,
        "resident": resident,
        "anonymous": None,
    }


def ids(poll: dict) -> list[int]:
    return [option["id"] for option in poll["options"]]


def single_poll(api, secretary, item, labels=("设置道闸", "划定停车位", "移交市政"), **body):
    return api.create_poll(
        secretary,
        item,
        **{"title": "中心路怎么治理", "kind": "single", "options": [{"label": x} for x in labels]}
        | body,
    )


def open_yes_no(api, secretary, item, **body) -> tuple[int, int, int, int]:
    """An open yes/no/abstain poll: (poll id, yes, no, abstain)."""
    poll = api.create_poll(secretary, item, **body)
    api.open_poll(secretary, poll["id"])
    return poll["id"], *ids(poll)


# --- proposals -------------------------------------------------------------------------


def test_attendee_tables_a_proposal(api, assembly):
    voter = assembly.voters[0]
    response = api.post(
        f"/agenda-items/{assembly.item.id}/proposals",
        voter,
        {"title": "设置道闸", "body": "在中心路两端设置道闸，外来车辆登记进入。"},
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert body["agenda_item_id"] == assembly.item.id
    assert (body["author_id"], body["author_name"]) == (voter.id, "居民代表1")
    assert (body["title"], body["status"], body["comments"]) == ("设置道闸", "active", [])
    assert body["created_at"].endswith("+08:00") and body["withdrawn_at"] is None
    assert db.session.get(Proposal, body["id"]).title == "设置道闸"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("secretary", 201),
        ("voter", 201),
        ("observer", 201),
        ("other_secretary", (403, "forbidden")),
        ("resident", (403, "forbidden")),
        ("anonymous", (401, "unauthorized")),
    ],
)
def test_who_may_table_a_proposal(api, assembly, people, who, expected):
    response = api.post(
        f"/agenda-items/{assembly.item.id}/proposals", people[who], {"title": "划定停车位"}
    )
    if expected == 201:
        assert response.status_code == 201
        assert response.json["author_id"] == people[who].id
    else:
        assert error_of(response) == expected
        assert services.proposals_of(assembly.item) == []


def test_a_proposal_needs_a_title(api, assembly):
    response = api.post(
        f"/agenda-items/{assembly.item.id}/proposals", assembly.voters[0], {"title": ""}
    )
    assert error_of(response) == (422, "validation_error")
    assert error_fields(response) == {"title"}


def test_a_proposal_under_an_unknown_agenda_item_is_404(api, assembly):
    response = api.post("/agenda-items/999999/proposals", assembly.voters[0], {"title": "道闸"})
    assert error_of(response) == (404, "not_found")


def test_no_proposal_once_the_meeting_is_over(api, assembly, secretary):
    meeting_services.transition_meeting(secretary, assembly.meeting, MeetingStatus.CLOSED)
    response = api.post(
        f"/agenda-items/{assembly.item.id}/proposals", assembly.voters[0], {"title": "道闸"}
    )
    assert error_of(response) == (409, "conflict")


def test_proposals_are_listed_with_their_comments(api, assembly, secretary):
    voter = assembly.voters[0]
    proposal = services.table_proposal(voter, assembly.item, "设置道闸")
    services.add_comment(secretary, proposal, "道闸费用谁出？")
    services.table_proposal(assembly.voters[1], assembly.item, "移交市政")

    response = api.get(f"/agenda-items/{assembly.item.id}/proposals", voter)

    assert response.status_code == 200
    assert [p["title"] for p in response.json] == ["设置道闸", "移交市政"]
    assert [c["body"] for c in response.json[0]["comments"]] == ["道闸费用谁出？"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("secretary", 200),
        ("voter", 200),
        ("observer", 200),
        ("other_secretary", 403),
        ("resident", 403),
        ("anonymous", 401),
    ],
)
def test_who_sees_the_proposals(api, assembly, people, who, status):
    response = api.get(f"/agenda-items/{assembly.item.id}/proposals", people[who])
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("secretary", (403, "forbidden")),
        ("voter", (403, "forbidden")),
        ("observer", (403, "forbidden")),
        ("other_secretary", (403, "forbidden")),
        ("resident", (403, "forbidden")),
        ("anonymous", (401, "unauthorized")),
    ],
)
def test_nobody_but_its_author_withdraws_a_proposal(api, assembly, people, who, expected):
    proposal = services.table_proposal(assembly.voters[1], assembly.item, "设置道闸")
    assert error_of(api.post(f"/proposals/{proposal.id}/withdraw", people[who])) == expected
    assert fresh(proposal).status == "active"


def test_its_author_withdraws_a_proposal(api, assembly):
    author = assembly.voters[1]
    proposal = services.table_proposal(author, assembly.item, "设置道闸")

    withdrawn = api.post(f"/proposals/{proposal.id}/withdraw", author)
    assert withdrawn.status_code == 200
    assert withdrawn.json["status"] == "withdrawn"
    assert withdrawn.json["withdrawn_at"].endswith("+08:00")

    again = api.post(f"/proposals/{proposal.id}/withdraw", author)
    assert error_of(again) == (409, "invalid_transition")


# --- comments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("secretary", 201),
        ("voter", 201),
        ("observer", 201),
        ("other_secretary", (403, "forbidden")),
        ("resident", (403, "forbidden")),
        ("anonymous", (401, "unauthorized")),
    ],
)
def test_who_may_comment(api, assembly, people, who, expected):
    proposal = services.table_proposal(assembly.voters[1], assembly.item, "设置道闸")
    response = api.post(f"/proposals/{proposal.id}/comments", people[who], {"body": "赞成"})
    if expected == 201:
        assert response.status_code == 201
        assert response.json["proposal_id"] == proposal.id
        assert (response.json["body"], response.json["hidden"]) == ("赞成", False)
    else:
        assert error_of(response) == expected


def test_a_comment_needs_a_body(api, assembly):
    proposal = services.table_proposal(assembly.voters[1], assembly.item, "设置道闸")
    response = api.post(f"/proposals/{proposal.id}/comments", assembly.voters[0], {"body": ""})
    assert error_of(response) == (422, "validation_error")
    assert error_fields(response) == {"body"}


def test_no_comment_on_a_withdrawn_proposal(api, assembly):
    author = assembly.voters[1]
    proposal = services.table_proposal(author, assembly.item, "设置道闸")
    services.withdraw_proposal(author, proposal)

    response = api.post(f"/proposals/{proposal.id}/comments", assembly.voters[0], {"body": "?"})

    assert error_of(response) == (409, "conflict")
    assert fresh(proposal).comments == []


@pytest.mark.parametrize(("who", "expected"), NOT_THE_SECRETARY)
def test_only_the_secretary_hides_a_comment(api, assembly, people, who, expected):
    proposal = services.table_proposal(assembly.voters[1], assembly.item, "设置道闸")
    comment = services.add_comment(assembly.voters[0], proposal, "骂人的话")
    assert error_of(api.post(f"/comments/{comment.id}/hide", people[who])) == expected
    assert fresh(comment).hidden_at is None


def test_a_hidden_comment_is_kept_without_its_text(api, assembly, secretary):
    proposal = services.table_proposal(assembly.voters[1], assembly.item, "设置道闸")
    comment = services.add_comment(assembly.voters[0], proposal, "骂人的话")

    hidden = api.post(f"/comments/{comment.id}/hide", secretary)

    assert hidden.status_code == 200
    assert (hidden.json["id"], hidden.json["hidden"], hidden.json["body"]) == (
        comment.id,
        True,
        None,
    )
    listed = api.get(f"/agenda-items/{assembly.item.id}/proposals", assembly.voters[2]).json
    assert [(c["id"], c["hidden"], c["body"]) for c in listed[0]["comments"]] == [
        (comment.id, True, None)
    ]
    assert fresh(comment).body == "骂人的话"  # kept in the database
    again = api.post(f"/comments/{comment.id}/hide", secretary)
    assert error_of(again) == (409, "invalid_transition")


# --- creating a poll -------------------------------------------------------------------


def test_a_yes_no_abstain_poll_makes_its_own_three_options(api, assembly, secretary):
    response = api.post(
        f"/agenda-items/{assembly.item.id}/polls",
        secretary,
        {"title": "是否设置道闸", "kind": "yes_no_abstain", "secret": True, "majority": "simple"},
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert isinstance(body["id"], int) and body["status"] == "draft"
    assert [(o["label"], o["code"]) for o in body["options"]] == [
        ("赞成", "yes"),
        ("反对", "no"),
        ("弃权", "abstain"),
    ]
    assert all(isinstance(o["id"], int) for o in body["options"])
    poll = db.session.get(Poll, body["id"])
    assert (poll.kind, poll.secret, poll.majority, poll.status) == (
        "yes_no_abstain",
        True,
        "simple",
        "draft",
    )
    assert [o.id for o in poll.options] == ids(body)


def test_a_single_choice_poll_takes_its_options_in_order(api, assembly, secretary):
    body = single_poll(api, secretary, assembly.item, majority="absolute", quorum_percent=50)

    assert body["status"] == "draft"
    assert [(o["label"], o["code"]) for o in body["options"]] == [
        ("设置道闸", None),
        ("划定停车位", None),
        ("移交市政", None),
    ]
    assert (body["kind"], body["majority"], body["quorum_percent"], body["max_choices"]) == (
        "single",
        "absolute",
        50,
        1,
    )


def test_options_can_come_from_the_items_proposals(api, assembly, secretary):
    barrier = services.table_proposal(assembly.voters[0], assembly.item, "设置道闸")
    parking = services.table_proposal(assembly.voters[1], assembly.item, "划定停车位")

    body = api.create_poll(
        secretary,
        assembly.item,
        kind="multiple",
        max_choices=2,
        options=[
            {"proposal_id": barrier.id},
            {"proposal_id": parking.id, "label": "只在夜间划定停车位"},
            {"label": "维持现状"},
        ],
    )

    assert [(o["label"], o["proposal_id"]) for o in body["options"]] == [
        ("设置道闸", barrier.id),  # the proposal's title when no label is given
        ("只在夜间划定停车位", parking.id),
        ("维持现状", None),
    ]
    assert body["max_choices"] == 2


def test_a_proposal_of_another_item_is_no_option(api, assembly, secretary):
    elsewhere = services.table_proposal(assembly.voters[0], assembly.other_item, "取消电梯广告")

    response = api.post(
        f"/agenda-items/{assembly.item.id}/polls",
        secretary,
        {
            "title": "中心路怎么治理",
            "kind": "single",
            "options": [{"proposal_id": elsewhere.id}, {"label": "维持现状"}],
        },
    )

    assert error_of(response) == (422, "validation_error")
    assert error_fields(response) == {"options"}
    assert services.polls_of(assembly.item) == []


def test_a_withdrawn_proposal_is_no_option(api, assembly, secretary):
    author = assembly.voters[0]
    proposal = services.table_proposal(author, assembly.item, "设置道闸")
    services.withdraw_proposal(author, proposal)

    response = api.post(
        f"/agenda-items/{assembly.item.id}/polls",
        secretary,
        {
            "title": "中心路怎么治理",
            "kind": "single",
            "options": [{"proposal_id": proposal.id}, {"label": "维持现状"}],
        },
    )

    assert error_of(response) == (422, "validation_error")
    assert error_fields(response) == {"options"}


THREE = [{"label": "设置道闸"}, {"label": "划定停车位"}, {"label": "移交市政"}]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "ranked"}, "kind"),
        ({"kind": None}, "kind"),
        ({"title": ""}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"majority": "unanimous"}, "majority"),
        ({"quorum_percent": 0}, "quorum_percent"),
        ({"quorum_percent": 101}, "quorum_percent"),
        ({"kind": "multiple", "options": THREE, "max_choices": 4}, "max_choices"),
        ({"kind": "multiple", "options": THREE, "max_choices": 0}, "max_choices"),
        ({"kind": "single", "options": THREE, "max_choices": 2}, "max_choices"),
        ({"kind": "single", "options": THREE[:1]}, "options"),
        ({"kind": "single", "options": []}, "options"),
        ({"kind": "single", "options": [{"label": "道闸"}, {"label": "道闸"}]}, "options"),
        ({"kind": "single", "options": [{"label": "道闸"}, {"label": " "}]}, "options"),
        ({"kind": "single", "options": [{"label": "道闸"}, {"proposal_id": 999999}]}, "options"),
        ({"in_room": True, "secret": True}, "secret"),
        ({"kind": "multiple", "options": THREE, "in_room": True}, "in_room"),
        ({"secret": "perhaps"}, "secret"),
    ],
)
def test_bad_poll_input_is_a_422_with_the_field(api, assembly, secretary, change, field):
    body = {"title": "是否设置道闸", "kind": "yes_no_abstain"} | change
    response = api.post(f"/agenda-items/{assembly.item.id}/polls", secretary, body)

    assert error_of(response) == (422, "validation_error"), response.json
    assert error_fields(response) == {field}
    assert services.polls_of(assembly.item) == []


@pytest.mark.parametrize(("who", "expected"), NOT_THE_SECRETARY)
def test_only_the_secretary_creates_a_poll(api, assembly, people, who, expected):
    response = api.post(
        f"/agenda-items/{assembly.item.id}/polls",
        people[who],
        {"title": "是否设置道闸", "kind": "yes_no_abstain"},
    )
    assert error_of(response) == expected
    assert services.polls_of(assembly.item) == []


def test_a_poll_under_an_unknown_agenda_item_is_404(api, secretary, assembly):
    response = api.post(
        "/agenda-items/999999/polls", secretary, {"title": "是否", "kind": "yes_no_abstain"}
    )
    assert error_of(response) == (404, "not_found")


# --- opening and closing ---------------------------------------------------------------


def test_opening_and_closing_follow_draft_open_closed(api, assembly, secretary):
    poll_id = api.create_poll(secretary, assembly.item)["id"]

    early_close = api.post(f"/polls/{poll_id}/close", secretary)
    assert error_of(early_close) == (409, "invalid_transition")

    opened = api.post(f"/polls/{poll_id}/open", secretary)
    assert opened.status_code == 200
    assert opened.json == {"id": poll_id, "status": "open"}
    assert error_of(api.post(f"/polls/{poll_id}/open", secretary)) == (409, "invalid_transition")

    closed = api.post(f"/polls/{poll_id}/close", secretary)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert error_of(api.post(f"/polls/{poll_id}/close", secretary)) == (409, "invalid_transition")
    assert error_of(api.post(f"/polls/{poll_id}/open", secretary)) == (409, "invalid_transition")
    assert fresh(db.session.get(Poll, poll_id)).status == PollStatus.CLOSED


def test_a_poll_opens_only_in_an_announced_meeting(
    api, make_meeting, secretary, attendee, in_request
):
    meeting = make_meeting(invite={attendee: "resident_rep"})  # still a draft
    item = meeting_services.add_agenda_item(secretary, meeting, "活动室改造")
    poll_id = api.create_poll(secretary, item)["id"]

    response = api.post(f"/polls/{poll_id}/open", secretary)

    assert error_of(response) == (409, "invalid_transition")


@pytest.mark.parametrize(("who", "expected"), NOT_THE_SECRETARY)
def test_only_the_secretary_opens_and_closes(api, assembly, secretary, people, who, expected):
    poll_id = api.create_poll(secretary, assembly.item)["id"]
    assert error_of(api.post(f"/polls/{poll_id}/open", people[who])) == expected
    api.open_poll(secretary, poll_id)
    assert error_of(api.post(f"/polls/{poll_id}/close", people[who])) == expected
    assert fresh(db.session.get(Poll, poll_id)).status == PollStatus.OPEN


def test_an_unknown_poll_is_404(api, secretary, assembly):
    for path in ("/polls/999999", "/polls/999999/result", "/polls/999999/receipts"):
        assert error_of(api.get(path, secretary)) == (404, "not_found")
    for path in ("/polls/999999/open", "/polls/999999/close"):
        assert error_of(api.post(path, secretary)) == (404, "not_found")
    ballot = api.post("/polls/999999/ballots", assembly.voters[0], {"option_ids": [1]})
    assert error_of(ballot) == (404, "not_found")


# --- casting ballots -------------------------------------------------------------------


def test_a_ballot_gets_a_receipt(api, assembly, secretary):
    poll_id, yes, _no, _abstain = open_yes_no(api, secretary, assembly.item)

    response = api.post(f"/polls/{poll_id}/ballots", assembly.voters[0], {"option_ids": [yes]})

    assert response.status_code == 201, response.json
    assert RECEIPT.match(response.json["receipt"])
    assert response.json["poll_id"] == poll_id


def test_second_ballot_is_refused_and_the_first_stands(api, assembly, secretary):
    poll_id, yes, no, abstain = open_yes_no(api, secretary, assembly.item)  # named
    voter = assembly.voters[0]
    receipt = api.vote(voter, poll_id, yes)

    again = api.post(f"/polls/{poll_id}/ballots", voter, {"option_ids": [no]})

    assert error_of(again) == (409, "already_voted")
    db.session.expire_all()
    [ballot] = db.session.scalars(
        db.select(PendingBallot).where(PendingBallot.poll_id == poll_id)
    )  # in the box until the close
    assert (ballot.receipt, ballot.voter_id) == (receipt, voter.id)
    assert ballot.option_ids == [yes]
    result = api.close_poll(secretary, poll_id)
    assert result["cast"] == 1
    assert {o["id"]: o["votes"] for o in result["options"]} == {yes: 1, no: 0, abstain: 0}


def test_no_ballot_before_the_poll_opens_nor_after_it_closes(api, assembly, secretary):
    poll = api.create_poll(secretary, assembly.item)
    poll_id, yes = poll["id"], ids(poll)[0]
    voter = assembly.voters[0]

    early = api.post(f"/polls/{poll_id}/ballots", voter, {"option_ids": [yes]})
    assert error_of(early) == (409, "poll_not_open")

    api.open_poll(secretary, poll_id)
    api.close_poll(secretary, poll_id)
    late = api.post(f"/polls/{poll_id}/ballots", voter, {"option_ids": [yes]})
    assert error_of(late) == (409, "poll_not_open")
    assert services.receipts(db.session.get(Poll, poll_id)) == []


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("observer", (403, "not_eligible")),
        ("secretary", (403, "not_eligible")),  # runs the meeting, is not an attendee
        ("other_secretary", (403, "not_eligible")),
        ("resident", (403, "not_eligible")),
        ("anonymous", (401, "unauthorized")),
    ],
)
def test_who_may_not_vote(api, assembly, secretary, people, who, expected):
    poll_id, yes, _no, _abstain = open_yes_no(api, secretary, assembly.item)
    response = api.post(f"/polls/{poll_id}/ballots", people[who], {"option_ids": [yes]})
    assert error_of(response) == expected
    assert services.turnout(db.session.get(Poll, poll_id)).cast == 0


def _spoil_token(voter, how: str) -> None:
    if how == "revoked":
        auth_services.revoke_all_tokens(voter)
    elif how == "expired":
        db.session.execute(
            db.update(ApiToken)
            .where(ApiToken.user_id == voter.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    elif how == "deactivated":
        voter.is_active = False
    db.session.flush()


@pytest.mark.parametrize("how", ["revoked", "expired", "deactivated", "forged"])
def test_a_ballot_with_a_token_that_does_not_work_is_401_and_stores_nothing(
    api, assembly, secretary, how
):
    """The ballot looks its token up within its own statement (PostgreSQL):
    the same rules as every other endpoint's lookup."""
    poll_id, yes, _no, _abstain = open_yes_no(api, secretary, assembly.item)
    voter = assembly.voters[0]
    headers = {"Authorization": "Bearer forged"} if how == "forged" else api.headers(voter)
    _spoil_token(voter, how)

    for body in ({"option_ids": [yes]}, {}, {"option_ids": ["yes"]}):
        response = api.client.post(f"/api/v1/polls/{poll_id}/ballots", json=body, headers=headers)
        assert error_of(response) == (401, "unauthorized"), (body, response.json)
    assert services.turnout(db.session.get(Poll, poll_id)).cast == 0


def test_a_receipt_drawn_twice_in_a_poll_is_drawn_again(api, assembly, secretary, monkeypatch):
    poll_id, yes, no, _abstain = open_yes_no(api, secretary, assembly.item)
    draws = iter(["AAAAAAAAAA", "AAAAAAAAAA", "BBBBBBBBBB"])
    monkeypatch.setattr(ballots, "new_receipt", lambda: next(draws))

    first = api.vote(assembly.voters[0], poll_id, yes)
    second = api.vote(assembly.voters[1], poll_id, no)

    assert (first, second) == ("AAAAAAAAAA", "BBBBBBBBBB")
    db.session.expire_all()
    result = api.close_poll(secretary, poll_id)
    assert result["cast"] == 2
    assert {o["id"]: o["votes"] for o in result["options"]}[no] == 1


@pytest.mark.parametrize(
    ("kind", "choose"),
    [
        ("single", lambda mine, other: [other[0]]),  # an option of another poll
        ("single", lambda mine, other: mine[:2]),  # two options on a single-choice poll
        ("multiple", lambda mine, other: mine[:3]),  # three where at most two are allowed
        ("multiple", lambda mine, other: []),  # nothing chosen
        ("multiple", lambda mine, other: [mine[0], mine[0]]),  # the same option twice
        ("single", lambda mine, other: ["设置道闸"]),  # not an id
        ("single", lambda mine, other: [0]),  # not an id
        ("single", lambda mine, other: [2**40]),  # beyond any id
    ],
)
def test_a_bad_choice_is_a_422_and_the_voter_may_still_vote(api, assembly, secretary, kind, choose):
    other = ids(single_poll(api, secretary, assembly.item, title="另一个表决"))
    poll = single_poll(api, secretary, assembly.item, kind=kind)
    if kind == "multiple":
        poll = single_poll(api, secretary, assembly.item, kind="multiple", max_choices=2)
    api.open_poll(secretary, poll["id"])
    voter = assembly.voters[0]

    refused = api.post(
        f"/polls/{poll['id']}/ballots", voter, {"option_ids": choose(ids(poll), other)}
    )

    assert error_of(refused) == (422, "validation_error"), refused.json
    assert error_fields(refused) == {"option_ids"}
    assert api.get(f"/polls/{poll['id']}", voter).json["has_voted"] is False
    api.vote(voter, poll["id"], ids(poll)[0])


def test_a_missing_body_is_a_422(api, assembly, secretary):
    poll_id, *_options = open_yes_no(api, secretary, assembly.item)
    response = api.post(f"/polls/{poll_id}/ballots", assembly.voters[0], {})
    assert error_of(response) == (422, "validation_error")
    assert error_fields(response) == {"option_ids"}


def test_multiple_choice_takes_up_to_max_choices(api, assembly, secretary):
    poll = single_poll(api, secretary, assembly.item, kind="multiple", max_choices=2)
    api.open_poll(secretary, poll["id"])
    a, b, c = ids(poll)

    api.vote(assembly.voters[0], poll["id"], a, c)
    api.vote(assembly.voters[1], poll["id"], c)

    result = api.close_poll(secretary, poll["id"])
    assert {o["id"]: o["votes"] for o in result["options"]} == {a: 1, b: 0, c: 2}
    assert result["cast"] == 2  # ballots, not marks


def test_someone_invited_after_the_opening_does_not_vote(
    api, assembly, secretary, make_member, in_request
):
    poll_id, yes, _no, _abstain = open_yes_no(api, secretary, assembly.item)
    latecomer = make_member("迟到的居民代表")
    meeting_services.invite(
        secretary, assembly.meeting, [meeting_services.Invitation(latecomer, "resident_rep")]
    )

    response = api.post(f"/polls/{poll_id}/ballots", latecomer, {"option_ids": [yes]})

    assert error_of(response) == (403, "not_eligible")
    assert api.get(f"/polls/{poll_id}", latecomer).json["eligible"] == len(assembly.voters)
    # … while a poll opened after the invitation counts them in
    later_id, later_yes, *_rest = open_yes_no(api, secretary, assembly.item, title="第二项表决")
    api.vote(latecomer, later_id, later_yes)
    assert api.get(f"/polls/{later_id}", latecomer).json["eligible"] == len(assembly.voters) + 1


def test_the_voting_right_is_fixed_at_the_opening(api, assembly, secretary, in_request):
    poll_id, yes, _no, _abstain = open_yes_no(api, secretary, assembly.item)
    voter = assembly.voters[0]
    attendance = assembly.meeting.attendance_of(voter)
    meeting_services.update_attendance(secretary, attendance, may_vote=False)
    observer_attendance = assembly.meeting.attendance_of(assembly.observer)
    meeting_services.update_attendance(secretary, observer_attendance, may_vote=True)

    api.vote(voter, poll_id, yes)
    refused = api.post(f"/polls/{poll_id}/ballots", assembly.observer, {"option_ids": [yes]})
    assert error_of(refused) == (403, "not_eligible")


def test_present_only_polls_count_those_checked_in_at_the_opening(
    api, assembly, secretary, in_request
):
    here, also_here, away = assembly.voters[:3]
    for voter in (here, also_here):
        attendance = assembly.meeting.attendance_of(voter)
        meeting_services.mark_presence(secretary, attendance, Presence.PRESENT)
    poll_id, yes, no, _abstain = open_yes_no(api, secretary, assembly.item, present_only=True)
    # checked in after the opening: too late for this poll
    late = assembly.meeting.attendance_of(away)
    meeting_services.mark_presence(secretary, late, Presence.PRESENT)

    api.vote(here, poll_id, yes)
    refused = api.post(f"/polls/{poll_id}/ballots", away, {"option_ids": [no]})

    assert error_of(refused) == (403, "not_eligible")
    state = api.get(f"/polls/{poll_id}", here).json
    assert (state["present_only"], state["eligible"], state["cast"]) == (True, 2, 1)
    result = api.close_poll(secretary, poll_id)
    # 1 yes, 0 no of 2 eligible: simple majority 1 > 0
    assert (result["eligible"], result["cast"], result["outcome"]) == (2, 1, "adopted")


def test_present_only_polls_open_once_the_meeting_is_in_progress(
    api, make_meeting, secretary, attendee, in_request
):
    meeting = make_meeting(MeetingStatus.SCHEDULED, invite={attendee: "resident_rep"})
    item = meeting_services.add_agenda_item(secretary, meeting, "活动室改造")
    poll_id = api.create_poll(secretary, item, present_only=True)["id"]

    assert error_of(api.post(f"/polls/{poll_id}/open", secretary)) == (409, "invalid_transition")


def test_named_ballots_carry_the_voter_and_secret_ones_do_not(api, assembly, secretary):
    named_id, named_yes, *_n = open_yes_no(api, secretary, assembly.item, title="记名表决")
    secret_id, secret_yes, *_s = open_yes_no(
        api, secretary, assembly.item, title="无记名表决", secret=True
    )
    for voter in assembly.voters[:3]:
        api.vote(voter, named_id, named_yes)
        api.vote(voter, secret_id, secret_yes)

    api.close_poll(secretary, named_id)
    api.close_poll(secretary, secret_id)
    db.session.expire_all()
    named = db.session.scalars(db.select(Ballot.voter_id).where(Ballot.poll_id == named_id))
    secret = db.session.scalars(db.select(Ballot.voter_id).where(Ballot.poll_id == secret_id))
    assert sorted(named) == sorted(v.id for v in assembly.voters[:3])
    assert list(secret) == [None, None, None]

    named_poll, secret_poll = db.session.get(Poll, named_id), db.session.get(Poll, secret_id)
    lines = services.named_votes(secretary, named_poll)
    assert sorted((user.id, choice) for user, choice in lines) == sorted(
        (v.id, [named_yes]) for v in assembly.voters[:3]
    )
    with pytest.raises(NotAllowed):
        services.named_votes(secretary, secret_poll)


def test_ballots_on_a_show_of_hands_are_refused(api, assembly, secretary):
    poll_id, yes, _no, _abstain = open_yes_no(api, secretary, assembly.item, in_room=True)
    response = api.post(f"/polls/{poll_id}/ballots", assembly.voters[0], {"option_ids": [yes]})
    assert error_of(response) == (409, "conflict")


# --- the poll as its attendees see it --------------------------------------------------


def test_the_poll_shows_its_turnout_but_no_votes_while_open(api, assembly, secretary):
    poll_id, yes, no, _abstain = open_yes_no(api, secretary, assembly.item, secret=True)
    first, second = assembly.voters[:2]
    api.vote(first, poll_id, yes)
    api.vote(second, poll_id, no)

    response = api.get(f"/polls/{poll_id}", first)

    assert response.status_code == 200
    body = response.json
    assert {"id", "status", "kind", "secret", "options", "eligible", "cast", "has_voted"} <= set(
        body
    )
    assert (body["id"], body["status"], body["kind"], body["secret"]) == (
        poll_id,
        "open",
        "yes_no_abstain",
        True,
    )
    assert (body["eligible"], body["cast"], body["has_voted"]) == (len(assembly.voters), 2, True)
    assert [o["code"] for o in body["options"]] == ["yes", "no", "abstain"]
    assert all("votes" not in option for option in body["options"])
    third = api.get(f"/polls/{poll_id}", assembly.voters[2]).json
    assert (third["has_voted"], third["is_eligible"]) == (False, True)
    watcher = api.get(f"/polls/{poll_id}", assembly.observer).json
    assert (watcher["has_voted"], watcher["is_eligible"]) == (False, False)


def test_a_draft_poll_has_no_turnout_yet(api, assembly, secretary):
    poll_id = api.create_poll(secretary, assembly.item)["id"]
    body = api.get(f"/polls/{poll_id}", secretary).json
    assert (body["status"], body["eligible"], body["cast"], body["has_voted"]) == (
        "draft",
        0,
        0,
        False,
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("secretary", 200),
        ("voter", 200),
        ("observer", 200),
        ("other_secretary", 403),
        ("resident", 403),
        ("anonymous", 401),
    ],
)
def test_who_sees_a_poll(api, assembly, secretary, people, who, status):
    poll_id = api.create_poll(secretary, assembly.item)["id"]
    assert api.get(f"/polls/{poll_id}", people[who]).status_code == status
    assert api.get(f"/agenda-items/{assembly.item.id}/polls", people[who]).status_code == status


# --- results ---------------------------------------------------------------------------


def test_the_result_stays_hidden_until_the_poll_closes(api, assembly, secretary):
    poll = api.create_poll(secretary, assembly.item)
    poll_id = poll["id"]
    for who in (secretary, assembly.voters[0]):
        assert error_of(api.get(f"/polls/{poll_id}/result", who)) == (409, "poll_not_open")
        assert error_of(api.get(f"/polls/{poll_id}/receipts", who)) == (409, "poll_not_open")
    api.open_poll(secretary, poll_id)
    api.vote(assembly.voters[0], poll_id, ids(poll)[0])
    for who in (secretary, assembly.voters[0]):
        assert error_of(api.get(f"/polls/{poll_id}/result", who)) == (409, "poll_not_open")
        assert error_of(api.get(f"/polls/{poll_id}/receipts", who)) == (409, "poll_not_open")


def test_closing_answers_the_stored_result(api, assembly, secretary):
    poll = single_poll(api, secretary, assembly.item, majority="simple", quorum_percent=50)
    barrier, parking, city = ids(poll)
    api.open_poll(secretary, poll["id"])
    for voter, choice in zip(assembly.voters, [barrier, parking, parking, city], strict=False):
        api.vote(voter, poll["id"], choice)

    closed = api.post(f"/polls/{poll['id']}/close", secretary)

    assert closed.status_code == 200
    result = closed.json
    # 4 of 6 voted: 400 ≥ 50·6 = 300, quorum met; parking 2 > barrier 1 = city 1
    assert {
        key: result[key]
        for key in ("eligible", "cast", "quorum_met", "outcome", "winner_option_ids", "tie")
    } == {
        "eligible": 6,
        "cast": 4,
        "quorum_met": True,
        "outcome": "decided",
        "winner_option_ids": [parking],
        "tie": False,
    }
    assert [(o["id"], o["label"], o["votes"]) for o in result["options"]] == [
        (barrier, "设置道闸", 1),
        (parking, "划定停车位", 2),
        (city, "移交市政", 1),
    ]
    assert api.get(f"/polls/{poll['id']}/result", assembly.voters[5]).json == result


# Each kind, secrecy and majority rule, through the API, against results worked
# out by hand. Six voters are eligible; ``ballots`` are the choices of voters
# 1, 2, … by option letter (yes/no/abstain: y, n, a; else a, b, c, d).
SCENARIOS = [
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "simple"},
        ["y", "y", "n", "a"],
        # yes 2 > no 1
        {"outcome": "adopted", "winners": "y", "votes": "y2 n1 a1", "cast": 4, "quorum": True},
        id="yna-named-simple-adopted",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "simple", "secret": True},
        ["y", "n", "a", "a", "a"],
        # yes 1 = no 1: a tie carries nothing; abstentions count for neither
        {"outcome": "rejected", "winners": "", "votes": "y1 n1 a3", "cast": 5, "quorum": True},
        id="yna-secret-simple-tie",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "absolute", "secret": True},
        ["y", "y", "y", "n"],
        # 3 of 6 eligible: 2·3 = 6 > 6? no
        {"outcome": "rejected", "winners": "", "votes": "y3 n1 a0", "cast": 4, "quorum": True},
        id="yna-secret-absolute-half-is-not-enough",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "absolute"},
        ["y", "y", "y", "y", "n", "n"],
        # 4 of 6 eligible: 2·4 = 8 > 6
        {"outcome": "adopted", "winners": "y", "votes": "y4 n2 a0", "cast": 6, "quorum": True},
        id="yna-named-absolute-adopted",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "two_thirds"},
        ["y", "y", "y", "y", "n", "a"],
        # cast 6: 3·4 = 12 ≥ 12, exactly two thirds
        {"outcome": "adopted", "winners": "y", "votes": "y4 n1 a1", "cast": 6, "quorum": True},
        id="yna-named-two-thirds-exact",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "two_thirds", "secret": True},
        ["y", "y", "y", "n", "a"],
        # cast 5: 3·3 = 9 ≥ 10? no — the abstention counts as cast
        {"outcome": "rejected", "winners": "", "votes": "y3 n1 a1", "cast": 5, "quorum": True},
        id="yna-secret-two-thirds-3-of-5",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "simple", "quorum_percent": 50},
        ["y", "y"],
        # cast 2 of 6: 200 ≥ 300? no
        {"outcome": "no_quorum", "winners": "", "votes": "y2 n0 a0", "cast": 2, "quorum": False},
        id="yna-no-quorum",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "simple", "quorum_percent": 50},
        ["y", "a", "a"],
        # cast 3 of 6: 300 ≥ 300, met (abstentions count); yes 1 > no 0
        {"outcome": "adopted", "winners": "y", "votes": "y1 n0 a2", "cast": 3, "quorum": True},
        id="yna-quorum-exactly-half",
    ),
    pytest.param(
        {"kind": "yes_no_abstain", "majority": "simple", "quorum_percent": 10},
        [],
        # nobody voted: 0 ≥ 60? no
        {"outcome": "no_quorum", "winners": "", "votes": "y0 n0 a0", "cast": 0, "quorum": False},
        id="yna-nobody-voted",
    ),
    pytest.param(
        {"kind": "single", "majority": "simple", "secret": True},
        ["a", "b", "b", "c", "a"],
        # a 2 = b 2 > c 1: a tie, reported as such
        {"outcome": "decided", "winners": "ab", "votes": "a2 b2 c1", "cast": 5, "quorum": True},
        id="single-secret-tie",
    ),
    pytest.param(
        {"kind": "single", "majority": "absolute"},
        ["a", "a", "a", "b", "c", "c"],
        # a 3 of 6 eligible: 2·3 = 6 > 6? no; nobody else either
        {"outcome": "rejected", "winners": "", "votes": "a3 b1 c2", "cast": 6, "quorum": True},
        id="single-absolute-none",
    ),
    pytest.param(
        {"kind": "single", "majority": "two_thirds", "secret": True},
        ["b", "b", "b", "b", "a", "c"],
        # cast 6: b 4 → 12 ≥ 12
        {"outcome": "decided", "winners": "b", "votes": "a1 b4 c1", "cast": 6, "quorum": True},
        id="single-secret-two-thirds",
    ),
    pytest.param(
        {"kind": "multiple", "majority": "simple", "max_choices": 2},
        ["ab", "ab", "c", "bc", "d"],
        # a 2, b 3, c 2, d 1: b first, a = c share the 2nd place → tie
        {
            "outcome": "decided",
            "winners": "abc",
            "votes": "a2 b3 c2 d1",
            "cast": 5,
            "quorum": True,
            "tie": True,
        },
        id="multiple-tie-at-the-boundary",
    ),
    pytest.param(
        {"kind": "multiple", "majority": "absolute", "max_choices": 2, "secret": True},
        ["ab", "ab", "ac", "ad", "b"],
        # eligible 6: a 4 → 8 > 6 wins; b 3 → 6 > 6? no
        {"outcome": "decided", "winners": "a", "votes": "a4 b3 c1 d1", "cast": 5, "quorum": True},
        id="multiple-secret-absolute-filters",
    ),
]


def _letters(poll: dict) -> dict[str, int]:
    codes = {"yes": "y", "no": "n", "abstain": "a"}
    return {
        codes.get(option["code"], "abcd"[index]): option["id"]
        for index, option in enumerate(poll["options"])
    }


@pytest.mark.parametrize(("settings", "ballots", "expected"), SCENARIOS)
def test_results_of_each_kind_and_rule(api, assembly, secretary, settings, ballots, expected):
    options = [{"label": x} for x in ("设置道闸", "划定停车位", "移交市政", "维持现状")]
    if settings["kind"] == "single":
        options = options[:3]
    poll = api.create_poll(secretary, assembly.item, options=options, **settings)
    letter = _letters(poll)
    api.open_poll(secretary, poll["id"])
    for voter, marks in zip(assembly.voters, ballots, strict=False):
        api.vote(voter, poll["id"], *(letter[mark] for mark in marks))

    result = api.close_poll(secretary, poll["id"])

    assert (result["eligible"], result["cast"]) == (6, expected["cast"])
    assert (result["quorum_met"], result["outcome"]) == (expected["quorum"], expected["outcome"])
    assert sorted(result["winner_option_ids"]) == sorted(letter[x] for x in expected["winners"])
    assert result["tie"] is expected.get("tie", len(expected["winners"]) > 1)
    votes = {letter[word[0]]: int(word[1:]) for word in expected["votes"].split()}
    assert {o["id"]: o["votes"] for o in result["options"]} == votes
    assert [o["won"] for o in result["options"]] == [
        o["id"] in result["winner_option_ids"] for o in result["options"]
    ]
    stored = db.session.get(Poll, poll["id"])
    db.session.refresh(stored)
    assert (stored.eligible_count, stored.cast_count, stored.outcome) == (
        6,
        expected["cast"],
        expected["outcome"],
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("secretary", 200),
        ("voter", 200),
        ("observer", 200),
        ("other_secretary", (403, "forbidden")),
        ("resident", (403, "forbidden")),
        ("anonymous", (401, "unauthorized")),
    ],
)
def test_who_sees_a_closed_polls_result_and_receipts(
    api, assembly, secretary, people, who, expected
):
    poll_id, yes, _no, _abstain = open_yes_no(api, secretary, assembly.item)
    api.vote(assembly.voters[1], poll_id, yes)
    api.close_poll(secretary, poll_id)

    for path in (f"/polls/{poll_id}/result", f"/polls/{poll_id}/receipts"):
        response = api.get(path, people[who])
        if expected == 200:
            assert response.status_code == 200
        else:
            assert error_of(response) == expected


@pytest.mark.parametrize("who", ["other_secretary", "resident", "anonymous", "voter"])
def test_results_are_public_once_the_minutes_are_published(
    api, assembly, secretary, people, who, in_request
):
    poll_id, yes, no, _abstain = open_yes_no(api, secretary, assembly.item, secret=True)
    api.vote(assembly.voters[0], poll_id, yes)
    api.vote(assembly.voters[1], poll_id, no)
    api.vote(assembly.voters[2], poll_id, yes)
    closed = api.close_poll(secretary, poll_id)
    meeting = fresh(assembly.meeting)
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    meeting_services.mark_minutes_published(secretary, meeting)

    result = api.get(f"/polls/{poll_id}/result", people[who])

    assert result.status_code == 200
    assert result.json == closed
    assert (result.json["outcome"], result.json["cast"]) == ("adopted", 3)
    assert api.get(f"/polls/{poll_id}/receipts", people[who]).json["total"] == 3


def test_a_bad_token_is_refused_even_where_no_token_is_needed(api, assembly, secretary, in_request):
    poll_id, *_options = open_yes_no(api, secretary, assembly.item)
    api.close_poll(secretary, poll_id)
    meeting = fresh(assembly.meeting)
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)
    meeting_services.mark_minutes_published(secretary, meeting)

    for path in (f"/polls/{poll_id}/result", f"/polls/{poll_id}/receipts"):
        response = api.client.get(f"/api/v1{path}", headers={"Authorization": "Bearer forged"})
        assert error_of(response) == (401, "unauthorized")
        assert api.get(path, None).status_code == 200


def test_receipts_list_every_counted_ballot_with_its_choices(api, assembly, secretary):
    poll = single_poll(api, secretary, assembly.item, kind="multiple", max_choices=2, secret=True)
    a, b, c = ids(poll)
    api.open_poll(secretary, poll["id"])
    mine = {
        api.vote(assembly.voters[0], poll["id"], a, b): [a, b],
        api.vote(assembly.voters[1], poll["id"], c): [c],
        api.vote(assembly.voters[2], poll["id"], b, c): [b, c],
    }
    api.close_poll(secretary, poll["id"])

    response = api.get(f"/polls/{poll['id']}/receipts", assembly.voters[0])

    assert response.status_code == 200
    body = response.json
    assert body["total"] == 3
    assert {line["receipt"]: sorted(line["option_ids"]) for line in body["items"]} == mine
    assert [line["receipt"] for line in body["items"]] == sorted(mine)  # by code, not by time


def test_the_result_never_changes_after_closing(api, assembly, secretary, in_request):
    poll_id, yes, no, _abstain = open_yes_no(api, secretary, assembly.item)
    api.vote(assembly.voters[0], poll_id, yes)
    api.vote(assembly.voters[1], poll_id, yes)
    api.vote(assembly.voters[2], poll_id, no)
    closed = api.close_poll(secretary, poll_id)

    # everything that could move it is refused …
    assert (
        error_of(api.post(f"/polls/{poll_id}/ballots", assembly.voters[3], {"option_ids": [no]}))[1]
        == "poll_not_open"
    )
    assert error_of(api.post(f"/polls/{poll_id}/close", secretary))[1] == "invalid_transition"
    assert error_of(api.post(f"/polls/{poll_id}/open", secretary))[1] == "invalid_transition"
    in_room = api.post(
        f"/polls/{poll_id}/in-room-result",
        secretary,
        {"present": 6, "counts": [{"option_id": no, "votes": 6}]},
    )
    assert error_of(in_room)[1] == "invalid_transition"
    # … and so is changing the voters afterwards
    attendance = fresh(assembly.meeting).attendance_of(assembly.voters[0])
    meeting_services.update_attendance(secretary, attendance, may_vote=False)
    meeting_services.transition_meeting(secretary, fresh(assembly.meeting), MeetingStatus.CLOSED)

    assert api.get(f"/polls/{poll_id}/result", secretary).json == closed
    assert api.get(f"/polls/{poll_id}", secretary).json["cast"] == 3


# --- show of hands (举手表决) ----------------------------------------------------------


def test_the_secretary_enters_a_show_of_hands(api, assembly, secretary):
    poll_id, yes, no, abstain = open_yes_no(
        api, secretary, assembly.item, in_room=True, majority="two_thirds"
    )

    response = api.post(
        f"/polls/{poll_id}/in-room-result",
        secretary,
        {
            "present": 20,
            "counts": [
                {"option_id": yes, "votes": 12},
                {"option_id": no, "votes": 4},
                {"option_id": abstain, "votes": 2},
            ],
        },
    )

    assert response.status_code == 200, response.json
    result = response.json
    # cast 12 + 4 + 2 = 18 of 20 present; two thirds: 3·12 = 36 ≥ 2·18 = 36
    assert (result["eligible"], result["cast"], result["outcome"]) == (20, 18, "adopted")
    assert result["winner_option_ids"] == [yes]
    assert {o["id"]: o["votes"] for o in result["options"]} == {yes: 12, no: 4, abstain: 2}
    assert (result["status"], result["in_room"], result["entered_by"]) == ("closed", True, "林书记")
    assert result["entered_at"].endswith("+08:00")
    assert api.get(f"/polls/{poll_id}/result", assembly.voters[0]).json == result


def test_a_single_choice_show_of_hands_reports_a_tie(api, assembly, secretary):
    poll = single_poll(api, secretary, assembly.item, in_room=True, quorum_percent=50)
    a, b, c = ids(poll)
    api.open_poll(secretary, poll["id"])

    response = api.post(
        f"/polls/{poll['id']}/in-room-result",
        secretary,
        {
            "present": 10,
            "counts": [
                {"option_id": a, "votes": 3},
                {"option_id": b, "votes": 3},
                {"option_id": c, "votes": 1},
            ],
        },
    )

    # cast 7 of 10: 700 ≥ 500; a 3 = b 3 > c 1
    assert response.status_code == 200
    assert (response.json["outcome"], response.json["tie"]) == ("decided", True)
    assert sorted(response.json["winner_option_ids"]) == sorted([a, b])


@pytest.mark.parametrize(
    ("present", "counts", "field"),
    [
        (5, [4, 1, 1], "present"),  # 6 hands, 5 people
        (-1, [0, 0, 0], "present"),
        (5, [1, 1], "option"),  # no count for abstain
        (5, [1, -1, 0], "counts"),
        (5, [1, 1, 1, 1], "counts"),  # a count for an option of another poll
    ],
)
def test_a_bad_show_of_hands_is_refused(api, assembly, secretary, present, counts, field):
    poll_id, *options = open_yes_no(api, secretary, assembly.item, in_room=True)
    other = ids(api.create_poll(secretary, assembly.item, title="另一个表决"))
    targets = options + other[:1]
    body = {
        "present": present,
        "counts": [
            {"option_id": option_id, "votes": votes}
            for option_id, votes in zip(targets, counts, strict=False)
        ],
    }

    response = api.post(f"/polls/{poll_id}/in-room-result", secretary, body)

    assert error_of(response) == (422, "validation_error"), response.json
    assert any(name.startswith(field) for name in error_fields(response)), response.json
    assert fresh(db.session.get(Poll, poll_id)).status == PollStatus.OPEN


def test_a_show_of_hands_is_closed_by_its_counts_only(api, assembly, secretary):
    poll_id, *_options = open_yes_no(api, secretary, assembly.item, in_room=True)
    assert error_of(api.post(f"/polls/{poll_id}/close", secretary)) == (409, "invalid_transition")

    online_id, yes, *_rest = open_yes_no(api, secretary, assembly.item, title="网上表决")
    counts = {"present": 3, "counts": [{"option_id": yes, "votes": 3}]}
    refused = api.post(f"/polls/{online_id}/in-room-result", secretary, counts)
    assert error_of(refused) == (409, "invalid_transition")


@pytest.mark.parametrize(("who", "expected"), NOT_THE_SECRETARY)
def test_only_the_secretary_enters_a_show_of_hands(api, assembly, secretary, people, who, expected):
    poll_id, yes, no, abstain = open_yes_no(api, secretary, assembly.item, in_room=True)
    body = {
        "present": 3,
        "counts": [{"option_id": x, "votes": 1} for x in (yes, no, abstain)],
    }
    assert error_of(api.post(f"/polls/{poll_id}/in-room-result", people[who], body)) == expected


def test_opening_a_poll_calls_each_eligible_voter_to_the_ballot(api, assembly, secretary):
    poll_id = api.create_poll(secretary, assembly.item)["id"]
    in_room_id = api.create_poll(secretary, assembly.item, title="举手表决", in_room=True)["id"]
    api.open_poll(secretary, poll_id)
    api.open_poll(secretary, in_room_id)

    called = db.session.execute(
        db.select(Notification.user_id, Notification.link).where(Notification.kind == "poll.opened")
    ).all()
    assert sorted(called) == sorted((v.id, f"/polls/{poll_id}/vote") for v in assembly.voters)
    assert assembly.observer.id not in {user_id for user_id, _link in called}
    mine = api.get("/notifications", assembly.voters[0]).json["items"]
    assert any(item["link"] == f"/polls/{poll_id}/vote" for item in mine)
