r"""Iterative feature transformation (IFT, Chiu & Gurari, ECCV 2020): Gram matching by gradient steps.

Per sample, with ``F, A`` in ``R^{C x n}`` (the transformed features and the content *anchor*, ``n``
positions) and a target Gram ``G_t`` (``C x C``), the supplement's Eq. 1 and its analytic gradient Eq. 2
are::

    l(F)     = ||F - A||_F^2 + lam * || F F^T / n - G_t ||_F^2
    dl/dF    = 2 (F - A) + (4 lam / n) (F F^T / n - G_t) F

The Gram is *uncentred* (no mean subtraction), as in the derivation and the reference code. Starting
from ``F = A = F_c`` (the content feature), :func:`ift_transform` runs ``n_upd`` updates
``F <- F - eta * dl/dF`` with either a fixed step (reference default ``eta = 0.01``) or the exact line
search (the minimiser of the quartic ``eta -> l(F - eta dl/dF)``, found from the real roots of its cubic
derivative). ``n_iter`` outer rounds re-anchor the content term at the current result
(``A <- F``) [inferred from the supplement's ``l_j`` / ``F^(j)`` notation; ``n_iter = 1`` is exactly
the released code].

Multi-style (reference code): with styles ``k = 1..q`` and weights ``w_k >= 0``::

    G_t = sum_k (w_k / sum_w) F_s^k F_s^k^T / m_k,      lam <- lam * sum_w

which makes ``l`` equal (up to a constant) to ``||F - A||^2 + lam sum_k w_k ||F F^T/n - G_k||^2``:
each style is a term of the objective, not a blend of transformed features.

Spatial control (reference ``core_seg``): for every matched label ``r`` with content positions
``P_r`` (``n_r`` of them) the objective gets the term ``lam * (n_r / n) * ||F_r F_r^T / n_r - G_r||^2``
where ``F_r = F[:, P_r]`` and ``G_r`` is the (weighted) Gram of the style positions with that label;
the ``n_r / n`` factor reproduces the reference's gradient ``(4 lam / n)(F_r F_r^T / n_r - G_r) F_r``.
Positions of unmatched labels only see the content term, so they keep their content feature
(``unmatched="keep"``, the reference behaviour) unless ``unmatched="global"`` gives them the whole
style's Gram.

Every iterate is ``F = M F_c`` for a ``C x C`` matrix ``M`` (each update is a left multiplication),
so :func:`ift_transform` can iterate on ``M`` with ``K = F_c F_c^T`` and touch the ``n`` positions only
twice (``K`` once, ``M F_c`` at the end): ``algorithm="matrix"``. ``algorithm="direct"`` iterates on
``F`` itself as the reference code does. Both are the same maths (the tests compare them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from stylelab.ops._shapes import as_features

StepRule = Literal["fixed", "line_search"]
Algorithm = Literal["auto", "matrix", "direct"]
Unmatched = Literal["keep", "global"]

#: Reference-code label matching: a label is used when both regions exceed this many positions ...
MIN_REGION_SIZE = 150
#: ... and neither region is this many times larger than the other.
MAX_REGION_RATIO = 100.0


class IFTDivergenceError(FloatingPointError):
    """The fixed-step iteration produced non-finite features (step or lambda too large)."""


# ---------------------------------------------------------------------------------------- Eq. 1 / 2
def _check_lam(lam: float | Tensor) -> None:
    if isinstance(lam, Tensor):
        if not bool(torch.isfinite(lam).all()) or bool((lam < 0).any()):
            raise ValueError("lam must be finite and >= 0")
    elif not (lam >= 0 and lam != float("inf")):
        raise ValueError(f"lam must be finite and >= 0; got {lam}")


def _lam_column(lam: float | Tensor, batch: int, like: Tensor) -> Tensor:
    """``lam`` as a ``(B, 1, 1)`` tensor (a scalar or a per-sample ``(B,)`` tensor)."""
    value = torch.as_tensor(lam, dtype=like.dtype, device=like.device)
    if value.dim() == 0:
        return value.expand(batch).reshape(batch, 1, 1)
    if value.shape != (batch,):
        raise ValueError(
            f"lam must be a scalar or a (B,) tensor with B={batch}; got shape {tuple(value.shape)}"
        )
    return value.reshape(batch, 1, 1)


def _check_gram(target_gram: Tensor, feat: Tensor) -> Tensor:
    if target_gram.dim() == 2:
        target_gram = target_gram.unsqueeze(0)
    c = feat.shape[1]
    if (
        target_gram.dim() != 3
        or target_gram.shape[-2:] != (c, c)
        or target_gram.shape[0] not in (1, feat.shape[0])
    ):
        raise ValueError(
            f"target_gram must be (B, C, C) or (1, C, C) or (C, C) with C={c}, B={feat.shape[0]}; "
            f"got shape {tuple(target_gram.shape)}"
        )
    return target_gram


def _check_anchor(feat: Tensor, anchor: Tensor) -> None:
    if feat.shape != anchor.shape:
        raise ValueError(
            f"feat and anchor must have the same shape; got {tuple(feat.shape)} and {tuple(anchor.shape)}"
        )


def ift_objective(feat: Tensor, anchor: Tensor, target_gram: Tensor, lam: float | Tensor) -> Tensor:
    r"""Supplement Eq. 1 per sample: ``||F - A||^2 + lam ||F F^T / n - G_t||^2``.

    Args:
        feat: Current features ``F``, ``(B, C, H, W)`` or ``(B, C, n)``.
        anchor: Content anchor ``A`` (``F^(j)``), same shape as ``feat``.
        target_gram: ``G_t`` ``(B, C, C)``, ``(1, C, C)`` or ``(C, C)`` (e.g. :func:`style_gram`).
        lam: Style weight ``lam >= 0``: a float or a ``(B,)`` tensor.

    Returns:
        ``(B,)`` objective values (sums, not means).

    Raises:
        ValueError: On mismatched shapes or a negative/non-finite ``lam``.
    """
    _check_anchor(feat, anchor)
    _check_lam(lam)
    f, a = as_features(feat, "feat"), as_features(anchor, "anchor")
    g = _check_gram(target_gram, f)
    n = f.shape[-1]
    lam_col = _lam_column(lam, f.shape[0], f)
    diff = torch.matmul(f, f.transpose(1, 2)) / n - g
    return (f - a).pow(2).sum(dim=(1, 2)) + lam_col.reshape(-1) * diff.pow(2).sum(dim=(1, 2))


def ift_gradient(feat: Tensor, anchor: Tensor, target_gram: Tensor, lam: float | Tensor) -> Tensor:
    r"""Supplement Eq. 2: ``dl/dF = 2 (F - A) + (4 lam / n) (F F^T / n - G_t) F``.

    Args:
        feat: ``F`` ``(B, C, H, W)`` or ``(B, C, n)``.
        anchor: ``A``, same shape.
        target_gram: ``G_t`` ``(B|1, C, C)`` or ``(C, C)``.
        lam: ``lam >= 0`` (float or ``(B,)``).

    Returns:
        The gradient, same shape as ``feat``.

    Raises:
        ValueError: As :func:`ift_objective`.
    """
    _check_anchor(feat, anchor)
    _check_lam(lam)
    f, a = as_features(feat, "feat"), as_features(anchor, "anchor")
    g = _check_gram(target_gram, f)
    n = f.shape[-1]
    lam_col = _lam_column(lam, f.shape[0], f)
    diff = torch.matmul(f, f.transpose(1, 2)) / n - g
    grad = 2.0 * (f - a) + (4.0 * lam_col / n) * torch.matmul(diff, f)
    return grad.reshape(feat.shape)


def ift_quartic(
    feat: Tensor, anchor: Tensor, target_gram: Tensor, lam: float | Tensor, direction: Tensor | None = None
) -> Tensor:
    r"""Coefficients of ``q(eta) = l(F - eta D)``, a quartic in ``eta`` (``D`` = Eq. 2 by default).

    With ``E = F F^T/n - G_t``, ``S = (D F^T + F D^T)/n`` and ``P = D D^T/n``::

        q(eta) = c0 + c1 eta + c2 eta^2 + c3 eta^3 + c4 eta^4
        c0 = ||F - A||^2 + lam ||E||^2          c1 = -2 <F - A, D> - 2 lam <E, S>
        c2 = ||D||^2 + lam (||S||^2 + 2 <E, P>)  c3 = -2 lam <S, P>          c4 = lam ||P||^2

    (``<X, Y> = tr(X^T Y)``). For ``D = dl/dF``, ``c1 = -||D||^2``.

    Args:
        feat: ``F`` ``(B, C, H, W)`` or ``(B, C, n)``.
        anchor: ``A``, same shape.
        target_gram: ``G_t`` ``(B|1, C, C)`` or ``(C, C)``.
        lam: ``lam >= 0``.
        direction: ``D`` (same shape as ``feat``); :func:`ift_gradient` if None.

    Returns:
        ``(B, 5)`` coefficients ``c0 .. c4``.
    """
    if direction is None:
        direction = ift_gradient(feat, anchor, target_gram, lam)
    f, a = as_features(feat, "feat"), as_features(anchor, "anchor")
    d = as_features(direction, "direction")
    g = _check_gram(target_gram, f)
    n = f.shape[-1]
    lam_v = _lam_column(lam, f.shape[0], f).reshape(-1)
    e = torch.matmul(f, f.transpose(1, 2)) / n - g
    df = torch.matmul(d, f.transpose(1, 2)) / n
    s = df + df.transpose(1, 2)
    p = torch.matmul(d, d.transpose(1, 2)) / n
    r = f - a
    return _quartic_from_terms(
        content=r.pow(2).sum(dim=(1, 2)),
        content_dir=(r * d).sum(dim=(1, 2)),
        dir_sq=d.pow(2).sum(dim=(1, 2)),
        e=e,
        s=s,
        p=p,
        lam=lam_v,
    )


def _quartic_from_terms(
    *, content: Tensor, content_dir: Tensor, dir_sq: Tensor, e: Tensor, s: Tensor, p: Tensor, lam: Tensor
) -> Tensor:
    """``(B, 5)`` float64 quartic coefficients from the content scalars and the ``C x C`` style matrices.

    Everything is promoted to float64 first: with float32 features the quartic's coefficients
    (``lam ||D D^T / n||^2`` ...) overflow long before the features do.
    """
    content, content_dir, dir_sq, e, s, p, lam = (
        t.to(torch.float64) for t in (content, content_dir, dir_sq, e, s, p, lam)
    )

    def inner(x: Tensor, y: Tensor) -> Tensor:
        return (x * y).sum(dim=(-2, -1))

    c0 = content + lam * inner(e, e)
    c1 = -2.0 * content_dir - 2.0 * lam * inner(e, s)
    c2 = dir_sq + lam * (inner(s, s) + 2.0 * inner(e, p))
    c3 = -2.0 * lam * inner(s, p)
    c4 = lam * inner(p, p)
    return torch.stack([c0, c1, c2, c3, c4], dim=-1)


def _polyval(coeffs: Tensor, x: Tensor) -> Tensor:
    """Evaluate ``sum_k coeffs[..., k] x^k`` (ascending order) at ``x`` ``(..., m)``."""
    out = torch.zeros_like(x)
    for k in range(coeffs.shape[-1] - 1, -1, -1):
        out = out * x + coeffs[..., k : k + 1]
    return out


def quartic_minimizer(coeffs: Tensor) -> Tensor:
    r"""Step ``eta >= 0`` minimising ``q(eta) = sum_k c_k eta^k`` (exact line search).

    The candidates are ``0`` and the real roots of ``q'(eta) = 4 c4 eta^3 + 3 c3 eta^2 + 2 c2 eta + c1``
    (companion-matrix eigenvalues of the rescaled cubic in float64, polished by Newton steps); the
    candidate with the lowest ``q`` wins. When ``q'(0) < 0`` (``D`` is a descent direction) the result is
    therefore the global minimiser of ``q`` on ``[0, inf)`` and ``q(eta*) <= q(eta)`` for every fixed step
    ``eta >= 0``. (The reference code takes the *largest* real root, which can be the worse of two local
    minima.) Degenerate cubics (``c4 = c3 = 0``) fall back to the quadratic's vertex; a flat ``q`` gives 0.

    Args:
        coeffs: ``(B, 5)`` ascending coefficients ``c0 .. c4`` (see :func:`ift_quartic`).

    Returns:
        ``(B,)`` steps (dtype of ``coeffs``), finite and ``>= 0``.
    """
    c = coeffs.to(torch.float64)
    batch = c.shape[0]
    deriv = torch.stack([c[:, 1], 2 * c[:, 2], 3 * c[:, 3], 4 * c[:, 4]], dim=-1)  # ascending, degree 3
    candidates = [torch.zeros(batch, 1, dtype=torch.float64, device=c.device)]
    for i in range(batch):
        roots = _real_roots_cubic(deriv[i])
        if roots.numel():
            # Newton polishing on q'(eta): companion eigenvalues are accurate to the coefficients' norm.
            for _ in range(3):
                value = _polyval(deriv[i : i + 1], roots[None])[0]
                slope = _polyval(
                    torch.stack([deriv[i, 1], 2 * deriv[i, 2], 3 * deriv[i, 3]])[None], roots[None]
                )[0]
                step = torch.where(slope.abs() > 0, value / torch.where(slope == 0, 1.0, slope), 0.0)
                roots = roots - step
        roots = roots[torch.isfinite(roots)].clamp_min(0.0)
        padded = torch.zeros(3, dtype=torch.float64, device=c.device)
        padded[: roots.numel()] = roots
        candidates.append(padded[None])
    stacked = torch.cat([candidates[0], torch.cat(candidates[1:], dim=0)], dim=1)  # (B, 4)
    values = _polyval(c, stacked)
    values = torch.where(torch.isfinite(values), values, torch.full_like(values, float("inf")))
    best = values.argmin(dim=1, keepdim=True)
    return stacked.gather(1, best).squeeze(1).to(coeffs.dtype)


def _real_roots_cubic(p: Tensor) -> Tensor:
    """Real roots of ``p0 + p1 x + p2 x^2 + p3 x^3`` (float64, may be fewer than 3)."""
    scale = p.abs().max()
    if not torch.isfinite(scale) or scale == 0:
        return p.new_zeros(0)
    p = p / scale
    # rescale x so that the polynomial's coefficients are balanced (x = tau * t)
    nonzero = [k for k in range(1, 4) if p[k].abs() > 1e-300]
    if not nonzero or p[0] == 0:
        tau = p.new_tensor(1.0)
    else:
        tau = min((p[0].abs() / p[k].abs()) ** (1.0 / k) for k in nonzero)
    q = p * tau ** torch.arange(4, dtype=p.dtype, device=p.device)
    q = q / q.abs().max()
    degree = 3
    while degree > 0 and q[degree].abs() < 1e-12:
        degree -= 1
    if degree == 0:
        return p.new_zeros(0)
    monic = q[:degree] / q[degree]
    companion = torch.zeros(degree, degree, dtype=p.dtype, device=p.device)
    if degree > 1:
        companion[1:, :-1] = torch.eye(degree - 1, dtype=p.dtype, device=p.device)
    companion[:, -1] = -monic
    eig = torch.linalg.eigvals(companion)
    tol = 1e-6 * eig.abs().clamp_min(1.0)
    real = eig.real[eig.imag.abs() <= tol]
    return real * tau


# ---------------------------------------------------------------------------------------- styles
def _as_list(x: Tensor | Sequence[Tensor]) -> list[Tensor]:
    return [x] if isinstance(x, Tensor) else list(x)


def normalize_style_weights(
    weights: Sequence[float] | Tensor | None, count: int
) -> tuple[list[float], float]:
    """Validate style weights; ``None`` gives ``1/q`` each (reference default).

    Args:
        weights: One non-negative weight per style, or None.
        count: Number of styles ``q``.

    Returns:
        ``(weights, sum_w)``.

    Raises:
        ValueError: Wrong length, a negative/non-finite weight, or all weights zero.
    """
    if count < 1:
        raise ValueError("at least one style is needed")
    if weights is None:
        return [1.0 / count] * count, 1.0
    values = [float(w) for w in (weights.tolist() if isinstance(weights, Tensor) else weights)]
    if len(values) != count:
        raise ValueError(f"got {len(values)} style weights for {count} styles; give one weight per style")
    if any(not (w >= 0.0 and w != float("inf")) for w in values):
        raise ValueError(f"style weights must be finite and >= 0; got {values}")
    total = sum(values)
    if total <= 0:
        raise ValueError("style weights sum to 0: give at least one positive weight")
    return values, total


def style_gram(
    styles: Tensor | Sequence[Tensor], weights: Sequence[float] | Tensor | None = None
) -> tuple[Tensor, float]:
    r"""Weighted target Gram of one or several styles (reference multi-style rule).

    ``G_t = sum_k (w_k / sum_w) F_k F_k^T / m_k`` (uncentred, ``m_k`` positions of style ``k``).

    Args:
        styles: One style feature ``(B|1, C, H_k, W_k)`` / ``(B|1, C, m_k)`` or a sequence of them.
        weights: One weight per style (default ``1/q``).

    Returns:
        ``(G_t, sum_w)``: ``(B|1, C, C)`` and the weight sum that multiplies ``lam``.

    Raises:
        ValueError: Mismatched channels or bad weights.
    """
    feats = [as_features(s, f"styles[{k}]") for k, s in enumerate(_as_list(styles))]
    values, total = normalize_style_weights(weights, len(feats))
    channels = {f.shape[1] for f in feats}
    if len(channels) != 1:
        raise ValueError(f"all styles must have the same number of channels; got {sorted(channels)}")
    batch = max(f.shape[0] for f in feats)
    if any(f.shape[0] not in (1, batch) for f in feats):
        raise ValueError(f"style batch sizes must be 1 or {batch}; got {[f.shape[0] for f in feats]}")
    gram = sum(
        (w / total) * torch.matmul(f, f.transpose(1, 2)) / f.shape[-1]
        for w, f in zip(values, feats, strict=True)
    )
    assert isinstance(gram, Tensor)
    return gram, total


# ---------------------------------------------------------------------------------------- masks
def resize_labels(labels: Tensor, size: tuple[int, int]) -> Tensor:
    """Nearest-neighbour resize of label maps, ``src = floor(dst * in / out)`` (OpenCV ``INTER_NEAREST``).

    Args:
        labels: ``(..., H, W)`` integer label maps.
        size: ``(h, w)``.

    Returns:
        ``(..., h, w)`` labels (every value is one of the input's).
    """
    height, width = labels.shape[-2:]
    h, w = size
    if (height, width) == (h, w):
        return labels
    rows = (torch.arange(h, dtype=torch.float64) * (height / h)).floor().long().clamp_(0, height - 1)
    cols = (torch.arange(w, dtype=torch.float64) * (width / w)).floor().long().clamp_(0, width - 1)
    return labels[..., rows.to(labels.device)[:, None], cols.to(labels.device)[None, :]]


def check_mask_matches(mask: Tensor, size: tuple[int, int], name: str = "mask", rel_tol: float = 0.1) -> None:
    """Check that a label map ``(..., H', W')`` can describe an image/feature of ``size`` ``(H, W)``.

    Equal sizes always pass; otherwise both scale factors ``H/H'`` and ``W/W'`` must agree within
    ``rel_tol`` (ceil-halving per VGG level changes the aspect ratio by at most a pixel).

    Raises:
        ValueError: The mask is not 2-D/3-D, empty, or has another aspect ratio.
    """
    if mask.dim() not in (2, 3) or mask.shape[-1] == 0 or mask.shape[-2] == 0:
        raise ValueError(
            f"{name} must be a non-empty (H, W) or (B, H, W) label map; got shape {tuple(mask.shape)}"
        )
    if mask.is_floating_point() or mask.is_complex():
        raise ValueError(f"{name} must hold integer labels; got dtype {mask.dtype}")
    mh, mw = mask.shape[-2:]
    h, w = size
    if (mh, mw) == (h, w):
        return
    sh, sw = h / mh, w / mw
    if abs(sh - sw) > rel_tol * max(sh, sw) and not (abs(mh * sw - h) <= 1.0 or abs(mw * sh - w) <= 1.0):
        raise ValueError(
            f"{name} is {mh}x{mw} but the image/feature is {h}x{w} (another aspect ratio); "
            "give a mask drawn on the same image"
        )


def match_labels(
    content_labels: Tensor,
    style_labels: Tensor,
    *,
    min_size: int = MIN_REGION_SIZE,
    max_ratio: float = MAX_REGION_RATIO,
) -> list[int]:
    """Labels used for spatial control: the reference code's size thresholds.

    A label ``l`` of the content map is used when both regions exceed ``min_size`` positions and
    neither is ``max_ratio`` times the other (``c > 150 and s > 150 and c/s < 100 and s/c < 100``).
    The reference computes this once, on the masks at image resolution.

    Args:
        content_labels: ``(H, W)`` integer labels of one content image.
        style_labels: ``(H_s, W_s)`` integer labels of one style image.
        min_size: Minimum region size (exclusive), 150 in the reference.
        max_ratio: Maximum size ratio (exclusive), 100 in the reference.

    Returns:
        Sorted matched labels (may be empty).
    """
    c_vals, c_counts = torch.unique(content_labels, return_counts=True)
    s_vals, s_counts = torch.unique(style_labels, return_counts=True)
    s_size = dict(zip(s_vals.tolist(), s_counts.tolist(), strict=True))
    used = []
    for label, c in zip(c_vals.tolist(), c_counts.tolist(), strict=True):
        s = s_size.get(label, 0)
        if c > min_size and s > min_size and c / s < max_ratio and s / c < max_ratio:
            used.append(int(label))
    return used


@dataclass(frozen=True)
class Region:
    """One block of the per-sample objective: ``lam * ||F_P F_P^T / n_P - gram||^2``.

    Attributes:
        positions: ``(n_P,)`` long indices of the positions, or None for all ``n``.
        gram: ``(C, C)`` target Gram.
        lam: The term's weight (``lam * sum_w * n_P / n`` for a masked region).
    """

    positions: Tensor | None
    gram: Tensor
    lam: float


def region_objective(feat: Tensor, anchor: Tensor, regions: Sequence[Region]) -> Tensor:
    r"""One sample's objective ``||F - A||^2 + sum_r lam_r ||F_r F_r^T / n_r - G_r||^2``.

    Args:
        feat: ``(C, n)`` features of one sample.
        anchor: ``(C, n)`` anchor.
        regions: The style terms (see :func:`build_regions`).

    Returns:
        Scalar objective.
    """
    total = (feat - anchor).pow(2).sum()
    for region in regions:
        f = feat if region.positions is None else feat[:, region.positions]
        diff = f @ f.T / f.shape[1] - region.gram
        total = total + region.lam * diff.pow(2).sum()
    return total


def region_gradient(feat: Tensor, anchor: Tensor, regions: Sequence[Region]) -> Tensor:
    r"""Gradient of :func:`region_objective`.

    ``2 (F - A)`` plus, on each region's positions, ``(4 lam_r / n_r)(F_r F_r^T / n_r - G_r) F_r``.

    Args:
        feat: ``(C, n)`` features of one sample.
        anchor: ``(C, n)`` anchor.
        regions: The style terms.

    Returns:
        ``(C, n)`` gradient.
    """
    grad = 2.0 * (feat - anchor)
    for region in regions:
        if region.positions is None:
            grad = grad + (4.0 * region.lam / feat.shape[1]) * (
                (feat @ feat.T / feat.shape[1] - region.gram) @ feat
            )
        else:
            f = feat[:, region.positions]
            n_r = f.shape[1]
            extra = (4.0 * region.lam / n_r) * ((f @ f.T / n_r - region.gram) @ f)
            grad = grad.index_add(1, region.positions, extra)
    return grad


def build_regions(
    styles: Sequence[Tensor],
    weights: Sequence[float],
    lam: float,
    *,
    content_labels: Tensor | None = None,
    style_labels: Sequence[Tensor] | None = None,
    labels: Sequence[Sequence[int]] | None = None,
    unmatched: Unmatched = "keep",
    min_size: int = MIN_REGION_SIZE,
    max_ratio: float = MAX_REGION_RATIO,
) -> list[Region]:
    r"""The style terms of one sample's objective (no mask: one region over all positions).

    With masks, for each label ``l`` the styles ``k`` whose matched labels contain ``l`` and whose
    resized mask still has ``l`` give ``G_l = sum_k w_k G_{k,l} / sum_k w_k`` and
    ``lam_l = lam * (sum_k w_k) * n_l / n``; labels matched at image resolution but absent at this
    feature size are skipped (those positions keep their content feature at this level).

    Args:
        styles: ``q`` style features of this sample, each ``(C, m_k)``.
        weights: ``q`` raw weights (not normalised).
        lam: ``lam``.
        content_labels: ``(n,)`` labels of the content positions, or None.
        style_labels: ``q`` label vectors ``(m_k,)`` (required with ``content_labels``).
        labels: Per style, the matched labels (e.g. from :func:`match_labels` at image resolution);
            matched at this resolution when None.
        unmatched: ``"keep"`` (positions of unused labels keep the content feature: reference) or
            ``"global"`` (they get the weighted Gram of the whole styles).
        min_size: See :func:`match_labels` (only when ``labels`` is None).
        max_ratio: See :func:`match_labels` (only when ``labels`` is None).

    Returns:
        The regions (possibly empty: then the transform returns the anchor).
    """
    grams = [s @ s.T / s.shape[1] for s in styles]
    total = float(sum(weights))
    if content_labels is None:
        gram = sum(w / total * g for w, g in zip(weights, grams, strict=True))
        assert isinstance(gram, Tensor)
        return [Region(None, gram, lam * total)]
    if style_labels is None or len(style_labels) != len(styles):
        raise ValueError("spatial control needs one style label map per style")
    n = content_labels.numel()
    if labels is None:
        labels = [
            match_labels(content_labels[None], sl[None], min_size=min_size, max_ratio=max_ratio)
            for sl in style_labels
        ]
    regions: list[Region] = []
    covered = torch.zeros(n, dtype=torch.bool, device=content_labels.device)
    for label in sorted({int(v) for per_style in labels for v in per_style}):
        where = (content_labels == label).nonzero().flatten()
        if where.numel() == 0:
            continue
        acc, acc_w = None, 0.0
        for k, (style, sl) in enumerate(zip(styles, style_labels, strict=True)):
            if label not in labels[k] or weights[k] == 0:
                continue
            mask_k = sl == label
            m = int(mask_k.sum())
            if m == 0:
                continue
            s = style[:, mask_k]
            g = s @ s.T / m
            acc = weights[k] * g if acc is None else acc + weights[k] * g
            acc_w += weights[k]
        if acc is None:
            continue
        regions.append(Region(where, acc / acc_w, lam * acc_w * where.numel() / n))
        covered[where] = True
    if unmatched == "global":
        rest = (~covered).nonzero().flatten()
        if rest.numel():
            gram = sum(w / total * g for w, g in zip(weights, grams, strict=True))
            assert isinstance(gram, Tensor)
            regions.append(Region(rest, gram, lam * total * rest.numel() / n))
    elif unmatched != "keep":
        raise ValueError(f"unmatched must be 'keep' or 'global'; got {unmatched!r}")
    return regions


# ---------------------------------------------------------------------------------------- transform
def _step_direct(
    feat: Tensor, anchor: Tensor, regions: Sequence[Region], step: float, step_rule: StepRule
) -> Tensor:
    grad = region_gradient(feat, anchor, regions)
    if step_rule == "fixed":
        return feat - step * grad
    coeffs = _region_quartic_direct(feat, anchor, regions, grad)
    eta = quartic_minimizer(coeffs[None])[0]
    return feat - eta * grad


def _region_quartic_direct(feat: Tensor, anchor: Tensor, regions: Sequence[Region], grad: Tensor) -> Tensor:
    r = feat - anchor
    coeffs = _quartic_from_terms(
        content=r.pow(2).sum(),
        content_dir=(r * grad).sum(),
        dir_sq=grad.pow(2).sum(),
        e=feat.new_zeros(1, 1),
        s=feat.new_zeros(1, 1),
        p=feat.new_zeros(1, 1),
        lam=feat.new_tensor(0.0),
    )
    for region in regions:
        f = feat if region.positions is None else feat[:, region.positions]
        d = grad if region.positions is None else grad[:, region.positions]
        n_r = f.shape[1]
        e = f @ f.T / n_r - region.gram
        df = d @ f.T / n_r
        zero = feat.new_tensor(0.0)
        coeffs = coeffs + _quartic_from_terms(
            content=zero,
            content_dir=zero,
            dir_sq=zero,
            e=e,
            s=df + df.T,
            p=d @ d.T / n_r,
            lam=feat.new_tensor(region.lam),
        )
    return coeffs


@dataclass
class _MatrixRegion:
    """A region in matrix form: ``F_r = M F_c,r`` with ``K = F_c,r F_c,r^T`` and anchor ``A F_c,r``."""

    region: Region
    n_r: int
    k: Tensor
    m: Tensor
    a: Tensor


def _matrix_grad(mr: _MatrixRegion) -> tuple[Tensor, Tensor]:
    """``Q`` with ``dl/dF_r = Q F_c,r``, and ``E = M K M^T / n_r - G``, for one region."""
    e = mr.m @ mr.k @ mr.m.T / mr.n_r - mr.region.gram
    q = 2.0 * (mr.m - mr.a) + (4.0 * mr.region.lam / mr.n_r) * (e @ mr.m)
    return q, e


def _matrix_quartic(mr: _MatrixRegion, q: Tensor, e: Tensor) -> Tensor:
    """Quartic coefficients of one region's part of ``l(F - eta D)`` from ``C x C`` matrices only."""
    qk = q @ mr.k
    r = mr.m - mr.a
    df = qk @ mr.m.T / mr.n_r  # D F^T / n_r
    return _quartic_from_terms(
        content=(r @ mr.k * r).sum(),
        content_dir=(r @ mr.k * q).sum(),
        dir_sq=(qk * q).sum(),
        e=e,
        s=df + df.T,
        p=qk @ q.T / mr.n_r,
        lam=q.new_tensor(mr.region.lam),
    )


def _matrix_objective(states: Sequence[_MatrixRegion]) -> Tensor:
    """float64 objective of the matrix-form iterate, ``tr((M-A) K (M-A)^T) + lam ||M K M^T/n - G||^2``."""
    total = torch.zeros((), dtype=torch.float64, device=states[0].m.device)
    for st in states:
        r = st.m - st.a
        e = st.m @ st.k @ st.m.T / st.n_r - st.region.gram
        total = total + (r @ st.k * r).double().sum() + st.region.lam * e.double().pow(2).sum()
    return total


def _transform_one_matrix(
    content: Tensor,
    regions: Sequence[Region],
    *,
    step: float,
    step_rule: StepRule,
    n_upd: int,
    n_iter: int,
    trace: list[float] | None = None,
    check: bool = True,
) -> Tensor:
    """Matrix-form iteration for one sample ``(C, n)``; positions outside every region are returned as is.

    Cost: ``K = F_c F_c^T`` and the final ``M F_c`` touch the ``n`` positions (``2 C^2 n`` multiply-adds
    in all); each update costs three ``C x C`` products, whatever ``n``.
    """
    if not regions:
        if trace is not None:
            trace.extend([0.0] * (n_iter * (n_upd + 1)))
        return content.clone()
    c = content.shape[0]
    eye = torch.eye(c, dtype=content.dtype, device=content.device)
    states: list[_MatrixRegion] = []
    for region in regions:
        fc = content if region.positions is None else content[:, region.positions]
        states.append(_MatrixRegion(region, fc.shape[1], fc @ fc.T, eye, eye))
    for _ in range(n_iter):
        for st in states:
            st.a = st.m
        start = _matrix_objective(states) if check or trace is not None else None
        if trace is not None and start is not None:
            trace.append(float(start))
        for _ in range(n_upd):
            grads = [_matrix_grad(st) for st in states]
            if step_rule == "fixed":
                eta: Tensor | float = step
            else:
                coeffs = sum(_matrix_quartic(st, q, e) for st, (q, e) in zip(states, grads, strict=True))
                assert isinstance(coeffs, Tensor)
                eta = quartic_minimizer(coeffs[None])[0]
            for st, (q, _) in zip(states, grads, strict=True):
                st.m = st.m - eta * q
            if trace is not None:
                trace.append(float(_matrix_objective(states)))
        if check and start is not None:
            _check_progress(start, _matrix_objective(states), step_rule, step)
    if not all(bool(torch.isfinite(st.m).all()) for st in states):
        raise IFTDivergenceError(
            "IFT iteration diverged (non-finite C x C iterate): lower lam or step, or use "
            "step_rule='line_search'"
        )
    if len(states) == 1 and states[0].region.positions is None:
        return states[0].m @ content
    out = content.clone()
    for st in states:
        positions = st.region.positions
        assert positions is not None
        out[:, positions] = st.m @ content[:, positions]
    return out


def _transform_one_direct(
    content: Tensor,
    regions: Sequence[Region],
    *,
    step: float,
    step_rule: StepRule,
    n_upd: int,
    n_iter: int,
    trace: list[float] | None = None,
    check: bool = True,
) -> Tensor:
    """Reference-style iteration on ``F`` itself for one sample ``(C, n)``."""
    feat = content
    for _ in range(n_iter):
        anchor = feat
        start = (
            region_objective(anchor.double(), anchor.double(), regions)
            if check or trace is not None
            else None
        )
        if trace is not None and start is not None:
            trace.append(float(start))
        for _ in range(n_upd):
            feat = _step_direct(feat, anchor, regions, step, step_rule)
            if trace is not None:
                trace.append(float(region_objective(feat.double(), anchor.double(), regions)))
        if check and start is not None:
            _check_progress(start, region_objective(feat.double(), anchor.double(), regions), step_rule, step)
    return feat


def _check_progress(start: Tensor, end: Tensor, step_rule: StepRule, step: float) -> None:
    """Raise :class:`IFTDivergenceError` when a round ends non-finite or above its starting objective.

    The updates may oscillate (the reference's fixed step is not monotone for large ``lam / n``), but a
    round that ends above where it started has diverged: its features are not returned.
    """
    if not bool(torch.isfinite(end)) or float(end) > float(start) * (1.0 + 1e-6) + 1e-12:
        rule = f"fixed step {step:g}" if step_rule == "fixed" else "line search"
        raise IFTDivergenceError(
            f"IFT {rule} diverged: the objective went from {float(start):.4g} to {float(end):.4g}; "
            "lower lam or step, or use step_rule='line_search'"
        )


def ift_transform(
    content: Tensor,
    styles: Tensor | Sequence[Tensor],
    weights: Sequence[float] | Tensor | None = None,
    *,
    lam: float = 1e2,
    step: float = 0.01,
    step_rule: StepRule = "fixed",
    n_upd: int = 20,
    n_iter: int = 1,
    content_labels: Tensor | None = None,
    style_labels: Tensor | Sequence[Tensor] | None = None,
    labels: Sequence[Sequence[Sequence[int]]] | None = None,
    unmatched: Unmatched = "keep",
    min_size: int = MIN_REGION_SIZE,
    max_ratio: float = MAX_REGION_RATIO,
    algorithm: Algorithm = "auto",
    compute_dtype: torch.dtype | None = None,
    trace: list[Tensor] | None = None,
    check_divergence: bool = True,
) -> Tensor:
    r"""Iterative feature transformation of content features towards one or several styles' Grams.

    Per sample: ``F <- F_c``; for ``j in 1..n_iter``: ``A <- F``; ``n_upd`` times
    ``F <- F - eta * dl/dF`` (Eq. 2 summed over the regions, see the module docstring), ``eta = step``
    (``step_rule="fixed"``) or the exact line-search step (:func:`quartic_minimizer`, one ``eta`` per
    sample for the whole objective, as the reference's ``stylize_line``).

    Masks: label maps of any size with the image's aspect ratio are resized to the feature size by
    nearest neighbour (OpenCV ``INTER_NEAREST``, as the reference). Labels are matched per style with
    :func:`match_labels` unless ``labels`` gives them (the model matches once at image resolution,
    like the reference). Unknown labels (in the content only, or in a style only), regions below the
    size thresholds and labels whose region vanishes at this feature size are *not* errors: those
    positions keep the content feature (``unmatched="keep"``) or get the global style Gram
    (``"global"``). No mask configuration can produce NaN: every Gram divides by a non-empty region.

    Args:
        content: Content features ``(B, C, H, W)`` or ``(B, C, n)``.
        styles: One style feature ``(B|1, C, H_s, W_s)`` (or ``(B|1, C, m)``), or a sequence of them.
        weights: One weight ``>= 0`` per style (default ``1/q``; the reference multiplies ``lam`` by
            their sum).
        lam: Style weight ``lam >= 0`` (per level tables: :mod:`stylelab.methods.ift`).
        step: Fixed step ``eta > 0`` (reference 0.01); ignored by the line search.
        step_rule: ``"fixed"`` or ``"line_search"``.
        n_upd: Updates per round (the reference's ``n_iter`` keyword), ``>= 0``.
        n_iter: Outer rounds that re-anchor the content term [inferred], ``>= 1``.
        content_labels: ``(B, H', W')`` (or ``(H', W')``) integer labels of the content, or None.
        style_labels: One label map per style ``(B|1, H_s', W_s')``, required with ``content_labels``.
        labels: ``labels[b][k]``: the labels matched for sample ``b`` and style ``k``; None matches
            at the feature resolution.
        unmatched: ``"keep"`` or ``"global"`` (see above).
        min_size: Region size threshold of :func:`match_labels`.
        max_ratio: Region ratio threshold of :func:`match_labels`.
        algorithm: ``"matrix"`` (iterate on ``C x C`` matrices), ``"direct"`` (iterate on ``F``) or
            ``"auto"`` (matrix when ``n >= 2 C``, where it is cheaper).
        compute_dtype: dtype of the iteration (default: the content's, at least float32).
        trace: If a list is given, ``(B,)`` float64 objective values are appended to it: at the start
            of each round and after every update (``n_iter * (n_upd + 1)`` entries; each round's values
            use that round's anchor). Costs one objective evaluation per update.
        check_divergence: Raise when a round ends above its starting objective (two objective
            evaluations per round). ``False`` is the reference code's behaviour (whatever 15 fixed steps
            give is returned); non-finite features are still never returned.

    Returns:
        Transformed features, same shape and dtype as ``content``.

    Raises:
        ValueError: Bad shapes, parameters, weights, or a mask of another aspect ratio.
        IFTDivergenceError: A round ended above its starting objective or non-finite (lower ``lam``
            or ``step``, or use ``step_rule="line_search"``); diverged features are never returned.
    """
    if step_rule not in ("fixed", "line_search"):
        raise ValueError(f"step_rule must be 'fixed' or 'line_search'; got {step_rule!r}")
    if algorithm not in ("auto", "matrix", "direct"):
        raise ValueError(f"algorithm must be 'auto', 'matrix' or 'direct'; got {algorithm!r}")
    if unmatched not in ("keep", "global"):
        raise ValueError(f"unmatched must be 'keep' or 'global'; got {unmatched!r}")
    _check_lam(lam)
    if step_rule == "fixed" and not (step > 0 and step != float("inf")):
        raise ValueError(f"step must be finite and > 0; got {step}")
    if n_upd < 0 or n_iter < 1:
        raise ValueError(f"n_upd must be >= 0 and n_iter >= 1; got n_upd={n_upd}, n_iter={n_iter}")
    style_list = _as_list(styles)
    values, _ = normalize_style_weights(weights, len(style_list))
    fc = as_features(content, "content")
    if not bool(torch.isfinite(fc).all()):
        raise ValueError("content features contain NaN or inf")
    dtype = compute_dtype or (fc.dtype if fc.dtype in (torch.float32, torch.float64) else torch.float32)
    b, c, n = fc.shape
    feats = []
    for k, s in enumerate(style_list):
        f = as_features(s, f"styles[{k}]")
        if f.dim() != 3 or f.shape[1] != c or f.shape[0] not in (1, b):
            raise ValueError(
                f"styles[{k}] must have {c} channels and batch 1 or {b}; got shape {tuple(s.shape)}"
            )
        if not bool(torch.isfinite(f).all()):
            raise ValueError(f"styles[{k}] contains NaN or inf")
        feats.append(f.to(dtype))
    c_lab, s_labs = _prepare_labels(content, style_list, content_labels, style_labels, b)
    if labels is not None and len(labels) != b:
        raise ValueError(f"labels must have one entry per sample ({b}); got {len(labels)}")
    if n_upd == 0:
        return content.clone()
    use_matrix = algorithm == "matrix" or (algorithm == "auto" and n >= 2 * c)
    run = _transform_one_matrix if use_matrix else _transform_one_direct
    outs = []
    traces: list[list[float]] = []
    for i in range(b):
        sample_styles = [f[i if f.shape[0] > 1 else 0] for f in feats]
        regions = build_regions(
            sample_styles,
            values,
            lam,
            content_labels=None if c_lab is None else c_lab[i],
            style_labels=None if s_labs is None else [sl[i if sl.shape[0] > 1 else 0] for sl in s_labs],
            labels=None if labels is None else labels[i],
            unmatched=unmatched,
            min_size=min_size,
            max_ratio=max_ratio,
        )
        sample_trace: list[float] | None = [] if trace is not None else None
        outs.append(
            run(
                fc[i].to(dtype),
                regions,
                step=step,
                step_rule=step_rule,
                n_upd=n_upd,
                n_iter=n_iter,
                trace=sample_trace,
                check=check_divergence,
            )
        )
        if sample_trace is not None:
            traces.append(sample_trace)
    out = outs[0].unsqueeze(0) if b == 1 else torch.stack(outs)  # no copy of the n positions for b = 1
    if trace is not None:
        trace.extend(torch.tensor(traces, dtype=torch.float64).T.unbind(0))
    # the matrix form is finite iff its C x C iterates are (checked there, without a pass over n positions)
    if not use_matrix and not bool(torch.isfinite(out).all()):
        raise IFTDivergenceError(
            f"IFT iteration diverged (non-finite features) with lam={lam}, step={step}, n_upd={n_upd}: "
            "lower lam or step, or use step_rule='line_search'"
        )
    return out.reshape(content.shape).to(content.dtype)


def _prepare_labels(
    content: Tensor,
    styles: list[Tensor],
    content_labels: Tensor | None,
    style_labels: Tensor | Sequence[Tensor] | None,
    batch: int,
) -> tuple[Tensor | None, list[Tensor] | None]:
    """Flattened ``(B, n)`` content labels and per-style ``(B|1, m_k)`` labels at the feature sizes."""
    if content_labels is None and style_labels is None:
        return None, None
    if content_labels is None or style_labels is None:
        raise ValueError("spatial control needs both content_labels and style_labels (or neither)")
    s_list = _as_list(style_labels)
    if len(s_list) != len(styles):
        raise ValueError(f"got {len(s_list)} style label maps for {len(styles)} styles")

    def flat(labels: Tensor, feat: Tensor, name: str, batches: tuple[int, ...]) -> Tensor:
        if labels.dim() == 2:
            labels = labels.unsqueeze(0)
        if feat.dim() == 4:
            check_mask_matches(labels, tuple(feat.shape[-2:]), name)
            labels = resize_labels(labels, tuple(feat.shape[-2:]))
        elif labels.shape[-2] * labels.shape[-1] != feat.shape[-1]:
            raise ValueError(
                f"{name} has {labels.shape[-2] * labels.shape[-1]} positions but the flattened features "
                f"have {feat.shape[-1]}; pass 4-D features to resize masks"
            )
        if labels.shape[0] not in batches:
            raise ValueError(f"{name} batch must be one of {sorted(set(batches))}; got {labels.shape[0]}")
        return labels.reshape(labels.shape[0], -1).to(feat.device)

    check_mask_matches(content_labels, tuple(content_labels.shape[-2:]), "content_labels")
    c_flat = flat(content_labels, content, "content_labels", (1, batch))
    if c_flat.shape[0] == 1 and batch > 1:
        c_flat = c_flat.expand(batch, -1)
    s_flat = [
        flat(sl, s, f"style_labels[{k}]", (1, s.shape[0]))
        for k, (sl, s) in enumerate(zip(s_list, styles, strict=True))
    ]
    return c_flat, s_flat
