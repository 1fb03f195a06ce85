"""The four stories of DESIGN.md, walked in Chromium by the people in them.

Story 1 is played twice: in Chinese (the default) and again in English,
every person choosing English with the language switch of the page header.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from . import cast, steps
from .cast import Member
from .steps import MeetingText, PollText, RequestText, ResolutionText

pytestmark = pytest.mark.e2e


# --- story 1: the worn activity room floor (活动室地板磨损) -------------------------

FLOOR = RequestText(
    title="活动室地板磨损",
    category="Public facilities",
    description="182幢一层的活动室用了很多年，乒乓球室、舞蹈室的地板磨损严重，"
    "有的地方鼓包，容易绊脚打滑，老人来活动很不安全。",
    location="优山美地花园182幢一层活动室",
    contact="工作日晚上7点后",
)
FLOOR_REPLY = "已列入议题。社区将召开“有事好商量”协商议事会，一起商量活动室改造方案。"
RENOVATION = MeetingText(
    title="活动室改造出新协商议事会",
    location="182幢一层社区活动室",
    description="商量活动室地板、墙面和卫生间的改造方案。",
    host="林书文",
    recorder="陈美玲",
    topics=["活动室地板磨损"],
)
ROOM_ITEM, MONEY_ITEM = "活动室改造方案", "资金与施工安排"
RENOVATE, FLOOR_ONLY = "整体改造出新", "只更换防滑地板"
ROOM_POLL = PollText(
    title="是否对活动室整体改造出新", kind="For / against / abstain", proposals=[RENOVATE]
)
ROOM_RESOLUTION = ResolutionText(
    agenda_item=f"1. {ROOM_ITEM}",
    poll=ROOM_POLL.title,
    text="对182幢一层活动室进行改造出新：更换防滑地板，翻新墙面，改造卫生间。",
    project="活动室改造出新",
    unit="物业",
    budget="86000",
)


@pytest.mark.parametrize(
    ("lang", "community"),
    [("zh_CN", cast.ACTIVITY_ROOM), ("en", cast.ACTIVITY_ROOM_EN)],
    ids=["zh", "en"],
)
def test_activity_room_floor(story, lang, community):
    story.speak(lang)
    t = story.t
    people = community.members
    wang = Member(f"{community.secretary.username.split('-')[0]}-wang", "王桂兰")
    yes = steps.shown(t, "赞成")

    # A resident signs up on her phone and reports the worn floor.
    resident = story.phone("resident")
    steps.sign_up(resident, community, wang)
    steps.raise_request(resident, community, FLOOR)

    # The secretary accepts it as a topic and prepares the meeting.
    secretary = story.desktop("secretary")
    secretary.log_in(community.secretary)
    steps.open_request_from_dashboard(secretary, community, FLOOR.title)
    steps.reply_to_request(
        secretary, wang.name, "Accept it as a topic for a consultation meeting", FLOOR_REPLY
    )
    steps.create_meeting(secretary, community, RENOVATION)
    steps.add_agenda_item(
        secretary, ROOM_ITEM, 40, "地板、墙面、卫生间怎么改。", request=FLOOR.title
    )
    steps.add_agenda_item(secretary, MONEY_ITEM, 20)
    page = secretary.page
    expect(page.locator(".agenda-total")).to_have_text(t("Total planned time: %(n)d minutes", n=60))
    secretary.shot("agenda")

    # Invitations by role: a role on each line, then one role for two residents.
    steps.meeting_tab(secretary, "Attendees")
    steps.invite(
        secretary,
        {
            people["cppcc"].name: "CPPCC member",
            people["owners"].name: "Owners'-committee representative",
            people["party"].name: "Party-member representative",
            people["property"].name: "Observer",
        },
    )
    steps.invite(
        secretary,
        {people["rep1"].name: "", people["rep2"].name: ""},
        role_for_all="Resident representative",
    )
    expect(page.get_by_role("heading", name=t("Invited (%(n)d)", n=6))).to_be_visible()
    expect(page.locator("main")).to_contain_text(t("%(voters)d of them may vote.", voters=5))
    secretary.shot("invited")

    steps.meeting_tab(secretary, "Meeting page")
    steps.move_meeting(secretary, "Schedule: announce and invite", "Scheduled")
    secretary.shot("scheduled")

    # The CPPCC member says she will come.
    zhang = story.phone("cppcc-member")
    zhang.log_in(people["cppcc"])
    steps.open_meeting(zhang, RENOVATION.title)
    expect(zhang.page.locator(".my-invitation")).to_contain_text(t("CPPCC member"))
    zhang.click(t("I will come"))
    zhang.flash(t("Thank you: you are coming to “%(title)s”.", title=RENOVATION.title))
    zhang.shot("invitation")

    # The meeting starts; the secretary checks people in at the door.
    steps.move_meeting(secretary, "Start the meeting", "In progress")
    present = [people[part].name for part in ("cppcc", "owners", "party", "rep1", "property")]
    steps.check_in(secretary, present, excused=(people["rep2"].name,))
    expect(page.locator(".quorum-count")).to_have_text("4 / 5")

    # Two attendees table proposals from their phones.
    zhang.page.reload()
    steps.table_proposal(zhang, ROOM_ITEM, RENOVATE, "更换防滑地板，翻新墙面，改造卫生间。")
    liu = story.phone("owners-rep")
    liu.log_in(people["owners"])
    steps.open_meeting(liu, RENOVATION.title)
    steps.table_proposal(liu, ROOM_ITEM, FLOOR_ONLY, "先只换地板，其余明年再说。")

    # The secretary puts "renovate the room" to the vote and opens the poll.
    steps.meeting_tab(secretary, "Meeting page")
    proposals = steps.agenda_item(secretary, ROOM_ITEM).locator(".proposal-list")
    expect(proposals).to_contain_text(RENOVATE)
    expect(proposals).to_contain_text(FLOOR_ONLY)
    secretary.shot("proposals")
    steps.create_poll(secretary, ROOM_ITEM, ROOM_POLL)
    steps.open_poll(secretary, voters=5)

    # Four of the five voters vote on their phones; one changes his mind first.
    steps.vote(zhang, RENOVATION.title, ROOM_POLL.title, "赞成")
    steps.vote(liu, RENOVATION.title, ROOM_POLL.title, "赞成")
    steps.log_in_and_vote(
        story, "party-rep", people["party"], RENOVATION.title, ROOM_POLL.title, "赞成"
    )
    steps.log_in_and_vote(
        story,
        "resident-rep",
        people["rep1"],
        RENOVATION.title,
        ROOM_POLL.title,
        "弃权",
        first_choice="反对",
    )

    # The secretary closes the poll: adopted, 3 for and 1 abstention of 5.
    steps.close_poll(secretary, ROOM_POLL.title, cast=4, eligible=5)
    expected_numbers = {t("Eligible voters"): "5", t("Ballots cast"): "4", t("Quorum"): t("none")}
    expected_rows = {
        "赞成": steps.votes(t, 3, "75%"),
        "反对": steps.votes(t, 0, "0%"),
        "弃权": steps.votes(t, 1, "25%"),
    }
    expect(page.locator(".outcome-word")).to_have_text(t("Adopted (通过)"))
    assert steps.poll_numbers(secretary) == expected_numbers
    assert steps.result_rows(secretary) == expected_rows
    named = page.locator("section", has=page.get_by_role("heading", name=t("Who voted what")))
    expect(named.locator("tbody tr")).to_have_count(4)
    expect(named.locator("tr", has_text=people["rep1"].name)).to_contain_text("弃权")
    secretary.shot("poll-result")

    # The CPPCC member reads the result on her phone.
    steps.open_meeting(zhang, RENOVATION.title)
    steps.agenda_item(zhang, ROOM_ITEM).get_by_role("link", name=t("See the result")).click()
    expect(zhang.page.locator(".outcome-word")).to_have_text(t("Adopted (通过)"))
    assert steps.poll_numbers(zhang) == expected_numbers
    assert steps.result_rows(zhang) == expected_rows
    expect(zhang.page.locator(".result-won")).to_contain_text(yes)
    expect(zhang.page.locator(".receipt-code")).to_be_visible()  # hers, from this phone
    zhang.shot("result")

    # The meeting closes with a resolution and a project for the property company.
    secretary.link(RENOVATION.title)
    steps.move_meeting(secretary, "Close the meeting", "Closed")
    steps.record_resolution(secretary, ROOM_RESOLUTION)
    secretary.shot("resolution")
    steps.publish_minutes(
        secretary,
        RENOVATION.title,
        "大家一致认为地板必须尽快更换，施工期间活动暂时移到社区会议室。",
        [ROOM_POLL.title, ROOM_RESOLUTION.text, ROOM_RESOLUTION.project, people["cppcc"].name],
    )

    # The resident reads the answer: her notification opens the minutes; then her
    # request, and the public portal.
    resident.menu(t("Notifications"))
    newest = resident.page.locator(".notification").first
    expect(newest).to_contain_text(RENOVATION.title)
    expect(newest).to_contain_text(ROOM_RESOLUTION.text)
    resident.shot("notifications")
    newest.get_by_role("button", name=t("Open")).click()
    minutes = resident.page.locator(".minutes-doc")
    expect(minutes).to_contain_text(ROOM_RESOLUTION.text)
    expect(minutes).to_contain_text(ROOM_POLL.title)
    resident.shot("minutes")
    steps.read_my_request(
        resident, FLOOR.title, "Resolved", ROOM_RESOLUTION.text, first_reply=FLOOR_REPLY
    )
    expect(resident.page.locator(".request-outcome")).to_contain_text(ROOM_RESOLUTION.project)
    steps.read_portal(resident, community, FLOOR.title, ROOM_RESOLUTION.text)
    card = resident.page.locator(".request-card", has_text=FLOOR.title)
    expect(
        card.get_by_role("link", name=t("Minutes: %(title)s", title=RENOVATION.title))
    ).to_be_visible()
    expect(
        card.get_by_role("link", name=t("Project: %(title)s", title=ROOM_RESOLUTION.project))
    ).to_be_visible()


# --- story 2: smart loudspeakers (智慧音箱安装项目) --------------------------------

SPEAKERS = RequestText(
    title="智慧音箱安装",
    category="Public facilities",
    description="街道提议在小区安装智慧音箱，用于惠民政策宣传和防灾减灾、消防安全提醒。"
    "居民担心音箱装在卧室窗下影响休息，希望先商量安装位置、音量和播放时段。",
    location="竹韵社区各小区公共区域",
)
SPEAKERS_MEETING = MeetingText(
    title="智慧音箱安装协商议事会",
    location="竹韵社区党群服务中心二楼会议室",
    description="商量智慧音箱的安装位置、音量控制和播放时段。",
    host="陈立群",
    recorder="袁翠花",
    in_days=2,
    topics=[SPEAKERS.title],
)
SPEAKERS_ITEM = "智慧音箱安装位置与播放规则"
INSTALL = "在小区公共区域安装智慧音箱"
SPEAKERS_POLL = PollText(
    title="是否同意安装智慧音箱", kind="For / against / abstain", proposals=[INSTALL], secret=True
)
SPEAKERS_RESOLUTION = ResolutionText(
    agenda_item=f"1. {SPEAKERS_ITEM}",
    poll=SPEAKERS_POLL.title,
    text="同意在小区公共区域安装智慧音箱。",
    conditions="先做现场勘查，不装在卧室窗下；音量由物业蒋丽君专人控制；播放时段8:00–20:00。",
    project="智慧音箱安装项目",
    unit="街道",
    due_in_days=60,
)


def test_smart_loudspeakers(story):
    community = cast.LOUDSPEAKERS
    people = community.members
    t = story.t

    # The street's proposal reaches the secretary through a resident: she enters it for him.
    secretary = story.desktop("secretary")
    secretary.log_in(community.secretary)
    steps.raise_on_behalf(secretary, community, people["requester"], SPEAKERS)
    steps.reply_to_request(
        secretary,
        people["requester"].name,
        "Accept it as a topic for a consultation meeting",
        "已列入议题，将请街道、社区两委、物业和居民代表一起协商。",
    )
    steps.create_meeting(secretary, community, SPEAKERS_MEETING)
    steps.add_agenda_item(secretary, SPEAKERS_ITEM, 45, request=SPEAKERS.title)
    steps.meeting_tab(secretary, "Attendees")
    steps.invite(
        secretary,
        {
            people["street"].name: "Street office official",
            people["committee"].name: "Community committee member",
            people["property"].name: "Property-management representative",
            people["rep1"].name: "Resident representative",
            people["rep2"].name: "Resident representative",
        },
    )
    secretary.shot("invited")
    steps.meeting_tab(secretary, "Meeting page")
    steps.move_meeting(secretary, "Schedule: announce and invite", "Scheduled")
    steps.move_meeting(secretary, "Start the meeting", "In progress")

    # The street official tables the proposal; a resident representative objects to
    # loudspeakers under bedroom windows.
    street = story.phone("street-official")
    street.log_in(people["street"])
    steps.open_meeting(street, SPEAKERS_MEETING.title)
    steps.table_proposal(street, SPEAKERS_ITEM, INSTALL, "用于政策宣传和消防安全提醒。")
    cai = story.phone("resident-rep")
    cai.log_in(people["rep1"])
    steps.open_meeting(cai, SPEAKERS_MEETING.title)
    steps.comment(cai, SPEAKERS_ITEM, INSTALL, "音箱不要装在卧室窗下，晚上不要播放。")

    # A secret ballot: the secretary sees the count, never who chose what.
    secretary.page.reload()
    steps.create_poll(secretary, SPEAKERS_ITEM, SPEAKERS_POLL)
    steps.open_poll(secretary, voters=5)
    steps.vote(street, SPEAKERS_MEETING.title, SPEAKERS_POLL.title, "赞成")
    steps.vote(cai, SPEAKERS_MEETING.title, SPEAKERS_POLL.title, "赞成")
    steps.log_in_and_vote(
        story, "resident-rep-2", people["rep2"], SPEAKERS_MEETING.title, SPEAKERS_POLL.title, "反对"
    )
    steps.close_poll(secretary, SPEAKERS_POLL.title, cast=3, eligible=5)
    page = secretary.page
    expect(page.locator(".outcome-word")).to_have_text(t("Adopted (通过)"))
    assert steps.result_rows(secretary) == {
        "赞成": steps.votes(t, 2, "66.7%"),
        "反对": steps.votes(t, 1, "33.3%"),
        "弃权": steps.votes(t, 0, "0%"),
    }
    expect(page.get_by_role("heading", name=t("Who voted what"))).to_have_count(0)
    secretary.shot("poll-result")

    # The resolution carries the conditions into the project.
    secretary.link(SPEAKERS_MEETING.title)
    steps.move_meeting(secretary, "Close the meeting", "Closed")
    steps.record_resolution(secretary, SPEAKERS_RESOLUTION)
    expect(page.locator("#resolutions")).to_contain_text(SPEAKERS_RESOLUTION.conditions)
    steps.publish_minutes(
        secretary,
        SPEAKERS_MEETING.title,
        "居民代表提出音箱不能装在卧室窗下，街道代表同意先做现场勘查。",
        [SPEAKERS_RESOLUTION.conditions, SPEAKERS_RESOLUTION.project],
    )

    # The resident for whom it was raised reads the answer, then the project's conditions.
    pan = story.phone("requester")
    pan.log_in(people["requester"])
    steps.read_my_request(pan, SPEAKERS.title, "Resolved", SPEAKERS_RESOLUTION.text)
    pan.link(SPEAKERS_RESOLUTION.project)
    expect(pan.page.locator(".project-conditions")).to_contain_text(SPEAKERS_RESOLUTION.conditions)
    expect(pan.page.locator(".project-facts")).to_contain_text(SPEAKERS_RESOLUTION.unit)
    pan.shot("project")


# --- story 3: adverts in the lift (电梯轿厢广告), answered the same day -------------

ADVERTS = RequestText(
    title="电梯轿厢广告",
    category="Property services",
    description="电梯轿厢里贴满了小广告，成了“大花脸”，既不美观，也挡住了安全提示。",
    location="星怡花园各幢电梯轿厢",
)
ADVERTS_MEETING = MeetingText(
    title="电梯广告整治协商会",
    location="星怡花园物业服务中心",
    description="网格长和物业现场查看后，当天商量怎么清理。",
    host="周晓岚",
    recorder="罗卫东",
    in_days=0,
    topics=[ADVERTS.title],
)
ADVERTS_ITEM = "电梯小广告清理与公告栏设置"
ADVERTS_POLL = PollText(
    title="是否由物业清理小广告并设统一公告栏",
    kind="For / against / abstain",
    in_room=True,
)
ADVERTS_RESOLUTION = ResolutionText(
    agenda_item=f"1. {ADVERTS_ITEM}",
    poll=ADVERTS_POLL.title,
    text="小广告由物业全部清理，电梯内设统一公告栏，今后张贴须先到物业登记。",
    project="电梯广告清理与公告栏设置",
    unit="物业",
    due_in_days=7,
)


def test_lift_adverts_answered_the_same_day(story):
    community = cast.ELEVATOR
    people = community.members
    t = story.t

    he = story.phone("resident")
    he.log_in(people["requester"])
    steps.raise_request(he, community, ADVERTS)

    # A short meeting the same day; the vote is a show of hands in the room.
    secretary = story.desktop("secretary")
    secretary.log_in(community.secretary)
    steps.open_request_from_dashboard(secretary, community, ADVERTS.title)
    steps.reply_to_request(
        secretary,
        people["requester"].name,
        "Accept it as a topic for a consultation meeting",
        "网格长已到现场查看，今天下午就开个短会商量。",
    )
    steps.create_meeting(secretary, community, ADVERTS_MEETING)
    steps.add_agenda_item(secretary, ADVERTS_ITEM, 15, request=ADVERTS.title)
    steps.meeting_tab(secretary, "Attendees")
    steps.invite(
        secretary,
        {
            people["grid"].name: "Grid leader",
            people["property"].name: "Property-management representative",
            people["requester"].name: "Resident representative",
            people["rep1"].name: "Resident representative",
            people["rep2"].name: "Resident representative",
        },
    )
    steps.meeting_tab(secretary, "Meeting page")
    steps.move_meeting(secretary, "Schedule: announce and invite", "Scheduled")
    steps.move_meeting(secretary, "Start the meeting", "In progress")
    steps.create_poll(secretary, ADVERTS_ITEM, ADVERTS_POLL)
    secretary.click(t("Open the poll"))
    secretary.flash(t("The poll is open: count the hands, then enter the counts below."))
    steps.enter_show_of_hands(secretary, 5, {"赞成": 4, "反对": 0, "弃权": 1})
    page = secretary.page
    expect(page.locator(".outcome-word")).to_have_text(t("Adopted (通过)"))
    assert steps.poll_numbers(secretary) == {
        t("Present"): "5",
        t("Hands counted"): "5",
        t("Quorum"): t("none"),
    }
    assert steps.result_rows(secretary) == {
        "赞成": steps.votes(t, 4, "80%"),
        "反对": steps.votes(t, 0, "0%"),
        "弃权": steps.votes(t, 1, "20%"),
    }
    secretary.shot("poll-result")

    secretary.link(ADVERTS_MEETING.title)
    steps.move_meeting(secretary, "Close the meeting", "Closed")
    steps.record_resolution(secretary, ADVERTS_RESOLUTION)
    steps.publish_minutes(
        secretary,
        ADVERTS_MEETING.title,
        "物业表示当天下班前清理完毕，公告栏一周内装好。",
        [ADVERTS_POLL.title, ADVERTS_RESOLUTION.text],
    )

    # The resident who raised it finds the answer on the portal, without logging in.
    he.log_out()
    steps.read_portal(he, community, ADVERTS.title, ADVERTS_RESOLUTION.text)
    card = he.page.locator(".request-card", has_text=ADVERTS.title)
    card.get_by_role("link", name=t("Project: %(title)s", title=ADVERTS_RESOLUTION.project)).click()
    expect(he.page.get_by_role("heading", level=1)).to_have_text(ADVERTS_RESOLUTION.project)
    he.shot("project")


# --- story 4: the congested internal road (飞马转盘中心路) ---------------------------

ROAD = RequestText(
    title="飞马转盘中心路拥堵",
    category="Roads and traffic",
    description="小区内部的飞马转盘中心路车流和人流越来越多，车辆乱停乱放，"
    "早晚上下班高峰出行不畅。",
    location="优山美地花园飞马转盘中心路",
)
ROAD_MEETING = MeetingText(
    title="飞马转盘中心路通行协商议事会",
    location="紫琅社区居民议事厅",
    description="几种方案：设道闸、定停车规则，还是移交市政管理。",
    host="许振华",
    recorder="曾宝珠",
    in_days=3,
    topics=[ROAD.title],
)
ROAD_ITEM = "中心路通行方案"
BARRIER, PARKING, CITY = "设置道闸", "限时停车", "移交市政管理"
ROAD_POLL = PollText(
    title="中心路采用哪种方案",
    kind="Choose one",
    proposals=[BARRIER, PARKING, CITY],
    secret=True,
)
ROAD_RESOLUTION = ResolutionText(
    agenda_item=f"1. {ROAD_ITEM}",
    poll=ROAD_POLL.title,
    text="中心路实行限时停车：早晚高峰禁止停放，物业划定临时停车位并安排巡查。",
    project="中心路限时停车管理",
    unit="物业",
    due_in_days=30,
)


def test_congested_road_single_choice(story):
    community = cast.ROAD
    people = community.members
    t = story.t

    deng = story.phone("resident")
    deng.log_in(people["requester"])
    steps.raise_request(deng, community, ROAD)

    secretary = story.desktop("secretary")
    secretary.log_in(community.secretary)
    steps.open_request_from_dashboard(secretary, community, ROAD.title)
    steps.reply_to_request(
        secretary,
        people["requester"].name,
        "Accept it as a topic for a consultation meeting",
        "已列入议题，将请居民代表、业委会和物业一起协商几种方案。",
    )
    steps.create_meeting(secretary, community, ROAD_MEETING)
    steps.add_agenda_item(secretary, ROAD_ITEM, 60, request=ROAD.title)
    steps.meeting_tab(secretary, "Attendees")
    steps.invite(
        secretary,
        {
            people["owners"].name: "Owners'-committee representative",
            people["property"].name: "Property-management representative",
        },
    )
    steps.invite(
        secretary,
        {people[part].name: "" for part in ("requester", "rep1", "rep2", "rep3")},
        role_for_all="Resident representative",
    )
    secretary.shot("invited")
    steps.meeting_tab(secretary, "Meeting page")
    steps.move_meeting(secretary, "Schedule: announce and invite", "Scheduled")
    steps.move_meeting(secretary, "Start the meeting", "In progress")

    # Three proposals, each tabled from a phone.
    proposers = {}
    for part, label, title, body in (
        ("rep1", "resident-rep", BARRIER, "小区入口设道闸，外来车辆登记进入。"),
        ("property", "property-rep", PARKING, "早晚高峰禁止停放，划定临时停车位。"),
        ("owners", "owners-rep", CITY, "道路移交市政，由城管统一管理。"),
    ):
        person = story.phone(label)
        person.log_in(people[part])
        steps.open_meeting(person, ROAD_MEETING.title)
        steps.table_proposal(person, ROAD_ITEM, title, body)
        proposers[part] = person

    # One secret single-choice poll among the three.
    secretary.page.reload()
    steps.create_poll(secretary, ROAD_ITEM, ROAD_POLL)
    steps.open_poll(secretary, voters=6)
    steps.vote(proposers["rep1"], ROAD_MEETING.title, ROAD_POLL.title, BARRIER)
    steps.vote(proposers["property"], ROAD_MEETING.title, ROAD_POLL.title, PARKING)
    steps.vote(proposers["owners"], ROAD_MEETING.title, ROAD_POLL.title, PARKING)
    receipt = steps.vote(deng, ROAD_MEETING.title, ROAD_POLL.title, PARKING, first_choice=CITY)
    steps.close_poll(secretary, ROAD_POLL.title, cast=4, eligible=6)
    page = secretary.page
    chosen = t("Chosen: %(labels)s", labels=PARKING)
    expect(page.locator(".outcome-word")).to_have_text(chosen)
    expected_rows = {
        BARRIER: steps.votes(t, 1, "25%"),
        PARKING: steps.votes(t, 3, "75%"),
        CITY: steps.votes(t, 0, "0%"),
    }
    assert steps.result_rows(secretary) == expected_rows
    secretary.shot("poll-result")

    # The resident who raised it checks the result and finds her receipt counted.
    steps.open_meeting(deng, ROAD_MEETING.title)
    steps.agenda_item(deng, ROAD_ITEM).get_by_role("link", name=t("See the result")).click()
    expect(deng.page.locator(".outcome-word")).to_have_text(chosen)
    assert steps.poll_numbers(deng) == {
        t("Eligible voters"): "6",
        t("Ballots cast"): "4",
        t("Quorum"): t("none"),
    }
    assert steps.result_rows(deng) == expected_rows
    deng.shot("result")
    deng.link(t("Receipts: check a vote was counted"))
    mine = deng.page.locator("tr", has_text=receipt)
    expect(mine).to_contain_text(PARKING)
    expect(deng.page.locator("tbody tr")).to_have_count(4)
    deng.shot("receipts")

    secretary.link(ROAD_MEETING.title)
    steps.move_meeting(secretary, "Close the meeting", "Closed")
    steps.record_resolution(secretary, ROAD_RESOLUTION)
    steps.publish_minutes(
        secretary,
        ROAD_MEETING.title,
        "道闸费用高、移交市政周期长，多数人倾向先实行限时停车。",
        [BARRIER, PARKING, CITY, ROAD_RESOLUTION.text],
    )
    steps.read_portal(deng, community, ROAD.title, ROAD_RESOLUTION.text)
    deng.link(t("Minutes: %(title)s", title=ROAD_MEETING.title))
    expect(deng.page.locator(".minutes-doc")).to_contain_text(ROAD_RESOLUTION.text)
    deng.shot("minutes")
