"""Parameter counts, with and without auxiliary tensors (PCA-KD's eigenbases).

PCA-KD's "283K" (VGG student) excludes the eigenbases while its "73K" (MobileNet student) includes them
(spec 5.5/5.9), so a fair table needs both numbers. Tensors shared between sub-modules are counted once
(``named_parameters`` / ``named_buffers`` de-duplicate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn


def _matches(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def count_parameters(
    module: nn.Module,
    include_buffers: bool = False,
    trainable_only: bool = False,
    exclude: Sequence[str] = (),
) -> int:
    """Number of scalar values in a module's parameters (and optionally buffers).

    Args:
        module: Any ``nn.Module``.
        include_buffers: Also count buffers (e.g. fixed eigenbases, BatchNorm running statistics, and
            non-persistent constants).
        trainable_only: Count only parameters with ``requires_grad``; buffers are then never counted.
        exclude: Dotted name prefixes to skip (``"eigenbases"`` skips ``eigenbases.0``,
            ``eigenbases.w`` ...).

    Returns:
        The count (``sum numel``), each shared tensor once.

    Example:
        >>> count_parameters(nn.Conv2d(3, 64, 3))
        1792
    """
    total = 0
    for name, param in module.named_parameters():
        if trainable_only and not param.requires_grad:
            continue
        if not _matches(name, exclude):
            total += param.numel()
    if include_buffers and not trainable_only:
        for name, buffer in module.named_buffers():
            if not _matches(name, exclude):
                total += buffer.numel()
    return total


@dataclass(frozen=True)
class ParameterCounts:
    """Parameter counts of a model with and without its auxiliary tensors.

    Attributes:
        without_auxiliary: Parameters not under an ``auxiliary`` prefix (PCA-KD "283K" convention).
        with_auxiliary: Those plus every buffer and every parameter under an ``auxiliary`` prefix
            (PCA-KD "73K" convention).
    """

    without_auxiliary: int
    with_auxiliary: int

    @property
    def auxiliary(self) -> int:
        """The difference: the auxiliary tensors' size."""
        return self.with_auxiliary - self.without_auxiliary


def parameter_counts(module: nn.Module, auxiliary: Sequence[str] = ()) -> ParameterCounts:
    """Count a model's parameters with and without auxiliary tensors.

    Auxiliary tensors are all buffers plus the parameters whose dotted name starts with one of
    ``auxiliary`` (use it when eigenbases are stored as frozen parameters rather than buffers).

    Args:
        module: The model.
        auxiliary: Name prefixes of auxiliary parameters, e.g. ``("eigenbases",)``.

    Returns:
        :class:`ParameterCounts`.
    """
    core = count_parameters(module, include_buffers=False, exclude=auxiliary)
    return ParameterCounts(
        without_auxiliary=core, with_auxiliary=count_parameters(module, include_buffers=True)
    )
