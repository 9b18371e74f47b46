from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from stylelab.methods.pcakd.eigenbases import (
    Eigenbases,
    centre,
    covariance_sum,
    distillation_loss,
    local_eigenbases,
    orthonormality_error,
    orthonormality_penalty,
    principal_angles,
    reconstruction_loss,
    top_eigenvectors,
)


def _features(batch: int, channels: int, positions: int, spectrum: torch.Tensor, seed: int) -> torch.Tensor:
    """Features whose averaged covariance has a known eigenbasis ``q`` and eigenvalues ``spectrum``."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(channels, channels, generator=g, dtype=torch.float64))
    z = torch.randn(batch, channels, positions, generator=g, dtype=torch.float64)
    return (q @ (spectrum.sqrt().view(-1, 1) * z)).float().view(batch, channels, positions, 1) + 3.0


def test_centre_and_covariance_sum() -> None:
    f = torch.randn(3, 4, 5, 6)
    fbar = centre(f)
    torch.testing.assert_close(fbar.mean(-1), torch.zeros(3, 4), atol=1e-6, rtol=0)
    expected = sum(np.cov(f[i].flatten(1).numpy(), bias=True) for i in range(3))
    np.testing.assert_allclose(covariance_sum(fbar).numpy(), expected, rtol=1e-6, atol=1e-9)


def test_top_eigenvectors_and_local_bases_match_numpy() -> None:
    fbar = centre(torch.randn(2, 6, 50, 1, dtype=torch.float64))
    bases = local_eigenbases(fbar, 3)
    for i in range(2):
        cov = (fbar[i] @ fbar[i].T / 50).numpy()
        _, vectors = np.linalg.eigh(cov)
        reference = torch.from_numpy(vectors[:, ::-1][:, :3].copy())
        assert principal_angles(bases[i], reference).max() < 1e-6
        # columns are the individual eigenvectors (up to sign), not just the subspace
        np.testing.assert_allclose(np.abs((bases[i].T @ reference).numpy()), np.eye(3), atol=1e-6)
    values = top_eigenvectors(torch.diag(torch.tensor([1.0, 5.0, 3.0])), 2)[1]
    torch.testing.assert_close(values, torch.tensor([5.0, 3.0, 1.0], dtype=torch.float64))


def test_principal_angles_closed_form() -> None:
    e = torch.eye(3, dtype=torch.float64)
    assert principal_angles(e[:, :2], e[:, :2]).abs().max() < 1e-7
    torch.testing.assert_close(
        principal_angles(e[:, :1], e[:, 1:2]), torch.tensor([math.pi / 2], dtype=torch.float64)
    )
    tilted = torch.tensor([[math.cos(0.3)], [math.sin(0.3)], [0.0]], dtype=torch.float64)
    torch.testing.assert_close(
        principal_angles(e[:, :1], 5 * tilted), torch.tensor([0.3], dtype=torch.float64)
    )


def test_losses_match_their_formulas_and_autograd() -> None:
    basis = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    fbar = centre(torch.randn(2, 8, 20, 1, dtype=torch.float64))
    expected = ((basis @ basis.T @ fbar - fbar) ** 2).mean()
    torch.testing.assert_close(reconstruction_loss(basis, fbar), expected)
    torch.testing.assert_close(orthonormality_penalty(basis), ((basis.T @ basis - torch.eye(3)) ** 2).mean())
    student = torch.randn(2, 3, 20, dtype=torch.float64)
    torch.testing.assert_close(
        distillation_loss(basis, student, fbar), ((basis @ student - fbar) ** 2).mean()
    )
    assert torch.autograd.gradcheck(
        lambda b: reconstruction_loss(b, fbar) + orthonormality_penalty(b), (basis,)
    )
    # the distillation target W Fbar gives zero loss iff fbar lies in the basis span
    q, _ = torch.linalg.qr(torch.randn(8, 3, dtype=torch.float64))
    in_span = q @ torch.randn(2, 3, 20, dtype=torch.float64)
    assert distillation_loss(q, q.T @ in_span, in_span) < 1e-20


def test_soft_penalty_gradient_descent_finds_the_closed_form_subspace() -> None:
    """Eq. 5 + the reference code's penalty, by mini-batch Adam, vs the top eigenvectors (closed form)."""
    torch.set_num_threads(1)  # tiny tensors: threads only add contention (conftest restores 2)
    channels, d = 16, 4
    spectrum = torch.tensor([9.0, 7.0, 5.0, 4.0] + [0.5] * 12, dtype=torch.float64)
    data = _features(64, channels, 40, spectrum, seed=1)
    bases = Eigenbases([channels], [d], seed=0)
    optimizer = torch.optim.Adam(bases.parameters(), lr=2e-2)
    g = torch.Generator().manual_seed(2)
    for _ in range(400):
        batch = data[torch.randint(0, 64, (8,), generator=g)]
        fbar = centre(batch)
        loss = reconstruction_loss(bases[1], fbar) + orthonormality_penalty(bases[1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    exact, _ = top_eigenvectors(covariance_sum(centre(data)) / 64, d)
    angles = principal_angles(bases[1], exact)
    assert angles.max() < math.radians(3.0), angles
    assert orthonormality_error(bases[1]) < 0.05
    assert bases.orthonormality_errors()[0] == pytest.approx(orthonormality_error(bases[1]))


def test_eigenbases_module_shapes_init_and_set() -> None:
    bases = Eigenbases([64, 128, 256, 512], [10, 20, 58, 64], seed=3)
    assert [tuple(b.shape) for b in bases.bases] == [(64, 10), (128, 20), (256, 58), (512, 64)]
    limit = math.sqrt(6 / (512 + 64))  # Glorot uniform
    assert bases[4].abs().max() <= limit and bases[4].abs().max() > 0.9 * limit
    q, _ = torch.linalg.qr(torch.randn(64, 10))
    bases.set_(1, q)
    assert orthonormality_error(bases[1]) < 1e-5
    with pytest.raises(ValueError, match="shape"):
        bases.set_(1, torch.zeros(64, 11))
    with pytest.raises(ValueError, match="more vectors"):
        Eigenbases([4], [5])
