"""Shared pieces of the ``pretrained_r31`` experiments: the image split, the CLI's loading, the transforms.

The split is drawn once, by a seeded permutation of the sorted shared file names, so the tuning subset
and the held-out images are fixed and reproducible (the preset's settings were chosen on ``TUNE_*`` only).
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

#: Seed of the permutation that splits the shared photos and paintings.
SPLIT_SEED = 12
#: How many photos and paintings form the tuning subset (the rest is held out).
N_TUNE_CONTENT = 5
N_TUNE_STYLE = 5
#: Held-out pairs: each held-out photo with this many held-out paintings (seeded draw).
STYLES_PER_HELD_OUT_CONTENT = 2


def split(shared: Path) -> dict[str, list[Path]]:
    """``{"tune_content", "tune_style", "held_content", "held_style"}`` file lists (seeded permutation)."""
    out: dict[str, list[Path]] = {}
    rng = random.Random(SPLIT_SEED)
    for kind, n_tune in (("content", N_TUNE_CONTENT), ("style", N_TUNE_STYLE)):
        files = sorted((shared / "images" / kind).iterdir())
        rng.shuffle(files)
        out[f"tune_{kind}"] = sorted(files[:n_tune])
        out[f"held_{kind}"] = sorted(files[n_tune:])
    return out


def tuning_pairs(parts: dict[str, list[Path]]) -> list[tuple[Path, Path]]:
    """Every tuning photo with every tuning painting."""
    return [(c, s) for c in parts["tune_content"] for s in parts["tune_style"]]


def held_out_pairs(parts: dict[str, list[Path]]) -> list[tuple[Path, Path]]:
    """Each held-out photo with ``STYLES_PER_HELD_OUT_CONTENT`` held-out paintings (seeded, no repeats)."""
    rng = random.Random(SPLIT_SEED + 1)
    styles = list(parts["held_style"])
    pairs = []
    for k, content in enumerate(parts["held_content"]):
        if k * STYLES_PER_HELD_OUT_CONTENT % len(styles) == 0:
            rng.shuffle(styles)
        start = k * STYLES_PER_HELD_OUT_CONTENT % len(styles)
        pairs += [(content, styles[(start + j) % len(styles)]) for j in range(STYLES_PER_HELD_OUT_CONTENT)]
    return pairs


def load_like_cli(path: Path, max_size: int = 512) -> Tensor:
    """``(1, 3, H, W)`` RGB [0, 1] exactly as ``stylelab stylize --max-size`` loads it."""
    from stylelab.commands.stylize import image_loader

    return image_loader(max_size, "cpu")(path)


def pad_to(x: Tensor, multiple: int) -> Tensor:
    """Reflect-pad ``(B, C, H, W)`` at the bottom/right to multiples of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return F.pad(x, (0, pw, 0, ph), mode="reflect") if ph or pw else x


def short(path: Path) -> str:
    """File stem for tables."""
    return path.stem


def set_threads() -> None:
    """Two torch threads (the machine is shared)."""
    torch.set_num_threads(2)


@torch.no_grad()
def floor_scores(outputs: Tensor, content: Tensor, style: Tensor) -> list[tuple[float, float]]:
    """``(ssim, style_ratio)`` of each output, exactly as :func:`stylelab.metrics.quality.quality_scores`.

    The same resize, SSIM and Gram loss, without LPIPS and with the content's Gram loss computed once
    (sweeps score many outputs of one pair).

    Args:
        outputs: ``(B, 3, H, W)`` stylised images of one pair, RGB [0, 1].
        content: ``(1, 3, H', W')``.
        style: ``(1, 3, H'', W'')``.
    """
    from stylelab.metrics.quality import resize_square
    from stylelab.metrics.ssim import ssim
    from stylelab.metrics.style_loss import style_loss

    out, cont, sty = (resize_square(x) for x in (outputs, content, style))
    ssims = ssim(out, cont.expand_as(out), reduction="none")
    loss_out = style_loss(out, sty.expand_as(out), "gram", reduction="none")
    loss_content = style_loss(cont, sty, "gram", reduction="none")[0].clamp_min(1e-12)
    return [(float(ssims[i]), float(loss_out[i] / loss_content)) for i in range(out.shape[0])]
