"""What changed between two versions of the minutes, line by line, and within
a changed line character by character (a line of Chinese is often a whole
paragraph, and the edit a few characters in it).

The result is data, not HTML: templates render it with autoescaping on, so
nothing in either text can become markup.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

# Lines further apart than this are shown as removed and added, not compared
# character by character.
SIMILAR_ENOUGH = 0.4
CONTEXT = 3  # unchanged lines shown around each change


@dataclass(frozen=True)
class Segment:
    kind: str  # "same", "removed", "added"
    text: str


@dataclass
class DiffLine:
    kind: str  # "same", "removed", "added", "changed", "gap"
    old_number: int | None = None
    new_number: int | None = None
    old: list[Segment] = field(default_factory=list)
    new: list[Segment] = field(default_factory=list)
    skipped: int = 0  # for a "gap": how many unchanged lines are not shown


def _inline(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    before: list[Segment] = []
    after: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            before.append(Segment("same", old[i1:i2]))
            after.append(Segment("same", new[j1:j2]))
            continue
        if i2 > i1:
            before.append(Segment("removed", old[i1:i2]))
        if j2 > j1:
            after.append(Segment("added", new[j1:j2]))
    return before, after


def _pair(old: str, new: str, old_number: int, new_number: int) -> list[DiffLine]:
    ratio = difflib.SequenceMatcher(None, old, new, autojunk=False).ratio()
    if ratio < SIMILAR_ENOUGH:
        return [
            DiffLine("removed", old_number=old_number, old=[Segment("removed", old)]),
            DiffLine("added", new_number=new_number, new=[Segment("added", new)]),
        ]
    before, after = _inline(old, new)
    return [DiffLine("changed", old_number, new_number, before, after)]


def diff_lines(old_text: str, new_text: str, context: int = CONTEXT) -> list[DiffLine]:
    """The changes from ``old_text`` to ``new_text`` with ``context`` unchanged
    lines around each; longer unchanged stretches become a "gap"."""
    old = old_text.splitlines()
    new = new_text.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [
                DiffLine("same", i + 1, j + 1, [Segment("same", old[i])], [Segment("same", new[j])])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        removed, added = old[i1:i2], new[j1:j2]
        paired = min(len(removed), len(added)) if tag == "replace" else 0
        for k in range(paired):
            lines += _pair(removed[k], added[k], i1 + k + 1, j1 + k + 1)
        lines += [
            DiffLine("removed", old_number=i1 + k + 1, old=[Segment("removed", removed[k])])
            for k in range(paired, len(removed))
        ]
        lines += [
            DiffLine("added", new_number=j1 + k + 1, new=[Segment("added", added[k])])
            for k in range(paired, len(added))
        ]
    return _with_gaps(lines, context)


def _with_gaps(lines: list[DiffLine], context: int) -> list[DiffLine]:
    changed = [i for i, line in enumerate(lines) if line.kind != "same"]
    if not changed:
        return []
    keep = set()
    for i in changed:
        keep.update(range(max(0, i - context), min(len(lines), i + context + 1)))
    result: list[DiffLine] = []
    skipped = 0
    for i, line in enumerate(lines):
        if i in keep:
            if skipped:
                result.append(DiffLine("gap", skipped=skipped))
                skipped = 0
            result.append(line)
        else:
            skipped += 1
    if skipped:
        result.append(DiffLine("gap", skipped=skipped))
    return result


def unified_text(old_text: str, new_text: str, old_name: str, new_name: str) -> str:
    """A plain unified diff, e.g. for the API."""
    return "".join(
        difflib.unified_diff(
            _ended(old_text).splitlines(keepends=True),
            _ended(new_text).splitlines(keepends=True),
            fromfile=old_name,
            tofile=new_name,
        )
    )


def _ended(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"
