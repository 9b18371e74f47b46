"""Our distillation objective measured at the PCA-KD authors' trained VGG student (issue 13, item 4).

1. **Losses at their weights.** ``PCAKDNet.block_losses`` (Eq. 6-8 as stylelab implements them: distillation
   with the student's own eigenbases, feature, image and perceptual MSEs, unit weights) for blocks 1..4,
   evaluated on the same batches at the authors' weights and at stylelab's distilled student.
2. **A short run started there.** Each block in order (enc_n + dec_n, earlier blocks fixed, the reference
   recipe: a fresh Adam at ``--lr`` per block) for ``--steps`` steps on random 128x128 crops of the staged
   content photos, starting from the authors' weights; the reconstruction PSNR of held-out DPST contents
   (longer side 256) and the relative distillation errors are measured before and after each block, with
   the process CPU time, so the curve is PSNR against CPU minutes. If the reconstruction degrades, our
   objective pulls the student away from the authors' optimum: the per-term losses say which term.

Writes ``reports/pcakd/official_diagnostic.md`` and ``official_diagnostic.csv``.
Run: ``STYLELAB_WEIGHTS=/abs/shared/data/weights STYLELAB_SHARED_DATA=/abs/shared/data \\
python experiments/pcakd/official_diagnostic.py``.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from stylelab.bench import device_description
from stylelab.data import load_image
from stylelab.methods.pcakd import PCAKD
from stylelab.methods.pcakd.eigenbases import centre
from stylelab.methods.pcakd.model import pad_to_multiple
from stylelab.utils.io import atomic_save_text

REPO = Path(__file__).resolve().parents[2]


def fit_side(image: torch.Tensor, side: int, multiple: int = 16) -> torch.Tensor:
    """Longer side to ``side`` (bilinear, antialiased), sides rounded down to ``multiple``."""
    h, w = image.shape[-2:]
    scale = side / max(h, w)
    size = (
        max(multiple, round(h * scale) // multiple * multiple),
        max(multiple, round(w * scale) // multiple * multiple),
    )
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def random_crops(
    photos: list[torch.Tensor], count: int, size: int, generator: torch.Generator
) -> torch.Tensor:
    """``count`` random ``size x size`` crops ``(count, 3, size, size)`` of randomly chosen photos."""
    crops = []
    for _ in range(count):
        photo = photos[int(torch.randint(len(photos), (1,), generator=generator))]
        top = int(torch.randint(photo.shape[-2] - size + 1, (1,), generator=generator))
        left = int(torch.randint(photo.shape[-1] - size + 1, (1,), generator=generator))
        crops.append(photo[..., top : top + size, left : left + size])
    return torch.cat(crops)


@torch.no_grad()
def evaluate(model: PCAKD, held_out: list[torch.Tensor]) -> dict[str, float]:
    """Mean reconstruction PSNR and the relative distillation errors on the held-out images."""
    ae, teacher = model.net.autoencoder, model.net.teacher()
    psnrs, errors = [], torch.zeros(4, dtype=torch.float64)
    for image in held_out:
        rec = ae.reconstruct(pad_to_multiple(image, 8)).clamp(0, 1)
        psnrs.append(-10 * math.log10(float(((rec - image) ** 2).mean())))
        feats, _ = ae.encode(image)
        targets = teacher.features(image, 4)
        for n in range(4):
            fbar = centre(targets[n]).double()
            mapped = ae.eigenbases[n + 1].detach().double() @ centre(feats[n]).double()
            errors[n] += ((mapped - fbar) ** 2).sum() / (fbar**2).sum()
    out = {"psnr_db": sum(psnrs) / len(psnrs)}
    out.update({f"rel_error{n + 1}": float(errors[n]) / len(held_out) for n in range(4)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40, help="Adam steps per block")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (reference code: 1e-4)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--eval-every", type=int, default=10, help="evaluate every N steps")
    parser.add_argument("--held-out", type=int, default=10)
    args = parser.parse_args()
    shared = os.environ.get("STYLELAB_SHARED_DATA")
    if not shared:
        sys.exit("set STYLELAB_SHARED_DATA and STYLELAB_WEIGHTS (photos and the teacher's weights)")
    torch.set_num_threads(2)
    torch.manual_seed(0)
    root = Path(shared) / "images"
    photos = [fit_side(load_image(p)[None], 256) for p in sorted((root / "content").glob("*.jpg"))]
    dpst = sorted((root / "photoreal_pairs" / "content").glob("dpst_*.jpg"))[: args.held_out]
    held_out = [fit_side(load_image(p)[None], 256) for p in dpst]
    generator = torch.Generator().manual_seed(0)
    probe = random_crops(photos, args.batch, 128, generator)

    official = PCAKD(pretrained="official_vgg").train()
    ours = PCAKD(pretrained="vgg").train()
    loss_rows = []
    with torch.no_grad():
        for label, model in (("authors' weights", official), ("stylelab-distilled", ours)):
            for n in range(1, 5):
                terms = model.net.block_losses(probe, n)
                loss_rows.append({"student": label, "block": n, **{k: float(v) for k, v in terms.items()}})

    curve: list[dict[str, object]] = []
    cpu0, wall0 = time.process_time(), time.time()

    def record(stage: str, step: int) -> None:
        values = evaluate(official, held_out)
        curve.append(
            {"stage": stage, "step": step, "cpu_min": round((time.process_time() - cpu0) / 60, 3), **values}
        )
        print(curve[-1], flush=True)

    record("start (authors' weights)", 0)
    ae = official.net.autoencoder
    for n in range(1, 5):
        optimizer = torch.optim.Adam(ae.block_parameters(n), lr=args.lr)
        for step in range(1, args.steps + 1):
            images = random_crops(photos, args.batch, 128, generator)
            optimizer.zero_grad(set_to_none=True)
            loss = torch.stack(list(official.net.block_losses(images, n).values())).sum()
            loss.backward()
            optimizer.step()
            if step % args.eval_every == 0 or step == args.steps:
                record(f"block {n}", (n - 1) * args.steps + step)
        for p in official.parameters():
            p.grad = None
    write_report(args, loss_rows, curve, time.time() - wall0)


def write_report(
    args: argparse.Namespace, loss_rows: list[dict[str, object]], curve: list[dict[str, object]], wall: float
) -> None:
    """``official_diagnostic.md`` and ``.csv`` (the curve)."""
    terms = ["distill", "feature", "image", "perceptual"]
    lines = [
        "# PCA-KD: our distillation objective at the authors' trained VGG student",
        "",
        f"- device: {device_description(torch.device('cpu'))} (shared 2-core machine); wall {wall:.0f} s",
        f"- command: `python experiments/pcakd/official_diagnostic.py --steps {args.steps} --lr {args.lr:g} "
        f"--batch {args.batch} --held-out {args.held_out}`",
        "- teacher: stylelab's (Caffe q8 VGG-19 x per-channel factors); the authors distilled against the "
        "exact vgg_normalised",
        "",
        f"## Loss terms of `PCAKDNet.block_losses` on one batch ({args.batch} random 128x128 crops of the "
        "staged content photos)",
        "",
        "| student | block | " + " | ".join(terms) + " |",
        "|---|---|" + "---|" * len(terms),
    ]
    for row in loss_rows:
        cells = " | ".join(f"{float(row[t]):.4g}" if t in row else "-" for t in terms)  # type: ignore[arg-type]
        lines.append(f"| {row['student']} | {row['block']} | {cells} |")
    lines += [
        "",
        f"## A short run started at the authors' weights (Adam lr {args.lr:g}, {args.steps} steps per block, "
        "blocks in order)",
        "",
        f"Held-out: {args.held_out} DPST contents at longer side 256. rel_errorN = "
        "`||E Fbar^e - Fbar||^2 / ||Fbar||^2` at reluN_1 (with the authors' eigenbases).",
        "",
        "| stage | Adam steps | CPU minutes | reconstruction PSNR (dB) | rel_error1 | rel_error2 "
        "| rel_error3 | rel_error4 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in curve:
        errors = " | ".join(f"{float(row[f'rel_error{n}']):.4f}" for n in range(1, 5))  # type: ignore[arg-type]
        lines.append(
            f"| {row['stage']} | {row['step']} | {row['cpu_min']} | {float(row['psnr_db']):.2f} | {errors} |"  # type: ignore[arg-type]
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(curve[0]))
    writer.writeheader()
    writer.writerows(curve)
    out = REPO / "reports" / "pcakd"
    atomic_save_text(out / "official_diagnostic.md", "\n".join(lines) + "\n")
    atomic_save_text(out / "official_diagnostic.csv", buffer.getvalue())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
