"""Test helpers: a tiny deterministic encoder, image loading, the metric zoo used by the DDP test."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from stylelab.metrics import CFSD, FSIM, LPIPS, SSIM, ContentLoss, LPIPSNet, MeanOfValues, StyleLoss


class TinyEncoder(nn.Module):
    """Random-weight stand-in for VGGEncoder: taps relu1_1 .. relu5_1, avg-pool x2 between blocks."""

    name = "tiny random encoder"

    def __init__(self, seed: int = 0, widths: Sequence[int] = (4, 6, 8, 8, 8)) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList()
        in_ch = 3
        for width in widths:
            conv = nn.Conv2d(in_ch, width, 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(
                    torch.randn(conv.weight.shape, generator=generator) * (2 / (in_ch * 9)) ** 0.5
                )
                conv.bias.fill_(0.1)
            self.convs.append(conv)
            in_ch = width
        self.requires_grad_(False)

    def forward(self, x: Tensor, taps: Sequence[str]) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        h = 2 * x - 1
        for k, conv in enumerate(self.convs, start=1):
            if len(out) == len(set(taps)):
                break
            if k > 1:
                h = F.avg_pool2d(h, 2)
            h = F.relu(conv(h))
            if f"relu{k}_1" in taps:
                out[f"relu{k}_1"] = h
        missing = set(taps) - set(out)
        if missing:
            raise ValueError(f"TinyEncoder has no taps {sorted(missing)}")
        return out


def load_image(path: Path, size: int | None = None) -> Tensor:
    """RGB image as (1, 3, H, W) float in [0, 1]; optionally a centred size x size crop after resizing."""
    image = Image.open(path).convert("RGB")
    if size is not None:
        scale = size / min(image.size)
        image = image.resize(
            (max(size, round(image.width * scale)), max(size, round(image.height * scale))), Image.BICUBIC
        )
        left, top = (image.width - size) // 2, (image.height - size) // 2
        image = image.crop((left, top, left + size, top + size))
    array = np.array(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def random_images(n: int, size: int = 32, seed: int = 0) -> Tensor:
    """Smooth-ish random images (n, 3, size, size) in [0, 1]: upsampled noise plus fine noise."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, size // 4, size // 4, generator=generator)
    fine = torch.rand(n, 3, size, size, generator=generator)
    smooth = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    return (0.8 * smooth + 0.2 * fine).clamp(0, 1)


def ddp_dataset() -> dict[str, Tensor]:
    """Fixed small dataset: 8 (output, style, content) triples of 32x32 and 4 clips of 3 frames."""
    return {
        "output": random_images(8, seed=1),
        "style": random_images(8, seed=2),
        "content": random_images(8, seed=3),
        "clips": random_images(12, seed=4).view(4, 3, 3, 32, 32),
    }


def build_metric_zoo() -> dict[str, MeanOfValues]:
    """One instance of every metric class/variant, with deterministic random weights."""
    encoder = TinyEncoder(seed=7)
    lpips_net = LPIPSNet("alex", seed=3)
    zoo: dict[str, MeanOfValues] = {}
    for variant in ("gram", "covariance", "mean_std"):
        zoo[f"style_{variant}"] = StyleLoss(variant, encoder=encoder)
    for variant in ("mse", "centered_sum", "normalized"):
        zoo[f"content_{variant}"] = ContentLoss(variant, encoder=encoder)
    zoo["lpips_pairwise"] = LPIPS("alex", "pairwise", lpips_net=lpips_net)
    zoo["lpips_temporal"] = LPIPS("alex", "temporal", lpips_net=lpips_net)
    zoo["ssim"] = SSIM()
    zoo["fsim"] = FSIM()
    zoo["cfsd"] = CFSD(encoder=encoder)
    return zoo


def update_zoo(zoo: dict[str, MeanOfValues], data: dict[str, Tensor], samples: slice, clips: slice) -> None:
    """Feed a shard of :func:`ddp_dataset` to every metric, in batches of 2."""
    indices = range(*samples.indices(len(data["output"])))
    for start in range(indices.start, indices.stop, 2):
        batch = slice(start, min(start + 2, indices.stop))
        out, sty, cnt = data["output"][batch], data["style"][batch], data["content"][batch]
        for name, metric in zoo.items():
            if name.startswith("style_"):
                metric.update(out, sty)
            elif name.startswith("content_") or name in ("cfsd", "lpips_pairwise"):
                metric.update(out, cnt)
            elif name in ("ssim", "fsim"):
                metric.update(out, cnt)
    clip_indices = range(*clips.indices(len(data["clips"])))
    for index in clip_indices:
        zoo["lpips_temporal"].update(data["clips"][index])
