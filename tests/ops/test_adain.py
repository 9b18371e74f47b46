import pytest
import torch

from stylelab.ops import adain, mean_std


@pytest.mark.parametrize("unbiased", [True, False])
def test_output_has_style_mean_and_std(unbiased: bool) -> None:
    content = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    style = 4 * torch.randn(2, 3, 4, 7, dtype=torch.float64) - 1
    out = adain(content, style, eps=0.0, unbiased=unbiased)
    assert out.shape == content.shape
    mo, so = mean_std(out, eps=0.0, unbiased=unbiased)
    ms, ss = mean_std(style, eps=0.0, unbiased=unbiased)
    torch.testing.assert_close(mo, ms)
    torch.testing.assert_close(so, ss)


def test_default_eps_close_to_style_std() -> None:
    content = torch.randn(1, 4, 8, 8)
    style = 2 * torch.randn(1, 4, 8, 8) + 3
    out = adain(content, style)
    mo, so = mean_std(out, eps=0.0)
    ms, ss = mean_std(style, eps=0.0)
    torch.testing.assert_close(mo, ms, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(so, ss, atol=1e-4, rtol=1e-4)


def test_keeps_normalised_content_structure() -> None:
    content = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    style = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    out = adain(content, style, eps=0.0)
    # AdaIN is a per-channel affine map of the content: correlation with the content is 1.
    for ch in range(2):
        a = out[0, ch].flatten() - out[0, ch].mean()
        b = content[0, ch].flatten() - content[0, ch].mean()
        torch.testing.assert_close((a @ b) / (a.norm() * b.norm()), torch.tensor(1.0, dtype=torch.float64))


def test_alpha_blends_with_content() -> None:
    content = torch.randn(1, 3, 4, 4)
    style = torch.randn(1, 3, 5, 5)
    torch.testing.assert_close(adain(content, style, alpha=0.0), content)
    full = adain(content, style)
    torch.testing.assert_close(adain(content, style, alpha=0.25), 0.25 * full + 0.75 * content)


def test_single_style_broadcasts_over_batch() -> None:
    content = torch.randn(3, 2, 4, 4)
    style = torch.randn(1, 2, 4, 4)
    out = adain(content, style)
    torch.testing.assert_close(out[2:], adain(content[2:], style))


@pytest.mark.parametrize(
    ("content_shape", "style_shape", "kwargs", "match"),
    [
        ((1, 3, 4, 4), (1, 2, 4, 4), {}, "channels"),
        ((2, 3, 4, 4), (3, 3, 4, 4), {}, "batch"),
        ((1, 3, 4, 4), (1, 3, 16), {}, "dims"),
        ((1, 3, 4, 4), (1, 3, 4, 4), {"alpha": 1.5}, "alpha"),
    ],
)
def test_bad_inputs_raise(
    content_shape: tuple[int, ...], style_shape: tuple[int, ...], kwargs: dict, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        adain(torch.randn(content_shape), torch.randn(style_shape), **kwargs)
