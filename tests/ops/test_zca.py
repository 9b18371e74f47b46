import pytest
import torch

from stylelab.ops import color, covariance, whiten, zca_transform

D = torch.float64


def _correlated(b: int, c: int, h: int, w: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    mix = torch.randn(c, c, dtype=D)
    x = torch.randn(b, c, h, w, dtype=D)
    return scale * torch.einsum("ij,bjhw->bihw", mix, x) + shift


@pytest.mark.parametrize("normalizer", ["N-1", "N"])
def test_whitened_covariance_is_identity(normalizer: str) -> None:
    x = _correlated(2, 4, 5, 6, scale=3.0, shift=2.0)
    w = whiten(x, normalizer=normalizer)
    assert w.shape == x.shape
    torch.testing.assert_close(
        covariance(w, unbiased=normalizer == "N-1"), torch.eye(4, dtype=D).expand(2, 4, 4)
    )
    torch.testing.assert_close(w.mean(dim=(2, 3)), torch.zeros(2, 4, dtype=D))


def test_rank_deficient_whitening_gives_projector() -> None:
    x = _correlated(1, 6, 2, 2)  # N = 4 positions, rank <= 3 after centring
    p = covariance(whiten(x), unbiased=True)[0]
    torch.testing.assert_close(p @ p, p)
    assert int(torch.linalg.matrix_rank(p)) == 3
    assert torch.isfinite(p).all()


@pytest.mark.parametrize("normalizer", ["N-1", "N"])
def test_output_matches_style_mean_and_covariance(normalizer: str) -> None:
    content = _correlated(2, 4, 6, 5)
    style = _correlated(2, 4, 3, 9, scale=2.0, shift=-1.0)  # different H, W
    out = zca_transform(content, style, normalizer=normalizer)
    assert out.shape == content.shape
    unbiased = normalizer == "N-1"
    torch.testing.assert_close(covariance(out, unbiased), covariance(style, unbiased))
    torch.testing.assert_close(out.mean(dim=(2, 3)), style.mean(dim=(2, 3)))


def test_low_rank_style_covariance_is_reproduced() -> None:
    content = _correlated(1, 4, 6, 6)
    basis = torch.randn(4, 2, dtype=D)
    style = torch.einsum("ij,bjhw->bihw", basis, torch.randn(1, 2, 5, 5, dtype=D))  # rank 2
    out = zca_transform(content, style)
    torch.testing.assert_close(covariance(out, True), covariance(style, True))


def test_single_channel_closed_form_and_reg_on() -> None:
    content = torch.randn(1, 1, 4, 5, dtype=D)
    style = 3 * torch.randn(1, 1, 6, 2, dtype=D) + 1
    vc = content.var(unbiased=True)
    vs = style.var(unbiased=True)
    centred = content - content.mean()
    r = 1.0
    out_content = zca_transform(content, style, regularizer=r, reg_on="content")
    torch.testing.assert_close(out_content, (vs / (vc + r)).sqrt() * centred + style.mean())
    out_both = zca_transform(content, style, regularizer=r, reg_on="both")
    torch.testing.assert_close(out_both, ((vs + r) / (vc + r)).sqrt() * centred + style.mean())


def test_whiten_then_color_equals_transform() -> None:
    content = _correlated(2, 3, 4, 4)
    style = _correlated(2, 3, 5, 5, shift=1.0)
    kw = {"regularizer": 1.0, "normalizer": "N"}
    composed = color(whiten(content, **kw), style, **kw)
    torch.testing.assert_close(composed, zca_transform(content, style, reg_on="both", **kw))


def test_float32_io_and_matches_float64() -> None:
    content = _correlated(1, 4, 6, 6)
    style = _correlated(1, 4, 6, 6)
    out32 = zca_transform(content.float(), style.float())
    assert out32.dtype == torch.float32
    torch.testing.assert_close(out32, zca_transform(content, style).float(), rtol=1e-4, atol=1e-4)


def test_constant_content_maps_to_style_mean_without_nan() -> None:
    style = _correlated(1, 4, 5, 5, shift=2.0)
    for content in (torch.full((1, 4, 3, 3), 0.7, dtype=D), torch.randn(1, 4, 1, 1, dtype=D)):
        for reg in (0.0, 1.0):
            out = zca_transform(content, style, regularizer=reg)
            assert torch.isfinite(out).all()
            expected = style.mean(dim=(2, 3), keepdim=True).expand_as(content)
            torch.testing.assert_close(out, expected)


def test_single_position_style_without_nan() -> None:
    content = _correlated(1, 3, 4, 4)
    style = torch.randn(1, 3, 1, 1, dtype=D)
    out = zca_transform(content, style)
    torch.testing.assert_close(out, style.expand_as(content))


def test_clamp_and_alpha() -> None:
    content = _correlated(2, 3, 5, 5)
    style = _correlated(2, 3, 5, 5, scale=10.0, shift=5.0)
    clamped = zca_transform(content, style, clamp_to_content=True)
    for b in range(2):
        assert clamped[b].min() >= content[b].min() and clamped[b].max() <= content[b].max()
    assert not torch.equal(clamped, zca_transform(content, style))
    torch.testing.assert_close(zca_transform(content, style, alpha=0.0), content)
    full = zca_transform(content, style)
    torch.testing.assert_close(zca_transform(content, style, alpha=0.3), 0.3 * full + 0.7 * content)


def test_gradients_are_finite() -> None:
    content = _correlated(1, 3, 4, 4).requires_grad_(True)
    style = _correlated(1, 3, 4, 4).requires_grad_(True)
    zca_transform(content, style, regularizer=1.0).square().sum().backward()
    assert torch.isfinite(content.grad).all() and torch.isfinite(style.grad).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reg_on": "style"}, "reg_on"),
        ({"normalizer": "N+1"}, "normalizer"),
        ({"regularizer": -1.0}, ">= 0"),
        ({"eps": 0.0, "eig_threshold": 0.0}, "both be 0"),
        ({"alpha": -0.1}, "alpha"),
    ],
)
def test_bad_parameters_raise(kwargs: dict, match: str) -> None:
    x = torch.randn(1, 3, 4, 4)
    with pytest.raises(ValueError, match=match):
        zca_transform(x, x, **kwargs)


@pytest.mark.parametrize(
    ("content_shape", "style_shape", "match"),
    [
        ((1, 3, 4, 4), (1, 4, 4, 4), "channels"),
        ((2, 3, 4, 4), (3, 3, 4, 4), "batch"),
        ((3, 4), (3, 4), "B, C"),
        ((1, 3, 4, 4), (1, 3, 16), "dims"),
    ],
)
def test_bad_shapes_raise(content_shape: tuple, style_shape: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        zca_transform(torch.randn(content_shape), torch.randn(style_shape))


def test_single_style_broadcasts_over_batch() -> None:
    content = _correlated(3, 3, 4, 4)
    style = _correlated(1, 3, 5, 5, shift=1.0)
    out = zca_transform(content, style, regularizer=1.0, reg_on="both")
    torch.testing.assert_close(out[1:2], zca_transform(content[1:2], style, regularizer=1.0, reg_on="both"))
