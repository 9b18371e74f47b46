from collections.abc import Callable

import numpy as np
import pytest
import torch
from scipy.ndimage import uniform_filter

from stylelab.ops import hfr_box, hfr_pool


def test_box_matches_scipy_uniform_filter_nearest() -> None:
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    ref = x.numpy() - uniform_filter(x.numpy(), size=(1, 1, 3, 3), mode="nearest")
    np.testing.assert_allclose(hfr_box(x).numpy(), ref, atol=1e-12)


def test_box_ramp_closed_form() -> None:
    ramp = torch.arange(6, dtype=torch.float64).expand(1, 1, 4, 6)
    r = hfr_box(ramp)[0, 0]
    torch.testing.assert_close(r[:, 1:-1], torch.zeros(4, 4, dtype=torch.float64))
    # replicate padding: left neighbours (0, 0, 1) -> mean 1/3; right (4, 5, 5) -> 14/3
    torch.testing.assert_close(r[:, 0], torch.full((4,), -1 / 3, dtype=torch.float64))
    torch.testing.assert_close(r[:, -1], torch.full((4,), 5 - 14 / 3, dtype=torch.float64))


def test_pool_ramp_closed_form() -> None:
    ramp = torch.arange(8, dtype=torch.float64).expand(1, 2, 4, 8)
    r = hfr_pool(ramp)
    # bilinear interpolation of a ramp is exact inside; edge clamping gives -1/2 and +1/2
    torch.testing.assert_close(r[..., 1:-1], torch.zeros(1, 2, 4, 6, dtype=torch.float64))
    torch.testing.assert_close(r[..., 0], torch.full((1, 2, 4), -0.5, dtype=torch.float64))
    torch.testing.assert_close(r[..., -1], torch.full((1, 2, 4), 0.5, dtype=torch.float64))


def test_pool_matches_skimage_bilinear() -> None:
    from skimage.transform import resize

    x = torch.randn(1, 1, 6, 10, dtype=torch.float64)
    pooled = x[0, 0].numpy().reshape(3, 2, 5, 2).mean(axis=(1, 3))
    low = resize(pooled, (6, 10), order=1, mode="edge", anti_aliasing=False)
    np.testing.assert_allclose(hfr_pool(x)[0, 0].numpy(), x[0, 0].numpy() - low, atol=1e-12)


@pytest.mark.parametrize("fn", [hfr_box, hfr_pool])
def test_constant_has_zero_residual_and_odd_sizes_work(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    x = torch.full((1, 3, 5, 7), 0.4)
    out = fn(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, torch.zeros_like(x))


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="4-D"):
        hfr_box(torch.randn(3, 4, 4))
    with pytest.raises(ValueError, match=">= 2"):
        hfr_pool(torch.randn(1, 1, 1, 4))
