"""The style-strength knob: style and content loss as lambda varies -> reports/ift/lambda_knob.{md,svg}.

    STYLELAB_SHARED_DATA=../shared/data python experiments/ift/lambda_knob.py

Lambda is the knob between content preservation and style (LS-FT calls IFT's lambda a "control knob").
Feature level: relu4_1 of two photo/painting pairs at 512x512, 15 fixed-step updates of 0.01 with
``lambda = m * 25`` (25 = photorealistic preset), relative content loss ``||F - F_c||^2 / ||F_c||^2`` and
relative Gram loss ``||G(F) - G_s||^2 / ||G_s||^2``. Image level: the coarse-to-fine pipeline with every
level's lambda multiplied by ``m`` (photorealistic preset), stylelab.metrics content loss (MSE, relu4_1)
and Gram style loss (relu1_1..relu4_1) of the decoded 256x256 images.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MULTI_STYLE_CASES, REPORTS, load_model  # noqa: E402

from stylelab.methods.ift import LEVELS, resolve_levels  # noqa: E402
from stylelab.metrics.content_loss import content_loss  # noqa: E402
from stylelab.metrics.style_loss import style_loss  # noqa: E402
from stylelab.ops.ift import IFTDivergenceError, ift_transform  # noqa: E402
from stylelab.reproduce.figures import svg_line_plot  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import load_resized, shared_root  # noqa: E402
from stylelab.reproduce.markdown import markdown_table  # noqa: E402
from stylelab.utils.io import atomic_save_text  # noqa: E402

MULTIPLIERS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def gram(f: torch.Tensor) -> torch.Tensor:
    x = f.flatten(2).double()
    return x @ x.transpose(1, 2) / x.shape[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=None)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--image-size", type=int, default=256)
    args = parser.parse_args()
    report = ReportWriter(
        REPORTS / "lambda_knob.md",
        "The lambda knob: content vs style (IFT)",
        budget=f"features at {args.size} px, images at {args.image_size} px, 15 updates, 2 threads",
    )
    shared = shared_root(args.shared)
    torch.set_num_threads(2)
    model, description = load_model(shared)
    net = model.net
    base = resolve_levels("photorealistic")
    feature_rows, image_rows = [], []
    curves: dict[str, list[tuple[float, float]]] = {}
    for content_name, style_name, _ in MULTI_STYLE_CASES[:2]:
        content = load_resized(shared / "images" / "content" / content_name, args.size)
        style = load_resized(shared / "images" / "style" / style_name, args.size)
        with torch.no_grad():
            fc, fs = net.encode(content)[0], net.encode(style)[0]
            scale = net.scales_for(fc, fs)["relu4_1"]
            x, y = fc["relu4_1"] / scale, fs["relu4_1"] / scale
        g_s = gram(y)
        style_curve, content_curve = [], []
        for m in MULTIPLIERS:
            lam = m * base["relu4_1"].lam
            rule = "fixed"
            with torch.no_grad():
                try:
                    out = ift_transform(x, y, lam=lam, n_upd=15)
                except IFTDivergenceError:
                    rule = "line search (fixed step diverged)"
                    out = ift_transform(x, y, lam=lam, n_upd=15, step_rule="line_search")
            c_loss = float((out - x).double().pow(2).sum() / x.double().pow(2).sum())
            s_loss = float((gram(out) - g_s).pow(2).sum() / g_s.pow(2).sum())
            pair = f"{content_name} / {style_name}"
            feature_rows.append([pair, f"{m:g}", f"{lam:g}", rule, f"{c_loss:.4f}", f"{s_loss:.4f}"])
            style_curve.append((m, s_loss))
            content_curve.append((m, c_loss))
        curves[f"style loss, {content_name}"] = style_curve
        curves[f"content loss, {content_name}"] = content_curve
        small_c = load_resized(shared / "images" / "content" / content_name, args.image_size)
        small_s = load_resized(shared / "images" / "style" / style_name, args.image_size)
        for m in MULTIPLIERS:
            lam = {lv: m * base[lv].lam for lv in LEVELS}
            with warnings.catch_warnings(record=True) as caught, torch.no_grad():
                warnings.simplefilter("always")
                image = model.stylize(small_c, small_s, preset="photorealistic", lam=lam)
            redone = sum("diverged" in str(w.message) for w in caught)
            image_rows.append([
                f"{content_name} / {style_name}", f"{m:g}", str(redone),
                f"{float(content_loss(image, small_c, 'mse', layers=['relu4_1'])):.4g}",
                f"{float(style_loss(image, small_s, 'gram')):.4g}",
            ])  # fmt: skip
        print("done", content_name)
    svg = svg_line_plot(
        {k: [(m if m > 0 else 0.125, v) for m, v in pts] for k, pts in curves.items()},
        title="IFT at relu4_1: relative losses vs lambda multiplier (0 plotted at 1/8)",
        xlabel="lambda / 25 (log scale)",
        ylabel="relative loss",
        logx=True,
    )
    text = "\n".join(
        [
            "## Feature level: relu4_1, 15 updates",
            "",
            f"Content and style {args.size}x{args.size}; lambda = m x 25; relative losses as defined in "
            "experiments/ift/lambda_knob.py. Plot: lambda_knob.svg.",
            "",
            markdown_table(["pair", "m", "lambda", "step", "content loss", "Gram loss"], feature_rows),
            "",
            "## Image level: coarse-to-fine pipeline, every level's lambda x m",
            "",
            f"Decoder: {description}. Images {args.image_size}x{args.image_size}; stylelab.metrics content "
            "loss (MSE of relu4_1) and Gram style loss (relu1_1..relu4_1), Caffe VGG-19.",
            "",
            markdown_table(
                ["pair", "m", "levels redone with line search", "content loss", "style loss"], image_rows
            ),  # fmt: skip
            "",
        ]
    )
    report.add(text.rstrip("\n")).write()
    atomic_save_text(REPORTS / "lambda_knob.svg", svg)
    print(report.path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
