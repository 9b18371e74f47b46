from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.data import (
    EvalTransform,
    TrainTransform,
    center_crop,
    crop_to_multiple,
    resize_mask,
    resize_shorter,
)
from stylelab.data.transforms import resize, round_down_to_multiple, shorter_side_size


@pytest.mark.parametrize("size", [(16, 24), (150, 225)])
def test_resize_matches_pillow_bilinear(size):
    image = torch.from_numpy(np.random.default_rng(0).random((3, 64, 96), dtype=np.float32))
    ours = resize(image, size).numpy()
    reference = np.stack(
        [np.asarray(Image.fromarray(c, mode="F").resize(size[::-1], Image.BILINEAR)) for c in image.numpy()]
    )
    assert np.abs(ours - reference).max() < 1e-4  # antialiased downscale and upscale, as Pillow


@pytest.mark.parametrize("size", [(10, 14), (74, 106), (50, 20)])
def test_resize_mask_matches_pillow_nearest(size):
    mask = np.random.default_rng(1).integers(0, 9, (37, 53)).astype(np.int32)
    ours = resize_mask(torch.from_numpy(mask).long(), size)
    reference = np.asarray(Image.fromarray(mask, mode="I").resize(size[::-1], Image.NEAREST))
    assert ours.dtype == torch.int64 and np.array_equal(ours.numpy(), reference)


def test_resize_shorter_keeps_aspect():
    assert shorter_side_size(300, 451, 256) == (256, 385)
    assert shorter_side_size(451, 300, 256) == (385, 256)
    assert resize_shorter(torch.rand(3, 4, 4), 512).shape == (3, 512, 512)


def test_round_down_and_crop_to_multiple():
    assert [round_down_to_multiple(n, 8) for n in (3, 8, 15, 16, 17)] == [8, 8, 8, 16, 16]
    x = torch.arange(20 * 30).reshape(20, 30)
    y = crop_to_multiple(x, 8)
    assert y.shape == (16, 24) and y[0, 0] == x[2, 3]
    assert center_crop(x, 10).shape == (10, 10)


@pytest.mark.parametrize("shape", [(4, 4), (37, 53), (300, 451), (700, 393)])
@pytest.mark.parametrize("size", [None, 64, 256])
@pytest.mark.parametrize("k", [1, 8, 16])
def test_eval_transform_gives_multiples(shape, size, k):
    image = torch.rand(3, *shape)
    mask = torch.randint(0, 5, shape)
    out, out_mask = EvalTransform(size, k)(image, mask)
    h, w = out.shape[-2:]
    assert h % k == 0 and w % k == 0 and out_mask.shape == (h, w)
    target = max(size or min(shape), k)
    assert target - k < min(h, w) <= target
    assert out.min() >= 0 and out.max() <= 1


def test_train_transform_size_and_determinism():
    t = TrainTransform(load_size=64, crop_size=32)
    image = torch.rand(3, 50, 80)
    a, _ = t(image, generator=torch.Generator().manual_seed(3))
    b, _ = t(image, generator=torch.Generator().manual_seed(3))
    assert a.shape == (3, 32, 32) and torch.equal(a, b)
    tiny, _ = TrainTransform(load_size=None, crop_size=16)(torch.rand(3, 4, 4))
    assert tiny.shape == (3, 16, 16)
    with pytest.raises(ValueError, match="load_size"):
        TrainTransform(load_size=128, crop_size=256)


def test_train_transform_crops_mask_with_image():
    labels = torch.arange(40 * 60).reshape(40, 60)
    image = (labels.float() / labels.numel()).expand(3, 40, 60)
    for seed in range(5):
        out, out_mask = TrainTransform(load_size=None, crop_size=24, hflip=True)(
            image, labels, torch.Generator().manual_seed(seed)
        )
        assert torch.equal(out[0], out_mask.float() / labels.numel())


def test_train_transform_resized_mask_follows_image():
    mask = torch.zeros(60, 90, dtype=torch.long)
    mask[:, 45:] = 1
    image = mask.float().expand(3, 60, 90)
    out, out_mask = TrainTransform(load_size=128, crop_size=96)(image, mask, torch.Generator().manual_seed(0))
    assert set(out_mask.unique().tolist()) <= {0, 1}
    assert (out[0].round().long() == out_mask).float().mean() > 0.97
