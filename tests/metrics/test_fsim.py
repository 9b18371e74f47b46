from __future__ import annotations

import piq
import pytest
import torch

from stylelab.metrics import FSIM, fsim

from ._helpers import random_images


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    """Structured 64x64 test image in [0.2, 0.8]: gradients, a disc and a bar."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    disc = (((xs - 0.6) ** 2 + (ys - 0.4) ** 2) < 0.05).float()
    bar = ((xs > 0.15) & (xs < 0.3)).float()
    rgb = torch.stack([0.5 * xs + 0.3 * disc, 0.5 * ys + 0.3 * bar, 0.3 + 0.3 * disc * bar])
    return (0.2 + 0.6 * rgb.clamp(0, 1)).unsqueeze(0)


@pytest.mark.parametrize("chromatic", [True, False])
def test_identical_images_score_one_and_noise_degrades_monotonically(
    image: torch.Tensor, chromatic: bool
) -> None:
    assert fsim(image, image, chromatic=chromatic).item() == pytest.approx(1.0, abs=1e-6)
    noise = torch.randn(image.shape, generator=torch.Generator().manual_seed(0))
    levels = [0.02, 0.05, 0.1, 0.2]
    noisy = torch.cat([(image + s * noise).clamp(0, 1) for s in levels])
    scores = fsim(noisy, image.expand(len(levels), -1, -1, -1), chromatic=chromatic, reduction="none")
    assert torch.all(scores[1:] < scores[:-1]), scores
    assert scores[-1] < 0.95


def test_chromatic_option_sees_chroma_and_grayscale_ignores_it(image: torch.Tensor) -> None:
    # A colour shift orthogonal to the luma weights (0.299, 0.587, 0.114) keeps Y fixed.
    shift = torch.tensor([0.587, -0.299, 0.0]).view(1, 3, 1, 1)
    ys, _ = torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64), indexing="ij")
    recoloured = image + 0.15 * shift * ys
    assert recoloured.min() >= 0 and recoloured.max() <= 1
    assert fsim(recoloured, image, chromatic=False).item() == pytest.approx(1.0, abs=1e-5)
    assert fsim(recoloured, image, chromatic=True).item() < 0.999


def test_wrapper_equals_piq_and_metric_averages() -> None:
    x, y = random_images(3, size=48, seed=1), random_images(3, size=48, seed=2)
    torch.testing.assert_close(fsim(x, y, reduction="none"), piq.fsim(x, y, reduction="none"))
    metric = FSIM(chromatic=False)
    metric.update(x[:1], y[:1])
    metric.update(x[1:], y[1:])
    torch.testing.assert_close(metric.compute().float(), fsim(x, y, chromatic=False))
    assert metric.higher_is_better is True
    assert metric.variant.startswith("FSIM (luminance Y only) via piq.fsim")
    assert FSIM().variant.startswith("FSIMc (chromatic, YIQ) via piq.fsim")
    with pytest.raises(ValueError, match="RGB"):
        fsim(x[:, :1], y[:, :1])
