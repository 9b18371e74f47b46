"""Supplement sections 4-5: two styles in the IFT objective vs linear blends -> reports/ift/multi_style.md.

    STYLELAB_SHARED_DATA=../shared/data python experiments/ift/multi_style.py

The supplement argues that WCT/AdaIN realise several styles by an affine combination of single-style
transformed features (Eq. 30), which weakens each style, while IFT puts every style in its objective.
For four (content, style A, style B) triples of shared images at 512x512 we compare, per style, the
relative Gram loss ``||G(F) - G(F_k)||^2 / ||G(F_k)||^2`` (uncentred ``G = F F^T / n``, the Gram the
objective matches) of:

* IFT with both styles in the objective (weights 1/2, 1/2), fixed step, at two lambda scales,
* the linear blends 1/2 T(A) + 1/2 T(B) of single-style AdaIN, WCT (ZCA, Chiu's +I) and IFT results,

at relu4_1 and relu3_1 (encoder features in channel-scale units; the transform alone, no decoder), and
through the whole coarse-to-fine pipeline (decoded images, Gram style loss of stylelab.metrics at
relu1_1..relu4_1; the decoder is the short CPU-trained one, so image numbers are indicative only).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MULTI_STYLE_CASES, REPORTS, load_model  # noqa: E402

from stylelab.methods.ift import resolve_levels  # noqa: E402
from stylelab.metrics.style_loss import style_loss  # noqa: E402
from stylelab.ops import adain, zca_transform  # noqa: E402
from stylelab.ops.ift import IFTDivergenceError, ift_transform  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import load_resized, shared_root  # noqa: E402
from stylelab.reproduce.markdown import markdown_table  # noqa: E402

LEVELS = ("relu4_1", "relu3_1")


def gram(f: torch.Tensor) -> torch.Tensor:
    x = f.flatten(2).double()
    return x @ x.transpose(1, 2) / x.shape[-1]


def rel_gram_loss(f: torch.Tensor, style: torch.Tensor) -> float:
    g = gram(style)
    return float((gram(f) - g).pow(2).sum() / g.pow(2).sum())


def verdict(wins: dict[str, int], total: int) -> str:
    """One sentence on whether the measurements support the claim, blend by blend."""
    parts = []
    for name, count in wins.items():
        if count == total:
            word = "supported"
        elif count > total / 2:
            word = "partly supported"
        else:
            word = "not supported"
        parts.append(f"against the {name}: {word} ({count}/{total})")
    return "Feature-level claim (IFT keeps each style's Gram loss lower): " + "; ".join(parts) + "."


def ift(x: torch.Tensor, ys: list[torch.Tensor], lam: float, n_upd: int = 15) -> torch.Tensor:
    try:
        return ift_transform(x, ys, lam=lam, n_upd=n_upd)
    except IFTDivergenceError:
        return ift_transform(x, ys, lam=lam, n_upd=n_upd, step_rule="line_search")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=None)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--image-size", type=int, default=256, help="pipeline (decoded image) resolution")
    args = parser.parse_args()
    report = ReportWriter(
        REPORTS / "multi_style.md",
        "Multi-style transfer: styles inside the objective vs linear blending (supplement 4-5)",
        budget=f"features at {args.size} px, images at {args.image_size} px, 15 updates, 2 threads",
    )
    shared = shared_root(args.shared)
    torch.set_num_threads(2)
    model, description = load_model(shared)
    net = model.net
    photo_lam = resolve_levels("photorealistic")
    ref_lam = resolve_levels("reference")
    feature_rows, wins = [], {"AdaIN blend": 0, "WCT blend": 0, "IFT blend": 0}
    image_rows = []
    for content_name, a_name, b_name in MULTI_STYLE_CASES:
        content = load_resized(shared / "images" / "content" / content_name, args.size)
        style_a = load_resized(shared / "images" / "style" / a_name, args.size)
        style_b = load_resized(shared / "images" / "style" / b_name, args.size)
        with torch.no_grad():
            fc, fa, fb = (net.encode(t)[0] for t in (content, style_a, style_b))
            scales = net.scales_for(fc, fa, fb)
        for level in LEVELS:
            s = scales[level]
            x, ya, yb = fc[level] / s, fa[level] / s, fb[level] / s
            with torch.no_grad():
                outputs = {
                    f"IFT both styles, lambda {photo_lam[level].lam:g}": ift(
                        x, [ya, yb], photo_lam[level].lam
                    ),
                    f"IFT both styles, lambda {ref_lam[level].lam:g}": ift(x, [ya, yb], ref_lam[level].lam),
                    "IFT blend": 0.5 * ift(x, [ya], photo_lam[level].lam)
                    + 0.5 * ift(x, [yb], photo_lam[level].lam),
                    "WCT blend": 0.5
                    * (
                        zca_transform(x, ya, regularizer=1.0, reg_on="both", normalizer="N")
                        + zca_transform(x, yb, regularizer=1.0, reg_on="both", normalizer="N")
                    ),
                    "AdaIN blend": 0.5
                    * (adain(x, ya, eps=1e-8, unbiased=False) + adain(x, yb, eps=1e-8, unbiased=False)),
                    "content (no transform)": x,
                }
            losses = {name: (rel_gram_loss(f, ya), rel_gram_loss(f, yb)) for name, f in outputs.items()}
            mix_name = next(iter(outputs))
            mix = losses[mix_name]
            for name in wins:
                wins[name] += sum(mix[k] < losses[name][k] for k in range(2))
            case = f"{content_name} + {a_name} / {b_name}"
            for name, (la, lb) in losses.items():
                feature_rows.append([case, level, name, f"{la:.3f}", f"{lb:.3f}"])
        # whole pipeline, decoded images
        small = [load_resized(p, args.image_size) for p in (
            shared / "images" / "content" / content_name,
            shared / "images" / "style" / a_name,
            shared / "images" / "style" / b_name,
        )]  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            images = {
                "IFT both styles (photorealistic preset)": model.stylize(small[0], [small[1], small[2]]),
                "IFT both styles (reference preset)": model.stylize(
                    small[0], [small[1], small[2]], preset="reference"
                ),
                "WCT blend": model.stylize(small[0], [small[1], small[2]], transform="zca"),
                "AdaIN blend": model.stylize(small[0], [small[1], small[2]], transform="adain"),
            }
        with torch.no_grad():
            for name, image in images.items():
                la = float(style_loss(image, small[1], "gram"))
                lb = float(style_loss(image, small[2], "gram"))
                image_rows.append([f"{content_name} + {a_name} / {b_name}", name, f"{la:.4g}", f"{lb:.4g}"])
        print("done", content_name)
    total_pairs = len(MULTI_STYLE_CASES) * len(LEVELS) * 2
    summary = [[name, f"{count} / {total_pairs}"] for name, count in wins.items()]
    text = "\n".join(
        [
            "Content and styles resized to "
            f"{args.size}x{args.size}; features of the Caffe VGG-19 (q8) in channel-scale (vgg_normalised) "
            "units; IFT: 15 fixed-step updates of 0.01, weights 1/2 and 1/2 (a diverging fixed step is "
            "redone with the line search).",
            "",
            "## Feature level (the transform alone)",
            "",
            "Relative Gram loss to each style, ``||G(F) - G(F_k)||^2 / ||G(F_k)||^2`` (lower = closer to "
            "that style). Blends are 1/2 T(A) + 1/2 T(B) of single-style results (supplement Eq. 30).",
            "",
            markdown_table(["case", "layer", "result", "loss to style A", "loss to style B"], feature_rows),
            "",
            "Comparisons (case x layer x style) where IFT with both styles in its objective "
            f"(photorealistic lambda) has the lower Gram loss than the blend, out of {total_pairs}:",
            "",
            markdown_table(["blend", "IFT lower"], summary),
            "",
            "## Whole pipeline (decoded images)",
            "",
            f"Decoder: {description}. Images {args.image_size}x{args.image_size}; stylelab.metrics style "
            "loss, Gram variant (C*N normalised Gram, MSE, relu1_1..relu4_1 of the Caffe VGG-19).",
            "",
            markdown_table(["case", "result", "Gram loss to style A", "Gram loss to style B"], image_rows),
            "",
            "Reading: the supplement's claim is qualitative (Fig. 5: blended styles 'might be weakened'); "
            "the tables above are what we measured, for these images and lambda values only. "
            + verdict(wins, total_pairs),
            "",
        ]
    )
    report.add(text.rstrip("\n")).write()
    print(report.path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
