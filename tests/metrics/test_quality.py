"""The quality floor: its closed-form anchors (a copy of the content, a copy of the style)."""

from __future__ import annotations

import pytest
import torch

from stylelab.backbones import VGGEncoder
from stylelab.metrics import ssim, style_loss
from stylelab.metrics.quality import QualityScores, quality_scores, resize_square, summarise


@pytest.fixture(scope="module")
def encoder() -> VGGEncoder:
    return VGGEncoder("vgg19", weights=None, last_tap="relu4_1")


def _images() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y, x = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    content = torch.stack([x, y, (x + y) / 2])[None]
    style = torch.rand(1, 3, 40, 40, generator=g)
    return content, style


def test_copy_of_content_has_ratio_one_and_ssim_one(encoder: VGGEncoder) -> None:
    content, style = _images()
    score = quality_scores(content, content, style, size=64, encoder=encoder, lpips_net=None)[0]
    assert score.style_ratio == pytest.approx(1.0, rel=1e-6)
    assert score.ssim == pytest.approx(1.0, abs=1e-6)
    assert not score.passes()


def test_copy_of_style_has_ratio_zero(encoder: VGGEncoder) -> None:
    content, style = _images()
    score = quality_scores(style, content, style, size=64, encoder=encoder)[0]
    assert score.style_ratio == pytest.approx(0.0, abs=1e-6)


def test_values_equal_the_metrics_at_the_evaluation_size(encoder: VGGEncoder) -> None:
    content, style = _images()
    output = (0.7 * content + 0.3 * torch.rand_like(content)).clamp(0, 1)
    score = quality_scores(output, content, style, size=64, encoder=encoder)[0]
    o, c, s = (resize_square(t, 64) for t in (output, content, style))
    expected = style_loss(o, s, "gram", encoder=encoder) / style_loss(c, s, "gram", encoder=encoder)
    assert score.style_ratio == pytest.approx(float(expected), rel=1e-5)
    assert score.ssim == pytest.approx(float(ssim(o, c)), abs=1e-6)


def test_batch_broadcasts_content_and_style(encoder: VGGEncoder) -> None:
    content, style = _images()
    outputs = torch.cat([content, torch.nn.functional.interpolate(style, size=(48, 64))])
    scores = quality_scores(outputs, content, style, size=64, encoder=encoder)
    assert len(scores) == 2 and scores[0].style_ratio == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(ValueError, match="batch"):
        quality_scores(outputs, torch.cat([content] * 3), style, size=64, encoder=encoder)


def test_summarise_counts_passes() -> None:
    scores = [QualityScores(0.5, None, 0.5, 1.0, 2.0), QualityScores(0.2, 0.3, 0.5, 1.0, 2.0)]
    summary = summarise(scores)
    assert summary["pass_fraction"] == 0.5 and summary["lpips_mean"] == pytest.approx(0.3)
