"""PCA-KD student encoders and decoders (VGG-19 and MobileNet topologies with few channels).

Both follow the reference code (``chiutaiyin/PCA-Knowledge-Distillation``, spec 5.5) layer by layer so
the parameter counts match the paper: VGG widths ``(10, 20, 58, 64)`` give 141,614 + 141,622 =
**283,236** parameters ("283K"), CKD widths ``(16, 32, 64, 128)`` give **439,552** ("440K") and the
MobileNet student ``(10, 19, 37, 54)`` 9,767 + 42,975 = **52,742** (72,838 with the eigenbases, "73K").

Encoders are split into four blocks; block ``n`` ends at ``relu{n}_1e`` (VGG) or at the ``n``-th MobileNet
tap. Every block also returns the *skip* its decoder block consumes: a high-frequency residual (HFR).

* ``hfr="box"`` (reference code, default): ``HFR = X - mean3x3(X)`` of the block *input* ``X`` (RGB
  image, relu1_1e, relu2_1e, relu3_1e), :func:`stylelab.ops.hfr_box`.
* ``hfr="pool"`` (PhotoWCT2's definition, VGG only): ``HFR = X - up(avgpool(X))`` of the activation
  entering each pooling layer (relu1_2e, relu2_2e, relu3_4e), :func:`stylelab.ops.hfr_pool`, added right
  after the decoder's upsampling. The image-level skip of ``dec_1`` is then ``hfr_pool(image)``.

Decoder block ``n`` maps ``relu{n}_1e`` back to ``relu{n-1}_1d`` (``dec_1``: to RGB). In ``dec_2..dec_4``
the skip is *added*; in ``dec_1`` the 3-channel image skip is *concatenated* before the last conv.
Padding is reflection (TF ``REFLECT``), upsampling bilinear ``x2`` with half-pixel centres (Keras
``UpSampling2D(interpolation="bilinear")``), pooling 2x2 max.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.backbones.vgg import CAFFE_MEAN_RGB
from stylelab.ops.hfr import hfr_box, hfr_pool

Backbone = Literal["vgg", "mobilenet"]
HFRKind = Literal["box", "pool"]
StudentPreprocess = Literal["random", "identity", "caffe"]

#: Student channel widths per (backbone, preset) for the blocks ending at relu1_1 .. relu4_1 (or taps).
WIDTHS: dict[str, tuple[int, int, int, int]] = {
    "vgg": (10, 20, 58, 64),  # Ours-VGG: 85% mCEV (5 doubled to 10), spec 5.4
    "vgg_ckd": (16, 32, 64, 128),  # Ours-VGG-CKD: CKD's empirical widths
    "mobilenet": (10, 19, 37, 54),  # Ours-Mob [code only]
    "vgg_teacher": (64, 128, 256, 512),  # full VGG-19 widths (the teacher pipeline's decoders)
}

#: Teacher channels at the four taps: VGG-19 relu1_1..relu4_1; Keras MobileNet v1 conv1_relu,
#: conv_dw_2_relu, conv_dw_4_relu, conv_dw_6_relu (the reference code's teacher).
TEACHER_CHANNELS: dict[str, tuple[int, int, int, int]] = {
    "vgg": (64, 128, 256, 512),
    "mobilenet": (32, 64, 128, 256),
}

#: How much smaller than the input each block's output is (VGG: relu1_1 at full size; MobileNet: 1/2).
STRIDES: dict[str, tuple[int, int, int, int]] = {"vgg": (1, 2, 4, 8), "mobilenet": (2, 4, 8, 16)}


def center_crop_or_pad(x: Tensor, height: int, width: int) -> Tensor:
    """Crop or zero-pad ``x`` symmetrically to ``(height, width)`` (TF ``resize_with_crop_or_pad``).

    Args:
        x: ``(B, C, H, W)``.
        height: Target height.
        width: Target width.

    Returns:
        ``(B, C, height, width)``; ``x`` itself when the size already matches.
    """
    h, w = x.shape[-2:]
    if (h, w) == (height, width):
        return x
    top, left = max(h - height, 0) // 2, max(w - width, 0) // 2
    x = x[..., top : top + min(h, height), left : left + min(w, width)]
    h, w = x.shape[-2:]
    pad_top, pad_left = (height - h) // 2, (width - w) // 2
    return F.pad(x, (pad_left, width - w - pad_left, pad_top, height - h - pad_top))


def _conv3x3(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect")]
    return layers + [nn.ReLU()] if relu else layers


def _upsample(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class _Upsample(nn.Module):
    """Bilinear x2 upsampling with half-pixel centres (Keras ``UpSampling2D`` bilinear)."""

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W) -> (B, C, 2H, 2W)``."""
        return _upsample(x)


