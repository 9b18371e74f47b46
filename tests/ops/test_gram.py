import pytest
import torch

from stylelab.ops import gram_matrix


def test_hand_built_matrix_all_normalisations() -> None:
    f = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])  # (B=1, C=2, N=2)
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]])
    torch.testing.assert_close(gram_matrix(f, normalize="none")[0], expected)
    torch.testing.assert_close(gram_matrix(f, normalize="N")[0], expected / 2)
    torch.testing.assert_close(gram_matrix(f, normalize="CN")[0], expected / 4)
    torch.testing.assert_close(gram_matrix(f)[0], expected / 4)  # default "CN"


def test_4d_equals_flattened_3d() -> None:
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(gram_matrix(x, "N"), gram_matrix(x.flatten(2), "N"))


def test_batch_is_not_folded() -> None:
    a = torch.randn(1, 3, 8)
    x = torch.cat([a, 2 * a])
    g = gram_matrix(x, "none")
    assert g.shape == (2, 3, 3)
    torch.testing.assert_close(g[1], 4 * g[0])
    torch.testing.assert_close(g[0], a[0] @ a[0].T)


def test_gradcheck() -> None:
    x = torch.randn(2, 3, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: gram_matrix(t, "CN"), (x,))


@pytest.mark.parametrize("shape", [(3, 4), (1, 2, 3, 4, 5)])
def test_bad_shape_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="B, C, H, W"):
        gram_matrix(torch.randn(shape))


def test_bad_normalize_raises() -> None:
    with pytest.raises(ValueError, match="normalize"):
        gram_matrix(torch.randn(1, 2, 3), normalize="HW")  # type: ignore[arg-type]
