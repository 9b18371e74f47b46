from __future__ import annotations

import pytest
import torch

from stylelab.nn.discriminator import (
    MultiScaleDiscriminator,
    PatchDiscriminator,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    lsgan_loss,
)


def test_patchgan_parameter_count_matches_pix2pix() -> None:
    # pix2pix/pix2pixHD NLayerDiscriminator(input_nc=3, ndf=64, n_layers=3): 2,764,737 parameters.
    assert sum(p.numel() for p in PatchDiscriminator().parameters()) == 2_764_737
    assert sum(p.numel() for p in MultiScaleDiscriminator(3).parameters()) == 3 * 2_764_737


def test_score_map_shapes_and_pyramid() -> None:
    d = MultiScaleDiscriminator(num_scales=2)
    scores = d(torch.rand(2, 3, 128, 96))
    # each 4x4 conv with padding 2: stride 2 maps n -> n // 2 + 1, stride 1 maps n -> n + 1
    assert [tuple(s.shape) for s in scores] == [(2, 1, 19, 15), (2, 1, 11, 9)]
    # pyramid step = 3x3 average pool, stride 2, padding excluded from the count
    x = torch.rand(1, 1, 6, 6)
    down = MultiScaleDiscriminator.downsample(x)
    assert down[0, 0, 0, 0] == pytest.approx(x[0, 0, :2, :2].mean().item(), rel=1e-6)
    assert down[0, 0, 1, 1] == pytest.approx(x[0, 0, 1:4, 1:4].mean().item(), rel=1e-6)


def test_receptive_field_is_70_pixels() -> None:
    d = PatchDiscriminator(norm="none")  # instance norm would couple every position
    x = torch.rand(1, 3, 144, 144, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = (x.grad.abs().sum(dim=(0, 1, 3)) > 0).nonzero().flatten()
    cols = (x.grad.abs().sum(dim=(0, 1, 2)) > 0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70


def test_lsgan_losses_closed_form() -> None:
    real = [torch.full((2, 1, 3, 3), 0.75), torch.full((2, 1, 2, 2), 1.0)]
    fake = [torch.full((2, 1, 3, 3), 0.5), torch.full((2, 1, 2, 2), -1.0)]
    assert lsgan_loss(real, 1.0).item() == pytest.approx(0.0625)
    assert lsgan_discriminator_loss(real, fake).item() == pytest.approx(0.5 * (0.0625 + 0.25 + 1.0))
    assert lsgan_generator_loss(fake).item() == pytest.approx(0.25 + 4.0)
    with pytest.raises(ValueError):
        lsgan_loss([], 1.0)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="num_scales"):
        MultiScaleDiscriminator(num_scales=0)
    with pytest.raises(ValueError, match="norm"):
        PatchDiscriminator(norm="batch")
