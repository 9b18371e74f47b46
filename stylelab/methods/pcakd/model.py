r"""PCA-KD (Chiu & Gurari, CVPR 2022): the maths - autoencoder, losses and coarse-to-fine stylisation.

* :class:`BlockAutoencoder` - a four-block encoder, its blockwise decoder and (students) the global
  eigenbases. ``parameter_counts(net.autoencoder, auxiliary=("eigenbases",))`` gives the paper's sizes.
* :class:`PCAKDNet` - the autoencoder plus the frozen teacher, the training losses and ``stylize``:

  - eigenbases (Eq. 5, reference code): ``sum_N mean (E E^T Fbar_N - Fbar_N)^2 + mean (E^T E - I)^2``;
  - block ``N`` (Eq. 6-8, all MSE means with unit weights):
    distillation ``mean (E_N Fbar^e_N - Fbar_N)^2`` (students only),
    feature reproduction ``mean (dec_N(F^e_N) - F^e_{N-1})^2`` (N > 1),
    image reconstruction ``mean (I_rec - I)^2`` through ``dec_{N-1} .. dec_1``,
    perceptual ``mean (ENC_N(I_rec) - ENC_N(I))^2`` at the teacher's ``reluN_1`` (N > 1);
  - stylisation: ZCA at ``relu4_1e``, then every decoder block followed by ZCA against the style's
    feature at that level (coarse to fine), the content's HFR skips, clip to [0, 1].

``backbone="vgg_teacher"`` builds the reference pipeline the paper compares with: the frozen (normalised)
VGG-19 itself as the encoder, full-width decoders (64/128/256/512), the same skips and transforms, and
only the decoder losses (PhotoWCT2's blockwise training).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.methods.pcakd.architectures import (
    STRIDES,
    TEACHER_CHANNELS,
    WIDTHS,
    HFRKind,
    StudentPreprocess,
    VGGStudentDecoder,
    build_student,
)
from stylelab.methods.pcakd.eigenbases import (
    Eigenbases,
    centre,
    distillation_loss,
    local_eigenbases,
    orthonormality_penalty,
    reconstruction_loss,
)
from stylelab.methods.pcakd.teacher import (
    MobileNetV2Teacher,
    Normalisation,
    TeacherBlockEncoder,
    VGGTeacher,
    build_teacher,
)
from stylelab.methods.pcakd.transfer import ZCAConfig, transfer
from stylelab.ops.guided_filter import guided_filter

Backbone = Literal["vgg", "mobilenet", "vgg_teacher"]
EigenbasisKind = Literal["global", "local"]


class BlockAutoencoder(nn.Module):
    """Encoder blocks ``enc_1..enc_4``, decoder blocks ``dec_4..dec_1`` and (students) eigenbases.

    Args:
        encoder: Module with ``forward_block(n, x) -> (feature, skip)`` and ``widths``.
        decoder: Module with ``forward_block(n, x, skip) -> feature`` (``n = 1``: RGB).
        eigenbases: The students' global bases (``None`` for the teacher pipeline).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, eigenbases: Eigenbases | None) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.eigenbases = eigenbases

    @property
    def widths(self) -> tuple[int, ...]:
        """Channel widths of the four encoder outputs."""
        return tuple(self.encoder.widths)

    def encode(self, x: Tensor, upto: int = 4) -> tuple[list[Tensor], list[Tensor]]:
        """Features ``relu1_1e..relu{upto}_1e`` and their skips for RGB ``(B, 3, H, W)``."""
        feats, skips = [], []
        for n in range(1, upto + 1):
            x, skip = self.encoder.forward_block(n, x)
            feats.append(x)
            skips.append(skip)
        return feats, skips

    def decode(self, feature: Tensor, skips: Sequence[Tensor], start: int = 4) -> Tensor:
        """Decode from level ``start`` (its encoder output) down to RGB without any transform."""
        for n in range(start, 0, -1):
            feature = self.decoder.forward_block(n, feature, skips[n - 1])
        return feature

    def reconstruct(self, x: Tensor) -> Tensor:
        """``dec(enc(x))``: RGB ``(B, 3, H, W)``, unclamped."""
        feats, skips = self.encode(x)
        return self.decode(feats[-1], skips)

    def block_parameters(self, n: int) -> list[nn.Parameter]:
        """Trainable parameters of the pair ``(enc_n, dec_n)``."""
        return [*self.encoder.block_parameters(n), *self.decoder.block_parameters(n)]


