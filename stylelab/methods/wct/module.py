"""WCT as a stylelab method: nothing to train, real stylisation from the shipped pretrained pair."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.wct.model import WCTNet
from stylelab.ops import resize_labels
from stylelab.ops.zca import Normalizer


def _pad(x: Tensor, multiple: int, mode: str = "reflect") -> Tensor:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    mode = mode if mode != "reflect" or min(h, w) > max(ph, pw) else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _pad_labels(labels: Tensor, size: tuple[int, int], multiple: int) -> Tensor:
    """``(B, H', W')`` labels resized (nearest) to ``size`` and padded like the image."""
    resized = resize_labels(labels, size)
    return _pad(resized[:, None].float(), multiple, "replicate")[:, 0].long()


class WCT(StyleTransferMethod):
    """Universal style transfer by whitening and colouring (Li et al. 2017), single level at relu3_1.

    The floor every trained method is compared against: the exact vgg_normalised encoder to relu3_1, WCT,
    and LinearStyleTransfer's pretrained relu3_1 decoder (all shipped). Li et al. cascade five levels with
    five decoders; only the relu3_1 decoder is available, so this is their single-level variant.

    Args:
        alpha: Default style strength in [0, 1] (Li et al.: blend of WCT and content features).
        regularizer: ``+r I`` on the content covariance (Li et al.'s code: 1).
        normalizer: Covariance divisor, ``"N-1"`` as in Li et al.'s code.
        eig_threshold: Eigenvalues below it are dropped.
        on_nonfinite: See :class:`StyleTransferMethod` (unused: nothing is trained).
    """

    method_name = "wct"

    def __init__(
        self,
        alpha: float = 1.0,
        regularizer: float = 1.0,
        normalizer: Normalizer = "N-1",
        eig_threshold: float = 1e-5,
        on_nonfinite: Literal["raise", "skip"] = "raise",
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.save_hyperparameters()
        self.net = WCTNet(regularizer, normalizer, eig_threshold)

    def variant(self) -> str:
        """Configuration string for tables."""
        hp = self.hparams
        return (
            f"WCT single-level relu3_1, vgg_normalised encoder + pretrained decoder (LinearStyleTransfer), "
            f"alpha={hp.alpha}, +{hp.regularizer}I on Cov_c, /{hp.normalizer}"
        )

    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """``--alpha`` and the optional segmentation masks of one (content, style) pair."""
        parser.add_argument("--alpha", type=float, default=None, help="style strength in [0, 1] (default 1)")
        parser.add_argument(
            "--content-mask",
            dest="content_mask",
            default=None,
            help="colour-coded segmentation of the content",
        )
        parser.add_argument(
            "--style-mask", dest="style_mask", default=None, help="colour-coded segmentation of the style"
        )

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """``alpha`` only (masks are read by :meth:`stylize_files`)."""
        return {"alpha": options.alpha} if getattr(options, "alpha", None) is not None else {}

    def stylize(
        self,
        content: Tensor,
        style: Tensor,
        alpha: float | None = None,
        content_mask: Tensor | None = None,
        style_mask: Tensor | None = None,
        **options: Any,
    ) -> Tensor:
        """Stylise RGB [0, 1] ``(B, 3, H, W)`` content (any size) with ``(B or 1, 3, H_s, W_s)`` style.

        Args:
            content: Content images.
            style: Style images.
            alpha: Style strength (default: the module's).
            content_mask: Optional labels ``(B, H', W')`` (any resolution; resized to the content's).
            style_mask: Optional labels ``(B or 1, H_s', W_s')``.
            **options: Rejected (raises ``TypeError``).

        Returns:
            ``(B, 3, H, W)`` in [0, 1].
        """
        if options:
            raise TypeError(f"WCT.stylize got unknown options {sorted(options)}")
        multiple = self.net.multiple_of
        h, w = content.shape[-2:]
        c_lab = None if content_mask is None else _pad_labels(content_mask, (h, w), multiple)
        s_lab = None if style_mask is None else _pad_labels(style_mask, tuple(style.shape[-2:]), multiple)
        with torch.no_grad():
            out = self.net(
                _pad(content, multiple),
                _pad(style, multiple),
                self.hparams.alpha if alpha is None else alpha,
                c_lab,
                s_lab,
            )
        return out[..., :h, :w].clamp(0, 1)

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """As the base class; with ``--content-mask/--style-mask``, one masked (content, style) pair."""
        content_mask, style_mask = (
            getattr(options, "content_mask", None),
            getattr(options, "style_mask", None),
        )
        if content_mask is None and style_mask is None:
            return super().stylize_files(contents, styles, output, options, load)
        return self.stylize_masked_pair(
            contents, styles, output, (content_mask, style_mask), load, **self.stylize_options(options)
        )

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        """WCT has nothing to train."""
        raise RuntimeError("WCT has no trainable parameters: use `stylelab stylize --method wct` directly")

    def configure_optimizers(self) -> Any:
        """No optimiser: nothing is trained."""
        return None
