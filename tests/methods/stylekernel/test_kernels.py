from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylelab.methods.stylekernel.kernels import StyleKernelGenerator, dynamic_separable_conv


def naive_dynamic_conv(
    x: torch.Tensor, f1: torch.Tensor, f2: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """Per-pixel loop: vertical pass with each output pixel's own k x 1 filter, then horizontal pass."""
    b, c, h, w = x.shape
    k = f1.shape[2]
    p = k // 2

    def reflect(i: int, n: int) -> int:
        return -i if i < 0 else (2 * (n - 1) - i if i >= n else i)

    y = torch.zeros_like(x)
    for n in range(b):
        for ch in range(c):
            for i in range(h):
                for j in range(w):
                    y[n, ch, i, j] = sum(
                        f1[n, ch, t, i, j] * x[n, ch, reflect(i + t - p, h), j] for t in range(k)
                    )
    z = torch.zeros_like(x)
    for n in range(b):
        for ch in range(c):
            for i in range(h):
                for j in range(w):
                    z[n, ch, i, j] = (
                        sum(f2[n, ch, t, i, j] * y[n, ch, i, reflect(j + t - p, w)] for t in range(k))
                        + bias[n, ch, i, j]
                    )
    return z


@pytest.mark.parametrize("k", [1, 3, 5])
def test_dynamic_conv_equals_naive_per_pixel_loop(k: int) -> None:
    g = torch.Generator().manual_seed(k)
    x = torch.randn(2, 3, 6, 7, generator=g, dtype=torch.float64)
    f1 = torch.randn(2, 3, k, 6, 7, generator=g, dtype=torch.float64)
    f2 = torch.randn(2, 3, k, 6, 7, generator=g, dtype=torch.float64)
    bias = torch.randn(2, 3, 6, 7, generator=g, dtype=torch.float64)
    torch.testing.assert_close(dynamic_separable_conv(x, f1, f2, bias), naive_dynamic_conv(x, f1, f2, bias))


def test_spatially_constant_kernels_equal_depthwise_conv2d_with_outer_product() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 9, 8, generator=g, dtype=torch.float64)
    v, h = (
        torch.randn(4, 3, generator=g, dtype=torch.float64),
        torch.randn(4, 3, generator=g, dtype=torch.float64),
    )
    f1 = v[None, :, :, None, None].expand(1, 4, 3, 9, 8)
    f2 = h[None, :, :, None, None].expand(1, 4, 3, 9, 8)
    kernel = (v[:, :, None] * h[:, None, :])[:, None]  # (C, 1, 3, 3) outer products
    for mode, torch_mode in (("reflect", "reflect"), ("replicate", "replicate"), ("zeros", "constant")):
        expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode=torch_mode), kernel, groups=4)
        torch.testing.assert_close(dynamic_separable_conv(x, f1, f2, padding_mode=mode), expected)  # type: ignore[arg-type]


def test_gradients_match_finite_differences() -> None:
    g = torch.Generator().manual_seed(1)
    args = [torch.randn(s, generator=g, dtype=torch.float64, requires_grad=True)
            for s in ((1, 2, 4, 5), (1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (1, 2, 4, 5))]  # fmt: skip
    assert torch.autograd.gradcheck(dynamic_separable_conv, args)


def test_shape_errors() -> None:
    x = torch.rand(1, 2, 4, 4)
    with pytest.raises(ValueError, match="odd"):
        dynamic_separable_conv(x, torch.rand(1, 2, 2, 4, 4), torch.rand(1, 2, 2, 4, 4))
    with pytest.raises(ValueError, match="horizontal"):
        dynamic_separable_conv(x, torch.rand(1, 2, 3, 4, 4), torch.rand(1, 2, 5, 4, 4))
    with pytest.raises(ValueError, match="bias"):
        dynamic_separable_conv(
            x, torch.rand(1, 2, 3, 4, 4), torch.rand(1, 2, 3, 4, 4), torch.rand(1, 2, 4, 3)
        )


@pytest.mark.parametrize("k", [1, 3, 5])
def test_generator_shapes_parameter_count_and_identity_start(k: int) -> None:
    c = 16
    skg = StyleKernelGenerator(c, k)
    # conv3x3 C->C plus conv1x1 C->C(2k+1), with biases
    assert sum(p.numel() for p in skg.parameters()) == (9 * c * c + c) + (
        c * c * (2 * k + 1) + c * (2 * k + 1)
    )
    f1, f2, b = skg(torch.rand(2, c, 5, 6))
    assert f1.shape == f2.shape == (2, c, k, 5, 6) and b.shape == (2, c, 5, 6)
    # identity start: with the output conv's weights at zero, the kernels are centre taps of 1 and B = 0
    torch.nn.init.zeros_(skg.net[-1].weight)
    f1, f2, b = skg(torch.rand(1, c, 5, 6))
    x = torch.randn(1, c, 5, 6)
    torch.testing.assert_close(dynamic_separable_conv(x, f1, f2, b), x)
    with pytest.raises(ValueError, match="odd"):
        StyleKernelGenerator(c, 4)
