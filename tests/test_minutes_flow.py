"""The minutes from draft to publication and correction: versions, diffs,
confirmation by the attendees, publication, the answers to the requesters,
through the services and the secretary's and attendees' pages."""

from __future__ import annotations

import re

import pytest
from conftest import field_errors, flashes
from meeting_helpers import audit_actions, fresh, notifications_of
from sqlalchemy.exc import IntegrityError

from meetings.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from meetings.extensions import db as _db
from meetings.meeting.models import MeetingStatus
from meetings.minutes import diff as minutes_diff
from meetings.minutes import services
from meetings.minutes.models import MinutesConfirmation, MinutesVersion
from meetings.requests import services as request_services
from meetings.requests.models import RequestStatus

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

TEXT = "# 纪要\n\n会议决定铺设防滑地板。\n"


# --- versions -----------------------------------------------------------------------------


def test_each_save_is_a_new_version_and_an_unchanged_text_is_not(held_meeting, secretary):
    meeting = held_meeting.meeting
    first = services.save_version(secretary, meeting, TEXT)
    again = services.save_version(secretary, meeting, TEXT.replace("\n", "\r\n"))
    second = services.save_version(secretary, meeting, TEXT + "\n补充：每周通报进度。\n")
    assert (first.number, again.number, second.number) == (1, 1, 2)
    history = services.history(meeting)
    assert [v.body_markdown for v in history.versions] == [TEXT, TEXT + "\n补充：每周通报进度。\n"]
    assert [history.status(v).value for v in history.versions] == ["draft", "draft"]
    assert audit_actions(first) == ["minutes.saved"]


def test_minutes_are_written_once_the_meeting_has_closed(make_meeting, secretary, in_request):
    meeting = make_meeting("in_progress")
    with pytest.raises(Conflict):
        services.save_version(secretary, meeting, TEXT)


@pytest.mark.parametrize("who", ["other_secretary", "attendee", "resident"])
def test_only_the_communitys_secretary_saves(held_meeting, request, who, make_user):
    user = held_meeting.cppcc if who == "attendee" else request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        services.save_version(user, held_meeting.meeting, TEXT)


def test_empty_or_huge_minutes_are_refused(held_meeting, secretary):
    with pytest.raises(ValidationFailed) as empty:
        services.save_version(secretary, held_meeting.meeting, " \n\t")
    assert "body_markdown" in empty.value.fields
    with pytest.raises(ValidationFailed):
        services.save_version(secretary, held_meeting.meeting, "字" * (services.BODY_MAX + 1))


def test_a_diff_marks_the_changed_characters_of_a_chinese_line():
    old = "# 纪要\n\n一\n二\n三\n四\n五\n六\n会议决定铺设防滑地板。\n七\n"
    new = "# 纪要\n\n一\n二\n三\n四\n五\n六\n会议决定铺设防滑地胶。\n七\n新增一行。\n"
    lines = minutes_diff.diff_lines(old, new, context=1)
    assert [line.kind for line in lines] == ["gap", "same", "changed", "same", "added"]
    assert lines[0].skipped == 7
    changed = lines[2]
    assert [(s.kind, s.text) for s in changed.old] == [
        ("same", "会议决定铺设防滑地"),
        ("removed", "板"),
        ("same", "。"),
    ]
    assert [(s.kind, s.text) for s in changed.new if s.kind == "added"] == [("added", "胶")]
    assert lines[4].new[0].text == "新增一行。"
    assert minutes_diff.diff_lines(old, old) == []


def test_the_diff_page_escapes_both_texts(client, login, held_meeting, secretary):
    meeting = held_meeting.meeting
    services.save_version(secretary, meeting, "第一版 <script>alert(1)</script>\n")
    services.save_version(secretary, meeting, "第二版 <script>alert(2)</script>\n")
    login(secretary)
    page = client.get(f"/meetings/{meeting.id}/minutes/diff?old=1&new=2")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<script>alert" not in body
    assert "<del>一</del>" in body and "<ins>二</ins>" in body
    assert "&lt;script&gt;alert(" in body


# --- sending round and confirming --------------------------------------------------------


