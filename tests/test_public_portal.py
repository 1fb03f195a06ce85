"""The public side of the minutes, without an account: the community portal,
the published minutes with their superseded versions, the answered
requests (nothing personal about the requester), the Atom feed, the search
(more in test_search*.py), the print stylesheet and the PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from xml.etree import ElementTree as ET

import pytest
from meeting_helpers import fresh

from meetings.extensions import db as _db
from meetings.extensions import limiter
from meetings.minutes import services
from meetings.projects.models import Project
from meetings.search.services import search

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

ATOM = "{http://www.w3.org/2005/Atom}"


def _parse(data: bytes) -> ET.Element:
    """The feed as XML: our own output, parsed to prove it is well-formed."""
    return ET.fromstring(data)  # noqa: S314 — the app's own document, not untrusted input


@pytest.fixture
def committed(published):
    """Commit the published minutes, so that requests through the client see them."""
    _db.session.commit()
    return published


def test_the_portal_links_minutes_projects_answered_requests_and_search(
    client, community, committed
):
    page = client.get(f"/communities/{community.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f'href="/minutes/{committed.meeting_id}"' in body
    assert f'href="/communities/{community.id}/projects"' in body
    assert f'href="/communities/{community.id}/answered"' in body
    assert f'href="/communities/{community.id}/minutes"' in body
    assert 'action="/search"' in body
    assert 'type="application/atom+xml" title=' in body


def test_the_main_page_links_each_communitys_portal(client, community):
    assert f'href="/communities/{community.id}"' in client.get("/").get_data(as_text=True)


def test_published_minutes_come_newest_first_with_results_and_resolutions(
    english, community, committed, make_meeting, secretary, in_request
):
    later = make_meeting("closed", title="电梯轿厢广告清理协商会")
    services.publish(secretary, services.save_version(secretary, later, "# 电梯广告\n"))
    _db.session.commit()
    body = english.get(f"/communities/{community.id}/minutes").get_data(as_text=True)
    assert body.index("电梯轿厢广告清理协商会") < body.index("活动室改造出新协商议事会")
    assert "同意对182幢活动室进行改造" in body
    assert "Project: 活动室改造出新" in body and "responsible: 物业公司" in body
    assert "是否改造活动室" in body and "Show of hands" in body


def test_a_meeting_without_published_minutes_has_no_public_minutes(client, held_meeting, secretary):
    services.save_version(secretary, held_meeting.meeting, "# 草稿\n")
    _db.session.commit()
    assert client.get(f"/minutes/{held_meeting.meeting.id}").status_code == 404
    assert client.get(f"/minutes/{held_meeting.meeting.id}.pdf").status_code == 404


def test_pdfs_are_rate_limited_per_visitor(app, client, monkeypatch):
    """Making a PDF is costly: its route checks its own limit (the app has
    no blanket check before every request), before looking for minutes."""
    monkeypatch.setitem(app.config, "PDF_RATE_LIMIT", "2 per minute")
    limiter.reset()
    statuses = [client.get("/minutes/999999.pdf").status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    assert client.get("/minutes/999999").status_code == 404  # pages are not limited
    limiter.reset()


def test_a_corrected_version_stays_readable_as_superseded(
    english, held_meeting, secretary, committed
):
    meeting = held_meeting.meeting
    services.correct(secretary, meeting, "# 活动室改造\n\n决定铺设防滑地胶。\n")
    _db.session.commit()
    current = english.get(f"/minutes/{meeting.id}").get_data(as_text=True)
    assert "决定铺设防滑地胶。" in current and "Superseded: this version" not in current
    assert f'href="/minutes/{meeting.id}?version=1"' in current
    old = english.get(f"/minutes/{meeting.id}?version=1").get_data(as_text=True)
    assert "决定铺设防滑地板。" in old
    assert "Superseded: this version was corrected by version 2." in old
    assert english.get(f"/minutes/{meeting.id}?version=3").status_code == 404
    diff = english.get(f"/meetings/{meeting.id}/minutes/diff?old=1&new=2")
    assert diff.status_code == 200 and "<ins>胶</ins>" in diff.get_data(as_text=True)


def test_a_draft_is_never_shown_to_the_public(client, held_meeting, secretary, committed):
    services.save_version(secretary, held_meeting.meeting, "# 尚未公开的更正\n")
    _db.session.commit()
    meeting_id = held_meeting.meeting.id
    assert "尚未公开的更正" not in client.get(f"/minutes/{meeting_id}").get_data(as_text=True)
    assert client.get(f"/minutes/{meeting_id}?version=2").status_code == 404
    assert client.get(f"/meetings/{meeting_id}/minutes/versions/2").status_code == 404
    assert client.get(f"/meetings/{meeting_id}/minutes/diff?old=1&new=2").status_code == 404


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_public_pages_show_no_personal_data(
    client, db, held_meeting, secretary, resident, community
):
    resident.email = "wang.ayi@example.org"
    held_meeting.request.contact = "13812345678"
    held_meeting.cppcc.email = "qian@example.org"
    version = services.save_version(
        secretary, held_meeting.meeting, "# 纪要\n\n出席：钱政协（政协委员）\n"
    )
    services.publish(secretary, version)
    db.session.commit()
    meeting_id = held_meeting.meeting.id
    pages = [
        f"/communities/{community.id}",
        f"/communities/{community.id}/minutes",
        f"/communities/{community.id}/answered",
        f"/minutes/{meeting_id}",
        f"/meetings/{meeting_id}",
        f"/communities/{community.id}/minutes.atom",
        "/search?q=%E7%BA%AA%E8%A6%81",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        for secret in ("13812345678", "@example.org"):
            assert secret not in body, (url, secret)
    answered = client.get(f"/communities/{community.id}/answered").get_data(as_text=True)
    assert "活动室地板磨损" in answered  # the request is listed …
    assert "王阿姨" not in _visible_text(answered)  # … without its requester
    assert "182幢一层活动室的地板磨损严重" not in answered  # nor the resident's own words
    assert "优山美地花园182幢一层" not in answered  # nor where it is
    attendees = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "钱政协" in attendees  # attendees' names and roles are public


def test_answered_requests_show_the_reply_minutes_and_project(
    english, community, held_meeting, committed
):
    body = english.get(f"/communities/{community.id}/answered").get_data(as_text=True)
    assert "同意对182幢活动室进行改造" in body
    assert f'href="/minutes/{held_meeting.meeting.id}"' in body
    assert f'href="/projects/{held_meeting.project.id}"' in body


# --- the feed -----------------------------------------------------------------------------


def test_the_atom_feed_parses_and_lists_the_published_minutes(
    client, community, committed, held_meeting, make_meeting, secretary, in_request
):
    services.save_version(secretary, make_meeting("closed", title="未发布的会"), "# 草稿\n")
    _db.session.commit()
    response = client.get(f"/communities/{community.id}/minutes.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = _parse(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert community.name in feed.find(f"{ATOM}title").text
    assert feed.find(f"{ATOM}author/{ATOM}name").text == community.name
    assert (
        feed.find(f"{ATOM}link[@rel='self']")
        .get("href")
        .endswith(f"/communities/{community.id}/minutes.atom")
    )
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["活动室改造出新协商议事会"]
    entry = entries[0]
    assert entry.find(f"{ATOM}id").text.endswith(f"/minutes/{held_meeting.meeting.id}")
    assert (
        entry.find(f"{ATOM}link")
        .get("href")
        .endswith(f"/minutes/{held_meeting.meeting.id}?version=1")
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.find(f"{ATOM}updated").text)
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html" and "<p>决定铺设防滑地板。</p>" in content.text


def test_the_feed_escapes_what_people_typed(client, community, held_meeting, secretary, db):
    held_meeting.meeting.title = "会议 <b>&</b> ]]>"
    services.publish(
        secretary, services.save_version(secretary, held_meeting.meeting, "a & b < c ]]>\n")
    )
    db.session.commit()
    feed = _parse(client.get(f"/communities/{community.id}/minutes.atom").data)
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "会议 <b>&</b> ]]>"
    assert "a &amp; b &lt; c ]]&gt;" in entry.find(f"{ATOM}content").text


def test_an_empty_feed_is_valid(client, community):
    feed = _parse(client.get(f"/communities/{community.id}/minutes.atom").data)
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.find(f"{ATOM}updated").text


# --- search -------------------------------------------------------------------------------


def test_search_finds_a_chinese_word_inside_the_minutes(english, committed, held_meeting):
    response = english.get("/search", query_string={"q": "防滑地板"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'href="/minutes/{held_meeting.meeting.id}"' in body
    assert "<mark>防滑地板</mark>" in body


def test_search_finds_projects_by_title(english, committed, held_meeting):
    body = english.get("/search", query_string={"q": "改造出新"}).get_data(as_text=True)
    assert f'href="/projects/{held_meeting.project.id}"' in body


def test_search_takes_percent_and_underscore_literally(committed, community, db):
    assert search("%").items == []
    assert search("_").items == []
    assert search("防滑%地板").items == []
    db.session.add(Project(community=community, title="100%_完成的项目", responsible_unit="社区"))
    db.session.flush()
    assert [hit.title for hit in search("100%_完成").items] == ["100%_完成的项目"]
    assert search("100_%完成").items == []


def test_search_is_limited_to_a_community_and_ignores_drafts(
    committed, community, other_community, held_meeting, secretary
):
    assert len(search("防滑地板", community.id, kind="minutes").items) == 1
    assert search("防滑地板", other_community.id).items == []
    services.save_version(secretary, held_meeting.meeting, "# 只在草稿里的词：无障碍坡道\n")
    assert search("无障碍坡道").items == []


def test_an_empty_or_overlong_search_is_answered_calmly(client):
    assert client.get("/search").status_code == 200
    assert client.get("/search", query_string={"q": ""}).status_code == 422
    assert client.get("/search", query_string={"q": "字" * 101}).status_code == 422


# --- print and PDF ------------------------------------------------------------------------


def test_the_minutes_page_has_a_print_stylesheet(client, committed, app):
    body = client.get(f"/minutes/{committed.meeting_id}").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in body
    assert "data-print" in body and "/static/js/print.js" in body
    with client.get("/static/css/print.css") as response:
        css = response.get_data(as_text=True)
    assert "size: A4" in css and ".site-header" in css


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its Flate streams inflated: WeasyPrint packs the font
    dictionaries into compressed object streams."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"".join(parts)


def test_the_pdf_embeds_a_cjk_font(client, committed, tmp_path):
    if (
        shutil.which("fc-list")
        and not subprocess.run(
            ["fc-list", ":lang=zh"], capture_output=True, text=True, check=False
        ).stdout.strip()
    ):
        pytest.fail("no Chinese font on this machine: apt-get install fonts-wqy-microhei")
    response = client.get(f"/minutes/{committed.meeting_id}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert (
        f'filename="minutes-{committed.meeting_id}-v1.pdf"'
        in response.headers["Content-Disposition"]
    )
    if shutil.which("pdffonts"):
        path = tmp_path / "minutes.pdf"
        path.write_bytes(response.data)
        fonts = subprocess.run(
            ["pdffonts", str(path)], capture_output=True, text=True, check=True
        ).stdout
        assert "WenQuanYi" in fonts or "NotoSansCJK" in fonts or "NotoSans" in fonts, fonts
        assert " yes " in fonts  # embedded
    else:  # no poppler: look for the font's name in the PDF's (compressed) objects
        text = pdf_objects(response.data)
        assert b"WenQuanYi" in text or b"NotoSansCJK" in text
        assert b"/FontFile" in text  # embedded
    if shutil.which("pdftotext"):
        path = tmp_path / "minutes.pdf"
        path.write_bytes(response.data)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "决定铺设防滑地板" in text
        assert "活动室改造出新协商议事会" in text


def test_the_pdf_of_a_superseded_version_says_so(
    client, held_meeting, secretary, committed, tmp_path
):
    services.correct(secretary, held_meeting.meeting, "# 更正后的纪要\n")
    _db.session.commit()
    response = client.get(f"/minutes/{committed.meeting_id}.pdf?version=1")
    assert response.status_code == 200
    if shutil.which("pdftotext"):
        path = tmp_path / "old.pdf"
        path.write_bytes(response.data)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "决定铺设防滑地板" in text and "2" in text


def test_a_repeated_pdf_request_is_not_rendered_again(client, committed):
    first = client.get(f"/minutes/{committed.meeting_id}.pdf")
    again = client.get(
        f"/minutes/{committed.meeting_id}.pdf", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_public_pages_work_for_a_resident_too(client, login, resident, committed, community):
    login(resident)
    assert client.get(f"/minutes/{committed.meeting_id}").status_code == 200
    assert client.get(f"/communities/{community.id}").status_code == 200
    assert fresh(committed).published_at is not None
