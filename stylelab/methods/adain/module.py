"""Lightning training plumbing for AdaIN."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Literal

import torch
from torch import Tensor

from stylelab.methods.adain.model import AdaINNet, DecoderInit
from stylelab.methods.base import StyleTransferMethod
from stylelab.nn.pretrained_r31 import ENCODER_WEIGHTS


class AdaIN(StyleTransferMethod):
    """AdaIN (Huang & Belongie 2017) as a stylelab method.

    Args:
        encoder_weights: VGG-19 weights registry name (``None``: random init, for tests only).
        layer: Where AdaIN is applied (paper ``relu4_1``; ``relu3_1`` trains faster, used by the demo).
        content_weight: Weight of the content loss (paper: 1).
        style_weight: Weight λ of the mean/std style loss (pytorch-AdaIN default 10).
        lr: Adam learning rate (paper 1e-4).
        lr_decay: Inverse-time decay ``lr / (1 + lr_decay · step)`` (pytorch-AdaIN 5e-5).
        alpha: Default content/style trade-off at inference.
        style_layers: Taps of the style loss.
        eps: Variance epsilon.
        decoder: ``"random"`` (paper) or ``"pretrained_r31"`` (start from the shipped relu3_1 decoder; needs
            ``encoder_weights="vgg19_normalised_r31"``, ``layer="relu3_1"``).
        on_nonfinite: See :class:`StyleTransferMethod`.
    """

    method_name = "adain"

    def __init__(
        self,
        encoder_weights: str | None = "vgg19_caffe_q8",
        layer: str = "relu4_1",
        content_weight: float = 1.0,
        style_weight: float = 10.0,
        lr: float = 1e-4,
        lr_decay: float = 5e-5,
        alpha: float = 1.0,
        style_layers: list[str] | None = None,
        eps: float = 1e-5,
        decoder: DecoderInit = "random",
        on_nonfinite: Literal["raise", "skip"] = "raise",
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        self.save_hyperparameters()
        self.net = AdaINNet(encoder_weights, layer, style_layers, eps=eps, decoder=decoder)

    def variant(self) -> str:
        """Configuration string for tables."""
        start = "pretrained relu3_1" if self.hparams.get("decoder") == "pretrained_r31" else "random"
        weights = self.hparams.encoder_weights or "random"
        return (
            f"AdaIN, VGG-19 {weights} {self.net.layer}, decoder from {start}, "
            f"style mean/std {','.join(self.net.style_layers)}, λ={self.hparams.style_weight}"
        )

    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """``--alpha``: content (0) to style (1) trade-off; ``--decoder`` without a checkpoint."""
        parser.add_argument("--alpha", type=float, default=None, help="style strength in [0, 1]")
        parser.add_argument(
            "--decoder",
            choices=("zoo", "pretrained_r31"),
            default="zoo",
            help="without --checkpoint: 'zoo' = the model zoo's CPU-fine-tuned relu3_1 decoder (see "
            "`stylelab zoo list`; falls back to pretrained_r31 when the zoo file is missing), "
            "'pretrained_r31' = AdaIN through the shipped pretrained vgg_normalised encoder/decoder pair "
            "(no training); ignored with --checkpoint",
        )

    @classmethod
    def from_stylize_options(cls, options: argparse.Namespace) -> AdaIN:
        """The zoo's AdaIN (``--decoder zoo``, default) or the untrained relu3_1 pair (``pretrained_r31``)."""
        if getattr(options, "decoder", "zoo") == "zoo":
            from stylelab.zoo import load_zoo_method

            try:
                return load_zoo_method("adain")
            except FileNotFoundError as error:
                print(f"stylelab stylize: {error}; using --decoder pretrained_r31", file=sys.stderr)
        return cls(encoder_weights=ENCODER_WEIGHTS, layer="relu3_1", decoder="pretrained_r31")

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """``alpha`` only (``--decoder`` chose the weights)."""
        return {"alpha": options.alpha} if getattr(options, "alpha", None) is not None else {}

    def stylize(self, content: Tensor, style: Tensor, alpha: float | None = None, **options: Any) -> Tensor:
        """Stylize RGB [0,1] ``(B,3,H,W)`` content; ``alpha`` blends content (0) and style (1) features."""
        if options:
            raise TypeError(f"AdaIN.stylize got unknown options {sorted(options)}")
        with torch.no_grad():
            return self.net(content, style, self.hparams.alpha if alpha is None else alpha).clamp(0, 1)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        """One AdaIN update on ``batch["content"]`` / ``batch["style"]``."""
        terms = self.net.losses(batch["content"], batch["style"])
        total = self.hparams.content_weight * terms["content"] + self.hparams.style_weight * terms["style"]
        return self.checked_loss(total, {"loss": total, **terms})

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Log the training objective on held-out pairs."""
        terms = self.net.losses(batch["content"], batch["style"])
        total = self.hparams.content_weight * terms["content"] + self.hparams.style_weight * terms["style"]
        self.log("val/loss", total, prog_bar=True, batch_size=batch["content"].shape[0])

    test_step = validation_step

    def configure_optimizers(self) -> Any:
        """Adam on the decoder with AdaIN's inverse-time decay."""
        optimizer = torch.optim.Adam(self.net.decoder.parameters(), lr=self.hparams.lr)
        decay = self.hparams.lr_decay
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1.0 + decay * step))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
