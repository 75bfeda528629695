"""The usage page's bar charts: geometry only, drawn as SVG by templates/dashboard/usage.html
(no JavaScript needed)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label)
    empty: bool
    x_labels: list[tuple[float, str]]
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    total_text: str

    @property
    def center(self) -> tuple[float, float]:
        return ((self.plot_left + self.width) / 2, (self.plot_top + self.plot_bottom) / 2)


def nice_max(value: float) -> float:
    """The top of the y axis: the next 1, 2, 2.5, 5 or 10 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def number(value: float, unit: str) -> str:
    """A figure as the chart labels it: seconds with a decimal under 100, else whole."""
    if unit == "s":
        return f"{value:,.1f} s" if value < 100 else f"{value:,.0f} s"
    return f"{value:,.0f}"


def bar_chart(*, title: str, unit: str, days: list[date], values: list[float], total: float) -> Chart:
    """An SVG bar chart's geometry, one bar per day."""
    width, height = 960, 220
    left, right, top, bottom = 56, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_max(max([*values, 10.0 if unit == "chars" else 1.0]))
    slot = plot_w / max(1, len(days))
    bar_w = max(1.0, slot * 0.72)
    bars = []
    for index, (day, value) in enumerate(zip(days, values, strict=False)):
        h = 0.0 if value <= 0 else max(1.5, plot_h * value / top_value)
        bars.append(
            Bar(
                x=round(left + index * slot + (slot - bar_w) / 2, 2),
                y=round(top + plot_h - h, 2),
                width=round(bar_w, 2),
                height=round(h, 2),
                label=day.strftime("%a %d %b"),
                value=value,
                text=number(value, unit),
            )
        )
    ticks = [(round(top + plot_h - plot_h * f, 2), number(top_value * f, unit)) for f in (0, 0.5, 1)]
    every = max(1, math.ceil(len(days) / 8))
    x_labels = [
        (round(left + i * slot + slot / 2, 2), day.strftime("%d %b")) for i, day in enumerate(days) if i % every == 0
    ]
    return Chart(
        title, unit, bars, ticks, not any(values), x_labels, width, height, top, top + plot_h, left, number(total, unit)
    )


def usage_charts(*, first: date, last: date, by_day: dict[str, Any]) -> tuple[list[Chart], list[dict[str, Any]]]:
    """The usage page's two charts (characters, audio seconds) over every day from `first`
    to `last`, and its table: the days that have usage, newest first. `by_day` is
    synthesis.selectors.usage_summary grouped by day."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows = {group["key"]: group for group in by_day["groups"]}
    chars = [float(rows.get(d.isoformat(), {}).get("characters", 0)) for d in days]
    seconds = [float(rows.get(d.isoformat(), {}).get("audio_seconds", 0.0)) for d in days]
    totals = by_day["totals"]
    charts = [
        bar_chart(title="Characters per day", unit="chars", days=days, values=chars, total=totals["characters"]),
        bar_chart(title="Audio seconds per day", unit="s", days=days, values=seconds, total=totals["audio_seconds"]),
    ]
    table = [{"day": d, **rows[d.isoformat()]} for d in reversed(days) if d.isoformat() in rows]
    return charts, table
