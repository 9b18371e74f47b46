r"""Global and local PCA eigenbases of teacher features (PCA-KD Eq. 1-5).

Notation (spec 5.2): for a teacher feature ``F`` of one image at ``reluN_1``, ``C`` channels and ``P``
positions, ``Fbar = F - mean over positions``. A basis is stored as ``E`` of shape ``(C, d)`` (the
reference code's variable; the paper's ``W = E^T`` is ``d x C``):

* **global eigenbasis** (Eq. 3-5): the ``d``-dimensional subspace that on average keeps most variance,
  i.e. the top-``d`` eigenvectors of the averaged covariance ``(1/M) sum_k Fbar_k Fbar_k^T / P_k``. The
  reference code learns it by mini-batch gradient descent on the tied linear auto-encoder objective

      L = sum_N [ mean (E E^T fbar - fbar)^2 + mean (E^T E - I_d)^2 ]

  (reconstruction MSE, Eq. 5, plus a *soft* orthonormality penalty of unit weight; no
  re-orthonormalisation). :func:`covariance_sum` + :func:`top_eigenvectors` give the exact solution.
* **local eigenbasis** (Eq. 1; the paper's ablation): each image's own top-``d`` eigenvectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def centre(feature: Tensor) -> Tensor:
    """Flatten and centre per sample and channel.

    Args:
        feature: ``(B, C, H, W)``.

    Returns:
        ``(B, C, H*W)`` with zero mean over positions.
    """
    flat = feature.flatten(2)
    return flat - flat.mean(dim=-1, keepdim=True)


def glorot_uniform(rows: int, cols: int, generator: torch.Generator | None = None) -> Tensor:
    """Keras ``GlorotUniform`` sample ``(rows, cols)``: ``U(-a, a)``, ``a = sqrt(6 / (rows + cols))``."""
    limit = math.sqrt(6.0 / (rows + cols))
    return (torch.rand(rows, cols, generator=generator) * 2.0 - 1.0) * limit


class Eigenbases(nn.Module):
    """The four bases ``E_N`` ``(C_N, d_N)`` as parameters (learned by gradient descent or set exactly).

    Args:
        teacher_channels: ``C_N`` of the teacher taps (VGG-19: 64, 128, 256, 512).
        widths: ``d_N``, the student widths.
        seed: Seed of the Glorot-uniform initialisation.
    """

    def __init__(self, teacher_channels: Sequence[int], widths: Sequence[int], seed: int = 0) -> None:
        super().__init__()
        if len(teacher_channels) != len(widths):
            raise ValueError(
                f"need one width per teacher tap, got {list(teacher_channels)} and {list(widths)}"
            )
        for c, d in zip(teacher_channels, widths, strict=True):
            if d > c:
                raise ValueError(f"a basis cannot have more vectors ({d}) than dimensions ({c})")
        generator = torch.Generator().manual_seed(seed)
        self.bases = nn.ParameterList(
            [
                nn.Parameter(glorot_uniform(int(c), int(d), generator))
                for c, d in zip(teacher_channels, widths, strict=True)
            ]
        )

    def __getitem__(self, n: int) -> Tensor:
        """Basis of block ``n`` (1..4) ``(C_n, d_n)``."""
        return self.bases[n - 1]

    def __len__(self) -> int:
        """Number of bases."""
        return len(self.bases)

    @torch.no_grad()
    def set_(self, n: int, basis: Tensor) -> None:
        """Overwrite basis ``n`` (1..4) with ``basis`` ``(C_n, d_n)``."""
        target = self.bases[n - 1]
        if basis.shape != target.shape:
            raise ValueError(f"basis {n} must have shape {tuple(target.shape)}, got {tuple(basis.shape)}")
        target.copy_(basis.to(target.dtype))

    def orthonormality_errors(self) -> list[float]:
        """``||W W^T - I||_F`` (= ``||E^T E - I||_F``) of each basis."""
        return [orthonormality_error(basis) for basis in self.bases]


def reconstruction_loss(basis: Tensor, fbar: Tensor) -> Tensor:
    """Eq. 4-5 term of one layer: ``mean (E E^T fbar - fbar)^2`` over batch, channels and positions.

    Args:
        basis: ``E`` ``(C, d)``.
        fbar: Centred features ``(B, C, P)``.

    Returns:
        Scalar.
    """
    projected = basis @ (basis.transpose(0, 1) @ fbar)
    return F.mse_loss(projected, fbar)


def orthonormality_penalty(basis: Tensor) -> Tensor:
    """The reference code's soft constraint ``mean (E^T E - I_d)^2`` (over the ``d x d`` entries)."""
    gram = basis.transpose(0, 1) @ basis
    return F.mse_loss(gram, torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device))


