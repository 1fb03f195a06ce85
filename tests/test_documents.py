"""Word and Excel documents (issue 17): the minutes as .docx, the sign-in
sheet and a poll's result as .xlsx — each downloaded as each kind of person
(with the permissions of the page it comes from), opened with python-docx or
openpyxl, and read.

The held meeting (``minutes_fixtures``): 7 invited — present 钱政协 (CPPCC
member), 孙业委 (owners' committee), 居民代表1–3 (resident reps); 周请假
excused (party-member rep), 吴缺席 absent (resident rep). Its secret online
poll “是否改造活动室”: 7 eligible (everyone invited who votes), 4 ballots —
赞成 3, 反对 0, 弃权 1. Its show of hands: 5 present, 4 / 1 / 0. Two
resolutions; the first opens the project 活动室改造出新 (物业公司, due
2027-03-31) and here gets a condition task for 共建单位甲 due 2027-01-15.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from meeting_helpers import SHANGHAI
from query_count import counting_queries

from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.minutes import services as minutes_services
from meetings.organisation.models import Unit, UnitKind
from meetings.polls import services as poll_services
from meetings.projects.models import ResolutionCondition

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PEOPLE = ["anonymous", "resident", "attendee", "secretary", "other_secretary"]

MINUTES_TEXT = """# 活动室改造出新协商议事会

## 讨论情况

居民代表普遍认为**地板打滑**是最急的问题。

- 铺设防滑地胶
  - 乒乓球室优先
- 墙面重新粉刷

1. 物业公司出方案
2. 社区公示

| 事项 | 责任单位 |
| --- | --- |
| 地板 | 物业公司 |

