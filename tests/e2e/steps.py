"""What the people of the stories do on the site, one page or form at a time.

Each step goes through the pages as a person would (links, forms, buttons,
by their visible names), checks what the page then says, and takes the
screenshots worth keeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from .cast import PASSWORD, Community, Member
from .story import Actor

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class RequestText:
    title: str
    category: str  # the English label, e.g. "Public facilities"
    description: str
    location: str
    contact: str = ""


@dataclass
class MeetingText:
    title: str
    location: str
    description: str
    host: str
    recorder: str
    in_days: int = 1  # 0: today, half an hour from now
    topics: list[str] = field(default_factory=list)  # the request titles it deliberates


def meeting_times(in_days: int) -> tuple[str, str]:
    """Start and end for the datetime-local inputs: in ``in_days`` days from
    19:00 to 21:00, or for today a short meeting from half an hour from now."""
    now = datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    if in_days == 0:
        start = now + timedelta(minutes=30)
        end = start + timedelta(hours=1)
    else:
        start = (now + timedelta(days=in_days)).replace(hour=19, minute=0)
        end = start + timedelta(hours=2)
    return start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")


# --- residents -------------------------------------------------------------------------


def sign_up(resident: Actor, community: Community, member: Member) -> None:
    """From the home page, as a new resident."""
    t, page = resident.t, resident.page
    resident.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Talk it over, get it done"))
    resident.shot("home")
    resident.link(t("Sign up as a resident"))
    page.get_by_label(t("Your community (社区)")).select_option(
        label=f"{community.name}（{community.street}）"
    )
    page.get_by_label(t("Name"), exact=True).fill(member.name)
    page.get_by_label(t("Username")).fill(member.username)
    page.get_by_label(t("Phone (optional)")).fill("13962801182")
    page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    page.get_by_label(t("Repeat the password")).fill(PASSWORD)
    resident.shot("sign-up")
    resident.click(t("Create my account"))
    resident.flash(t("Your account is ready. Welcome!"))
    expect(page.locator(".place-list").first).to_contain_text(community.name)


def raise_request(resident: Actor, community: Community, request: RequestText) -> None:
    t, page = resident.t, resident.page
    resident.menu(t("Raise a request"))
    expect(page.locator(".request-community")).to_contain_text(community.name)
    page.get_by_label(t("What is it about?")).fill(request.title)
    page.get_by_label(t("Category")).select_option(label=t(request.category))
    page.get_by_label(t("Describe the problem")).fill(request.description)
    page.get_by_label(t("Where?")).fill(request.location)
    if request.contact:
        page.get_by_label(t("How to reach you (optional)")).fill(request.contact)
    resident.shot("request-form")
    resident.click(t("Send the request"))
    resident.flash(t("Sent. The secretary will reply within %(days)d days.", days=3))
    expect(page.get_by_role("heading", level=1)).to_have_text(request.title)
    expect(page.locator(".request-meta")).to_contain_text(t("Waiting for a reply"))
    resident.shot("request-sent")


def read_my_request(
    resident: Actor, title: str, status: str, answer: str, first_reply: str = ""
) -> None:
    """My requests, then the request's page: the community's answer (once the
    minutes are out, what the meeting decided), what was decided, and the
    first reply kept in the history."""
    t, page = resident.t, resident.page
    resident.menu(t("My requests"))
    card = page.locator(".request-card", has_text=title)
    expect(card.locator(".status")).to_have_text(t(status))
    resident.shot("my-requests")
    card.get_by_role("link", name=title).click()
    expect(page.locator(".request-answer")).to_contain_text(answer)
    expect(page.locator(".request-outcome")).to_contain_text(answer)
    if first_reply:
        expect(page.locator(".timeline")).to_contain_text(first_reply)
    resident.shot("my-request-answered")


# --- the secretary: requests, meetings, agenda, invitations ----------------------------


def open_request_from_dashboard(secretary: Actor, community: Community, title: str) -> None:
    t, page = secretary.t, secretary.page
    secretary.menu(t("Dashboard of %(community)s", community=community.name))
    waiting = page.locator(
        "section", has=page.get_by_role("heading", name=t("Requests waiting for a reply"))
    )
    expect(waiting.get_by_role("link", name=title)).to_be_visible()
    secretary.shot("dashboard")
    waiting.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def reply_to_request(secretary: Actor, requester: str, action: str, message: str) -> None:
    """``action``: the English label of the reply's choice."""
    t, page = secretary.t, secretary.page
    page.get_by_label(t(action)).check()
    page.get_by_label(t("Message to the resident")).fill(message)
    secretary.shot("reply")
    secretary.click(t("Send the reply"))
    secretary.flash(t("Your reply has been sent to %(name)s.", name=requester))
    expect(page.locator(".request-answer")).to_contain_text(message)


