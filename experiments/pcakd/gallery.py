"""A small gallery: content | style | student | student + masks | student + guided filter | teacher pipeline.

Three DPST pairs at longer side 384. Writes ``reports/pcakd/gallery.jpg``.
Run: ``STYLELAB_SHARED_DATA=... python experiments/pcakd/gallery.py [--teacher CKPT]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, TEACHER_CHECKPOINT, load_pair_image, load_pair_masks, pairs_root  # noqa: E402

from stylelab.data import save_image  # noqa: E402
from stylelab.methods import load_method  # noqa: E402
from stylelab.methods.pcakd import PCAKD  # noqa: E402
from stylelab.methods.pcakd.transfer import resize_labels  # noqa: E402


def fit(x: torch.Tensor, height: int) -> torch.Tensor:
    """Height to ``height`` (antialiased bilinear, aspect kept), clamped to [0, 1]."""
    width = round(x.shape[-1] * height / x.shape[-2])
    return F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False).clamp(
        0, 1
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teacher", default=str(TEACHER_CHECKPOINT))
    parser.add_argument("--pairs", nargs="+", default=["dpst_03", "dpst_14", "dpst_27"])
    args = parser.parse_args()
    root = pairs_root()
    student = PCAKD()
    teacher = load_method(args.teacher) if Path(args.teacher).is_file() else None
    rows = []
    with torch.no_grad():
        for stem in args.pairs:
            content = fit(load_pair_image(root, "content", stem), 256)
            style = fit(load_pair_image(root, "style", stem), 256)
            content_mask, style_mask = load_pair_masks(root, stem)
            cm = resize_labels(content_mask, *content.shape[-2:])
            sm = resize_labels(style_mask, *style.shape[-2:])
            tiles = [content, style, student.stylize(content, style)]
            tiles.append(student.stylize(content, style, content_mask=cm, style_mask=sm))
            tiles.append(student.stylize(content, style, guided_filter=True))
            if teacher is not None:
                tiles.append(teacher.stylize(content, style))
            rows.append(torch.cat([F.pad(t, (2, 2, 2, 2), value=1.0) for t in tiles], dim=-1))
    width = max(r.shape[-1] for r in rows)
    grid = torch.cat([F.pad(r, (0, width - r.shape[-1]), value=1.0) for r in rows], dim=-2)
    save_image(grid[0], REPORTS / "gallery.jpg")
    print("columns: content | style | student | student + masks | student + guided filter | teacher pipeline")


if __name__ == "__main__":
    main()
