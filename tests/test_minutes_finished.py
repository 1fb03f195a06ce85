"""Minutes that are finished (issue 17, item 5): the draft marks what is still
to write and ``placeholders_left`` finds it; publishing with places left is
refused unless the secretary confirms, and the history records it; the
decided option is named; one version offers no comparison and says why;
tabs not usable before the meeting ends say when they will be; the demo
publishes no placeholder."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from conftest import flashes
from flask_babel import force_locale
from meeting_helpers import audit_actions, fresh
from query_count import queries_of

from meetings.audit.models import AuditEntry
from meetings.errors import ConfirmationNeeded
from meetings.extensions import db as _db
from meetings.meeting.models import Meeting, MeetingStatus
from meetings.minutes import services
from meetings.minutes.draft import generate_draft, poll_outcome
from meetings.minutes.models import MinutesVersion
from meetings.minutes.placeholders import fill, marker, placeholders_left
from meetings.polls.models import Outcome

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

FINISHED = "# 纪要\n\n## 议程和讨论\n\n### 1. 活动室改造方案\n\n讨论情况：大家同意铺设防滑地板。\n"


def _draft(held_meeting, secretary) -> MinutesVersion:
    """Version 1: the generated draft, saved unchanged (one place to write)."""
    return services.save_version(
        secretary, held_meeting.meeting, generate_draft(held_meeting.meeting)
    )


def _text(html: str) -> str:
    """What the page says, without its tags and with its spaces made single."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


# --- the marker and the check ---------------------------------------------------------


def test_the_draft_marks_the_discussion_of_each_agenda_item(held_meeting):
    text = generate_draft(held_meeting.meeting)
    # the fixture's meeting has one agenda item: one place to write, under it
    assert text.count("【To write: Discussion】") == 1
    assert "Discussion: …" not in text
    [place] = placeholders_left(text)
    assert (place.what, place.section) == ("Discussion", "1. 活动室改造方案")
    assert text.splitlines()[place.line - 1] == "【To write: Discussion】"
    assert place.description == "Discussion (1. 活动室改造方案)"


def test_a_chinese_draft_has_the_chinese_marker(held_meeting):
    with force_locale("zh_CN"):
        text = generate_draft(held_meeting.meeting)
        assert marker("讨论情况") == "【待填写：讨论情况】"
    assert re.search(r"^【待填写：[^】]+】$", text, re.M)
    assert len(placeholders_left(text)) == 1


def test_a_meeting_without_an_agenda_still_asks_for_the_discussion(make_meeting, in_request):
    text = generate_draft(make_meeting("closed"))
    assert "No agenda was set." in text
    assert [p.what for p in placeholders_left(text)] == ["Discussion"]


def test_placeholders_left_finds_markers_in_both_languages_and_the_old_line():
    text = (
        "# 纪要\n\n### 1. 网格长通报 （10分钟）\n\n【待填写：讨论情况】\n\n"
        "### 2. 清理办法\n\n讨论情况：……\n\n"
        "## Resolutions\n\nSee 【To write: Discussion】 and 【待填写：责任单位】.\n"
        "【会议议题】 is a heading a secretary may type; 讨论情况：已讨论。\n"
    )
    found = placeholders_left(text)
    assert [(p.what, p.section, p.line) for p in found] == [
        ("讨论情况", "1. 网格长通报", 5),
        ("讨论情况", "2. 清理办法", 9),
        ("Discussion", "Resolutions", 13),
        ("责任单位", "Resolutions", 13),
    ]
    assert placeholders_left(FINISHED) == []
    assert placeholders_left("") == [] and placeholders_left(None) == []


def test_fill_replaces_the_markers_in_order():
    text = "【待填写：讨论情况】\n\n【To write: Discussion】\n\n【待填写：讨论情况】\n"
    assert fill(text, ["甲", "乙"]) == "甲\n\n乙\n\n【待填写：讨论情况】\n"


def test_the_decided_option_is_named_in_the_draft(in_request):
    options = [
        SimpleNamespace(label="方案A", won=False),
        SimpleNamespace(label="方案B", won=True),
    ]
    poll = SimpleNamespace(outcome=Outcome.DECIDED, options=options, tie=False)
    assert poll_outcome(poll) == "Decided: “方案B”"
    with force_locale("zh_CN"):
        assert poll_outcome(poll).endswith("：“方案B”")