def encode_blocks(encoder: nn.Module, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Run an encoder's ``forward_block(n, x)`` for ``n = 1..4`` in order.

    Args:
        encoder: Any blockwise encoder (students, the teacher pipeline's encoder).
        x: RGB ``(B, 3, H, W)`` in [0, 1].

    Returns:
        ``([feature_1..feature_4], [skip_1..skip_4])``, each block's output and skip.
    """
    feats, skips = [], []
    for n in range(1, 5):
        x, skip = encoder.forward_block(n, x)
        feats.append(x)
        skips.append(skip)
    return feats, skips


# --------------------------------------------------------------------------------------------- VGG
class VGGStudentEncoder(nn.Module):
    """VGG-19 topology up to relu4_1 with reduced widths, in four blocks.

    Layers: frozen 1x1 "preprocess" conv (3->3, random init, never trained, as in the reference
    code), conv1_1, conv1_2 (``C1``), pool, conv2_1, conv2_2 (``C2``), pool, conv3_1..conv3_4 (``C3``),
    pool, conv4_1 (``C4``); 3x3 convs with reflection padding, each followed by ReLU.

    Args:
        widths: ``(C1, C2, C3, C4)``.
        hfr: ``"box"`` (skip = HFR of each block input) or ``"pool"`` (HFR of each pooling input).
        preprocess: ``"random"`` (frozen random 1x1 conv; reference code), ``"identity"``, or ``"caffe"``
            (the teacher's input map, RGB [0, 1] -> x 255 minus the Caffe mean: the student's convs
            then see the teacher's input scale, which short training budgets need; a spec-permitted
            deviation).

    Shapes:
        ``forward_block(n, x)``: block ``n`` (1..4) maps ``(B, C_{n-1}, H, W)`` (``C_0 = 3``, RGB [0, 1])
        to ``((B, C_n, H', W'), skip)`` with ``H' = H`` for ``n = 1`` and ``H / 2`` otherwise.
    """

    backbone: Backbone = "vgg"

    def __init__(
        self,
        widths: Sequence[int] = WIDTHS["vgg"],
        hfr: HFRKind = "box",
        preprocess: StudentPreprocess = "random",
    ) -> None:
        super().__init__()
        if len(widths) != 4 or min(widths) < 1:
            raise ValueError(f"widths must be four positive channel counts, got {list(widths)}")
        if hfr not in ("box", "pool"):
            raise ValueError(f"hfr must be 'box' or 'pool', got {hfr!r}")
        c1, c2, c3, c4 = (int(w) for w in widths)
        self.widths = (c1, c2, c3, c4)
        self.hfr = hfr
        self.preprocess = nn.Conv2d(3, 3, 1)
        if preprocess == "identity":
            with torch.no_grad():
                self.preprocess.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
                self.preprocess.bias.zero_()
        elif preprocess == "caffe":
            with torch.no_grad():
                self.preprocess.weight.copy_(255.0 * torch.eye(3).view(3, 3, 1, 1))
                self.preprocess.bias.copy_(-torch.tensor(CAFFE_MEAN_RGB))
        elif preprocess != "random":
            raise ValueError(f"preprocess must be 'random', 'identity' or 'caffe', got {preprocess!r}")
        self.preprocess.requires_grad_(False)
        pool = nn.MaxPool2d(2, 2)
        # (layers before the pool, layers after it); block 1 has no pool
        self.block1 = nn.Sequential(*_conv3x3(3, c1))
        self.block2_pre, self.block2_post = (
            nn.Sequential(*_conv3x3(c1, c1)),
            nn.Sequential(pool, *_conv3x3(c1, c2)),
        )
        self.block3_pre, self.block3_post = (
            nn.Sequential(*_conv3x3(c2, c2)),
            nn.Sequential(pool, *_conv3x3(c2, c3)),
        )
        self.block4_pre = nn.Sequential(*_conv3x3(c3, c3), *_conv3x3(c3, c3), *_conv3x3(c3, c3))
        self.block4_post = nn.Sequential(pool, *_conv3x3(c3, c4))

    @property
    def in_channels(self) -> tuple[int, int, int, int]:
        """Channels entering each block (``3`` for the image)."""
        return (3, *self.widths[:3])  # type: ignore[return-value]

    def block_parameters(self, n: int) -> list[nn.Parameter]:
        """Trainable parameters of block ``n`` (1..4); the preprocess conv is never trained."""
        if n == 1:
            return list(self.block1.parameters())
        pre, post = getattr(self, f"block{n}_pre"), getattr(self, f"block{n}_post")
        return [*pre.parameters(), *post.parameters()]

    def forward_block(self, n: int, x: Tensor) -> tuple[Tensor, Tensor]:
        """Run block ``n`` (1..4) on its input; returns ``(output, skip)`` (see class docstring)."""
        if n == 1:
            skip = hfr_box(x) if self.hfr == "box" else hfr_pool(x)
            return self.block1(self.preprocess(x)), skip
        if n not in (2, 3, 4):
            raise ValueError(f"block index must be 1..4, got {n}")
        pre = getattr(self, f"block{n}_pre")(x)
        skip = hfr_box(x) if self.hfr == "box" else hfr_pool(pre)
        return getattr(self, f"block{n}_post")(pre), skip

    def forward(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Encode RGB ``(B, 3, H, W)``; returns ``([relu1_1e..relu4_1e], [skip_1..skip_4])``."""
        return encode_blocks(self, x)


class VGGStudentDecoder(nn.Module):
    """Blockwise decoder pairing :class:`VGGStudentEncoder` (spec 5.5 table).

    * ``dec_4``: conv C4->C3, up, conv C3, conv C3, (+skip), conv C3  -> relu3_1d
    * ``dec_3``: conv C3->C2, up, (+skip), conv C2                     -> relu2_1d
    * ``dec_2``: conv C2->C1, up, (+skip), conv C1                     -> relu1_1d
    * ``dec_1``: concat(input, image skip), conv (C1+3)->3 (linear)    -> RGB

    With ``hfr="pool"`` the skip of ``dec_4`` is added right after the upsampling instead (PhotoWCT2);
    for ``dec_3``/``dec_2`` both placements coincide. All convs except the last are followed by ReLU.

    Args:
        widths: ``(C1, C2, C3, C4)``.
        hfr: ``"box"`` or ``"pool"`` (where ``dec_4`` adds its skip).

    Shapes:
        ``forward_block(n, x, skip)``: ``(B, C_n, h, w)`` and the encoder's skip of block ``n`` ->
        ``(B, C_{n-1}, 2h, 2w)`` for ``n >= 2``; ``(B, 3, h, w)`` for ``n = 1``.
    """

    def __init__(self, widths: Sequence[int] = WIDTHS["vgg"], hfr: HFRKind = "box") -> None:
        super().__init__()
        if hfr not in ("box", "pool"):
            raise ValueError(f"hfr must be 'box' or 'pool', got {hfr!r}")
        c1, c2, c3, c4 = (int(w) for w in widths)
        self.widths = (c1, c2, c3, c4)
        self.hfr = hfr
        self.block1 = nn.Sequential(*_conv3x3(c1 + 3, 3, relu=False))
        self.block2_pre = nn.Sequential(*_conv3x3(c2, c1), _Upsample())
        self.block2_post = nn.Sequential(*_conv3x3(c1, c1))
        self.block3_pre = nn.Sequential(*_conv3x3(c3, c2), _Upsample())
        self.block3_post = nn.Sequential(*_conv3x3(c2, c2))
        if hfr == "box":
            self.block4_pre = nn.Sequential(
                *_conv3x3(c4, c3), _Upsample(), *_conv3x3(c3, c3), *_conv3x3(c3, c3)
            )
            self.block4_post = nn.Sequential(*_conv3x3(c3, c3))
        else:
            self.block4_pre = nn.Sequential(*_conv3x3(c4, c3), _Upsample())
            self.block4_post = nn.Sequential(*_conv3x3(c3, c3), *_conv3x3(c3, c3), *_conv3x3(c3, c3))

    def block_parameters(self, n: int) -> list[nn.Parameter]:
        """Parameters of decoder block ``n`` (1..4)."""
        if n == 1:
            return list(self.block1.parameters())
        return [*getattr(self, f"block{n}_pre").parameters(), *getattr(self, f"block{n}_post").parameters()]

    def forward_block(self, n: int, x: Tensor, skip: Tensor) -> Tensor:
        """Decode one block (see class docstring); the skip is centre-cropped/padded to fit."""
        if n == 1:
            skip = center_crop_or_pad(skip, x.shape[-2], x.shape[-1])
            return self.block1(torch.cat([x, skip], dim=1))
        if n not in (2, 3, 4):
            raise ValueError(f"block index must be 1..4, got {n}")
        h = getattr(self, f"block{n}_pre")(x)
        h = h + center_crop_or_pad(skip, 2 * x.shape[-2], 2 * x.shape[-1])
        return getattr(self, f"block{n}_post")(h)


# ------------------------------------------------------------------------------------- MobileNet
class _AsymmetricPad(nn.Module):
    """Reflection pad of one row/column at the bottom/right (Keras stride-2 ``ZeroPadding2D`` spot)."""

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W) -> (B, C, H + 1, W + 1)``."""
        return F.pad(x, (0, 1, 0, 1), mode="reflect")


def _depthwise(channels: int, stride: int) -> list[nn.Module]:
    if stride == 1:
        return [
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect", groups=channels),
            nn.ReLU(),
        ]
    return [_AsymmetricPad(), nn.Conv2d(channels, channels, 3, stride=2, groups=channels), nn.ReLU()]


def _pointwise(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 1), nn.ReLU()]


class MobileNetStudentEncoder(nn.Module):
    """Keras MobileNet v1 layer sequence to ``conv_dw_6_relu`` with reduced widths, no BatchNorm.

    As in the reference code: BatchNorm removed, ReLU instead of ReLU6, biases on, reflection padding
    (a single bottom/right row and column before each stride-2 layer, as Keras). The input is mapped
    to ``[-1, 1]`` (``preprocess_input(255 x)``) by a fixed affine map that is not a parameter. This is
    the layer sequence of the authors' Ours-Mob checkpoint (``pretrained="official_mobilenet"`` loads it;
    ``tests/methods/pcakd/test_official.py`` matches their TensorFlow outputs to < 1e-5). The reference
    pads ``conv1``'s input twice by one bottom/right row/column; on the even sizes used here (multiples
    of 16) the second pad is never read by the stride-2 3x3 window, so it is omitted.

    * block 1 (``conv1_relu``, 1/2): conv 3x3/2 3->C1
    * block 2 (``conv_dw_2_relu``, 1/4): dw C1, pw C1->C2, dw/2 C2
    * block 3 (``conv_dw_4_relu``, 1/8): pw C2->C3, dw C3, pw C3->C3, dw/2 C3
    * block 4 (``conv_dw_6_relu``, 1/16): pw C3->C4, dw C4, pw C4->C4, dw/2 C4

    Args:
        widths: ``(C1, C2, C3, C4)`` (reference: ``(10, 19, 37, 54)``).
        hfr: Only ``"box"`` (HFR of each block input).

    Shapes:
        input ``(B, 3, H, W)`` with ``H, W`` multiples of 16; block ``n`` output
        ``(B, C_n, H / 2^n, W / 2^n)``.
    """

    backbone: Backbone = "mobilenet"

    def __init__(self, widths: Sequence[int] = WIDTHS["mobilenet"], hfr: HFRKind = "box") -> None:
        super().__init__()
        if hfr != "box":
            raise ValueError("the MobileNet student supports hfr='box' only (it has no pooling layers)")
        c1, c2, c3, c4 = (int(w) for w in widths)
        self.widths = (c1, c2, c3, c4)
        self.hfr = hfr
        self.block1 = nn.Sequential(_AsymmetricPad(), nn.Conv2d(3, c1, 3, stride=2), nn.ReLU())
        self.block2 = nn.Sequential(*_depthwise(c1, 1), *_pointwise(c1, c2), *_depthwise(c2, 2))
        self.block3 = nn.Sequential(
            *_pointwise(c2, c3), *_depthwise(c3, 1), *_pointwise(c3, c3), *_depthwise(c3, 2)
        )
        self.block4 = nn.Sequential(
            *_pointwise(c3, c4), *_depthwise(c4, 1), *_pointwise(c4, c4), *_depthwise(c4, 2)
        )

    @property
    def in_channels(self) -> tuple[int, int, int, int]:
        """Channels entering each block (``3`` for the image)."""
        return (3, *self.widths[:3])  # type: ignore[return-value]

    def block_parameters(self, n: int) -> list[nn.Parameter]:
        """Parameters of block ``n`` (1..4)."""
        return list(getattr(self, f"block{n}").parameters())

    def forward_block(self, n: int, x: Tensor) -> tuple[Tensor, Tensor]:
        """Run block ``n`` on its input; returns ``(output, hfr_box(input))``."""
        if n not in (1, 2, 3, 4):
            raise ValueError(f"block index must be 1..4, got {n}")
        skip = hfr_box(x)
        h = x * 2.0 - 1.0 if n == 1 else x  # Keras preprocess_input(255 x) = x / 127.5 - 1
        return getattr(self, f"block{n}")(h), skip

    def forward(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Encode RGB ``(B, 3, H, W)``; returns the four tap features and the four skips."""
        return encode_blocks(self, x)


