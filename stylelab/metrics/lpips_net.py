r"""The LPIPS v0.1 network (Zhang et al., CVPR 2018), re-implemented: backbone taps + linear heads.

For images ``x, y`` RGB in ``[0, 1]``:

1. ``x' = ((2x - 1) - shift) / scale`` with ``shift = (-0.030, -0.088, -0.188)``,
   ``scale = (0.458, 0.448, 0.450)`` (the v0.1 "ScalingLayer"; inputs live in ``[-1, 1]``).
2. Backbone = torchvision ImageNet ``alexnet().features`` (ReLU outputs at indices 1, 4, 7, 9, 11;
   64, 192, 384, 256, 256 channels) or ``vgg16().features`` (indices 3, 8, 15, 22, 29 = relu1_2,
   relu2_2, relu3_3, relu4_3, relu5_3; 64, 128, 256, 512, 512 channels).
3. Each tap ``f_k`` is unit-normalised over channels: ``fhat = f / (sqrt(sum_c f^2) + 1e-10)``.
4. ``d(x, y) = sum_k mean_{h,w} sum_c w_k[c] (fhat_k^x - fhat_k^y)[c, h, w]^2`` with the learned
   non-negative head weights ``w_k`` (``lin{k}.model.1.weight``, shape ``(1, C_k, 1, 1)``).

Layer indices follow torchvision so the state dicts of ``stylelab.backbones.load_weights
("alexnet_torchvision" | "vgg16_torchvision")`` load unchanged; the layers after the last tap (the final
max-pool) are not built. Only ``version="0.1"`` exists here (v0.0 had no scaling layer); the SqueezeNet
backbone is not provided (its ImageNet weights are not available offline).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LPIPSBackbone = Literal["alex", "vgg"]

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NORM_EPS = 1e-10
TAP_INDICES: dict[str, tuple[int, ...]] = {"alex": (1, 4, 7, 9, 11), "vgg": (3, 8, 15, 22, 29)}
CHANNELS: dict[str, tuple[int, ...]] = {"alex": (64, 192, 384, 256, 256), "vgg": (64, 128, 256, 512, 512)}
BACKBONE_WEIGHTS = {"alex": "alexnet_torchvision", "vgg": "vgg16_torchvision"}
HEAD_WEIGHTS = {"alex": "lpips_alex_v0.1", "vgg": "lpips_vgg_v0.1"}


def _alexnet_features() -> nn.Sequential:
    """AlexNet ``features`` of torchvision up to index 11 (relu5), same indices."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
    )  # fmt: skip


def _vgg16_features() -> nn.Sequential:
    """VGG-16 ``features`` of torchvision up to index 29 (relu5_3), same indices."""
    layers: list[nn.Module] = []
    in_ch = 3
    for block, (width, convs) in enumerate(zip((64, 128, 256, 512, 512), (2, 2, 3, 3, 3), strict=True)):
        if block > 0:
            layers.append(nn.MaxPool2d(2, 2))
        for _ in range(convs):
            layers += [nn.Conv2d(in_ch, width, 3, padding=1), nn.ReLU()]
            in_ch = width
    return nn.Sequential(*layers)


