"""One L-BFGS step under Lightning's manual optimisation, safe against overflowing line-search trials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor


class RejectedStep(Exception):
    """An L-BFGS trial point had a non-finite loss; the step was undone."""

    def __init__(self, value: Tensor) -> None:
        super().__init__(f"non-finite L-BFGS trial loss {float(value)}")
        self.value = value


def lbfgs_step(
    optimizer: Any,
    first_loss: Tensor,
    objective: Callable[[], Tensor],
    backward: Callable[[Tensor], None],
) -> None:
    """Take one L-BFGS step whose first point is already back-propagated.

    A line search may probe a point where the loss overflows. The whole step is then undone (parameters
    restored from before it) and the curvature history dropped, so the next step starts clean.

    Args:
        optimizer: A (Lightning-wrapped) ``torch.optim.LBFGS``; ``optimizer.step(closure=...)`` is called.
        first_loss: Scalar loss at the current parameters, gradients already accumulated.
        objective: Recomputes the scalar loss at the current parameters.
        backward: Back-propagates a loss (``LightningModule.manual_backward``).

    Raises:
        RejectedStep: A trial loss, or the resulting parameters, were not finite (after the undo).
    """
    inner = getattr(optimizer, "optimizer", optimizer)
    params = [p for group in inner.param_groups for p in group["params"]]
    before = [p.detach().clone() for p in params]
    calls = 0

    def closure() -> Tensor:
        nonlocal calls
        calls += 1
        if calls == 1:  # the caller already back-propagated this point
            return first_loss.detach()
        optimizer.zero_grad()
        value = objective()
        if not torch.isfinite(value).item():
            raise RejectedStep(value)
        backward(value)
        return value.detach()

    try:
        optimizer.step(closure=closure)
        if all(torch.isfinite(p).all() for p in params):
            return
        rejected = RejectedStep(torch.tensor(float("nan")))
    except RejectedStep as error:
        rejected = error
    with torch.no_grad():
        for p, saved in zip(params, before, strict=True):
            p.copy_(saved)
    inner.state.clear()
    raise rejected
