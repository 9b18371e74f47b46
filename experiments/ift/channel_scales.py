"""Do mean activations reproduce vgg_normalised's channel factors? -> reports/ift/channel_scales.md.

    STYLELAB_SHARED_DATA=../shared/data python experiments/ift/channel_scales.py

vgg_normalised (the reference IFT encoder) is the Caffe VGG-19 with every filter rescaled so that its
mean activation over ImageNet images and positions is one (Gatys et al.); a relu feature of it is the
Caffe feature divided by a per-channel factor. The exact factors of relu1_1, relu2_1 and relu3_1 follow
from the biases of the two staged weight files: ``s_k = b_caffe_k / b_normalised_k``. stylelab's IFT
estimates the factors as mean activations over its training images; here over the 41 shared photos
(21 content photos and the first 20 photorealistic contents) at 256x256.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS  # noqa: E402

from stylelab.backbones import load_weights  # noqa: E402
from stylelab.methods.ift import IFTNet  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import load_resized, shared_root  # noqa: E402

BIASES = {
    "relu1_1": ("0.bias", "conv2.bias"),
    "relu2_1": ("5.bias", "conv4.bias"),
    "relu3_1": ("10.bias", "conv6.bias"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=None)
    args = parser.parse_args()
    report = ReportWriter(
        REPORTS / "channel_scales.md",
        "Channel scales: mean activations vs the exact vgg_normalised factors",
        budget="one pass over 41 photos at 256x256, 2 threads",
    )
    shared = shared_root(args.shared)
    torch.set_num_threads(2)
    caffe, normalised = load_weights("vgg19_caffe_q8"), load_weights("vgg19_normalised_r31")
    net = IFTNet("vgg19_caffe_q8").eval()
    photos = sorted((shared / "images" / "content").iterdir())
    photos += sorted((shared / "images" / "photoreal_pairs" / "content").iterdir())[:20]
    with torch.no_grad():
        net.calibrate(load_resized(p, 256) for p in photos)
    rows = []
    for level, (key_c, key_n) in BIASES.items():
        exact = caffe[key_c] / normalised[key_n]
        ratio = getattr(net, f"scale_{level}") / exact
        q = torch.quantile(ratio, torch.tensor([0.1, 0.5, 0.9]))
        rows.append(
            [level, f"{exact.min():.1f} .. {exact.max():.1f}", f"{q[1]:.3f}", f"{q[0]:.3f} .. {q[2]:.3f}"]
        )
    report.add(f"{len(photos)} shared photos at 256x256, Caffe VGG-19 (q8), reflection padding.")
    report.table(["layer", "exact factor range", "estimate / exact, median", "10 % .. 90 %"], rows)
    report.add(
        "relu4_1 has no exact reference (vgg_normalised is staged only up to relu3_1); the same "
        "estimator is used there."
    )
    print(report.write().read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
