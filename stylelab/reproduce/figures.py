"""Small SVG line plots for reports (no plotting library is a dependency)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

#: Line colours, in series order.
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
#: Above this many distinct x values only the first and last are labelled.
MAX_X_LABELS = 12


def svg_line_plot(
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    markers: bool = True,
    width: int = 560,
    height: int = 360,
) -> str:
    """One polyline per series, axes with the extreme values labelled, a legend.

    Args:
        series: ``{name: [(x, y), ...]}``; points with a non-positive coordinate on a log axis are dropped.
        title: Plot title.
        xlabel: Horizontal axis label.
        ylabel: Vertical axis label (`` (log scale)`` is appended when ``logy``).
        logx: Logarithmic horizontal axis.
        logy: Logarithmic vertical axis.
        markers: A dot at every point (turn off for long curves).
        width: Pixels.
        height: Pixels.

    Returns:
        The SVG document, ending with a newline.

    Raises:
        ValueError: No point is left to plot.
    """
    kept = {
        name: [(x, y) for x, y in pts if (not logx or x > 0) and (not logy or y > 0)]
        for name, pts in series.items()
    }
    points = [p for pts in kept.values() for p in pts]
    if not points:
        raise ValueError("nothing to plot: every series is empty (or non-positive on a log axis)")
    fx = _axis(logx)
    fy = _axis(logy)
    xs, ys = [fx(p[0]) for p in points], [fy(p[1]) for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    left, right, top, bottom = 60, 20, 30, 45

    def px(v: float) -> float:
        return left + (fx(v) - x0) / (x1 - x0) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - (fy(v) - y0) / (y1 - y0) * (height - top - bottom)

    def unlog(v: float, log: bool) -> float:
        return 10**v if log else v

    axis_y, mid_y = height - bottom, height / 2
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">{title}</text>',
        f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">{xlabel}</text>',
        f'<text x="14" y="{mid_y}" text-anchor="middle" transform="rotate(-90 14 {mid_y})">{ylabel}'
        f"{' (log scale)' if logy else ''}</text>",
        f'<text x="{left - 4}" y="{py(unlog(y0, logy))}" text-anchor="end">{unlog(y0, logy):.3g}</text>',
        f'<text x="{left - 4}" y="{py(unlog(y1, logy)) + 4}" text-anchor="end">{unlog(y1, logy):.3g}</text>',
    ]
    distinct_x = sorted({p[0] for p in points})
    if len(distinct_x) > MAX_X_LABELS:
        distinct_x = [distinct_x[0], distinct_x[-1]]
    out += [
        f'<text x="{px(x)}" y="{height - bottom + 14}" text-anchor="middle">{x:g}</text>' for x in distinct_x
    ]
    for i, (name, pts) in enumerate(kept.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        if markers:
            out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in pts]
        out.append(f'<text x="{width - right - 150}" y="{top + 14 * (i + 1)}" fill="{colour}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _axis(log: bool) -> Callable[[float], float]:
    return math.log10 if log else float
