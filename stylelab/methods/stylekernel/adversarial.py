"""pix2pixHD's discriminator feature-matching loss for SK (off by default: ``feature_matching_weight: 0``).

pix2pixHD adds ``lambda_feat sum_i (1 / num_D) sum_j (4 / (n_layers + 1)) L1(D_i^j(fake), D_i^j(real))``
over the intermediate activations ``D_i^j`` (every conv block but the final score conv) of every scale
``i``. SK's paper adopts pix2pixHD's multi-scale discriminator but does not mention this term, so the spec
proposes it off. In SK the "real" image is the style image, which is not spatially aligned with the
stylised output (pix2pixHD compares a fake with its paired real image); the term is offered for
completeness and ablation, not as part of the recipe.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.nn.discriminator import MultiScaleDiscriminator


def _blocks(scale: nn.Module) -> list[nn.Sequential]:
    """Split one PatchGAN's ``net`` into pix2pixHD's blocks: each ends at a LeakyReLU; the score conv last."""
    blocks: list[nn.Sequential] = []
    current: list[nn.Module] = []
    for layer in scale.net:  # type: ignore[attr-defined]
        current.append(layer)
        if isinstance(layer, nn.LeakyReLU):
            blocks.append(nn.Sequential(*current))
            current = []
    if current:
        blocks.append(nn.Sequential(*current))
    return blocks


def discriminator_features(discriminator: MultiScaleDiscriminator, images: Tensor) -> list[list[Tensor]]:
    """Activations of every block of every scale, finest scale first.

    Args:
        discriminator: The multi-scale PatchGAN.
        images: ``(B, 3, H, W)``.

    Returns:
        ``features[i][j]``: scale ``i``, block ``j`` (the last entry of each scale is its score map).
    """
    features: list[list[Tensor]] = []
    x = images
    for index, scale in enumerate(discriminator.scales):
        if index > 0:
            x = discriminator.downsample(x)
        h, per_scale = x, []
        for block in _blocks(scale):
            h = block(h)
            per_scale.append(h)
        features.append(per_scale)
    return features


def feature_matching_loss(discriminator: MultiScaleDiscriminator, fake: Tensor, real: Tensor) -> Tensor:
    """pix2pixHD's feature-matching loss (without ``lambda_feat``): gradients reach ``fake`` only.

    Args:
        discriminator: The multi-scale PatchGAN.
        fake: Generated images ``(B, 3, H, W)``.
        real: Real images of the same shape (SK: the style images of the batch).

    Returns:
        Scalar loss.

    Raises:
        ValueError: If ``fake`` and ``real`` differ in shape.
    """
    if fake.shape != real.shape:
        raise ValueError(
            f"feature matching needs fake and real images of one shape; got {tuple(fake.shape)} and "
            f"{tuple(real.shape)}"
        )
    fake_feats = discriminator_features(discriminator, fake)
    with torch.no_grad():
        real_feats = discriminator_features(discriminator, real)
    num_scales = len(fake_feats)
    total = fake.new_zeros(())
    for per_fake, per_real in zip(fake_feats, real_feats, strict=True):
        layer_weight = 4.0 / (len(per_fake) - 1)  # pix2pixHD: 4 / (n_layers + 1), n_layers + 1 blocks
        for f, r in zip(per_fake[:-1], per_real[:-1], strict=True):
            total = total + layer_weight / num_scales * F.l1_loss(f, r)
    return total
