import pytest
import torch

from stylelab.ops import fold_patches, patch_grid_shape, unfold_patches


def test_grid_shape() -> None:
    assert patch_grid_shape(8, 6, 4, 2) == (3, 2)
    assert patch_grid_shape(4, 4, 4, 1) == (1, 1)
    assert patch_grid_shape(9, 8, 4, 2) == (3, 3)  # floor; the last row of 9 is not covered


def test_unfold_row_major_order_and_content() -> None:
    x = torch.arange(2 * 3 * 6 * 8, dtype=torch.float32).reshape(2, 3, 6, 8)
    p = unfold_patches(x, window=4, stride=2)
    gh, gw = patch_grid_shape(6, 8, 4, 2)
    assert p.shape == (2, gh * gw, 3, 4, 4)
    for i in range(gh):
        for j in range(gw):
            torch.testing.assert_close(p[:, i * gw + j], x[:, :, 2 * i : 2 * i + 4, 2 * j : 2 * j + 4])


@pytest.mark.parametrize(
    ("h", "w", "window", "stride"), [(8, 8, 4, 2), (7, 9, 3, 1), (8, 6, 2, 2), (5, 5, 5, 1)]
)
def test_fold_unfold_roundtrip(h: int, w: int, window: int, stride: int) -> None:
    x = torch.randn(2, 3, h, w)
    y = fold_patches(unfold_patches(x, window, stride), (h, w), window, stride)
    torch.testing.assert_close(y, x, rtol=0, atol=1e-6)


def test_fold_averages_overlaps() -> None:
    # Patches of constant value = patch index; 1-D overlap along W (H = window).
    h, w, k, s = 2, 4, 2, 1
    patches = torch.arange(3, dtype=torch.float32).reshape(1, 3, 1, 1, 1).expand(1, 3, 1, k, k)
    out = fold_patches(patches, (h, w), k, s)
    expected = torch.tensor([0.0, 0.5, 1.5, 2.0]).expand(1, 1, h, w)
    torch.testing.assert_close(out, expected)


def test_uncovered_border_raises_unless_allowed() -> None:
    x = torch.randn(1, 1, 9, 8)
    with pytest.raises(ValueError, match="do not cover"):
        unfold_patches(x, 4, 2)
    p = unfold_patches(x, 4, 2, allow_uncovered=True)
    assert p.shape == (1, 9, 1, 4, 4)
    with pytest.raises(ValueError, match="do not cover"):
        fold_patches(p, (9, 8), 4, 2)
    with pytest.raises(ValueError, match="do not cover"):
        unfold_patches(torch.randn(1, 1, 8, 8), 2, 3)  # stride > window leaves gaps


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        unfold_patches(torch.randn(1, 1, 3, 8), 4, 1)
    with pytest.raises(ValueError, match=">= 1"):
        patch_grid_shape(8, 8, 4, 0)
    with pytest.raises(ValueError, match="4-D"):
        unfold_patches(torch.randn(8, 8), 4, 2)
    with pytest.raises(ValueError, match="patches"):
        fold_patches(torch.randn(1, 8, 1, 4, 4), (8, 8), 4, 2)  # the grid has 3x3 = 9
    with pytest.raises(ValueError, match="patches must be"):
        fold_patches(torch.randn(1, 9, 1, 4, 3), (8, 8), 4, 2)
