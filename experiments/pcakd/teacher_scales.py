"""Per-channel factors that turn Caffe VGG-19 taps into vgg_normalised taps (PCA-KD's teacher).

relu1_1..relu3_1: least-squares factor ``s_c = sum(F_norm F_caffe) / sum(F_caffe^2)`` between the exact
vgg_normalised weights (``vgg19_normalised_r31``) and the Caffe q8 VGG-19, both with reflection padding,
on photos. relu4_1: Gatys' definition ``s_c = 1 / mean activation`` on the same photos (the exact
normalised conv4_1 is not available). The Gatys estimate is also computed for relu1_1..relu3_1 and
compared with the exact factors, which tells how far the relu4_1 estimate can be trusted.

Photos: the staged content photos (``$STYLELAB_SHARED_DATA/images/content``) and the embedded
scikit-image photos, shorter side resized to 256 (ImageNet scale). The DPST pairs are not used (they
are the evaluation set).

Writes ``stylelab/methods/pcakd/weights/vgg19_normalised_scales.safetensors`` and
``reports/pcakd/teacher_scales.md``. Run: ``STYLELAB_WEIGHTS=... python experiments/pcakd/teacher_scales.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save

from stylelab.backbones import VGGEncoder
from stylelab.bench import device_description
from stylelab.data import ImageFolder, SkimagePhotos, load_image
from stylelab.methods.pcakd.teacher import SCALES_FILE, VGG_TAPS
from stylelab.utils.io import atomic_save_bytes, atomic_save_text

REPO = Path(__file__).resolve().parents[2]


def photos() -> list[str]:
    shared = os.environ.get("STYLELAB_SHARED_DATA")
    if not shared:
        sys.exit("set STYLELAB_SHARED_DATA (the staged photos are needed)")
    return ImageFolder(Path(shared) / "images" / "content").paths() + SkimagePhotos().paths()


def main() -> None:
    torch.set_num_threads(2)
    start = time.time()
    caffe = VGGEncoder("vgg19", weights="vgg19_caffe_q8", last_tap="relu4_1", padding="reflect")
    exact = VGGEncoder("vgg19", weights="vgg19_normalised_r31", last_tap="relu3_1", padding="reflect")
    num = {t: 0.0 for t in VGG_TAPS[:3]}
    den = {t: 0.0 for t in VGG_TAPS}
    mean_sum = {t: 0.0 for t in VGG_TAPS}
    files = photos()
    for path in files:
        image = load_image(path)[None]
        h, w = image.shape[-2:]
        scale = 256 / min(h, w)
        image = F.interpolate(
            image, size=(round(h * scale), round(w * scale)), mode="bilinear", antialias=True
        )
        with torch.no_grad():
            fc = caffe(image, VGG_TAPS)
            fn = exact(image, VGG_TAPS[:3])
        for tap in VGG_TAPS:
            mean_sum[tap] = mean_sum[tap] + fc[tap].double().mean(dim=(0, 2, 3))
            if tap in fn:
                num[tap] = num[tap] + (fc[tap].double() * fn[tap].double()).sum(dim=(0, 2, 3))
                den[tap] = den[tap] + (fc[tap].double() ** 2).sum(dim=(0, 2, 3))
    scales: dict[str, torch.Tensor] = {}
    lines = [
        "# PCA-KD teacher: per-channel factors Caffe VGG-19 -> vgg_normalised",
        "",
        f"- photos: {len(files)} (staged content photos + scikit-image photos), shorter side 256",
        f"- device: {device_description(torch.device('cpu'))}; run time {time.time() - start:.0f} s",
        "- relu1_1..relu3_1: exact factors (least squares against the exact vgg_normalised weights);",
        "  relu4_1: Gatys estimate 1 / mean activation (exact weights not available).",
        "",
        "| tap | factor used | Gatys estimate / exact: median | 10th pct | 90th pct "
        "| normalised mean activation (median) |",
        "|---|---|---|---|---|---|",
    ]
    for tap in VGG_TAPS:
        mean_act = mean_sum[tap] / len(files)
        gatys = 1.0 / mean_act.clamp_min(1e-6)
        if tap in num:
            exact_scale = num[tap] / den[tap].clamp_min(1e-12)
            ratio = gatys / exact_scale
            scales[tap] = exact_scale.float()
            stats = f"{ratio.median():.3f} | {ratio.quantile(0.1):.3f} | {ratio.quantile(0.9):.3f}"
            used = "exact"
        else:
            scales[tap] = gatys.float()
            stats = "n/a | n/a | n/a"
            used = "Gatys estimate"
        normalised_mean = (mean_act * scales[tap].double()).median()
        lines.append(f"| {tap} | {used} | {stats} | {normalised_mean:.3f} |")
    lines += [
        "",
        "The Gatys estimate differs from the exact factor by the ratios above on relu1_1..relu3_1; the",
        "relu4_1 factors carry an error of that order (the per-channel spread, not a global scale).",
    ]
    atomic_save_bytes(SCALES_FILE, save({k: v.contiguous() for k, v in scales.items()}))
    atomic_save_text(REPO / "reports" / "pcakd" / "teacher_scales.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