def test_circulating_asks_the_attendees_who_were_there(held_meeting, secretary):
    version = services.save_version(secretary, held_meeting.meeting, TEXT)
    asked = services.circulate(secretary, version)
    people = {c.user for c in asked}
    assert people == {held_meeting.cppcc, held_meeting.owners, *held_meeting.voters}
    assert held_meeting.excused not in people and held_meeting.absent not in people
    assert version.circulated_at is not None
    (note,) = notifications_of(held_meeting.cppcc, "minutes.circulated")
    assert note.link == f"/meetings/{held_meeting.meeting.id}/minutes/confirm"
    assert notifications_of(held_meeting.absent, "minutes.circulated") == []
    with pytest.raises(InvalidTransition):
        services.circulate(secretary, version)


def test_an_attendee_confirms_or_comments_until_publication(held_meeting, secretary):
    version = services.save_version(secretary, held_meeting.meeting, TEXT)
    services.circulate(secretary, version)
    services.answer(held_meeting.cppcc, version, True)
    services.answer(held_meeting.owners, version, False, "请补上施工时间")
    counts = services.confirmation_counts(version)
    assert (counts.asked, counts.confirmed, counts.commented, counts.waiting) == (5, 1, 1, 3)
    (note,) = notifications_of(secretary, "minutes.commented")
    assert note.body == "请补上施工时间"
    with pytest.raises(ValidationFailed):
        services.answer(held_meeting.voters[0], version, False, "  ")
    with pytest.raises(NotAllowed):
        services.answer(held_meeting.absent, version, True)
    services.publish(secretary, version)
    with pytest.raises(InvalidTransition):
        services.answer(held_meeting.voters[1], version, True)


def test_a_newer_draft_sent_round_replaces_the_older_one(held_meeting, secretary):
    meeting = held_meeting.meeting
    old = services.save_version(secretary, meeting, TEXT)
    services.circulate(secretary, old)
    new = services.save_version(secretary, meeting, TEXT + "补充。\n")
    services.circulate(secretary, new)
    with pytest.raises(Conflict):
        services.answer(held_meeting.cppcc, old, True)
    assert services.my_confirmation(held_meeting.cppcc, meeting).version == new


def test_the_confirmation_pages(client, login, held_meeting, secretary):
    meeting = held_meeting.meeting
    version = services.save_version(secretary, meeting, TEXT)
    services.circulate(secretary, version)
    _db.session.commit()

    login(held_meeting.owners)
    page = client.get(f"/meetings/{meeting.id}/minutes/confirm")
    assert page.status_code == 200 and "会议决定铺设防滑地板。" in page.get_data(as_text=True)
    refused = client.post(
        f"/meetings/{meeting.id}/minutes/confirm", data={"answer": "comment", "version": "1"}
    )
    assert refused.status_code == 422
    assert field_errors(refused.get_data(as_text=True), "comment")
    sent = client.post(
        f"/meetings/{meeting.id}/minutes/confirm",
        data={"answer": "comment", "comment": "请写明施工时间", "version": "1"},
    )
    assert sent.status_code == 302
    row = _db.session.scalar(
        _db.select(MinutesConfirmation).where(MinutesConfirmation.user_id == held_meeting.owners.id)
    )
    assert (row.comment, row.confirmed_at) == ("请写明施工时间", None)
    assert client.get(f"/meetings/{meeting.id}/minutes/edit").status_code == 403

    client.post("/auth/logout")
    login(secretary)
    overview = client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "请写明施工时间" in overview and "孙业委" in overview


def test_someone_not_asked_finds_nothing_to_confirm(client, login, held_meeting, secretary):
    services.circulate(secretary, services.save_version(secretary, held_meeting.meeting, TEXT))
    _db.session.commit()
    login(held_meeting.absent)
    assert client.get(f"/meetings/{held_meeting.meeting.id}/minutes/confirm").status_code == 404


# --- publishing -----------------------------------------------------------------------------


def test_publishing_freezes_the_version_and_moves_the_meeting_on(held_meeting, secretary):
    meeting = held_meeting.meeting
    version = services.save_version(secretary, meeting, TEXT)
    services.publish(secretary, version)
    assert meeting.status == MeetingStatus.MINUTES_PUBLISHED
    assert version.published_at is not None and version.published_by == secretary
    assert "minutes.published" in audit_actions(version)
    assert "meeting.minutes_published" in audit_actions(meeting)
    with pytest.raises(InvalidTransition):
        services.publish(secretary, version)
    # the database keeps a published text as it is
    with pytest.raises(IntegrityError), _db.session.begin_nested():
        _db.session.execute(
            _db.update(MinutesVersion)
            .where(MinutesVersion.id == version.id)
            .values(body_markdown="改过的")
        )


