r"""Knowledge transfer (Chen et al., arXiv 2012.11193): encoder, patch search and swap, SELU decoder.

Pipeline for a content image ``x`` and a library ``L`` (paper Sec. 3.5, reference code defaults):

1. ``F = E(x)`` - frozen VGG-19 features at ``relu3_1`` (``(B, 256, H/4, W/4)``);
2. cut ``F`` into ``4 x 4`` windows with stride 2 (3,969 windows for 512 x 512);
3. find each window's most similar library patch (an index of :mod:`.index`, BHKM by default);
4. swap (geometric Eq. 6 or statistics Eq. 7), fold back averaging the overlaps;
5. ``y = D(F')`` - the decoder trained only to reconstruct images from ``E`` (Eq. 8).

Two decoders (``decoder=``): ``"kt"``, the reference code's SELU decoder trained here (below), or
``"pretrained_r31"``, the shipped decoder that inverts relu3_1 of the exact vgg_normalised encoder
(:mod:`stylelab.nn.pretrained_r31`; LinearStyleTransfer's ``decoder3``), which needs no training but
only fits libraries of that encoder and layer.

The ``kt`` decoder follows the reference code (``components/Decoder.py``): 5 residual blocks
``x + SELU(conv(SELU(conv(x))))`` (zero padding, biases), two ``nearest x2 -> reflect pad -> conv
(no bias) -> SELU`` blocks (Xavier-uniform), one factor-1 block to 3 channels (SELU, no bias), and a
final biased ``3 -> 3`` convolution clamped to ``[0, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.methods.knowledge.encoder import EncoderSpec
from stylelab.methods.knowledge.index import PatchIndex
from stylelab.methods.knowledge.transfer import Swap, swap_patches
from stylelab.nn.pretrained_r31 import DECODER_WEIGHTS, ENCODER_WEIGHTS, LAYER, r31_decoder
from stylelab.ops import fold_patches, patch_grid_shape, unfold_patches
from stylelab.ops.zca import whiten

DecoderKind = Literal["kt", "pretrained_r31"]
DECODERS: tuple[str, ...] = ("kt", "pretrained_r31")
Align = Literal["none", "adain", "wct"]
ALIGNS: tuple[str, ...] = ("none", "adain", "wct")


def library_statistics(patches: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std over every position of every library patch.

    Args:
        patches: ``(N, C, k, k)`` library patches.

    Returns:
        ``(mean, std)``, each ``(1, C, 1, 1)``.
    """
    flat = patches.transpose(0, 1).reshape(patches.shape[1], -1)
    return flat.mean(dim=1)[None, :, None, None], flat.std(dim=1)[None, :, None, None]


