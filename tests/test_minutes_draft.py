"""The draft written from the meeting's data, and the Markdown rendering:
everything the system knows is in the draft, and nothing typed into the
minutes can become active HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale

from meetings.minutes.draft import generate_draft, md
from meetings.minutes.render import ALLOWED_TAGS, render_markdown

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]


def _section(text: str, heading: str) -> str:
    """The Markdown from ``## heading`` to the next ``## ``."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section {heading!r} in:\n{text}"
    return match.group(1)


def test_the_draft_holds_time_place_host_and_recorder(held_meeting, secretary):
    text = generate_draft(held_meeting.meeting)
    meeting = held_meeting.meeting
    assert text.startswith("# Minutes: 活动室改造出新协商议事会\n")
    assert "- **Place**: 优山美地花园182幢一层社区活动室" in text
    assert "- **Host**: 林书记" in text
    assert "- **Recorder**: 居民代表1" in text
    assert "- **Community**: 东篱社区" in text
    local = meeting.starts_at.astimezone(meeting.starts_at.tzinfo)
    assert "- **Time**: " in text and str(local.year) in text and "7:00" in text


def test_the_draft_groups_the_attendees_by_role_with_their_presence(held_meeting):
    attendees = _section(generate_draft(held_meeting.meeting), "Attendees")
    assert "7 invited, 5 present; of those who vote, 5 of 7 present." in attendees
    lines = [line for line in attendees.splitlines() if line.startswith("- ")]
    # DESIGN.md's order of roles: CPPCC members first
    assert lines[0] == "- **CPPCC member**: 钱政协 (Present)"
    assert "- **Party-member representative**: 周请假 (Excused)" in lines
    assert (
        "- **Resident representative**: 吴缺席 (Absent), 居民代表1 (Present), "
        "居民代表2 (Present), 居民代表3 (Present)"
    ) in lines
    assert "- **Owners'-committee representative**: 孙业委 (Present)" in lines


def test_the_draft_lists_the_topics_agenda_and_proposals(held_meeting):
    text = generate_draft(held_meeting.meeting)
    assert "1. 活动室地板磨损" in _section(text, "Topics (residents’ requests)")
    agenda = _section(text, "Agenda and discussion")
    assert "### 1. 活动室改造方案 (30 min)" in agenda
    assert "地板磨损，打滑；\n墙面剥落。" in agenda
    assert "- 铺设防滑地板 (tabled by 居民代表1)\n  乒乓球室和舞蹈室换防滑地胶" in agenda
    assert "- 只做局部修补 (tabled by 孙业委) — withdrawn" in agenda


