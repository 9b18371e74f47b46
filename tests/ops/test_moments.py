import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylelab.ops import covariance, instance_normalize, mean_std


@pytest.mark.parametrize(("unbiased", "eps"), [(True, 1e-5), (False, 1e-8), (True, 0.0)])
def test_mean_std_matches_numpy(unbiased: bool, eps: float) -> None:
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    mean, std = mean_std(x, eps=eps, unbiased=unbiased)
    assert mean.shape == std.shape == (2, 3, 1, 1)
    f = x.flatten(2).numpy()
    np.testing.assert_allclose(mean.flatten(2).squeeze(-1).numpy(), f.mean(-1), rtol=1e-12)
    ref = np.sqrt(f.var(-1, ddof=1 if unbiased else 0) + eps)
    np.testing.assert_allclose(std.flatten(2).squeeze(-1).numpy(), ref, rtol=1e-12)


def test_mean_std_3d_shape() -> None:
    mean, std = mean_std(torch.randn(2, 3, 7))
    assert mean.shape == std.shape == (2, 3, 1)


def test_mean_std_gradcheck() -> None:
    x = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: mean_std(t, eps=1e-5, unbiased=True), (x,))


def test_mean_std_unbiased_single_position_raises() -> None:
    with pytest.raises(ValueError, match="unbiased=False"):
        mean_std(torch.randn(1, 3, 1, 1))
    _, std = mean_std(torch.randn(1, 3, 1, 1), unbiased=False, eps=1e-8)
    torch.testing.assert_close(std, torch.full((1, 3, 1, 1), 1e-4))


def test_mean_std_negative_eps_raises() -> None:
    with pytest.raises(ValueError, match="eps"):
        mean_std(torch.randn(1, 3, 2, 2), eps=-1.0)


@pytest.mark.parametrize("unbiased", [False, True])
def test_covariance_matches_numpy_cov(unbiased: bool) -> None:
    x = torch.randn(2, 4, 3, 5, dtype=torch.float64)
    cov = covariance(x, unbiased=unbiased)
    assert cov.shape == (2, 4, 4)
    for b in range(2):
        ref = np.cov(x[b].flatten(1).numpy(), ddof=1 if unbiased else 0)
        np.testing.assert_allclose(cov[b].numpy(), ref, rtol=1e-10, atol=1e-12)


def test_covariance_is_centred() -> None:
    x = torch.randn(1, 3, 10, dtype=torch.float64)
    torch.testing.assert_close(covariance(x + 5.0), covariance(x))


def test_covariance_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="unbiased"):
        covariance(torch.randn(1, 3, 1), unbiased=True)
    with pytest.raises(ValueError, match="B, C, H, W"):
        covariance(torch.randn(3, 4))


def test_instance_normalize_biased_equals_torch_instance_norm() -> None:
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(instance_normalize(x, eps=1e-5, unbiased=False), F.instance_norm(x, eps=1e-5))


def test_instance_normalize_unbiased_statistics() -> None:
    x = 3 * torch.randn(2, 3, 6, 6, dtype=torch.float64) + 2
    y = instance_normalize(x, eps=0.0, unbiased=True)
    torch.testing.assert_close(y.mean(dim=(2, 3)), torch.zeros(2, 3, dtype=torch.float64))
    torch.testing.assert_close(y.flatten(2).std(dim=-1), torch.ones(2, 3, dtype=torch.float64))
