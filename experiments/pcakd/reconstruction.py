"""Reconstruction quality of the PCA-KD students: the authors' trained ones vs stylelab's distilled one.

``dec(enc(x))`` (no transform, clamped to [0, 1]) on the content and style photos of the 40 DPST pairs of
the shared data, longer side resized to ``--max-side`` (bicubic, antialiased) with both sides rounded
down to multiples of 16 (so every student sees the same pixels; the authors' demo rounds to 8 for VGG).
PSNR per image, then mean / min / max over the images, and the PSNR of the mean MSE.

Rows: Ours-VGG and Ours-Mob with the authors' weights (``official_vgg``, ``official_mobilenet``) and
stylelab's CPU-distilled VGG student (``weights/pcakd_vgg.safetensors``).

Writes ``reports/pcakd/reconstruction.md`` and ``reconstruction.csv``.
Run: ``STYLELAB_SHARED_DATA=/abs/shared/data python experiments/pcakd/reconstruction.py``.
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
from stylelab.methods.pcakd.model import pad_to_multiple
from stylelab.utils.io import atomic_save_text

REPO = Path(__file__).resolve().parents[2]
MODELS: dict[str, dict[str, str]] = {
    "Ours-VGG, authors' weights (pcakd_vgg_official)": {"backbone": "vgg", "pretrained": "official_vgg"},
    "Ours-Mob, authors' weights (pcakd_mobilenet_official)": {
        "backbone": "mobilenet",
        "pretrained": "official_mobilenet",
    },
    "Ours-VGG, stylelab-distilled (weights/pcakd_vgg.safetensors)": {"backbone": "vgg", "pretrained": "vgg"},
}


def resize(image: torch.Tensor, max_side: int, multiple: int = 16) -> torch.Tensor:
    """Longer side to ``max_side`` (bicubic, antialiased), sides rounded down to ``multiple``.

    Args:
        image: ``(1, 3, H, W)`` RGB [0, 1].
        max_side: Target longer side.
        multiple: Both sides become multiples of it.

    Returns:
        ``(1, 3, h, w)`` in [0, 1].
    """
    h, w = image.shape[-2:]
    scale = max_side / max(h, w)
    size = (
        max(multiple, round(h * scale) // multiple * multiple),
        max(multiple, round(w * scale) // multiple * multiple),
    )
    return F.interpolate(image, size=size, mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of two images in [0, 1]."""
    return -10.0 * math.log10(max(float(((a - b) ** 2).mean()), 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-side", type=int, default=384)
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args()
    shared = os.environ.get("STYLELAB_SHARED_DATA")
    if not shared:
        sys.exit("set STYLELAB_SHARED_DATA (the photorealistic pairs are needed)")
    torch.set_num_threads(2)
    start = time.time()
    root = Path(shared) / "images" / "photoreal_pairs"
    stems = sorted(p.stem for p in (root / "content").glob("dpst_*.jpg"))[: args.pairs]
    models = {name: PCAKD(teacher_weights=None, **kw).eval() for name, kw in MODELS.items()}  # type: ignore[arg-type]
    rows: list[dict[str, object]] = []
    for stem in stems:
        for kind in ("content", "style"):
            image = resize(load_image(root / kind / f"{stem}.jpg")[None], args.max_side)
            for name, model in models.items():
                with torch.no_grad():
                    padded = pad_to_multiple(image, model.net.multiple_of)
                    rec = model.net.autoencoder.reconstruct(padded)[..., : image.shape[-2], : image.shape[-1]]
                rows.append(
                    {
                        "image": f"{kind}/{stem}",
                        "model": name,
                        "height": image.shape[-2],
                        "width": image.shape[-1],
                        "psnr_db": round(psnr(rec.clamp(0, 1), image), 3),
                        "mse": float(((rec.clamp(0, 1) - image) ** 2).mean()),
                    }
                )
    lines = [
        "# PCA-KD reconstruction: the authors' trained students vs stylelab's distilled student",
        "",
        f"- images: the content and style photos of {len(stems)} DPST pairs (shared data, "
        f"`images/photoreal_pairs`), {2 * len(stems)} images, longer side {args.max_side} (bicubic, "
        "antialiased), sides rounded down to multiples of 16",
        "- reconstruction: `dec(enc(x))` with the HFR skips, no transform, clamped to [0, 1]; PSNR per image",
        f"- device: {device_description(torch.device('cpu'))}; run time {time.time() - start:.0f} s",
        "- command: `STYLELAB_SHARED_DATA=/abs/shared/data python experiments/pcakd/reconstruction.py "
        f"--max-side {args.max_side} --pairs {args.pairs}`",
        "",
        "| model | mean PSNR (dB) | min | max | PSNR of the mean MSE | contents (mean) | styles (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in models:
        mine = [r for r in rows if r["model"] == name]
        values = [float(r["psnr_db"]) for r in mine]  # type: ignore[arg-type]
        mse = sum(float(r["mse"]) for r in mine) / len(mine)  # type: ignore[arg-type]
        by_kind = {
            kind: [float(r["psnr_db"]) for r in mine if str(r["image"]).startswith(kind)]  # type: ignore[arg-type]
            for kind in ("content", "style")
        }
        lines.append(
            f"| {name} | {sum(values) / len(values):.2f} | {min(values):.2f} | {max(values):.2f} | "
            f"{-10 * math.log10(mse):.2f} | {sum(by_kind['content']) / len(by_kind['content']):.2f} | "
            f"{sum(by_kind['style']) / len(by_kind['style']):.2f} |"
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    out = REPO / "reports" / "pcakd"
    atomic_save_text(out / "reconstruction.md", "\n".join(lines) + "\n")
    atomic_save_text(out / "reconstruction.csv", buffer.getvalue())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
