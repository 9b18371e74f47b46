from __future__ import annotations

import pytest
import torch

from stylelab.methods.pcakd import PCAKDNet
from stylelab.methods.pcakd.eigenbases import centre
from stylelab.methods.pcakd.transfer import ZCAConfig, transfer
from stylelab.ops import covariance, zca_transform


@pytest.fixture(scope="module")
def net() -> PCAKDNet:
    torch.manual_seed(0)
    return PCAKDNet("vgg", teacher_weights=None).eval()


def test_zca_config_is_chius_variant() -> None:
    c, s = torch.rand(1, 6, 8, 8), torch.rand(1, 6, 5, 7)
    expected = zca_transform(c, s, regularizer=1.0, reg_on="both", normalizer="N", eig_threshold=1e-5)
    torch.testing.assert_close(ZCAConfig().apply(c, s), expected)
    # closed form: (Cs + I)^(1/2) (Cc + I)^(-1/2) Fc_bar + mu_s with biased covariances
    fc, fs = c.flatten(2).double(), s.flatten(2).double()
    cc, cs = covariance(c, unbiased=False).double()[0], covariance(s, unbiased=False).double()[0]

    def power(m: torch.Tensor, p: float) -> torch.Tensor:
        values, vectors = torch.linalg.eigh(m + torch.eye(6, dtype=m.dtype))
        return vectors @ torch.diag(values**p) @ vectors.T

    manual = power(cs, 0.5) @ power(cc, -0.5) @ (fc[0] - fc[0].mean(1, keepdim=True)) + fs[0].mean(
        1, keepdim=True
    )
    torch.testing.assert_close(ZCAConfig().apply(c, s).double()[0].flatten(1), manual, atol=1e-5, rtol=1e-5)


def test_stylizing_with_itself_at_relu4_1e_reconstructs(net: PCAKDNet) -> None:
    # content == style: equal covariances, so the relu4_1e ZCA is the identity (even with +I); the finer
    # transforms compare *decoded* content features with *encoded* style ones and act unless dec == enc^-1
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        alone = net.stylize(x, x, transform_levels=(4,))
        torch.testing.assert_close(alone, net.autoencoder.reconstruct(x), atol=1e-4, rtol=1e-4)


def test_style_changes_output_at_every_level(net: PCAKDNet) -> None:
    x, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 24) * 0.5
    with torch.no_grad():
        full = net.stylize(x, s)
        coarse_only = net.stylize(x, s, transform_levels=(4,))
        nothing = net.stylize(x, s, transform_levels=())
    torch.testing.assert_close(nothing, net.autoencoder.reconstruct(x))
    assert not torch.allclose(full, coarse_only) and not torch.allclose(coarse_only, nothing)


def test_masked_transfer_uses_matching_regions() -> None:
    g = torch.Generator().manual_seed(0)
    content = torch.rand(1, 4, 8, 8, generator=g)
    style = torch.cat([torch.rand(1, 4, 8, 4, generator=g), 5 + torch.rand(1, 4, 8, 4, generator=g)], dim=-1)
    content_mask = torch.zeros(1, 16, 16, dtype=torch.long)
    content_mask[:, 8:] = 1  # bottom half of the content = label 1
    style_mask = torch.zeros(1, 8, 8, dtype=torch.long)
    style_mask[..., 4:] = 1  # right half of the style = label 1
    out = transfer(content, style, ZCAConfig(), content_mask, style_mask)
    # ZCA gives each content region exactly the mean of its style region
    torch.testing.assert_close(
        out[..., 4:, :].mean((-1, -2)), style[..., 4:].mean((-1, -2)), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(
        out[..., :4, :].mean((-1, -2)), style[..., :4].mean((-1, -2)), atol=1e-5, rtol=0
    )
    # a single label everywhere is the unmasked transform; a label missing in the style uses the whole style
    ones = torch.ones(1, 8, 8, dtype=torch.long)
    torch.testing.assert_close(
        transfer(content, style, ZCAConfig(), ones, ones), ZCAConfig().apply(content, style)
    )
    absent = transfer(content, style, ZCAConfig(), 2 * ones, ones)
    torch.testing.assert_close(absent, ZCAConfig().apply(content, style))
    with pytest.raises(ValueError, match="both"):
        transfer(content, style, ZCAConfig(), ones, None)


def test_block_losses_per_stage(net: PCAKDNet) -> None:
    x = torch.rand(2, 3, 32, 32)
    assert set(net.block_losses(x, 1)) == {"distill", "image"}
    assert set(net.block_losses(x, 3)) == {"distill", "feature", "image", "perceptual"}
    teacher_pipeline = PCAKDNet("vgg_teacher", teacher_weights=None)
    assert set(teacher_pipeline.block_losses(x, 2)) == {"feature", "image", "perceptual"}
    terms = net.eigenbasis_losses(x)
    assert set(terms) == {f"{k}{n}" for k in ("pca_rec", "orth") for n in range(1, 5)}


def test_block_loss_gradients_reach_only_blocks_up_to_n(net: PCAKDNet) -> None:
    x = torch.rand(2, 3, 32, 32)
    net.zero_grad()
    terms = net.block_losses(x, 2)
    torch.stack(list(terms.values())).sum().backward()
    ae = net.autoencoder
    assert all(p.grad is None for p in ae.encoder.block_parameters(1))  # earlier encoder: no_grad
    assert all(p.grad is None for n in (3, 4) for p in ae.block_parameters(n))  # later blocks unused
    assert all(p.grad is not None for p in ae.block_parameters(2))
    assert all(p.grad is None for p in ae.eigenbases.parameters())  # distillation never moves W
    net.zero_grad()


def test_distillation_target_is_the_projected_teacher_feature(net: PCAKDNet) -> None:
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        teacher = net.teacher().features(x, 1)[0]
        student = net.autoencoder.encoder.forward_block(1, x)[0]
        basis = net.autoencoder.eigenbases[1]
        expected = ((basis @ centre(student) - centre(teacher)) ** 2).mean()
        torch.testing.assert_close(net.block_losses(x, 1)["distill"], expected)


def test_local_eigenbases_ablation_runs() -> None:
    local = PCAKDNet("vgg", eigenbasis="local", teacher_weights=None)
    assert torch.isfinite(local.block_losses(torch.rand(2, 3, 32, 32), 2)["distill"])
    with pytest.raises(ValueError, match="global"):
        PCAKDNet("vgg", eigenbasis="pca")  # type: ignore[arg-type]
