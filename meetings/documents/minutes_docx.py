"""The minutes as a Word document (.docx, python-docx) in the usual layout of
a 会议纪要: the title (community, meeting, "会议纪要"), time, place, host,
recorder, the attendees by role (出席 / 列席 / 缺席), the agenda, the
minutes' own text (their Markdown headings, paragraphs, lists and tables as
Word's), the poll results, and the resolutions with their responsible units
and deadlines; the recorder's and host's names to sign at the end.

It reads the same facts as the draft and the public pages
(``meetings.minutes.facts``) and parses the text with the same Markdown
parser as the page (``meetings.minutes.render``), so what the document says
is what the page says. Labels follow the reader's language; the text of the
minutes is the secretary's.

Chinese needs an east-asian font named on every run (``w:eastAsia``): Word
otherwise shows the characters in whatever font it guesses. 宋体 (SimSun)
for the text, 黑体 (SimHei) for the headings, as official documents use;
the page is A4 with the margins of GB/T 9704.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from meetings.extensions import db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import Attendance, AttendeeRole, Meeting, Presence
from meetings.minutes.draft import is_chinese, poll_method
from meetings.minutes.facts import MeetingOutcome, outcome_of
from meetings.minutes.models import MinutesVersion
from meetings.minutes.render import _CONTROL, _markdown, plain_text
from meetings.polls.models import Outcome, Poll
from meetings.projects.models import (
    Decision,
    Resolution,
    ResolutionCondition,
    ResolutionStatus,
)

BODY_FONT = "SimSun"  # 宋体
HEADING_FONT = "SimHei"  # 黑体
LATIN_FONT = "Times New Roman"
MONO_FONT = "Courier New"
BODY_SIZE = Pt(12)  # 小四
TITLE_SIZE = Pt(22)  # 二号
DRAFT_RED = RGBColor(0xC0, 0x00, 0x00)
# XML 1.0 refuses these; python-docx would raise on them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: object) -> str:
    return _NOT_XML.sub("", str(text if text is not None else ""))


# --- the facts --------------------------------------------------------------------------


@dataclass
class MinutesFacts:
    """What the document says, read in a fixed number of queries."""

    meeting: Meeting
    version: MinutesVersion
    draft: bool
    outcome: MeetingOutcome
    tasks: dict[int, list[ResolutionCondition]] = field(default_factory=dict)

    def tasks_of(self, resolution: Resolution) -> list[ResolutionCondition]:
        return self.tasks.get(resolution.id, [])


def condition_tasks(resolutions: list[Resolution]) -> dict[int, list[ResolutionCondition]]:
    """The conditions of these resolutions as tasks, with their assignees, in one query."""
    found: dict[int, list[ResolutionCondition]] = {r.id: [] for r in resolutions}
    if not found:
        return found
    for task in db.session.scalars(
        db.select(ResolutionCondition)
        .where(ResolutionCondition.resolution_id.in_(list(found)))
        .order_by(ResolutionCondition.due_date, ResolutionCondition.id)
        .options(
            joinedload(ResolutionCondition.assignee_user),
            joinedload(ResolutionCondition.assignee_unit),
        )
    ):
        found[task.resolution_id].append(task)
    return found


def gather(meeting: Meeting, version: MinutesVersion, draft: bool) -> MinutesFacts:
    outcome = outcome_of(meeting)
    return MinutesFacts(meeting, version, draft, outcome, condition_tasks(outcome.resolutions))


def filename(meeting: Meeting, version: MinutesVersion, draft: bool) -> str:
    """E.g. 东篱社区-活动室改造出新协商议事会-会议纪要-v2.docx (草稿 for a draft)."""
    parts = [meeting.community.name, meeting.title, "会议纪要", f"v{version.number}"]
    if draft:
        parts.append("草稿")
    name = "-".join(clean(part) for part in parts)
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name)[:150] + ".docx"


# --- what the labels say ----------------------------------------------------------------


def _list_join(parts: Iterable[str]) -> str:
    return ("、" if is_chinese() else ", ").join(parts)


def _colon() -> str:
    return "：" if is_chinese() else ": "


def _bracketed(text: str, note: str) -> str:
    return f"{text}（{note}）" if is_chinese() else f"{text} ({note})"


def _name(user) -> str:
    return user.display_name if user is not None else "—"


def _day(value: date | None) -> str:
    return format_date(value, "long") if value is not None else "—"


def attendee_groups(meeting: Meeting) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """出席 (present), 列席 (observers present), 缺席 (absent or excused, with
    which): each a list of (role, names), roles in the app's order. Nobody
    marked by the end of the meeting counts as absent, as in the draft."""
    present: dict[AttendeeRole, list[str]] = {}
    observing: list[str] = []
    away: dict[AttendeeRole, list[str]] = {}
    order = sorted(
        meeting.attendances,
        key=lambda a: (list(AttendeeRole).index(a.role), a.user.display_name, a.id),
    )
    for attendance in order:
        name = attendance.user.display_name
        if attendance.presence == Presence.PRESENT:
            if attendance.role == AttendeeRole.OBSERVER:
                observing.append(name)
            else:
                present.setdefault(attendance.role, []).append(name)
        else:
            away.setdefault(attendance.role, []).append(_bracketed(name, _away(attendance)))
    groups = [
        (_("Present"), [(str(role.label), names) for role, names in present.items()]),
        (_("Observer"), [("", observing)] if observing else []),
        (_("Absent"), [(str(role.label), names) for role, names in away.items()]),
    ]
    return groups


def _away(attendance: Attendance) -> str:
    if attendance.presence == Presence.EXCUSED:
        return str(Presence.EXCUSED.label)
    return str(Presence.ABSENT.label)


def outcome_text(poll: Poll) -> str:
    """E.g. “Adopted”, or “Decided: 方案B” naming the chosen option, a tie noted."""
    if poll.outcome is None:
        return "—"
    text = str(poll.outcome.label)
    if poll.outcome == Outcome.DECIDED:
        text += _colon() + _list_join(option.label for option in poll.options if option.won)
    if poll.tie:
        text += " " + _("(tie)")
    return text


def votes_text(poll: Poll) -> str:
    return ("，" if is_chinese() else ", ").join(
        f"{option.label} {option.votes or 0}" for option in poll.options
    )


def assignee_text(task: ResolutionCondition) -> str:
    names = []
    if task.assignee_unit is not None:
        names.append(task.assignee_unit.name)
    if task.assignee_user is not None:
        names.append(task.assignee_user.display_name)
    return " / ".join(names) or "—"


# --- Word -------------------------------------------------------------------------------


def _fonts(r_pr, east_asia: str, latin: str = LATIN_FONT) -> None:
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _style_fonts(document, name: str, east_asia: str, size=None, bold=None) -> None:
    style = document.styles[name]
    style.font.name = LATIN_FONT
    style.font.color.rgb = RGBColor(0, 0, 0)
    if size is not None:
        style.font.size = size
    if bold is not None:
        style.font.bold = bold
    _fonts(style.element.get_or_add_rPr(), east_asia)


def run(paragraph, text: str, *, bold=False, italic=False, strike=False, size=None, font=None):
    """A run with the east-asian font named on it (``w:eastAsia``)."""
    piece = paragraph.add_run(clean(text))
    if bold:
        piece.bold = True
    if italic:
        piece.italic = True
    if strike:
        piece.font.strike = True
    if size is not None:
        piece.font.size = size
    _fonts(
        piece._element.get_or_add_rPr(),
        font or BODY_FONT,
        MONO_FONT if font == MONO_FONT else LATIN_FONT,
    )
    return piece


def _new_document(facts: MinutesFacts):
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _style_fonts(document, "Normal", BODY_FONT, BODY_SIZE)
    language = document.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    language.append(lang)
    for level, size in ((1, Pt(16)), (2, Pt(14)), (3, Pt(13)), (4, Pt(12))):
        _style_fonts(document, f"Heading {level}", HEADING_FONT, size, bold=True)
    for name in ("List Bullet", "List Bullet 2", "List Bullet 3", "Title"):
        _style_fonts(document, name, BODY_FONT)
    meeting = facts.meeting
    properties = document.core_properties
    properties.title = clean(f"{meeting.title} {_('Minutes (会议纪要)')}")
    properties.author = clean(meeting.community.name)
    properties.language = "zh-CN"
    if facts.draft:
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run(header, draft_mark(facts), bold=True).font.color.rgb = DRAFT_RED
    _page_number_footer(section)
    return document


DRAFT_MARK = "草稿 / Draft"


def draft_mark(facts: MinutesFacts) -> str:
    """Both languages: a draft must not pass for the minutes, whoever reads it."""
    return f"{DRAFT_MARK} · v{facts.version.number}"


def _page_number_footer(section) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(paragraph, "— ")
    field_run = run(paragraph, "")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), ("end", None)):
        if kind is None:
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = text
            field_run._element.append(instruction)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            field_run._element.append(char)
    run(paragraph, " —")


def styled(document, name: str):
    """A paragraph of a built-in style, named by its id.

    Speed: python-docx looks a style given by name (or object) up by
    scanning all the styles, twice, for every paragraph: 3 ms each, 100 of
    the 145 ms a demo meeting's minutes took; by id it is a list lookup."""
    paragraph = document.add_paragraph()
    paragraph._p.style = STYLE_IDS.get(name) or name.replace(" ", "")
    return paragraph


