"""Sliding-window patches: extraction in grid order and overlap-averaging reassembly."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.ops._shapes import check_image_like


def _check_window(window: int, stride: int) -> None:
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1; got window={window}, stride={stride}")


def patch_grid_shape(h: int, w: int, window: int, stride: int) -> tuple[int, int]:
    r"""Number of window positions along each axis.

    ``gh = (h - window) // stride + 1`` and ``gw = (w - window) // stride + 1``; windows start at
    ``0, stride, 2 * stride, ...`` and never run past the border. The grid covers every pixel iff
    ``(h - window) % stride == 0`` and ``(w - window) % stride == 0`` (and ``stride <= window``).

    Args:
        h: Height of the map.
        w: Width of the map.
        window: Square window side.
        stride: Step between windows (both axes).

    Returns:
        ``(gh, gw)``; the number of patches is ``L = gh * gw``.

    Raises:
        ValueError: If ``window`` or ``stride`` is < 1 or the window is larger than the map.
    """
    _check_window(window, stride)
    if window > h or window > w:
        raise ValueError(f"window {window} does not fit in a {h}x{w} map")
    return (h - window) // stride + 1, (w - window) // stride + 1


def _check_cover(h: int, w: int, window: int, stride: int) -> None:
    if (h - window) % stride or (w - window) % stride or stride > window:
        raise ValueError(
            f"windows of {window} with stride {stride} do not cover a {h}x{w} map: need "
            f"(H - window) % stride == 0, (W - window) % stride == 0 and stride <= window. Crop the "
            f"map (e.g. to H={(h - window) // stride * stride + window}, "
            f"W={(w - window) // stride * stride + window}) or pad it."
        )


def unfold_patches(x: Tensor, window: int, stride: int, *, allow_uncovered: bool = False) -> Tensor:
    r"""Extract all ``window x window`` patches of each sample, in row-major grid order.

    Patch ``l = i * gw + j`` (``(gh, gw)`` from :func:`patch_grid_shape`) is
    ``x[:, :, i*stride : i*stride + window, j*stride : j*stride + window]``.

    Args:
        x: Map ``(B, C, H, W)``.
        window: Square window side.
        stride: Step between windows.
        allow_uncovered: If False (default), raise when the grid leaves a bottom/right border
            uncovered (see :func:`patch_grid_shape`); if True, that border is silently ignored.

    Returns:
        Patches ``(B, L, C, window, window)``, ``L = gh * gw``.

    Raises:
        ValueError: On a non 4-D input, a bad window/stride, or an uncovered border (unless
            ``allow_uncovered``).
    """
    check_image_like(x)
    b, c, h, w = x.shape
    gh, gw = patch_grid_shape(h, w, window, stride)
    if not allow_uncovered:
        _check_cover(h, w, window, stride)
    cols = F.unfold(x, kernel_size=window, stride=stride)  # (B, C*window*window, L), C-major
    return cols.transpose(1, 2).reshape(b, gh * gw, c, window, window)


def fold_patches(patches: Tensor, output_size: tuple[int, int], window: int, stride: int) -> Tensor:
    r"""Reassemble patches into a map, averaging where windows overlap.

    Inverse of :func:`unfold_patches` for a covering grid::

        out[p] = (1 / |W(p)|) * sum over windows w containing p of patch_w[p]

    so ``fold_patches(unfold_patches(x, k, s), x.shape[-2:], k, s) == x`` up to rounding.

    Args:
        patches: ``(B, L, C, window, window)`` in row-major grid order.
        output_size: ``(H, W)`` of the map.
        window: Square window side.
        stride: Step between windows.

    Returns:
        Map ``(B, C, H, W)``.

    Raises:
        ValueError: If ``patches`` has the wrong shape or ``L`` does not match the grid, or if the
            grid leaves pixels uncovered (their average would be undefined).
    """
    if patches.dim() != 5 or patches.shape[-2:] != (window, window):
        raise ValueError(f"patches must be (B, L, C, {window}, {window}); got shape {tuple(patches.shape)}")
    h, w = output_size
    gh, gw = patch_grid_shape(h, w, window, stride)
    _check_cover(h, w, window, stride)
    b, n, c = patches.shape[:3]
    if n != gh * gw:
        raise ValueError(
            f"got {n} patches but a {h}x{w} map with window {window} and stride {stride} has "
            f"{gh}x{gw} = {gh * gw}"
        )
    cols = patches.reshape(b, n, c * window * window).transpose(1, 2)
    summed = F.fold(cols, output_size=(h, w), kernel_size=window, stride=stride)
    ones = torch.ones(1, window * window, n, dtype=patches.dtype, device=patches.device)
    count = F.fold(ones, output_size=(h, w), kernel_size=window, stride=stride)
    return summed / count
