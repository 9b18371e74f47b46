from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
import wandb
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger

from stylelab.callbacks import StyleEvaluation, pair_grid
from stylelab.data import StyleTransferDataModule
from stylelab.methods import AdaIN


def _datamodule() -> StyleTransferDataModule:
    return StyleTransferDataModule(
        load_size=72,
        crop_size=64,
        eval_size=64,
        batch_size=2,
        val_fraction=0.3,
        test_fraction=0.2,
        num_val_pairs=3,
    )


def test_grid_layout() -> None:
    grid = pair_grid(
        [(torch.rand(3, 20, 40), torch.rand(3, 30, 30), torch.rand(3, 20, 40))] * 2, cell=32, gap=2
    )
    assert grid.shape == (3, 2 * 34 - 2, 3 * 34 - 2)


def test_evaluate_names_variants_and_skips_missing_weights(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stylelab.backbones import weights as W

    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv(W.OFFLINE_ENV, "1")
    monkeypatch.setattr(W, "_hub_checkpoints", lambda: tmp_path / "hub")
    monkeypatch.setattr(W, "_package_file", lambda package, inner: None)
    callback = StyleEvaluation(
        metrics=["style_gram", "content_mse", "ssim", "lpips_vgg"], encoder_weights=None
    )
    pairs = [(torch.rand(3, 32, 32), torch.rand(3, 40, 48)) for _ in range(2)]
    result = callback.evaluate(AdaIN(encoder_weights=None), pairs)
    assert result.num_pairs == 2 and result.grid is not None
    assert result.values["ssim"] is not None and -1 <= result.values["ssim"] <= 1
    assert "Gram" in result.variants["style_gram"] and "relu4_1" in result.variants["content_mse"]
    # LPIPS needs the VGG-16 backbone, absent here: reported, not crashed
    assert result.values["lpips_vgg"] is None and "not computed" in result.notes["lpips_vgg"]
    table = result.to_markdown("AdaIN test", "64 px")
    assert "| lpips_vgg | n/a | not computed" in table


@pytest.mark.parametrize("logger_cls", [CSVLogger, TensorBoardLogger, WandbLogger])
def test_logs_metrics_and_grid_in_a_trainer(
    logger_cls: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")  # the real offline run: tests/cli/test_wandb_sweep.py
    logger = logger_cls(save_dir=tmp_path)
    tags: list[str] = []
    if logger_cls is TensorBoardLogger:
        monkeypatch.setattr(
            type(logger.experiment), "add_image", lambda self, tag, img, step: tags.append(tag)
        )
    if logger_cls is WandbLogger:

        def log_image(self: WandbLogger, key: str, images: list, step: int | None = None, **kw: list) -> None:
            (image,) = images
            stored = np.asarray(wandb.Image(image).image)  # the pixels W&B writes
            grid = callback.last_result.grid
            assert np.array_equal(stored, (grid * 255).round().byte().permute(1, 2, 0).numpy())
            assert len(kw["caption"]) == 1
            tags.append(key)

        monkeypatch.setattr(WandbLogger, "log_image", log_image)
    callback = StyleEvaluation(
        metrics=["style_mean_std", "ssim"], encoder_weights=None, output_dir=str(tmp_path / "out")
    )
    trainer = L.Trainer(
        max_steps=1,
        limit_val_batches=1,
        val_check_interval=1,
        logger=logger,
        callbacks=[callback],
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    trainer.fit(AdaIN(encoder_weights=None), datamodule=_datamodule())
    assert "val/ssim" in trainer.callback_metrics and "val/style_mean_std" in trainer.callback_metrics
    assert "val/objective" in trainer.callback_metrics  # the sweep objective, on by default
    if logger_cls is CSVLogger:
        assert list(Path(logger.log_dir, "images").glob("val_pairs_step*.png"))
    else:
        assert tags == ["val/pairs"]
    assert (tmp_path / "out" / "grid.png").is_file()
    table = (tmp_path / "out" / "metrics.md").read_text()
    assert "| ssim |" in table and "| objective |" in table and "max(0, 0.3 - SSIM" in table
