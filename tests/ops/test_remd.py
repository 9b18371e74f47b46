import pytest
import torch

from stylelab.ops import remd, sample_positions


def _brute_force(x: torch.Tensor, y: torch.Tensor) -> float:
    xs, ys = x.T.tolist(), y.T.tolist()

    def cost(a: list[float], b: list[float]) -> float:
        ab = sum(p * q for p, q in zip(a, b, strict=True))
        na = sum(p * p for p in a) ** 0.5
        nb = sum(q * q for q in b) ** 0.5
        return 1 - ab / (na * nb)

    forward = sum(min(cost(a, b) for b in ys) for a in xs) / len(xs)
    backward = sum(min(cost(a, b) for a in xs) for b in ys) / len(ys)
    return max(forward, backward)


def test_identical_sets_give_zero() -> None:
    x = torch.randn(2, 5, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(remd(x, x), torch.zeros(2, dtype=torch.float64), atol=1e-12, rtol=0)
    # a permutation of the positions and a positive rescaling change nothing
    y = 3 * x.flatten(2)[..., torch.randperm(16)]
    torch.testing.assert_close(remd(x, y), torch.zeros(2, dtype=torch.float64), atol=1e-12, rtol=0)


def test_orthogonal_sets_give_one() -> None:
    x = torch.zeros(1, 4, 10)
    x[:, 0] = torch.rand(10) + 0.1
    y = torch.zeros(1, 4, 7)
    y[:, 1] = torch.rand(7) + 0.1
    y[:, 2] = torch.rand(7)
    torch.testing.assert_close(remd(x, y), torch.ones(1))


def test_asymmetric_closed_form() -> None:
    x = torch.tensor([[[1.0], [0.0]]])  # {e1}
    y = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # {e1, e2}
    # x -> y: 0; y -> x: (0 + 1) / 2; REMD takes the max
    torch.testing.assert_close(remd(x, y), torch.tensor([0.5]))
    torch.testing.assert_close(remd(y, x), torch.tensor([0.5]))


def test_matches_brute_force_per_sample() -> None:
    x = torch.randn(2, 3, 6, dtype=torch.float64)
    y = torch.randn(2, 3, 2, 4, dtype=torch.float64)
    out = remd(x, y)
    assert out.shape == (2,)
    for b in range(2):
        assert out[b].item() == pytest.approx(_brute_force(x[b], y[b].flatten(1)), abs=1e-12)


def test_gradcheck() -> None:
    x = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(remd, (x, y))


def test_sample_positions() -> None:
    f = torch.arange(2 * 3 * 50, dtype=torch.float32).reshape(2, 3, 50)
    sub = sample_positions(f, 8, torch.Generator().manual_seed(1))
    assert sub.shape == (2, 3, 8)
    cols = sub[0, 0].long().tolist()
    assert len(set(cols)) == 8 and all(0 <= c < 50 for c in cols)
    torch.testing.assert_close(sub, f[..., cols])  # whole columns, same subset for every sample
    assert sample_positions(f, 50) is f and sample_positions(f, None) is f
    again = sample_positions(f, 8, torch.Generator().manual_seed(1))
    torch.testing.assert_close(sub, again)


def test_subsampled_remd_is_reproducible_and_bounded() -> None:
    x = torch.randn(1, 4, 20, 20)
    y = torch.randn(1, 4, 15, 15)
    a = remd(x, y, max_samples=32, generator=torch.Generator().manual_seed(0))
    b = remd(x, y, max_samples=32, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)
    assert 0 <= a.item() <= 2
    torch.testing.assert_close(remd(x, y, max_samples=10_000), remd(x, y))


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="channels"):
        remd(torch.randn(1, 3, 5), torch.randn(1, 4, 5))
    with pytest.raises(ValueError, match="batch"):
        remd(torch.randn(2, 3, 5), torch.randn(1, 3, 5))
    with pytest.raises(ValueError, match="max_samples"):
        remd(torch.randn(1, 3, 5), torch.randn(1, 3, 5), max_samples=0)
