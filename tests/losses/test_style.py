from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from stylelab.losses import covariance_style_loss, gram_style_loss, mean_std_style_loss

LAYERS = ["a", "b"]


def _feats(batch: int, seed: int, size: tuple[int, int] = (6, 5)) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "a": torch.rand(batch, 4, *size, generator=g, dtype=torch.float64),
        "b": torch.rand(batch, 7, size[0] // 2, size[1] // 2 + 1, generator=g, dtype=torch.float64),
    }


def test_gram_loss_is_mse_of_per_sample_grams_summed_over_layers() -> None:
    out, sty = _feats(3, 0), _feats(3, 1)
    expected = torch.zeros(3, dtype=torch.float64)
    for layer in LAYERS:
        for b in range(3):
            fo, fs = out[layer][b].flatten(1).numpy(), sty[layer][b].flatten(1).numpy()
            c, n = fo.shape
            go, gs = fo @ fo.T / (c * n), fs @ fs.T / (c * n)
            expected[b] += float(((go - gs) ** 2).mean())
    got = gram_style_loss(out, sty, LAYERS, reduction="none")
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(gram_style_loss(out, sty, LAYERS), expected.mean())
    torch.testing.assert_close(gram_style_loss(out, sty, LAYERS, reduction="sum"), expected.sum())


def test_gram_normalisations_scale_as_documented() -> None:
    out, sty = _feats(2, 0), _feats(2, 1)
    c, n = out["a"].shape[1], out["a"][0, 0].numel()
    cn = gram_style_loss(out, sty, ["a"], normalize="CN", reduction="none")
    raw = gram_style_loss(out, sty, ["a"], normalize="none", reduction="none")
    per_n = gram_style_loss(out, sty, ["a"], normalize="N", reduction="none")
    torch.testing.assert_close(raw, cn * (c * n) ** 2)
    torch.testing.assert_close(per_n, cn * c**2)


def test_covariance_loss_is_squared_frobenius_of_biased_covariances() -> None:
    out, sty = _feats(2, 0), _feats(2, 1)
    expected = np.zeros(2)
    for layer in LAYERS:
        for b in range(2):
            co = np.cov(out[layer][b].flatten(1).numpy(), bias=True)
            cs = np.cov(sty[layer][b].flatten(1).numpy(), bias=True)
            expected[b] += ((cs - co) ** 2).sum()
    got = covariance_style_loss(out, sty, LAYERS, reduction="none")
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    unbiased = covariance_style_loss(out, sty, ["a"], unbiased=True, reduction="none")
    biased = covariance_style_loss(out, sty, ["a"], reduction="none")
    n = out["a"][0, 0].numel()
    torch.testing.assert_close(unbiased, biased * (n / (n - 1)) ** 2)


def test_mean_std_loss_matches_explicit_formula() -> None:
    out, sty = _feats(2, 0), _feats(2, 1)
    eps = 1e-5
    expected = torch.zeros(2, dtype=torch.float64)
    for layer in LAYERS:
        fo, fs = out[layer].flatten(2), sty[layer].flatten(2)
        mu_o, mu_s = fo.mean(-1), fs.mean(-1)
        sd_o, sd_s = (fo.var(-1, unbiased=True) + eps).sqrt(), (fs.var(-1, unbiased=True) + eps).sqrt()
        expected += ((mu_o - mu_s) ** 2).mean(1) + ((sd_o - sd_s) ** 2).mean(1)
    torch.testing.assert_close(mean_std_style_loss(out, sty, LAYERS, reduction="none"), expected)


@pytest.mark.parametrize(
    "loss",
    [
        lambda o, s: gram_style_loss(o, s, LAYERS, reduction="none"),
        lambda o, s: covariance_style_loss(o, s, LAYERS, reduction="none"),
        lambda o, s: mean_std_style_loss(o, s, LAYERS, unbiased=False, reduction="none"),
    ],
    ids=["gram", "covariance", "mean_std"],
)
def test_zero_on_self_size_invariant_and_one_style_broadcast(loss: Callable[..., torch.Tensor]) -> None:
    out, sty = _feats(3, 0), _feats(1, 1)
    assert torch.all(loss(out, out) == 0)
    # Tiling the style features 2x2 leaves Gram (C*N), covariance (/N) and biased mean/std unchanged.
    tiled = {k: v.repeat(1, 1, 2, 2) for k, v in sty.items()}
    torch.testing.assert_close(loss(out, tiled), loss(out, sty))
    # A batch-1 style is compared with every output sample.
    repeated = {k: v.expand(3, -1, -1, -1) for k, v in sty.items()}
    torch.testing.assert_close(loss(out, sty), loss(out, repeated))
    assert torch.all(loss(out, sty) > 0)


def test_style_loss_is_differentiable() -> None:
    out, sty = _feats(1, 0, size=(3, 3)), _feats(1, 1, size=(3, 3))
    a = out["a"].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda x: mean_std_style_loss({"a": x}, sty, ["a"]) + gram_style_loss({"a": x}, sty, ["a"]), (a,)
    )


def test_style_loss_errors_name_the_problem() -> None:
    out, sty = _feats(2, 0), _feats(2, 1)
    with pytest.raises(ValueError, match="missing"):
        gram_style_loss(out, {"a": sty["a"]}, LAYERS)
    with pytest.raises(ValueError, match="not the string"):
        gram_style_loss(out, sty, "a")
    with pytest.raises(ValueError, match="batch"):
        gram_style_loss(out, _feats(3, 1), LAYERS)
    with pytest.raises(ValueError, match="reduction"):
        gram_style_loss(out, sty, LAYERS, reduction="avg")  # type: ignore[arg-type]