def test_an_older_draft_is_not_published_over_a_newer_one(held_meeting, secretary):
    old = services.save_version(secretary, held_meeting.meeting, TEXT)
    services.save_version(secretary, held_meeting.meeting, TEXT + "新\n")
    with pytest.raises(Conflict):
        services.publish(secretary, old)


def test_requesters_are_told_the_outcome_once_per_publication(
    held_meeting, secretary, resident, db
):
    meeting = held_meeting.meeting
    services.publish(secretary, services.save_version(secretary, meeting, TEXT))
    (note,) = notifications_of(resident, "minutes.published")
    assert note.link == f"/minutes/{meeting.id}"
    assert "活动室地板磨损" in note.body
    assert "同意对182幢活动室进行改造" in note.body and "活动室改造出新" in note.body

    correction = services.save_version(secretary, meeting, TEXT + "更正：预算为八万六千元。\n")
    services.publish(secretary, correction)
    assert len(notifications_of(resident, "minutes.published")) == 1
    (corrected,) = notifications_of(resident, "minutes.corrected")
    assert "第2版" in corrected.body
    with pytest.raises(InvalidTransition):
        services.publish(secretary, correction)
    assert len(notifications_of(resident, "minutes.corrected")) == 1


def test_a_requester_with_two_requests_on_the_agenda_is_told_once(
    held_meeting, secretary, resident, community, db
):
    meeting = held_meeting.meeting
    second = request_services.raise_request(
        resident,
        community,
        request_services.RequestDraft(
            title="活动室墙面剥落",
            description="墙皮脱落。",
            category="public_facilities",
            location="182幢一层",
        ),
    )
    request_services.reply_to_request(secretary, second, "accept", "纳入议题")
    meeting.topics.append(second)
    held_meeting.item.requests.append(second)
    db.session.flush()
    services.publish(secretary, services.save_version(secretary, meeting, TEXT))
    (note,) = notifications_of(resident, "minutes.published")
    assert "活动室地板磨损" in note.body and "活动室墙面剥落" in note.body


def test_a_request_with_a_project_waits_for_it(held_meeting, secretary):
    item = held_meeting.request
    assert item.status == RequestStatus.DELIBERATED
    services.publish(secretary, services.save_version(secretary, held_meeting.meeting, TEXT))
    item = fresh(item)
    assert item.status == RequestStatus.RESOLVED
    assert "同意对182幢活动室进行改造" in item.reply and "活动室改造出新" in item.reply
    assert item in fresh(held_meeting.project).requests
    assert [e.to_status for e in item.events][-1] == RequestStatus.RESOLVED


def test_a_request_without_a_project_is_handled_with_a_public_reply(held_meeting, secretary, db):
    held_meeting.resolution.project = None
    db.session.flush()
    services.publish(secretary, services.save_version(secretary, held_meeting.meeting, TEXT))
    item = fresh(held_meeting.request)
    # handled, waiting for the resident's rating, which closes it
    assert item.status == RequestStatus.HANDLED
    steps = [e.to_status for e in item.events][-2:]
    assert steps == [RequestStatus.RESOLVED, RequestStatus.HANDLED]
    assert "改造期间活动室暂停开放" in item.reply
    assert item.replied_by == secretary


def test_a_request_the_meeting_decided_nothing_about_stays_deliberated(held_meeting, secretary, db):
    db.session.delete(held_meeting.resolution)
    db.session.delete(held_meeting.plain_resolution)
    db.session.flush()
    services.publish(secretary, services.save_version(secretary, held_meeting.meeting, TEXT))
    assert fresh(held_meeting.request).status == RequestStatus.DELIBERATED
    (note,) = notifications_of(held_meeting.request.requester, "minutes.published")
    assert "已在会上讨论" in note.body


def test_a_correction_supersedes_the_published_version(held_meeting, secretary):
    meeting = held_meeting.meeting
    first = services.save_version(secretary, meeting, TEXT)
    services.publish(secretary, first)
    second = services.correct(secretary, meeting, TEXT + "更正。\n")
    history = services.history(meeting)
    assert history.current == second
    assert history.status(first) == services.VersionStatus.SUPERSEDED
    assert history.superseded_by(first) == second
    assert "minutes.corrected" in audit_actions(second)


# --- the secretary's pages ------------------------------------------------------------------


