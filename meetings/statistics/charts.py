"""Charts drawn on the server as inline SVG: no script, no library.

A chart is a picture of a table that follows it on the page (the table is
what screen readers read; the SVG carries a title and ``role="img"``). Bars
are horizontal, each under its label, so that long Chinese labels fit a
360 px phone; the drawing is 320 units wide and scales with its box
(``static/css/charts.css``), prints in black and white (patterns by shade),
and its text stays the size of the page's small text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

WIDTH = 320
LABEL_HEIGHT = 17
BAR_HEIGHT = 14
ROW_GAP = 8
VALUE_SPACE = 64  # room after the longest bar for its figure

_ids = count(1)


@dataclass
class Bar:
    label: str
    value: float
    # the figure written after the bar (e.g. "12 (40%)"); the value by default
    text: str | None = None
    # several parts drawn end to end (e.g. on time, late): values and CSS classes
    parts: Sequence[tuple[float, str]] = ()


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    maximum: float | None = None,
    legend: Sequence[tuple[str, str]] = (),
) -> Markup:
    """Horizontal bars, one under each label, and under them the key of the
    parts' colours (``legend``: label, CSS class); an empty chart says
    nothing more than its table does, so it is not drawn."""
    if not bars or not any(bar.value for bar in bars):
        return Markup("")
    top = maximum or max(bar.value for bar in bars) or 1
    scale = (WIDTH - VALUE_SPACE) / top
    row = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    height = row * len(bars) + (LABEL_HEIGHT + 4) * len(legend)
    chart_id = f"chart-{next(_ids)}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}">{escape(title)}</title>',
    ]
    for index, bar in enumerate(bars):
        y = index * row
        parts.append(
            f'<text class="chart-label" x="0" y="{y + LABEL_HEIGHT - 4}">{escape(bar.label)}</text>'
        )
        bar_y = y + LABEL_HEIGHT
        x = 0.0
        pieces = bar.parts or [(bar.value, "chart-bar")]
        for value, css in pieces:
            width = max(0.0, value * scale)
            if width:
                parts.append(
                    f'<rect class="{escape(css)}" x="{x:.1f}" y="{bar_y}" '
                    f'width="{width:.1f}" height="{BAR_HEIGHT}"/>'
                )
            x += width
        text = bar.text if bar.text is not None else _number(bar.value)
        parts.append(
            f'<text class="chart-value" x="{x + 4:.1f}" y="{bar_y + BAR_HEIGHT - 3}">'
            f"{escape(text)}</text>"
        )
    for index, (label, css) in enumerate(legend):
        y = row * len(bars) + index * (LABEL_HEIGHT + 4)
        parts.append(
            f'<rect class="{escape(css)}" x="0" y="{y + 3}" width="12" height="12"/>'
            f'<text class="chart-label" x="18" y="{y + LABEL_HEIGHT - 3}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
