"""Evaluation callback: metrics and image grids on the datamodule's fixed (content, style) pairs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only, rank_zero_warn
from torch import Tensor
from torchmetrics import Metric

from stylelab.backbones import VGGEncoder, WeightsNotFoundError
from stylelab.callbacks.grid import pair_grid
from stylelab.callbacks.objective import DEFAULT_PENALTY, SweepObjective
from stylelab.data.errors import UnreadableImageError
from stylelab.data.image_io import save_image
from stylelab.metrics.quality import (
    EVAL_SIZE,
    SSIM_FLOOR,
    STYLE_RATIO_CEILING,
    QualityScores,
    quality_scores,
    summarise,
)
from stylelab.metrics.quality import VARIANT as QUALITY_VARIANT
from stylelab.utils.io import atomic_save_text

#: Metric name -> which image the output is compared with.
REFERENCE = {
    "style_gram": "style",
    "style_mean_std": "style",
    "style_covariance": "style",
    "content_mse": "content",
    "content_normalized": "content",
    "content_centered_sum": "content",
    "lpips_alex": "content",
    "lpips_vgg": "content",
    "ssim": "content",
    "fsim": "content",
    "cfsd": "content",
    # the quality floor (stylelab.metrics.quality): output vs content AND style, at 256x256
    "style_ratio": "both",
    "floor_pass": "both",
}
#: Metrics computed from :func:`stylelab.metrics.quality.quality_scores` rather than a torchmetrics class.
QUALITY_METRICS = ("style_ratio", "floor_pass")
DEFAULT_METRICS = ("style_gram", "style_mean_std", "content_mse", "lpips_alex", "ssim")
#: Caption of the logged grid's columns.
GRID_CAPTION = "rows: evaluation pairs; columns: content | style | output"


def build_metric(name: str, encoder: VGGEncoder | None, encoder_name: str) -> Metric:
    """Instantiate a metric of the catalogue by name (see :data:`REFERENCE`)."""
    from stylelab import metrics as M

    shared = {"encoder": encoder, "encoder_name": encoder_name}
    factories = {
        "style_gram": lambda: M.StyleLoss("gram", **shared),
        "style_mean_std": lambda: M.StyleLoss("mean_std", **shared),
        "style_covariance": lambda: M.StyleLoss("covariance", **shared),
        "content_mse": lambda: M.ContentLoss("mse", **shared),
        "content_normalized": lambda: M.ContentLoss("normalized", **shared),
        "content_centered_sum": lambda: M.ContentLoss("centered_sum", **shared),
        "lpips_alex": lambda: M.LPIPS(net="alex"),
        "lpips_vgg": lambda: M.LPIPS(net="vgg"),
        "ssim": lambda: M.SSIM(),
        "fsim": lambda: M.FSIM(),
        "cfsd": lambda: M.CFSD(**shared),
    }
    if name not in factories:
        raise ValueError(f"unknown metric {name!r}; available: {', '.join(sorted(factories))}")
    return factories[name]()


@dataclass
class EvaluationResult:
    """Values of one evaluation run (``None`` where a metric could not be computed)."""

    stage: str
    values: dict[str, float | None]
    variants: dict[str, str]
    notes: dict[str, str]
    num_pairs: int
    grid: Tensor | None

    def to_markdown(self, method_variant: str, image_note: str) -> str:
        """A metrics table that names every variant."""
        lines = [
            f"# Evaluation ({self.stage}, {self.num_pairs} fixed pairs)",
            "",
            f"- method: {method_variant}",
            f"- images: {image_note}",
            "",
            "| metric | value | variant |",
            "|---|---|---|",
        ]
        for name, value in self.values.items():
            shown = "n/a" if value is None else f"{value:.6g}"
            variant = self.variants.get(name, "") or self.notes.get(name, "")
            lines.append(f"| {name} | {shown} | {variant} |")
        return "\n".join(lines) + "\n"


class StyleEvaluation(L.Callback):
    """Stylize the datamodule's fixed evaluation pairs and log metrics and an image grid.

    Runs at the end of every ``every_n_epochs``-th validation epoch, after testing, and (when
    ``output_dir`` is set) once more at the end of fitting, writing ``grid.png`` and ``metrics.md``.

    Args:
        metrics: Metric names (see :data:`REFERENCE`); style metrics compare the output with the style
            image, the others with the content image; ``style_ratio`` (Gram loss of the output to the style
            over that of the content, at 256²) and ``floor_pass`` (fraction of pairs with SSIM ≥ 0.3 and
            ratio ≤ 0.9) are the quality floor of :mod:`stylelab.metrics.quality`.
        encoder_weights: VGG-19 weights of the perceptual metrics (``None``: random, for tests).
        every_n_epochs: Validation epochs between evaluations.
        max_pairs: Use at most this many pairs (``None``: all the datamodule gives).
        log_images: Log the content | style | output grid.
        output_dir: Where the end-of-fit ``grid.png`` and ``metrics.md`` go (``None``: not written).
        objective: Name under which the sweep objective is logged (``val/<name>``; ``None``: not computed).
            The objective (:class:`stylelab.callbacks.objective.SweepObjective`) is the mean over pairs of
            ``style_ratio + objective_penalty * max(0, objective_ssim_floor - SSIM to content)``: the
            quality floor's style ratio under a soft content constraint. A copy of the content scores 1
            (ratio 1), a copy of the style or noise ≈ 2 (SSIM ≈ 0.1), a stylisation that keeps
            SSIM ≥ the floor scores its ratio (< 1 when it took style). Minimise it.
        objective_ssim_floor: SSIM to the content below which the objective's penalty starts.
        objective_penalty: The penalty's slope (style-ratio units per unit of SSIM).
        objective_size: Square side at which the objective's SSIM and style ratio are computed
            (``None``: each pair's content shorter side, i.e. the datamodule's ``eval_size``; the quality
            floor itself uses 256).
    """

    def __init__(
        self,
        metrics: list[str] | None = None,
        encoder_weights: str | None = "vgg19_caffe_q8",
        every_n_epochs: int = 1,
        max_pairs: int | None = None,
        log_images: bool = True,
        output_dir: str | None = None,
        objective: str | None = "objective",
        objective_ssim_floor: float = SSIM_FLOOR,
        objective_penalty: float = DEFAULT_PENALTY,
        objective_size: int | None = None,
    ) -> None:
        super().__init__()
        self.metric_names = list(metrics or DEFAULT_METRICS)
        for name in self.metric_names:
            if name not in REFERENCE:
                raise ValueError(f"unknown metric {name!r}; available: {', '.join(sorted(REFERENCE))}")
        if objective is not None and (objective in REFERENCE or not objective or "/" in objective):
            raise ValueError(
                f"objective name {objective!r} must be non-empty, without '/', and not a metric name "
                f"({', '.join(sorted(REFERENCE))})"
            )
        if objective_size is not None and objective_size < 16:
            raise ValueError(f"objective_size must be at least 16 pixels (SSIM window); got {objective_size}")
        self.objective = objective
        self.sweep_objective = SweepObjective(objective_ssim_floor, objective_penalty)
        self.objective_size = objective_size
        self.encoder_weights = encoder_weights
        self.every_n_epochs = every_n_epochs
        self.max_pairs = max_pairs
        self.log_images = log_images
        self.output_dir = output_dir
        self._encoder: VGGEncoder | None = None
        self.last_result: EvaluationResult | None = None

    # ------------------------------------------------------------------ lightning hooks
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Evaluate after every ``every_n_epochs``-th validation epoch (not during the sanity check)."""
        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        self._run(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Evaluate on the test pairs."""
        self._run(trainer, pl_module, "test")

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Write the final grid and metrics table when ``output_dir`` is set."""
        if self.output_dir is None:
            return
        result = self._run(trainer, pl_module, "val", log=False)
        if result is not None:
            self._write(result, pl_module, trainer)

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, method: Any, pairs: list[tuple[Tensor, Tensor]], stage: str = "val"
    ) -> EvaluationResult:
        """Stylize ``pairs`` of ``(content, style)`` images ``(3, H, W)`` and compute every metric.

        Args:
            method: Anything with ``stylize(content, style)`` on batched RGB [0, 1] tensors.
            pairs: Content and style images.
            stage: Label for logs.

        Returns:
            The metric values (mean over pairs), their variant strings and the image grid.
        """
        device = next((p.device for p in method.parameters()), torch.device("cpu"))
        encoder_name = f"VGG-19 {self.encoder_weights or 'random'}"
        metrics: dict[str, Metric | None] = {}
        notes: dict[str, str] = {}
        for name in self.metric_names:
            if name not in QUALITY_METRICS:
                metrics[name] = build_metric(name, self._vgg(), encoder_name).to(device)
        quality_wanted = any(name in QUALITY_METRICS for name in self.metric_names)
        floor: list[QualityScores] = []
        objective_scores: list[QualityScores] | None = [] if self.objective else None
        rows = []
        with torch.no_grad():
            for content, style in pairs:
                c, s = content[None].to(device), style[None].to(device)
                out = method.stylize(c, s).clamp(0, 1)
                rows.append((content, style, out[0].cpu()))
                if quality_wanted:
                    floor += quality_scores(out, c, s, encoder=self._vgg())
                if objective_scores is not None:
                    objective_scores = self._objective_scores(objective_scores, floor, out, c, s, notes)
                for name, metric in metrics.items():
                    if metric is None:
                        continue
                    reference = s if REFERENCE[name] == "style" else c
                    try:
                        metric.update(out, reference)
                    except WeightsNotFoundError as error:
                        notes[name] = f"not computed: {str(error).splitlines()[0]}"
                        metrics[name] = None
        values: dict[str, float | None] = {}
        variants: dict[str, str] = {}
        for name, metric in metrics.items():
            if metric is None or not pairs:
                values[name] = None
                continue
            value = float(metric.compute())
            values[name] = value if math.isfinite(value) else None
            variants[name] = str(getattr(metric, "variant", ""))
        if quality_wanted and floor:
            summary = summarise(floor)
            for name, key in (("style_ratio", "style_ratio_mean"), ("floor_pass", "pass_fraction")):
                if name in self.metric_names:
                    values[name] = summary[key]
                    variants[name] = QUALITY_VARIANT.format(size=EVAL_SIZE) + (
                        f"; pass = SSIM >= {SSIM_FLOOR} and ratio <= {STYLE_RATIO_CEILING}"
                        if name == "floor_pass"
                        else ""
                    )
        values = {name: values.get(name) for name in self.metric_names}
        if self.objective:
            value = self.sweep_objective(objective_scores) if objective_scores else math.nan
            values[self.objective] = value if math.isfinite(value) else None
            if objective_scores:
                size = f"{self.objective_size}²" if self.objective_size else "each content's shorter side²"
                variants[self.objective] = f"{self.sweep_objective.describe()}; at {size}; lower is better"
        grid = pair_grid(rows) if rows and self.log_images else None
        return EvaluationResult(stage, values, variants, notes, len(pairs), grid)

    def _objective_scores(
        self,
        scores: list[QualityScores],
        floor: list[QualityScores],
        out: Tensor,
        content: Tensor,
        style: Tensor,
        notes: dict[str, str],
    ) -> list[QualityScores] | None:
        """Append the floor scores of one ``(1, 3, H, W)`` triple at the objective's size to ``scores``.

        Reuses the quality floor's scores when they were computed at the same size; returns ``None`` (and a
        note) once the objective cannot be computed for want of encoder weights.
        """
        size = self.objective_size or min(content.shape[-2:])
        if floor and size == EVAL_SIZE and any(name in QUALITY_METRICS for name in self.metric_names):
            return [*scores, floor[-1]]
        try:
            return scores + quality_scores(out, content, style, size=size, encoder=self._vgg())
        except WeightsNotFoundError as error:
            notes[str(self.objective)] = f"not computed: {str(error).splitlines()[0]}"
            return None

    def _vgg(self) -> VGGEncoder:
        if self._encoder is None:
            self._encoder = VGGEncoder("vgg19", weights=self.encoder_weights, last_tap="relu5_1")
        return self._encoder

    def _pairs(self, trainer: L.Trainer, stage: str) -> list[tuple[Tensor, Tensor]]:
        datamodule = trainer.datamodule
        if datamodule is None or not hasattr(datamodule, "eval_pairs"):
            rank_zero_warn("StyleEvaluation needs a StyleTransferDataModule; skipped")
            return []
        paths = datamodule.eval_pairs(stage)[: self.max_pairs]
        loaded = []
        for content_path, style_path in paths:
            try:
                loaded.append(
                    (datamodule.load_eval_image(content_path), datamodule.load_eval_image(style_path))
                )
            except UnreadableImageError as error:
                rank_zero_warn(f"evaluation pair skipped ({error})")
        return loaded

    def _run(
        self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str, log: bool = True
    ) -> EvaluationResult | None:
        pairs = self._pairs(trainer, stage)
        if not pairs:
            return None
        was_training = pl_module.training
        pl_module.eval()
        try:
            result = self.evaluate(pl_module, pairs, stage)
        finally:
            pl_module.train(was_training)
        self.last_result = result
        if log:
            for name, value in result.values.items():
                if value is not None:
                    pl_module.log(f"{stage}/{name}", value, rank_zero_only=True)
            if result.grid is not None:
                self._log_grid(trainer, result.grid, f"{stage}/pairs")
        return result

    @rank_zero_only
    def _log_grid(self, trainer: L.Trainer, grid: Tensor, tag: str) -> None:
        step = trainer.global_step
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image(tag, grid, step)
            elif isinstance(logger, WandbLogger):
                # W&B takes (H, W, 3) arrays in [0, 255]: it would truncate [0, 1] floats to black
                image = (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
                logger.log_image(key=tag, images=[image], step=step, caption=[GRID_CAPTION])
            elif logger.log_dir is not None:
                save_image(
                    grid, Path(logger.log_dir) / "images" / f"{tag.replace('/', '_')}_step{step:07d}.png"
                )

    @rank_zero_only
    def _write(self, result: EvaluationResult, pl_module: L.LightningModule, trainer: L.Trainer) -> None:
        folder = Path(self.output_dir or ".")
        variant = pl_module.variant() if hasattr(pl_module, "variant") else type(pl_module).__name__
        datamodule = trainer.datamodule
        size = getattr(getattr(datamodule, "eval_transform", None), "size", None)
        image_note = (
            f"evaluation transform {getattr(datamodule, 'eval_transform', 'n/a')!r}, shorter side {size}; "
            f"trained {trainer.global_step} steps"
        )
        if result.grid is not None:
            save_image(result.grid, folder / "grid.png")
        atomic_save_text(folder / "metrics.md", result.to_markdown(variant, image_note))
        print(f"StyleEvaluation: wrote {folder / 'grid.png'} and {folder / 'metrics.md'}")
