from __future__ import annotations

import numpy as np
import pytest
import torch

from stylelab.ops.guided_filter import box_mean, guided_filter


def _brute_force(src: np.ndarray, guide: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s definition evaluated window by window (windows clipped at the border)."""
    c, h, w = guide.shape
    coef_a = np.zeros((h, w, c))
    coef_b = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            ys, xs = slice(max(0, y - r), y + r + 1), slice(max(0, x - r), x + r + 1)
            g = guide[:, ys, xs].reshape(c, -1).T  # (n, c)
            p = src[ys, xs].reshape(-1)
            gc, pc = g - g.mean(0), p - p.mean()
            a = np.linalg.solve(gc.T @ gc / len(p) + eps * np.eye(c), gc.T @ pc / len(p))
            coef_a[y, x], coef_b[y, x] = a, p.mean() - a @ g.mean(0)
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            ys, xs = slice(max(0, y - r), y + r + 1), slice(max(0, x - r), x + r + 1)
            out[y, x] = coef_a[ys, xs].reshape(-1, c).mean(0) @ guide[:, y, x] + coef_b[ys, xs].mean()
    return out


@pytest.mark.parametrize(("channels", "radius"), [(1, 1), (3, 1), (3, 2)])
def test_matches_windowed_least_squares(channels: int, radius: int) -> None:
    g = torch.Generator().manual_seed(0)
    guide = torch.rand(1, channels, 6, 7, generator=g, dtype=torch.float64)
    src = torch.rand(1, 2, 6, 7, generator=g, dtype=torch.float64)
    out = guided_filter(src, guide, radius, 1e-2)
    for k in range(2):
        expected = _brute_force(src[0, k].numpy(), guide[0].numpy(), radius, 1e-2)
        np.testing.assert_allclose(out[0, k].numpy(), expected, atol=1e-10)


def test_edge_preserving_limits() -> None:
    g = torch.Generator().manual_seed(1)
    guide = torch.rand(1, 3, 12, 12, generator=g, dtype=torch.float64)
    # an affine function of the guide passes unchanged when eps -> 0
    src = (0.3 * guide[:, :1] - 0.2 * guide[:, 1:2] + 0.7 * guide[:, 2:] + 0.1).repeat(1, 2, 1, 1)
    torch.testing.assert_close(guided_filter(src, guide, 2, 1e-12), src, atol=1e-6, rtol=0)
    # a constant guide has no edges: the result is the mean of the box means
    flat = torch.full((1, 1, 12, 12), 0.5, dtype=torch.float64)
    noisy = torch.rand(1, 1, 12, 12, generator=g, dtype=torch.float64)
    torch.testing.assert_close(guided_filter(noisy, flat, 2, 1e-3), box_mean(box_mean(noisy, 2), 2))


def test_box_mean_counts_clipped_windows() -> None:
    x = torch.arange(12.0).view(1, 1, 3, 4)
    m = box_mean(x, 1)
    torch.testing.assert_close(m[0, 0, 0, 0], x[0, 0, :2, :2].mean())
    torch.testing.assert_close(m[0, 0, 1, 1], x[0, 0, :3, :3].mean())


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="1 or 3"):
        guided_filter(torch.rand(1, 3, 8, 8), torch.rand(1, 2, 8, 8), 1, 1e-3)
    with pytest.raises(ValueError, match="share"):
        guided_filter(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9), 1, 1e-3)
    with pytest.raises(ValueError, match="eps"):
        guided_filter(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), 1, 0.0)
