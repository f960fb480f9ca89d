"""Plots as inline SVG, drawn here so pages need no script library and no network.

Three shapes cover the views: grouped bars (a metric per model per scenario, robustness drops), a scatter
(accuracy against cost) and lines on the unit square (calibration curves). Each returns an `<svg>` string
with a <title> per mark, so hovering a bar or a point names it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00", "#b82e2e")
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 64


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def nice_range(lo: float, hi: float, ticks: int = 4) -> tuple[float, float, float]:
    """An axis range covering [lo, hi] in `ticks` steps of 1, 2, 2.5 or 5 times a power of ten."""
    span = hi - lo if hi > lo else abs(hi) or 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    start = math.floor(lo / step + 1e-9) * step
    while start + ticks * step < hi - 1e-9:
        step = next(m * power for m in (1, 2, 2.5, 5, 10, 20) if m * power > step)
        start = math.floor(lo / step + 1e-9) * step
    return start, start + ticks * step, step


def _frame(body: list[str], label: str, height: int = HEIGHT) -> str:
    return (
        f'<svg class="plot" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def _axis_y(lo: float, hi: float, label: str, height: int = HEIGHT) -> list[str]:
    """Left axis with five ticks and grid lines between lo and hi."""
    plot_h = height - TOP - BOTTOM
    parts = []
    for k in range(5):
        value = lo + (hi - lo) * k / 4
        y = TOP + plot_h * (1 - k / 4)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(value)}</text>')
    parts.append(
        f'<text class="axis-label" transform="translate(14 {TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(label)}</text>'
    )
    return parts


def _legend(names: Sequence[str], y: float) -> list[str]:
    parts = []
    x = float(LEFT)
    for i, name in enumerate(names):
        parts.append(f'<rect x="{x:.0f}" y="{y - 9:.0f}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text class="legend" x="{x + 14:.0f}" y="{y:.0f}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def bar_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], y_label: str) -> str:
    """Grouped bars: one group per category, one bar per series (missing values leave a gap)."""
    values = [v for _, vs in series for v in vs if v is not None]
    lo = min(0.0, *values) if values else 0.0
    hi = max(0.0, *values) if values else 1.0
    if values and lo >= 0 and hi <= 1:
        hi = 1.0  # scores in [0, 1] are drawn on the whole unit scale
    lo, hi, _ = nice_range(lo, hi)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    body = _axis_y(lo, hi, y_label)

    def y_of(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / (hi - lo))

    for c, category in enumerate(categories):
        x0 = LEFT + c * group_w + group_w * 0.1
        for s, (name, vs) in enumerate(series):
            value = vs[c] if c < len(vs) else None
            if value is None:
                continue
            top, base = sorted((y_of(value), y_of(0.0)))
            body.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{top:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{max(base - top, 0.5):.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(name)} on {escape(category)}: {_fmt(value)}</title></rect>"
            )
        short = category if len(category) <= 28 else category[:27] + "…"
        body.append(
            f'<text class="tick" x="{x0 + group_w * 0.4:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
            f"<title>{escape(category)}</title>{escape(short)}</text>"
        )
    body += _legend([name for name, _ in series], HEIGHT - 12)
    return _frame(body, y_label)


def scatter_chart(points: Sequence[tuple[str, float, float]], x_label: str, y_label: str) -> str:
    """Labelled points (name, x, y), e.g. each model's accuracy against its estimated cost."""
    xs = [x for _, x, _ in points] or [0.0]
    ys = [y for _, _, y in points] or [0.0]
    x_lo, x_hi, _ = nice_range(min(0.0, *xs), max(xs) * 1.05 or 1.0)
    y_lo, y_hi, _ = nice_range(min(0.0, *ys), 1.0 if min(ys) >= 0 and max(ys) <= 1 else max(ys))
    plot_w, plot_h = WIDTH - LEFT - RIGHT - 110, HEIGHT - TOP - BOTTOM  # room for the labels of points on the right
    body = _axis_y(y_lo, y_hi, y_label)
    for k in range(5):
        value = x_lo + (x_hi - x_lo) * k / 4
        x = LEFT + plot_w * k / 4
        body.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{_fmt(value)}</text>'
        )
    body.append(
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - BOTTOM + 32}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    for i, (name, xv, yv) in enumerate(points):
        x = LEFT + plot_w * (xv - x_lo) / (x_hi - x_lo)
        y = TOP + plot_h * (1 - (yv - y_lo) / (y_hi - y_lo))
        color = PALETTE[i % len(PALETTE)]
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{color}">'
            f"<title>{escape(name)}: {_fmt(yv)} at {_fmt(xv)}</title></circle>"
            f'<text class="point-label" x="{x + 9:.1f}" y="{y + 4:.1f}">{escape(name)}</text>'
        )
    return _frame(body, f"{y_label} against {x_label}")


def calibration_chart(curves: Sequence[tuple[str, Sequence[tuple[float, float]]]]) -> str:
    """Reliability curves: accuracy against confidence per bin, with the diagonal of perfect calibration."""
    side = HEIGHT - TOP - BOTTOM
    body = _axis_y(0.0, 1.0, "accuracy")

    def xy(conf: float, acc: float) -> tuple[float, float]:
        return LEFT + side * conf, TOP + side * (1 - acc)

    (x0, y0), (x1, y1) = xy(0, 0), xy(1, 1)
    body.append(f'<line class="diagonal" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}"/>')
    for k in range(5):
        x, _ = xy(k / 4, 0)
        body.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{k / 4:g}</text>')
    body.append(
        f'<text class="axis-label" x="{LEFT + side / 2:.0f}" y="{HEIGHT - BOTTOM + 32}" '
        f'text-anchor="middle">confidence</text>'
    )
    for i, (name, points) in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        coords = [xy(c, a) for c, a in points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        body += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"><title>{escape(name)}: confidence '
            f"{_fmt(c)}, accuracy {_fmt(a)}</title></circle>"
            for (x, y), (c, a) in zip(coords, points)
        ]
    body += _legend([name for name, _ in curves], HEIGHT - 12)
    return _frame(body, "calibration: accuracy against confidence")
