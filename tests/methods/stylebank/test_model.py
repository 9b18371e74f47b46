"""StyleBank network: architecture (paper §3.2), per-style banks, padding to any size."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stylelab.methods.base import METHODS
from stylelab.methods.stylebank import StyleBank
from stylelab.methods.stylebank.model import StyleBankDecoder, StyleBankEncoder, StyleBankLayer, StyleBankNet


def conv_params(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k + cout


def expected_counts(c: int, k: int) -> tuple[int, int, int]:
    w1, w2, w3 = c // 4, c // 2, c
    norms = 2 * (w1 + w2 + w3)  # affine instance norm: scale and shift per channel
    encoder = conv_params(3, w1, 9) + conv_params(w1, w2, 3) + conv_params(w2, w3, 3) + norms
    decoder = conv_params(w3, w2, 3) + conv_params(w2, w1, 3) + conv_params(w1, 3, 9) + 2 * (w2 + w1)
    return encoder, conv_params(c, c, k), decoder


@pytest.mark.parametrize(("c_max", "kernel"), [(128, 3), (128, 7), (64, 3), (32, 3)])
def test_parameter_counts_follow_the_paper_layout(c_max: int, kernel: int) -> None:
    net = StyleBankNet(num_styles=5, c_max=c_max, kernel_size=kernel)
    encoder, bank, decoder = expected_counts(c_max, kernel)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(net.encoder) == encoder
    assert count(net.decoder) == decoder
    assert count(net.bank) == 5 * bank
    if (c_max, kernel) == (128, 3):  # hand-computed once: E 100,608, one bank 147,584, D 100,227
        assert (encoder, bank, decoder) == (100_608, 147_584, 100_227)


def test_layer_types_and_shapes() -> None:
    encoder = StyleBankEncoder(32)
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs] == [
        ((9, 9), (1, 1)),
        ((3, 3), (2, 2)),
        ((3, 3), (2, 2)),
    ]
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in encoder.modules()) == 3
    decoder = StyleBankDecoder(32, upsample="transposed")
    ups = [m for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(ups) == 2 and all(u.stride == (2, 2) for u in ups)
    last = list(decoder.net)[-1]
    assert isinstance(last, nn.Conv2d) and last.kernel_size == (9, 9)  # no norm/ReLU after the output conv
    nearest = StyleBankDecoder(32, upsample="nearest")
    assert sum(isinstance(m, nn.Upsample) for m in nearest.modules()) == 2
    for upsample in ("transposed", "nearest"):
        net = StyleBankNet(2, c_max=32, upsample=upsample)
        x = torch.rand(2, 3, 20, 28)
        assert net.encoder(x).shape == (2, 32, 5, 7)
        assert net(x, 1).shape == x.shape and net.reconstruct(x).shape == x.shape
    with pytest.raises(ValueError, match="multiple of 4"):
        StyleBankNet(1, c_max=30)
    with pytest.raises(ValueError, match="odd"):
        StyleBankLayer(1, 8, kernel_size=4)


@pytest.mark.parametrize("kernel", [3, 7])
def test_per_sample_banks_equal_separate_convolutions(kernel: int) -> None:
    layer = StyleBankLayer(4, 8, kernel_size=kernel)
    feature = torch.randn(3, 8, 6, 9)
    index = torch.tensor([2, 0, 2])
    out = layer(feature, index)
    p = kernel // 2
    for b, i in enumerate(index.tolist()):
        bank = layer.banks[i]
        expected = F.conv2d(F.pad(feature[b : b + 1], (p, p, p, p), mode="reflect"), bank.weight, bank.bias)
        torch.testing.assert_close(out[b : b + 1], expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(IndexError, match="out of range"):
        layer(feature, torch.tensor([0, 1, 4]))


def test_bank_gets_gradient_only_when_its_style_is_sampled() -> None:
    net = StyleBankNet(4, c_max=16)
    out = net(torch.rand(2, 3, 16, 16), torch.tensor([3, 1]))
    out.square().mean().backward()
    grads = [bank.weight.grad for bank in net.bank.banks]
    assert grads[0] is None and grads[2] is None
    assert grads[1] is not None and grads[3] is not None and grads[1].abs().sum() > 0
    assert all(p.grad is not None for p in net.autoencoder_parameters())


def test_resize_keeps_existing_banks() -> None:
    layer = StyleBankLayer(2, 8)
    first = layer.banks[0].weight.detach().clone()
    layer.resize(4)
    assert layer.num_styles == 4 and torch.equal(layer.banks[0].weight, first)
    layer.resize(1)
    assert layer.num_styles == 1 and torch.equal(layer.banks[0].weight, first)


def test_pad_to_multiple_round_trip() -> None:
    x = torch.rand(1, 3, 13, 22)
    padded, (h, w) = StyleBankNet.pad_to_multiple(x)
    assert padded.shape[-2:] == (16, 24) and (h, w) == (13, 22)
    assert torch.equal(padded[..., :h, :w], x)


def test_registered_by_short_name() -> None:
    assert METHODS["stylebank"] is StyleBank
