"""What the draft leaves for the secretary to write, marked in one way and
found in one way: ``marker()`` writes a place still to write into the draft,
``placeholders_left()`` finds every such place in a text, so that the editor
can list them and publishing can stop at them.

A marker reads ``【待填写：讨论情况】`` in a Chinese draft and ``【To write:
Discussion】`` in an English one. Its keyword is fixed here, not translated:
the check must find it whatever the catalogue says, and in a draft written in
the other language. What follows the keyword (the thing to write) comes from
the catalogue. Drafts written before the marker existed left the line
"讨论情况：……" (English "Discussion: …"): those are found too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _

# The marker's keyword, by the language of the draft (fixed, see above).
KEYWORDS = {"zh": "待填写", "en": "To write"}
OPEN, CLOSE = "【", "】"

MARKER = re.compile(
    OPEN
    + "(?:"
    + "|".join(re.escape(word) for word in KEYWORDS.values())
    + r")\s*[：:]\s*(?P<what>[^"
    + CLOSE
    + r"\n]{0,80})"
    + CLOSE
)
# The placeholder line of drafts written before the marker (whole lines only).
LEGACY = re.compile(r"^[ \t]*(?P<what>讨论情况|Discussion)[ \t]*[：:][ \t]*(?:……|…|\.\.\.)[ \t]*$")
_HEADING = re.compile(r"^#{1,6}[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")
# The planned duration the draft puts after an agenda item's title: “ (30 min)”, “ （30分钟）”.
_DURATION = re.compile(r"\s*[（(][^（）()]*\d[^（）()]*[）)]$")


def _chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def marker(what: str) -> str:
    """A place still to write, in the draft's language: ``【待填写：讨论情况】``."""
    if _chinese():
        return f"{OPEN}{KEYWORDS['zh']}：{what}{CLOSE}"
    return f"{OPEN}{KEYWORDS['en']}: {what}{CLOSE}"


def discussion_marker() -> str:
    """The place under each agenda item for what was said about it."""
    return marker(_("Discussion"))


@dataclass(frozen=True)
class Placeholder:
    """One place still to write: what, under which heading, on which line."""

    what: str
    section: str | None
    line: int  # 1-based

    @property
    def description(self) -> str:
        """E.g. “讨论情况 (1. 网格长通报现场查看情况)”."""
        what = self.what or _("text")
        return f"{what} ({self.section})" if self.section else what


def placeholders_left(text: str | None) -> list[Placeholder]:
    """Every place in ``text`` still marked as to write, in order."""
    found: list[Placeholder] = []
    section: str | None = None
    for number, line in enumerate((text or "").splitlines(), start=1):
        heading = _HEADING.match(line)
        if heading:
            section = _DURATION.sub("", heading.group("title").replace("\\", ""))
        for match in MARKER.finditer(line):
            found.append(Placeholder(match.group("what").strip(), section, number))
        legacy = LEGACY.match(line)
        if legacy:
            found.append(Placeholder(legacy.group("what"), section, number))
    return found


def descriptions(text: str | None) -> list[str]:
    """``placeholders_left`` as short strings (for the history and the API)."""
    return [place.description for place in placeholders_left(text)]


def fill(text: str, writings: list[str]) -> str:
    """The text with its markers replaced, in order, by ``writings`` (the demo
    minutes; markers beyond the list stay)."""
    remaining = iter(writings)

    def replace(match: re.Match) -> str:
        return next(remaining, match.group(0))

    return MARKER.sub(replace, text)
