"""Table 2: style loss (two definitions, named) and temporal LPIPS, ours beside the paper's numbers.

Evaluates the checkpoints written by ``train.py`` (SK k = 3, SK without CGM, the SANet-style variant
with CGM, AdaIN; whichever exist) with the protocol of ``evaluation.py``. The paper does not define its
"style loss" ("following WCT") nor its image size, and its models were trained 160k iterations on
COCO x WikiArt; ours were trained for ~10^2 generator updates on 15 photos (``train.py``). Absolute
values are therefore not comparable (different encoder scale, definition and training); only orderings
within our rows are informative, and with this budget even those are weak evidence.

Run: ``STYLELAB_WEIGHTS=... STYLELAB_SHARED_DATA=... python experiments/stylekernel/table2_metrics.py``
Writes ``reports/stylekernel/table2.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from stylelab.reproduce.harness import header_lines
from stylelab.reproduce.images import optional_shared_images
from stylelab.utils.io import atomic_save_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PAPER_TABLE2, REPORTS, RUNS, training_budget  # noqa: E402
from evaluation import CLIP_FRAMES, CLIP_RESIZE, CLIP_SIDE, CLIP_STEP, cached_evaluation  # noqa: E402

#: run -> (label, paper column key or None)
ROWS = {
    "k3": ("SK (ours, k=3)", "Ours (SK)"),
    "no_cgm": ("SK without CGM", None),
    "sanet_cgm": ("SANet-style + CGM (SK package)", None),
    "adain": ("AdaIN (stylelab)", "AdaIN'17"),
}


def _cell(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def main() -> None:
    torch.set_num_threads(1)
    images = optional_shared_images()
    if images is None:
        sys.exit("set STYLELAB_SHARED_DATA (the staged photos and artworks are the evaluation set)")
    results = {name: cached_evaluation(RUNS / name, images) for name in ROWS}
    found = {name: r for name, r in results.items() if r is not None}
    if not found:
        sys.exit("no trained checkpoint: run experiments/stylekernel/train.py first")
    any_result = next(iter(found.values()))
    rows = []
    for name, result in found.items():
        label, paper_key = ROWS[name]
        paper = PAPER_TABLE2.get(paper_key) if paper_key else None
        s = result["style_loss"]
        rows.append(
            f"| {label} | {_cell(s['covariance'])} | {_cell(s['mean_std'])} | {_cell(s['gram'])} "
            f"| {result['lpips_temporal']:.3f} | {result['lpips_content_pairwise']:.3f} "
            f"| {_cell(paper[0] if paper else None)} | {_cell(paper[1] if paper else None)} |"
        )
    variants = any_result["style_loss_variants"]
    paper_line = "; ".join(f"{k} {a if a is not None else '-'} / {b}" for k, (a, b) in PAPER_TABLE2.items())
    lines = [
        "# SK Table 2: style loss and temporal LPIPS",
        "",
        *header_lines(f"models of {training_budget(ROWS)}; evaluation on held-out pairs and clips"),
        f"- training budget: see [training.md](training.md) ({training_budget(ROWS)}, batch 2, 96 crops, 15 "
        "staged photos x 19 artworks in the train split; paper: 160k iterations, batch 16, 256 crops, "
        "COCO x WikiArt, V100).",
        f"- pairs: {any_result['pairs']} held-out pairs ({len(any_result['content_images'])} photos x "
        f"{len(any_result['style_images'])} artworks never seen in training), shorter side 256, batch 1.",
        "- style loss definitions (both with the Caffe VGG-19 q8; values are much larger than the paper's "
        "because this VGG is un-normalised, and the paper's definition is unknown):",
        f"  - **WCT-style covariance**: {variants['covariance']}",
        f"  - **mean/std (SANet/IEC/AdaAttN line)**: {variants['mean_std']}",
        f"  - Gram (SK's training loss definition, for reference): {variants['gram']}",
        f"- **temporal LPIPS** ({any_result['lpips_variant']}): {any_result['clips']} synthetic clips of "
        f"{CLIP_FRAMES} frames. The paper's 10 real video clips are not available, so each clip is made "
        f"from a held-out still photo by a virtual camera pan: shorter side resized to {CLIP_RESIZE}, a "
        f"{CLIP_SIDE} x {CLIP_SIDE} window shifted by {CLIP_STEP} (x, y) pixels per frame; 5 photos x 2 "
        "artworks = 10 clips, every frame stylised independently. The unstylised content clips score "
        f"{any_result['lpips_temporal_content_clips']:.3f} (the camera motion's own floor).",
        "- LPIPS(content, output) is the pairwise content distance on the held-out pairs (not in the paper): "
        "a high value with a low temporal LPIPS means blurry, content-poor outputs, not temporal stability.",
        "- AdaIN's training loss is the mean/std loss on the very encoder (Caffe VGG-19 q8) the metrics use; "
        "SK trains on VGG-16 features with the paper's weights (Gram style term ~1e-3 of the total).",
        f"- the paper's full Table 2 (Sty Loss / LPIPS): {paper_line}.",
        "",
        "| method | style loss: WCT covariance ↓ | style loss: mean/std ↓ | style loss: Gram ↓ "
        "| temporal LPIPS ↓ | LPIPS(content, output) | paper Sty Loss | paper LPIPS |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "No number here reproduces the paper: the encoder, the style-loss definition, the image set, the "
        "clips and, above all, the training budget differ. Read the rows against each other only.",
    ]
    atomic_save_text(REPORTS / "table2.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
