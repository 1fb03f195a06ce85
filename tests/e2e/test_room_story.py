"""Story 6: the meeting in the room (加装电梯意向), on the big screen and the phones.

The room's TV shows the meeting at 1920×1080 from a link the secretary made,
with nobody logged in; the secretary drives it from her phone. 方德明 cannot
come and names 韩秀兰 his proxy (委托投票); 苏桂英 has no smartphone and votes
with the secretary in front of a witness. While the residents vote on their
phones, the screen's turnout moves by itself, and after the close it shows
the result with its bars: the screen's page is never reloaded.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from . import cast, steps
from .steps import MeetingText, PollText

pytestmark = pytest.mark.e2e

LIFT = MeetingText(
    title="3幢加装电梯意向协商会",
    location="枫桥社区党群服务中心二楼会议室",
    description="商量3幢加装电梯的意向和费用分摊。",
    host="沈慧敏",
    recorder="魏国庆",
    in_days=0,
)
LIFT_ITEM = "3幢是否加装电梯"
LIFT_POLL = PollText(title="是否同意3幢申请加装电梯", kind="For / against / abstain")
SCREEN_LABEL = "会议室电视"
WITNESS = "韩秀兰（楼栋长）"
LIVE_MS = 10_000  # the screen asks every 3 s, and at once on a live event


def test_meeting_in_the_room(story):
    community = cast.ROOM
    people = community.members
    fang, han, wei, su = (people[part] for part in ("principal", "proxy", "voter", "assisted"))
    t = story.t

    # The secretary prepares the meeting at her desk: one item, four residents.
    secretary = story.desktop("secretary")
    secretary.log_in(community.secretary)
    steps.create_meeting(secretary, community, LIFT)
    steps.add_agenda_item(secretary, LIFT_ITEM, 30, "电梯的位置、费用分摊、低层住户的意见。")
    page = secretary.page
    meeting_id = re.search(r"/meetings/(\d+)", page.url).group(1)
    steps.meeting_tab(secretary, "Attendees")
    steps.invite(
        secretary,
        {person.name: "" for person in (fang, han, wei, su)},
        role_for_all="Resident representative",
    )
    steps.meeting_tab(secretary, "Meeting page")
    steps.move_meeting(secretary, "Schedule: announce and invite", "Scheduled")

    # On her phone, the room control: proxies allowed, and a link for the room's TV.
    remote = story.phone("secretary-phone")
    remote.log_in(community.secretary)
    remote.menu(t("Dashboard of %(community)s", community=community.name))
    remote.link(LIFT.title)
    remote.link(t("Room control: agenda, votes, speakers, big screen"))
    rpage = remote.page
    expect(rpage.get_by_role("heading", level=1)).to_have_text(t("Room control"))
    remote_path = urlparse(rpage.url).path
    assert remote_path == f"/meetings/{meeting_id}/room", remote_path
    rpage.get_by_label(t("Allow proxy voting (委托投票)")).check()
    remote.click(t("Save the settings"))
    remote.flash(t("Settings saved."))
    rpage.get_by_label(t("Where it is shown (optional)")).fill(SCREEN_LABEL)
    remote.click(t("Create a screen link"))
    address = rpage.get_by_label(t("Address of the big screen")).input_value()
    expect(rpage.locator(".remote-links")).to_contain_text(SCREEN_LABEL)
    remote.shot("screen-link")

    # The room's computer opens the link: no login.
    screen = story.big_screen("big-screen")
    screen.goto(urlparse(address).path)
    spage = screen.page
    expect(spage.locator(".screen-title")).to_have_text(LIFT.title)
    expect(spage.locator(".screen-poll")).to_contain_text(t("No vote at the moment."))
    expect(spage.locator(".screen-qr img")).to_be_visible()
    # a mark on the page: gone if anything reloads it
    spage.evaluate("() => { window.neverReloaded = true; }")
    screen.shot("before")

    # 方德明 cannot come: on his phone he names 韩秀兰; the secretary confirms.
    fang_phone = story.phone("principal")
    fang_phone.log_in(fang)
    steps.name_proxy(fang_phone, LIFT.title, han.name)
    steps.confirm_proxy(secretary, han.name, fang.name)
    secretary.shot("proxy-confirmed")

    # The residents with a phone log in before the meeting.
    han_phone = story.phone("proxy")
    han_phone.log_in(han)
    wei_phone = story.phone("voter")
    wei_phone.log_in(wei)

    # The meeting starts; three come, 方德明 is excused: the screen counts them.
    steps.meeting_tab(secretary, "Meeting page")
    steps.move_meeting(secretary, "Start the meeting", "In progress")
    steps.check_in(secretary, [han.name, wei.name, su.name], excused=(fang.name,))
    present = spage.locator(".screen-quorum .screen-turnout")
    expect(present).to_have_text("3 / 4", timeout=LIVE_MS)
    screen.shot("checked-in")

    # The secretary prepares the poll at her desk ...
    steps.meeting_tab(secretary, "Meeting page")
    steps.create_poll(secretary, LIFT_ITEM, LIFT_POLL)

    # ... and from her phone starts the item and opens the vote.
    remote.goto(remote_path)
    remote.click(t("Start the first item"))
    expect(rpage.locator(".remote-current")).to_contain_text(LIFT_ITEM)
    poll_box = rpage.locator(".remote-poll", has_text=LIFT_POLL.title)
    poll_box.get_by_role("button", name=t("Open the vote")).click()
    remote.flash(t("Voting is open."))
    expect(rpage.locator(".remote-turnout")).to_have_text(
        t("%(cast)d of %(eligible)d have voted", cast=0, eligible=4)
    )
    remote.shot("poll-open")

    # The screen shows the vote and its turnout, never the choices.
    turnout = spage.locator(".screen-poll .screen-turnout")
    expect(spage.locator(".screen-poll-title")).to_have_text(LIFT_POLL.title, timeout=LIVE_MS)
    expect(turnout).to_have_text("0 / 4", timeout=LIVE_MS)
    expect(spage.locator(".screen-item-title")).to_contain_text(LIFT_ITEM)
    screen.shot("poll-open")

    # The phones show the large vote card: on the home page, on the meeting page.
    for phone in (han_phone, fang_phone):
        phone.goto("/")
        card = phone.page.locator(".vote-now")
        expect(card).to_contain_text(LIFT_POLL.title)
        expect(card.get_by_role("link", name=t("Vote now"))).to_be_visible()
        phone.shot("home-vote-card")
    steps.open_meeting(wei_phone, LIFT.title)
    expect(wei_phone.page.locator(".vote-now")).to_contain_text(LIFT_POLL.title)
    wei_phone.shot("meeting-vote-card")

    # 韩秀兰 votes for herself, then for 方德明: a separate ballot and receipt.
    han_phone.page.locator(".vote-now").get_by_role("link", name=t("Vote now")).click()
    steps.cast_from_ballot(han_phone, "赞成")
    expect(turnout).to_have_text("1 / 4", timeout=LIVE_MS)
    screen.shot("turnout-1")
    han_phone.page.locator(".proxy-votes").get_by_role(
        "link", name=t("Vote for %(name)s", name=fang.name)
    ).click()
    steps.cast_from_ballot(han_phone, "赞成", principal=fang.name)
    expect(han_phone.page.locator(".receipt-box")).to_contain_text(
        t("Receipt of %(name)s's ballot", name=fang.name)
    )
    expect(turnout).to_have_text("2 / 4", timeout=LIVE_MS)

    # 魏国庆 votes against.
    wei_phone.page.locator(".vote-now").get_by_role("link", name=t("Vote now")).click()
    steps.cast_from_ballot(wei_phone, "反对")
    expect(turnout).to_have_text("3 / 4", timeout=LIVE_MS)
    screen.shot("turnout-3")

    # 苏桂英 has no smartphone: the secretary records her ballot with a witness.
    remote.goto(remote_path)
    remote.link(LIFT_POLL.title)
    expect(rpage.get_by_role("heading", level=1)).to_have_text(LIFT_POLL.title)
    steps.record_assisted_ballot(remote, su.name, WITNESS, "赞成")
    expect(turnout).to_have_text("4 / 4", timeout=LIVE_MS)
    screen.shot("turnout-4")
    remote.link(t("Back to the poll"))
    expect(rpage.locator(".turnout-by-proxy")).to_contain_text(
        t.n("of which %(num)d by proxy", "of which %(num)d by proxy", 1)
    )
    expect(rpage.locator(".turnout-by-proxy")).to_contain_text(
        t.n("%(num)d assisted", "%(num)d assisted", 1)
    )
    remote.shot("poll-turnout")

    # The secretary closes the vote from her phone; the screen shows the result.
    remote.goto(remote_path)
    rpage.once("dialog", lambda dialog: dialog.accept())  # "Close the vote now? …"
    rpage.locator(".remote-poll", has_text=LIFT_POLL.title).get_by_role(
        "button", name=t("Close the vote")
    ).click()
    remote.flash(t("The poll is closed and counted."))
    remote.shot("poll-closed")
    results = spage.locator(".screen-results li")
    expect(results).to_have_count(3, timeout=LIVE_MS)
    expect(spage.locator(".screen-outcome")).to_have_text(t("Adopted"))
    winner = spage.locator(".screen-results li.is-winner")
    expect(winner.locator(".screen-option")).to_have_text(steps.shown(t, "赞成"))
    expect(winner.locator(".screen-votes")).to_contain_text("3")
    expect(winner.locator(".screen-bar")).to_be_visible()
    expect(spage.locator(".screen-poll")).to_contain_text(
        t("%(cast)d of %(eligible)d voted", cast=4, eligible=4)
    )
    assert spage.evaluate("() => window.neverReloaded === true"), "the screen was reloaded"
    screen.shot("result")
