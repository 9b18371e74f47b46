"""Helpers shared by the SK experiment scripts: paths, the paper's numbers, example images, models.

Report headers, image loading and the shared-data folder come from :mod:`stylelab.reproduce`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor

from stylelab.data import load_image
from stylelab.methods import load_method
from stylelab.methods.stylekernel import StyleKernel
from stylelab.reproduce.images import optional_shared_images, square

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


def example_pair(size: int) -> tuple[Tensor, Tensor]:
    """A real (content, style) pair at ``size x size`` (random images when no shared data)."""
    images = optional_shared_images()
    if images is None:
        g = torch.Generator().manual_seed(size)
        return torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)
    content = load_image(sorted((images / "content").iterdir())[0])[None]
    style = load_image(sorted((images / "style").iterdir())[0])[None]
    return square(content, size), square(style, size)


def load_or_build(checkpoint: Path | None, **overrides: object) -> StyleKernel:
    """The trained model at ``checkpoint`` if it exists, else a freshly initialised one (eval mode)."""
    if checkpoint is not None and checkpoint.is_file():
        model = load_method(checkpoint)
        assert isinstance(model, StyleKernel)
        return model.eval()
    return StyleKernel(**overrides).eval()  # type: ignore[arg-type]


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
