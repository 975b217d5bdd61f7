"""Charts as SVG markup, drawn on the server: no script, no chart library, no inline styles.

Each function returns an ``<svg>`` sized by its ``viewBox`` (it scales to
the width CSS gives it) and styled only by classes (``hubtap.css``) and
presentation attributes, as the Content-Security-Policy allows. Every text
is escaped here, so templates include the result with ``|safe``. Each bar
and cell carries a ``<title>`` (a tooltip, and its name for assistive
technology); pages show the same numbers in a table too.
"""

import math
from collections.abc import Sequence
from html import escape

HEAT_STEPS = 5
"""Colour steps of a heatmap above zero: classes ``heat-0`` (nothing) to ``heat-5``."""


def number(value: float) -> str:
    """``value`` as a chart shows it: whole numbers plain, others to one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def axis_ticks(top: float, most: int = 5) -> list[float]:
    """Gridline values from 0 to at least ``top`` in steps of 1, 2 or 5 × 10ⁿ (n ≥ 0)."""
    wanted = max(top, 1.0) / most
    step = 1.0
    while step < wanted:
        step = _next_step(step)
    count = max(1, math.ceil(max(top, 1.0) / step))
    return [i * step for i in range(count + 1)]


def _next_step(step: float) -> float:
    """The next of 1, 2, 5, 10, 20, 50, …"""
    exponent = 10.0 ** math.floor(math.log10(step) + 1e-9)
    mantissa = round(step / exponent)
    return {1: 2.0, 2: 5.0}.get(mantissa, 10.0) * exponent


def bar_chart(
    values: Sequence[tuple[str, float | None]],
    *,
    title: str,
    titles: Sequence[str] | None = None,
    unit: tuple[str, str] = ("person", "people"),
    width: int = 720,
    height: int = 240,
) -> str:
    """Bars for ``(label, value)`` pairs with a y-axis and gridlines.

    ``titles`` names each bar (its label by default) in the bar's
    ``<title>``, followed by its value and ``unit`` (singular, plural). A
    value of ``None`` draws no bar and says "no data yet".
    """
    left, right, top_margin, bottom = 40, 8, 10, 26
    plot_w = width - left - right
    plot_h = height - top_margin - bottom
    highest = max((value for _, value in values if value is not None), default=0.0)
    ticks = axis_ticks(highest)
    scale = ticks[-1]
    base = top_margin + plot_h

    def y(value: float) -> float:
        return base - plot_h * value / scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bars"'
        f' viewBox="0 0 {width} {height}" role="group" aria-label="{_attr(title)}">',
        f"<title>{_text(title)}</title>",
        '<g class="grid" aria-hidden="true">',
    ]
    for tick in ticks:
        at = _num(y(tick))
        parts.append(
            f'<line class="{"base" if tick == 0 else "rule"}" x1="{left}" x2="{width - right}"'
            f' y1="{at}" y2="{at}"/>'
            f'<text class="axis" x="{left - 6}" y="{at}" text-anchor="end"'
            f' dominant-baseline="middle">{_text(number(tick))}</text>'
        )
    parts.append("</g>")
    slot = plot_w / max(len(values), 1)
    names = list(titles) if titles is not None else [label for label, _ in values]
    parts.append('<g class="bars">')
    for index, ((label, value), name) in enumerate(zip(values, names, strict=True)):
        x = left + index * slot
        if value is None:
            said = f"{name}: no data yet"
        else:
            said = f"{name}: {number(value)} {unit[0] if value == 1 else unit[1]}"
        parts.append(
            f'<g class="col" role="img"><title>{_text(said)}</title>'
            f'<rect class="hit" x="{_num(x)}" y="{top_margin}" width="{_num(slot)}"'
            f' height="{plot_h}"/>'
        )
        if value is not None:
            parts.append(
                f'<rect class="val" x="{_num(x + slot * 0.15)}" y="{_num(y(value))}"'
                f' width="{_num(slot * 0.7)}" height="{_num(base - y(value))}"/>'
            )
        parts.append(
            f'<text class="axis" x="{_num(x + slot / 2)}" y="{height - 8}"'
            f' text-anchor="middle" aria-hidden="true">{_text(label)}</text></g>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


def heat_level(value: float | None, top: float, steps: int = HEAT_STEPS) -> str:
    """The colour class of ``value`` on a scale up to ``top``: ``heat-0`` … ``heat-<steps>``.

    Zero is ``heat-0``; anything above it at least ``heat-1``; ``None`` (no
    data) ``heat-none``.
    """
    if value is None:
        return "heat-none"
    if value <= 0 or top <= 0:
        return "heat-0"
    return f"heat-{min(steps, max(1, math.ceil(value / top * steps - 1e-9)))}"


def heatmap(
    rows: Sequence[tuple[str, Sequence[float | None]]],
    *,
    columns: Sequence[str],
    title: str,
    row_labels: Sequence[str] | None = None,
    column_titles: Sequence[str] | None = None,
    unit: str = "people on average",
    width: int = 720,
    steps: int = HEAT_STEPS,
) -> str:
    """A grid of coloured cells, one row per ``(name, values)``, one column per ``columns``.

    The axis shows ``row_labels`` (the names by default) and ``columns``;
    each cell's ``<title>`` reads "<name> <column title>: <value> <unit>".
    Colours step by :func:`heat_level` up to the largest value, and a legend
    below names each step's range.
    """
    left, right, top_margin, cell_h = 44, 8, 22, 26
    cell_w = (width - left - right) / max(len(columns), 1)
    grid_h = cell_h * len(rows)
    legend_y = top_margin + grid_h + 14
    height = legend_y + 30
    values = [v for _, row in rows for v in row if v is not None]
    top = max(values, default=0.0)
    spans = list(column_titles) if column_titles is not None else list(columns)
    shown = list(row_labels) if row_labels is not None else [name for name, _ in rows]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-heat"'
        f' viewBox="0 0 {width} {height}" role="group" aria-label="{_attr(title)}">',
        f"<title>{_text(title)}</title>",
        '<g class="labels" aria-hidden="true">',
    ]
    for index, column in enumerate(columns):
        parts.append(
            f'<text class="axis" x="{_num(left + (index + 0.5) * cell_w)}" y="{top_margin - 6}"'
            f' text-anchor="middle">{_text(column)}</text>'
        )
    for index, label in enumerate(shown):
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{_num(top_margin + (index + 0.5) * cell_h)}"'
            f' text-anchor="end" dominant-baseline="middle">{_text(label)}</text>'
        )
    parts.append('</g><g class="cells">')
    for row_index, (name, row) in enumerate(rows):
        for index, value in enumerate(row):
            said = f"{name} {spans[index]}: " + (
                "no data" if value is None else f"{value:.1f} {unit}"
            )
            parts.append(
                f'<rect class="cell {heat_level(value, top, steps)}"'
                f' x="{_num(left + index * cell_w)}" y="{top_margin + row_index * cell_h}"'
                f' width="{_num(cell_w)}" height="{cell_h}" role="img">'
                f"<title>{_text(said)}</title></rect>"
            )
    parts.append("</g>")
    parts.append(_legend(top, steps, left, legend_y))
    parts.append("</svg>")
    return "".join(parts)


def legend_steps(top: float, steps: int = HEAT_STEPS) -> list[tuple[str, str]]:
    """``(class, text)`` per colour step of a scale up to ``top``."""
    if top <= 0:
        return [("heat-0", "0")]
    entries = [("heat-0", "0")]
    for step in range(1, steps + 1):
        low, high = top * (step - 1) / steps, top * step / steps
        text = f"up to {high:.1f}" if step == 1 else f"{low:.1f}–{high:.1f}"
        entries.append((f"heat-{step}", text))
    return entries


def _legend(top: float, steps: int, left: int, y: int) -> str:
    parts = ['<g class="legend">', f'<text class="axis" x="{left}" y="{y + 9}">Scale:</text>']
    x = left + 48
    for css, text in legend_steps(top, steps):
        parts.append(
            f'<rect class="swatch {css}" x="{x}" y="{y}" width="14" height="12"/>'
            f'<text class="axis" x="{x + 18}" y="{y + 10}">{_text(text)}</text>'
        )
        x += 24 + 7 * len(text)
    parts.append("</g>")
    return "".join(parts)


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(value: str) -> str:
    return escape(value, quote=False)


def _attr(value: str) -> str:
    return escape(value, quote=True)
