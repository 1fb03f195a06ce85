"""Cutting text into the search index's tokens (see ``models``' docstring).

A text is normalised first (NFKC: full-width letters and digits become the
usual ones, ``Ａ３`` is ``A3``; then lower case). Then:

* each run of Chinese characters gives each character and each pair of
  neighbouring characters (bigram): ``充电棚`` → 充, 电, 棚, 充电, 电棚;
* each run of other letters and digits gives one word, cut to ``TOKEN_MAX``:
  ``3号楼`` → ``3`` and the Chinese run ``号楼``; ``Wi-Fi`` → ``wi``, ``fi``.

A query is cut the same way, except that a Chinese run of two or more
characters gives only its bigrams (a document holding 充电 holds 充 and 电):
``充电`` is one token, so a two-character word is one index lookup."""

from __future__ import annotations

import re
import unicodedata

from meetings.search.models import TOKEN_MAX

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# a run of Chinese characters, or a run of other letters and digits
_RUN = re.compile(rf"([{_HAN}]+)|([^\W_{_HAN}]+)")


def normalise(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _runs(text: str | None):
    for match in _RUN.finditer(normalise(text)):
        han, word = match.groups()
        yield (han, True) if han else (word, False)


def tokenize(text: str | None) -> set[str]:
    """The tokens of a document's text."""
    found: set[str] = set()
    for run, han in _runs(text):
        if han:
            found.update(run)
            found.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            found.add(run[:TOKEN_MAX])
    return found


def query_tokens(query: str | None) -> set[str]:
    """The tokens every match must hold (a document's tokens include them)."""
    found: set[str] = set()
    for run, han in _runs(query):
        if han and len(run) > 1:
            found.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            found.add(run[:TOKEN_MAX])
    return found