def orthonormality_error(basis: Tensor) -> float:
    """``||E^T E - I||_F`` as a float (0 for orthonormal columns)."""
    gram = basis.detach().double().transpose(0, 1) @ basis.detach().double()
    return float(
        torch.linalg.matrix_norm(gram - torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device))
    )


def covariance_sum(fbar: Tensor) -> Tensor:
    """Sum over the batch of per-image covariances ``Fbar Fbar^T / P`` in float64.

    Args:
        fbar: Centred features ``(B, C, P)``.

    Returns:
        ``(C, C)`` float64.
    """
    f = fbar.detach().double()
    return torch.einsum("bcp,bdp->cd", f, f) / f.shape[-1]


def _fix_signs(vectors: Tensor) -> Tensor:
    """Make the largest-magnitude entry of every column positive (deterministic eigenvector signs)."""
    index = vectors.abs().argmax(dim=-2, keepdim=True)
    signs = torch.sign(torch.gather(vectors, -2, index))
    return vectors * torch.where(signs == 0, torch.ones_like(signs), signs)


def top_eigenvectors(covariance: Tensor, d: int) -> tuple[Tensor, Tensor]:
    """Top-``d`` eigenvectors of symmetric matrices, largest eigenvalue first.

    Args:
        covariance: ``(..., C, C)`` symmetric.
        d: Number of vectors.

    Returns:
        ``(vectors (..., C, d), eigenvalues (..., C))`` - all eigenvalues in descending order; the
        vectors' signs are fixed (largest entry positive).
    """
    evals, evecs = torch.linalg.eigh(covariance.double())
    evals, evecs = evals.flip(-1), evecs.flip(-1)
    return _fix_signs(evecs[..., :d]), evals


def local_eigenbases(fbar: Tensor, d: int) -> Tensor:
    """Image-dependent bases (Eq. 1): each sample's top-``d`` covariance eigenvectors.

    Args:
        fbar: Centred features ``(B, C, P)``.
        d: Basis size.

    Returns:
        ``(B, C, d)`` in ``fbar``'s dtype (no gradient).
    """
    f = fbar.detach().double()
    cov = f @ f.transpose(1, 2) / f.shape[-1]
    vectors, _ = top_eigenvectors(cov, d)
    return vectors.to(fbar.dtype)


def principal_angles(a: Tensor, b: Tensor) -> Tensor:
    """Principal angles between the column spaces of ``a`` and ``b``.

    Args:
        a: ``(C, d)``.
        b: ``(C, d')``.

    Returns:
        ``min(d, d')`` angles in radians, ascending (0 = shared direction), float64.
    """
    qa, _ = torch.linalg.qr(a.detach().double())
    qb, _ = torch.linalg.qr(b.detach().double())
    cosines = torch.linalg.svdvals(qa.transpose(0, 1) @ qb).clamp(-1.0, 1.0)
    return torch.arccos(cosines).sort().values


def distillation_loss(basis: Tensor, student_fbar: Tensor, teacher_fbar: Tensor) -> Tensor:
    """Eq. 6 as coded: ``mean (W^T Fbar^e - Fbar)^2`` with ``W^T = E``.

    Args:
        basis: ``(C, d)`` global basis or ``(B, C, d)`` local bases.
        student_fbar: Centred student features ``(B, d, P)``.
        teacher_fbar: Centred teacher features ``(B, C, P)``.

    Returns:
        Scalar.
    """
    return F.mse_loss(basis @ student_fbar, teacher_fbar)
