from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from stylelab.metrics import SSIM, ssim, ssim_map

from ._helpers import load_image, random_images


def skimage_ssim(x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """skimage's SSIM for each image of a (B, 3, H, W) batch, with the Wang et al. settings."""
    return [
        float(
            structural_similarity(
                a.permute(1, 2, 0).double().numpy(),
                b.permute(1, 2, 0).double().numpy(),
                channel_axis=-1,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=1.0,
            )
        )
        for a, b in zip(x, y, strict=True)
    ]


def test_matches_skimage_on_synthetic_images() -> None:
    x = random_images(3, size=40, seed=1)[..., :33]  # non-square
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    y = torch.cat(
        [(x[:1] + 0.05 * noise[:1]).clamp(0, 1), x[1:2].flip(-1), random_images(1, 40, 9)[..., :33]]
    )
    expected = np.array(skimage_ssim(x, y))
    got = ssim(x, y, reduction="none").numpy()
    assert np.abs(got - expected).max() <= 1e-4
    # In float64 the valid-region filtering is the same computation as skimage's reflect + crop.
    np.testing.assert_allclose(ssim(x.double(), y.double(), reduction="none").numpy(), expected, atol=1e-12)


@pytest.mark.shared_data
def test_matches_skimage_on_real_photos(shared_images: Path) -> None:
    a = load_image(shared_images / "content" / "skimage_chelsea.png")  # 300 x 451
    b = load_image(shared_images / "content" / "skimage_coffee.png")[..., : a.shape[2], : a.shape[3]]
    noisy = (a + 0.08 * torch.randn(a.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    x, y = torch.cat([a, a]), torch.cat([noisy, b])
    got = ssim(x, y, reduction="none").numpy()
    assert np.abs(got - np.array(skimage_ssim(x, y))).max() <= 1e-4


def test_closed_form_properties() -> None:
    x = random_images(2, size=24, seed=3)
    torch.testing.assert_close(ssim(x, x, reduction="none"), torch.ones(2))
    assert ssim_map(x, x).shape == (2, 3, 14, 14)  # valid region: 24 - 10
    # A constant image against itself shifted by d: SSIM = (2 m (m + d) + C1) / (m^2 + (m + d)^2 + C1).
    m, d, c1 = 0.4, 0.1, 0.01**2
    const = torch.full((1, 3, 16, 16), m)
    expected = (2 * m * (m + d) + c1) / (m**2 + (m + d) ** 2 + c1)
    torch.testing.assert_close(ssim(const, const + d), torch.tensor(expected, dtype=torch.float32))


def test_metric_mean_and_errors() -> None:
    x, y = random_images(5, size=24, seed=4), random_images(5, size=24, seed=5)
    metric = SSIM()
    metric.update(x[:2], y[:2])
    metric.update(x[2:], y[2:])
    torch.testing.assert_close(metric.compute().float(), ssim(x, y))
    assert metric.higher_is_better is True
    assert metric.variant.startswith("SSIM: Gaussian 11x11 sigma=1.5, K1=0.01, K2=0.03, data_range=1")
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(x[..., :10, :10], y[..., :10, :10])
    with pytest.raises(ValueError, match="equal shape"):
        ssim(x, y[:, :, :20])