class MobileNetStudentDecoder(nn.Module):
    """Decoder pairing :class:`MobileNetStudentEncoder`; every block starts with a bilinear x2 upsampling.

    * ``dec_n`` (n = 2..4): up, conv C_n->C_{n-1}, (+skip), conv C_{n-1}
    * ``dec_1``: up, concat(., image skip), conv (C1+3)->3 (linear)

    Args:
        widths: ``(C1, C2, C3, C4)``.
    """

    def __init__(self, widths: Sequence[int] = WIDTHS["mobilenet"]) -> None:
        super().__init__()
        c1, c2, c3, c4 = (int(w) for w in widths)
        self.widths = (c1, c2, c3, c4)
        self.block1 = nn.Sequential(*_conv3x3(c1 + 3, 3, relu=False))
        for n, (cin, cout) in zip((2, 3, 4), ((c2, c1), (c3, c2), (c4, c3)), strict=True):
            setattr(self, f"block{n}_pre", nn.Sequential(_Upsample(), *_conv3x3(cin, cout)))
            setattr(self, f"block{n}_post", nn.Sequential(*_conv3x3(cout, cout)))

    def block_parameters(self, n: int) -> list[nn.Parameter]:
        """Parameters of decoder block ``n`` (1..4)."""
        if n == 1:
            return list(self.block1.parameters())
        return [*getattr(self, f"block{n}_pre").parameters(), *getattr(self, f"block{n}_post").parameters()]

    def forward_block(self, n: int, x: Tensor, skip: Tensor) -> Tensor:
        """Decode one block: ``(B, C_n, h, w)`` -> ``(B, C_{n-1}, 2h, 2w)`` (``n = 1``: RGB)."""
        if n == 1:
            h = _upsample(x)
            skip = center_crop_or_pad(skip, h.shape[-2], h.shape[-1])
            return self.block1(torch.cat([h, skip], dim=1))
        if n not in (2, 3, 4):
            raise ValueError(f"block index must be 1..4, got {n}")
        h = getattr(self, f"block{n}_pre")(x)
        h = h + center_crop_or_pad(skip, h.shape[-2], h.shape[-1])
        return getattr(self, f"block{n}_post")(h)


def build_student(
    backbone: Backbone,
    widths: Sequence[int] | None = None,
    hfr: HFRKind = "box",
    preprocess: StudentPreprocess = "random",
) -> tuple[nn.Module, nn.Module]:
    """Student encoder and decoder of ``backbone`` (``widths`` default: the paper's).

    ``preprocess`` is the VGG student's frozen 1x1 input conv (see :class:`VGGStudentEncoder`).

    Raises:
        ValueError: Unknown backbone, or a ``preprocess`` other than ``"random"`` for MobileNet.
    """
    if backbone == "vgg":
        widths = tuple(widths or WIDTHS["vgg"])
        return VGGStudentEncoder(widths, hfr=hfr, preprocess=preprocess), VGGStudentDecoder(widths, hfr=hfr)
    if preprocess != "random":
        raise ValueError(f"preprocess={preprocess!r} applies to the VGG student only")
    if backbone == "mobilenet":
        widths = tuple(widths or WIDTHS["mobilenet"])
        return MobileNetStudentEncoder(widths, hfr=hfr), MobileNetStudentDecoder(widths)
    raise ValueError(f"backbone must be 'vgg' or 'mobilenet', got {backbone!r}")