def unit_normalize(f: Tensor, eps: float = NORM_EPS) -> Tensor:
    """``f / (||f||_2 over channels + eps)`` for ``f`` ``(B, C, H, W)`` (LPIPS' ``normalize_tensor``)."""
    return f / (f.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


class LPIPSNet(nn.Module):
    """LPIPS v0.1 distance network; frozen, ``forward(x, y) -> (B,)`` for RGB ``[0, 1]`` inputs.

    Construct with random weights (tests) and load state dicts, or use :meth:`pretrained`.

    Args:
        net: ``"alex"`` or ``"vgg"`` backbone.
        seed: Seed of the deterministic random init (He-normal convs, zero biases, heads uniform in
            ``[0, 1)``), used until real weights are loaded.

    Shapes:
        ``x``, ``y``: ``(B, 3, H, W)``; output ``(B,)``.
    """

    def __init__(self, net: LPIPSBackbone = "alex", seed: int = 0) -> None:
        super().__init__()
        if net not in TAP_INDICES:
            raise ValueError(f"net must be 'alex' or 'vgg' (squeeze weights are unavailable); got {net!r}")
        self.net = net
        self.taps = TAP_INDICES[net]
        self.backbone = _alexnet_features() if net == "alex" else _vgg16_features()
        self.heads = nn.ParameterList([nn.Parameter(torch.empty(1, c, 1, 1)) for c in CHANNELS[net]])
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)
        self._random_init(seed)
        self.requires_grad_(False)
        self.eval()

    def _random_init(self, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for module in self.backbone:
                if isinstance(module, nn.Conv2d):
                    fan_in = module.weight[0].numel()
                    module.weight.copy_(
                        torch.randn(module.weight.shape, generator=generator) * (2 / fan_in) ** 0.5
                    )
                    module.bias.zero_()
            for head in self.heads:
                head.copy_(torch.rand(head.shape, generator=generator))

    @classmethod
    def pretrained(
        cls, net: LPIPSBackbone = "alex", backbone_path: str | None = None, heads_path: str | None = None
    ) -> LPIPSNet:
        """The real LPIPS v0.1 network: ImageNet backbone + learned heads via the weights registry.

        Args:
            net: ``"alex"`` or ``"vgg"``.
            backbone_path: Explicit backbone file (else ``$STYLELAB_WEIGHTS``, hub cache, download).
            heads_path: Explicit heads file (else found in the ``lpips`` package).

        Raises:
            stylelab.backbones.WeightsNotFoundError: A weight file is not available.
        """
        from stylelab.backbones.weights import load_weights

        model = cls(net)
        model.load_backbone_state_dict(load_weights(BACKBONE_WEIGHTS[net], backbone_path))
        model.load_head_state_dict(load_weights(HEAD_WEIGHTS[net], heads_path))
        return model

    def load_backbone_state_dict(self, state: Mapping[str, Tensor]) -> None:
        """Load torchvision ``features`` weights (keys ``"0.weight"``; a ``"features."`` prefix is stripped).

        Keys of layers after the last tap (none for alex/vgg16 features) are ignored.

        Raises:
            ValueError: A needed key is missing or has the wrong shape.
        """
        stripped = {k.removeprefix("features."): v for k, v in state.items()}
        own = self.backbone.state_dict()
        missing = [k for k in own if k not in stripped]
        if missing:
            raise ValueError(
                f"{self.net} backbone state dict lacks {missing}; got keys {sorted(stripped)[:6]}..."
            )
        for key, value in own.items():
            if stripped[key].shape != value.shape:
                raise ValueError(
                    f"{key}: expected shape {tuple(value.shape)}, got {tuple(stripped[key].shape)}"
                )
        self.backbone.load_state_dict({k: stripped[k] for k in own})

    def load_head_state_dict(self, state: Mapping[str, Tensor]) -> None:
        """Load LPIPS heads (keys ``lin{k}.model.1.weight``, shape ``(1, C_k, 1, 1)``).

        Raises:
            ValueError: A head is missing or has the wrong shape.
        """
        with torch.no_grad():
            for k, head in enumerate(self.heads):
                key = f"lin{k}.model.1.weight"
                if key not in state:
                    raise ValueError(f"LPIPS head state dict lacks {key!r}; got keys {sorted(state)}")
                if state[key].shape != head.shape:
                    raise ValueError(
                        f"{key}: expected shape {tuple(head.shape)}, got {tuple(state[key].shape)}"
                    )
                head.copy_(state[key])

    def features(self, x: Tensor) -> list[Tensor]:
        """Unit-normalised backbone taps ``[(B, C_k, h_k, w_k)]`` of RGB ``[0, 1]`` images ``x``."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"LPIPS expects RGB images (B, 3, H, W) in [0, 1]; got shape {tuple(x.shape)}")
        h = ((2 * x - 1) - self.shift) / self.scale
        out: list[Tensor] = []
        for index, layer in enumerate(self.backbone):
            h = layer(h)
            if index in self.taps:
                out.append(unit_normalize(h))
        return out

    def distance_from_features(self, feats_x: list[Tensor], feats_y: list[Tensor]) -> Tensor:
        """LPIPS ``(B,)`` from two :meth:`features` lists (lets callers reuse a frame's features)."""
        total: Tensor | None = None
        for fx, fy, head in zip(feats_x, feats_y, self.heads, strict=True):
            layer = F.conv2d((fx - fy).pow(2), head).mean(dim=(2, 3))
            total = layer if total is None else total + layer
        assert total is not None
        return total.flatten()

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """LPIPS distance per sample ``(B,)`` between ``x`` and ``y`` ``(B, 3, H, W)``, RGB ``[0, 1]``."""
        if x.shape != y.shape:
            raise ValueError(f"LPIPS needs images of equal shape; got {tuple(x.shape)} and {tuple(y.shape)}")
        return self.distance_from_features(self.features(x), self.features(y))

    def train(self, mode: bool = True) -> LPIPSNet:
        """Always stay in eval mode (the network is frozen)."""
        return super().train(False)

    def extra_repr(self) -> str:
        """Backbone and version for ``repr``."""
        return f"net={self.net}, version=0.1"
