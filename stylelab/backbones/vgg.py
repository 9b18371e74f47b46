"""VGG-16/19 feature extractors with named taps, block-wise forward and owned preprocessing.

Callers always pass RGB in [0, 1]; the encoder applies the preprocessing its weights were trained with
(Caffe: x255 minus the RGB mean; torchvision: ImageNet mean/std). Layer indices follow torchvision's
``vgg19().features`` / ``vgg16().features`` so state dicts load unchanged.

Example:
    >>> enc = VGGEncoder("vgg19", weights=None, last_tap="relu4_1")
    >>> feats = enc(torch.rand(1, 3, 64, 64), taps=["relu1_1", "relu4_1"])
    >>> feats["relu4_1"].shape
    torch.Size([1, 512, 8, 8])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from stylelab.backbones.weights import StateDict, load_weights

Arch = Literal["vgg16", "vgg19"]
InputNorm = Literal["auto", "caffe", "imagenet"]

_CONVS_PER_BLOCK: dict[str, tuple[int, ...]] = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
_WIDTHS = (64, 128, 256, 512, 512)
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_DEFAULT_NORM = {
    "vgg19_caffe_q8": "caffe",
    "vgg19_caffe": "caffe",
    "vgg19_normalised_r31": "caffe",
    "vgg16_torchvision": "imagenet",
    "vgg19_torchvision": "imagenet",
}


def vgg_layer_names(arch: Arch) -> list[str]:
    """Names of every layer of ``vgg*.features`` in order (``conv1_1``, ``relu1_1``, ..., ``pool5``)."""
    names: list[str] = []
    for block, count in enumerate(_CONVS_PER_BLOCK[arch], start=1):
        for i in range(1, count + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


def _convert_normalised_r31(raw: StateDict) -> StateDict:
    """Fold vgg_normalised's 1x1 preprocessing conv into Caffe RGB preprocessing.

    The file's ``conv1`` maps RGB [0,1] to BGR x255 minus the BGR mean. We check that it is exactly
    that, then permute conv1_1's input channels to RGB so the encoder's own Caffe preprocessing
    (x255 minus the RGB mean) gives identical activations.
    """
    w, b = raw["conv1.weight"].reshape(3, 3), raw["conv1.bias"]
    expected_w = 255.0 * torch.eye(3)[[2, 1, 0]]
    expected_b = -torch.tensor(CAFFE_MEAN_RGB[::-1])
    if not (torch.allclose(w, expected_w, atol=1e-3) and torch.allclose(b, expected_b, atol=1e-3)):
        raise ValueError("vgg_normalised preprocessing conv is not the expected BGR x255 mean-subtraction")
    mapping = {"conv2": "0", "conv3": "2", "conv4": "5", "conv5": "7", "conv6": "10"}
    out: StateDict = {}
    for src, dst in mapping.items():
        weight = raw[f"{src}.weight"]
        if src == "conv2":
            weight = weight[:, [2, 1, 0]]
        out[f"{dst}.weight"] = weight.contiguous()
        out[f"{dst}.bias"] = raw[f"{src}.bias"]
    return out


class VGGEncoder(nn.Module):
    """VGG feature extractor returning named ReLU (or conv/pool) outputs.

    Args:
        arch: ``"vgg19"`` or ``"vgg16"``.
        weights: Registry name (``"vgg19_caffe_q8"``, ``"vgg19_normalised_r31"``, ``"vgg16_torchvision"``,
            ``"vgg19_torchvision"``), or ``None`` for a deterministic random init (tests).
        last_tap: Deepest layer kept; layers after it are not built.
        padding: ``"zero"`` (torchvision/Caffe) or ``"reflect"`` (AdaIN/WCT decoders' habit).
        pool: ``"max"`` or ``"avg"`` (Gatys; PhotoWCT2).
        ceil_mode: Pooling ``ceil_mode`` (Torch7's vgg_normalised used ``True``).
        input_norm: ``"auto"`` picks the weights' preprocessing (Caffe for random VGG-19, ImageNet for
            random VGG-16).
        frozen: Freeze parameters (gradients still flow to the input).
        weights_path: Explicit weight file (checked against the registry).

    Shapes:
        input ``(B, 3, H, W)`` RGB in [0, 1]; ``reluK_i`` has ``(B, C_K, H / 2^(K-1), W / 2^(K-1))``.
    """

    def __init__(
        self,
        arch: Arch = "vgg19",
        weights: str | None = "vgg19_caffe_q8",
        last_tap: str = "relu5_1",
        padding: Literal["zero", "reflect"] = "zero",
        pool: Literal["max", "avg"] = "max",
        ceil_mode: bool = False,
        input_norm: InputNorm = "auto",
        frozen: bool = True,
        weights_path: str | None = None,
    ) -> None:
        super().__init__()
        if arch not in _CONVS_PER_BLOCK:
            raise ValueError(f"arch must be 'vgg16' or 'vgg19', got {arch!r}")
        names = vgg_layer_names(arch)
        if last_tap not in names:
            raise ValueError(f"unknown layer {last_tap!r} for {arch}; layers: {', '.join(names)}")
        if weights == "vgg19_normalised_r31" and names.index(last_tap) > names.index("relu3_1"):
            raise ValueError("vgg19_normalised_r31 only covers layers up to relu3_1")
        self.arch, self.weights_name, self.padding, self.pool = arch, weights, padding, pool
        self.layer_names = names[: names.index(last_tap) + 1]
        self.features = self._build(self.layer_names, padding, pool, ceil_mode)
        if input_norm == "auto":
            input_norm = _DEFAULT_NORM.get(weights or "", "caffe" if arch == "vgg19" else "imagenet")
        self.input_norm = input_norm
        self._register_normalisation(input_norm)
        if weights is None:
            self._random_init()
        else:
            self._load(weights, weights_path)
        if frozen:
            self.requires_grad_(False)
            self.eval()
        self.frozen = frozen

    @staticmethod
    def _build(names: list[str], padding: str, pool: str, ceil_mode: bool) -> nn.Sequential:
        layers: list[nn.Module] = []
        in_ch = 3
        for name in names:
            if name.startswith("conv"):
                out_ch = _WIDTHS[int(name[4]) - 1]
                mode = "reflect" if padding == "reflect" else "zeros"
                layers.append(nn.Conv2d(in_ch, out_ch, 3, padding=1, padding_mode=mode))
                in_ch = out_ch
            elif name.startswith("relu"):
                layers.append(nn.ReLU(inplace=False))
            else:
                pool_cls = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
                layers.append(pool_cls(2, 2, ceil_mode=ceil_mode))
        return nn.Sequential(*layers)

    def _register_normalisation(self, input_norm: str) -> None:
        if input_norm == "caffe":
            scale, shift = torch.full((3,), 255.0), -torch.tensor(CAFFE_MEAN_RGB)
        elif input_norm == "imagenet":
            std = torch.tensor(IMAGENET_STD)
            scale, shift = 1.0 / std, -torch.tensor(IMAGENET_MEAN) / std
        else:
            raise ValueError(f"input_norm must be 'auto', 'caffe' or 'imagenet', got {input_norm!r}")
        self.register_buffer("_scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_shift", shift.view(1, 3, 1, 1), persistent=False)

    def _random_init(self) -> None:
        generator = torch.Generator().manual_seed(0)
        for module in self.features:
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * 9
                with torch.no_grad():
                    module.weight.copy_(
                        torch.randn(module.weight.shape, generator=generator) * (2 / fan_in) ** 0.5
                    )
                    module.bias.zero_()

    def _load(self, weights: str, weights_path: str | None) -> None:
        state = load_weights(weights, weights_path)
        if weights == "vgg19_normalised_r31":
            state = _convert_normalised_r31(state)
        own = self.features.state_dict()
        missing = [k for k in own if k not in state]
        if missing:
            raise ValueError(
                f"weights {weights!r} do not cover layers up to {self.layer_names[-1]} "
                f"(missing {missing[:4]})"
            )
        self.features.load_state_dict({k: state[k] for k in own})

    def preprocess(self, x: Tensor) -> Tensor:
        """Map RGB [0,1] ``(B,3,H,W)`` to the network's input space."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected RGB images (B, 3, H, W), got shape {tuple(x.shape)}")
        return x * self._scale + self._shift

    def index_of(self, name: str) -> int:
        """Position of a named layer in ``features``."""
        try:
            return self.layer_names.index(name)
        except ValueError:
            raise ValueError(
                f"layer {name!r} is not in this encoder (built up to {self.layer_names[-1]})"
            ) from None

    def forward(self, x: Tensor, taps: Sequence[str] | None = None) -> dict[str, Tensor]:
        """Run from the image to the deepest requested tap.

        Args:
            x: ``(B, 3, H, W)`` RGB in [0, 1].
            taps: Layer names to return (default: ``[last_tap]``).

        Returns:
            ``{tap: feature}`` for each requested tap.
        """
        taps = list(taps) if taps is not None else [self.layer_names[-1]]
        return self.forward_range(self.preprocess(x), start=None, taps=taps)

    def forward_range(self, h: Tensor, start: str | None, taps: Sequence[str]) -> dict[str, Tensor]:
        """Block-wise forward: continue from the output of layer ``start`` to the deepest of ``taps``.

        Args:
            h: Output of layer ``start`` (or the *preprocessed* image when ``start`` is ``None``).
            start: Layer whose output ``h`` is, or ``None``.
            taps: Later layers to return.

        Returns:
            ``{tap: feature}``.
        """
        first = 0 if start is None else self.index_of(start) + 1
        wanted = {self.index_of(t): t for t in taps}
        if not wanted:
            raise ValueError("taps must name at least one layer")
        if min(wanted) < first:
            raise ValueError(f"taps {sorted(taps)} must come after the start layer {start!r}")
        out: dict[str, Tensor] = {}
        for index in range(first, max(wanted) + 1):
            h = self.features[index](h)
            if index in wanted:
                out[wanted[index]] = h
        return out

    def encode_between(self, h: Tensor, start: str | None, end: str) -> Tensor:
        """Feature at ``end`` from the feature at ``start`` (``None``: from the RGB image in [0, 1])."""
        if start is None:
            h = self.preprocess(h)
        return self.forward_range(h, start, [end])[end]

    def train(self, mode: bool = True) -> VGGEncoder:
        """Keep a frozen encoder in eval mode whatever the parent module does."""
        return super().train(False if getattr(self, "frozen", False) else mode)

    def extra_repr(self) -> str:
        """Summary shown in ``print(encoder)``."""
        return (
            f"arch={self.arch}, weights={self.weights_name}, last={self.layer_names[-1]}, "
            f"padding={self.padding}, pool={self.pool}, input_norm={self.input_norm}"
        )
