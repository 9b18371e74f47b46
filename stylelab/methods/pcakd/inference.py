"""PCA-KD at inference: ``stylize`` (whole-image or streamed), the ``stylelab stylize`` options, ``variant``.

:class:`PCAKDInference` is mixed into :class:`~.module.PCAKD`; it reads ``self.net`` (a
:class:`~.model.PCAKDNet`), ``self.hparams``, ``self.weights_source`` and ``self.student_preprocess``.

``stylelab stylize --method pcakd`` without a checkpoint builds the model from ``--student``:

* ``official-vgg`` (default): the PCA-KD authors' trained Ours-VGG (registry ``pcakd_vgg_official``);
* ``official-mobilenet``: the authors' Ours-Mob (``pcakd_mobilenet_official``);
* ``ours-vgg``: the student stylelab distilled on a CPU (``weights/pcakd_vgg.safetensors``).

All three are shipped with the package: no download, no ``STYLELAB_WEIGHTS``, no teacher.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from stylelab.methods.pcakd.architectures import STRIDES
from stylelab.methods.pcakd.model import pad_to_multiple, postprocess
from stylelab.methods.pcakd.streaming import stylize_streamed
from stylelab.methods.pcakd.transfer import ZCAConfig

#: ``--student`` choices -> PCAKD constructor arguments.
STUDENTS: dict[str, dict[str, str]] = {
    "official-vgg": {"backbone": "vgg", "pretrained": "official_vgg"},
    "official-mobilenet": {"backbone": "mobilenet", "pretrained": "official_mobilenet"},
    "ours-vgg": {"backbone": "vgg", "pretrained": "vgg"},
}
DEFAULT_STUDENT = "official-vgg"
#: Above this many content pixels ``streaming="auto"`` takes the streamed pass (4K and larger).
STREAM_FROM_PIXELS = 3840 * 2160
Streaming = Literal["auto", "always", "never"]


class PCAKDInference:
    """Stylisation and the ``stylelab stylize`` hooks of :class:`~.module.PCAKD` (a mixin)."""

    hparams: Any
    net: Any
    weights_source: str
    student_preprocess: str

    def variant(self) -> str:
        """Configuration string for tables."""
        hp = self.hparams
        ae = self.net.autoencoder
        solver = f"{hp.eigenbasis} eigenbases" + (
            f" ({hp.eigen_solver})" if hp.eigenbasis == "global" else ""
        )
        if not self.net.is_student:
            solver = "no eigenbases"
        inits = {"default": "", "data": ", data init", "least_squares": ", least-squares init"}
        training = f"blocks by {hp.block_optimizer}{inits[hp.block_init]}"
        if self.weights_source.startswith("official"):
            solver, training = "the authors' eigenbases", "trained by the PCA-KD authors (TensorFlow)"
        elif self.weights_source.startswith(("shipped", "weights")):  # trained elsewhere: say where
            solver = f"{hp.eigenbasis} eigenbases (from the weights)"
            training = "trained as its .json record says"
        if self.net.is_student and hp.backbone == "vgg":
            training = f"{self.student_preprocess} input map, {training}"
        return (
            f"PCA-KD {hp.backbone} widths {list(ae.widths)}, HFR {hp.hfr}, {solver}, {training}, teacher "
            f"{hp.teacher_weights or 'random'} ({self.net.teacher_normalisation}), "
            f"ZCA +{hp.zca_regularizer:g}I both /N, "
            f"guided filter {'on' if hp.guided_filter else 'off'}, {self.weights_source}"
        )

    # ------------------------------------------------------------------ `stylelab stylize`
    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """PCA-KD's ``stylelab stylize`` options."""
        parser.add_argument(
            "--student",
            choices=sorted(STUDENTS),
            default=DEFAULT_STUDENT,
            help="which trained student stylises (default: official-vgg, the PCA-KD authors' Ours-VGG; "
            "ours-vgg = stylelab's CPU-distilled one); ignored with --checkpoint",
        )
        parser.add_argument(
            "--guided-filter",
            dest="guided_filter",
            action="store_true",
            default=None,
            help="guided-filter post-processing (demo look; off for metrics)",
        )
        parser.add_argument(
            "--zca-regularizer",
            dest="zca_regularizer",
            type=float,
            default=None,
            help="r of the +rI ZCA regulariser (default 1)",
        )
        parser.add_argument(
            "--demo-resize",
            dest="demo_resize",
            type=int,
            default=None,
            metavar="N",
            help="resize content and style like the authors' demo: PIL bicubic to longer side N (their 384), "
            "then bilinear to multiples of 8 (VGG) / 16 (MobileNet); the output has that size",
        )
        parser.add_argument(
            "--streaming",
            choices=("auto", "always", "never"),
            default=None,
            help="band-by-band pass with exact halos (bounded memory, same output); auto: from 4K on",
        )
        parser.add_argument(
            "--content-mask",
            dest="content_mask",
            default=None,
            help="colour-coded segmentation of the (single) content image",
        )
        parser.add_argument(
            "--style-mask",
            dest="style_mask",
            default=None,
            help="colour-coded segmentation of the (single) style image",
        )

    @classmethod
    def from_stylize_options(cls, options: argparse.Namespace) -> Any:
        """The model of ``--student`` (default ``official-vgg``), no teacher loaded."""
        student = getattr(options, "student", None) or DEFAULT_STUDENT
        if student not in STUDENTS:
            raise ValueError(f"--student must be one of {sorted(STUDENTS)}, got {student!r}")
        return cls(**STUDENTS[student])  # type: ignore[call-arg]

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """Keyword arguments of :meth:`stylize` (masks are handled by :meth:`stylize_files`)."""
        return {
            k: v
            for k, v in vars(options).items()
            if v is not None and k not in ("content_mask", "style_mask", "student", "demo_resize")
        }

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """As the base class; with ``--content-mask/--style-mask`` one masked (content, style) pair.

        With ``--demo-resize N`` every image is resized as the authors' demo does (:mod:`.demo_resize`).
        """
        side = getattr(options, "demo_resize", None)
        if side is not None:
            from stylelab.methods.pcakd.demo_resize import demo_resize

            read, multiple = load, self.net.multiple_of

            def load(path: Path) -> Tensor:
                return demo_resize(read(path), side, multiple)

        content_mask, style_mask = (
            getattr(options, "content_mask", None),
            getattr(options, "style_mask", None),
        )
        if content_mask is None and style_mask is None:
            return super().stylize_files(contents, styles, output, options, load)  # type: ignore[misc]
        return self.stylize_masked_pair(  # type: ignore[attr-defined]
            contents, styles, output, (content_mask, style_mask), load, **self.stylize_options(options)
        )

    # ------------------------------------------------------------------------ stylisation
    def stylize(
        self,
        content: Tensor,
        style: Tensor,
        content_mask: Tensor | None = None,
        style_mask: Tensor | None = None,
        guided_filter: bool | None = None,
        zca_regularizer: float | None = None,
        streaming: Streaming | None = None,
        **options: Any,
    ) -> Tensor:
        """Stylise RGB [0, 1] ``(B, 3, H, W)`` content (any size) with ``(B or 1, 3, H_s, W_s)`` style.

        Inputs are reflect-padded at the bottom/right to a multiple of the student's stride (8 VGG,
        16 MobileNet) and the output cropped back; nothing is resized.

        Args:
            content: Content images.
            style: Style images.
            content_mask: Optional labels ``(B, H, W)`` (spatial control; whole-image pass).
            style_mask: Optional labels ``(B or 1, H_s, W_s)``.
            guided_filter: Override the module's ``guided_filter`` flag.
            zca_regularizer: Override ``zca_regularizer``.
            streaming: ``"always"``: band-by-band pass (:mod:`.streaming`, students only, equal to the
                whole-image pass within float rounding); ``"never"``: whole image; ``"auto"``/``None``:
                streamed from :data:`STREAM_FROM_PIXELS` content pixels on (without masks).
            **options: Rejected (raises ``TypeError``).

        Returns:
            ``(B, 3, H, W)`` in [0, 1].
        """
        if options:
            raise TypeError(f"PCAKD.stylize got unknown options {sorted(options)}")
        hp = self.hparams
        gf = hp.guided_filter if guided_filter is None else guided_filter
        zca = ZCAConfig(regularizer=hp.zca_regularizer if zca_regularizer is None else zca_regularizer)
        multiple = self.net.multiple_of
        h, w = content.shape[-2:]
        streamed = self._use_streaming(streaming or "auto", h * w, content_mask is not None)

        def pad_mask(mask: Tensor | None) -> Tensor | None:
            if mask is None:
                return None
            return pad_to_multiple(mask[:, None].float(), multiple)[:, 0].long()

        with torch.no_grad():
            c, s = pad_to_multiple(content, multiple), pad_to_multiple(style, multiple)
            if streamed:
                strides = STRIDES[self.hparams.backbone]
                out = torch.cat(
                    [
                        stylize_streamed(
                            self.net.autoencoder, c[i : i + 1], s[min(i, len(s) - 1)][None], strides, zca
                        )  # fmt: skip
                        for i in range(len(c))
                    ]
                )
            else:
                out = self.net.stylize(c, s, zca, pad_mask(content_mask), pad_mask(style_mask))
            out = out[..., :h, :w].clamp(0, 1)
            if gf:
                out = postprocess(out, content, hp.gf_radius, hp.gf_eps)
        return out

    def _use_streaming(self, streaming: str, pixels: int, masked: bool) -> bool:
        if streaming not in ("auto", "always", "never"):
            raise ValueError(f"streaming must be 'auto', 'always' or 'never', got {streaming!r}")
        can = self.net.is_student and not masked
        if streaming == "always" and not can:
            raise ValueError("the streamed pass needs a student (not the teacher pipeline) and no masks")
        return streaming == "always" or (streaming == "auto" and can and pixels >= STREAM_FROM_PIXELS)
