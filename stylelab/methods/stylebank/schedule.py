r"""Algorithm 1 of the paper: the (T+1)-step alternation and the auto-encoder gradient rescaling.

For every ``T + 1`` iterations, ``T`` iterations train the stylising branch ``E → K → D`` (updating
``E``, ``D`` and the sampled banks with ``∇ L_K``) and one trains the auto-encoder branch ``E → D``
with ``∇ L_I`` rescaled so that its size matches the stylising gradient:

    Δ^I_{E,D} ← λ · ||Δ^K_{E,D}|| / ||Δ^I_{E,D}|| · Δ^I_{E,D}

The paper leaves the norm open. ``"l2"`` (default) is the global L2 norm over all ``E``/``D``
parameter gradients, ``"mean_abs"`` the mean absolute gradient entry (the ``yujiachen-y`` port), and
``"none"`` skips the rescaling (the ``ichunyeh`` port). ``Δ^K`` is the gradient of the last stylising
step (``"last"``) or the mean of the ``T`` stylising norms of the cycle (``"mean"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

Branch = Literal["stylize", "autoencoder"]
RescaleMode = Literal["l2", "mean_abs", "none"]

STYLIZE: Branch = "stylize"
AUTOENCODER: Branch = "autoencoder"


def branch_at(step: int, style_steps: int, autoencoder_branch: bool = True) -> Branch:
    """Which branch iteration ``step`` (0-based) trains.

    Steps ``0..T-1`` of each cycle of ``T + 1`` stylise; step ``T`` is the auto-encoder step.

    Args:
        step: Iteration counter (the number of optimizer steps taken so far).
        style_steps: ``T >= 1``.
        autoencoder_branch: ``False`` trains the stylising branch only (the paper's Fig. 6 ablation and
            incremental training).

    Returns:
        ``"stylize"`` or ``"autoencoder"``.
    """
    if style_steps < 1:
        raise ValueError(f"T (style_steps) must be >= 1, got {style_steps}")
    if not autoencoder_branch:
        return STYLIZE
    return AUTOENCODER if step % (style_steps + 1) == style_steps else STYLIZE


def gradient_size(parameters: Iterable[nn.Parameter], mode: RescaleMode = "l2") -> Tensor:
    """Size of the gradients of ``parameters`` (those with ``grad is None`` are skipped).

    Args:
        parameters: Parameters after ``backward``.
        mode: ``"l2"``: ``sqrt(Σ g²)`` over every entry; ``"mean_abs"``: ``mean |g|`` over every entry.

    Returns:
        A float64 scalar (0 when no parameter has a gradient).
    """
    grads = [p.grad.detach() for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros((), dtype=torch.float64)
    if mode == "l2":
        return torch.stack([g.double().pow(2).sum() for g in grads]).sum().sqrt()
    if mode == "mean_abs":
        total = torch.stack([g.double().abs().sum() for g in grads]).sum()
        return total / sum(g.numel() for g in grads)
    raise ValueError(f"mode must be 'l2' or 'mean_abs', got {mode!r}")


def reference_size(history: Sequence[float], reference: Literal["last", "mean"] = "last") -> float:
    """``||Δ^K||`` from the stylising gradient sizes of the current cycle.

    Raises:
        RuntimeError: No stylising step happened before the auto-encoder step.
    """
    if not history:
        raise RuntimeError("the auto-encoder step needs a preceding stylising step (Algorithm 1)")
    if reference == "last":
        return float(history[-1])
    if reference == "mean":
        return float(sum(history) / len(history))
    raise ValueError(f"reference must be 'last' or 'mean', got {reference!r}")


@torch.no_grad()
def rescale_gradients(
    parameters: Sequence[nn.Parameter],
    target: float,
    mode: RescaleMode = "l2",
    eps: float = 1e-12,
) -> float:
    """Scale the gradients of ``parameters`` in place so that their size (``mode``) becomes ``target``.

    Args:
        parameters: ``E``/``D`` parameters holding ``Δ^I``.
        target: ``λ · ||Δ^K||``.
        mode: ``"l2"``, ``"mean_abs"`` (both scale linearly) or ``"none"`` (no change).
        eps: A gradient smaller than this is left unchanged (nothing to rescale).

    Returns:
        The factor applied (1 when unchanged).
    """
    if mode == "none":
        return 1.0
    size = float(gradient_size(parameters, mode))
    if size <= eps:
        return 1.0
    factor = target / size
    for p in parameters:
        if p.grad is not None:
            p.grad.mul_(factor)
    return factor
