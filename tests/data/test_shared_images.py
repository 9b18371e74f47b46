"""Real photos and artworks from the shared data folder (skipped when STYLELAB_SHARED_DATA is unset)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.data import (
    DEFAULT_MASK_PALETTE,
    ImageFolder,
    PairedFolder,
    StyleTransferDataModule,
    load_aligned_mask,
)

pytestmark = pytest.mark.shared_data


@pytest.mark.parametrize("folder", ["content", "style"])
def test_every_staged_image_loads(shared_images, folder):
    source = ImageFolder(shared_images / folder)
    assert len(source) >= 20
    for index in range(len(source)):
        image = source.load(index)
        assert image.dim() == 3 and image.shape[0] == 3 and min(image.shape[1:]) >= 64
        assert torch.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
        assert image.std() > 0.02, source.paths()[index]


def test_photoreal_pairs_with_masks(shared_images):
    pairs = PairedFolder(
        shared_images / "photoreal_pairs", content_mask_dir="content_seg", style_mask_dir="style_seg"
    )
    assert len(pairs) == 40 and not pairs.unmatched
    content, style = pairs.content_source(), pairs.style_source()
    shared_labels = 0
    for index, pair in enumerate(pairs.pairs()):
        c_image, s_image = content.load(index), style.load(index)
        width, height = Image.open(pair.content_mask).size
        assert (
            abs(height - c_image.shape[1]) <= 1 and abs(width - c_image.shape[2]) <= 1
        )  # dpst_07 is 1 px off
        c_mask, s_mask = (
            load_aligned_mask(pair.content_mask, c_image),
            load_aligned_mask(pair.style_mask, s_image),
        )
        assert c_mask.shape == c_image.shape[1:] and s_mask.shape == s_image.shape[1:]
        assert 0 <= c_mask.min() and c_mask.max() < len(DEFAULT_MASK_PALETTE)
        shared_labels += bool(set(np.unique(c_mask.numpy())) & set(np.unique(s_mask.numpy())))
    assert shared_labels == 40  # every content mask shares a region colour with its style mask


def test_paired_datamodule_on_photoreal_pairs(shared_images):
    pairs = PairedFolder(
        shared_images / "photoreal_pairs", content_mask_dir="content_seg", style_mask_dir="style_seg"
    )
    dm = StyleTransferDataModule(pairs=pairs, load_size=128, crop_size=64, eval_size=128, batch_size=4)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["content"].shape == (4, 3, 64, 64) and batch["style_mask"].shape == (4, 64, 64)
    val = next(iter(dm.val_dataloader()))
    assert (
        val["content_mask"].shape[-2:] == val["content"].shape[-2:] and min(val["content"].shape[-2:]) == 128
    )
    assert dm.skip_report() == {}


def test_content_style_datamodule_on_staged_images(shared_images):
    dm = StyleTransferDataModule(
        content=ImageFolder(shared_images / "content"),
        style=ImageFolder(shared_images / "style"),
        load_size=96,
        crop_size=64,
        batch_size=4,
        eval_size=96,
    )
    dm.setup("fit")
    assert next(iter(dm.train_dataloader()))["style"].shape == (4, 3, 64, 64)
    assert len(dm.eval_pairs("val")) >= 4 and dm.eval_pairs("test") != dm.eval_pairs("val")
