"""Evaluation shared by Tables 2 and 3: style losses on held-out pairs, temporal LPIPS on synthetic clips.

Protocol (documented in the reports):

* **Pairs**: every held-out content photo x every held-out artwork of the training split
  (``StyleTransferDataModule`` with ``cpu_budget.yaml``'s settings: seed 0, test 25 %), shorter side
  256 (multiple of 8), batch 1.
* **Style loss**, two definitions, both with the Caffe VGG-19 (q8) of ``stylelab.metrics``:
  ``covariance`` ("following WCT": ``sum_l ||Cov(F_l^s) - Cov(F_l^o)||_F^2``, relu1_1..relu5_1,
  ``Cov = Fbar Fbar^T / N``) and ``mean_std`` (SANet/IEC/AdaAttN line: ``sum_l MSE(mu) + MSE(sigma)``,
  relu1_1..relu5_1). The training loss's Gram definition (relu1_1..relu4_1, ``/ (C N)``) is reported too.
* **Temporal LPIPS** (IEC's protocol as SK describes it: mean LPIPS between consecutive stylised frames,
  10 clips): there is no video here, so each clip is synthesised from a held-out photo by a virtual
  camera pan: the photo's shorter side is resized to 288 and a 256 x 256 window moves by (+4, +2) pixels
  per frame over 8 frames. Clips: 5 held-out photos x 2 held-out artworks = 10. Each frame is stylised
  independently (no temporal model, as in the paper). LPIPS v0.1 AlexNet [spec proposal]. The same
  number for the unstylised content clips is the floor set by the camera motion itself.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.data import ImageFolder, StyleTransferDataModule, load_image
from stylelab.methods import load_method
from stylelab.methods.base import StyleTransferMethod, stylize_any_size
from stylelab.metrics import LPIPS, StyleLoss

CLIP_FRAMES = 8
CLIP_SIDE = 256
CLIP_RESIZE = 288
CLIP_STEP = (4, 2)  # (x, y) pixels per frame
STYLE_DEFINITIONS = {
    "covariance": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    "mean_std": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    "gram": ("relu1_1", "relu2_1", "relu3_1", "relu4_1"),
}


def datamodule(images: Path) -> StyleTransferDataModule:
    """The data split the experiment runs trained on (``cpu_budget.yaml``'s settings)."""
    return StyleTransferDataModule(
        content=ImageFolder(images / "content"),
        style=ImageFolder(images / "style"),
        load_size=112,
        crop_size=96,
        eval_size=256,
        val_fraction=0.05,
        test_fraction=0.25,
        seed=0,
    )


def test_images(dm: StyleTransferDataModule, role: str) -> list[tuple[str, Tensor]]:
    """``(path, (1, 3, h, w))`` of the held-out content or style images at evaluation size."""
    dataset = dm.content_dataset("test") if role == "content" else dm.style_dataset("test")
    items = [dataset[i] for i in range(len(dataset))]
    return [(item["path"], item["image"][None]) for item in items]


def make_clip(path: str) -> Tensor:
    """A synthetic clip ``(T, 3, 256, 256)``: a 256 window panning over the photo (shorter side 288)."""
    image = load_image(path)[None]
    h, w = image.shape[-2:]
    scale = CLIP_RESIZE / min(h, w)
    image = F.interpolate(
        image, size=(round(h * scale), round(w * scale)), mode="bilinear", antialias=True, align_corners=False
    )
    frames = []
    for t in range(CLIP_FRAMES):
        x, y = CLIP_STEP[0] * t, CLIP_STEP[1] * t
        frames.append(image[0, :, y : y + CLIP_SIDE, x : x + CLIP_SIDE])
    return torch.stack(frames)


def evaluate_method(method: StyleTransferMethod, images: Path, log: Any = print) -> dict[str, Any]:
    """Style losses on all held-out pairs and temporal LPIPS on 10 synthetic clips."""
    dm = datamodule(images)
    contents, styles = test_images(dm, "content"), test_images(dm, "style")
    metrics = {name: StyleLoss(name, layers=layers) for name, layers in STYLE_DEFINITIONS.items()}
    pairwise = LPIPS(net="alex", mode="pairwise")
    started = time.time()
    with torch.no_grad():
        for i, (_, content) in enumerate(contents):
            for _, style in styles:
                output = stylize_any_size(method, content, style)
                for metric in metrics.values():
                    metric.update(output, style)
                pairwise.update(output, content)
            log(f"  pairs: content {i + 1}/{len(contents)} done ({time.time() - started:.0f} s)")
        temporal, floor = LPIPS(net="alex", mode="temporal"), LPIPS(net="alex", mode="temporal")
        clip_styles = [styles[0][1], styles[len(styles) // 2][1]]
        clips = 0
        for path, _ in contents:
            clip = make_clip(path)
            floor.update(clip)
            for style in clip_styles:
                temporal.update(method.stylize(clip, style))
                clips += 1
        log(f"  clips done ({time.time() - started:.0f} s)")
    return {
        "variant": method.variant(),
        "pairs": len(contents) * len(styles),
        "content_images": [Path(p).name for p, _ in contents],
        "style_images": [Path(p).name for p, _ in styles],
        "style_loss": {name: float(m.compute()) for name, m in metrics.items()},
        "style_loss_variants": {name: m.variant for name, m in metrics.items()},
        "lpips_content_pairwise": float(pairwise.compute()),
        "lpips_temporal": float(temporal.compute()),
        "lpips_temporal_content_clips": float(floor.compute()),
        "lpips_variant": temporal.variant,
        "clips": clips,
        "frames_per_clip": CLIP_FRAMES,
        "seconds": round(time.time() - started, 1),
    }


def cached_evaluation(run_dir: Path, images: Path, force: bool = False) -> dict[str, Any] | None:
    """``run_dir/eval.json``, computed from ``run_dir/last.ckpt`` if missing (None without checkpoint)."""
    target = run_dir / "eval.json"
    if target.is_file() and not force:
        return json.loads(target.read_text())
    checkpoint = run_dir / "last.ckpt"
    if not checkpoint.is_file():
        return None
    print(f"evaluating {run_dir.name} ...", flush=True)
    result = evaluate_method(load_method(checkpoint).eval(), images)
    target.write_text(json.dumps(result, indent=2))
    return result