def pick_person(page, label: str, name: str) -> None:
    """Type part of a name into a person picker and choose them from what
    the server suggests (static/js/picker.js)."""
    field = page.get_by_label(label, exact=True)
    option = page.get_by_role("option", name=name)
    field.fill(name[:2])
    try:
        option.wait_for(timeout=5_000)
    except PlaywrightTimeoutError:
        # As a person would when no suggestion shows: type the letters again.
        # (Once in CI, on a loaded machine, the first search showed nothing.)
        field.fill("")
        field.press_sequentially(name[:2], delay=100)
    option.click()
    expect(field).not_to_have_value(name[:2])  # the chosen one's username


def create_meeting(secretary: Actor, community: Community, meeting: MeetingText) -> None:
    t, page = secretary.t, secretary.page
    secretary.menu(t("Dashboard of %(community)s", community=community.name))
    secretary.link(t("New meeting"))
    page.get_by_label(t("Title"), exact=True).fill(meeting.title)
    for topic in meeting.topics:
        page.get_by_label(topic).check()
    starts, ends = meeting_times(meeting.in_days)
    page.get_by_label(t("Starts")).fill(starts)
    page.get_by_label(t("Ends")).fill(ends)
    page.get_by_label(t("Place")).fill(meeting.location)
    page.get_by_label(t("Description"), exact=True).fill(meeting.description)
    pick_person(page, t("Host (主持人)"), meeting.host)
    pick_person(page, t("Recorder (记录人)"), meeting.recorder)
    secretary.shot("new-meeting")
    secretary.click(t("Create the draft"))
    secretary.flash(t("Meeting “%(title)s” created as a draft.", title=meeting.title))


def add_agenda_item(
    secretary: Actor, title: str, minutes: int, description: str = "", request: str = ""
) -> None:
    t, page = secretary.t, secretary.page
    form = page.locator("form", has=page.get_by_role("button", name=t("Add to the agenda")))
    form.get_by_label(t("Title"), exact=True).fill(title)
    form.get_by_label(t("Planned minutes (optional)")).fill(str(minutes))
    if description:
        form.get_by_label(t("Description (optional)")).fill(description)
    if request:
        form.get_by_label(request).check()
    secretary.click(t("Add to the agenda"))
    expect(page.locator(".agenda-editor")).to_contain_text(title)


def invite(secretary: Actor, roles: dict[str, str], role_for_all: str = "") -> None:
    """Check the people (by name) on the attendees page, each with a role
    (the English label) on their line, or one role for all of them."""
    t, page = secretary.t, secretary.page
    for name, role in roles.items():
        page.get_by_label(name, exact=True).check()
        if role:
            page.get_by_label(t("Role of %(name)s", name=name)).last.select_option(label=t(role))
    if role_for_all:
        page.get_by_label(t("Role for everyone checked")).select_option(label=t(role_for_all))
    secretary.click(t("Invite the checked people"))
    for name in roles:
        expect(page.locator(".attendee-editor")).to_contain_text(name)


