"""Private shape checks shared by the ops (not part of the public API)."""

from __future__ import annotations

from torch import Tensor


def as_features(x: Tensor, name: str = "x") -> Tensor:
    """Flatten a feature map to per-sample column form.

    Args:
        x: Feature map ``(B, C, H, W)`` or already flattened features ``(B, C, N)``.
        name: Argument name used in error messages.

    Returns:
        A view ``(B, C, N)`` with ``N = H * W`` positions (``x`` itself when it is 3-D).

    Raises:
        ValueError: If ``x`` is neither 3-D nor 4-D, or has no positions.
    """
    if x.dim() == 4:
        x = x.flatten(2)
    elif x.dim() != 3:
        raise ValueError(
            f"{name} must be a feature map (B, C, H, W) or flattened features (B, C, N); "
            f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}"
        )
    if x.shape[-1] == 0:
        raise ValueError(f"{name} has no spatial positions (shape {tuple(x.shape)})")
    return x


def check_image_like(x: Tensor, name: str = "x") -> None:
    """Check that ``x`` is a 4-D ``(B, C, H, W)`` tensor.

    Args:
        x: Tensor to check.
        name: Argument name used in error messages.

    Raises:
        ValueError: If ``x`` is not 4-D.
    """
    if x.dim() != 4:
        raise ValueError(f"{name} must be a 4-D tensor (B, C, H, W); got shape {tuple(x.shape)}")


def check_pair(content: Tensor, style: Tensor) -> None:
    """Check that a content/style pair can be combined per sample.

    Args:
        content: ``(B, C, ...)`` tensor.
        style: ``(B, C, ...)`` or ``(1, C, ...)`` tensor (one style broadcast over the batch).

    Raises:
        ValueError: If the channel counts differ or the style batch is neither ``B`` nor 1.
    """
    if content.shape[1] != style.shape[1]:
        raise ValueError(
            f"content and style must have the same number of channels; got {content.shape[1]} "
            f"and {style.shape[1]}"
        )
    if style.shape[0] not in (content.shape[0], 1):
        raise ValueError(
            f"style batch size must equal the content batch size ({content.shape[0]}) or be 1; "
            f"got {style.shape[0]}"
        )
