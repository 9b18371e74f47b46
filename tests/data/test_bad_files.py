from __future__ import annotations

import logging

import lightning as L
import numpy as np
import pytest
import torch

from stylelab.data import (
    EmptySourceError,
    ImageFolder,
    NoLoadableImageError,
    PairedFolder,
    StyleTransferDataModule,
)

MAX_PIXELS = 5_000  # good test images are 32x24 = 768 pixels; "huge.png" is 100x100


@pytest.fixture
def mixed(images):
    """A content folder with 8 good and 4 bad files, and a good style folder."""
    for i in range(8):
        images.rgb(f"content/good_{i}.jpg", seed=i)
    bad = {
        images.truncated_jpeg("content/cut.jpg"),
        images.text("content/text.jpg"),
        images.text("content/empty.png", b""),
        images.rgb("content/huge.png", 100, 100),
    }
    for i in range(4):
        images.rgb(f"style/s{i}.png", seed=50 + i)
    return images.root / "content", images.root / "style", {str(p) for p in bad}


def _module(content, style, **kwargs):
    options = {
        "val_fraction": 0.0,
        "test_fraction": 0.0,
        "load_size": 32,
        "crop_size": 16,
        "batch_size": 3,
        "max_image_pixels": MAX_PIXELS,
    } | kwargs
    return StyleTransferDataModule(content=ImageFolder(content), style=ImageFolder(style), **options)


def _run_epoch(dm, harvest=False):
    samples, skipped = [], set()
    for batch in dm.train_dataloader():
        if harvest:
            batch = dm.on_before_batch_transfer(batch, 0)
        assert batch["content"].shape[1:] == (3, 16, 16)
        samples += list(zip(batch["content_path"], batch["style_path"], strict=True))
        skipped |= set(batch["skipped"])
    return samples, skipped


def test_full_epoch_skips_exactly_the_bad_files(mixed, caplog):
    content, style, bad = mixed
    dm = _module(content, style, num_workers=0)
    dm.setup("fit")
    with caplog.at_level(logging.WARNING, logger="stylelab.data"):
        samples, skipped = _run_epoch(dm)
        _run_epoch(dm)
    assert len(samples) == 12 and skipped == bad
    assert not {c for c, _ in samples} & bad
    assert set(dm.skip_report()) == bad
    assert "max_pixels" in dm.skip_report()[str(content / "huge.png")]
    assert sum("skipping unreadable image" in r.getMessage() for r in caplog.records) == len(bad)  # once each


def test_workers_give_the_same_samples_and_report_bad_files(mixed):
    content, style, bad = mixed
    single = _module(content, style, num_workers=0)
    single.setup("fit")
    reference = _run_epoch(single)[0]
    dm = _module(content, style, num_workers=2)
    dm.setup("fit")
    samples, skipped = _run_epoch(dm, harvest=True)
    assert samples == reference and skipped == bad
    report = dm.skip_report()
    assert set(report) == bad and all(report.values())


class _TinyModel(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))
        self.seen: list[str] = []

    def training_step(self, batch, batch_idx):
        self.seen += batch["content_path"]
        return ((batch["content"] - batch["style"]) * self.weight).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        return None

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def test_trainer_fit_through_bad_files_with_workers(mixed):
    content, style, bad = mixed
    dm = _module(content, style, num_workers=2, val_fraction=0.2)
    model = _TinyModel()
    trainer = L.Trainer(
        max_epochs=2,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=dm)
    train_paths = {dm.content_source.paths()[i] for i in dm.splits["content"]["train"]}
    val_paths = {c for c, _ in dm.eval_pairs("val")}
    assert bad & train_paths and not set(model.seen) & bad
    assert set(dm.skip_report()) == bad & (train_paths | val_paths)  # harvested from worker batches
    assert len(model.seen) == 2 * len(train_paths)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_every_file_bad_raises_instead_of_looping(images, num_workers):
    images.text("content/a.jpg")
    images.truncated_jpeg("content/b.jpg")
    images.rgb("style/s.png")
    dm = StyleTransferDataModule(
        content=ImageFolder(images.root / "content"),
        style=ImageFolder(images.root / "style"),
        val_fraction=0.0,
        test_fraction=0.0,
        num_workers=num_workers,
    )
    dm.setup("fit")
    with pytest.raises(NoLoadableImageError, match="all 2 candidate images"):
        next(iter(dm.train_dataloader()))


def test_empty_folder_is_a_clear_error(images):
    images.text("content/readme.txt")
    images.rgb("style/s.png")
    dm = StyleTransferDataModule(
        content=ImageFolder(images.root / "content"), style=ImageFolder(images.root / "style")
    )
    with pytest.raises(EmptySourceError, match="content.*searched extensions: .bmp"):
        dm.setup("fit")


def test_bad_style_is_replaced_by_next_style(images):
    for i in range(6):
        images.rgb(f"content/c{i}.jpg", seed=i)
    images.rgb("style/a.png", seed=10)
    images.text("style/b.png")
    images.rgb("style/c.png", seed=11)
    dm = StyleTransferDataModule(
        content=ImageFolder(images.root / "content"),
        style=ImageFolder(images.root / "style"),
        val_fraction=0.0,
        test_fraction=0.0,
        load_size=32,
        crop_size=16,
    )
    dm.setup("fit")
    bad = str(images.root / "style/b.png")
    hits = 0
    for _ in range(3):
        samples, skipped = _run_epoch(dm)
        assert bad not in {s for _, s in samples} and skipped <= {bad}
        hits += bool(skipped)
    assert hits > 0 and set(dm.skip_report()) == {bad}


def test_bad_mask_skips_its_pair(images):
    for stem in range(5):
        images.rgb(f"pairs/content/{stem}.jpg", seed=stem)
        images.rgb(f"pairs/style/{stem}.jpg", seed=10 + stem)
        images.array(f"pairs/content_seg/{stem}.png", np.zeros((24, 32, 3), np.uint8))
        images.array(f"pairs/style_seg/{stem}.png", np.zeros((24, 32, 3), np.uint8))
    broken = images.text("pairs/style_seg/2.png")
    images.array("pairs/content_seg/3.png", np.zeros((50, 10, 3), np.uint8))  # wrong shape for its photo
    pairs = PairedFolder(images.root / "pairs", content_mask_dir="content_seg", style_mask_dir="style_seg")
    dm = StyleTransferDataModule(
        pairs=pairs, val_fraction=0.0, test_fraction=0.0, load_size=32, crop_size=16, batch_size=5
    )
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    used = {p.rsplit("/", 1)[-1] for p in batch["content_path"]}
    assert used <= {"0.jpg", "1.jpg", "4.jpg"}
    assert set(batch["skipped"]) == {str(broken), str(images.root / "pairs/content_seg/3.png")}
    assert "mask is 50x10" in dm.skip_report()[str(images.root / "pairs/content_seg/3.png")]
