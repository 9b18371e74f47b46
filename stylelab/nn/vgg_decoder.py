"""Decoder that mirrors a VGG encoder from a tap back to RGB (AdaIN / SANet / WCT habit)."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

_WIDTHS = (64, 128, 256, 512, 512)
_VGG19_CONVS = (2, 2, 4, 4, 4)


class MirroredVGGDecoder(nn.Module):
    """Mirror of VGG-19 from ``relu{K}_1`` back to an RGB image.

    For ``from_tap="relu4_1"`` this is the AdaIN decoder: conv 512→256, up, 3× conv 256→256,
    conv 256→128, up, conv 128→128, conv 128→64, up, conv 64→64, conv 64→3 (no ReLU on the last).
    Every conv is 3×3 with padding 1 and a ReLU except the output conv.

    Args:
        from_tap: ``"relu1_1"`` .. ``"relu5_1"``.
        padding: ``"reflect"`` (AdaIN) or ``"zero"``.
        upsample: ``"nearest"`` (AdaIN) or ``"bilinear"``.

    Shapes:
        input ``(B, C_K, H, W)`` → output ``(B, 3, H·2^(K-1), W·2^(K-1))`` (unbounded; clamp to view).
    """

    def __init__(
        self,
        from_tap: str = "relu4_1",
        padding: Literal["reflect", "zero"] = "reflect",
        upsample: Literal["nearest", "bilinear"] = "nearest",
    ) -> None:
        super().__init__()
        if not (from_tap.startswith("relu") and from_tap.endswith("_1") and from_tap[4] in "12345"):
            raise ValueError(f"from_tap must be one of relu1_1..relu5_1, got {from_tap!r}")
        level = int(from_tap[4])
        mode = "reflect" if padding == "reflect" else "zeros"

        def conv(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, padding_mode=mode)]
            return layers + [nn.ReLU()] if relu else layers

        layers: list[nn.Module] = []
        for block in range(level, 1, -1):  # e.g. 4, 3, 2
            width, below = _WIDTHS[block - 1], _WIDTHS[block - 2]
            # inside block `block`, the encoder had (convs-1) convs at `width` after the first one
            layers += conv(width, below)
            layers.append(nn.Upsample(scale_factor=2, mode=upsample))
            for _ in range(_VGG19_CONVS[block - 2] - 1):
                layers += conv(below, below)
        layers += conv(64, 3, relu=False)
        self.net = nn.Sequential(*layers)
        self.from_tap = from_tap

    def forward(self, feature: Tensor) -> Tensor:
        """Decode ``(B, C, H, W)`` features to ``(B, 3, H', W')`` images."""
        return self.net(feature)
