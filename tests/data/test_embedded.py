from __future__ import annotations

import itertools

import numpy as np
import pytest
import skimage.data
import torch

from stylelab.data import SKIMAGE_PHOTOS, GeneratedTextures, SkimagePhotos
from stylelab.data.textures import TEXTURES, generate_texture

SKIMAGE_FUNCTIONS = {
    "astronaut": skimage.data.astronaut,
    "chelsea": skimage.data.chelsea,
    "coffee": skimage.data.coffee,
    "rocket": skimage.data.rocket,
    "motorcycle": lambda: skimage.data.stereo_motorcycle()[0],
    "hubble_deep_field": skimage.data.hubble_deep_field,
    "immunohistochemistry": skimage.data.immunohistochemistry,
    "retina": skimage.data.retina,
}


def test_skimage_photos_load_offline_and_match_skimage():
    source = SkimagePhotos()
    assert len(source) == len(SKIMAGE_PHOTOS) and source.keys() == list(SKIMAGE_PHOTOS)
    for index, name in enumerate(source.keys()):
        image = source.load(index)
        reference = torch.from_numpy(np.array(SKIMAGE_FUNCTIONS[name]())).permute(2, 0, 1).float() / 255
        assert image.shape == reference.shape and torch.equal(image, reference), name


def test_skimage_photos_subset_and_errors():
    assert SkimagePhotos(["coffee"]).load(0).shape == (3, 400, 600)
    with pytest.raises(ValueError, match="unknown"):
        SkimagePhotos(["lena"])


def test_generated_textures_deterministic_and_in_range():
    a, b = GeneratedTextures(count=8, size=64), GeneratedTextures(count=8, size=64)
    for i in range(8):
        x = a.load(i)
        assert x.shape == (3, 64, 64) and x.dtype == torch.float32
        assert 0 <= x.min() and x.max() <= 1
        assert torch.equal(x, b.load(i))
    assert not torch.equal(GeneratedTextures(size=64, seed=1).load(0), a.load(0))
    assert len({p for p in a.paths()}) == 8 and a.keys()[0] == "stripes_00"


def test_generated_textures_are_distinct_and_not_flat():
    textures = [torch.from_numpy(generate_texture(kind, 64, [0, i])) for i, kind in enumerate(TEXTURES)]
    for x in textures:
        assert x.std() > 0.08  # visible structure
    for x, y in itertools.combinations(textures, 2):
        assert (x - y).abs().mean() > 0.08


def test_generated_textures_cycle_kinds():
    source = GeneratedTextures(count=10, size=32)
    assert source.kind(8) == source.kind(0) == "stripes"
    assert not torch.equal(source.load(8), source.load(0))
    with pytest.raises(IndexError):
        source.load(10)
