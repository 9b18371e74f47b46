"""Quality floor of the zero-training relu3_1 baselines (WCT, AdaIN's transform) on shared photos x paintings.

Every 4th shared photo x every 5th shared painting (6 x 6 pairs), longer side 512 (sides multiples of 4),
through the shipped vgg_normalised encoder and pretrained decoder; metrics of
:mod:`stylelab.metrics.quality` at 256². Also the pair's reconstruction PSNR on the first 18 photos
(width 512). Writes ``reports/pretrained/floor.md``.

    STYLELAB_SHARED_DATA=../shared/data STYLELAB_WEIGHTS=../shared/data/weights \
        python experiments/pretrained/floor.py
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from stylelab.data.image_io import load_image
from stylelab.methods.adain import AdaIN
from stylelab.methods.wct import WCT
from stylelab.metrics.quality import VARIANT, quality_scores, summarise
from stylelab.utils.io import atomic_save_text

torch.set_grad_enabled(False)
ROOT = Path(os.environ["STYLELAB_SHARED_DATA"]) / "images"
OUT = Path(__file__).resolve().parents[2] / "reports" / "pretrained" / "floor.md"


def load(path: Path, longer: int = 512) -> torch.Tensor:
    image = load_image(path)[None]
    scale = longer / max(image.shape[-2:])
    size = (round(image.shape[-2] * scale) // 4 * 4, round(image.shape[-1] * scale) // 4 * 4)
    return F.interpolate(image, size, mode="bilinear", antialias=True).clamp(0, 1)


def main() -> None:
    photos = sorted((ROOT / "content").iterdir())
    paintings = sorted((ROOT / "style").iterdir())
    methods = {
        "wct": WCT().eval(),
        "adain (pretrained_r31, no training)": AdaIN(
            encoder_weights="vgg19_normalised_r31", layer="relu3_1", decoder="pretrained_r31"
        ).eval(),
    }
    psnr = []
    pipe = methods["wct"].net.pipeline
    for path in photos[:18]:
        image = load_image(path)[None]
        height = int(image.shape[-2] * 512 / image.shape[-1]) // 8 * 8
        image = F.interpolate(image, (height, 512), mode="bilinear", antialias=True).clamp(0, 1)
        psnr.append(-10 * math.log10(F.mse_loss(pipe(image), image).item()))
    scores: dict[str, list] = {name: [] for name in methods}
    for photo in photos[::4]:
        content = load(photo)
        for painting in paintings[::5]:
            style = load(painting)
            for name, method in methods.items():
                scores[name] += quality_scores(method.stylize(content, style), content, style)
    lines = [
        "# Quality floor of the zero-training relu3_1 baselines",
        "",
        f"- pairs: {len(photos[::4])} shared photos x {len(paintings[::5])} paintings, longer side 512",
        f"- metrics: {VARIANT.format(size=256)}",
        "- weights: vgg_normalised relu3_1 encoder + LinearStyleTransfer's pretrained decoder (both shipped)",
        f"- reconstruction PSNR of the pair, {len(psnr)} photos at width 512: "
        f"mean {sum(psnr) / len(psnr):.2f} dB ({min(psnr):.1f}-{max(psnr):.1f})",
        "",
        "| method | SSIM mean (range) | LPIPS mean (range) | style ratio mean (range) | pass |",
        "|---|---|---|---|---|",
    ]
    for name, values in scores.items():
        s = summarise(values)
        lpips = (
            f"{s['lpips_mean']:.3f} ({s['lpips_min']:.2f}-{s['lpips_max']:.2f})"
            if "lpips_mean" in s
            else "n/a"
        )
        lines.append(
            f"| {name} | {s['ssim_mean']:.3f} ({s['ssim_min']:.2f}-{s['ssim_max']:.2f}) | {lpips} | "
            f"{s['style_ratio_mean']:.3f} ({s['style_ratio_min']:.2f}-{s['style_ratio_max']:.2f}) | "
            f"{round(s['pass_fraction'] * len(values))}/{len(values)} |"
        )
    atomic_save_text(OUT, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