# The ids of the built-in styles used (python-docx's default template).
STYLE_IDS = {
    "Heading 1": "Heading1",
    "Heading 2": "Heading2",
    "Heading 3": "Heading3",
    "Heading 4": "Heading4",
    "List Bullet": "ListBullet",
    "List Bullet 2": "ListBullet2",
    "List Bullet 3": "ListBullet3",
}


def _heading(document, text: str, level: int):
    paragraph = styled(document, f"Heading {level}")
    run(paragraph, text, bold=True, font=HEADING_FONT)
    return paragraph


def _fact(document, label: str, value: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(2)
    run(paragraph, label + _colon(), bold=True)
    run(paragraph, value)


def _table(document, headers: list[str], rows: list[list[str]], widths: list[float] | None = None):
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        run(cell.paragraphs[0], header, bold=True)
    _repeat_header(table.rows[0])
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            run(cell.paragraphs[0], value)
    if widths:
        _widths(table, widths)
    return table


def _widths(table, widths: list[float]) -> None:
    """Fixed column widths, on the grid (LibreOffice reads these) and on
    every cell (Word does)."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
        # a row is not split between two pages
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _repeat_header(row) -> None:
    """The header row is printed again on each page the table runs onto."""
    properties = row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    properties.append(repeat)


# --- the parts --------------------------------------------------------------------------


def _title(document, facts: MinutesFacts) -> None:
    meeting = facts.meeting
    joiner = "" if is_chinese() else " "
    for text in (f"{meeting.community.name}{joiner}{meeting.title}", _("Minutes (会议纪要)")):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(4)
        run(paragraph, text, bold=True, size=TITLE_SIZE, font=HEADING_FONT)
    if facts.draft:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        mark = run(paragraph, f"【{draft_mark(facts)}】", bold=True)
        mark.font.color.rgb = DRAFT_RED
    document.add_paragraph()


def _facts(document, facts: MinutesFacts) -> None:
    meeting = facts.meeting
    _fact(document, _("Time"), meeting_services.format_when(meeting))
    _fact(document, _("Place"), meeting.location or _("Online"))
    _fact(document, _("Host (主持人)"), _name(meeting.host))
    _fact(document, _("Recorder (记录人)"), _name(meeting.recorder))
    for label, roles in attendee_groups(meeting):
        if not roles:
            continue
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(2)
        run(paragraph, label + _colon(), bold=True)
        for index, (role, names) in enumerate(roles):
            if index:
                run(paragraph, "；" if is_chinese() else "; ")
            if role:
                run(paragraph, role + _colon(), italic=not is_chinese())
            run(paragraph, _list_join(names))
    if meeting.attendances:
        numbers = meeting_services.quorum(meeting)
        paragraph = document.add_paragraph()
        run(
            paragraph,
            _(
                "%(invited)d invited, %(present)d present; of those who vote, "
                "%(voting_present)d of %(voting_invited)d present.",
                invited=numbers.invited,
                present=numbers.present,
                voting_present=numbers.voting_present,
                voting_invited=numbers.voting_invited,
            ),
        )


def _agenda(document, facts: MinutesFacts) -> None:
    meeting = facts.meeting
    _heading(document, _("Agenda (议程)"), 1)
    if not meeting.agenda_items:
        run(document.add_paragraph(), _("No agenda was set."))
        return
    for item in meeting.agenda_items:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(0.74)
        paragraph.paragraph_format.first_line_indent = Cm(-0.74)
        text = f"{item.position}. {item.title}"
        if item.planned_minutes:
            text += " " + _("(%(n)d min)", n=item.planned_minutes)
        run(paragraph, text)


def _discussion(document, facts: MinutesFacts) -> None:
    _heading(document, _("Discussion and results"), 1)
    MarkdownWriter(document).write(facts.version.body_markdown)


def _polls(document, facts: MinutesFacts) -> None:
    polls = facts.outcome.closed_polls
    _heading(document, _("Annex: poll results"), 1)
    if not polls:
        run(document.add_paragraph(), _("No poll was held."))
        return
    headers = [_("Poll"), _("Method"), _("Eligible"), _("Voted"), _("Votes"), _("Result")]
    rows = [
        [
            poll.title,
            poll_method(poll),
            str(poll.eligible_count or 0),
            str(poll.cast_count or 0),
            votes_text(poll),
            outcome_text(poll),
        ]
        for poll in polls
    ]
    _table(document, headers, rows, [3.6, 2.2, 1.8, 1.8, 3.6, 2.6])


def resolution_text(resolution: Resolution) -> str:
    """The decision, the text, and what the poll decided."""
    text = f"【{Decision(resolution.decision).label}】{resolution.text}"
    if resolution.poll is not None:
        text += "\n" + _(
            "Following the poll “%(poll)s”: %(result)s",
            poll=resolution.poll.title,
            result=outcome_text(resolution.poll),
        )
    if resolution.conditions:
        text += "\n" + _("Conditions: %(text)s", text=resolution.conditions)
    if resolution.status != ResolutionStatus.RECORDED:
        status = str(resolution.status.label)
        if resolution.status == ResolutionStatus.IN_NOTICE and resolution.notice_ends_at:
            status += " " + _(
                "until %(date)s", date=format_datetime(resolution.notice_ends_at, "short")
            )
        text += "\n" + status
    return text


def resolution_rows(facts: MinutesFacts) -> list[list[str]]:
    """One row per resolution (with its project's responsible unit and due
    date), and one per condition task under it (assignee, due date)."""
    rows = []
    for number, resolution in enumerate(facts.outcome.resolutions, start=1):
        project = resolution.project
        text = resolution_text(resolution)
        if project is not None:
            text += "\n" + _("Project: %(title)s", title=project.title)
        rows.append(
            [
                str(number),
                text,
                project.responsible_unit if project is not None else "—",
                _day(project.due_date if project is not None else None),
            ]
        )
        for index, task in enumerate(facts.tasks_of(resolution), start=1):
            rows.append(
                [
                    f"{number}.{index}",
                    _("Condition: %(text)s", text=task.text),
                    assignee_text(task),
                    _day(task.due_date),
                ]
            )
    return rows


def _resolutions(document, facts: MinutesFacts) -> None:
    _heading(document, _("Annex: resolutions, responsible units and deadlines"), 1)
    if not facts.outcome.resolutions:
        run(document.add_paragraph(), _("No resolution was recorded."))
        return
    headers = [_("No."), _("Resolution"), _("Responsible unit"), _("Due date")]
    table = _table(document, headers, [])
    for values in resolution_rows(facts):
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            lines = value.split("\n")
            run(cell.paragraphs[0], lines[0])
            for line in lines[1:]:
                run(cell.add_paragraph(), line, size=Pt(10.5))
    _widths(table, [1.5, 8.1, 3.4, 2.6])  # 15.6 cm: the text's width on A4


def _closing(document, facts: MinutesFacts) -> None:
    """The recorder's and host's names to sign (unless the text ends with
    them already, as the draft does), and which version this is."""
    meeting = facts.meeting
    document.add_paragraph()
    names = (
        _("Recorder: %(name)s", name=_name(meeting.recorder)),
        _("Host: %(name)s", name=_name(meeting.host)),
    )
    signed = plain_text(facts.version.body_markdown)
    if not all(name in signed for name in names):
        for text in names:
            paragraph = document.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run(paragraph, text)
    version = facts.version
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if version.published_at is not None:
        note = (
            _("Version %(number)d", number=version.number)
            + " · "
            + _("published %(date)s", date=format_datetime(version.published_at, "short"))
        )
    else:
        note = _("Version %(number)d", number=version.number) + " · " + _("Draft")
    run(paragraph, note, size=Pt(10.5))


def build(facts: MinutesFacts) -> bytes:
    document = _new_document(facts)
    _title(document, facts)
    _facts(document, facts)
    _agenda(document, facts)
    _discussion(document, facts)
    _closing(document, facts)
    # what the system recorded, after the signatures as annexes (附件) are
    _polls(document, facts)
    _resolutions(document, facts)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- the minutes' Markdown as Word ------------------------------------------------------


def _facts_list_end(tokens) -> int:
    """Where a leading list of “**label**: value” items ends (0 if the text
    does not start with one)."""
    if not tokens or tokens[0].type != "bullet_list_open":
        return 0
    for index, token in enumerate(tokens):
        if token.type == "bullet_list_close" and token.level == 0:
            return index + 1
        if token.type == "bullet_list_open" and index:
            return 0  # a nested list: the secretary's own
        if token.type == "inline":
            children = [c for c in token.children or [] if c.type != "text" or c.content]
            if not children or children[0].type != "strong_open":
                return 0
    return 0


class MarkdownWriter:
    """markdown-it's tokens (the page's parser) as Word paragraphs: headings
    one level under the document's own, lists (bullets as Word's, numbers
    written out, nested by indentation), tables, quotes and code. Links keep
    their text with the address after it; there are no images (the page has
    none either)."""

    def __init__(self, document):
        self.document = document
        self.lists: list[list] = []  # [ordered, next number] per open list
        self.item_started = False
        self.quote = 0
        self.heading: int | None = None
        self.table: list[list[list]] | None = None  # rows of cells of inline tokens
        self.first = True

    def write(self, text: str) -> None:
        tokens = _markdown.parse(_CONTROL.sub("", text or ""))
        # The text's own first-level title repeats the document's: left out,
        # with the list of facts under it (“- **Time**: …”, as the draft
        # starts), which the document gives above.
        if len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
            tokens = tokens[3:]
            tokens = tokens[_facts_list_end(tokens) :]
        for token in tokens:
            handler = getattr(self, "_" + token.type, None)
            if handler is not None:
                handler(token)

    # blocks
    def _heading_open(self, token) -> None:
        level = int(token.tag[1])
        self.heading = min(max(level, 2), 4)

    def _heading_close(self, token) -> None:
        self.heading = None

    def _bullet_list_open(self, token) -> None:
        self.lists.append([False, 1])

    def _ordered_list_open(self, token) -> None:
        start = token.attrs.get("start", 1) if token.attrs else 1
        self.lists.append([True, int(start)])

    def _bullet_list_close(self, token) -> None:
        self.lists.pop()

    _ordered_list_close = _bullet_list_close

    def _list_item_open(self, token) -> None:
        self.item_started = True

    def _blockquote_open(self, token) -> None:
        self.quote += 1

    def _blockquote_close(self, token) -> None:
        self.quote -= 1

    def _table_open(self, token) -> None:
        self.table = []

    def _tr_open(self, token) -> None:
        self.table.append([])

    def _th_open(self, token) -> None:
        self.table[-1].append([])

    _td_open = _th_open

    def _table_close(self, token) -> None:
        rows, self.table = self.table or [], None
        if not rows:
            return
        width = max(len(row) for row in rows)
        table = self.document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for row_cells, cells in zip(table.rows, rows, strict=True):
            for cell, children in zip(row_cells.cells, cells, strict=False):
                self._inline_runs(cell.paragraphs[0], children, bold=row_cells is table.rows[0])
        _repeat_header(table.rows[0])
        self.document.add_paragraph()

    def _hr(self, token) -> None:
        paragraph = self.document.add_paragraph()
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (
            ("w:val", "single"),
            ("w:sz", "6"),
            ("w:space", "1"),
            ("w:color", "auto"),
        ):
            bottom.set(qn(key), value)
        borders.append(bottom)
        paragraph._p.get_or_add_pPr().append(borders)

    def _code_block(self, token) -> None:
        for line in token.content.rstrip("\n").split("\n"):
            paragraph = self.document.add_paragraph()
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.paragraph_format.left_indent = Cm(0.74 * (len(self.lists) + self.quote + 1))
            run(paragraph, line, font=MONO_FONT, size=Pt(10))

    _fence = _code_block

    def _inline(self, token) -> None:
        if self.table is not None:
            self.table[-1][-1] = token.children or []
            return
        if self.heading is not None:
            paragraph = styled(self.document, f"Heading {self.heading}")
            self._inline_runs(paragraph, token.children or [], font=HEADING_FONT)
            return
        paragraph = self._paragraph()
        self._inline_runs(paragraph, token.children or [])

    def _paragraph(self):
        depth = len(self.lists)
        indent = Cm(0.74 * (depth + self.quote))
        if depth and self.item_started:
            self.item_started = False
            ordered, number = self.lists[-1]
            if not ordered:
                style = "List Bullet" if depth == 1 else f"List Bullet {min(depth, 3)}"
                return styled(self.document, style)
            self.lists[-1][1] += 1
            paragraph = self.document.add_paragraph()
            paragraph.paragraph_format.left_indent = indent
            paragraph.paragraph_format.first_line_indent = Cm(-0.74)
            run(paragraph, f"{number}. ")
            return paragraph
        paragraph = self.document.add_paragraph()
        if indent:
            paragraph.paragraph_format.left_indent = indent
        return paragraph

    def _inline_runs(self, paragraph, children, bold=False, font=None) -> None:
        state = {"bold": bold, "italic": bool(self.quote), "strike": False}
        href = None
        for child in children:
            kind = child.type
            if kind in ("strong_open", "strong_close"):
                state["bold"] = kind == "strong_open" or bold
            elif kind in ("em_open", "em_close"):
                state["italic"] = kind == "em_open" or bool(self.quote)
            elif kind in ("s_open", "s_close"):
                state["strike"] = kind == "s_open"
            elif kind in ("softbreak", "hardbreak"):
                run(paragraph, "").add_break()
            elif kind == "code_inline":
                run(paragraph, child.content, font=MONO_FONT)
            elif kind == "link_open":
                href = child.attrs.get("href") if child.attrs else None
            elif kind == "link_close":
                if href:
                    run(paragraph, f" ({href})", size=Pt(10))
                href = None
            elif child.content:
                run(paragraph, child.content, font=font, **state)
