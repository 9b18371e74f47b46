"""The quality floor of a zoo model on images its recipe never trained on.

* ``transfer`` entries: every held-out photo x every held-out painting (:mod:`.splits`), both at longer side
  ``longer`` (sides multiples of 8), stylised by ``method.stylize(content, style)``;
* ``own_styles`` entries (StyleBank): every held-out photo x each of the model's banks
  (``method.stylize(content, styles=[k])``), the style being the bank's training painting when it resolves.

Scores are :func:`stylelab.metrics.quality.quality_scores` (SSIM and LPIPS to the content, Gram style ratio,
at 256²). ``transfer`` passes with mean SSIM >= 0.3 and mean ratio <= 0.9; ``own_styles`` with mean SSIM >=
0.3 and mean LPIPS >= 0.15 (the issue's floors); the per-pair pass fraction is reported too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.data.image_io import load_image
from stylelab.metrics.quality import (
    SSIM_FLOOR,
    STYLE_RATIO_CEILING,
    VARIANT,
    QualityScores,
    quality_scores,
    summarise,
)

LPIPS_FLOOR = 0.15


def load_at(path: str | Path, longer: int = 512, multiple: int = 8) -> Tensor:
    """``(1, 3, h, w)`` RGB [0, 1]: longer side ``longer`` (antialiased), sides multiples of ``multiple``."""
    image = load_image(path)[None]
    scale = longer / max(image.shape[-2:])
    size = tuple(max(multiple, round(s * scale) // multiple * multiple) for s in image.shape[-2:])
    return F.interpolate(image, size, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


@torch.no_grad()
def transfer_floor(
    method: Any, photos: Sequence[Path], paintings: Sequence[Path], longer: int = 512
) -> list[dict[str, Any]]:
    """Scores of ``method.stylize(photo, painting)`` for every pair: ``[{"content", "style", **scores}]``."""
    rows = []
    styles = {p: load_at(p, longer) for p in paintings}
    for photo in photos:
        content = load_at(photo, longer)
        for painting, style in styles.items():
            scores = quality_scores(method.stylize(content, style), content, style)[0]
            rows.append({"content": Path(photo).name, "style": Path(painting).name, **scores.as_dict()})
    return rows


@torch.no_grad()
def own_styles_floor(
    method: Any, photos: Sequence[Path], style_files: Sequence[Path | None], longer: int = 512
) -> list[dict[str, Any]]:
    """Scores of ``method.stylize(photo, styles=[k])`` for every photo and bank ``k``.

    Args:
        method: A StyleBank-like method.
        photos: Content photos.
        style_files: The painting of each bank (``None``: unknown; the style ratio is then NaN).
        longer: Longer side of the inputs.
    """
    rows = []
    for photo in photos:
        content = load_at(photo, longer)
        for k, painting in enumerate(style_files):
            style = load_at(painting, longer) if painting is not None else content
            scores = quality_scores(method.stylize(content, styles=[k]), content, style)[0].as_dict()
            if painting is None:
                scores["style_ratio"] = float("nan")
            rows.append({"content": Path(photo).name, "style": f"bank {k}", **scores})
    return rows


def floor_summary(rows: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """Means, ranges and the verdict of the floor (``kind``: ``transfer`` or ``own_styles``)."""
    scores = [QualityScores(**{k: r[k] for k in QualityScores.__dataclass_fields__}) for r in rows]
    summary: dict[str, Any] = {k: round(v, 4) for k, v in summarise(scores).items()}
    summary["pairs"] = len(rows)
    summary["variant"] = VARIANT.format(size=256)
    if kind == "own_styles":
        lpips = summary.get("lpips_mean")
        summary["floor"] = f"mean SSIM >= {SSIM_FLOOR}, mean LPIPS >= {LPIPS_FLOOR}"
        summary["passes"] = bool(
            summary["ssim_mean"] >= SSIM_FLOOR and lpips is not None and lpips >= LPIPS_FLOOR
        )
    else:
        summary["floor"] = f"mean SSIM >= {SSIM_FLOOR}, mean style ratio <= {STYLE_RATIO_CEILING}"
        summary["passes"] = bool(
            summary["ssim_mean"] >= SSIM_FLOOR and summary["style_ratio_mean"] <= STYLE_RATIO_CEILING
        )
    return summary