def library_colouring(patches: Tensor, eig_threshold: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Mean and colouring matrix ``Cov^(1/2)`` of the library's features, every position of every patch.

    Args:
        patches: ``(N, C, k, k)`` library patches.
        eig_threshold: Eigenvalues below it are dropped (as :func:`stylelab.ops.zca.color` does).

    Returns:
        ``(mean (C, 1), colouring (C, C))`` in float64.
    """
    flat = patches.transpose(0, 1).reshape(patches.shape[1], -1)
    mean = flat.mean(dim=1, keepdim=True)
    centred = flat - mean
    cov = (centred @ centred.T).double() / max(flat.shape[1] - 1, 1)
    evals, evecs = torch.linalg.eigh(cov)
    root = torch.where(evals >= eig_threshold, evals.clamp_min(0).sqrt(), torch.zeros_like(evals))
    return mean.double(), (evecs * root) @ evecs.T


def align_wct(feat: Tensor, mean: Tensor, colouring: Tensor) -> Tensor:
    """WCT: whiten each image's feature map (ZCA) and colour it with the library's covariance and mean.

    Args:
        feat: ``(B, C, h, w)`` features.
        mean: ``(C, 1)`` library mean (:func:`library_colouring`).
        colouring: ``(C, C)`` library ``Cov^(1/2)``.

    Returns:
        ``(B, C, h, w)`` in ``feat``'s dtype.
    """
    white = whiten(feat).flatten(2).double()
    return (colouring @ white + mean).view_as(feat).to(feat.dtype)


def align_statistics(feat: Tensor, mean: Tensor, std: Tensor, eps: float = 1e-5) -> Tensor:
    """AdaIN: give each image's feature map the target per-channel ``mean`` and ``std``.

    Args:
        feat: ``(B, C, h, w)`` features.
        mean: ``(1, C, 1, 1)`` target means.
        std: ``(1, C, 1, 1)`` target standard deviations.
        eps: Added to the feature std.

    Returns:
        ``(B, C, h, w)``.
    """
    mu = feat.mean(dim=(2, 3), keepdim=True)
    sd = feat.std(dim=(2, 3), keepdim=True)
    return (feat - mu) / (sd + eps) * std + mean


class ResidualSELUBlock(nn.Module):
    """``x + SELU(conv3x3(SELU(conv3x3(x))))``, zero padding, biases, no normalisation.

    Shapes:
        ``(B, C, H, W) -> (B, C, H, W)``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """Residual update."""
        return x + F.selu(self.conv2(F.selu(self.conv1(x))))


class UpsampleBlock(nn.Module):
    """Nearest ``scale x`` upsampling, reflection pad 1, 3x3 convolution without bias, optional SELU.

    Shapes:
        ``(B, C_in, H, W) -> (B, C_out, scale H, scale W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, scale: int = 2, activation: bool = True) -> None:
        super().__init__()
        self.scale = scale
        self.conv = nn.Conv2d(in_channels, out_channels, 3, bias=False)
        nn.init.xavier_uniform_(self.conv.weight)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        """Upsample and convolve."""
        if self.scale != 1:
            x = F.interpolate(x, scale_factor=self.scale, mode="nearest")
        x = self.conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))
        return F.selu(x) if self.activation else x


class KTDecoder(nn.Module):
    """The reference code's decoder from a ``1 / 2^ups`` feature map to RGB.

    Args:
        in_channels: Feature channels (256 at relu3_1 / relu3_2).
        residual_blocks: Number of residual SELU blocks (5).
        upsamplings: Number of x2 blocks (2 for a 1/4-resolution feature).
        clamp: Clamp the output to ``[0, 1]`` (reference code) - in eval mode only (see ``forward``).

    Shapes:
        ``(B, in_channels, h, w) -> (B, 3, h * 2^upsamplings, w * 2^upsamplings)``.
    """

    def __init__(self, in_channels: int = 256, residual_blocks: int = 5, upsamplings: int = 2,
                 clamp: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.residual = nn.Sequential(*(ResidualSELUBlock(in_channels) for _ in range(residual_blocks)))
        ups: list[nn.Module] = []
        channels = in_channels
        for _ in range(upsamplings):
            ups.append(UpsampleBlock(channels, channels // 2))
            channels //= 2
        ups.append(UpsampleBlock(channels, 3, scale=1))
        self.upsample = nn.Sequential(*ups)
        self.output = nn.Conv2d(3, 3, 3)
        self.clamp = clamp

    def forward(self, x: Tensor) -> Tensor:
        """Decode features to RGB."""
        y = self.output(F.pad(self.upsample(self.residual(x)), (1, 1, 1, 1), mode="reflect"))
        # The code clamps in training too; a clamp has no gradient where it saturates, and a fresh
        # decoder puts about half its pixels below 0, so training sees the raw output.
        return y.clamp(0.0, 1.0) if self.clamp and not self.training else y


@dataclass
class Matches:
    """What the search found for every window of every image of a batch.

    Attributes:
        indices: ``(B, L)`` library entries (``L = gh * gw`` windows in raster order).
        similarity: ``(B, L)`` full-patch cosine between each window and its match.
        grid: ``(gh, gw)`` windows per column / row.
        feature_size: ``(h, w)`` of the (padded) content feature map.
        image_size: ``(H, W)`` of the padded content image the windows refer to.
        stride: Window stride in feature cells.
        window: Window side in feature cells.
    """

    indices: Tensor
    similarity: Tensor
    grid: tuple[int, int]
    feature_size: tuple[int, int]
    image_size: tuple[int, int]
    stride: int
    window: int


def padded_size(size: int, jump: int, window: int, stride: int) -> int:
    """Smallest image side ``>= size`` whose feature map (side/jump) is covered exactly by the windows."""
    side = max(size, window * jump)
    while side % jump or (side // jump - window) % stride:
        side += 1
    return side


def pad_image(x: Tensor, height: int, width: int) -> Tensor:
    """Pad ``(B, 3, H, W)`` bottom/right to ``(height, width)`` (reflect; replicate if too small)."""
    ph, pw = height - x.shape[-2], width - x.shape[-1]
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < x.shape[-2] and pw < x.shape[-1] else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def check_pretrained_encoder(spec: EncoderSpec, what: str = "this model") -> None:
    """Raise unless ``spec`` gives the features the ``pretrained_r31`` decoder was trained to invert.

    That decoder (``vgg19_normalised_r31_decoder``) inverts relu3_1 of the exact vgg_normalised VGG-19
    (``vgg19_normalised_r31``, reflection padding). Pooling ``ceil_mode`` does not matter: every image
    KT encodes has sides that are multiples of 4, where both modes give the same features.

    Args:
        spec: Encoder spec of a model or library.
        what: Names it in the message (e.g. a library's manifest path).

    Raises:
        ValueError: Other weights, layer, architecture or padding.
    """
    if (spec.weights, spec.layer, spec.arch, spec.padding) != (ENCODER_WEIGHTS, LAYER, "vgg19", "reflect"):
        raise ValueError(
            f"{what} uses encoder features '{spec.describe()}' (padding {spec.padding}), but the "
            f"pretrained_r31 decoder ({DECODER_WEIGHTS}) inverts {LAYER} of {ENCODER_WEIGHTS} (vgg19, "
            f"reflect padding) only; build the library with `stylelab library build --weights "
            f"{ENCODER_WEIGHTS} --layer {LAYER} ...`, or use a KT checkpoint trained on "
            f"'{spec.describe()}'"
        )


class KnowledgeTransferNet(nn.Module):
    """Frozen encoder + reconstruction decoder + patch swap (no library inside: it is an argument).

    Args:
        encoder: Feature spec (default: VGG-19 vgg_normalised, relu3_1).
        window: Window side on the feature map (code 4).
        query_stride: Window stride for content patches (code 2).
        swap: ``"geometric"`` (Eq. 6) or ``"statistics"`` (Eq. 7; code default).
        stat_eps: Epsilon of the statistics swap (code 2e-5).
        residual_blocks: Decoder residual blocks (5; ``kt`` decoder only).
        decoder: ``"kt"`` (reference code's SELU decoder, random until trained) or ``"pretrained_r31"``
            (shipped inverse of relu3_1 of ``vgg19_normalised_r31``; needs that encoder and layer).
        align: ``"none"`` (paper: search with the content's own features), ``"adain"`` or ``"wct"``
            (beyond the paper: first give the content feature map the library's per-channel mean and std,
            or its mean and covariance, then search and swap, so the nearest patches are chosen in the
            style's statistics).

    Raises:
        ValueError: Unknown decoder, or ``"pretrained_r31"`` with another encoder.
    """

    def __init__(
        self,
        encoder: EncoderSpec | None = None,
        window: int = 4,
        query_stride: int = 2,
        swap: Swap = "geometric",
        stat_eps: float = 2e-5,
        residual_blocks: int = 5,
        decoder: DecoderKind = "kt",
        align: Align = "none",
    ) -> None:
        super().__init__()
        self.spec = encoder or EncoderSpec()
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(DECODERS)}; got {decoder!r}")
        if align not in ALIGNS:
            raise ValueError(f"align must be one of {', '.join(ALIGNS)}; got {align!r}")
        self.align = align
        if decoder == "pretrained_r31":
            check_pretrained_encoder(self.spec)
        self.encoder = self.spec.build()
        jump = self.spec.geometry()[0]
        channels = self.encoder.features[self.encoder.index_of(self.spec.layer) - 1].out_channels
        self.decoder: nn.Module = (
            r31_decoder()
            if decoder == "pretrained_r31"
            else KTDecoder(channels, residual_blocks, upsamplings=jump.bit_length() - 1)
        )
        self.decoder_kind = decoder
        self.window, self.query_stride, self.swap, self.stat_eps = window, query_stride, swap, stat_eps
        self.jump = jump

    def encode(self, x: Tensor) -> Tensor:
        """``(B, 3, H, W)`` RGB [0, 1] -> ``(B, C, H/jump, W/jump)`` features."""
        return self.encoder(x, [self.spec.layer])[self.spec.layer]

    def reconstruct(self, x: Tensor) -> Tensor:
        """Decoder applied to the encoder's features (what training optimises), any image size.

        Sides that are not multiples of the feature stride are padded (bottom/right, reflect) before
        encoding and the output cropped back, so ``ceil_mode`` pooling never changes the output size.

        Shapes:
            ``(B, 3, H, W) -> (B, 3, H, W)`` (not clamped: training losses see the raw output).
        """
        height, width = x.shape[-2:]
        padded = pad_image(x, -(-height // self.jump) * self.jump, -(-width // self.jump) * self.jump)
        return self.decoder(self.encode(padded))[..., :height, :width]

    def query_patches(self, feat: Tensor) -> tuple[Tensor, tuple[int, int]]:
        """Windows of content features ``(B, C, h, w)`` -> ``((B, L, C, k, k), (gh, gw))``."""
        grid = patch_grid_shape(feat.shape[-2], feat.shape[-1], self.window, self.query_stride)
        return unfold_patches(feat, self.window, self.query_stride), grid

    def translate(
        self, feat: Tensor, index: PatchIndex, library_patches: Tensor, swap: Swap | None = None,
        align: Align | None = None,
    ) -> tuple[Tensor, Tensor, Tensor, tuple[int, int]]:  # fmt: skip
        """(Align,) search, swap and fold a batch of content feature maps.

        Args:
            feat: ``(B, C, h, w)`` content features whose windows cover the map.
            index: A built index over ``library_patches``.
            library_patches: ``(N, C, k, k)`` on ``feat``'s device.
            swap: Overrides :attr:`swap`.
            align: Overrides :attr:`align` (``"adain"``: statistics of ``library_patches``).

        Returns:
            ``(new features (B, C, h, w), indices (B, L), similarity (B, L), grid)``.
        """
        if (align or self.align) == "adain":
            feat = align_statistics(feat, *library_statistics(library_patches))
        elif (align or self.align) == "wct":
            feat = align_wct(feat, *library_colouring(library_patches))
        patches, grid = self.query_patches(feat)
        b, count = patches.shape[:2]
        flat = patches.reshape(b * count, *patches.shape[2:])
        result = index.search(flat)
        swapped = swap_patches(flat, library_patches[result.indices], swap or self.swap, self.stat_eps)
        folded = fold_patches(swapped.view_as(patches), (feat.shape[-2], feat.shape[-1]), self.window,
                              self.query_stride)  # fmt: skip
        return folded, result.indices.view(b, count), result.similarity.view(b, count), grid

    def forward(
        self, content: Tensor, index: PatchIndex, library_patches: Tensor, swap: Swap | None = None,
        align: Align | None = None,
    ) -> tuple[Tensor, Matches]:  # fmt: skip
        """Translate RGB content of any size and batch.

        Args:
            content: ``(B, 3, H, W)`` RGB [0, 1].
            index: Built index over ``library_patches``.
            library_patches: ``(N, C, k, k)``.
            swap: Overrides :attr:`swap`.
            align: Overrides :attr:`align`.

        Returns:
            ``(output (B, 3, H, W) in [0, 1], matches)``; the content is padded (bottom/right) so
            the windows tile its feature map, and the output cropped back.
        """
        height, width = content.shape[-2:]
        ph = padded_size(height, self.jump, self.window, self.query_stride)
        pw = padded_size(width, self.jump, self.window, self.query_stride)
        padded = pad_image(content, ph, pw)
        with torch.no_grad():
            feat = self.encode(padded)
            folded, indices, similarity, grid = self.translate(feat, index, library_patches, swap, align)
            output = self.decoder(folded)[..., :height, :width].clamp(0.0, 1.0)
        matches = Matches(indices, similarity, grid, (feat.shape[-2], feat.shape[-1]), (ph, pw),
                          self.query_stride, self.window)  # fmt: skip
        return output, matches
