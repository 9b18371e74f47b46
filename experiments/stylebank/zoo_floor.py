"""Quality floor of the zoo StyleBank on the held-out photos, per bank, and a gallery.

Every held-out photo of the zoo split (``stylelab.zoo.splits.split_files("photos", "held_out")``) at longer
side 512 is stylised with each bank (``method.stylize(content, styles=[k])``) and scored with
``stylelab.metrics.quality.quality_scores`` at 256² against the bank's own training painting: SSIM and LPIPS
to the content (floor: mean SSIM >= 0.3, mean LPIPS >= 0.15) and the Gram style ratio (aim <= 0.9).

    python experiments/stylebank/zoo_floor.py outputs/zoo/stylebank/checkpoints/last.ckpt

Writes ``reports/stylebank/zoo_floor.md`` and ``reports/stylebank/zoo_gallery.jpg``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

from stylelab.bench import device_description
from stylelab.methods import load_method
from stylelab.zoo.floor import LPIPS_FLOOR, load_at, own_styles_floor
from stylelab.zoo.splits import split_files

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports" / "stylebank"


def _load(path: str):  # noqa: ANN202 - a StyleBank
    if path.endswith(".safetensors"):
        from stylelab.zoo.checkpoint import load_zoo_checkpoint

        return load_zoo_checkpoint(path)
    return load_method(path)


def gallery(method, photos: list[Path], files: list[Path], target: Path, side: int = 192) -> None:  # noqa: ANN001
    """Rows: photos; columns: the photo, its reconstruction, then every bank; first row: the paintings."""

    def tile(image: torch.Tensor) -> torch.Tensor:
        return F.interpolate(image, size=(side, side), mode="bilinear", antialias=True).clamp(0, 1)

    blank = torch.ones(1, 3, side, side)
    rows = [torch.cat([blank, blank, *[tile(load_at(f, 256)) for f in files]], -1)]
    with torch.no_grad():
        for photo in photos:
            content = load_at(photo, 512)
            outputs = [method.stylize(content, styles=[k]) for k in range(len(files))]
            rows.append(
                torch.cat([tile(content), tile(method.net.reconstruct(content)), *map(tile, outputs)], -1)
            )
    grid = (torch.cat(rows, -2)[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8")
    Image.fromarray(grid).save(target, quality=88)


def main() -> None:
    """Measure, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="Lightning checkpoint or zoo .safetensors file")
    parser.add_argument("--longer", type=int, default=512)
    parser.add_argument("--gallery-photos", type=int, default=4)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    method = _load(args.checkpoint).eval()
    photos = split_files("photos", "held_out")
    paintings = {p.name: p for p in split_files("paintings", "train")}
    files = [paintings[Path(name).name] for name in method.style_names]
    start = time.time()
    rows = own_styles_floor(method, photos, files, longer=args.longer)
    seconds = time.time() - start
    lines = [
        "# StyleBank zoo model: quality floor on held-out photos",
        "",
        f"Checkpoint `{args.checkpoint}`; {method.variant()}.",
        f"{len(photos)} held-out photos x {len(files)} banks, longer side {args.longer}; metrics at 256² "
        "(`stylelab.metrics.quality.quality_scores`): SSIM and LPIPS (alex) to the content, Gram style "
        "ratio against the bank's own training painting (Caffe VGG-19 q8, relu1_1..relu4_1). "
        f"Floor: mean SSIM >= 0.3 and mean LPIPS >= {LPIPS_FLOOR}; style ratio aim <= 0.9. "
        f"Machine: {device_description(torch.device('cpu'))}; {seconds:.0f} s.",
        "",
        "| bank | painting | SSIM mean (min–max) | LPIPS mean (min–max) | style ratio mean (min–max) |",
        "|---|---|---|---|---|",
    ]

    def stat(values: list[float]) -> str:
        return f"{statistics.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})"

    for k, painting in enumerate(files):
        mine = [r for r in rows if r["style"] == f"bank {k}"]
        scores = [stat([r[key] for r in mine]) for key in ("ssim", "lpips", "style_ratio")]
        lines.append(f"| {k} | {painting.stem} | " + " | ".join(scores) + " |")
    ssim, lpips = [r["ssim"] for r in rows], [r["lpips"] for r in rows]
    ratio = [r["style_ratio"] for r in rows]
    passes = statistics.mean(ssim) >= 0.3 and statistics.mean(lpips) >= LPIPS_FLOOR
    lines += [
        f"| all | {len(rows)} pairs | {stat(ssim)} | {stat(lpips)} | {stat(ratio)} |",
        "",
        f"Floor: **{'passes' if passes else 'FAILS'}**; pairs with ratio <= 0.9: "
        f"{sum(r <= 0.9 for r in ratio)}/{len(ratio)}.",
        "",
        "Per pair:",
        "",
        "| photo | bank | SSIM | LPIPS | style ratio |",
        "|---|---|---|---|---|",
        *[
            f"| {r['content']} | {r['style']} | {r['ssim']:.3f} | {r['lpips']:.3f} | {r['style_ratio']:.3f} |"
            for r in rows
        ],
        "",
        "![gallery](zoo_gallery.jpg) (rows: held-out photos; columns: photo, D(E(photo)), then each bank; "
        "first row: the banks' paintings)",
        "",
    ]
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "zoo_floor.md").write_text("\n".join(lines))
    gallery(method, photos[: args.gallery_photos], files, REPORTS / "zoo_gallery.jpg")
    print("\n".join(lines[: 14 + len(files)]))


if __name__ == "__main__":
    main()
