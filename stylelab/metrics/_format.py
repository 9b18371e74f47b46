"""Private helpers to spell out a metric's configuration in its ``variant`` string."""

from __future__ import annotations

import re
from collections.abc import Sequence

_FIRST_OF_BLOCK = re.compile(r"^relu(\d)_1$")


def format_layers(layers: Sequence[str]) -> str:
    """``relu1_1..relu4_1`` for the first ReLU of consecutive blocks, else the names joined by ``+``.

    Examples:
        >>> format_layers(["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
        'relu1_1..relu4_1'
        >>> format_layers(["relu4_1", "relu5_1"])
        'relu4_1+relu5_1'
    """
    blocks = [_FIRST_OF_BLOCK.match(name) for name in layers]
    if len(layers) > 2 and all(blocks):
        numbers = [int(m.group(1)) for m in blocks if m]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return f"{layers[0]}..{layers[-1]}"
    return "+".join(layers)


def format_eps(eps: float) -> str:
    """``1e-05`` style (short, exact enough to tell conventions apart)."""
    return f"{eps:g}"