# --- the publish guard: services ------------------------------------------------------


def test_publishing_a_draft_with_places_left_needs_a_confirmation(held_meeting, secretary):
    version = _draft(held_meeting, secretary)
    with pytest.raises(ConfirmationNeeded) as refused:
        services.publish(secretary, version)
    assert refused.value.fields == {"placeholders": ["Discussion (1. 活动室改造方案)"]}
    assert "1 place in these minutes is still to write" in refused.value.message
    assert fresh(held_meeting.meeting).status == MeetingStatus.CLOSED
    assert version.published_at is None

    services.publish(secretary, version, with_placeholders=True)
    assert fresh(held_meeting.meeting).status == MeetingStatus.MINUTES_PUBLISHED
    assert audit_actions(version) == [
        "minutes.saved",
        "minutes.published",
        "minutes.published_with_placeholders",
    ]
    entry = _db.session.scalar(
        _db.select(AuditEntry).where(AuditEntry.action == "minutes.published_with_placeholders")
    )
    assert entry.data["placeholders"] == ["Discussion (1. 活动室改造方案)"]
    assert entry.data["number"] == 1


def test_a_text_without_places_left_needs_no_confirmation(held_meeting, secretary):
    version = services.save_version(secretary, held_meeting.meeting, FINISHED)
    services.publish(secretary, version)
    assert audit_actions(version) == ["minutes.saved", "minutes.published"]


# --- the publish guard: the web page ---------------------------------------------------


def test_the_publish_page_lists_what_is_left_and_asks_to_publish_anyway(
    english, login, held_meeting, secretary
):
    meeting = held_meeting.meeting
    version = _draft(held_meeting, secretary)
    _db.session.commit()
    login(secretary)
    url = f"/meetings/{meeting.id}/minutes/publish"
    page = english.get(url).get_data(as_text=True)
    assert "1 place is still to write:" in page
    assert "Discussion (1. 活动室改造方案)" in page
    assert 'name="anyway"' in page

    refused = english.post(url, data={"version": "1", "sure": "y"})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "1 place in these minutes is still to write: Discussion (1. 活动室改造方案)" in html
    assert fresh(meeting).status == MeetingStatus.CLOSED

    done = english.post(url, data={"version": "1", "sure": "y", "anyway": "y"})
    assert done.status_code == 302 and done.location == f"/minutes/{meeting.id}"
    assert fresh(meeting).status == MeetingStatus.MINUTES_PUBLISHED
    assert "minutes.published_with_placeholders" in audit_actions(version)


def test_the_publish_page_without_places_left_has_no_anyway_box(
    english, login, held_meeting, secretary
):
    meeting = held_meeting.meeting
    services.save_version(secretary, meeting, FINISHED)
    _db.session.commit()
    login(secretary)
    url = f"/meetings/{meeting.id}/minutes/publish"
    page = english.get(url).get_data(as_text=True)
    assert "still to write" not in page and 'name="anyway"' not in page
    done = english.post(url, data={"version": "1", "sure": "y"})
    assert done.status_code == 302
    assert fresh(meeting).status == MeetingStatus.MINUTES_PUBLISHED


def test_the_editor_lists_the_places_still_to_write(english, login, held_meeting, secretary):
    login(secretary)
    page = english.get(f"/meetings/{held_meeting.meeting.id}/minutes/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 place is still to write:" in html
    assert "Discussion (1. 活动室改造方案)" in html
    # the toolbar: hidden until its script shows it, buttons that submit nothing
    assert 'role="toolbar"' in html and "data-editor-toolbar" in html
    toolbar = html[html.index('role="toolbar"') : html.index("</textarea>")]
    assert " hidden>" in toolbar
    buttons = re.findall(r"<button[^>]*>", toolbar)
    assert len(buttons) == 7
    assert all('type="button"' in b and "aria-label=" in b for b in buttons)
    tools = re.findall(r'data-tool="(\w+)"', toolbar)
    assert tools == ["heading", "subheading", "bullets", "numbers", "bold", "table", "next"]
    assert "js/editor-toolbar.js" in html and "<script>" not in html
    # the count the script keeps up to date while typing, hidden without it
    assert re.search(r'<p class="placeholder-live" data-placeholders-live hidden', html)
    assert 'data-many="{n} places are still to write."' in html


def test_the_overview_says_what_the_draft_still_lacks(english, login, held_meeting, secretary):
    meeting = held_meeting.meeting
    _draft(held_meeting, secretary)
    _db.session.commit()
    login(secretary)
    html = _text(english.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True))
    assert "1 place is still to write: Discussion (1. 活动室改造方案)" in html
    services.save_version(secretary, meeting, FINISHED)
    _db.session.commit()
    html = _text(english.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True))
    assert "still to write" not in html


