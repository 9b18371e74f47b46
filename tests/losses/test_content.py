from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from stylelab.losses import centered_sum_content_loss, feature_mse_loss, normalized_content_loss


def _feats(batch: int, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "relu4_1": torch.rand(batch, 6, 5, 4, generator=g, dtype=torch.float64),
        "relu5_1": torch.rand(batch, 8, 3, 2, generator=g, dtype=torch.float64),
    }


def test_feature_mse_equals_torch_mse_per_sample() -> None:
    out, cnt = _feats(2, 0), _feats(2, 1)
    layers = ["relu4_1", "relu5_1"]
    expected = torch.stack(
        [sum(F.mse_loss(out[k][b], cnt[k][b]) for k in layers) for b in range(2)]  # type: ignore[misc]
    )
    torch.testing.assert_close(feature_mse_loss(out, cnt, layers, reduction="none"), expected)


def test_centered_sum_is_a_sum_of_squares_of_centred_difference() -> None:
    out, cnt = _feats(2, 0), _feats(2, 1)
    fo, fc = out["relu4_1"], cnt["relu4_1"]
    d = (fc - fc.mean((2, 3), keepdim=True)) - (fo - fo.mean((2, 3), keepdim=True))
    expected = (d**2).sum((1, 2, 3))
    got = centered_sum_content_loss(out, cnt, ["relu4_1"], reduction="none")
    torch.testing.assert_close(got, expected)
    # Adding a per-channel constant to the output changes nothing (the features are centred).
    shifted = {"relu4_1": fo + torch.arange(6, dtype=fo.dtype).view(1, 6, 1, 1)}
    torch.testing.assert_close(centered_sum_content_loss(shifted, cnt, ["relu4_1"], reduction="none"), got)
    # It is a sum: 4x the positions (tiling both) gives 4x the value.
    tile = {"relu4_1": fo.repeat(1, 1, 2, 2)}, {"relu4_1": fc.repeat(1, 1, 2, 2)}
    torch.testing.assert_close(centered_sum_content_loss(*tile, ["relu4_1"], reduction="none"), 4 * got)


def test_normalized_loss_matches_formula_and_ignores_per_channel_affine_maps() -> None:
    out, cnt = _feats(2, 0), _feats(2, 1)
    layers = ["relu4_1", "relu5_1"]

    def inorm(f: torch.Tensor) -> torch.Tensor:
        flat = f.flatten(2)
        return ((flat - flat.mean(-1, keepdim=True)) / (flat.var(-1, keepdim=True) + 1e-5).sqrt()).view_as(f)

    expected = sum(((inorm(out[k]) - inorm(cnt[k])) ** 2).flatten(1).mean(1) for k in layers)
    torch.testing.assert_close(normalized_content_loss(out, cnt, layers, reduction="none"), expected)
    # With eps=0 a positive per-channel scale+shift of the encoder (normalised vs plain VGG) cancels.
    scale = {k: torch.rand(1, v.shape[1], 1, 1, dtype=v.dtype) + 0.5 for k, v in out.items()}
    rescaled = [{k: v * scale[k] + 3.0 for k, v in f.items()} for f in (out, cnt)]
    torch.testing.assert_close(
        normalized_content_loss(*rescaled, layers, eps=0.0, reduction="none"),
        normalized_content_loss(out, cnt, layers, eps=0.0, reduction="none"),
    )


@pytest.mark.parametrize("loss", [feature_mse_loss, centered_sum_content_loss, normalized_content_loss])
def test_content_losses_are_zero_on_self_and_reject_size_mismatch(loss: Callable[..., torch.Tensor]) -> None:
    out = _feats(2, 0)
    assert torch.all(loss(out, out, ["relu4_1"], reduction="none") == 0)
    smaller = {"relu4_1": out["relu4_1"][..., :3]}
    with pytest.raises(ValueError, match="same size"):
        loss(out, smaller, ["relu4_1"])