def test_online_and_in_room_results_stand_side_by_side(held_meeting):
    results = _section(generate_draft(held_meeting.meeting), "Poll results")
    rows = [line for line in results.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Poll | Method | Eligible | Voted | Votes | Result |"
    assert (
        rows[2] == "| 是否改造活动室 | Online, secret | 7 | 4 | 赞成 3, 反对 0, 弃权 1 | Adopted |"
    )
    assert rows[3] == (
        "| 改造期间活动室是否暂停开放 | Show of hands | 5 | 5 | 赞成 4, 反对 1, 弃权 0 | Adopted |"
    )
    html = render_markdown(generate_draft(held_meeting.meeting))
    assert "<td>Show of hands</td>" in html and "<td>Online, secret</td>" in html


def test_resolutions_carry_conditions_responsible_unit_and_deadline(held_meeting):
    resolutions = _section(generate_draft(held_meeting.meeting), "Resolutions")
    assert "1. **Agreed**: 同意对182幢活动室进行改造，铺设防滑地板。" in resolutions
    assert "   - Conditions: 施工安排在白天；每周通报进度" in resolutions
    assert "   - Following the poll “是否改造活动室”: Adopted" in resolutions
    assert (
        "   - Project: 活动室改造出新; responsible: 物业公司; due March 31, 2027; "
        "budget 86,000 yuan"
    ) in resolutions
    assert "2. **Agreed**: 改造期间活动室暂停开放，活动移至社区服务中心。" in resolutions


def test_a_meeting_without_polls_or_resolutions_says_so(make_meeting, in_request):
    text = generate_draft(make_meeting("closed"))
    assert "No poll was held." in _section(text, "Poll results")
    assert "No resolution was recorded." in _section(text, "Resolutions")
    assert "Nobody was invited." in _section(text, "Attendees")


def test_text_from_people_cannot_turn_into_markdown(held_meeting, secretary, db):
    held_meeting.meeting.title = "**粗体** [链接](https://evil.example) | <b>"
    held_meeting.resolution.text = "# 不是标题\n- 不是列表"
    db.session.flush()
    html = str(render_markdown(generate_draft(held_meeting.meeting)))
    assert "<strong>粗体</strong>" not in html
    assert 'href="https://evil.example"' not in html
    assert "&lt;b&gt;" in html
    assert "<h1>Minutes: **粗体** [链接](https://evil.example) | &lt;b&gt;</h1>" in html
    assert "# 不是标题 - 不是列表" in html


def test_md_escapes_markdown_and_keeps_text_readable():
    assert md("8:00-20:00，音量*适中*") == "8:00-20:00，音量\\*适中\\*"
    assert str(render_markdown(md("a_b|c<d>&amp;"))) == "<p>a_b|c&lt;d&gt;&amp;amp;</p>\n"


def test_the_draft_is_chinese_for_a_chinese_interface(held_meeting):
    with force_locale("zh_CN"):
        text = generate_draft(held_meeting.meeting)
    # Punctuation follows the language (the headings come from the catalog).
    assert "钱政协（出席）" in text
    assert "2026年" in text
    assert "**：" in text


# --- sanitising ------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="#" onclick="alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "[x](vbscript:msgbox(1))",
    "<a href='javascript&colon;alert(1)'>x</a>",
    "[x](//evil.example/path)",
    '<form action="https://evil.example"><input name=x></form>',
    "<object data=x></object><embed src=x>",
]


class _Tags(HTMLParser):
    """Every tag and attribute of a piece of HTML, as a browser would parse it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("attack", XSS)
def test_markdown_with_attacks_renders_inert(attack):
    html = str(render_markdown(f"前文\n\n{attack}\n\n后文"))
    for tag, attributes in _Tags(html).tags:
        assert tag in ALLOWED_TAGS, html
        assert set(attributes) <= {"href", "rel", "title", "start"}, html
        href = (attributes.get("href") or "").strip().lower()
        if href:
            assert href.startswith(("https://", "http://", "mailto:", "#")) or (
                href.startswith("/") and not href.startswith("//")
            ), html
    assert "前文" in html and "后文" in html


def test_allowed_markdown_renders_with_safe_links():
    html = str(
        render_markdown(
            "## 决议\n\n- **同意**改造\n- *暂缓*\n\n> 引用\n\n---\n\n"
            "| 表决 | 结果 |\n| --- | ---: |\n| 是否改造 | 通过 |\n\n"
            "[项目看板](/communities/1/projects) [官网](https://example.org) "
            "[写信](mailto:sq@example.org) `代码`"
        )
    )
    assert "<h2>决议</h2>" in html
    assert "<li><strong>同意</strong>改造</li>" in html and "<em>暂缓</em>" in html
    assert "<blockquote>" in html and "<hr>" in html and "<code>代码</code>" in html
    assert "<td>是否改造</td>" in html and "<th>结果</th>" in html  # alignment style dropped
    for href in ("/communities/1/projects", "https://example.org", "mailto:sq@example.org"):
        assert f'<a href="{href}" rel="noopener noreferrer nofollow">' in html


def test_an_image_becomes_a_link_not_a_fetch():
    html = str(render_markdown("![地板照片](https://example.org/floor.jpg)"))
    assert "<img" not in html
    assert '<a href="https://example.org/floor.jpg" rel="noopener noreferrer nofollow">' in html
