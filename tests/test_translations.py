"""Chinese is the default interface language, so its catalog must be complete.

A string added to the code or a template without a translation fails here.
To fix: ``make extract-messages``, translate the new entries in
``meetings/translations/zh_Hans_CN/LC_MESSAGES/messages.po`` (Babel spells
zh_CN as zh_Hans_CN, and gettext looks for that directory), ``make translations``.
The English catalog keeps empty translations: English falls back to the msgids.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "meetings" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
CHINESE = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
ENGLISH = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"

# %(name)s, %(n)d, %s … but not %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?P<kind>[diouxXeEfFgGcrsa%])"
)


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _messages(path: Path) -> list:
    return [message for message in _catalog(path) if message.id]


def _ids(path: Path) -> set:
    return {message.id for message in _messages(path)}


def _texts(value) -> list[str]:
    """A message's id or string as a list (plural forms are tuples)."""
    return list(value) if isinstance(value, tuple | list) else [value]


def _placeholders(text: str) -> Counter:
    return Counter(
        (match["name"], match["kind"])
        for match in PLACEHOLDER.finditer(text)
        if match["kind"] != "%"
    )


def _lines(items) -> str:
    return "".join(f"\n  {item}" for item in items) or " none"


def _extracted_ids() -> set:
    """What ``make extract-messages`` would put in the template, read from the sources."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = dict(DEFAULT_KEYWORDS, _l=None)
    ids = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        message_id = tuple(message) if isinstance(message, tuple | list) else message
        if message_id:
            ids.add((context, message_id) if context else message_id)
    return ids


@pytest.fixture(scope="module")
def chinese() -> list:
    return _messages(CHINESE)


def test_the_template_lists_every_string_of_the_sources():
    in_sources = _extracted_ids()
    in_template = _ids(TEMPLATE)
    missing = sorted(map(str, in_sources - in_template))
    stale = sorted(map(str, in_template - in_sources))
    if missing or stale:
        pytest.fail(
            "messages.pot is out of date: run `make extract-messages`, then translate.\n"
            f"New strings:{_lines(missing)}\nStrings no longer used:{_lines(stale)}",
            pytrace=False,
        )


def test_both_catalogs_hold_every_string_of_the_template():
    in_template = _ids(TEMPLATE)
    for catalog in (CHINESE, ENGLISH):
        assert _ids(catalog) == in_template, (
            f"{catalog.relative_to(ROOT)} differs from messages.pot; run `make extract-messages`"
        )


def test_every_chinese_string_is_translated(chinese):
    untranslated = [m.id for m in chinese if not all(s.strip() for s in _texts(m.string))]
    if untranslated:
        pytest.fail(
            f"Untranslated in {CHINESE.relative_to(ROOT)}:{_lines(untranslated)}", pytrace=False
        )


def test_no_chinese_translation_is_fuzzy(chinese):
    fuzzy = [m.id for m in chinese if m.fuzzy]
    if fuzzy:
        pytest.fail(f"Fuzzy in {CHINESE.relative_to(ROOT)}:{_lines(fuzzy)}", pytrace=False)


def test_chinese_translations_keep_the_placeholders(chinese):
    wrong = []
    for message in chinese:
        expected = _placeholders(_texts(message.id)[0])
        if "python-format" not in message.flags and not expected:
            continue  # a literal "%" in plain text is no placeholder
        for string in _texts(message.string):
            if string and _placeholders(string) != expected:
                wrong.append(f"{message.id!r} → {string!r}")
    if wrong:
        pytest.fail(f"Placeholders differ between msgid and msgstr:{_lines(wrong)}", pytrace=False)


def test_english_falls_back_to_the_source_strings():
    translated = [m.id for m in _messages(ENGLISH) if any(_texts(m.string))]
    if translated:
        pytest.fail(
            f"English needs no translation, but these have one:{_lines(translated)}", pytrace=False
        )


def test_pages_are_in_chinese_by_default(client):
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "用户名" in html
    assert "Username" not in html


def test_pages_are_in_english_when_the_browser_asks_for_it(client):
    page = client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Username" in html
