"""Charts drawn on the server as SVG: they work without JavaScript, in printouts and in mail clients that show images."""

import math
from dataclasses import dataclass
from html import escape

PALETTE = ["#2457c5", "#1f9d6a", "#e08a00", "#c2410c", "#7c3aed"]


@dataclass
class Series:
    label: str
    values: list[float]
    color: str = ""


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above value (at least 1)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def line_chart(labels: list[str], series: list[Series], *, width=860, height=280, title="") -> str:
    """A line chart with a y axis (5 ticks and grid lines), x labels thinned to fit, and a legend."""
    left, right, top, bottom = 48, 16, 10, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((v for s in series for v in s.values), default=0)
    step = _nice_max(highest / 4) if highest > 4 else 1
    ticks = max(1, math.ceil(highest / step))
    peak = step * ticks
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(ticks + 1):
        value = step * tick
        ty = y(value)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e3e7ee"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#6a7385">{_fmt(value)}</text>')
    every = max(1, math.ceil(count / 12))
    for i, label in enumerate(labels):
        if i % every == 0 or i == count - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#6a7385">{escape(label)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa3b5"/>')
    for n, s in enumerate(series):
        color = s.color or PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        for i, v in enumerate(s.values):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color}"><title>{escape(labels[i])}: '
                f"{escape(s.label)} {_fmt(v)}</title></circle>"
            )
    legend_x = left
    for n, s in enumerate(series):
        color = s.color or PALETTE[n % len(PALETTE)]
        parts.append(f'<rect x="{legend_x}" y="{height - 16}" width="12" height="4" fill="{color}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{height - 11}" fill="#1d2430">{escape(s.label)}</text>')
        legend_x += 24 + 7 * len(s.label)
    parts.append("</svg>")
    return "".join(parts)


def bar_rows(rows: list[tuple[str, float]], *, width=420, bar_height=22, color=PALETTE[0], title="") -> str:
    """Horizontal bars with their labels and values (the funnel)."""
    label_w, value_w, gap = 110, 60, 8
    peak = max((v for _l, v in rows), default=0) or 1
    height = len(rows) * (bar_height + gap) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for n, (label, value) in enumerate(rows):
        top = 4 + n * (bar_height + gap)
        w = (width - label_w - value_w) * value / peak
        parts.append(f'<text x="0" y="{top + 15}" fill="#1d2430">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{top}" width="{max(w, 1):.1f}" height="{bar_height}" rx="3" fill="{color}"/>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{top + 15}" fill="#1d2430">{_fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)
