"""pix2pixHD feature matching (an SK option, off by default) against the shared discriminator."""

from __future__ import annotations

from functools import partial

import pytest
import torch
import torch.nn.functional as F

from stylelab.methods.stylekernel import StyleKernelNet
from stylelab.methods.stylekernel.adversarial import discriminator_features, feature_matching_loss
from stylelab.methods.stylekernel.objective import ObjectiveConfig, generator_objective
from stylelab.nn.discriminator import MultiScaleDiscriminator


@pytest.fixture(scope="module")
def disc() -> MultiScaleDiscriminator:
    torch.manual_seed(0)
    return MultiScaleDiscriminator(2, base_width=4, n_layers=3)


def test_features_end_with_the_score_maps(disc: MultiScaleDiscriminator) -> None:
    x = torch.rand(2, 3, 32, 32)
    features = discriminator_features(disc, x)
    assert [len(f) for f in features] == [5, 5]  # n_layers + 1 LeakyReLU blocks and the score conv
    for per_scale, scores in zip(features, disc(x), strict=True):
        torch.testing.assert_close(per_scale[-1], scores)
    assert [f.shape[1] for f in features[0]] == [4, 8, 16, 32, 1]


def test_feature_matching_closed_form_and_gradient(disc: MultiScaleDiscriminator) -> None:
    fake = torch.rand(2, 3, 32, 32, requires_grad=True)
    real = torch.rand(2, 3, 32, 32)
    assert feature_matching_loss(disc, real, real) == 0
    loss = feature_matching_loss(disc, fake, real)
    ff, fr = discriminator_features(disc, fake), discriminator_features(disc, real)
    pairs = [pair for i in range(2) for pair in zip(ff[i][:-1], fr[i][:-1], strict=True)]
    expected = sum(4 / 4 / 2 * F.l1_loss(a, b) for a, b in pairs)  # 4 / (n_layers + 1) / num_scales
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="one shape"):
        feature_matching_loss(disc, fake, real[:, :, :16])


def test_objective_adds_weighted_feature_matching(disc: MultiScaleDiscriminator) -> None:
    net = StyleKernelNet(encoder_weights=None)
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    config, off_config = ObjectiveConfig(), ObjectiveConfig()
    config.weights.remd = off_config.weights.remd = 0.0  # REMD samples positions at random
    config.weights.feature_matching = 10.0
    matching = partial(feature_matching_loss, disc)
    step = generator_objective(net, content, style, config, disc, feature_matching=matching)
    expected = feature_matching_loss(disc, step.output, style)
    torch.testing.assert_close(step.terms["feature_matching"], expected)
    off = generator_objective(net, content, style, off_config, disc, feature_matching=matching)  # weight 0
    assert "feature_matching" not in off.terms
    torch.testing.assert_close(step.total, off.total + 10.0 * step.terms["feature_matching"])
