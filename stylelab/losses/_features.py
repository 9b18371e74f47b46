"""Private helpers shared by the feature-level losses (not part of the public API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor


def check_layers(layers: Sequence[str], *feature_dicts: Mapping[str, Tensor]) -> list[str]:
    """Check that every requested layer is present in every feature dict.

    Args:
        layers: Tap names, e.g. ``["relu1_1", "relu2_1"]``.
        feature_dicts: ``{tap: (B, C, H, W)}`` dicts produced by an encoder.

    Returns:
        ``layers`` as a list.

    Raises:
        ValueError: If ``layers`` is empty (or a bare string) or a layer is missing from a dict.
    """
    if isinstance(layers, str):
        raise ValueError(f"layers must be a sequence of tap names, not the string {layers!r}")
    layers = list(layers)
    if not layers:
        raise ValueError("layers must name at least one tap")
    for feats in feature_dicts:
        missing = [name for name in layers if name not in feats]
        if missing:
            raise ValueError(
                f"features for layers {missing} are missing (got taps {sorted(feats)}); encode with "
                f"taps={layers}"
            )
    return layers


def check_same_shape(a: Tensor, b: Tensor, layer: str, what: str) -> None:
    """Raise if two per-layer feature maps differ in shape (content-type losses compare positions).

    Raises:
        ValueError: If the shapes differ.
    """
    if a.shape != b.shape:
        raise ValueError(
            f"{what} compares features position by position, so both images must have the same size; "
            f"layer {layer} has shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_style_batch(output: Tensor, style: Tensor, layer: str) -> None:
    """Raise unless the style batch equals the output batch or is 1 (one style for the whole batch).

    Raises:
        ValueError: On mismatched batch or channel counts.
    """
    if output.shape[1] != style.shape[1]:
        raise ValueError(
            f"layer {layer}: output and style features have {output.shape[1]} and {style.shape[1]} channels"
        )
    if style.shape[0] not in (output.shape[0], 1):
        raise ValueError(
            f"layer {layer}: the style batch must equal the output batch ({output.shape[0]}) or be 1; "
            f"got {style.shape[0]}"
        )