# --- the publish guard: the API --------------------------------------------------------


def test_the_api_refuses_then_publishes_with_confirm(client, bearer, secretary, held_meeting):
    meeting = held_meeting.meeting
    url = f"/api/v1/meetings/{meeting.id}/minutes"
    sec = bearer(secretary)
    saved = client.put(url, json={"body_markdown": generate_draft(meeting)}, headers=sec)
    assert saved.status_code == 200 and saved.json["placeholders"] == [
        "Discussion (1. 活动室改造方案)"
    ]
    refused = client.post(f"{url}/publish", json={}, headers=sec)
    assert refused.status_code == 409
    error = refused.json["error"]
    assert error["code"] == "confirmation_needed"
    assert error["fields"] == {"placeholders": ["Discussion (1. 活动室改造方案)"]}
    assert fresh(meeting).status == MeetingStatus.CLOSED

    done = client.post(f"{url}/publish", json={"confirm": True}, headers=sec)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "published"
    assert fresh(meeting).status == MeetingStatus.MINUTES_PUBLISHED
    version = services.history(fresh(meeting)).current
    assert "minutes.published_with_placeholders" in audit_actions(version)


def test_the_api_publishes_a_finished_text_without_confirm(client, bearer, secretary, held_meeting):
    url = f"/api/v1/meetings/{held_meeting.meeting.id}/minutes"
    sec = bearer(secretary)
    client.put(url, json={"body_markdown": FINISHED}, headers=sec)
    done = client.post(f"{url}/publish", headers=sec)
    assert done.status_code == 200, done.json
    assert done.json["placeholders"] == []


# --- comparing with one version ---------------------------------------------------------


def test_one_version_offers_no_comparison_and_the_page_says_why(
    english, login, held_meeting, secretary
):
    meeting = held_meeting.meeting
    services.save_version(secretary, meeting, FINISHED)
    _db.session.commit()
    login(secretary)
    overview = english.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}/minutes/diff"' not in overview
    assert "Compare versions" not in overview

    page = english.get(f"/meetings/{meeting.id}/minutes/diff")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "There is only one version so far: nothing to compare yet." in html
    assert f'href="/meetings/{meeting.id}/minutes/versions/1"' in html

    services.save_version(secretary, meeting, FINISHED + "补充。\n")
    _db.session.commit()
    overview = english.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}/minutes/diff"' in overview
    assert english.get(f"/meetings/{meeting.id}/minutes/diff").status_code == 200


def test_no_version_at_all_is_explained_too(english, login, held_meeting, secretary):
    login(secretary)
    page = english.get(f"/meetings/{held_meeting.meeting.id}/minutes/diff")
    assert page.status_code == 200
    assert "No version of the minutes is saved yet" in page.get_data(as_text=True)


# --- tabs before the meeting has ended ---------------------------------------------------


@pytest.fixture
def running(make_meeting, secretary, db) -> Meeting:
    meeting = make_meeting("in_progress")
    db.session.commit()
    return meeting


