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

import argparse
import sys
from pathlib import Path

import torch
from safetensors.torch import save

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS  # noqa: E402

from stylelab.backbones import VGGEncoder  # noqa: E402
from stylelab.data import ImageFolder, SkimagePhotos, load_image  # noqa: E402
from stylelab.data.transforms import resize_shorter  # noqa: E402
from stylelab.methods.pcakd.teacher import SCALES_FILE, VGG_TAPS  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import shared_images  # noqa: E402
from stylelab.utils.io import atomic_save_bytes  # noqa: E402


def photos() -> list[str]:
    """The staged content photos and every embedded scikit-image photo."""
    return ImageFolder(shared_images() / "content").paths() + SkimagePhotos().paths()


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()  # no options; --help describes the run
    report = ReportWriter(
        REPORTS / "teacher_scales.md",
        "PCA-KD teacher: per-channel factors Caffe VGG-19 -> vgg_normalised",
        budget="one pass over the photos, 2 threads",
    )
    torch.set_num_threads(2)
    caffe = VGGEncoder("vgg19", weights="vgg19_caffe_q8", last_tap="relu4_1", padding="reflect")
    exact = VGGEncoder("vgg19", weights="vgg19_normalised_r31", last_tap="relu3_1", padding="reflect")
    num = {t: 0.0 for t in VGG_TAPS[:3]}
    den = {t: 0.0 for t in VGG_TAPS}
    mean_sum = {t: 0.0 for t in VGG_TAPS}
    files = photos()
    for path in files:
        image = resize_shorter(load_image(path), 256)[None]
        with torch.no_grad():
            fc = caffe(image, VGG_TAPS)
            fn = exact(image, VGG_TAPS[:3])
        for tap in VGG_TAPS:
            mean_sum[tap] = mean_sum[tap] + fc[tap].double().mean(dim=(0, 2, 3))
            if tap in fn:
                num[tap] = num[tap] + (fc[tap].double() * fn[tap].double()).sum(dim=(0, 2, 3))
                den[tap] = den[tap] + (fc[tap].double() ** 2).sum(dim=(0, 2, 3))
    scales: dict[str, torch.Tensor] = {}
    report.add(
        f"- photos: {len(files)} (staged content photos + scikit-image photos), shorter side 256\n"
        "- relu1_1..relu3_1: exact factors (least squares against the exact vgg_normalised weights);\n"
        "  relu4_1: Gatys estimate 1 / mean activation (exact weights not available)."
    )
    rows = []
    for tap in VGG_TAPS:
        mean_act = mean_sum[tap] / len(files)
        gatys = 1.0 / mean_act.clamp_min(1e-6)
        if tap in num:
            exact_scale = num[tap] / den[tap].clamp_min(1e-12)
            ratio = gatys / exact_scale
            scales[tap] = exact_scale.float()
            stats = [f"{ratio.median():.3f}", f"{ratio.quantile(0.1):.3f}", f"{ratio.quantile(0.9):.3f}"]
            used = "exact"
        else:
            scales[tap] = gatys.float()
            stats = ["n/a", "n/a", "n/a"]
            used = "Gatys estimate"
        normalised_mean = (mean_act * scales[tap].double()).median()
        rows.append([tap, used, *stats, f"{normalised_mean:.3f}"])
    report.table(
        [
            "tap",
            "factor used",
            "Gatys estimate / exact: median",
            "10th pct",
            "90th pct",
            "normalised mean activation (median)",
        ],
        rows,
    )
    report.add(
        "The Gatys estimate differs from the exact factor by the ratios above on relu1_1..relu3_1; the\n"
        "relu4_1 factors carry an error of that order (the per-channel spread, not a global scale)."
    )
    atomic_save_bytes(SCALES_FILE, save({k: v.contiguous() for k, v in scales.items()}))
    print(report.write().read_text())


if __name__ == "__main__":
    main()
