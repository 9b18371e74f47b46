"""The project's quality floor: does an output keep its content and take its style?

Three numbers per (output, content, style) triple, all computed at ``size x size`` (default 256², every
image resized with antialiased bilinear interpolation so images of any size and aspect compare alike):

* ``ssim``: SSIM of the output to the content (:func:`stylelab.metrics.ssim`, Gaussian σ=1.5);
* ``lpips``: LPIPS v0.1 (alex) of the output to the content (``None`` when the AlexNet backbone cannot be
  resolved: it is not shipped, see ``stylelab weights list``);
* ``style_ratio``: the Gram style loss of the output to the style divided by that of the content to the
  style (:func:`stylelab.metrics.style_loss`, variant ``"gram"``, Caffe VGG-19 q8, relu1_1..relu4_1,
  ``G = F F^T / (C N)``). Below 1 the output is closer to the style than the photo was; 1 means no style.

A stylisation passes the floor when ``ssim >= SSIM_FLOOR`` and ``style_ratio <= STYLE_RATIO_CEILING``.
Noise passes neither (SSIM ≈ 0.1); a copy of the content has ratio 1; a copy of the style has SSIM ≈ 0.1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.backbones import WeightsNotFoundError
from stylelab.metrics.encoder import FeatureEncoder
from stylelab.metrics.lpips import lpips
from stylelab.metrics.lpips_net import LPIPSNet
from stylelab.metrics.ssim import ssim
from stylelab.metrics.style_loss import style_loss

SSIM_FLOOR = 0.3
STYLE_RATIO_CEILING = 0.9
EVAL_SIZE = 256
VARIANT = (
    "at {size}x{size} (antialiased bilinear resize): SSIM (Gaussian σ=1.5) and LPIPS v0.1 alex of the output "
    "to the content; style ratio = Gram loss(output, style) / Gram loss(content, style), Caffe VGG-19 q8, "
    "relu1_1..relu4_1, G = F F^T / (C N)"
)


@dataclass(frozen=True)
class QualityScores:
    """The floor metrics of one triple (see the module docstring)."""

    ssim: float
    lpips: float | None
    style_ratio: float
    style_loss: float
    content_style_loss: float

    def passes(self, ssim_floor: float = SSIM_FLOOR, ratio_ceiling: float = STYLE_RATIO_CEILING) -> bool:
        """``ssim >= ssim_floor`` and ``style_ratio <= ratio_ceiling``."""
        return self.ssim >= ssim_floor and self.style_ratio <= ratio_ceiling

    def as_dict(self) -> dict[str, float]:
        """Plain dict (for JSON records and tables)."""
        return asdict(self)


def resize_square(image: Tensor, size: int = EVAL_SIZE) -> Tensor:
    """``(B, 3, H, W)`` → ``(B, 3, size, size)`` by antialiased bilinear interpolation, clamped to [0, 1]."""
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"expected RGB images (B, 3, H, W); got shape {tuple(image.shape)}")
    resized = F.interpolate(image, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized.clamp(0, 1)


@torch.no_grad()
def quality_scores(
    output: Tensor,
    content: Tensor,
    style: Tensor,
    size: int = EVAL_SIZE,
    encoder: FeatureEncoder | None = None,
    lpips_net: LPIPSNet | None = None,
) -> list[QualityScores]:
    """Floor metrics of each triple of a batch.

    Args:
        output: ``(B, 3, H, W)`` stylised images, RGB [0, 1].
        content: ``(B or 1, 3, H', W')`` their contents (any size: everything is resized to ``size``²).
        style: ``(B or 1, 3, H'', W'')`` their styles.
        size: Side of the square evaluation size.
        encoder: Features for the Gram loss (default: the Caffe VGG-19 q8 of :func:`style_loss`).
        lpips_net: LPIPS network (default: pretrained alex).

    Returns:
        One :class:`QualityScores` per output.
    """
    out, cont, sty = (resize_square(x, size) for x in (output, content, style))
    for name, image in (("content", cont), ("style", sty)):
        if image.shape[0] not in (1, out.shape[0]):
            raise ValueError(f"{name} batch must be 1 or the output's ({out.shape[0]}); got {image.shape[0]}")
    if cont.shape[0] == 1 and out.shape[0] > 1:
        cont = cont.expand(out.shape[0], -1, -1, -1)
    if sty.shape[0] == 1 and out.shape[0] > 1:
        sty = sty.expand(out.shape[0], -1, -1, -1)
    ssims = ssim(out, cont, reduction="none")
    try:
        dists: Tensor | None = lpips(out, cont, lpips_net=lpips_net, reduction="none")
    except WeightsNotFoundError:
        dists = None
    loss_out = style_loss(out, sty, "gram", encoder=encoder, reduction="none")
    loss_content = style_loss(cont, sty, "gram", encoder=encoder, reduction="none")
    return [
        QualityScores(
            ssim=float(ssims[i]),
            lpips=None if dists is None else float(dists[i]),
            style_ratio=float(loss_out[i] / loss_content[i].clamp_min(1e-12)),
            style_loss=float(loss_out[i]),
            content_style_loss=float(loss_content[i]),
        )
        for i in range(out.shape[0])
    ]


def summarise(scores: list[QualityScores]) -> dict[str, float]:
    """Mean, min and max of each metric (LPIPS only where it was computed), and the pass fraction."""
    if not scores:
        raise ValueError("no scores to summarise")
    summary: dict[str, float] = {}
    for key in ("ssim", "lpips", "style_ratio"):
        values = [getattr(s, key) for s in scores if getattr(s, key) is not None]
        if not values:
            continue
        summary[f"{key}_mean"] = sum(values) / len(values)
        summary[f"{key}_min"] = min(values)
        summary[f"{key}_max"] = max(values)
    summary["pass_fraction"] = sum(s.passes() for s in scores) / len(scores)
    return summary
