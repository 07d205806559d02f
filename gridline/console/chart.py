"""A stacked bar chart (cases per day by category) drawn as SVG on the server.

No chart library: the markup is built here with every label escaped, each bar segment links to
the cases behind it, and the page needs no script to show it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from markupsafe import Markup, escape

from gridline.console.metrics import DailyCounts

# Distinguishable colours (colour-blind friendly first), one per category in order of frequency.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
)


def nice_max(value: int) -> int:
    """A round upper bound for the y axis (1, 2, 5, 10, 20, 50, ...)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def grid_steps(ymax: int) -> int:
    """How many bands the y axis has: each a whole number of cases (``ymax`` is from :func:`nice_max`)."""
    return next(k for k in (4, 5, 2, 1) if ymax % k == 0)


def category_colours(categories: list[str]) -> dict[str, str]:
    return {cat: PALETTE[i % len(PALETTE)] for i, cat in enumerate(categories)}


def daily_chart(
    data: DailyCounts,
    *,
    label: Callable[[str], str],
    link: Callable[[date, str], str],
    title: str,
    width: int = 1000,
    height: int = 280,
) -> Markup:
    """SVG markup; ``label`` names a category, ``link`` gives the drill-down URL of one segment."""
    left, right, top, bottom = 36, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = nice_max(data.max_total)
    n = max(1, len(data.days))
    slot = plot_w / n
    bar_w = max(2.0, slot * 0.7)
    colours = category_colours(data.categories)
    e = escape
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{e(title)}</title>",
    ]
    bands = grid_steps(ymax)
    for i in range(bands + 1):  # horizontal grid lines with their values (whole cases)
        y = top + plot_h - plot_h * i / bands
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{ymax * i // bands}</text>')
    label_every = max(1, round(n / 10))
    for i, day in enumerate(data.days):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        counts: Mapping[str, int] = data.counts.get(day, {})
        for cat in data.categories:
            count = counts.get(cat, 0)
            if not count:
                continue
            h = plot_h * count / ymax
            y -= h
            tip = f"{day.isoformat()} · {label(cat)}: {count}"
            parts.append(
                f'<a href="{e(link(day, cat))}"><rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colours[cat]}" data-category="{e(cat)}" data-count="{count}">'
                f"<title>{e(tip)}</title></rect></a>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                f"{day.month}/{day.day}</text>"
            )
    parts.append(
        f'<line class="baseline" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