决定铺设防滑地板。
"""


# --- helpers ------------------------------------------------------------------------------


def as_person(who, request, login, client, held):
    """The client as one of PEOPLE (the attendee is the held meeting's CPPCC member)."""
    if who == "anonymous":
        return client
    user = held.cppcc if who == "attendee" else request.getfixturevalue(who)
    return login(user)


def word(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == DOCX
    return Document(io.BytesIO(response.data))


def excel(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.data))


def paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def sheet_rows(sheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def all_text(workbook) -> str:
    return "\n".join(
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


@pytest.fixture
def condition_task(db, held_meeting, secretary) -> ResolutionCondition:
    unit = Unit(name="共建单位甲", kind=UnitKind.PARTNER_UNIT)
    task = ResolutionCondition(
        resolution=held_meeting.resolution,
        text="施工安排在白天",
        assignee_unit=unit,
        due_date=date(2027, 1, 15),
        created_by_id=secretary.id,
    )
    db.session.add_all([unit, task])
    db.session.flush()
    return task


@pytest.fixture
def published_text(db, held_meeting, secretary, condition_task):
    version = minutes_services.save_version(secretary, held_meeting.meeting, MINUTES_TEXT)
    minutes_services.publish(secretary, version)
    db.session.flush()
    return version


# --- the minutes as Word ------------------------------------------------------------------


def test_the_minutes_in_word_have_the_official_layout(english, published_text, held_meeting):
    response = english.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx")
    document = word(response)
    text = paragraphs(document)
    assert text[0] == "东篱社区 活动室改造出新协商议事会"
    assert text[1] == "Minutes (会议纪要)"
    assert "Draft" not in "\n".join(text) + document.sections[0].header.paragraphs[0].text
    assert "Place: 优山美地花园182幢一层社区活动室" in text
    assert "Host (主持人): 林书记" in text
    assert "Recorder (记录人): 居民代表1" in text
    assert any(line.startswith("Time: ") and "7:00" in line for line in text), text
    present = next(line for line in text if line.startswith("Present: "))
    assert present == (
        "Present: CPPCC member: 钱政协; Resident representative: 居民代表1, 居民代表2, 居民代表3; "
        "Owners'-committee representative: 孙业委"
    )
    absent = next(line for line in text if line.startswith("Absent: "))
    assert absent == (
        "Absent: Party-member representative: 周请假 (Excused); "
        "Resident representative: 吴缺席 (Absent)"
    )
    assert not any(line.startswith("Observer: ") for line in text)  # nobody observed
    assert "7 invited, 5 present; of those who vote, 5 of 7 present." in text
    agenda = text.index("Agenda (议程)")
    assert text[agenda + 1] == "1. 活动室改造方案 (30 min)"
    # the discussion: the minutes' text, its title left out (the document has its own)
    discussion = text.index("Discussion and results")
    assert "活动室改造出新协商议事会" not in text[discussion:]
    assert "决定铺设防滑地板。" in text[discussion:]
    annex = text.index("Annex: poll results")
    assert text[annex - 3 : annex - 1] == ["Recorder: 居民代表1", "Host: 林书记"]
    assert text[annex - 1].startswith("Version 1 · published ")
    assert "Annex: resolutions, responsible units and deadlines" in text[annex:]

    polls, resolutions = document.tables[-2], document.tables[-1]
    assert table_rows(polls) == [
        ["Poll", "Method", "Eligible", "Voted", "Votes", "Result"],
        ["是否改造活动室", "Online, secret", "7", "4", "赞成 3, 反对 0, 弃权 1", "Adopted"],
        [
            "改造期间活动室是否暂停开放",
            "Show of hands",
            "5",
            "5",
            "赞成 4, 反对 1, 弃权 0",
            "Adopted",
        ],
    ]
    rows = table_rows(resolutions)
    assert rows[0] == ["No.", "Resolution", "Responsible unit", "Due date"]
    assert rows[1][0] == "1"
    assert rows[1][1].startswith("【Agreed】同意对182幢活动室进行改造，铺设防滑地板。")
    assert "Following the poll “是否改造活动室”: Adopted" in rows[1][1]
    assert "Conditions: 施工安排在白天；每周通报进度" in rows[1][1]
    assert "Project: 活动室改造出新" in rows[1][1]
    assert rows[1][2:] == ["物业公司", "March 31, 2027"]
    assert rows[2] == ["1.1", "Condition: 施工安排在白天", "共建单位甲", "January 15, 2027"]
    assert rows[3][0] == "2"
    assert rows[3][1].startswith("【Agreed】改造期间活动室暂停开放，活动移至社区服务中心。")
    assert rows[3][2:] == ["—", "—"]  # no project: no unit, no deadline
    assert len(rows) == 4


def test_the_word_file_is_a4_with_chinese_fonts_and_a_chinese_file_name(
    english, published_text, held_meeting
):
    response = english.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx")
    document = word(response)
    section = document.sections[0]
    assert (round(section.page_width / Cm(1), 1), round(section.page_height / Cm(1), 1)) == (
        21.0,
        29.7,
    )
    runs = [run for p in document.paragraphs for run in p.runs if run.text]
    runs += [
        run
        for table in document.tables
        for row in table.rows
        for cell in row.cells
        for p in cell.paragraphs
        for run in p.runs
        if run.text
    ]
    assert runs
    for run in runs:
        fonts = run._element.rPr.find(qn("w:rFonts"))
        assert fonts is not None and fonts.get(qn("w:eastAsia")) in ("SimSun", "SimHei"), run.text
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    expected = "东篱社区-活动室改造出新协商议事会-会议纪要-v1.docx"
    assert f"filename*=UTF-8''{quote(expected)}" in disposition
    assert 'filename="' in disposition and disposition.isascii()


def test_the_minutes_markdown_becomes_word_headings_lists_and_tables(
    english, published_text, held_meeting
):
    document = word(english.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx"))
    by_text = {p.text: p for p in document.paragraphs}
    assert by_text["讨论情况"].style.name == "Heading 2"
    assert by_text["Discussion and results"].style.name == "Heading 1"
    bold = [run.text for run in by_text["居民代表普遍认为地板打滑是最急的问题。"].runs if run.bold]
    assert bold == ["地板打滑"]
    assert by_text["铺设防滑地胶"].style.name == "List Bullet"
    assert by_text["乒乓球室优先"].style.name == "List Bullet 2"
    assert by_text["墙面重新粉刷"].style.name == "List Bullet"
    assert "1. 物业公司出方案" in by_text
    assert "2. 社区公示" in by_text
    assert table_rows(document.tables[0]) == [["事项", "责任单位"], ["地板", "物业公司"]]


def test_in_chinese_the_labels_are_chinese(client, published_text, held_meeting):
    document = word(client.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx"))
    text = paragraphs(document)
    assert text[0] == "东篱社区活动室改造出新协商议事会"
    assert text[1] == "会议纪要"
    assert "主持人：林书记" in text
    assert "地点：优山美地花园182幢一层社区活动室" in text
    assert any(line.startswith("缺席：") and "周请假（请假）" in line for line in text), text


@pytest.mark.parametrize("who", PEOPLE)
def test_published_minutes_are_everyones_in_word(
    who, request, login, client, published_text, held_meeting
):
    as_person(who, request, login, client, held_meeting)
    document = word(client.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx"))
    assert "决定铺设防滑地板。" in paragraphs(document)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 404),
        ("resident", 404),
        ("attendee", 404),
        ("secretary", 200),
        ("other_secretary", 404),
    ],
)
def test_a_draft_is_the_secretarys_and_says_it_is_a_draft(
    who, status, request, login, english, held_meeting, secretary, condition_task
):
    minutes_services.save_version(secretary, held_meeting.meeting, "# 草稿\n\n讨论情况：……\n")
    as_person(who, request, login, english, held_meeting)
    response = english.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx")
    assert response.status_code == status
    if status == 200:
        document = word(response)
        assert "【草稿 / Draft · v1】" in paragraphs(document)
        assert document.sections[0].header.paragraphs[0].text == "草稿 / Draft · v1"
        assert "讨论情况：……" in paragraphs(document)
        assert response.headers["Cache-Control"] == "no-store"
        assert quote("草稿") in response.headers["Content-Disposition"]


def test_without_any_saved_version_there_is_nothing_to_download(login, held_meeting, secretary):
    client = login(secretary)
    assert client.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx").status_code == 404


def test_after_publication_the_public_gets_the_published_text_not_a_newer_draft(
    login, client, published_text, held_meeting, secretary, db
):
    minutes_services.save_version(secretary, held_meeting.meeting, MINUTES_TEXT + "\n更正草稿\n")
    db.session.flush()
    document = word(client.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx"))
    assert "更正草稿" not in paragraphs(document)
    login(secretary)
    draft = word(client.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx?version=2"))
    assert "更正草稿" in paragraphs(draft)
    assert "【草稿 / Draft · v2】" in paragraphs(draft)
    client.post("/auth/logout")
    assert (
        client.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx?version=2").status_code == 404
    )


def test_a_draft_meetings_minutes_are_as_missing_as_the_meeting(client, make_meeting, secretary):
    meeting = make_meeting(MeetingStatus.DRAFT)
    assert client.get(f"/meetings/{meeting.id}/minutes.docx").status_code == 404
    assert client.get("/meetings/999999/minutes.docx").status_code == 404


def test_the_word_file_takes_a_fixed_number_of_queries(
    english, published_text, held_meeting, secretary, db
):
    url = f"/meetings/{held_meeting.meeting.id}/minutes.docx"
    english.get(url)
    with counting_queries() as before:
        assert english.get(url).status_code == 200
    # more resolutions with conditions, more attendees: the same number of queries
    from meetings.projects.models import Decision, Resolution  # noqa: PLC0415

    for number in range(3):
        resolution = Resolution(
            meeting=held_meeting.meeting,
            decision=Decision.ADOPTED,
            text=f"决议{number}",
            created_by=secretary,
        )
        db.session.add(resolution)
        db.session.add(
            ResolutionCondition(
                resolution=resolution,
                text=f"条件{number}",
                due_date=date(2027, 2, 1),
                assignee_user_id=secretary.id,
            )
        )
    db.session.flush()
    with counting_queries() as after:
        document = word(english.get(url))
    assert len(after) == len(before), (len(before), len(after))
    assert len(table_rows(document.tables[-1])) == 4 + 6


# --- the sign-in sheet --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("resident", 403),
        ("attendee", 403),
        ("secretary", 200),
        ("other_secretary", 403),
    ],
)
def test_the_sign_in_sheet_is_the_secretarys(who, status, request, login, client, held_meeting):
    as_person(who, request, login, client, held_meeting)
    response = client.get(f"/meetings/{held_meeting.meeting.id}/sign-in.xlsx")
    assert response.status_code == status
    # as the printable sheet
    assert client.get(f"/meetings/{held_meeting.meeting.id}/sign-in-sheet").status_code == status
    if status == 302:
        assert "/auth/login" in response.headers["Location"]


def test_the_sign_in_sheet_lists_everyone_invited(login, english, held_meeting, secretary):
    login(secretary)
    response = english.get(f"/meetings/{held_meeting.meeting.id}/sign-in.xlsx")
    workbook = excel(response)
    assert workbook.sheetnames == ["Sign-in sheet"]
    rows = sheet_rows(workbook["Sign-in sheet"])
    assert rows[0][0] == "活动室改造出新协商议事会 · Sign-in sheet (签到表)"
    caption = [row[0] for row in rows[:5]]
    assert "Community (社区): 东篱社区" in caption
    assert "Where: 优山美地花园182幢一层社区活动室" in caption
    assert any(line.startswith("When: ") for line in caption)
    assert "Host (主持人): 林书记 · Recorder (记录人): 居民代表1" in caption
    header = next(i for i, row in enumerate(rows) if row[0] == "No.")
    assert rows[header] == [
        "No.",
        "Role",
        "Name",
        "Vote",
        "Answer",
        "Presence",
        "Check-in time",
        "Signature",
    ]
    people = rows[header + 1 :]
    assert [(row[0], row[1], row[2], row[5]) for row in people] == [
        (1, "政协委员", "钱政协", "Present"),
        (2, "党员代表", "周请假", "Excused"),
        (3, "居民代表", "吴缺席", "Absent"),
        (4, "居民代表", "居民代表1", "Present"),
        (5, "居民代表", "居民代表2", "Present"),
        (6, "居民代表", "居民代表3", "Present"),
        (7, "业委会代表", "孙业委", "Present"),
    ]
    for row in people:
        assert row[3] == "✓"
        assert row[7] is None  # the signature: empty, for printing
        assert (row[6] is not None) == (row[5] == "Present")
    checked = people[0][6]
    # marked a moment ago, shown in the site's time zone (Asia/Shanghai), without a zone
    assert checked.tzinfo is None
    assert abs(checked - datetime.now(SHANGHAI).replace(tzinfo=None)) < timedelta(minutes=5)
    assert workbook["Sign-in sheet"].cell(row=header + 2, column=7).is_date
    disposition = response.headers["Content-Disposition"]
    assert quote("东篱社区-活动室改造出新协商议事会-签到表.xlsx") in disposition


# --- a poll's result ----------------------------------------------------------------------


@pytest.fixture
def named_poll(make_meeting, make_member, secretary, in_request, db):
    """A named online poll: 3 resident reps, 2 vote 赞成 and 1 反对."""
    voters = [make_member(name) for name in ("赵甲", "钱乙", "孙丙")]
    meeting = make_meeting(MeetingStatus.SCHEDULED, invite=dict.fromkeys(voters, "resident_rep"))
    item = meeting_services.add_agenda_item(secretary, meeting, "电梯轿厢广告")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    poll = poll_services.create_poll(
        secretary,
        item,
        poll_services.PollSpec(title="是否同意电梯广告", kind="yes_no_abstain", secret=False),
    )
    poll_services.open_poll(secretary, poll)
    yes, no, _abstain = (option.id for option in poll.options)
    for voter, choice in zip(voters, [yes, yes, no], strict=True):
        poll_services.cast_ballot(voter, poll, [choice])
    poll_services.close_poll(secretary, poll)
    db.session.flush()
    return poll, voters


def test_a_polls_result_has_the_counts_turnout_and_outcome(login, english, held_meeting):
    login(held_meeting.cppcc)
    response = english.get(f"/polls/{held_meeting.online_poll.id}/result.xlsx")
    workbook = excel(response)
    rows = sheet_rows(workbook["Result"])
    caption = [row[0] for row in rows[:5]]
    assert caption[0] == "Result: 是否改造活动室"
    assert "Method: Online, secret" in caption
    assert "Eligible: 7 · Voted: 4" in caption
    assert "Result: Adopted" in caption
    header = next(i for i, row in enumerate(rows) if row[0] == "Option")
    assert rows[header][:4] == ["Option", "Votes", "Percent", "Chosen"]
    assert [row[:2] for row in rows[header + 1 :]] == [
        ["赞成 (For)", 3],
        ["反对 (Against)", 0],
        ["弃权 (Abstain)", 1],
    ]
    assert rows[header + 1][2] == 75.0
    assert quote("表决结果.xlsx") in response.headers["Content-Disposition"]


def test_a_secret_polls_result_names_nobody_not_even_to_the_secretary(
    login, english, held_meeting, secretary
):
    login(secretary)
    workbook = excel(english.get(f"/polls/{held_meeting.online_poll.id}/result.xlsx"))
    assert workbook.sheetnames == ["Result"]
    text = all_text(workbook)
    for person in [held_meeting.cppcc, held_meeting.owners, *held_meeting.voters]:
        assert person.display_name not in text


def test_a_named_polls_votes_are_listed_for_the_secretary_only(
    login, english, named_poll, secretary
):
    poll, voters = named_poll
    login(secretary)
    workbook = excel(english.get(f"/polls/{poll.id}/result.xlsx"))
    assert workbook.sheetnames == ["Result", "Named votes"]
    assert sheet_rows(workbook["Named votes"]) == [
        ["Name", "Choice"],
        ["孙丙", "反对 (Against)"],
        ["赵甲", "赞成 (For)"],
        ["钱乙", "赞成 (For)"],
    ]  # by name, as on the poll page
    english.post("/auth/logout")
    login(voters[0])
    voter_view = excel(english.get(f"/polls/{poll.id}/result.xlsx"))
    assert voter_view.sheetnames == ["Result"]
    assert "钱乙" not in all_text(voter_view)


@pytest.mark.parametrize(
    ("who", "before", "after"),
    [
        ("anonymous", 302, 200),
        ("resident", 403, 200),
        ("attendee", 200, 200),
        ("secretary", 200, 200),
        ("other_secretary", 403, 200),
    ],
)
def test_a_polls_result_is_for_those_who_see_its_page(
    who, before, after, request, login, client, held_meeting, secretary, db
):
    as_person(who, request, login, client, held_meeting)
    url = f"/polls/{held_meeting.online_poll.id}/result.xlsx"
    page = client.get(f"/polls/{held_meeting.online_poll.id}/result").status_code
    assert (client.get(url).status_code, page) == (before, before)
    version = minutes_services.save_version(secretary, held_meeting.meeting, MINUTES_TEXT)
    minutes_services.publish(secretary, version)
    db.session.flush()
    assert client.get(url).status_code == after


def test_an_open_polls_result_is_not_there_yet(
    login, client, make_meeting, make_member, secretary, in_request, db
):
    voter = make_member("赵甲")
    meeting = make_meeting(MeetingStatus.SCHEDULED, invite={voter: "resident_rep"})
    item = meeting_services.add_agenda_item(secretary, meeting, "电梯轿厢广告")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)
    poll = poll_services.create_poll(
        secretary, item, poll_services.PollSpec(title="是否同意", kind="yes_no_abstain")
    )
    poll_services.open_poll(secretary, poll)
    db.session.flush()
    login(secretary)
    assert client.get(f"/polls/{poll.id}/result.xlsx").status_code == 409
    assert client.get("/polls/999999/result.xlsx").status_code == 404


# --- the links ----------------------------------------------------------------------------


def test_the_pages_link_to_their_documents(login, client, published_text, held_meeting, secretary):
    meeting_id = held_meeting.meeting.id
    minutes_page = client.get(f"/minutes/{meeting_id}").get_data(as_text=True)
    assert f'href="/meetings/{meeting_id}/minutes.docx"' in minutes_page
    result_page = client.get(f"/polls/{held_meeting.online_poll.id}/result").get_data(as_text=True)
    assert f'href="/polls/{held_meeting.online_poll.id}/result.xlsx"' in result_page
    assert "sign-in.xlsx" not in client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    login(secretary)
    meeting_page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert f'href="/meetings/{meeting_id}/sign-in.xlsx"' in meeting_page
    assert f'href="/meetings/{meeting_id}/minutes.docx"' in meeting_page


def test_the_drafts_own_title_and_facts_are_not_repeated_in_the_discussion(
    english, held_meeting, secretary, db
):
    text = (
        "# Minutes: 活动室改造出新协商议事会\n\n- **Time**: 某日\n- **Place**: 某处\n\n"
        "## 讨论情况\n\n- **重点**：地板\n"
    )
    minutes_services.publish(
        secretary, minutes_services.save_version(secretary, held_meeting.meeting, text)
    )
    db.session.flush()
    document = word(english.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx"))
    body = paragraphs(document)
    discussion = body.index("Discussion and results")
    # the text's title and its facts list are left out; a later list of the same shape is kept
    assert body[discussion + 1 : discussion + 3] == ["讨论情况", "重点：地板"]
    assert "Time: 某日" not in body


def test_the_sign_in_sheet_prints_on_a4_as_wide_as_the_page(
    login, english, held_meeting, secretary
):
    login(secretary)
    sheet = excel(english.get(f"/meetings/{held_meeting.meeting.id}/sign-in.xlsx"))["Sign-in sheet"]
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.column_dimensions["H"].width >= 18  # room to sign
    header = next(row[0].row for row in sheet.iter_rows() if row[0].value == "No.")
    assert sheet.row_dimensions[header + 1].height == 30
    assert sheet.cell(row=header, column=1).font.b  # the header row, not the blank one above
    assert sheet.print_title_rows == f"${header}:${header}"
    assert sheet.freeze_panes == f"A{header + 1}"


def test_names_to_sign_are_not_repeated_when_the_text_ends_with_them(
    english, held_meeting, secretary, db
):
    text = "# 纪要\n\n决定铺设防滑地板。\n\n---\n\nRecorder: 居民代表1\nHost: 林书记\n"
    version = minutes_services.save_version(secretary, held_meeting.meeting, text)
    minutes_services.publish(secretary, version)
    db.session.flush()
    body = paragraphs(word(english.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx")))
    # only in the text's own last paragraph (one paragraph, a line break inside)
    assert body.count("Recorder: 居民代表1") == 0
    assert sum("Host: 林书记" in line for line in body) == 1


def test_observers_are_listed_apart_and_a_resolution_in_notice_says_until_when(
    english, published_text, held_meeting, make_member, db
):
    from meetings.meeting.models import Attendance, AttendeeRole, Presence  # noqa: PLC0415
    from meetings.projects.models import ResolutionStatus  # noqa: PLC0415

    observer = make_member("郑列席")
    db.session.add(
        Attendance(
            meeting=held_meeting.meeting,
            user=observer,
            role=AttendeeRole.OBSERVER,
            may_vote=False,
            presence=Presence.PRESENT,
        )
    )
    resolution = held_meeting.plain_resolution
    resolution.status = ResolutionStatus.IN_NOTICE
    resolution.notice_started_at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    resolution.notice_ends_at = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    db.session.flush()
    document = word(english.get(f"/meetings/{held_meeting.meeting.id}/minutes.docx"))
    text = paragraphs(document)
    assert "Observer: 郑列席" in text
    assert not any("郑列席" in line for line in text if line.startswith("Present: "))
    assert "8 invited, 6 present; of those who vote, 5 of 7 present." in text
    rows = table_rows(document.tables[-1])
    second = next(row for row in rows if row[0] == "2")
    assert second[1].splitlines()[-1] == "In public notice until 12/6/26, 10:00\u202fAM"


# --- CSV that Excel opens in Chinese ------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_sign_in_sheet_and_a_result_as_csv(login, english, held_meeting, secretary):
    meeting_id = held_meeting.meeting.id
    assert english.get(f"/meetings/{meeting_id}/sign-in.csv").status_code == 302  # log in first
    login(secretary)
    response = english.get(f"/meetings/{meeting_id}/sign-in.csv")
    rows = csv_rows(response)
    header = next(i for i, row in enumerate(rows) if row and row[0] == "No.")
    people = rows[header + 1 :]
    assert [(row[1], row[2], row[5]) for row in people][:2] == [
        ("政协委员", "钱政协", "Present"),
        ("党员代表", "周请假", "Excused"),
    ]
    assert len(people) == 7
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", people[0][6])  # local time, to the minute
    assert people[1][6] == ""
    assert quote("签到表.csv") in response.headers["Content-Disposition"]
    result = csv_rows(english.get(f"/polls/{held_meeting.online_poll.id}/result.csv"))
    header = next(i for i, row in enumerate(result) if row and row[0] == "Option")
    assert [row[:2] for row in result[header + 1 :]] == [
        ["赞成 (For)", "3"],
        ["反对 (Against)", "0"],
        ["弃权 (Abstain)", "1"],
    ]


def test_a_named_polls_csv_has_the_counts_only(login, english, named_poll, secretary):
    poll, _voters = named_poll
    login(secretary)
    text = english.get(f"/polls/{poll.id}/result.csv").data.decode("utf-8-sig")
    assert "赞成 (For)" in text
    assert "赵甲" not in text  # the named votes are in the workbook's second sheet only