class PCAKDNet(nn.Module):
    """Student (or teacher-pipeline) autoencoder, frozen teacher, losses and stylisation.

    Args:
        backbone: ``"vgg"``, ``"mobilenet"`` or ``"vgg_teacher"`` (full VGG-19 + full-width decoders).
        widths: Student widths ``(C1, C2, C3, C4)``; default: the paper's for the backbone
            (``[16, 32, 64, 128]`` gives Ours-VGG-CKD).
        hfr: ``"box"`` (reference code) or ``"pool"`` (PhotoWCT2; VGG students only).
        eigenbasis: ``"global"`` (the method) or ``"local"`` (image-dependent ablation, Eq. 1).
        teacher_weights: Teacher registry weights; ``None`` = random teacher (tests).
        teacher_normalisation: ``"vgg_normalised"`` or ``"none"`` (VGG teacher only).
        seed: Seed of the initialisation (student weights, frozen preprocess conv, eigenbases).
        student_preprocess: The VGG student's frozen 1x1 input conv: ``"random"`` (reference code) or
            ``"caffe"`` (the teacher's input map; see :class:`VGGStudentEncoder`).
    """

    def __init__(
        self,
        backbone: Backbone = "vgg",
        widths: Sequence[int] | None = None,
        hfr: HFRKind = "box",
        eigenbasis: EigenbasisKind = "global",
        teacher_weights: str | None = "vgg19_caffe_q8",
        teacher_normalisation: Normalisation = "vgg_normalised",
        seed: int = 0,
        student_preprocess: StudentPreprocess = "random",
    ) -> None:
        super().__init__()
        if eigenbasis not in ("global", "local"):
            raise ValueError(f"eigenbasis must be 'global' or 'local', got {eigenbasis!r}")
        if teacher_weights is None and teacher_normalisation != "none":
            teacher_normalisation = "none"  # the factors belong to the real VGG-19 weights
        self.backbone, self.eigenbasis = backbone, eigenbasis
        self.teacher_weights, self.teacher_normalisation = teacher_weights, teacher_normalisation
        self._teacher: list[VGGTeacher | MobileNetV2Teacher] = []  # kept out of the state dict
        if backbone == "vgg_teacher":
            if hfr != "box":
                raise ValueError("the teacher pipeline supports hfr='box' only")
            teacher = VGGTeacher(teacher_weights, teacher_normalisation)
            self._teacher.append(teacher)
            encoder: nn.Module = TeacherBlockEncoder(teacher)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                decoder: nn.Module = VGGStudentDecoder(widths or WIDTHS["vgg_teacher"], hfr="box")
            self.autoencoder = BlockAutoencoder(encoder, decoder, None)
            self.multiple_of = 8
        elif backbone in ("vgg", "mobilenet"):
            with torch.random.fork_rng(devices=[]):  # reproducible init (incl. the frozen random 1x1 conv)
                torch.manual_seed(seed)
                encoder, decoder = build_student(backbone, widths, hfr, student_preprocess)
            # MobileNet: the reference teacher (Keras v1, TEACHER_CHANNELS) is not available here; the
            # bases match the MobileNetV2 stand-in's taps instead.
            channels = TEACHER_CHANNELS["vgg"] if backbone == "vgg" else MobileNetV2Teacher.channels
            bases = Eigenbases(channels, encoder.widths, seed=seed)
            self.autoencoder = BlockAutoencoder(encoder, decoder, bases)
            self.multiple_of = STRIDES[backbone][-1]
        else:
            raise ValueError(f"backbone must be 'vgg', 'mobilenet' or 'vgg_teacher', got {backbone!r}")

    @property
    def is_student(self) -> bool:
        """False for the teacher pipeline."""
        return self.autoencoder.eigenbases is not None

    def teacher(self) -> VGGTeacher | MobileNetV2Teacher:
        """The frozen teacher, built on first use and kept on the autoencoder's device."""
        if not self._teacher:
            backbone = "vgg" if self.backbone == "vgg_teacher" else self.backbone
            self._teacher.append(build_teacher(backbone, self.teacher_weights, self.teacher_normalisation))
        device = next(self.autoencoder.decoder.parameters()).device
        teacher = self._teacher[0]
        if next(iter(teacher.buffers()), torch.empty(0)).device != device or any(
            p.device != device for p in teacher.parameters()
        ):
            teacher.to(device)
        return teacher

    # ---------------------------------------------------------------------------------- losses
    def eigenbasis_losses(self, images: Tensor) -> dict[str, Tensor]:
        """Eq. 5 with the reference code's soft orthonormality penalty, summed over the four taps."""
        bases = self.autoencoder.eigenbases
        if bases is None:
            raise ValueError("the teacher pipeline has no eigenbases")
        with torch.no_grad():
            feats = self.teacher().features(images, 4)
        terms: dict[str, Tensor] = {}
        for n in range(1, 5):
            terms[f"pca_rec{n}"] = reconstruction_loss(bases[n], centre(feats[n - 1]))
            terms[f"orth{n}"] = orthonormality_penalty(bases[n])
        return terms

    def block_losses(self, images: Tensor, n: int) -> dict[str, Tensor]:
        """Losses of the pair ``(enc_n, dec_n)`` (Eq. 6-8); earlier blocks are run without gradients.

        Args:
            images: RGB ``(B, 3, H, W)`` in [0, 1], ``H, W`` multiples of the backbone's stride.
            n: Block 1..4.

        Returns:
            Named scalar terms (their sum is the objective).
        """
        if n not in (1, 2, 3, 4):
            raise ValueError(f"block must be 1..4, got {n}")
        ae = self.autoencoder
        skips: list[Tensor] = []
        with torch.no_grad():
            h = images
            for k in range(1, n):
                h, skip = ae.encoder.forward_block(k, h)
                skips.append(skip)
        previous = h
        feature, skip = ae.encoder.forward_block(n, previous)
        skips.append(skip)
        terms: dict[str, Tensor] = {}
        teacher_target: Tensor | None = None
        if self.is_student:
            with torch.no_grad():
                teacher_target = self.teacher().features(images, n)[n - 1]
            teacher_fbar, student_fbar = centre(teacher_target), centre(feature)
            if self.eigenbasis == "global":
                basis = ae.eigenbases[n].detach()  # type: ignore[index]  (W is fixed here)
            else:
                basis = local_eigenbases(teacher_fbar, student_fbar.shape[1])
            terms["distill"] = distillation_loss(basis, student_fbar, teacher_fbar)
        else:
            teacher_target = feature.detach()
        out = ae.decoder.forward_block(n, feature, skips[n - 1])
        if n > 1:
            terms["feature"] = F.mse_loss(out, previous)
        for k in range(n - 1, 0, -1):
            out = ae.decoder.forward_block(k, out, skips[k - 1])
        terms["image"] = F.mse_loss(out, images)
        if n > 1:
            rec_feature = self.teacher().features(out, n)[n - 1]
            terms["perceptual"] = F.mse_loss(rec_feature, teacher_target)
        return terms

    # ----------------------------------------------------------------------------- stylisation
    def stylize(
        self,
        content: Tensor,
        style: Tensor,
        zca: ZCAConfig | None = None,
        content_mask: Tensor | None = None,
        style_mask: Tensor | None = None,
        transform_levels: Sequence[int] = (4, 3, 2, 1),
    ) -> Tensor:
        """Coarse-to-fine stylisation: ZCA at relu4_1e, then ``dec_N`` followed by ZCA at each level.

        Args:
            content: ``(B, 3, H, W)`` RGB [0, 1], ``H, W`` multiples of :attr:`multiple_of`.
            style: ``(B or 1, 3, H_s, W_s)`` RGB [0, 1], same constraint.
            zca: Transform settings (default: Chiu's code).
            content_mask: Optional labels ``(B, H, W)``.
            style_mask: Optional labels ``(B or 1, H_s, W_s)``.
            transform_levels: Levels where a transform is applied (all four by default).

        Returns:
            ``(B, 3, H, W)``, unclamped.
        """
        zca = zca or ZCAConfig()
        ae = self.autoencoder
        feats, skips = ae.encode(content)
        style_feats, _ = ae.encode(style)
        x = feats[3]
        for n in range(4, 0, -1):
            if n in transform_levels:
                x = transfer(x, style_feats[n - 1], zca, content_mask, style_mask)
            x = ae.decoder.forward_block(n, x, skips[n - 1])
        return x


