"""Markdown → safe HTML for the minutes.

markdown-it-py renders CommonMark (with tables and strikethrough) with raw
HTML switched off, so ``<script>`` typed into the minutes comes out as text;
nh3 (ammonia) then cleans the result against a tight allow-list as a second
wall: no ``style``, no ``on*`` attributes, no images, no frames, links only to
http(s), mailto and this site's own paths, each with
``rel="noopener noreferrer nofollow"``.

Images are not allowed: a picture in published minutes would be fetched from
wherever its address points (tracking the residents who read them, or
reaching into the server's network when the PDF is made). ``![text](url)``
therefore renders as a plain link to the address.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "p",
        "br",
        "hr",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "em",
        "strong",
        "del",
        "s",
        "a",
        "code",
        "pre",
        "blockquote",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
# Tags whose content is dropped with them, should any survive the Markdown step.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template"})


def _site_path_only(url: str) -> str | None:
    """Relative links: a path on this site (``/communities/1/projects``) or an
    anchor; nothing scheme-relative (``//elsewhere``) or odd."""
    if url.startswith("#") or (url.startswith("/") and not url.startswith("//")):
        return url if "\\" not in url else None
    return None


_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    url_relative=_site_path_only,
    link_rel=LINK_REL,
    strip_comments=True,
)

# CommonMark, raw HTML off; tables and ~~strikethrough~~ on; a line break
# typed by the secretary is a line break (what people who do not know
# Markdown expect, and no stray spaces between lines of Chinese text).
_markdown = (
    MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    .enable(["table", "strikethrough"])
    .disable("image")
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Speed: the public lists render the same published texts again and again
# (a page of 200 of the public minutes API spent 250 ms of its 380 in
# Markdown at five years of history; a page of 50 or the Atom feed, 60).
# Versions never change, so the texts rendered last are kept, keyed by the
# text itself (never by an id, which a restored database could reuse): a
# few megabytes per worker.
RENDERED_KEPT = 512


def render_markdown(text: str) -> Markup:
    """The minutes' Markdown as HTML that is safe to put in a page."""
    return Markup(_safe_html(text or ""))  # noqa: S704 — cleaned by nh3


@lru_cache(maxsize=RENDERED_KEPT)
def _safe_html(text: str) -> str:
    html = _markdown.render(_CONTROL.sub("", text))
    return _cleaner.clean(html)


@lru_cache(maxsize=RENDERED_KEPT)
def plain_text(text: str) -> str:
    """The text without its Markdown markup and tags, e.g. for a summary."""
    html = _markdown.render(_CONTROL.sub("", text or ""))
    stripped = nh3.clean(html, tags=set())
    return re.sub(r"\s+", " ", _unescape(stripped)).strip()


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&amp;", "&")
    )
