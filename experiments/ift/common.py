"""Shared pieces of the IFT experiments: paths, the photo/painting cases, the model.

The shared-data folder, image loading, Markdown tables, plots and device lines come from
:mod:`stylelab.reproduce`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from stylelab.reproduce.images import load_resized

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports" / "ift"
CHECKPOINT = REPO / "outputs" / "ift_cpu" / "checkpoints" / "last.ckpt"

#: Content photo and style pairs used by the claims (shared data, images/content and images/style).
MULTI_STYLE_CASES: tuple[tuple[str, str, str], ...] = (
    ("newyork.jpg", "starry_night_crop.jpg", "candy.jpg"),
    ("cornell.jpg", "la_muse.jpg", "sketch.png"),
    ("skimage_chelsea.png", "mosaic.jpg", "composition_vii.jpg"),
    ("flowers.jpg", "the_resevoir_at_poitiers.jpg", "feathers.jpg"),
)


def load_model(shared: Path, checkpoint: Path | None = CHECKPOINT) -> tuple[torch.nn.Module, str]:
    """The CPU-trained IFT checkpoint if present, else an untrained decoder calibrated on the shared photos.

    Returns:
        ``(method, description)``.
    """
    from stylelab.methods import load_method
    from stylelab.methods.ift import IFT

    if checkpoint is not None and checkpoint.is_file():
        model = load_method(checkpoint)
        steps = torch.load(checkpoint, map_location="cpu", weights_only=True).get("global_step", "?")
        return model.eval(), f"decoder trained {steps} steps on CPU (configs/experiments/ift/cpu_small.yaml)"
    model = IFT().eval()
    calibrate(model.net, shared)
    return model, "UNTRAINED decoder (no checkpoint): decoded images are not meaningful"


def calibrate(net: torch.nn.Module, shared: Path, size: int = 128) -> None:
    """Fit an ``IFTNet``'s channel scales on the 21 shared content photos (as training does on its images)."""
    photos = sorted((shared / "images" / "content").iterdir())
    with torch.no_grad():
        net.calibrate(load_resized(p, size) for p in photos)
