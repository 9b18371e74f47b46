from __future__ import annotations

import numpy as np
import pytest
import torch

from stylelab.data import (
    GeneratedTextures,
    ImageFolder,
    PairedFolder,
    SkimagePhotos,
    StyleTransferDataModule,
    colours_to_labels,
    resize_shorter,
)

BATCH_KEYS = {"content", "style", "content_path", "style_path", "skipped"}


@pytest.fixture
def folders(images):
    for i in range(12):
        images.rgb(f"content/c{i:02d}.jpg", 40 + i, 30, seed=i)
    for i in range(6):
        images.rgb(f"style/s{i}.png", 30, 36 + i, seed=100 + i)
    return images.root / "content", images.root / "style"


def _module(folders, **kwargs):
    content, style = folders
    options = {"load_size": 32, "crop_size": 16, "eval_size": 24, "batch_size": 4} | kwargs
    return StyleTransferDataModule(content=ImageFolder(content), style=ImageFolder(style), **options)


def test_embedded_default_batches():
    dm = StyleTransferDataModule(load_size=48, crop_size=32, eval_size=40, batch_size=4)
    assert isinstance(dm.content_source, SkimagePhotos) and isinstance(dm.style_source, GeneratedTextures)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == BATCH_KEYS
    assert batch["content"].shape == batch["style"].shape == (4, 3, 32, 32)
    assert (
        batch["content"].dtype == torch.float32
        and 0 <= batch["content"].min()
        and batch["content"].max() <= 1
    )
    assert len(batch["content_path"]) == len(batch["style_path"]) == 4 and batch["skipped"] == []
    val = next(iter(dm.val_dataloader()))
    h, w = val["content"].shape[-2:]
    assert val["content"].shape[0] == 1 and h % 8 == 0 and w % 8 == 0 and min(h, w) == 40


def test_splits_disjoint_and_eval_pairs_held_out(folders):
    dm = _module(folders, val_fraction=0.25, test_fraction=0.25, num_val_pairs=5)
    content = dm.content_source.paths()
    split = {s: {content[i] for i in dm.splits["content"][s]} for s in ("train", "val", "test")}
    assert (
        not (split["train"] & split["val"])
        and not (split["train"] & split["test"])
        and not (split["val"] & split["test"])
    )
    assert len(split["train"] | split["val"] | split["test"]) == 12
    pairs = dm.eval_pairs("val")
    assert len(pairs) == 5 and len(set(pairs)) == 5
    style = dm.style_source.paths()
    val_styles = {style[i] for i in dm.splits["style"]["val"]}
    assert all(c in split["val"] and s in val_styles for c, s in pairs)
    again = _module(folders, val_fraction=0.25, test_fraction=0.25, num_val_pairs=5)
    assert again.eval_pairs("validate") == pairs and again.eval_pairs("test") == dm.eval_pairs("test")
    assert {c for c, _ in dm.eval_pairs("test")} <= split["test"]
    dm.setup("validate")
    batches = list(dm.val_dataloader())
    assert [(b["content_path"][0], b["style_path"][0]) for b in batches] == pairs


def _epoch(loader):
    return [
        (c, s) for batch in loader for c, s in zip(batch["content_path"], batch["style_path"], strict=True)
    ]


def test_styles_resampled_each_epoch_but_reproducible(folders):
    dm = _module(folders, val_fraction=0.0, test_fraction=0.0)
    dm.setup("fit")
    loader = dm.train_dataloader()
    first, second = _epoch(loader), _epoch(loader)
    assert len(first) == 12 and {c for c, _ in first} == set(dm.content_source.paths())
    assert first != second
    other = _module(folders, val_fraction=0.0, test_fraction=0.0)
    other.setup("fit")
    loader = other.train_dataloader()
    assert _epoch(loader) == first and _epoch(loader) == second
    loader.sampler.set_epoch(0)
    assert _epoch(loader) == first


def test_samples_per_epoch(folders):
    dm = _module(folders, samples_per_epoch=30, batch_size=8)
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert [len(b["content_path"]) for b in batches] == [8, 8, 8, 6]


def test_accessors_and_eval_image(folders):
    dm = _module(folders)
    dataset = dm.content_dataset("train")
    sample = dataset[0]
    assert set(sample) == {"image", "path", "skipped"} and sample["image"].shape == (3, 16, 16)
    assert len(dm.style_dataset("val")) == len(dm.splits["style"]["val"])
    assert dm.style_dataset("test")[0]["image"].shape[-2:] == (32, 24)  # eval transform: 24 x (36+k)*24/30
    path = dm.eval_pairs("val")[0][0]
    image = dm.load_eval_image(path)
    assert min(image.shape[-2:]) == 24 and image.shape[-1] % 8 == 0
    textures = StyleTransferDataModule(eval_size=64)
    generated = textures.style_source.paths()[3]
    expected = resize_shorter(textures.style_source.load(3), 64)
    assert torch.equal(textures.load_eval_image(generated), expected)


def test_pairs_excludes_content_and_style(tmp_path):
    with pytest.raises(ValueError, match="either"):
        StyleTransferDataModule(content=ImageFolder(tmp_path), pairs=PairedFolder(tmp_path))


def _colour_pairs(images, count=6):
    rng = np.random.default_rng(0)
    palette = np.array([(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 255)], np.uint8)
    for i in range(count):
        for role, (h, w) in (("content", (40, 60)), ("style", (48, 36))):
            blocks = rng.integers(0, 4, (4, 6))
            colours = palette[np.kron(blocks, np.ones((h // 4, w // 6), int))]
            images.array(f"pairs/{role}/{i}.png", colours)  # the photo *is* its colour mask
            images.array(f"pairs/{role}_seg/{i}.png", colours)
    return PairedFolder(images.root / "pairs", content_mask_dir="content_seg", style_mask_dir="style_seg")


def test_paired_mode_batches_carry_aligned_masks(images):
    dm = StyleTransferDataModule(
        pairs=_colour_pairs(images), load_size=40, crop_size=24, eval_size=32, batch_size=2
    )
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == BATCH_KEYS | {"content_mask", "style_mask"}
    assert batch["content_mask"].shape == (2, 24, 24) and batch["content_mask"].dtype == torch.int64
    for key in ("content", "style"):
        for image, mask in zip(batch[key], batch[f"{key}_mask"], strict=True):
            labels = colours_to_labels((image.permute(1, 2, 0) * 255).round().byte().numpy())
            assert (labels == mask).float().mean() > 0.9  # same crop; only blended edges differ
    for c, s in zip(batch["content_path"], batch["style_path"], strict=True):
        assert c.rsplit("/", 1)[-1] == s.rsplit("/", 1)[-1]  # matched pairs
    val = next(iter(dm.val_dataloader()))
    assert val["content_mask"].shape == val["content"].shape[:1] + val["content"].shape[2:]
    assert dm.eval_pairs("val")[0][0].endswith(".png")
