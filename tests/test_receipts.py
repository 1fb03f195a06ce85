"""From the home page (or the notification) to the receipt in at most four
taps, the receipt's copy control and "keep this code" line, and a later
visit's "You voted at HH:MM" — never the choice of a secret ballot — on the
page and in the API (``voted_at``)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from conftest import PASSWORD
from werkzeug.datastructures import MultiDict

from meetings.audit.models import AuditEntry
from meetings.extensions import db
from meetings.i18n import LANGUAGE_COOKIE
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.polls import services as poll_services

pytest_plugins = ["meeting_fixtures"]

MAX_TAPS = 4


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)  # radio and checkbox values
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text


class PageReader(HTMLParser):
    """The links and forms of a page, as a person would tap them."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []  # href, class, text
        self.forms: list[Form] = []
        self._link: list | None = None
        self._button: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self._link = [a["href"], a.get("class", ""), ""]
        elif tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            form = self.forms[-1]
            if a.get("type") in ("radio", "checkbox"):
                form.choices.setdefault(a["name"], []).append(a["value"])
            elif a.get("name"):
                form.fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and self.forms:
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data):
        if self._link is not None:
            self._link[2] += data
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links.append(tuple(self._link))
            self._link = None
        elif tag == "button" and self._button is not None:
            self.forms[-1].buttons.append(tuple(self._button))
            self._button = None


def read(response) -> PageReader:
    reader = PageReader()
    reader.feed(response.get_data(as_text=True))
    return reader


class Person:
    """A client that counts the taps: each link followed and form sent."""

    def __init__(self, app, user):
        self.client = app.test_client()
        self.client.set_cookie(LANGUAGE_COOKIE, "en")
        response = self.client.post(
            "/auth/login", data={"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302
        self.taps = 0

    def open(self, url: str):
        return self.client.get(url)

    def tap_link(self, response, text: str):
        href = next(href for href, _cls, label in read(response).links if text in label)
        self.taps += 1
        return self.client.get(href, follow_redirects=True)

    def send(self, response, button: str, choose_first: bool = False):
        """Fill in the form whose button reads ``button`` and press it."""
        form = next(f for f in read(response).forms if any(button in b[2] for b in f.buttons))
        data = list(form.fields)
        if choose_first:
            for name, values in form.choices.items():
                data.append((name, values[0]))
        name, value, _text = next(b for b in form.buttons if button in b[2])
        if name:
            data.append((name, value))
        self.taps += 1
        return self.client.post(form.action, data=MultiDict(data), follow_redirects=True)


@pytest.fixture
def vote(in_request, make_meeting, make_member, secretary, db):
    """A meeting in progress with two voters, and ``vote.poll(secret=…)`` opening a poll."""
    voter, other = make_member("王桂兰"), make_member("刘建国")
    meeting = make_meeting("scheduled", invite={voter: "resident_rep", other: "resident_rep"})
    item = meeting_services.add_agenda_item(secretary, meeting, "活动室改造方案")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.IN_PROGRESS)

    class Vote:
        pass

    found = Vote()
    found.voter, found.other, found.meeting = voter, other, meeting

    def make_poll(secret: bool = True, title: str = "是否铺设防滑地胶"):
        poll = poll_services.create_poll(
            secretary,
            item,
            poll_services.PollSpec(title=title, kind="yes_no_abstain", secret=secret),
        )
        poll_services.open_poll(secretary, poll)
        db.session.flush()
        return poll

    found.poll = make_poll
    return found


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_from_the_home_page_to_the_receipt_in_four_taps_at_most(app, vote):
    poll = vote.poll()
    person = Person(app, vote.voter)
    home = person.open("/")
    ballot = person.tap_link(home, "Vote now")
    assert ballot.status_code == 200 and "Choose one" in text(ballot)
    confirm = person.send(ballot, "Next", choose_first=True)
    assert "Is this your choice?" in text(confirm)
    receipt = person.send(confirm, "Yes, cast my vote")
    assert receipt.status_code == 200
    assert "Your receipt" in text(receipt)
    assert poll_services.has_voted(vote.voter, poll)
    # home → ballot → confirm → receipt
    assert 1 + person.taps <= MAX_TAPS


def test_from_the_notification_to_the_receipt_in_four_taps_at_most(app, vote):
    vote.poll()
    person = Person(app, vote.voter)
    inbox = person.open("/notifications")
    ballot = person.tap_link(inbox, "是否铺设防滑地胶")  # its subject, in Chinese
    assert "Choose one" in text(ballot)
    confirm = person.send(ballot, "Next", choose_first=True)
    receipt = person.send(confirm, "Yes, cast my vote")
    assert "Your receipt" in text(receipt)
    assert 1 + person.taps <= MAX_TAPS


def test_the_receipt_has_a_copy_control_and_says_to_keep_the_code(app, vote):
    poll = vote.poll()
    person = Person(app, vote.voter)
    ballot = person.open(f"/polls/{poll.id}/vote")
    receipt = person.send(person.send(ballot, "Next", choose_first=True), "Yes, cast my vote")
    page = receipt.get_data(as_text=True)
    code = re.search(r'<p class="receipt-code" translate="no" id="receipt-code">([^<]+)</p>', page)
    assert code is not None
    assert re.search(r'<button type="button"[^>]*data-copy="receipt-code"[^>]*hidden>', page)
    assert 'src="/static/js/copy.js"' in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None  # no inline script (CSP)
    assert "Keep this code: write it down or copy it." in text(receipt)
    assert "You voted at" not in page  # the receipt itself is enough


def test_a_later_visit_says_when_they_voted_never_what(app, vote):
    poll = vote.poll(secret=True)
    poll_services.cast_ballot(vote.voter, poll, [poll.options[1].id])  # 反对
    db.session.flush()
    entry = db.session.scalar(
        db.select(AuditEntry).where(
            AuditEntry.action == "ballot.cast", AuditEntry.actor_id == vote.voter.id
        )
    )
    page = text(Person(app, vote.voter).open(f"/polls/{poll.id}/vote"))
    assert "You have already voted" in page
    voted_at = re.search(
        r'You voted at <time datetime="([^"]+)">(\d{1,2}:\d\d)[^<]*</time>\.', page
    )
    assert voted_at is not None
    assert voted_at.group(1) == entry.at.isoformat()
    assert "Your receipt was shown" not in page and "already shown" not in page
    # nothing of the choice: no option's label, no receipt
    body = page.split('<div class="ballot voted-state">', 1)[1]
    assert "反对" not in body and "赞成" not in body and "Against" not in body
    assert "receipt-code" not in body


def test_the_api_says_when_the_caller_voted(client, bearer, vote):
    poll = vote.poll(secret=True)
    url = f"/api/v1/polls/{poll.id}"
    before = client.get(url, headers=bearer(vote.voter)).get_json()
    assert before["has_voted"] is False and before["voted_at"] is None
    client.post(
        f"{url}/ballots", json={"option_ids": [poll.options[0].id]}, headers=bearer(vote.voter)
    )
    mine = client.get(url, headers=bearer(vote.voter)).get_json()
    assert mine["has_voted"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00", mine["voted_at"])
    theirs = client.get(url, headers=bearer(vote.other)).get_json()
    assert theirs["has_voted"] is False and theirs["voted_at"] is None
