"""An Atom feed (RFC 4287) of a community's published minutes, built with
``xml.etree`` so that every text is escaped by the XML writer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from auth.models import Community
from meetings.minutes.models import MinutesVersion
from meetings.minutes.render import plain_text, render_markdown

ATOM = "http://www.w3.org/2005/Atom"
XML = "http://www.w3.org/XML/1998/namespace"
SUMMARY_LENGTH = 200


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def minutes_feed(
    community: Community,
    versions: list[MinutesVersion],
    *,
    title: str,
    feed_url: str,
    page_url: str,
    minutes_url: Callable[[MinutesVersion], str],
    language: str,
    now: datetime,
) -> bytes:
    """The feed document. Each entry is a meeting's current minutes; its id
    stays the same across corrections, and ``updated`` moves with them."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {f"{{{XML}}}lang": language})
    _sub(feed, "id", feed_url)
    _sub(feed, "title", title)
    updated = max((v.published_at for v in versions if v.published_at), default=now)
    _sub(feed, "updated", _time(updated))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    author = _sub(feed, "author")
    _sub(author, "name", community.name)
    for version in versions:
        meeting = version.meeting
        url = minutes_url(version)
        entry = _sub(feed, "entry")
        _sub(entry, "id", url.split("?", 1)[0])
        _sub(entry, "title", meeting.title)
        _sub(entry, "updated", _time(version.published_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        summary = plain_text(version.body_markdown)
        if len(summary) > SUMMARY_LENGTH:
            summary = summary[:SUMMARY_LENGTH] + "…"
        _sub(entry, "summary", summary)
        _sub(entry, "content", str(render_markdown(version.body_markdown)), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
