"""Quality floor of the zoo stylekernel recipe on held-out photos x held-out paintings (never trained on).

Evaluates a trained checkpoint (``--checkpoint``) or the recipe's untrained initialisation (``--init``: the
model ``configs/zoo/stylekernel.yaml`` builds, i.e. AdaIN through the pretrained relu3_1 decoder) with
:func:`stylelab.metrics.quality.quality_scores`: SSIM(output, content) >= 0.3 and Gram style ratio <= 0.9.
Images at longer side 512, sides multiples of 8. Writes a markdown table (per pair, mean, pass count).

    STYLELAB_SHARED_DATA=../shared/data STYLELAB_WEIGHTS=../shared/data/weights \
        python experiments/stylekernel/zoo_floor.py \
        --checkpoint outputs/zoo/stylekernel/checkpoints/last.ckpt --output reports/stylekernel/zoo_floor.md
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from torch import Tensor

from stylelab.data.image_io import load_image
from stylelab.methods.base import StyleTransferMethod, load_method
from stylelab.methods.stylekernel import StyleKernel
from stylelab.metrics.quality import VARIANT, QualityScores, quality_scores, summarise
from stylelab.utils.io import atomic_save_text
from stylelab.zoo.splits import split_files

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "zoo" / "stylekernel.yaml"


def load(path: Path, longer: int = 512) -> Tensor:
    """``(1, 3, H, W)`` RGB [0, 1], longer side ``longer``, both sides multiples of 8."""
    image = load_image(path)[None]
    scale = longer / max(image.shape[-2:])
    size = (round(image.shape[-2] * scale) // 8 * 8, round(image.shape[-1] * scale) // 8 * 8)
    return F.interpolate(image, size, mode="bilinear", antialias=True).clamp(0, 1)


def initial_model() -> StyleKernel:
    """The untrained model of the zoo recipe (its constructor arguments from the YAML)."""
    return StyleKernel(**yaml.safe_load(CONFIG.read_text())["model"]["init_args"]).eval()


def evaluate(
    method: StyleTransferMethod, photos: list[Path], paintings: list[Path], longer: int
) -> list[tuple[str, str, QualityScores, float]]:
    """``(photo, painting, scores, seconds)`` for every pair."""
    rows = []
    styles = {p.name: load(p, longer) for p in paintings}
    for photo in photos:
        content = load(photo, longer)
        for name, style in styles.items():
            start = time.perf_counter()
            output = method.stylize(content, style)
            seconds = time.perf_counter() - start
            scores = quality_scores(output, content, style)[0]
            rows.append((photo.name, name, scores, seconds))
            print(f"{photo.name} x {name}: SSIM {scores.ssim:.3f} ratio {scores.style_ratio:.3f}", flush=True)
    return rows


def report(rows: list[tuple[str, str, QualityScores, float]], title: str, source: str, longer: int) -> str:
    """Markdown: settings, summary, per-pair table."""
    summary = summarise([r[2] for r in rows])
    passed = sum(r[2].passes() for r in rows)
    lines = [
        f"# {title}",
        "",
        f"- model: {source}",
        f"- pairs: {len({r[0] for r in rows})} held-out photos x {len({r[1] for r in rows})} held-out "
        f"paintings (`stylelab.zoo.splits`), longer side {longer}, sides multiples of 8",
        f"- metrics: {VARIANT.format(size=256)}; floor SSIM >= 0.3 and style ratio <= 0.9",
        f"- device: shared 2-core CPU, {torch.get_num_threads()} thread(s); mean stylisation time "
        f"{sum(r[3] for r in rows) / len(rows):.1f} s per pair",
        "",
        f"**SSIM mean {summary['ssim_mean']:.3f} ({summary['ssim_min']:.2f}-{summary['ssim_max']:.2f}), "
        f"style ratio mean {summary['style_ratio_mean']:.3f} ({summary['style_ratio_min']:.2f}-"
        f"{summary['style_ratio_max']:.2f}), {passed}/{len(rows)} pairs pass.**",
        "",
        "| photo | painting | SSIM | style ratio | LPIPS | pass |",
        "|---|---|---|---|---|---|",
    ]
    for photo, painting, s, _ in rows:
        lpips = "n/a" if s.lpips is None else f"{s.lpips:.3f}"
        mark = "yes" if s.passes() else "**no**"
        lines.append(f"| {photo} | {painting} | {s.ssim:.3f} | {s.style_ratio:.3f} | {lpips} | {mark} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse arguments, evaluate, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--checkpoint", help="Lightning checkpoint of the zoo recipe")
    group.add_argument("--init", action="store_true", help="the recipe's untrained initialisation")
    parser.add_argument("--output", type=Path, required=True, help="markdown report")
    parser.add_argument("--paintings", type=int, default=8, help="first N held-out paintings (8: all)")
    parser.add_argument("--longer", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    if args.init:
        method, source = initial_model(), f"untrained initialisation of `{CONFIG.relative_to(ROOT)}`"
    else:
        method, source = load_method(args.checkpoint).eval(), f"`{args.checkpoint}`"
    source += f" ({method.variant()})"
    photos = split_files("photos", "held_out")
    paintings = split_files("paintings", "held_out")[: args.paintings]
    rows = evaluate(method, photos, paintings, args.longer)
    text = report(rows, "Zoo stylekernel: quality floor on held-out pairs", source, args.longer)
    atomic_save_text(args.output, text)
    print(text)


if __name__ == "__main__":
    main()
