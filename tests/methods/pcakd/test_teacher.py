from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.backbones import VGGEncoder
from stylelab.methods.pcakd.teacher import VGG_TAPS, TeacherBlockEncoder, VGGTeacher, load_vgg_scales


def test_scales_ship_with_the_package() -> None:
    scales = load_vgg_scales()
    assert [scales[t].numel() for t in VGG_TAPS] == [64, 128, 256, 512]
    assert all(bool((scales[t] > 0).all()) for t in VGG_TAPS)


def test_blockwise_forward_equals_full_forward() -> None:
    teacher = VGGTeacher(weights=None)
    x = torch.rand(1, 3, 32, 32)
    full = teacher(x)
    h = x
    for n in range(1, 5):
        h = teacher.forward_block(n, h)
        torch.testing.assert_close(h, full[n - 1])
    feats, skips = TeacherBlockEncoder(teacher)(x)
    torch.testing.assert_close(feats[3], full[3])
    assert [s.shape[1] for s in skips] == [3, 64, 128, 256]


@pytest.mark.shared_data
def test_normalised_teacher_matches_exact_vgg_normalised(shared_weights: Path) -> None:
    # relu1_1..relu3_1: Caffe q8 x factors must equal the exact vgg_normalised encoder (up to q8 noise)
    teacher = VGGTeacher(weights="vgg19_caffe_q8")
    exact = VGGEncoder(
        "vgg19",
        weights="vgg19_normalised_r31",
        last_tap="relu3_1",
        padding="reflect",
        weights_path=str(shared_weights / "vgg_normalised_r31_linearstyletransfer.pth"),
    )
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 8, generator=g), size=(48, 48), mode="bilinear")
    ours = teacher.features(x, 3)
    reference = exact(x, VGG_TAPS[:3])
    for k, tap in enumerate(VGG_TAPS[:3]):
        error = (ours[k] - reference[tap]).norm() / reference[tap].norm()
        assert error < 0.03, (tap, float(error))
