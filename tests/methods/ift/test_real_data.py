"""IFT on real weights and photos from the shared data folder (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from stylelab.data import load_image
from stylelab.data.masks import load_mask
from stylelab.methods.ift import DEFAULT_PRESET, LEVELS, IFTNet, resolve_levels
from stylelab.ops.ift import ift_transform, match_labels, resize_labels


def _image(path: Path, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(
        load_image(path)[None], size=size, mode="bilinear", antialias=True, align_corners=False
    )


@pytest.fixture(scope="module")
def real_net(shared_weights: Path, shared_images: Path) -> IFTNet:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLELAB_WEIGHTS", str(shared_weights))
        net = IFTNet("vgg19_caffe_q8")
    # channel scales = mean activations over the 21 shared photos (fewer photos give noisy scales)
    photos = sorted((shared_images / "content").iterdir())
    with torch.no_grad():
        net.calibrate(_image(p, (128, 128)) for p in photos)
    return net


def test_each_default_fixed_step_lowers_the_objective_on_real_features(
    real_net: IFTNet, shared_images: Path
) -> None:
    """Default preset (lambda, n_upd, step 0.01) at every level, 512x512 photo and painting."""
    content = _image(shared_images / "content" / "newyork.jpg", (512, 512))
    style = _image(shared_images / "style" / "starry_night_crop.jpg", (512, 512))
    with torch.no_grad():
        fc, fs = real_net.encode(content)[0], real_net.encode(style)[0]
    table = resolve_levels(DEFAULT_PRESET)
    for level in LEVELS:
        scale = real_net.level_scale(level, fc[level]).view(1, -1, 1, 1)
        x, y = fc[level] / scale, fs[level] / scale  # float32, as the model runs it
        trace: list[torch.Tensor] = []
        ift_transform(x, y, lam=table[level].lam, step=0.01, n_upd=table[level].n_upd, trace=trace)
        values = torch.stack(trace)[:, 0]
        assert len(values) == table[level].n_upd + 1
        assert (values[1:] < values[:-1]).all(), f"{level}: objective not lowered at every update: {values}"
        assert values[-1] < 0.5 * values[0]


def test_masked_transform_on_a_photorealistic_pair(real_net: IFTNet, shared_images: Path) -> None:
    pairs = shared_images / "photoreal_pairs"
    size_c, size_s = (224, 336), (192, 336)
    content = _image(pairs / "content" / "dpst_01.jpg", size_c)
    style = _image(pairs / "style" / "dpst_01.jpg", size_s)
    c_mask = resize_labels(load_mask(pairs / "content_seg" / "dpst_01.png"), size_c)
    s_mask = resize_labels(load_mask(pairs / "style_seg" / "dpst_01.png"), size_s)
    labels = match_labels(c_mask, s_mask)
    assert labels and set(labels) <= set(torch.unique(c_mask).tolist())
    with torch.no_grad():
        fc, fs = real_net.encode(content)[0]["relu3_1"], real_net.encode(style)[0]["relu3_1"]
    scale = real_net.level_scale("relu3_1", fc).view(1, -1, 1, 1)
    x, y = fc / scale, fs / scale  # channel-scale (vgg_normalised) units
    out = ift_transform(
        x, y, lam=250.0, n_upd=15, content_labels=c_mask, style_labels=s_mask, labels=[[labels]]
    )
    assert torch.isfinite(out).all()
    cl = resize_labels(c_mask, tuple(x.shape[-2:])).flatten()
    sl = resize_labels(s_mask, tuple(y.shape[-2:])).flatten()
    for label in labels:
        if (cl == label).sum() == 0 or (sl == label).sum() == 0:
            continue

        def gram(f: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
            g = f[0].flatten(1)[:, where]
            return g @ g.T / g.shape[1]

        target = gram(y, sl == label)
        before = (gram(x, cl == label) - target).norm()
        after = (gram(out, cl == label) - target).norm()
        assert after < 0.7 * before, f"label {label}: region Gram distance {before:.4g} -> {after:.4g}"