def test_before_the_end_write_and_publish_are_shown_disabled_with_the_reason(
    english, login, running, secretary
):
    login(secretary)
    page = english.get(f"/meetings/{running.id}/minutes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/meetings/{running.id}/minutes/edit"' not in html
    assert f'href="/meetings/{running.id}/minutes/publish"' not in html
    disabled = re.findall(r'<span class="tab-disabled"[^>]*>([^<]*)', html)
    assert [label.strip() for label in disabled] == ["Write", "Publish"]
    assert 'aria-disabled="true"' in html
    assert "Write, Publish: Available once the meeting is closed: it is under way now." in _text(
        html
    )


@pytest.mark.parametrize("tab", ["edit", "publish"])
def test_before_the_end_the_old_urls_explain_instead_of_bouncing(
    english, login, running, secretary, tab
):
    login(secretary)
    english.get("/")  # the welcome after the login is shown there
    page = english.get(f"/meetings/{running.id}/minutes/{tab}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Not available yet" in html
    assert "Available once the meeting is closed: it is under way now." in html
    assert flashes(html) == []


def test_a_scheduled_meeting_says_when_it_is_planned(english, login, make_meeting, secretary, db):
    meeting = make_meeting("scheduled")
    db.session.commit()
    login(secretary)
    html = english.get(f"/meetings/{meeting.id}/minutes/edit").get_data(as_text=True)
    assert "Available once the meeting is closed: it is planned for " in html
    assert str(meeting.starts_at.astimezone(meeting.starts_at.tzinfo).year) in html


def test_a_post_before_the_end_changes_nothing(english, login, running, secretary):
    login(secretary)
    answer = english.post(
        f"/meetings/{running.id}/minutes/edit", data={"body": FINISHED, "save": "1"}
    )
    assert answer.status_code == 409
    assert services.history(fresh(running)).versions == []


def test_after_the_end_the_tabs_are_links(english, login, held_meeting, secretary):
    meeting = held_meeting.meeting
    login(secretary)
    html = english.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}/minutes/edit"' in html
    # nothing saved yet: publishing waits for a version, and says so
    assert f'href="/meetings/{meeting.id}/minutes/publish"' not in html
    assert "Publish: Available once a version of the minutes is saved." in _text(html)
    publish = english.get(f"/meetings/{meeting.id}/minutes/publish")
    assert publish.status_code == 200
    assert "Available once a version of the minutes is saved." in publish.get_data(as_text=True)


# --- the demo -----------------------------------------------------------------------------


def test_the_demo_publishes_minutes_with_the_discussion_written(db, runner, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-password-1")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo minutes published: 3" in result.output
    published = db.session.scalars(
        db.select(MinutesVersion).where(MinutesVersion.published_at.is_not(None))
    ).all()
    assert len(published) == 3
    for version in published:
        assert placeholders_left(version.body_markdown) == [], version.body_markdown
        assert "讨论情况：……" not in version.body_markdown
        # every agenda item has its discussion written
        items = len(version.meeting.agenda_items)
        assert version.body_markdown.count("\n讨论情况：") == items
    texts = {v.meeting.title: v.body_markdown for v in published}
    assert "已选出：“全面改造出新：地板、墙面、卫生间”" in texts["182幢活动室改造出新协商议事会"]


# --- query counts ------------------------------------------------------------------------


def test_the_minutes_pages_run_a_fixed_number_of_queries(
    english, login, held_meeting, secretary, running
):
    """The tabs, the places to write and the explanations are worked out
    from what the page has loaded already: more versions, more places to
    write, the same number of queries."""
    meeting = held_meeting.meeting
    login(secretary)
    english.get("/")
    pages = [
        f"/meetings/{meeting.id}/minutes",
        f"/meetings/{meeting.id}/minutes/edit",
        f"/meetings/{meeting.id}/minutes/publish",
    ]
    services.save_version(secretary, meeting, generate_draft(meeting))
    _db.session.commit()
    one = {url: queries_of(english, url) for url in pages}
    one_diff = queries_of(english, f"/meetings/{meeting.id}/minutes/diff")
    for n in range(2, 6):
        text = generate_draft(meeting) + "\n" + "\n".join(["【待填写：讨论情况】"] * n)
        services.save_version(secretary, meeting, text)
    _db.session.commit()
    many = {url: queries_of(english, url) for url in pages}
    assert many == one, (one, many)
    # comparing two of five versions reads the same as explaining why one is not enough
    assert queries_of(english, f"/meetings/{meeting.id}/minutes/diff") <= one_diff + 2
    before_end = [f"/meetings/{running.id}/minutes/{tab}" for tab in ("edit", "publish")]
    assert all(queries_of(english, url) <= 12 for url in before_end), [
        queries_of(english, url) for url in before_end
    ]