def test_the_editor_starts_from_the_generated_draft(english, login, held_meeting, secretary):
    login(secretary)
    page = english.get(f"/meetings/{held_meeting.meeting.id}/minutes/edit")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "This draft was written from the meeting" in body
    assert "## Poll results" in body  # in the textarea
    assert "<h2>Poll results</h2>" in body  # in the preview
    assert 'data-preview-url="/meetings/' in body


def test_preview_renders_without_saving_and_save_keeps_a_version(
    english, login, held_meeting, secretary
):
    meeting = held_meeting.meeting
    login(secretary)
    url = f"/meetings/{meeting.id}/minutes/edit"
    preview = english.post(url, data={"body": "## 决议\n<script>x</script>", "preview": "1"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "<h2>决议</h2>" in html and "<script>x</script>" not in html
    assert services.history(meeting).versions == []

    saved = english.post(url, data={"body": TEXT, "save": "1", "base": ""})
    assert saved.status_code == 302
    assert "Saved as version 1." in flashes(english.get(saved.location).get_data(as_text=True))
    assert [v.number for v in services.history(meeting).versions] == [1]


def test_the_preview_endpoint_answers_sanitised_html(client, login, held_meeting, secretary):
    login(secretary)
    response = client.post(
        f"/meetings/{held_meeting.meeting.id}/minutes/preview",
        data={"body": "**好**<img src=x onerror=alert(1)>"},
    )
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.get_data(as_text=True) == (
        "<p><strong>好</strong>&lt;img src=x onerror=alert(1)&gt;</p>\n"
    )


def test_publishing_asks_for_a_confirmation(english, login, held_meeting, secretary, resident):
    meeting = held_meeting.meeting
    services.save_version(secretary, meeting, TEXT)
    _db.session.commit()
    login(secretary)
    url = f"/meetings/{meeting.id}/minutes/publish"
    page = english.get(url)
    assert page.status_code == 200 and "会议决定铺设防滑地板。" in page.get_data(as_text=True)
    unsure = english.post(url, data={"version": "1"})
    assert unsure.status_code == 422
    assert fresh(meeting).status == MeetingStatus.CLOSED
    done = english.post(url, data={"version": "1", "sure": "y"})
    assert done.status_code == 302 and done.location == f"/minutes/{meeting.id}"
    assert fresh(meeting).status == MeetingStatus.MINUTES_PUBLISHED
    assert len(notifications_of(resident, "minutes.published")) == 1


def test_the_publish_page_sends_back_the_version_it_shows(english, login, held_meeting, secretary):
    """The form posts what the page holds: its hidden inputs and the tick.
    (The version once was not on the page, and publishing always failed; then
    the first publication was announced as a correction.)"""
    meeting = held_meeting.meeting
    services.save_version(secretary, meeting, TEXT)
    _db.session.commit()
    login(secretary)
    url = f"/meetings/{meeting.id}/minutes/publish"
    page = english.get(url).get_data(as_text=True)
    form = page[page.index(f'action="{url}"') :]
    hidden = dict(
        re.findall(r'<input[^>]*name="(\w+)"[^>]*type="hidden"[^>]*value="([^"]*)"', form)
    )
    hidden |= dict(
        re.findall(r'<input[^>]*type="hidden"[^>]*name="(\w+)"[^>]*value="([^"]*)"', form)
    )
    assert hidden.get("version") == "1"
    done = english.post(url, data=hidden | {"sure": "y"})
    assert done.status_code == 302 and done.location == f"/minutes/{meeting.id}"
    assert fresh(meeting).status == MeetingStatus.MINUTES_PUBLISHED
    # the first publication, not a correction
    assert flashes(english.get(done.location).get_data(as_text=True)) == [
        "The minutes are published; the residents who asked have been told."
    ]


def test_the_meeting_page_points_to_the_minutes(client, login, held_meeting, secretary, published):
    page = client.get(f"/meetings/{held_meeting.meeting.id}").get_data(as_text=True)
    assert f'href="/minutes/{held_meeting.meeting.id}"' in page


def test_others_are_sent_from_the_overview_to_what_they_may_read(
    client, login, held_meeting, resident, secretary
):
    url = f"/meetings/{held_meeting.meeting.id}/minutes"
    login(resident)
    assert client.get(url).status_code == 404
    services.publish(secretary, services.save_version(secretary, held_meeting.meeting, TEXT))
    _db.session.commit()
    answer = client.get(url)
    assert answer.status_code == 302 and answer.location == f"/minutes/{held_meeting.meeting.id}"
