"""公示 (public notice) of resolutions (issue 17): putting an agreed resolution
on notice, residents' objections (once each, during the period), the
secretary's answers, settling (effective / withdrawn) only when the period is
over AND every objection is answered, the CLI, the permissions, the
notifications, and what the pages and the API show before and after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import PASSWORD
from meeting_helpers import audit_actions, fresh, notifications_of

from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.minutes import services as minutes_services
from meetings.projects import services
from meetings.projects.models import Decision, ResolutionObjection, ResolutionStatus
from meetings.projects.services import notice

pytest_plugins = ["meeting_fixtures", "project_fixtures"]

# A fixed clock: the notice starts at T0 (10:00 in Beijing) and runs 5 days.
T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
DURING = T0 + timedelta(days=2)
AFTER = T0 + timedelta(days=5, minutes=1)


class Clock:
    """``notice.utcnow`` replaced: ``clock.now = …`` moves time."""

    def __init__(self, monkeypatch):
        self.now = T0
        monkeypatch.setattr(notice, "utcnow", lambda: self.now)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def _record(secretary, meeting, poll=None, **spec):
    return services.record_resolution(
        secretary,
        meeting,
        services.ResolutionSpec(
            text=spec.pop("text", "同意在广场安装智慧音箱，播放时间8:00–20:00。"),
            poll_id=poll.id if poll else None,
            **spec,
        ),
    )


@pytest.fixture
def agreed(deliberation, closed_poll, secretary, db):
    """An agreed resolution (following an adopted poll) of a meeting that
    has closed: the resident's request is behind it, three resident
    representatives attended."""
    poll = closed_poll(["yes", "yes", "no"])
    resolution = _record(secretary, deliberation.meeting, poll)
    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    db.session.flush()
    return resolution


@pytest.fixture
def neighbour(make_member):
    return make_member("赵大爷")


@pytest.fixture
def outsider(make_user, other_community):
    """A resident of another community."""
    return make_user(community=other_community, display_name="外社区居民")


@pytest.fixture
def in_notice(agreed, secretary, db):
    notice.start_notice(secretary, agreed, 5, now=T0)
    db.session.flush()
    return agreed


def api_start(client, bearer, user, resolution, **body):
    return client.post(
        f"/api/v1/resolutions/{resolution.id}/notice", json=body, headers=bearer(user)
    )


def api_object(client, bearer, user, resolution, reason="音箱离我家窗户太近，晚上会吵。"):
    return client.post(
        f"/api/v1/resolutions/{resolution.id}/objections",
        json={"reason": reason},
        headers=bearer(user),
    )


def api_answer(client, bearer, user, objection, answer="音箱移到广场东侧，音量限60分贝。", **body):
    return client.post(
        f"/api/v1/objections/{objection.id}/answer",
        json={"answer": answer} | body,
        headers=bearer(user),
    )


def objection_by(user, resolution) -> ResolutionObjection:
    return db.session.scalar(
        db.select(ResolutionObjection).where(
            ResolutionObjection.user_id == user.id,
            ResolutionObjection.resolution_id == resolution.id,
        )
    )


# --- putting it on notice ---------------------------------------------------------------


def test_the_secretary_puts_an_agreed_resolution_on_notice(
    client, bearer, secretary, resident, deliberation, agreed, clock
):
    response = api_start(client, bearer, secretary, agreed, days=5)
    assert response.status_code == 200, response.json
    # 2026-12-07 10:00 in Beijing + 5 days
    assert response.json["status"] == "in_notice"
    assert response.json["notice_ends_at"] == "2026-12-12T10:00:00+08:00"
    assert response.json["notice_started_at"] == "2026-12-07T10:00:00+08:00"
    resolution = fresh(agreed)
    assert resolution.status == ResolutionStatus.IN_NOTICE
    assert resolution.notice_ends_at == T0 + timedelta(days=5)
    assert "resolution.notice_started" in audit_actions(resolution)
    # the requester and the three attendees hear of it; the secretary does not
    told = {user.id for user in [resident, *deliberation.voters]}
    for user in [resident, *deliberation.voters]:
        assert len(notifications_of(user, "resolution.notice_started")) == 1
    assert notifications_of(secretary, "resolution.notice_started") == []
    assert len(told) == 4


def test_the_days_default_to_five(client, bearer, secretary, agreed, clock):
    response = api_start(client, bearer, secretary, agreed)
    assert response.status_code == 200, response.json
    assert fresh(agreed).notice_ends_at == T0 + timedelta(days=5)


@pytest.mark.parametrize("days", [0, 31, -1, "5", 2.5])
def test_the_days_are_one_to_thirty(client, bearer, secretary, agreed, days):
    response = api_start(client, bearer, secretary, agreed, days=days)
    assert response.status_code == 422
    assert fresh(agreed).status == ResolutionStatus.RECORDED


@pytest.mark.parametrize("days", [1, 30])
def test_one_and_thirty_days_are_allowed(secretary, agreed, days):
    notice.start_notice(secretary, agreed, days, now=T0)
    assert agreed.notice_ends_at == T0 + timedelta(days=days)


def _meeting_in_progress(deliberation, closed_poll, secretary):
    return _record(secretary, deliberation.meeting, closed_poll(["yes", "yes", "no"]))


def _rejected(deliberation, closed_poll, secretary):
    poll = closed_poll(["no", "no", "yes"])
    resolution = _record(secretary, deliberation.meeting, poll, text="暂不安装。")
    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    return resolution


def _agreed(deliberation, closed_poll, secretary):
    resolution = _meeting_in_progress(deliberation, closed_poll, secretary)
    meeting_services.transition_meeting(secretary, deliberation.meeting, MeetingStatus.CLOSED)
    return resolution


def _minutes_published(deliberation, closed_poll, secretary):
    resolution = _agreed(deliberation, closed_poll, secretary)
    version = minutes_services.save_version(
        secretary, deliberation.meeting, "# 会议纪要\n\n已定。\n"
    )
    minutes_services.publish(secretary, version)
    return resolution


def _with_status(status):
    def make(deliberation, closed_poll, secretary):
        resolution = _agreed(deliberation, closed_poll, secretary)
        notice.start_notice(secretary, resolution, 5, now=T0)
        resolution.status = status
        return resolution

    return make


# (how the resolution stands, expected answer to "put it on notice")
START_CASES = [
    ("agreed, meeting closed", _agreed, 200),
    ("agreed, minutes published", _minutes_published, 200),
    ("meeting still in progress", _meeting_in_progress, 409),
    ("not agreed", _rejected, 409),
    ("already in notice", _with_status(ResolutionStatus.IN_NOTICE), 409),
    ("already effective", _with_status(ResolutionStatus.EFFECTIVE), 409),
    ("already withdrawn", _with_status(ResolutionStatus.WITHDRAWN), 409),
]


@pytest.mark.parametrize(("case", "make", "status"), START_CASES, ids=[c[0] for c in START_CASES])
def test_which_resolutions_may_go_on_notice(
    client, bearer, secretary, deliberation, closed_poll, case, make, status
):
    resolution = make(deliberation, closed_poll, secretary)
    db.session.flush()
    before = resolution.status
    response = api_start(client, bearer, secretary, resolution, days=5)
    assert response.status_code == status, response.json
    if status == 409:
        assert response.json["error"]["code"] == "invalid_transition"
        assert fresh(resolution).status == before
    else:
        assert fresh(resolution).status == ResolutionStatus.IN_NOTICE


def test_a_rejected_resolution_is_refused_with_a_reason(secretary, deliberation, closed_poll):
    resolution = _rejected(deliberation, closed_poll, secretary)
    assert resolution.decision == Decision.REJECTED
    with pytest.raises(notice.InvalidTransition, match="agreed"):
        notice.start_notice(secretary, resolution, 5)


# --- who may do what ----------------------------------------------------------------------


def test_who_may_start_a_notice(
    client, bearer, agreed, resident, other_secretary, deliberation, admin
):
    assert client.post(f"/api/v1/resolutions/{agreed.id}/notice", json={}).status_code == 401
    for user in (resident, other_secretary, deliberation.voters[0]):
        response = api_start(client, bearer, user, agreed, days=5)
        assert response.status_code == 403, user
    assert fresh(agreed).status == ResolutionStatus.RECORDED
    assert api_start(client, bearer, admin, agreed, days=5).status_code == 200
    assert api_start(client, bearer, admin, agreed, days=5).status_code == 409


def test_who_may_object(
    client, bearer, in_notice, resident, outsider, other_secretary, secretary, clock
):
    clock.now = DURING
    url = f"/api/v1/resolutions/{in_notice.id}/objections"
    assert client.post(url, json={"reason": "不同意"}).status_code == 401
    assert api_object(client, bearer, outsider, in_notice).status_code == 403
    assert api_object(client, bearer, other_secretary, in_notice).status_code == 403
    assert fresh(in_notice).objections == []
    assert api_object(client, bearer, resident, in_notice).status_code == 201
    # the secretary is a member of the community too, but answers the objections
    assert api_object(client, bearer, secretary, in_notice).status_code == 403


def test_who_may_answer(
    client, bearer, in_notice, resident, neighbour, other_secretary, secretary, clock
):
    clock.now = DURING
    assert api_object(client, bearer, resident, in_notice).status_code == 201
    objection = objection_by(resident, in_notice)
    url = f"/api/v1/objections/{objection.id}/answer"
    assert client.post(url, json={"answer": "好"}).status_code == 401
    for user in (resident, neighbour, other_secretary):
        assert api_answer(client, bearer, user, objection).status_code == 403
    assert fresh(objection).answer is None
    assert api_answer(client, bearer, secretary, objection).status_code == 200


def test_who_reads_the_objections(
    client, bearer, in_notice, resident, neighbour, outsider, secretary, clock
):
    clock.now = DURING
    api_object(client, bearer, resident, in_notice)
    api_object(client, bearer, neighbour, in_notice, reason="希望晚上不要播放。")
    url = f"/api/v1/resolutions/{in_notice.id}/objections"
    everything = client.get(url, headers=bearer(secretary))
    assert everything.status_code == 200
    assert everything.json["total"] == 2
    assert [o["user_id"] for o in everything.json["items"]] == [resident.id, neighbour.id]
    own = client.get(url, headers=bearer(neighbour))
    assert own.status_code == 200
    assert [o["reason"] for o in own.json["items"]] == ["希望晚上不要播放。"]
    assert client.get(url, headers=bearer(outsider)).status_code == 403
    assert client.get(url).status_code == 401


# --- objections -------------------------------------------------------------------------


def test_one_objection_each(client, bearer, in_notice, resident, secretary, clock):
    clock.now = DURING
    first = api_object(client, bearer, resident, in_notice)
    assert first.status_code == 201, first.json
    assert first.json["reason"] == "音箱离我家窗户太近，晚上会吵。"
    assert first.json["answer"] is None
    second = api_object(client, bearer, resident, in_notice, reason="再说一次")
    assert second.status_code == 409
    assert second.json["error"]["code"] == "conflict"
    assert len(fresh(in_notice).objections) == 1
    # the secretaries hear of the objection
    assert len(notifications_of(secretary, "resolution.objection")) == 1


def test_no_objection_after_the_period(client, bearer, in_notice, resident, clock):
    clock.now = T0 + timedelta(days=5)  # the end itself is already outside
    response = api_object(client, bearer, resident, in_notice)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"
    assert fresh(in_notice).objections == []


def test_no_objection_to_a_resolution_not_in_notice(client, bearer, agreed, resident):
    response = api_object(client, bearer, resident, agreed)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"


@pytest.mark.parametrize("reason", ["", "   ", "异" * (notice.REASON_MAX + 1)])
def test_an_objection_needs_a_reason(client, bearer, in_notice, resident, clock, reason):
    clock.now = DURING
    assert api_object(client, bearer, resident, in_notice, reason=reason).status_code == 422
    assert fresh(in_notice).objections == []


def test_an_objection_is_answered_once(client, bearer, in_notice, resident, secretary, clock):
    clock.now = DURING
    api_object(client, bearer, resident, in_notice)
    objection = objection_by(resident, in_notice)
    assert api_answer(client, bearer, secretary, objection, answer="").status_code == 422
    first = api_answer(client, bearer, secretary, objection)
    assert first.status_code == 200, first.json
    assert (first.json["answer"], first.json["upheld"]) == (
        "音箱移到广场东侧，音量限60分贝。",
        False,
    )
    again = api_answer(client, bearer, secretary, objection, answer="再答一次")
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"
    assert fresh(objection).answer == "音箱移到广场东侧，音量限60分贝。"
    # the objector is told; the period is not over: still in notice
    assert len(notifications_of(resident, "resolution.objection_answered")) == 1
    assert first.json["resolution_status"] == "in_notice"
    assert fresh(in_notice).status == ResolutionStatus.IN_NOTICE


# --- settling: the period over AND every objection answered -----------------------------

# (objections: None = none made, else answered/upheld per objector, "open" = not
#  answered; when the answers come: during or after the period; expected status)
SETTLE_CASES = [
    ("no objection, period running", [], DURING, ResolutionStatus.IN_NOTICE),
    ("no objection, period over", [], AFTER, ResolutionStatus.EFFECTIVE),
    ("answered, period running", ["answered"], DURING, ResolutionStatus.IN_NOTICE),
    ("answered, period over", ["answered"], AFTER, ResolutionStatus.EFFECTIVE),
    ("one open, period over", ["answered", "open"], AFTER, ResolutionStatus.IN_NOTICE),
    ("upheld, period running", ["upheld"], DURING, ResolutionStatus.IN_NOTICE),
    ("upheld, period over", ["answered", "upheld"], AFTER, ResolutionStatus.WITHDRAWN),
]


@pytest.mark.parametrize(
    ("case", "answers", "when", "expected"), SETTLE_CASES, ids=[c[0] for c in SETTLE_CASES]
)
def test_settling(
    secretary, in_notice, resident, neighbour, case, answers, when, expected, in_request
):
    objectors = [resident, neighbour]
    for user, _answer in zip(objectors, answers, strict=False):
        notice.object_to(user, in_notice, "不同意", now=DURING)
    for objection, answer in zip(in_notice.objections, answers, strict=True):
        if answer != "open":
            notice.answer_objection(
                secretary, objection, "已处理", upheld=answer == "upheld", now=DURING
            )
    assert in_notice.status == ResolutionStatus.IN_NOTICE  # answered during the period
    notice.settle(in_notice, when)
    db.session.flush()
    assert fresh(in_notice).status == expected
    settled = expected != ResolutionStatus.IN_NOTICE
    assert (fresh(in_notice).notice_settled_at == when) is settled
    assert ("resolution.notice_settled" in audit_actions(in_notice)) is settled


def test_the_last_answer_after_the_period_settles(
    client, bearer, in_notice, resident, neighbour, secretary, clock
):
    clock.now = DURING
    api_object(client, bearer, resident, in_notice)
    api_object(client, bearer, neighbour, in_notice, reason="时间太长")
    first, second = fresh(in_notice).objections
    assert api_answer(client, bearer, secretary, first).status_code == 200
    clock.now = AFTER
    assert fresh(in_notice).status == ResolutionStatus.IN_NOTICE  # one still open
    response = api_answer(client, bearer, secretary, second, answer="改为8:00–19:00。")
    assert response.json["resolution_status"] == "effective"
    resolution = fresh(in_notice)
    assert (resolution.status, resolution.notice_settled_at) == (ResolutionStatus.EFFECTIVE, AFTER)
    # each objector: told of their answer, then of the outcome
    for user in (resident, neighbour):
        assert len(notifications_of(user, "resolution.objection_answered")) == 1
        assert len(notifications_of(user, "resolution.notice_settled")) == 1
    # the secretary who answered is not told of what they just did
    assert notifications_of(secretary, "resolution.notice_settled") == []


def test_an_upheld_objection_withdraws_the_resolution(
    client, bearer, in_notice, resident, secretary, clock
):
    clock.now = DURING
    api_object(client, bearer, resident, in_notice)
    clock.now = AFTER
    objection = objection_by(resident, in_notice)
    response = api_answer(
        client, bearer, secretary, objection, answer="采纳意见，另行选址。", upheld=True
    )
    assert response.status_code == 200
    assert response.json["upheld"] is True
    assert fresh(in_notice).status == ResolutionStatus.WITHDRAWN
    subjects = [n.subject for n in notifications_of(resident, "resolution.notice_settled")]
    assert len(subjects) == 1
    assert "Withdrawn" in subjects[0] or "撤回" in subjects[0]


def test_no_answer_once_settled(client, bearer, in_notice, resident, secretary, clock):
    clock.now = DURING
    api_object(client, bearer, resident, in_notice)
    objection = objection_by(resident, in_notice)
    in_notice.status = ResolutionStatus.EFFECTIVE  # as if settled another way
    db.session.flush()
    response = api_answer(client, bearer, secretary, objection)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"


def test_readers_see_the_due_outcome_before_the_cli_runs(
    client, bearer, in_notice, deliberation, secretary, clock
):
    """The period ran out with no objection: the stored status is still
    in_notice, but the API and the pages show the outcome it is due."""
    clock.now = AFTER
    url = f"/api/v1/meetings/{deliberation.meeting.id}/resolutions"
    body = client.get(url, headers=bearer(secretary)).json
    assert [(r["id"], r["status"]) for r in body["items"]] == [(in_notice.id, "effective")]
    assert fresh(in_notice).status == ResolutionStatus.IN_NOTICE  # nothing written on a read


def test_the_cli_with_a_fixed_clock(
    runner, monkeypatch, secretary, in_notice, resident, deliberation, in_request
):
    other = _record(secretary, deliberation.meeting, text="广场舞音量不超过60分贝。")
    notice.start_notice(secretary, other, 3, now=T0)
    notice.object_to(resident, other, "太吵", now=DURING)
    third = _record(secretary, deliberation.meeting, text="周末可延长到21:00。")
    notice.start_notice(secretary, third, 30, now=T0)
    db.session.flush()
    monkeypatch.setattr(notice, "utcnow", lambda: AFTER)
    result = runner.invoke(args=["resolutions", "settle-notices"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Settled 1 public notice(s)."
    assert fresh(in_notice).status == ResolutionStatus.EFFECTIVE
    assert fresh(other).status == ResolutionStatus.IN_NOTICE  # its objection waits
    assert fresh(third).status == ResolutionStatus.IN_NOTICE  # still running
    # the community's secretary hears of the outcome (no one answered by hand)
    assert len(notifications_of(secretary, "resolution.notice_settled")) == 1
    again = runner.invoke(args=["resolutions", "settle-notices"])
    assert again.output.strip() == "Settled 0 public notice(s)."


# --- the pages ------------------------------------------------------------------------------


def test_the_pages_show_the_notice_and_its_end(english, in_notice, deliberation, clock):
    clock.now = DURING
    for url in (
        f"/meetings/{deliberation.meeting.id}",
        f"/resolutions/{in_notice.id}/notice",
        f"/communities/{deliberation.meeting.community_id}/notices",
    ):
        page = english.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert "In public notice" in text, url
        # 2026-12-12 10:00 in Beijing, as the site's short date and time
        assert "12/12/26" in text, url


def test_the_pages_show_the_outcome_after(english, in_notice, deliberation, clock):
    clock.now = AFTER  # due, not yet settled: shown as its outcome
    page = english.get(f"/meetings/{deliberation.meeting.id}").get_data(as_text=True)
    assert "In effect" in page
    assert "In public notice" not in page
    notice.settle(in_notice, AFTER)
    in_notice.status = ResolutionStatus.WITHDRAWN
    db.session.flush()
    page = english.get(f"/resolutions/{in_notice.id}/notice").get_data(as_text=True)
    assert "Withdrawn" in page
    assert "An objection was upheld" in page


def test_a_resident_objects_on_the_page(english, login, resident, in_notice, secretary, clock):
    clock.now = DURING
    login(resident)
    page = english.get(f"/resolutions/{in_notice.id}/notice").get_data(as_text=True)
    assert "Object to this resolution" in page
    assert 'data-confirm="' in page
    empty = english.post(f"/resolutions/{in_notice.id}/objections", data={"reason": ""})
    assert empty.status_code == 422
    sent = english.post(
        f"/resolutions/{in_notice.id}/objections", data={"reason": "晚上八点后请勿播放。"}
    )
    assert sent.status_code == 302
    page = english.get(f"/resolutions/{in_notice.id}/notice").get_data(as_text=True)
    assert "Your objection" in page
    assert "晚上八点后请勿播放。" in page
    assert "Object to this resolution" not in page  # once
    again = english.post(f"/resolutions/{in_notice.id}/objections", data={"reason": "再来"})
    assert again.status_code == 409
    assert len(fresh(in_notice).objections) == 1


def test_the_secretary_answers_on_the_page(
    english, login, resident, secretary, in_notice, clock, in_request
):
    clock.now = DURING
    objection = notice.object_to(resident, in_notice, "晚上太吵。", now=DURING)
    db.session.flush()
    login(secretary)
    page = english.get(f"/resolutions/{in_notice.id}/objections").get_data(as_text=True)
    assert "晚上太吵。" in page
    assert "Upholding an objection withdraws the resolution" in page
    prefix = f"o{objection.id}-"
    clock.now = AFTER
    sent = english.post(
        f"/objections/{objection.id}/answer",
        data={prefix + "answer": "采纳，另行选址。", prefix + "upheld": "y"},
    )
    assert sent.status_code == 302
    resolution = fresh(in_notice)
    assert resolution.status == ResolutionStatus.WITHDRAWN
    assert fresh(objection).upheld is True


def test_a_resident_of_another_community_may_not_object_on_the_page(
    login, outsider, in_notice, clock
):
    clock.now = DURING
    client = login(outsider)
    response = client.post(f"/resolutions/{in_notice.id}/objections", data={"reason": "不同意"})
    assert response.status_code == 403


def test_the_secretary_starts_the_notice_on_the_page(english, login, secretary, agreed, clock):
    login(secretary)
    page = english.get(f"/resolutions/{agreed.id}/notice").get_data(as_text=True)
    assert "Start the public notice" in page
    bad = english.post(f"/resolutions/{agreed.id}/notice", data={"days": "40"})
    assert bad.status_code == 422
    sent = english.post(f"/resolutions/{agreed.id}/notice", data={"days": "7"})
    assert sent.status_code == 302
    assert fresh(agreed).notice_ends_at == T0 + timedelta(days=7)


def test_the_meeting_page_offers_the_secretary_the_notice(
    app, english, login, secretary, resident, agreed, deliberation, in_request
):
    url = f"/meetings/{deliberation.meeting.id}"
    login(secretary)
    page = english.get(url).get_data(as_text=True)
    assert f'href="/resolutions/{agreed.id}/notice#start"' in page
    notice.start_notice(secretary, agreed, 5, now=T0)
    db.session.flush()
    page = english.get(url).get_data(as_text=True)
    assert "/notice#start" not in page
    assert f'href="/resolutions/{agreed.id}/objections"' in page
    other = app.test_client()
    other.post("/auth/login", data={"username": resident.username, "password": PASSWORD})
    page = other.get(url).get_data(as_text=True)
    assert "In public notice" in page or "公示" in page
    assert f'href="/resolutions/{agreed.id}/objections"' not in page


def test_the_notice_pages_run_a_fixed_number_of_queries(
    client, login, secretary, deliberation, closed_poll, make_member, in_request
):
    """One notice or three, one objection or three: as many queries."""
    from query_count import queries_of

    meeting = deliberation.meeting
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.CLOSED)

    def add_notice(n: int):
        resolution = _record(secretary, meeting, text=f"第{n}项决定。")
        notice.start_notice(secretary, resolution, 5, now=T0)
        return resolution

    def add_objection(resolution, n: int):
        objection = notice.object_to(make_member(f"居民{n}"), resolution, "不同意", now=DURING)
        notice.answer_objection(secretary, objection, "已解释", now=DURING)

    first = add_notice(0)
    add_objection(first, 0)
    db.session.flush()
    login(secretary)
    urls = (
        f"/communities/{meeting.community_id}/notices",
        f"/resolutions/{first.id}/notice",
        f"/resolutions/{first.id}/objections",
    )
    one = [queries_of(client, url) for url in urls]
    for n in (1, 2):
        add_notice(n)
        add_objection(first, n)
    db.session.flush()
    db.session.expire_all()
    assert [queries_of(client, url) for url in urls] == one
    print("queries (notices, notice, objections):", one)
    assert max(one) <= 20
