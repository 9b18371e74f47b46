"""Helpers shared by the SK experiment scripts (paths, images, models, report headers)."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.bench import device_description
from stylelab.data import load_image
from stylelab.methods import load_method
from stylelab.methods.stylekernel import StyleKernel

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports" / "stylekernel"
RUNS = REPO / "outputs" / "stylekernel_experiments"

#: Paper numbers (Tesla V100, batch 1), spec 3.7.
PAPER_TABLE1 = {256: 0.017, 512: 0.035}
PAPER_TABLE1_OTHERS = {
    "AdaIN'17": (0.004, 0.005),
    "SANet'19": (0.011, 0.037),
    "IEC'21": (0.012, 0.021),
    "AdaAttN'21": (0.024, 0.042),
    "StrTr2'22": (0.034, 0.086),
}
PAPER_TABLE2 = {
    "AdaIN'17": (1.77, 0.37), "LST'19": (2.67, 0.33), "AvatarNet'18": (5.91, 0.34), "SANet'19": (1.41, 0.36),
    "IEC'21": (1.81, 0.31), "DRB-GAN'21": (1.51, 0.33), "AdaAttN'21": (1.14, 0.32), "MAST'21": (None, 0.32),
    "AdaConv'21": (1.04, 0.42), "StrTr2'22": (1.07, 0.33), "Ours (SK)": (0.98, 0.30),
}  # fmt: skip
PAPER_TABLE3 = {1: (1.04, 0.30, 0.015, 0.034), 3: (0.98, 0.30, 0.017, 0.035), 5: (0.97, 0.31, 0.021, 0.044)}


def shared_images() -> Path | None:
    """``$STYLELAB_SHARED_DATA/images`` when set and present."""
    root = os.environ.get("STYLELAB_SHARED_DATA")
    if root and (Path(root) / "images").is_dir():
        return Path(root) / "images"
    return None


def resize_square(image: Tensor, size: int) -> Tensor:
    """``(1, 3, H, W)`` → ``(1, 3, size, size)``: shorter side to ``size``, centre crop."""
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    image = F.interpolate(image, size=(max(size, round(h * scale)), max(size, round(w * scale))),
                          mode="bilinear", antialias=True, align_corners=False)  # fmt: skip
    h, w = image.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return image[..., top : top + size, left : left + size].contiguous()


def example_pair(size: int) -> tuple[Tensor, Tensor]:
    """A real (content, style) pair at ``size x size`` (random images when no shared data)."""
    images = shared_images()
    if images is None:
        g = torch.Generator().manual_seed(size)
        return torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)
    content = load_image(sorted((images / "content").iterdir())[0])[None]
    style = load_image(sorted((images / "style").iterdir())[0])[None]
    return resize_square(content, size), resize_square(style, size)


def load_or_build(checkpoint: Path | None, **overrides: object) -> StyleKernel:
    """The trained model at ``checkpoint`` if it exists, else a freshly initialised one (eval mode)."""
    if checkpoint is not None and checkpoint.is_file():
        model = load_method(checkpoint)
        assert isinstance(model, StyleKernel)
        return model.eval()
    return StyleKernel(**overrides).eval()  # type: ignore[arg-type]


def machine_line() -> str:
    """Device, thread count, torch version, for report headers."""
    return (f"{device_description(torch.device('cpu'))}; torch {torch.__version__}; "
            f"{torch.get_num_threads()} intra-op threads; {os.cpu_count()} logical CPUs visible "
            f"(shared with other jobs); Python {platform.python_version()}")  # fmt: skip


def training_budget(runs: Iterable[str]) -> str:
    """``"N generator updates each"`` of the trained ``runs`` (``train.py``'s summaries); flags mixed ones."""
    steps = {}
    for name in runs:
        path = RUNS / name / "summary.json"
        if path.is_file():
            steps[name] = json.loads(path.read_text())["generator_steps"]
    if not steps:
        return "not trained"
    if len(set(steps.values())) == 1:
        return f"{next(iter(steps.values()))} generator updates each"
    return "MIXED budgets, rows not comparable: " + ", ".join(f"{k} {v}" for k, v in steps.items())
