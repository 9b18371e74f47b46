"""Quality floor of the zero-training relu3_1 baselines (WCT, AdaIN's transform) on shared photos x paintings.

Every 4th shared photo x every 5th shared painting (6 x 6 pairs), longer side 512 (sides multiples of 4),
through the shipped vgg_normalised encoder and pretrained decoder; metrics of
:mod:`stylelab.metrics.quality` at 256². Also the pair's reconstruction PSNR on the first 18 photos
(width 512). Writes ``reports/pretrained/floor.md``.

    STYLELAB_SHARED_DATA=../shared/data STYLELAB_WEIGHTS=../shared/data/weights \
        python experiments/pretrained/floor.py
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from stylelab.data.image_io import load_image
from stylelab.methods.adain import AdaIN
from stylelab.methods.wct import WCT
from stylelab.metrics.quality import VARIANT, quality_scores, summarise
from stylelab.reproduce.harness import ReportWriter
from stylelab.reproduce.images import fit_longer_side, shared_images

OUT = Path(__file__).resolve().parents[2] / "reports" / "pretrained" / "floor.md"


def load(path: Path, longer: int = 512) -> torch.Tensor:
    """``(1, 3, h, w)``: longer side ``longer``, sides multiples of 4."""
    return fit_longer_side(load_image(path)[None], longer, multiple=4)


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()  # no options; --help describes the run
    torch.set_grad_enabled(False)
    root = shared_images()
    report = ReportWriter(OUT, "Quality floor of the zero-training relu3_1 baselines")
    photos = sorted((root / "content").iterdir())
    paintings = sorted((root / "style").iterdir())
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
    pairs = len(photos[::4]) * len(paintings[::5])
    report.budget = f"zero training; {pairs} pairs, {len(psnr)} reconstructions, default threads"
    report.add(
        f"- pairs: {len(photos[::4])} shared photos x {len(paintings[::5])} paintings, longer side 512\n"
        f"- metrics: {VARIANT.format(size=256)}\n"
        "- weights: vgg_normalised relu3_1 encoder + LinearStyleTransfer's pretrained decoder "
        "(both shipped)\n"
        f"- reconstruction PSNR of the pair, {len(psnr)} photos at width 512: "
        f"mean {sum(psnr) / len(psnr):.2f} dB ({min(psnr):.1f}-{max(psnr):.1f})"
    )
    rows = []
    for name, values in scores.items():
        s = summarise(values)
        lpips = (
            f"{s['lpips_mean']:.3f} ({s['lpips_min']:.2f}-{s['lpips_max']:.2f})"
            if "lpips_mean" in s
            else "n/a"
        )
        rows.append(
            [
                name,
                f"{s['ssim_mean']:.3f} ({s['ssim_min']:.2f}-{s['ssim_max']:.2f})",
                lpips,
                f"{s['style_ratio_mean']:.3f} ({s['style_ratio_min']:.2f}-{s['style_ratio_max']:.2f})",
                f"{round(s['pass_fraction'] * len(values))}/{len(values)}",
            ]
        )
    report.table(
        ["method", "SSIM mean (range)", "LPIPS mean (range)", "style ratio mean (range)", "pass"], rows
    )
    print(report.write().read_text())


if __name__ == "__main__":
    main()