#: Names of the loss terms of :meth:`PCAKDNet.block_losses` and :meth:`PCAKDNet.eigenbasis_losses` (per tap).
TERM_NAMES = ("distill", "feature", "image", "perceptual", "pca_rec", "orth")


def check_term_weights(weights: Mapping[str, float] | None) -> None:
    """Reject unknown term names and negative or non-finite weights (``None`` is the unit weighting).

    Raises:
        ValueError: Naming the bad key or value and the known names.
    """
    for name, value in (weights or {}).items():
        if name not in TERM_NAMES:
            raise ValueError(f"unknown loss term {name!r} in term_weights; known: {', '.join(TERM_NAMES)}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"term_weights[{name!r}] must be a finite non-negative number, got {value}")


def weighted_total(terms: Mapping[str, Tensor], weights: Mapping[str, float] | None) -> Tensor:
    """Sum of the loss terms, each times its weight; ``pca_rec3`` / ``orth3`` use ``pca_rec`` / ``orth``.

    Args:
        terms: Named scalar terms.
        weights: Per-name weights (missing names weigh 1).

    Returns:
        The scalar objective.
    """
    weights = weights or {}
    total = [value * weights.get(name.rstrip("0123456789"), 1.0) for name, value in terms.items()]
    return torch.stack(total).sum()


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Reflect-pad (replicate for tiny images) bottom/right so ``H, W`` are multiples of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def postprocess(output: Tensor, content: Tensor, radius: int = 30, eps: float = 0.02**2) -> Tensor:
    """Demo post-processing: colour guided filter of the output with the content as guide, clipped.

    ``radius=30, eps=(0.02)^2`` in [0, 1] units are the PCA-KD demo's ``r=30, eps=(0.02*255)^2``.
    """
    return guided_filter(output.clamp(0, 1), content, radius, eps).clamp(0, 1)