def meeting_tab(secretary: Actor, tab: str) -> None:
    t, page = secretary.t, secretary.page
    page.get_by_role("navigation", name=t("This meeting")).get_by_role(
        "link", name=t(tab), exact=True
    ).click()


def move_meeting(secretary: Actor, button: str, status: str) -> None:
    """Press the meeting page's next-step button (schedule, start, close).
    Starting away from the planned time, or closing with attendees nobody
    marked, asks first: the secretary confirms (unmarked ones are absent)."""
    t, page = secretary.t, secretary.page
    secretary.click(t(button))
    done = page.get_by_text(t("The meeting is now “%(status)s”.", status=t(status)))
    confirm = page.get_by_role(
        "button",
        name=t("Mark them absent and close the meeting")
        if status == "Closed"
        else t("Yes, start the meeting now"),
    )
    expect(done.or_(confirm).first).to_be_visible()
    if confirm.count():
        secretary.shot(f"confirm-{status.lower().replace(' ', '-')}")
        confirm.click()
    secretary.flash(t("The meeting is now “%(status)s”.", status=t(status)))
    expect(secretary.page.locator(".meeting-meta .meeting-status")).to_have_text(t(status))


def check_in(secretary: Actor, present: list[str], excused: tuple[str, ...] = ()) -> None:
    """The check-in tab: the secretary marks who came (the attendees at the door)."""
    t, page = secretary.t, secretary.page
    meeting_tab(secretary, "Check-in")
    for names, presence in ((present, "Present"), (excused, "Excused")):
        for name in names:
            secretary.click(f"{t(presence)} — {name}")
            row = page.locator(".checkin-row", has_text=name)
            expect(row.locator(".checkin-state")).to_contain_text(t(presence))
    voting = page.locator(".quorum-count")
    expect(voting).to_be_visible()
    secretary.shot("check-in")


def raise_on_behalf(
    secretary: Actor, community: Community, resident: Member, request: RequestText
) -> None:
    """The secretary types in a request a resident brought to the office."""
    t, page = secretary.t, secretary.page
    secretary.menu(t("Raise a request"))
    pick_person(page, t("On behalf of (optional)"), resident.name)
    page.get_by_label(t("What is it about?")).fill(request.title)
    page.get_by_label(t("Category")).select_option(label=t(request.category))
    page.get_by_label(t("Describe the problem")).fill(request.description)
    page.get_by_label(t("Where?")).fill(request.location)
    secretary.shot("request-on-behalf")
    secretary.click(t("Send the request"))
    secretary.flash(t("The request was raised for %(name)s.", name=resident.name))
    expect(page.get_by_role("heading", level=1)).to_have_text(request.title)


# --- proposals, polls and ballots --------------------------------------------------------


def open_meeting(person: Actor, meeting_title: str) -> None:
    """From My meetings, the meeting's page."""
    t, page = person.t, person.page
    person.menu(t("My meetings"))
    page.locator(".meeting-card", has_text=meeting_title).get_by_role(
        "link", name=meeting_title
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(meeting_title)


def agenda_item(person: Actor, item_title: str):
    return person.page.locator(
        ".agenda-item", has=person.page.get_by_role("heading", name=item_title)
    )


def table_proposal(person: Actor, item_title: str, title: str, body: str) -> None:
    t = person.t
    item = agenda_item(person, item_title)
    item.locator("summary", has_text=t("Table a proposal")).click()
    item.get_by_label(t("Title of the proposal")).fill(title)
    item.get_by_label(t("What it proposes (optional)")).fill(body)
    person.shot("table-proposal")
    item.get_by_role("button", name=t("Table the proposal")).click()
    person.flash(t("Your proposal “%(title)s” is tabled.", title=title))
    expect(person.page.get_by_role("heading", level=1)).to_have_text(title)
    person.shot("proposal")


def comment(person: Actor, item_title: str, proposal: str, text: str) -> None:
    """From the meeting page, a proposal's discussion: add a comment."""
    t, page = person.t, person.page
    agenda_item(person, item_title).get_by_role("link", name=proposal).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal)
    page.get_by_label(t("Your comment")).fill(text)
    person.click(t("Add my comment"))
    expect(page.locator(".comment-list")).to_contain_text(text)
    person.shot("comment")


