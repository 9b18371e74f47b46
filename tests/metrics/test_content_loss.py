from __future__ import annotations

import pytest
import torch

from stylelab.losses import centered_sum_content_loss, normalized_content_loss
from stylelab.metrics import ContentLoss, content_loss

from ._helpers import TinyEncoder, random_images


@pytest.fixture(scope="module")
def encoder() -> TinyEncoder:
    return TinyEncoder(seed=2)


@pytest.mark.parametrize("variant", ["mse", "centered_sum", "normalized"])
def test_metric_mean_over_batches_equals_functional_on_everything(variant: str, encoder: TinyEncoder) -> None:
    out, cnt = random_images(5, seed=1), random_images(5, seed=2)
    metric = ContentLoss(variant, encoder=encoder)  # type: ignore[arg-type]
    metric.update(out[:2], cnt[:2])
    metric.update(out[2:], cnt[2:])
    expected = content_loss(out, cnt, variant, encoder=encoder)  # type: ignore[arg-type]
    torch.testing.assert_close(metric.compute().float(), expected, rtol=1e-6, atol=0)
    assert content_loss(out, out, variant, encoder=encoder).item() == 0  # type: ignore[arg-type]


def test_defaults_follow_the_papers(encoder: TinyEncoder) -> None:
    out, cnt = random_images(2, seed=3), random_images(2, seed=4)
    f_out, f_cnt = encoder(out, ["relu4_1", "relu5_1"]), encoder(cnt, ["relu4_1", "relu5_1"])
    torch.testing.assert_close(
        content_loss(out, cnt, "centered_sum", encoder=encoder),
        centered_sum_content_loss(f_out, f_cnt, ["relu4_1"]),
    )
    torch.testing.assert_close(
        content_loss(out, cnt, "normalized", encoder=encoder),
        normalized_content_loss(f_out, f_cnt, ["relu4_1", "relu5_1"]),
    )


def test_variant_strings(encoder: TinyEncoder) -> None:
    assert ContentLoss("mse", encoder=encoder).variant == (
        "content loss: feature MSE, layers relu4_1, tiny random encoder"
    )
    assert ContentLoss("centered_sum").variant == (
        "content loss: centred features, sum of squares, layers relu4_1, Caffe VGG-19 q8"
    )
    assert ContentLoss("normalized", encoder=encoder).variant == (
        "content loss: MSE of instance-normalised features (unbiased var + 1e-05), layers relu4_1+relu5_1, "
        "tiny random encoder"
    )


def test_size_mismatch_is_rejected(encoder: TinyEncoder) -> None:
    with pytest.raises(ValueError, match="same shape"):
        ContentLoss(encoder=encoder).update(random_images(1), random_images(1, size=48))
