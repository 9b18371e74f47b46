import numpy as np
import pytest
import pywt
import torch

from stylelab.ops import haar_kernels, haar_packet, inverse_haar_packet


def test_matches_pywt_all_four_bands() -> None:
    x = torch.rand(2, 3, 6, 8, dtype=torch.float64)
    ll, lh, hl, hh = haar_packet(x)
    ca, (ch, cv, cd) = pywt.dwt2(x.numpy(), "haar")
    # Documented mapping: LL = cA, LH = -cV, HL = -cH, HH = cD (pywt's high-pass gives first - second).
    np.testing.assert_allclose(ll.numpy(), ca, atol=1e-6)
    np.testing.assert_allclose(lh.numpy(), -cv, atol=1e-6)
    np.testing.assert_allclose(hl.numpy(), -ch, atol=1e-6)
    np.testing.assert_allclose(hh.numpy(), cd, atol=1e-6)


def test_float32_matches_pywt() -> None:
    x = torch.rand(1, 2, 4, 4)
    ca, (ch, cv, cd) = pywt.dwt2(x.double().numpy(), "haar")
    bands = haar_packet(x)
    assert all(b.dtype == torch.float32 and b.shape == (1, 2, 2, 2) for b in bands)
    for got, ref in zip(bands, (ca, -cv, -ch, cd), strict=True):
        np.testing.assert_allclose(got.double().numpy(), ref, atol=1e-6)


def test_block_closed_form() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 5.0]]).reshape(1, 1, 2, 2)
    ll, lh, hl, hh = (b.item() for b in haar_packet(x))
    assert ll == pytest.approx(11 / 2)
    assert lh == pytest.approx((-1 + 2 - 3 + 5) / 2)  # right minus left
    assert hl == pytest.approx((-1 - 2 + 3 + 5) / 2)  # bottom minus top
    assert hh == pytest.approx((1 - 2 - 3 + 5) / 2)


def test_kernels_orthonormal() -> None:
    k = haar_kernels(torch.float64).flatten(1)
    torch.testing.assert_close(k @ k.T, torch.eye(4, dtype=torch.float64))


def test_inverse_is_exact() -> None:
    x = torch.randn(2, 3, 8, 6, dtype=torch.float64)
    torch.testing.assert_close(inverse_haar_packet(*haar_packet(x)), x, rtol=0, atol=1e-12)


def test_channels_are_independent() -> None:
    x = torch.randn(1, 2, 4, 4)
    ll = haar_packet(x)[0]
    torch.testing.assert_close(ll[:, 1:], haar_packet(x[:, 1:])[0])


@pytest.mark.parametrize("shape", [(1, 1, 5, 4), (1, 1, 4, 3)])
def test_odd_size_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="even H and W"):
        haar_packet(torch.randn(shape))


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="4-D"):
        haar_packet(torch.randn(4, 4))
    a = torch.randn(1, 1, 2, 2)
    with pytest.raises(ValueError, match="same shape"):
        inverse_haar_packet(a, a, a, torch.randn(1, 1, 2, 3))