def enter_show_of_hands(secretary: Actor, present: int, hands: dict[str, int]) -> None:
    """举手表决: the counts go in, which closes the poll."""
    t, page = secretary.t, secretary.page
    page.get_by_label(t("People present who may vote")).fill(str(present))
    for option, count in hands.items():
        page.get_by_label(shown(t, option), exact=True).fill(str(count))
    secretary.shot("show-of-hands")
    secretary.click(t("Save the counts and close the poll"))
    secretary.flash(t("The counts are entered and the poll is closed."))


@dataclass
class PollText:
    title: str
    kind: str  # the English label: "For / against / abstain", "Choose one", …
    proposals: list[str] = field(default_factory=list)  # ticked, in this order
    secret: bool = False
    in_room: bool = False


def create_poll(secretary: Actor, item_title: str, poll: PollText) -> None:
    t, page = secretary.t, secretary.page
    agenda_item(secretary, item_title).get_by_role("link", name=t("Create a poll")).click()
    page.get_by_label(t("Question put to the vote")).fill(poll.title)
    page.get_by_label(t(poll.kind), exact=True).check()
    for proposal in poll.proposals:
        page.get_by_label(proposal, exact=True).check()
    if poll.secret:
        page.get_by_label(t("Secret: nobody can see who voted what")).check()
    if poll.in_room:
        page.get_by_label(t("Show of hands in the room (举手表决)")).check()
    secretary.shot("new-poll")
    secretary.click(t("Save the poll as a draft"))
    expect(page.get_by_role("heading", level=1)).to_have_text(poll.title)


def open_poll(secretary: Actor, voters: int) -> None:
    t = secretary.t
    expect(secretary.page.locator(".poll-panel")).to_contain_text(
        t.n("Right now that is %(num)d person.", "Right now that is %(num)d people.", voters)
    )
    secretary.click(t("Open the poll"))
    secretary.flash(
        t.n(
            "Voting is open: %(num)d person may vote now.",
            "Voting is open: %(num)d people may vote now.",
            voters,
        )
    )
    secretary.shot("poll-open")


GLOSS = {"赞成": "For", "反对": "Against", "弃权": "Abstain"}


def shown(t, label: str) -> str:
    """A for / against / abstain option as the page names it: 赞成, or in
    English 赞成 (For)."""
    if t.lang == "zh_CN" or label not in GLOSS:
        return label
    return f"{label} ({t(GLOSS[label])})"


