"""Dependency-free SVG figures for the PCA-KD reports (no matplotlib in the environment).

* :func:`explained_variance_svg` - Fig. 4: per layer, mean explained variance (bars) and mean
  cumulative explained variance (curve) with the threshold and the chosen channel count.
* :func:`scatter_svg` - Fig. 6(a)-like scatter of two metrics, one labelled point per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def _polyline(points: Sequence[tuple[float, float]], colour: str, width: float = 1.5) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" points="{coords}"/>'


def explained_variance_svg(
    layers: Sequence[str],
    mean_ev: Sequence[Sequence[float]],
    mean_cev: Sequence[Sequence[float]],
    channels: Sequence[int],
    threshold: float,
    paper_channels: Sequence[int | None] | None = None,
    title: str = "",
) -> str:
    """Four panels (one per layer): mEV bars in green, mCEV curve in blue, threshold line.

    Args:
        layers: Layer names.
        mean_ev: Per layer, mEV of each eigenvalue rank (descending).
        mean_cev: Per layer, mCEV at each channel count.
        channels: Per layer, the channel count reaching ``threshold``.
        threshold: The mCEV threshold (e.g. 0.85).
        paper_channels: Per layer, the paper's count (marked in grey) or ``None``.
        title: Figure title.

    Returns:
        SVG document text.
    """
    panel_w, panel_h, margin = 300, 220, 40
    width = margin + len(layers) * (panel_w + margin)
    height = panel_h + 2 * margin + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{margin}" y="18" font-size="13">{escape(title)}</text>',
    ]
    for k, layer in enumerate(layers):
        x0, y0 = margin + k * (panel_w + margin), margin + 10
        ev, cev = list(mean_ev[k]), list(mean_cev[k])
        n = len(cev)
        parts.append(
            f'<rect x="{x0}" y="{y0}" width="{panel_w}" height="{panel_h}" fill="none" stroke="black"/>'
        )

        def sx(i: float, x0: float = x0, n: int = n) -> float:
            return x0 + panel_w * i / n

        def sy(v: float, y0: float = y0) -> float:
            return y0 + panel_h * (1.0 - v)

        bar_w = max(panel_w / n, 0.5)
        for i, value in enumerate(ev):
            top = sy(value)
            parts.append(
                f'<rect x="{sx(i):.2f}" y="{top:.2f}" width="{bar_w:.2f}" height="{y0 + panel_h - top:.2f}" '
                'fill="#2ca02c"/>'
            )
        parts.append(_polyline([(sx(i + 0.5), sy(v)) for i, v in enumerate(cev)], "#1f77b4"))
        parts.append(
            f'<line x1="{x0}" x2="{x0 + panel_w}" y1="{sy(threshold):.1f}" y2="{sy(threshold):.1f}" '
            'stroke="red" stroke-dasharray="4,3"/>'
        )
        c = channels[k]
        parts.append(
            f'<line x1="{sx(c - 0.5):.1f}" x2="{sx(c - 0.5):.1f}" y1="{y0}" y2="{y0 + panel_h}" '
            'stroke="red"/>'
        )
        label = f"{layer}: {c}/{n} channels reach {threshold:.0%}"
        if paper_channels is not None and paper_channels[k] is not None:
            p = paper_channels[k]
            parts.append(
                f'<line x1="{sx(p - 0.5):.1f}" x2="{sx(p - 0.5):.1f}" y1="{y0}" y2="{y0 + panel_h}" '
                'stroke="grey" stroke-dasharray="2,2"/>'
            )
            label += f" (paper {p})"
        parts.append(f'<text x="{x0}" y="{y0 + panel_h + 16}">{escape(label)}</text>')
        parts.append(f'<text x="{x0 + 2}" y="{y0 + 12}" fill="#1f77b4">mCEV</text>')
        parts.append(f'<text x="{x0 + 40}" y="{y0 + 12}" fill="#2ca02c">mEV</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def scatter_svg(
    points: Sequence[tuple[str, float, float]], x_label: str, y_label: str, title: str = ""
) -> str:
    """Labelled scatter plot.

    Args:
        points: ``(label, x, y)`` per model.
        x_label: Horizontal axis name.
        y_label: Vertical axis name.
        title: Figure title.

    Returns:
        SVG document text.
    """
    width, height, margin = 560, 420, 70
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = min(ys), max(ys)
    x_pad, y_pad = (
        (x_hi - x_lo) * 0.15 or abs(x_hi) * 0.1 or 1.0,
        (y_hi - y_lo) * 0.15 or abs(y_hi) * 0.1 or 1.0,
    )
    x_lo, x_hi, y_lo, y_hi = x_lo - x_pad, x_hi + x_pad, y_lo - y_pad, y_hi + y_pad

    def sx(v: float) -> float:
        return margin + (width - 2 * margin) * (v - x_lo) / (x_hi - x_lo)

    def sy(v: float) -> float:
        return height - margin - (height - 2 * margin) * (v - y_lo) / (y_hi - y_lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{margin}" y="20" font-size="13">{escape(title)}</text>',
        f'<rect x="{margin}" y="{margin}" width="{width - 2 * margin}" height="{height - 2 * margin}" '
        'fill="none" stroke="black"/>',
        f'<text x="{width / 2:.0f}" y="{height - 20}" text-anchor="middle">{escape(x_label)}</text>',
        f'<text x="18" y="{height / 2:.0f}" transform="rotate(-90 18 {height / 2:.0f})" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]
    for value, anchor in ((x_lo, "start"), (x_hi, "end")):
        parts.append(
            f'<text x="{sx(value):.0f}" y="{height - margin + 14}" text-anchor="{anchor}">{value:.4g}</text>'
        )
    for value in (y_lo, y_hi):
        parts.append(f'<text x="{margin - 4}" y="{sy(value):.0f}" text-anchor="end">{value:.4g}</text>')
    palette = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
    for i, (label, x, y) in enumerate(points):
        colour = palette[i % len(palette)]
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" fill="{colour}"/>')
        parts.append(f'<text x="{sx(x) + 8:.1f}" y="{sy(y) - 6:.1f}" fill="{colour}">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
