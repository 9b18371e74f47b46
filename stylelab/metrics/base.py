"""Base class of the metrics that average a per-sample value over everything they have seen."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric


class MeanOfValues(Metric):
    """A torchmetrics ``Metric`` whose value is the mean of per-item values over all updates.

    States are a running ``total`` (float64, so the sum does not depend on the update order to float32
    precision; MPS devices lack float64, keep such metrics on the CPU there) and an item ``count``, both
    reduced with ``"sum"`` across processes: under DDP each rank accumulates its shard and ``compute()``
    returns the mean over the union, equal to the single-process value. An "item" is a sample for
    pairwise metrics and a consecutive-frame pair for temporal LPIPS.

    Subclasses implement ``update`` by computing a ``(K,)`` tensor of values and calling
    :meth:`_accumulate`, and expose a ``variant`` property naming exactly what they compute.
    """

    is_differentiable: bool = True
    higher_is_better: bool | None = False
    full_state_update: bool = False

    total: Tensor
    count: Tensor

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def _accumulate(self, values: Tensor) -> None:
        """Add per-item values ``(K,)`` to the running sum and count."""
        self.total = self.total + values.sum().to(self.total.dtype)
        self.count = self.count + values.numel()

    def compute(self) -> Tensor:
        """Mean of all values seen, in the default float dtype (``nan`` before the first update)."""
        dtype = torch.get_default_dtype()
        if int(self.count) == 0:
            return torch.tensor(float("nan"), dtype=dtype, device=self.total.device)
        return (self.total / self.count).to(dtype)

    @property
    @abstractmethod
    def variant(self) -> str:
        """Exactly what this metric computes (definition, layers, encoder), for logs and tables."""

    def extra_repr(self) -> str:
        """Show the variant in ``repr(metric)``."""
        return f"variant={self.variant!r}"