def vote(
    voter: Actor, meeting_title: str, poll_title: str, choice: str, first_choice: str = ""
) -> str:
    """From My meetings: Vote now, choose, Next, check, cast; the receipt.
    With ``first_choice``, the voter first picks that, then changes their
    mind on the confirmation screen. Returns the receipt code."""
    t, page = voter.t, voter.page
    voter.menu(t("My meetings"))
    waiting = page.locator(".vote-now")
    expect(waiting).to_contain_text(poll_title)
    voter.shot("my-meetings")
    waiting.locator("li", has_text=poll_title).get_by_role("link", name=t("Vote now")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(poll_title)
    if first_choice:
        page.get_by_label(shown(t, first_choice), exact=True).check()
        voter.click(t("Next"))
        expect(page.locator(".chosen-list")).to_have_text(shown(t, first_choice))
        voter.click(t("No, change my choice"))
    page.get_by_label(shown(t, choice), exact=True).check()
    voter.shot("ballot")
    voter.click(t("Next"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Is this your choice?"))
    expect(page.locator(".chosen-list")).to_have_text(shown(t, choice))
    voter.shot("ballot-confirm")
    voter.click(t("Yes, cast my vote"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("You have voted — thank you"))
    receipt = page.locator(".receipt-code").inner_text().strip()
    assert len(receipt.replace("-", "")) >= 8, receipt
    voter.shot("receipt")
    return receipt


def log_in_and_vote(
    story, label: str, member: Member, meeting_title: str, poll_title: str, choice: str, **kw
) -> str:
    voter = story.phone(label)
    voter.log_in(member)
    return vote(voter, meeting_title, poll_title, choice, **kw)


def close_poll(secretary: Actor, poll_title: str, cast: int, eligible: int) -> None:
    t, page = secretary.t, secretary.page
    secretary.click(t("Update the count"), role="link")
    expect(page.locator(".turnout-count")).to_have_text(f"{cast} / {eligible}")
    secretary.shot("turnout")
    secretary.click(t("Close the poll…"), role="link")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Close “%(title)s”?", title=poll_title)
    )
    expect(page.locator(".turnout-count")).to_have_text(f"{cast} / {eligible}")
    secretary.shot("close-poll")
    secretary.click(t("Yes, close and count"))
    secretary.flash(t("The poll is closed and counted."))


def result_rows(person: Actor) -> dict[str, str]:
    """The result bars: option → "3 votes · 75%" as shown (without the
    glosses and badges beside the option's name)."""
    rows = {}
    for row in person.page.locator(".result-row").all():
        name = row.locator(".result-name").evaluate("node => node.firstChild.textContent")
        rows[name.strip()] = " ".join(row.locator(".result-count").inner_text().split())
    return rows


def poll_numbers(person: Actor) -> dict[str, str]:
    numbers = {}
    for pair in person.page.locator(".poll-numbers > div").all():
        numbers[pair.locator("dt").inner_text().strip()] = " ".join(
            pair.locator("dd").inner_text().split()
        )
    return numbers


def votes(t, num: int, percent: str) -> str:
    return f"{t.n('%(num)d vote', '%(num)d votes', num)} · {percent}"


# --- resolutions and minutes ---------------------------------------------------------------


@dataclass
class ResolutionText:
    agenda_item: str  # "1. …" as the form lists it
    text: str
    poll: str = ""  # the poll's title
    conditions: str = ""
    project: str = ""  # the title of a new project
    unit: str = ""
    budget: str = ""
    due_in_days: int = 90


def record_resolution(secretary: Actor, resolution: ResolutionText) -> None:
    t, page = secretary.t, secretary.page
    secretary.link(t("Record a resolution"))
    page.get_by_label(t("Agenda item")).select_option(label=resolution.agenda_item)
    if resolution.poll:
        poll = page.get_by_label(t("The poll it follows"))
        label = poll.locator("option", has_text=resolution.poll).inner_text()
        poll.select_option(label=label)
    page.get_by_label(t("What the meeting decided")).fill(resolution.text)
    if resolution.conditions:
        page.get_by_label(t("Conditions (optional)")).fill(resolution.conditions)
    if resolution.project:
        page.get_by_label(t("Open a new project")).check()
        page.get_by_label(t("Title of the new project")).fill(resolution.project)
        page.get_by_label(t("Responsible unit"), exact=True).fill(resolution.unit)
        due = datetime.now(SHANGHAI).date() + timedelta(days=resolution.due_in_days)
        page.get_by_label(t("Due date")).fill(due.isoformat())
        if resolution.budget:
            page.get_by_label(t("Budget in yuan (optional)")).fill(resolution.budget)
    secretary.shot("resolution-form")
    secretary.click(t("Record the resolution"))
    recorded = page.locator("#resolutions")
    expect(recorded).to_contain_text(resolution.text)
    if resolution.project:
        expect(recorded.locator(".resolution-project")).to_contain_text(resolution.project)


def publish_minutes(
    secretary: Actor, meeting_title: str, discussion: str, must_say: list[str]
) -> None:
    """Write the minutes from the draft made of the meeting's data, adding
    what was said, save, publish; then the public page of the minutes,
    which must say ``must_say``."""
    t, page = secretary.t, secretary.page
    meeting_tab(secretary, "Minutes")
    secretary.link(t("Write the minutes"))
    body = page.get_by_label(t("Minutes (Markdown)"))
    for text in must_say:
        expect(body).to_contain_text(text)
    # the draft marks what is still to write (meetings.minutes.placeholders)
    keyword = "To write: " if t.lang == "en" else "待填写："
    placeholder = f"【{keyword}{t('Discussion')}】"  # 【待填写：讨论情况】
    draft = body.input_value()
    assert placeholder in draft
    expect(page.locator(".placeholder-notice")).to_be_visible()
    said = discussion
    # what was said under the first item; the other items' places filled too,
    # or publishing asks first (the places still to write)
    nothing_further = "Nothing further was raised." if t.lang == "en" else "无其他意见。"
    body.fill(draft.replace(placeholder, said, 1).replace(placeholder, nothing_further))
    secretary.click(t("Preview"))
    expect(page.locator("#minutes-preview")).to_contain_text(said)
    secretary.shot("minutes-draft")
    secretary.click(t("Save as a new version"))
    secretary.flash(t("Saved as version %(number)d.", number=1))
    secretary.link(t("Publish…"))
    page.get_by_label(t("I have read this version: publish it to the residents.")).check()
    secretary.shot("minutes-publish")
    secretary.click(t("Publish the minutes"))
    secretary.flash(t("The minutes are published; the residents who asked have been told."))
    document = page.locator(".minutes-doc")
    expect(document).to_contain_text(meeting_title)
    for text in [*must_say, said]:
        expect(document).to_contain_text(text)
    secretary.shot("minutes-published")


# --- the public portal ---------------------------------------------------------------------


def read_portal(resident: Actor, community: Community, request_title: str, answer: str) -> None:
    """Home page → the community's portal → answered requests → the minutes."""
    t, page = resident.t, resident.page
    resident.goto("/")
    page.get_by_role("link", name=community.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(community.name)
    resident.shot("portal")
    resident.link(t("Answered requests"))
    card = page.locator(".request-card", has_text=request_title)
    expect(card.locator(".request-reply")).to_contain_text(answer)
    resident.shot("answered-requests")


# --- orders: intake, dispatch, claim, handling, rating ---------------------------------
# (居民点单 → 派单 → 接单 → 办理 → 反馈 → 评价)


@dataclass
class ConcernText(RequestText):
    """A concern a grid worker heard, for a resident with an account."""

    channel: str = "WeChat group"  # the English label
    photo: Path | None = None


def log_concern(worker: Actor, resident: Member, concern: ConcernText) -> None:
    """A grid worker logs a concern they heard for a resident with an
    account, with its channel and a photo; the request's page follows."""
    t, page = worker.t, worker.page
    worker.menu(t("Log a concern for a resident"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Log a concern for a resident"))
    page.get_by_label(t("has an account: I choose them")).check()
    pick_person(page, t("Resident with an account"), resident.name)
    page.get_by_label(t("How did it reach you?")).select_option(label=t(concern.channel))
    page.get_by_label(t("What is it about?")).fill(concern.title)
    page.get_by_label(t("Category")).select_option(label=t(concern.category))
    page.get_by_label(t("What did you hear?")).fill(concern.description)
    page.get_by_label(t("Where?")).fill(concern.location)
    if concern.photo:
        page.get_by_label(t("Photos (optional)")).set_input_files(concern.photo)
    worker.shot("intake")
    worker.click(t("Log the concern"))
    worker.flash(t("The concern of %(name)s was logged.", name=resident.name))
    expect(page.get_by_role("heading", level=1)).to_have_text(concern.title)
    facts = page.locator(".request-facts").first
    expect(facts).to_contain_text(resident.name)
    expect(facts).to_contain_text(t(concern.channel))
    if concern.photo:
        photo = page.locator(".request-photos img").first
        expect(photo).to_have_attribute("alt", t("Photo %(n)d of the problem", n=1))
        # the thumbnail is loaded and shown, not a broken image
        expect(photo).to_have_js_property("complete", True)
        assert photo.evaluate("img => img.naturalWidth") > 0
    worker.shot("concern-logged")


def order_panel(person: Actor):
    return person.page.locator("#order")


def dispatch_to_unit(secretary: Actor, unit: str, due: date, note: str = "") -> None:
    """派单: on the request's page, to a unit serving the community, due by ``due``."""
    t, page = secretary.t, secretary.page
    form = page.locator("form", has=page.get_by_role("button", name=t("Dispatch"), exact=True))
    form.get_by_role("group", name=t("Dispatch to")).get_by_label(t("A unit"), exact=True).check()
    form.get_by_role("combobox", name=t("Which unit"), exact=True).select_option(label=unit)
    form.get_by_label(t("Due by")).fill(due.isoformat())
    if note:
        form.get_by_label(t("Note for the assignee (optional)")).fill(note)
    secretary.shot("dispatch")
    secretary.click(t("Dispatch"))
    secretary.flash(t("Dispatched to %(assignee)s.", assignee=unit))
    expect(page.locator(".request-meta .status")).to_have_text(t("Dispatched"))
    expect(order_panel(secretary).locator(".order-facts")).to_contain_text(unit)
    secretary.shot("dispatched")


def open_my_order(worker: Actor, title: str, status: str) -> None:
    """My orders, then the order's page."""
    t, page = worker.t, worker.page
    worker.menu(t("My orders"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My orders"))
    card = page.locator(".request-card", has_text=title)
    expect(card.locator(".status")).to_have_text(t(status))
    worker.shot("my-orders")
    card.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def claim_order(worker: Actor, name: str) -> None:
    """接单, by ``name``."""
    t, page = worker.t, worker.page
    worker.click(t("Take on this order (接单)"))
    worker.flash(t("You have taken on this order."))
    expect(page.locator(".request-meta .status")).to_have_text(t("Being handled"))
    expect(order_panel(worker).locator(".order-facts")).to_contain_text(name)


def record_step(worker: Actor, note: str) -> None:
    """办理: a handling step with a note."""
    t = worker.t
    panel = order_panel(worker)
    panel.get_by_role("textbox", name=t("What was done"), exact=True).fill(note)
    worker.shot("step-form")
    worker.click(t("Record the step"))
    worker.flash(t("The step was recorded."))
    expect(panel.locator(".order-steps")).to_contain_text(note)


def mark_handled(worker: Actor, reply: str) -> None:
    """反馈: marked handled with the reply to the resident."""
    t, page = worker.t, worker.page
    order_panel(worker).get_by_role("textbox", name=t("Reply to the resident"), exact=True).fill(
        reply
    )
    worker.shot("handled-form")
    worker.click(t("Mark handled and send the reply"))
    worker.flash(t("Marked handled. The resident has your reply."))
    expect(page.locator(".request-meta .status")).to_have_text(
        t("Handled, waiting for the resident's rating")
    )
    expect(page.locator(".request-answer")).to_contain_text(reply)
    worker.shot("handled")


def rate_order(resident: Actor, score_label: str, comment: str) -> None:
    """评价: ``score_label`` is the English label of the score, e.g. "2 – Not satisfied"."""
    t = resident.t
    panel = order_panel(resident)
    panel.get_by_label(t(score_label), exact=True).check()
    panel.get_by_role("textbox", name=t("Comment (optional)"), exact=True).fill(comment)
    resident.shot("rating")
    resident.click(t("Send the rating"))


# --- the meeting in the room: the big screen, proxies, assisted ballots ----------------


def cast_from_ballot(voter: Actor, choice: str, principal: str = "") -> str:
    """On the ballot page: choose, Next, check, cast; the receipt's code.
    With ``principal``, the ballot a proxy casts for them (委托投票)."""
    t, page = voter.t, voter.page
    if principal:
        expect(page.locator(".proxy-ballot")).to_contain_text(principal)
    page.get_by_label(shown(t, choice), exact=True).check()
    voter.shot("proxy-ballot" if principal else "ballot")
    voter.click(t("Next"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Is this the choice of %(name)s?", name=principal)
        if principal
        else t("Is this your choice?")
    )
    expect(page.locator(".chosen-list")).to_have_text(shown(t, choice))
    voter.click(t("Yes, cast my vote"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Ballot cast on behalf of %(name)s", name=principal)
        if principal
        else t("You have voted — thank you")
    )
    receipt = page.locator(".receipt-code").inner_text().strip()
    assert len(receipt.replace("-", "")) >= 8, receipt
    voter.shot("proxy-receipt" if principal else "receipt")
    return receipt


def name_proxy(principal: Actor, meeting_title: str, proxy: str) -> None:
    """委托投票: on the meeting page, the principal names another attendee."""
    t, page = principal.t, principal.page
    open_meeting(principal, meeting_title)
    panel = page.locator("#proxy")
    expect(panel).to_contain_text(t("Cannot vote yourself? Another attendee can vote for you."))
    panel.get_by_role("link", name=t("Name a proxy (委托他人投票)")).click()
    page.get_by_label(t("Who votes for you")).select_option(label=proxy)
    principal.shot("name-proxy")
    principal.click(t("Name this proxy"))
    principal.flash(
        t("You have named %(name)s as your proxy. The secretary confirms it.", name=proxy)
    )
    expect(panel).to_contain_text(
        t("You have named %(name)s to vote for you: waiting for the secretary.", name=proxy)
    )
    principal.shot("proxy-named")


def confirm_proxy(secretary: Actor, proxy: str, principal: str) -> None:
    """The attendees page: the secretary confirms a proxy waiting for it."""
    t, page = secretary.t, secretary.page
    meeting_tab(secretary, "Attendees")
    row = page.locator(".proxy-row", has_text=principal)
    expect(row).to_contain_text(
        t("%(proxy)s votes for %(principal)s", proxy=proxy, principal=principal)
    )
    secretary.shot("proxy-requested")
    row.get_by_role("button", name=f"{t('Confirm')} {principal}").click()
    secretary.flash(
        t("Confirmed: %(proxy)s votes for %(principal)s.", proxy=proxy, principal=principal)
    )
    expect(page.locator(".proxy-row", has_text=principal).locator(".badge")).to_have_text(
        t("Confirmed")
    )


def record_assisted_ballot(secretary: Actor, voter: str, witness: str, choice: str) -> str:
    """From the poll's page: the ballot of a voter without a phone, with a
    named witness; the receipt to hand to the voter."""
    t, page = secretary.t, secretary.page
    secretary.link(t("Record an assisted ballot"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Record an assisted ballot"))
    page.get_by_label(t("Voter"), exact=True).select_option(label=voter)
    page.get_by_label(t("Witness"), exact=True).fill(witness)
    page.get_by_label(shown(t, choice), exact=True).check()
    secretary.shot("assisted-ballot")
    page.once("dialog", lambda dialog: dialog.accept())  # "Cast this ballot? …"
    secretary.click(t("Cast this ballot"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Ballot cast on behalf of %(name)s", name=voter)
    )
    receipt = page.locator(".receipt-code").inner_text().strip()
    assert len(receipt.replace("-", "")) >= 8, receipt
    secretary.shot("assisted-receipt")
    return receipt
