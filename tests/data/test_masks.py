from __future__ import annotations

import numpy as np
import pytest
import torch

from stylelab.data import DEFAULT_MASK_PALETTE, UnreadableImageError, colours_to_labels, load_mask


def test_palette_colours_map_to_their_index():
    rgb = np.array([DEFAULT_MASK_PALETTE], dtype=np.uint8)  # (1, 9, 3)
    assert colours_to_labels(rgb).tolist() == [list(range(len(DEFAULT_MASK_PALETTE)))]


def test_noisy_colours_snap_to_nearest():
    rgb = np.array([[(3, 1, 250), (250, 2, 1), (254, 254, 3), (130, 126, 129), (20, 20, 20)]], dtype=np.uint8)
    assert colours_to_labels(rgb).tolist() == [[4, 2, 5, 8, 0]]


def test_brute_force_reference_and_tie_rule():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    palette = [(10, 10, 10), (200, 50, 50), (10, 10, 10), (0, 0, 250)]  # index 2 duplicates 0: never wins
    labels = colours_to_labels(rgb, palette).numpy()
    table = np.array(palette)
    distance = ((rgb[:, :, None, :].astype(int) - table[None, None]) ** 2).sum(-1)
    assert np.array_equal(labels, distance.argmin(-1))
    assert 2 not in labels


def test_load_mask_rgb_and_gray_agree(images):
    mask = np.zeros((6, 8), np.uint8)
    mask[:, 4:] = 255
    gray = load_mask(images.array("g.png", mask))
    rgb = load_mask(images.array("c.png", np.repeat(mask[..., None], 3, axis=2)))
    assert gray.dtype == torch.int64 and gray.shape == (6, 8)
    assert torch.equal(gray, rgb)
    assert gray[:, :4].eq(0).all() and gray[:, 4:].eq(1).all()


def test_same_colour_same_label_across_masks(images):
    content = np.zeros((4, 4, 3), np.uint8)
    content[:2] = (0, 0, 255)
    style = np.zeros((4, 4, 3), np.uint8)
    style[:, :2] = (255, 0, 0)
    style[:, 2:] = (0, 0, 255)
    a = load_mask(images.array("a.png", content))
    b = load_mask(images.array("b.png", style))
    assert a[0, 0] == b[0, 3] == 4


def test_rgba_and_16bit_masks(images):
    rgba = np.zeros((3, 3, 4), np.uint8)
    rgba[..., 1] = 255  # green, alpha 0: alpha is ignored for masks
    assert load_mask(images.array("m.png", rgba)).eq(3).all()
    values = np.array([[0, 65535, 32896]], dtype=np.uint16)
    assert load_mask(images.png16("m16.png", values)).tolist() == [[0, 1, 8]]


def test_unreadable_mask(images):
    with pytest.raises(UnreadableImageError):
        load_mask(images.text("m.png"))
