"""The ``pretrained_r31`` preset on a real photo and painting (shared data; skipped when absent).

Both images are held out from the preset's tuning (``experiments/ift/r31_common.py``). The floor is the
project's (:mod:`stylelab.metrics.quality`): the same content decoded without the transform fails it (its
ratio is above 0.9), and an untrained decoder gives SSIM far below 0.3, so this test fails if the preset
skipped the transform or decoded with another decoder (``test_pretrained_r31.py`` pins the exact decoder).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.commands.stylize import image_loader
from stylelab.methods.ift import IFT, stylize_padded
from stylelab.methods.ift.cli import pad_to
from stylelab.metrics.quality import quality_scores


def test_preset_output_passes_the_quality_floor(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)  # the preset needs only shipped weights ...
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    model = IFT(preset="pretrained_r31").eval()
    monkeypatch.setenv("STYLELAB_WEIGHTS", str(shared_data / "weights"))  # ... the metrics may use more
    load = image_loader(512, "cpu")
    content = load(shared_data / "images" / "content" / "newyork.jpg")
    style = load(shared_data / "images" / "style" / "starry_night_crop.jpg")
    h, w = content.shape[-2:]
    with torch.no_grad():
        out = stylize_padded(model, content, [style])  # the CLI's path
        feature = model.net.encode(pad_to(content, model.net.multiple_of))
        kept = model.net.decode(feature)[..., :h, :w]  # the transform skipped
    scores = quality_scores(torch.cat([out, kept]), content.expand(2, -1, -1, -1), style)
    assert scores[0].ssim >= 0.3 and scores[0].style_ratio <= 0.9, scores[0]
    assert scores[1].style_ratio > 0.9, scores[1]  # the floor sees a skipped transform
