"""PCA-KD teachers: the normalised VGG-19 (relu1_1..relu4_1) and a MobileNetV2 stand-in.

**VGG-19.** The reference teacher is the "normalised" VGG-19 (vgg_normalised: every filter rescaled so
its mean ImageNet activation is 1) with reflection padding and max pooling. Its features differ from
the plain Caffe VGG-19 by a positive factor per channel only (ReLU and max pooling commute with positive
scaling), so :class:`VGGTeacher` runs the Caffe VGG-19 (``vgg19_caffe_q8``, the only full VGG-19
available offline) and multiplies each tap by a per-channel factor ``s``:

* relu1_1, relu2_1, relu3_1: ``s`` regressed from the exact vgg_normalised weights
  (``vgg19_normalised_r31``) on photos, i.e. the real normalisation up to the q8 quantisation;
* relu4_1 (no exact normalised weights exist here): Gatys' definition applied to the staged photos,
  ``s_c = 1 / mean activation of channel c`` (checked on relu1_1..relu3_1 against the exact factors;
  see ``experiments/pcakd/teacher_scales.py`` and the method README).

The factors ship with the package (``weights/vgg19_normalised_scales.safetensors``, 960 values).
Without normalisation (``normalisation="none"``) the Caffe activations are 15-400x larger, which
changes the balance of the unit-weight losses and the strength of ZCA's ``+I`` regulariser.

**MobileNet.** The reference teacher is Keras MobileNet v1 (taps of 32/64/128/256 channels); only
MobileNetV2 weights are available here, so :class:`MobileNetV2Teacher` taps torchvision MobileNetV2 at
the same strides after its stride-2 depthwise convolutions (32/96/144/192 channels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from stylelab.backbones import VGGEncoder, load_weights
from stylelab.methods.pcakd.architectures import encode_blocks
from stylelab.ops.hfr import hfr_box

VGG_TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
SCALES_FILE = Path(__file__).parent / "weights" / "vgg19_normalised_scales.safetensors"
Normalisation = Literal["vgg_normalised", "none"]


def load_vgg_scales(path: str | Path = SCALES_FILE) -> dict[str, Tensor]:
    """Per-channel factors ``{tap: (C,)}`` mapping Caffe VGG-19 taps to vgg_normalised ones.

    Raises:
        FileNotFoundError: The file is missing (regenerate it with ``experiments/pcakd/teacher_scales.py``).
    """
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; regenerate it with `python experiments/pcakd/teacher_scales.py` "
            "or use teacher normalisation 'none'"
        )
    scales = load_file(str(path))
    missing = [tap for tap in VGG_TAPS if tap not in scales]
    if missing:
        raise ValueError(f"{path} lacks the scales of {missing}")
    return {tap: scales[tap].float() for tap in VGG_TAPS}


class VGGTeacher(nn.Module):
    """Frozen VGG-19 to relu4_1 returning (optionally normalised) relu1_1..relu4_1 features.

    Args:
        weights: VGG-19 registry weights (``None``: deterministic random weights, for tests).
        normalisation: ``"vgg_normalised"`` (per-channel factors, see module docstring) or ``"none"``.
        pool: ``"max"`` (PCA-KD) or ``"avg"`` (PhotoWCT2).

    Shapes:
        ``features(x, upto=n)``: RGB ``(B, 3, H, W)`` in [0, 1] -> the first ``n`` taps,
        ``(B, C_k, H / 2^(k-1), W / 2^(k-1))``.
    """

    channels = (64, 128, 256, 512)
    strides = (1, 2, 4, 8)

    def __init__(
        self,
        weights: str | None = "vgg19_caffe_q8",
        normalisation: Normalisation = "vgg_normalised",
        pool: Literal["max", "avg"] = "max",
    ) -> None:
        super().__init__()
        if normalisation not in ("vgg_normalised", "none"):
            raise ValueError(f"normalisation must be 'vgg_normalised' or 'none', got {normalisation!r}")
        self.vgg = VGGEncoder("vgg19", weights=weights, last_tap="relu4_1", padding="reflect", pool=pool)
        self.weights_name, self.normalisation = weights, normalisation
        scales = load_vgg_scales() if normalisation == "vgg_normalised" else {}
        for k, tap in enumerate(VGG_TAPS):
            value = scales.get(tap, torch.ones(self.channels[k]))
            self.register_buffer(f"scale_{tap}", value.view(1, -1, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGTeacher:
        """Always in eval mode (frozen)."""
        return super().train(False)

    def scale(self, n: int) -> Tensor:
        """Factor ``(1, C_n, 1, 1)`` of tap ``n`` (1..4)."""
        return getattr(self, f"scale_{VGG_TAPS[n - 1]}")

    def features(self, x: Tensor, upto: int = 4) -> list[Tensor]:
        """Normalised taps relu1_1 .. relu{upto}_1 of RGB [0, 1] images (gradients flow to ``x``)."""
        taps = VGG_TAPS[:upto]
        out = self.vgg(x, taps)
        return [out[tap] * self.scale(k + 1) for k, tap in enumerate(taps)]

    def forward(self, x: Tensor) -> list[Tensor]:
        """All four normalised taps."""
        return self.features(x, 4)

    def forward_block(self, n: int, x: Tensor) -> Tensor:
        """Normalised tap ``n`` from normalised tap ``n - 1`` (``n = 1``: from the RGB image)."""
        if n == 1:
            return self.vgg(x, ["relu1_1"])["relu1_1"] * self.scale(1)
        start, end = VGG_TAPS[n - 2], VGG_TAPS[n - 1]
        return self.vgg.forward_range(x / self.scale(n - 1), start, [end])[end] * self.scale(n)

    def extra_repr(self) -> str:
        """Summary for ``print``."""
        return f"weights={self.weights_name}, normalisation={self.normalisation}"


class TeacherBlockEncoder(nn.Module):
    """The VGG teacher seen as a four-block encoder with PCA-KD's box HFR skips (teacher pipeline).

    Same interface as the student encoders (``forward_block(n, x) -> (output, skip)``), so the teacher
    and its full-width decoders run the exact stylisation pipeline of the students.

    Args:
        teacher: The frozen :class:`VGGTeacher`.
    """

    backbone = "vgg"

    def __init__(self, teacher: VGGTeacher) -> None:
        super().__init__()
        self.teacher = teacher
        self.widths = VGGTeacher.channels
        self.hfr = "box"

    @property
    def in_channels(self) -> tuple[int, int, int, int]:
        """Channels entering each block."""
        return (3, 64, 128, 256)

    def block_parameters(self, n: int) -> list[nn.Parameter]:
        """The teacher is never trained."""
        return []

    def forward_block(self, n: int, x: Tensor) -> tuple[Tensor, Tensor]:
        """Block ``n`` of the teacher and the box HFR of its input."""
        return self.teacher.forward_block(n, x), hfr_box(x)

    def forward(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """All four taps and skips."""
        return encode_blocks(self, x)


class MobileNetV2Teacher(nn.Module):
    """Frozen torchvision MobileNetV2 tapped after each stride-2 stage (stand-in for MobileNet v1).

    Taps: ``features.0`` (32 ch, 1/2), ``features.2.conv.1`` (96, 1/4), ``features.4.conv.1`` (144, 1/8),
    ``features.7.conv.1`` (192, 1/16): the ReLU6 outputs of the stride-2 depthwise convolutions, like
    the v1 taps ``conv_dw_{2,4,6}_relu``. Input: ImageNet mean/std normalisation of RGB [0, 1].

    Args:
        weights: ``"mobilenet_v2_torchvision"`` or ``None`` (random, tests).
    """

    channels = (32, 96, 144, 192)
    strides = (2, 4, 8, 16)
    _TAPS = (("0",), ("2", "conv", "1"), ("4", "conv", "1"), ("7", "conv", "1"))

    def __init__(self, weights: str | None = "mobilenet_v2_torchvision") -> None:
        super().__init__()
        from torchvision.models import mobilenet_v2

        model = mobilenet_v2(weights=None)
        if weights is not None:
            state = load_weights(weights)
            model.load_state_dict(state)
        self.features_net = model.features[:8]
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)
        self._outputs: dict[int, Tensor] = {}
        for k, path in enumerate(self._TAPS):
            module: nn.Module = self.features_net
            for part in path:
                module = module[int(part)] if part.isdigit() else getattr(module, part)
            module.register_forward_hook(self._hook(k))
        self.requires_grad_(False)
        self.eval()

    def _hook(self, k: int):  # noqa: ANN202 - forward hook
        def store(_module: nn.Module, _inputs: object, output: Tensor) -> None:
            self._outputs[k] = output

        return store

    def train(self, mode: bool = True) -> MobileNetV2Teacher:
        """Always in eval mode (frozen BatchNorm statistics)."""
        return super().train(False)

    def features(self, x: Tensor, upto: int = 4) -> list[Tensor]:
        """The first ``upto`` taps of RGB [0, 1] images."""
        self._outputs = {}
        h = (x - self.mean) / self.std
        last = int(self._TAPS[upto - 1][0])
        for index in range(last + 1):
            h = self.features_net[index](h)
        feats = [self._outputs[k] for k in range(upto)]
        self._outputs = {}
        return feats

    def forward(self, x: Tensor) -> list[Tensor]:
        """All four taps."""
        return self.features(x, 4)


def build_teacher(
    backbone: str, weights: str | None, normalisation: Normalisation = "vgg_normalised"
) -> VGGTeacher | MobileNetV2Teacher:
    """The teacher of a student backbone (``"vgg"`` or ``"mobilenet"``)."""
    if backbone == "vgg":
        return VGGTeacher(weights, normalisation)
    if backbone == "mobilenet":
        return MobileNetV2Teacher(weights)
    raise ValueError(f"backbone must be 'vgg' or 'mobilenet', got {backbone!r}")
