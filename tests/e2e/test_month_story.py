"""Story 7: the street office's month (issue 17), walked in Chromium.

A resident of 月湖社区 asks for a charging shed for electric bicycles; the
secretary holds a short meeting the same day, which agrees by a show of
hands. She writes the minutes: the draft marks what is still to write
(【待填写：讨论情况】) and the editor has its toolbar; publishing with the
mark left is refused until she writes the discussion, then it publishes
without a word. She puts the resolution on public notice (公示) for 5 days;
the resident objects once, with a reason, on her phone, and is not offered
a second objection; the secretary answers (not upheld) and the resident
reads the answer. The secretary then reads the community's statistics for
the month, downloads them as Excel and opens them on her phone too; anyone
finds the meeting with the public search and a two-character word (充电).

The community is made for this story alone (``month_community``), the way
``conftest`` makes those of ``cast.py``, so that its statistics count only
what the story did.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import openpyxl
import pytest
from playwright.sync_api import expect

from auth import services as auth_services
from meetings import create_app
from meetings.extensions import db as _db

from . import cast, steps
from .cast import Community, Member
from .conftest import ADMIN_PASSWORD, SECRET_KEY, _organise
from .steps import SHANGHAI, MeetingText, PollText, RequestText, ResolutionText

pytestmark = pytest.mark.e2e

MONTH = Community(
    "月湖社区",
    "月湖街道",
    Member("yuehu-sec", "钟雅琴"),
    {
        "resident": Member("yuehu-lu", "陆婉清"),
        "rep1": Member("yuehu-qin", "秦保国"),
        "rep2": Member("yuehu-ren", "任晓梅"),
    },
)

SHED = RequestText(
    title="电动车集中充电棚",
    category="Public facilities",
    description="楼道里有人给电动自行车充电，电线从窗户拉下来，很不安全。希望小区建集中充电棚。",
    location="月湖花园南门",
)
SHED_MEETING = MeetingText(
    title="电动自行车集中充电棚选址协商会",
    location="月湖社区议事厅",
    description="商量充电棚建在哪里、谁来管理。",
    host="钟雅琴",
    recorder="秦保国",
    in_days=0,
    topics=[SHED.title],
)
SHED_ITEM = "充电棚选址"
SHED_POLL = PollText(
    title="是否在南门绿化带旁建集中充电棚", kind="For / against / abstain", in_room=True
)
SHED_RESOLUTION = ResolutionText(
    agenda_item=f"1. {SHED_ITEM}",
    poll=SHED_POLL.title,
    text="在南门绿化带旁建集中充电棚，设智能充电桩二十个，由物业管理。",
)
DISCUSSION = "居民担心充电棚离住宅太近；物业说明将安装烟感报警和自动断电装置。"
REASON = "充电棚离3幢的窗户只有五米，夏天开窗有噪音，也担心起火。"
ANSWER = "已请设计单位核实：充电棚距3幢十二米，符合消防间距；将加装隔音挡板。不予采纳。"
NOTICE_DAYS = 5


@pytest.fixture
def month_community(site) -> Community:
    """月湖社区, its secretary and residents, made as ``conftest`` makes the
    cast's communities (the administrator's account services), once per run."""
    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": f"sqlite:///{site.log.parent / 'e2e.db'}",
            "REDIS_URL": None,
            "MAIL_SERVER": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    app.instance_path = str(site.log.parent)
    with app.test_request_context():
        if auth_services.get_user_by_username(MONTH.secretary.username) is None:
            admin, _created = auth_services.set_admin_password("admin", ADMIN_PASSWORD)
            made = auth_services.create_community(admin, MONTH.name, MONTH.street, cast.DISTRICT)
            auth_services.create_account(
                admin,
                auth_services.NewAccount(
                    MONTH.secretary.username, MONTH.secretary.name, cast.PASSWORD
                ),
                made,
                is_secretary=True,
            )
            people = {
                part: auth_services.create_account(
                    admin,
                    auth_services.NewAccount(member.username, member.name, cast.PASSWORD),
                    made,
                )
                for part, member in MONTH.members.items()
            }
            _organise(admin, made, MONTH, people)
            _db.session.commit()
        _db.engine.dispose()
    return MONTH


def figure(actor, label: str) -> str:
    """A key figure of the statistics page, as shown beside its label."""
    pair = actor.page.locator(".key-figures .figures > div").filter(
        has=actor.page.locator("dt", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    return " ".join(pair.locator("dd").inner_text().split())


def test_the_month_of_a_street_office(story, month_community, tmp_path):
    community = month_community
    people = community.members
    resident_member, rep1, rep2 = (people[part] for part in ("resident", "rep1", "rep2"))
    t = story.t

    # --- the world: a request, a meeting the same day, a show of hands ---------------
    resident = story.phone("resident")
    resident.log_in(resident_member)
    steps.raise_request(resident, community, SHED)

    secretary = story.desktop("secretary")
    secretary.log_in(community.secretary)
    page = secretary.page
    steps.open_request_from_dashboard(secretary, community, SHED.title)
    steps.reply_to_request(
        secretary,
        resident_member.name,
        "Accept it as a topic for a consultation meeting",
        "已列入议题，今晚开会商量充电棚选址。",
    )
    requested_on = datetime.now(SHANGHAI).date()
    # a meeting "today" starts in half an hour (steps.meeting_times)
    held_on = (datetime.now(SHANGHAI) + timedelta(minutes=30)).date()
    steps.create_meeting(secretary, community, SHED_MEETING)
    steps.add_agenda_item(secretary, SHED_ITEM, 20, request=SHED.title)
    meeting_id = re.search(r"/meetings/(\d+)", page.url).group(1)
    steps.meeting_tab(secretary, "Attendees")
    steps.invite(
        secretary,
        {rep1.name: "", rep2.name: ""},
        role_for_all="Resident representative",
    )
    steps.meeting_tab(secretary, "Meeting page")
    steps.move_meeting(secretary, "Schedule: announce and invite", "Scheduled")
    steps.move_meeting(secretary, "Start the meeting", "In progress")
    steps.check_in(secretary, [rep1.name, rep2.name])
    steps.meeting_tab(secretary, "Meeting page")
    steps.create_poll(secretary, SHED_ITEM, SHED_POLL)
    secretary.click(t("Open the poll"))
    secretary.flash(t("The poll is open: count the hands, then enter the counts below."))
    steps.enter_show_of_hands(secretary, 2, {"赞成": 2, "反对": 0, "弃权": 0})
    expect(page.locator(".outcome-word")).to_have_text(t("Adopted (通过)"))
    secretary.link(SHED_MEETING.title)
    steps.move_meeting(secretary, "Close the meeting", "Closed")
    steps.record_resolution(secretary, SHED_RESOLUTION)

    # --- 1. the minutes: the draft marks what is left; publishing stops there --------
    steps.meeting_tab(secretary, "Minutes")
    secretary.link(t("Write the minutes"))
    body = page.get_by_label(t("Minutes (Markdown)"))
    placeholder = f"【待填写：{t('Discussion')}】"  # 【待填写：讨论情况】
    assert placeholder in body.input_value()
    expect(page.locator(".placeholder-notice")).to_be_visible()
    expect(page.locator(".placeholder-notice")).to_contain_text(t("Discussion"))
    toolbar = page.get_by_role("toolbar", name=t("Formatting"))
    expect(toolbar).to_be_visible()
    for tool in ("Heading", "• List", "1. List", "Bold", "Table"):
        # each button shows a word; its accessible name says what it writes
        expect(toolbar.get_by_text(t(tool), exact=True)).to_be_visible()
    secretary.shot("minutes-draft")
    secretary.click(t("Save as a new version"))
    secretary.flash(t("Saved as version %(number)d.", number=1))
    secretary.link(t("Publish…"))
    left = page.locator(".publish-panel .placeholder-notice")
    expect(left).to_contain_text(t("Discussion"))
    anyway = page.get_by_label(
        t("Publish anyway, with the places above still to write (the history records it)")
    )
    expect(anyway).to_be_visible()
    expect(anyway).not_to_be_checked()
    page.get_by_label(t("I have read this version: publish it to the residents.")).check()
    secretary.click(t("Publish the minutes"))
    # refused: still the publish page, with why, and the meeting is not "minutes published"
    # (the text to publish below has an h1 of its own: the page's is the first)
    expect(page.get_by_role("heading", level=1).first).to_contain_text(t("Publish the minutes"))
    refusal = t.n(
        "%(num)d place in these minutes is still to write: %(places)s. Write it, "
        "or confirm that the minutes are published anyway.",
        "%(num)d places in these minutes are still to write: %(places)s. Write "
        "them, or confirm that the minutes are published anyway.",
        1,
        places="\0",
    )
    said, asked_to = refusal.split("\0")  # 会议纪要中还有1处待填写：… 请先填写，或确认仍然发布。
    why = page.locator(".publish-panel [id$='anyway-error']")
    expect(why).to_contain_text(said)
    expect(why).to_contain_text(asked_to)
    expect(why).to_contain_text(t("Discussion"))
    expect(left).to_be_visible()
    secretary.shot("minutes-publish-refused")
    left.get_by_role("link", name=t("Write them now")).click()
    draft = body.input_value()
    assert placeholder in draft
    body.fill(draft.replace(placeholder, DISCUSSION))
    secretary.click(t("Preview"))
    expect(page.locator("#minutes-preview")).to_contain_text(DISCUSSION)
    secretary.click(t("Save as a new version"))
    secretary.flash(t("Saved as version %(number)d.", number=2))
    secretary.link(t("Publish…"))
    expect(page.locator(".placeholder-notice")).to_have_count(0)
    expect(anyway).to_have_count(0)
    page.get_by_label(t("I have read this version: publish it to the residents.")).check()
    secretary.shot("minutes-publish-clean")
    secretary.click(t("Publish the minutes"))
    secretary.flash(t("The minutes are published; the residents who asked have been told."))
    document = page.locator(".minutes-doc")
    expect(document).to_contain_text(DISCUSSION)
    expect(document).to_contain_text(SHED_RESOLUTION.text)
    expect(document).not_to_contain_text("待填写")
    secretary.shot("minutes-published")

    # --- 2. 公示 for 5 days --------------------------------------------------------------
    secretary.goto(f"/meetings/{meeting_id}")
    resolutions = page.locator("#resolutions")
    expect(resolutions).to_contain_text(SHED_RESOLUTION.text)
    resolutions.get_by_role("link", name=t("Put on public notice (公示)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Public notice of a resolution"))
    expect(page.locator(".notice-state")).to_have_text(t("Recorded"))
    page.get_by_label(t("Notice period (days)")).fill(str(NOTICE_DAYS))
    secretary.shot("notice-form")
    asked = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    secretary.click(t("Start the public notice"))
    secretary.flash(t("The resolution is in public notice."))
    assert asked == [t("Publish this resolution for public notice now? This cannot be undone.")]
    expect(page.locator(".notice-state")).to_have_text(t("In public notice"))
    ends = datetime.now(SHANGHAI) + timedelta(days=NOTICE_DAYS)
    ends_day = f"{ends.year}/{ends.month}/{ends.day}"  # zh_CN short: 2026/12/11 23:41
    expect(page.locator(".notice-facts")).to_contain_text(ends_day)
    secretary.shot("notice-started")

    # --- 3. the resident objects once, on her phone -----------------------------------
    # She asked for the shed, so she is told; the notice's page, then the
    # community's list of notices and back. (The portal's own page has no link
    # to the notices: only its sub-pages' tabs do.)
    rpage = resident.page
    resident.menu(t("Notifications"))
    told = rpage.locator(".notification").first
    expect(told).to_contain_text(t("In public notice: %(text)s", text=SHED_RESOLUTION.text))
    resident.shot("notice-told")
    told.get_by_role("button", name=t("Open")).click()
    expect(rpage.get_by_role("heading", level=1)).to_have_text(t("Public notice of a resolution"))
    resident.link(t("Public notices of %(community)s", community=community.name))
    notice_item = rpage.locator(".notice-list .resolution", has_text=SHED_RESOLUTION.text)
    expect(notice_item.locator(".notice-status")).to_have_text(t("In public notice"))
    expect(notice_item).to_contain_text(ends_day)
    resident.shot("notices")
    notice_item.get_by_role("link", name=SHED_RESOLUTION.text).click()
    expect(rpage.locator(".notice-resolution")).to_contain_text(SHED_RESOLUTION.text)
    expect(rpage.locator(".notice-state")).to_have_text(t("In public notice"))
    expect(rpage.locator(".notice-facts")).to_contain_text(ends_day)
    rpage.get_by_label(t("Your reason")).fill(REASON)
    resident.shot("objection-form")
    rpage.once("dialog", lambda dialog: dialog.accept())  # "Send your objection? …"
    resident.click(t("Send the objection"))
    resident.flash(t("Your objection is recorded. The secretary will answer it."))
    own = rpage.locator("#objection")
    expect(own.get_by_role("heading", name=t("Your objection"))).to_be_visible()
    expect(own).to_contain_text(REASON)
    expect(own).to_contain_text(t("Not answered yet. You will be told when it is."))
    rpage.reload()
    expect(rpage.get_by_role("button", name=t("Send the objection"))).to_have_count(0)
    expect(rpage.get_by_label(t("Your reason"))).to_have_count(0)
    resident.shot("objected")

    # --- 4. the secretary answers (not upheld); the resident reads it -----------------
    page.reload()
    secretary.link(t("Objections and answers (%(n)d)", n=1))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Objections"))
    objection = page.locator(".objection", has_text=REASON)
    expect(objection).to_contain_text(resident_member.name)
    expect(objection.locator(".badge")).to_have_text(t("Waiting for an answer"))
    objection.get_by_label(t("How it was handled")).fill(ANSWER)
    uphold = objection.get_by_label(t("Uphold the objection (withdraws the resolution)"))
    expect(uphold).not_to_be_checked()
    secretary.shot("answer-form")
    page.once("dialog", lambda dialog: dialog.accept())  # "Record this answer? …"
    objection.get_by_role("button", name=t("Record the answer")).click()
    secretary.flash(t("The answer is recorded and the resident is told."))
    objection = page.locator(".objection", has_text=REASON)
    expect(objection.locator(".badge")).to_have_text(t("Answered"))
    expect(objection).to_contain_text(ANSWER)
    # the period runs on: the resolution is still in notice
    expect(page.locator(".notice-state")).to_have_text(t("In public notice"))
    secretary.shot("answered")

    resident.menu(t("Notifications"))
    newest = rpage.locator(".notification").first
    expect(newest).to_contain_text(t("Your objection was answered"))
    expect(newest).to_contain_text(t("Answer: %(answer)s", answer=ANSWER))
    resident.shot("notification")
    newest.get_by_role("button", name=t("Open")).click()
    own = rpage.locator("#objection")
    expect(own).to_contain_text(t("The secretary's answer"))
    expect(own).to_contain_text(ANSWER)
    resident.shot("answer-read")

    # --- 5. the month's statistics, as Excel, and on a phone --------------------------
    secretary.menu(t("Dashboard of %(community)s", community=community.name))
    page.get_by_role("main").get_by_role("link", name=t("Statistics"), exact=True).click()
    secretary.link(t("This month"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(t("Statistics"))
    expect(heading).to_contain_text(community.name)
    first = requested_on.replace(day=1)
    expect(page.locator(".statistics-period")).to_contain_text(first.isoformat())
    if held_on.month != requested_on.month:
        # run in the last half hour of a month: the meeting starts in the next one
        page.get_by_label(t("To (included)")).fill(held_on.isoformat())
        secretary.click(t("Show"))
        expect(page.locator(".statistics-period")).to_contain_text(held_on.isoformat())
    assert figure(secretary, t("Requests received")) == "1"
    assert figure(secretary, t("Meetings held")) == "1"
    meetings_table = page.locator("section#meetings table")
    expect(meetings_table.locator("tr", has_text=t("Held")).first.locator("td")).to_have_text("1")
    attendance = page.locator("section#attendance table")
    expect(attendance.locator("tr", has_text=t("Everyone")).locator("td")).to_have_text(
        ["2", "2", "0", "100%"]
    )
    expect(page.locator(".statistics-table svg").first).to_be_visible()
    secretary.shot("statistics")
    with page.expect_download() as download_info:
        secretary.link(t("All tables as Excel (.xlsx)"))
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    assert community.name in download.suggested_filename
    saved = tmp_path / "statistics.xlsx"
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    sheets = {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }
    held = [
        title
        for title, rows in sheets.items()
        if any(community.name in row for row in rows)
        and any(row[:2] == [t("Held"), 1] for row in rows)
    ]
    assert held, f"no sheet names {community.name} with 1 meeting held: {sheets}"
    everyone = [
        row[:5] for rows in sheets.values() for row in rows if row and row[0] == t("Everyone")
    ]
    assert [t("Everyone"), 2, 2, 0, "100%"] in everyone, everyone

    pocket = story.phone("secretary-phone")
    pocket.log_in(community.secretary)
    statistics_path = page.url.removeprefix(story.base_url)
    pocket.goto(statistics_path)
    expect(pocket.page.get_by_role("heading", level=1)).to_contain_text(community.name)
    width = pocket.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the statistics page is {width} px wide on a 360 px phone"
    pocket.shot("statistics")

    # --- 6. anyone finds the meeting with a two-character word ------------------------
    visitor = story.phone("visitor")
    visitor.goto("/search")
    vpage = visitor.page
    vpage.get_by_label(t("Words to look for")).fill("充电")
    vpage.locator("form.search-page-form").get_by_role("button", name=t("Search")).click()
    hit = vpage.locator(".search-hit-meeting", has_text=SHED_MEETING.title)
    expect(hit).to_have_count(1)
    expect(hit.locator("mark").first).to_have_text("充电")
    visitor.shot("search")
    hit.get_by_role("link", name=SHED_MEETING.title).click()
    expect(vpage.get_by_role("heading", level=1)).to_have_text(SHED_MEETING.title)
    visitor.shot("meeting")
