"""A small gallery: content | style | student | student + masks | student + guided filter | teacher pipeline.

Three DPST pairs at longer side 384. Writes ``reports/pcakd/gallery.jpg``.
Run: ``STYLELAB_SHARED_DATA=... python experiments/pcakd/gallery.py [--teacher CKPT]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from stylelab.data import load_image, load_mask, save_image
from stylelab.methods import load_method
from stylelab.methods.pcakd import PCAKD
from stylelab.methods.pcakd.transfer import resize_labels

REPO = Path(__file__).resolve().parents[2]


def fit(x: torch.Tensor, height: int) -> torch.Tensor:
    width = round(x.shape[-1] * height / x.shape[-2])
    return F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False).clamp(
        0, 1
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--teacher", default=str(REPO / "outputs" / "pcakd_teacher" / "checkpoints" / "last.ckpt")
    )
    parser.add_argument("--pairs", nargs="+", default=["dpst_03", "dpst_14", "dpst_27"])
    args = parser.parse_args()
    shared = os.environ.get("STYLELAB_SHARED_DATA")
    if not shared:
        sys.exit("set STYLELAB_SHARED_DATA")
    root = Path(shared) / "images" / "photoreal_pairs"
    student = PCAKD()
    teacher = load_method(args.teacher) if Path(args.teacher).is_file() else None
    rows = []
    with torch.no_grad():
        for stem in args.pairs:
            content = fit(load_image(root / "content" / f"{stem}.jpg")[None], 256)
            style = fit(load_image(root / "style" / f"{stem}.jpg")[None], 256)
            cm = resize_labels(load_mask(root / "content_seg" / f"{stem}.png")[None], *content.shape[-2:])
            sm = resize_labels(load_mask(root / "style_seg" / f"{stem}.png")[None], *style.shape[-2:])
            tiles = [content, style, student.stylize(content, style)]
            tiles.append(student.stylize(content, style, content_mask=cm, style_mask=sm))
            tiles.append(student.stylize(content, style, guided_filter=True))
            if teacher is not None:
                tiles.append(teacher.stylize(content, style))
            rows.append(torch.cat([F.pad(t, (2, 2, 2, 2), value=1.0) for t in tiles], dim=-1))
    width = max(r.shape[-1] for r in rows)
    grid = torch.cat([F.pad(r, (0, width - r.shape[-1]), value=1.0) for r in rows], dim=-2)
    save_image(grid[0], REPO / "reports" / "pcakd" / "gallery.jpg")
    print("columns: content | style | student | student + masks | student + guided filter | teacher pipeline")


if __name__ == "__main__":
    main()
