"""Data-dependent initialisations of one PCA-KD block (``block_init``, deviation options).

A freshly initialised tiny student block fed with teacher-scale inputs starts with many ReLUs that never
fire (their channel is constant, so no gradient ever reaches it) and with outputs far from the target's
scale; distillation then stalls (README, "Distillation budget"). Two starts are offered:

* :func:`init_block_from_data` (``"data"``): each convolution, in the order they run, is rescaled per
  output channel so that on a batch its pre-activation has standard deviation ``target_std`` and mean
  ``active_margin * target_std`` (Mishkin & Matas, "All you need is a good init", 2016, with a mean
  shift): every channel carries signal and the block starts at the target's scale.
* :func:`least_squares_block_init` (``"least_squares"``): the block starts as the best linear map from
  its input to its target (identity convolutions, then a least-squares last convolution); used for the
  encoder block and, keeping the earlier convolutions, for the last convolution of the decoder block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def block_convolutions(block_parameters: list[nn.Parameter], root: nn.Module) -> list[nn.Conv2d]:
    """The ``nn.Conv2d`` modules of ``root`` whose weight is one of ``block_parameters``."""
    ids = {id(p) for p in block_parameters}
    return [m for m in root.modules() if isinstance(m, nn.Conv2d) and id(m.weight) in ids]


@torch.no_grad()
def init_block_from_data(
    run_block: Callable[[], Tensor],
    convolutions: list[nn.Conv2d],
    target_std: float,
    active_margin: float = 1.0,
    eps: float = 1e-8,
) -> list[float]:
    """Rescale and shift each convolution of a block so its outputs have a set mean and spread.

    Args:
        run_block: Runs the block on a fixed batch (its output is ignored; hooks read the convs).
        convolutions: The block's convolutions (any order; they are initialised in execution order).
        target_std: Per-channel standard deviation of every pre-activation after the initialisation.
        active_margin: Per-channel mean of every pre-activation, in units of ``target_std``.
        eps: Floor of a channel's measured standard deviation (a channel constant on the batch is left
            with its spread scaled by ``target_std / eps`` capped at 1e4).

    Returns:
        The measured per-layer mean standard deviation before rescaling, in execution order.

    Raises:
        ValueError: ``target_std`` is not positive, a convolution has no bias or is not run by ``run_block``.
    """
    if target_std <= 0:
        raise ValueError(f"target_std must be positive, got {target_std}")
    if any(conv.bias is None for conv in convolutions):
        raise ValueError("data-dependent initialisation needs convolutions with a bias")
    measured: list[float] = []
    for conv in _execution_order(convolutions, run_block):
        out = _input_and_output_of(conv, lambda _: run_block(), None)[1]  # (B, C, H, W) pre-activation
        mean, std = out.mean(dim=(0, 2, 3)), out.std(dim=(0, 2, 3))
        measured.append(float(std.mean()))
        gain = (target_std / std.clamp_min(eps)).clamp_max(1e4)
        conv.weight.mul_(gain.view(-1, *([1] * (conv.weight.dim() - 1))))
        conv.bias.copy_((conv.bias - mean) * gain + active_margin * target_std)  # type: ignore[union-attr]
    return measured


def _execution_order(convolutions: list[nn.Conv2d], run_block: Callable[[], Any]) -> list[nn.Conv2d]:
    """``convolutions`` in the order ``run_block`` first runs them.

    Raises:
        ValueError: A convolution is not run by ``run_block``.
    """
    order: list[nn.Conv2d] = []
    hooks = [conv.register_forward_hook(lambda m, _i, _o: order.append(m)) for conv in convolutions]
    try:
        run_block()
    finally:
        for hook in hooks:
            hook.remove()
    order = list(dict.fromkeys(order))
    if len(order) != len(set(convolutions)):
        raise ValueError(f"{len(set(convolutions)) - len(order)} convolution(s) are not run by the block")
    return order


def _patches(conv: nn.Conv2d, x: Tensor) -> Tensor:
    """The input patches ``conv`` sees, ``(B * H_out * W_out, C_in * k_h * k_w)`` (its padding mode)."""
    if conv.groups != 1 or conv.dilation != (1, 1):
        raise ValueError("least-squares initialisation supports dense, undilated convolutions only")
    padding = conv.padding if isinstance(conv.padding, tuple) else (0, 0)
    if conv.padding_mode != "zeros":
        x = F.pad(x, (padding[1], padding[1], padding[0], padding[0]), mode=conv.padding_mode)
        padding = (0, 0)
    cols = F.unfold(x, conv.kernel_size, padding=padding, stride=conv.stride)  # (B, C k k, L)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])


@torch.no_grad()
def least_squares_block_init(
    block: Callable[[Any], Tensor],
    convolutions: list[nn.Conv2d],
    batches: list[tuple[Any, Tensor]],
    active_margin: float = 2.0,
    ridge: float = 1e-4,
    identity_before: bool = True,
    fit_intercept: bool = False,
) -> float:
    """Start a ReLU block at the best linear map to a target: identity convs, then a least-squares conv.

    Every convolution but the last (in execution order) is set to the identity (Dirac kernel, zero
    bias; a ReLU after it keeps its non-negative input unchanged), and the last one to the
    least-squares fit (ridge ``ridge x`` the mean input energy) of the targets from its input patches,
    accumulated over ``batches``, with biases that put each output channel ``active_margin`` standard
    deviations above zero so the final ReLU starts (almost) linear. Only the centred output matters to
    the distillation loss, which this minimises among linear maps of the last conv's receptive field.

    With ``identity_before=False`` the earlier convolutions are kept (a decoder block, whose first conv
    changes the width) and with ``fit_intercept=True`` the bias fits the targets' values too (a decoder
    must reproduce them, not just their variations; ``active_margin`` is then unused).

    Args:
        block: Maps a block input (a tensor ``(B, C_in, H, W)`` or whatever ``batches`` hold) to its output.
        convolutions: The block's convolutions (any order).
        batches: ``(block input, target)`` pairs; targets ``(B, C_out, H_out, W_out)`` are what the last
            conv should produce (up to a per-channel constant unless ``fit_intercept``).
        active_margin: Mean of each output channel in units of its standard deviation.
        ridge: Tikhonov regulariser relative to the mean diagonal of the normal matrix.
        identity_before: Set the earlier convolutions to the identity (else keep them).
        fit_intercept: Fit the bias to the targets' means instead of the ReLU margin.

    Returns:
        The relative residual ``||X A - Y||^2 / ||Y||^2`` of the (centred) fit over all batches.

    Raises:
        ValueError: No batch, no bias on the last convolution, an earlier one not square, or shapes
            that disagree.
    """
    if not batches:
        raise ValueError("least-squares initialisation needs at least one batch")
    *earlier, last = _execution_order(convolutions, lambda: block(batches[0][0]))
    if last.bias is None:
        raise ValueError("least-squares initialisation needs a bias on the last convolution")
    for conv in earlier if identity_before else []:
        if conv.in_channels != conv.out_channels or conv.groups != 1:
            raise ValueError("least-squares initialisation needs square convolutions before the last one")
        nn.init.dirac_(conv.weight)
        if conv.bias is not None:
            conv.bias.zero_()
    xtx = xty = x_sum = y_sum = None
    yty, count = 0.0, 0
    for block_input, target in batches:
        captured = _input_and_output_of(last, block, block_input)
        if captured[1].shape[1:] != target.shape[1:] or captured[1].shape[0] != target.shape[0]:
            raise ValueError(f"target {tuple(target.shape)} does not match {tuple(captured[1].shape)}")
        x = _patches(last, captured[0]).double()
        y = target.permute(0, 2, 3, 1).reshape(-1, target.shape[1]).double()
        terms = (x.T @ x, x.T @ y, x.sum(0), y.sum(0))
        if xtx is None:
            xtx, xty, x_sum, y_sum = terms
        else:
            xtx, xty, x_sum, y_sum = (a + b for a, b in zip((xtx, xty, x_sum, y_sum), terms, strict=True))
        yty += float((y**2).sum())
        count += x.shape[0]
    assert xtx is not None and xty is not None and x_sum is not None and y_sum is not None
    x_mean, y_mean = x_sum / count, y_sum / count
    cov_xx = xtx - count * torch.outer(x_mean, x_mean)  # centred normal matrix
    cov_xy = xty - count * torch.outer(x_mean, y_mean)
    regularised = cov_xx + ridge * cov_xx.diagonal().mean() * torch.eye(cov_xx.shape[0], dtype=cov_xx.dtype)
    solution = torch.linalg.solve(regularised, cov_xy)  # (C_in k k, C_out)
    y_energy = yty - count * float((y_mean**2).sum())
    explained = 2 * (solution * cov_xy).sum() - (solution * (cov_xx @ solution)).sum()
    residual = float((y_energy - explained) / max(y_energy, 1e-30))
    spread = ((solution * (cov_xx @ solution)).sum(0) / count).clamp_min(0).sqrt()
    last.weight.copy_(solution.T.reshape(last.weight.shape).to(last.weight.dtype))
    offset = y_mean if fit_intercept else active_margin * spread
    last.bias.copy_((offset - x_mean @ solution).to(last.bias.dtype))
    return residual


def _input_and_output_of(conv: nn.Conv2d, block: Callable[[Any], Tensor], x: Any) -> list[Tensor]:
    """``[input, output]`` of ``conv`` while ``block(x)`` runs."""
    captured: list[Tensor] = []
    hook = conv.register_forward_hook(lambda _m, i, out: captured.extend([i[0], out]))
    try:
        block(x)
    finally:
        hook.remove()
    return captured
