"""The ``pretrained_r31`` preset on a real photo and painting (shared data; skipped when absent).

The pair is held out from the preset's tuning (``experiments/ift/r31_common.py``). The floor is the
project's (:mod:`stylelab.metrics.quality`); the same features decoded without the transform, or by an
untrained decoder, fail it, so this test fails if the preset skipped the transform or used another decoder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.commands.stylize import image_loader
from stylelab.methods.ift import IFT, stylize_padded
from stylelab.metrics.quality import quality_scores
from stylelab.nn.pretrained_r31 import r31_decoder


def test_preset_output_passes_the_quality_floor(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)  # the preset needs only shipped weights ...
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    model = IFT(preset="pretrained_r31").eval()
    monkeypatch.setenv("STYLELAB_WEIGHTS", str(shared_data / "weights"))  # ... the metrics may use more
    load = image_loader(512, "cpu")
    content = load(shared_data / "images" / "content" / "newyork.jpg")
    style = load(shared_data / "images" / "style" / "starry_night_crop.jpg")
    out = stylize_padded(model, content, [style])
    score = quality_scores(out, content, style)[0]
    assert score.ssim >= 0.3 and score.style_ratio <= 0.9, score
    # negative controls on the same features: no transform, or an untrained decoder, fail the floor
    kept = stylize_padded(model, content, [style], n_upd=0)
    torch.manual_seed(0)
    model.net.pipeline.decoder = r31_decoder(pretrained=False).eval()
    wrong = stylize_padded(model, content, [style])
    controls = quality_scores(torch.cat([kept, wrong]), content, style)
    assert controls[0].style_ratio > 0.9, controls[0]
    assert controls[1].ssim < 0.3, controls[1]
