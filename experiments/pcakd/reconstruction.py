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
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, dpst_contents, load_pair_image, pairs_root, psnr, psnr_of_mse, reconstruct  # noqa: E402

from stylelab.methods.pcakd import PCAKD  # noqa: E402
from stylelab.reproduce.cache import write_dict_csv  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import fit_longer_side  # noqa: E402

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
    return fit_longer_side(image, max_side, multiple=multiple, mode="bicubic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-side", type=int, default=384)
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args()
    root = pairs_root()
    torch.set_num_threads(2)
    stems = [p.stem for p in dpst_contents(root, args.pairs)]
    report = ReportWriter(
        REPORTS / "reconstruction.md",
        "PCA-KD reconstruction: the authors' trained students vs stylelab's distilled student",
        budget=f"{2 * len(stems)} images at longer side {args.max_side}, 2 threads",
    )
    models = {name: PCAKD(teacher_weights=None, **kw).eval() for name, kw in MODELS.items()}  # type: ignore[arg-type]
    rows: list[dict[str, object]] = []
    for stem in stems:
        for kind in ("content", "style"):
            image = resize(load_pair_image(root, kind, stem), args.max_side)
            for name, model in models.items():
                rec = reconstruct(model, image)
                rows.append(
                    {
                        "image": f"{kind}/{stem}",
                        "model": name,
                        "height": image.shape[-2],
                        "width": image.shape[-1],
                        "psnr_db": round(psnr(rec, image), 3),
                        "mse": float(((rec - image) ** 2).mean()),
                    }
                )
    report.add(
        f"- images: the content and style photos of {len(stems)} DPST pairs (shared data, "
        f"`images/photoreal_pairs`), {2 * len(stems)} images, longer side {args.max_side} (bicubic, "
        "antialiased), sides rounded down to multiples of 16\n"
        "- reconstruction: `dec(enc(x))` with the HFR skips, no transform, clamped to [0, 1]; PSNR per image"
    )
    table = []
    for name in models:
        mine = [r for r in rows if r["model"] == name]
        values = [float(r["psnr_db"]) for r in mine]  # type: ignore[arg-type]
        mse = sum(float(r["mse"]) for r in mine) / len(mine)  # type: ignore[arg-type]
        by_kind = {
            kind: [float(r["psnr_db"]) for r in mine if str(r["image"]).startswith(kind)]  # type: ignore[arg-type]
            for kind in ("content", "style")
        }
        table.append(
            [
                name,
                f"{sum(values) / len(values):.2f}",
                f"{min(values):.2f}",
                f"{max(values):.2f}",
                f"{psnr_of_mse(mse):.2f}",
                f"{sum(by_kind['content']) / len(by_kind['content']):.2f}",
                f"{sum(by_kind['style']) / len(by_kind['style']):.2f}",
            ]
        )
    report.table(
        ["model", "mean PSNR (dB)", "min", "max", "PSNR of the mean MSE", "contents (mean)", "styles (mean)"],
        table,
    )
    write_dict_csv(REPORTS / "reconstruction.csv", rows)
    print(report.write().read_text())


if __name__ == "__main__":
    main()
