"""Iterative feature transformation: Eq. 1/2 against autograd, line search, masks, multi-style."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylelab.ops.ift import (
    IFTDivergenceError,
    Region,
    build_regions,
    ift_gradient,
    ift_objective,
    ift_quartic,
    ift_transform,
    match_labels,
    quartic_minimizer,
    region_gradient,
    region_objective,
    resize_labels,
    style_gram,
)

D = torch.float64


def _relu_features(b: int, c: int, n: int, seed: int, mean: float = 1.0) -> torch.Tensor:
    """Non-negative, correlated features whose channels average about ``mean`` (like vgg_normalised)."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(c, c, generator=g, dtype=D) / c**0.5
    x = torch.relu(torch.einsum("ij,bjn->bin", mix, torch.randn(b, c, n, generator=g, dtype=D)) + 0.3)
    return x * mean / x.mean()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


# ------------------------------------------------------------------------------- Eq. 2 == autograd
@pytest.mark.parametrize("lam", [0.0, 3.0, torch.tensor([0.5, 40.0], dtype=D)])
def test_analytic_gradient_matches_autograd_float64(lam: float | torch.Tensor) -> None:
    feat = torch.randn(2, 5, 4, 3, dtype=D, requires_grad=True)
    anchor = torch.randn(2, 5, 4, 3, dtype=D)
    gram, _ = style_gram(torch.randn(1, 5, 7, dtype=D))
    (auto,) = torch.autograd.grad(ift_objective(feat, anchor, gram, lam).sum(), feat)
    analytic = ift_gradient(feat.detach(), anchor, gram, lam)
    assert analytic.shape == feat.shape
    assert _rel(analytic, auto) < 1e-6


def test_objective_is_the_supplement_eq1() -> None:
    f, a, s = torch.randn(1, 3, 6, dtype=D), torch.randn(1, 3, 6, dtype=D), torch.randn(1, 3, 4, dtype=D)
    expected = ((f - a) ** 2).sum() + 2.5 * ((f[0] @ f[0].T / 6 - s[0] @ s[0].T / 4) ** 2).sum()
    torch.testing.assert_close(ift_objective(f, a, style_gram(s)[0], 2.5), expected.reshape(1))


def test_multi_style_gradient_equals_weighted_sum_of_style_terms() -> None:
    # lam sum_w ||G(F) - sum_k w_k G_k / sum_w||^2 and lam sum_k w_k ||G(F) - G_k||^2 differ by a constant
    feat = torch.randn(1, 4, 9, dtype=D, requires_grad=True)
    anchor = torch.randn(1, 4, 9, dtype=D)
    styles = [torch.randn(1, 4, 5, dtype=D), 2 * torch.randn(1, 4, 8, dtype=D)]
    weights, lam = [2.0, 0.5], 1.5
    n = feat.shape[-1]
    objective = ((feat - anchor) ** 2).sum()
    for w, s in zip(weights, styles, strict=True):
        objective = objective + lam * w * ((feat[0] @ feat[0].T / n - s[0] @ s[0].T / s.shape[-1]) ** 2).sum()
    (auto,) = torch.autograd.grad(objective, feat)
    gram, total = style_gram(styles, weights)
    assert total == pytest.approx(2.5)
    assert _rel(ift_gradient(feat.detach(), anchor, gram, lam * total), auto) < 1e-6


def test_region_gradient_matches_autograd() -> None:
    feat = torch.randn(4, 12, dtype=D, requires_grad=True)
    anchor = torch.randn(4, 12, dtype=D)
    regions = [
        Region(torch.tensor([0, 3, 5, 7]), style_gram(torch.randn(1, 4, 6, dtype=D))[0][0], 2.0),
        Region(torch.tensor([1, 2, 11]), torch.eye(4, dtype=D), 0.7),
    ]
    (auto,) = torch.autograd.grad(region_objective(feat, anchor, regions), feat)
    assert _rel(region_gradient(feat.detach(), anchor, regions), auto) < 1e-6


# ------------------------------------------------------------------------------- line search
def test_quartic_coefficients_reproduce_the_objective_along_the_gradient() -> None:
    f, a = torch.randn(2, 3, 10, dtype=D), torch.randn(2, 3, 10, dtype=D)
    gram, _ = style_gram(torch.randn(2, 3, 6, dtype=D))
    d = ift_gradient(f, a, gram, 4.0)
    coeffs = ift_quartic(f, a, gram, 4.0)
    torch.testing.assert_close(coeffs[:, 1], -(d**2).sum(dim=(1, 2)))  # q'(0) = -||D||^2
    for eta in (0.0, 0.03, 0.4, 2.0):
        q = sum(coeffs[:, k] * eta**k for k in range(5))
        torch.testing.assert_close(q, ift_objective(f - eta * d, a, gram, 4.0))


@pytest.mark.parametrize("seed", range(4))
def test_line_search_is_the_global_minimiser_and_beats_the_fixed_step(seed: int) -> None:
    torch.manual_seed(seed)
    f = _relu_features(2, 6, 20, seed)
    gram, _ = style_gram(_relu_features(1, 6, 15, seed + 10, mean=1.5))
    for lam in (1.0, 100.0, 1e4):
        coeffs = ift_quartic(f, f.clone(), gram, lam)
        eta = quartic_minimizer(coeffs)
        grid = torch.linspace(0, float(eta.max()) * 3 + 1.0, 20001, dtype=D)
        q_grid = sum(coeffs[:, k : k + 1] * grid**k for k in range(5))
        q_star = sum(coeffs[:, k] * eta**k for k in range(5))
        assert (eta >= 0).all()
        assert (q_star <= q_grid.min(dim=1).values + 1e-9 * q_grid.abs().max()).all()
        q_fixed = sum(coeffs[:, k] * 0.01**k for k in range(5))
        assert (q_star <= q_fixed).all()


def test_line_search_degenerate_cases() -> None:
    # no style term: the quartic is a parabola with vertex 1/2 (content term only, D = 2(F - A))
    f, a = torch.randn(1, 3, 5, dtype=D), torch.randn(1, 3, 5, dtype=D)
    eta = quartic_minimizer(ift_quartic(f, a, torch.zeros(3, 3, dtype=D), 0.0))
    torch.testing.assert_close(eta, torch.tensor([0.5], dtype=D))
    # zero gradient: stay
    assert quartic_minimizer(torch.zeros(1, 5, dtype=D)).item() == 0.0


def test_transform_line_search_lowers_objective_at_least_as_much_as_fixed_step() -> None:
    content = _relu_features(1, 8, 64, 3)
    style = _relu_features(1, 8, 40, 4, mean=2.0)
    gram, _ = style_gram(style)
    for lam in (1.0, 10.0):  # 100 overshoots with n = 64 positions (the style gradient scales as 1/n)
        fixed = ift_transform(content, style, lam=lam, n_upd=1, step=0.01)
        line = ift_transform(content, style, lam=lam, n_upd=1, step_rule="line_search")
        l_fixed = ift_objective(fixed, content, gram, lam)
        l_line = ift_objective(line, content, gram, lam)
        assert (l_line <= l_fixed).all() and (l_fixed < ift_objective(content, content, gram, lam)).all()


# ------------------------------------------------------------------------------- fixed-step descent
def test_each_default_fixed_step_lowers_the_objective_on_random_features() -> None:
    content = _relu_features(2, 64, 1024, 0)
    style = _relu_features(1, 64, 900, 1, mean=1.3)
    gram, _ = style_gram(style)
    lam, step = 1e2, 0.01  # the op's defaults
    feat = content
    values = [ift_objective(feat, content, gram, lam)]
    for _ in range(20):
        feat = feat - step * ift_gradient(feat, content, gram, lam)
        values.append(ift_objective(feat, content, gram, lam))
    assert all((b < a).all() for a, b in zip(values, values[1:], strict=False))
    # the same 20 steps through ift_transform (matrix form) land on the same features
    torch.testing.assert_close(ift_transform(content, style, n_upd=20), feat)
    # the property is not vacuous: a 100x larger lambda overshoots on these features
    big, feat = 1e4, content
    values = [ift_objective(feat, content, gram, big)]
    for _ in range(5):
        feat = feat - step * ift_gradient(feat, content, gram, big)
        values.append(ift_objective(feat, content, gram, big))
    assert any((b > a).any() for a, b in zip(values, values[1:], strict=False))


# ------------------------------------------------------------------------------- transform
def _reference_iter(c: torch.Tensor, gram: torch.Tensor, lr: float, lam: float, n_iter: int) -> torch.Tensor:
    """The released code's update loop (``utils/core.py``), restated for one sample ``(C, n)``."""
    feat, n = c, c.shape[-1]
    for _ in range(n_iter):
        grad = 2 * (feat - c) + 4 * lam / n * ((feat @ feat.T / n - gram) @ feat)
        feat = feat - lr * grad
    return feat


@pytest.mark.parametrize("algorithm", ["matrix", "direct"])
def test_n_iter_one_is_the_reference_loop(algorithm: str) -> None:
    content, style = _relu_features(2, 6, 30, 5), _relu_features(1, 6, 25, 6)
    out = ift_transform(content, style, lam=7.0, n_upd=12, algorithm=algorithm)
    for i in range(2):
        expected = _reference_iter(content[i], style_gram(style)[0][0], 0.01, 7.0, 12)
        torch.testing.assert_close(out[i], expected)


def test_outer_rounds_reanchor_at_the_previous_result() -> None:
    content, style = _relu_features(1, 5, 40, 7).reshape(1, 5, 5, 8), _relu_features(1, 5, 30, 8)
    twice = ift_transform(ift_transform(content, style, lam=5.0, n_upd=4), style, lam=5.0, n_upd=4)
    torch.testing.assert_close(ift_transform(content, style, lam=5.0, n_upd=4, n_iter=2), twice)
    assert not torch.allclose(ift_transform(content, style, lam=5.0, n_upd=8), twice)


@pytest.mark.parametrize("step_rule", ["fixed", "line_search"])
def test_matrix_form_equals_direct_form(step_rule: str) -> None:
    content = _relu_features(2, 6, 64, 9).reshape(2, 6, 8, 8)
    styles = [
        _relu_features(1, 6, 36, 10).reshape(1, 6, 6, 6),
        _relu_features(2, 6, 49, 11).reshape(2, 6, 7, 7),
    ]
    c_lab = torch.randint(0, 3, (2, 8, 8), generator=torch.Generator().manual_seed(0))
    s_lab = [torch.randint(0, 3, (1, 6, 6)), torch.randint(1, 4, (2, 7, 7))]
    for masks in ({}, {"content_labels": c_lab, "style_labels": s_lab, "min_size": 2}):
        kw = {"weights": [0.3, 0.9], "lam": 4.0, "n_upd": 5, "n_iter": 2, "step_rule": step_rule, **masks}
        torch.testing.assert_close(
            ift_transform(content, styles, algorithm="matrix", **kw),
            ift_transform(content, styles, algorithm="direct", **kw),
        )


def test_float32_matrix_form_stays_close_to_float64() -> None:
    content, style = _relu_features(1, 32, 400, 12), _relu_features(1, 32, 300, 13)
    ref = ift_transform(content, style, n_upd=15)
    out = ift_transform(content.float(), style.float(), n_upd=15)
    assert out.dtype == torch.float32 and _rel(out.double(), ref) < 1e-4


def test_weights_behave_like_a_weighted_objective() -> None:
    content, s1, s2 = (
        _relu_features(1, 4, 50, 14),
        _relu_features(1, 4, 30, 15),
        _relu_features(1, 4, 30, 16, 3.0),
    )
    # weight 0 removes a style; equal weights (1, 1) double lam relative to (0.5, 0.5)
    torch.testing.assert_close(
        ift_transform(content, [s1, s2], [1.0, 0.0], lam=3.0, n_upd=5),
        ift_transform(content, s1, lam=3.0, n_upd=5),
    )
    torch.testing.assert_close(
        ift_transform(content, [s1, s2], [1.0, 1.0], lam=3.0, n_upd=5),
        ift_transform(content, [s1, s2], lam=6.0, n_upd=5),
    )
    with pytest.raises(ValueError, match="one weight per style"):
        ift_transform(content, [s1, s2], [1.0])
    with pytest.raises(ValueError, match="sum to 0"):
        ift_transform(content, [s1, s2], [0.0, 0.0])
    with pytest.raises(ValueError, match=">= 0"):
        ift_transform(content, [s1, s2], [1.0, -1.0])


def test_bad_parameters_raise_clear_errors() -> None:
    x = torch.rand(1, 3, 4, 4)
    with pytest.raises(ValueError, match="lam"):
        ift_transform(x, x, lam=-1.0)
    with pytest.raises(ValueError, match="step"):
        ift_transform(x, x, step=0.0)
    with pytest.raises(ValueError, match="step_rule"):
        ift_transform(x, x, step_rule="armijo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channels"):
        ift_transform(x, torch.rand(1, 4, 4, 4))
    with pytest.raises(ValueError, match="NaN"):
        ift_transform(x, torch.full((1, 3, 4, 4), float("nan")))
    assert torch.equal(ift_transform(x, x, n_upd=0), x)


def test_divergence_is_reported_not_returned_as_nan() -> None:
    content = _relu_features(1, 8, 16, 17, mean=10.0)
    with pytest.raises(IFTDivergenceError, match="line_search"):
        ift_transform(content, _relu_features(1, 8, 16, 18, mean=30.0), lam=1e6, n_upd=30)
    out = ift_transform(
        content, _relu_features(1, 8, 16, 18, mean=30.0), lam=1e6, n_upd=30, step_rule="line_search"
    )
    assert torch.isfinite(out).all()


# ------------------------------------------------------------------------------- masks
def test_match_labels_uses_the_reference_thresholds() -> None:
    content = torch.zeros(40, 40, dtype=torch.long)
    content[:, :4] = 1  # 160 positions
    content[0, 4:] = 2  # 36 positions: too small
    style = torch.zeros(60, 60, dtype=torch.long)
    style[:3, :50] = 1  # 150 positions: not > 150
    assert match_labels(content, style) == [0]
    style[3, :1] = 1  # 151
    assert match_labels(content, style) == [0, 1]
    assert match_labels(content, style, min_size=10, max_ratio=2) == [1]  # 0: 1404 vs 3449 positions


def test_resize_labels_is_opencv_nearest() -> None:
    labels = torch.randint(0, 9, (2, 37, 53))
    for size in ((19, 27), (10, 14), (37, 53), (80, 100)):
        expected = F.interpolate(labels[:, None].double(), size=size, mode="nearest")[:, 0].long()
        assert torch.equal(resize_labels(labels, size), expected)


def test_masked_transform_is_the_reference_segmented_loop() -> None:
    # reference core_seg.stylize_iter: region Gram, gradient 4 lam / n_total (n_total = all positions)
    content = _relu_features(1, 4, 36, 19).reshape(1, 4, 6, 6)
    style = _relu_features(1, 4, 25, 20).reshape(1, 4, 5, 5)
    c_lab = torch.zeros(6, 6, dtype=torch.long)
    c_lab[:, 3:] = 1
    c_lab[0, 0] = 7  # unknown to the style: kept as content
    s_lab = torch.zeros(5, 5, dtype=torch.long)
    s_lab[2:] = 1
    lam, lr, steps = 30.0, 0.01, 6
    out = ift_transform(
        content, style, lam=lam, n_upd=steps, content_labels=c_lab, style_labels=s_lab, min_size=3
    )
    cf, sf = content[0].flatten(1), style[0].flatten(1)
    cl, sl = c_lab.flatten(), s_lab.flatten()
    feat, n = cf, cf.shape[1]
    for _ in range(steps):
        grad = 2 * (feat - cf)
        new = feat.clone()
        for label in (0, 1):
            f = feat[:, cl == label]
            s = sf[:, sl == label]
            upd = 4 * lam / n * ((f @ f.T / f.shape[1] - s @ s.T / s.shape[1]) @ f)
            new[:, cl == label] = f - lr * (grad[:, cl == label] + upd)
        feat = new
    torch.testing.assert_close(out[0].flatten(1), feat)
    assert torch.equal(out[0, :, 0, 0], content[0, :, 0, 0])


def test_masks_resize_per_level_and_never_give_nan() -> None:
    content = _relu_features(1, 6, 16, 21).reshape(1, 6, 4, 4)  # e.g. relu4_1 of a 32x32 image
    style = _relu_features(1, 6, 9, 22).reshape(1, 6, 3, 3)
    c_mask = torch.zeros(32, 32, dtype=torch.long)
    c_mask[:, 16:] = 1
    c_mask[5, 5] = 2  # a one-pixel region: vanishes at 4x4
    s_mask = torch.zeros(24, 24, dtype=torch.long)
    s_mask[:, 20:] = 1
    s_mask[0, 1] = 2  # present in the style at full size only
    labels = [[match_labels(c_mask, s_mask, min_size=0, max_ratio=1e9)]]
    assert labels[0][0] == [0, 1, 2]
    for unmatched in ("keep", "global"):
        out = ift_transform(
            content,
            style,
            lam=50.0,
            content_labels=c_mask,
            style_labels=s_mask,
            labels=labels,
            unmatched=unmatched,
        )
        assert torch.isfinite(out).all()
    # every position's label vanishes from the style at this size -> nothing to match -> content returned
    s_tiny = torch.full((24, 24), 5, dtype=torch.long)
    s_tiny[1, 1] = 0  # not sampled by the 24 -> 3 nearest resize (rows and columns 0, 8, 16)
    out = ift_transform(content, style, content_labels=c_mask, style_labels=s_tiny, labels=[[[0]]])
    assert torch.equal(out, content)


def test_unmatched_positions_keep_content_or_get_the_global_gram() -> None:
    content = _relu_features(1, 4, 64, 23).reshape(1, 4, 8, 8)
    style = _relu_features(1, 4, 64, 24).reshape(1, 4, 8, 8)
    c_lab = torch.zeros(1, 8, 8, dtype=torch.long)
    c_lab[..., 4:] = 3  # label 3 is not in the style mask
    s_lab = torch.zeros(1, 8, 8, dtype=torch.long)
    kw = {"lam": 20.0, "n_upd": 5, "content_labels": c_lab, "style_labels": s_lab, "min_size": 5}
    keep = ift_transform(content, style, **kw)
    assert torch.equal(keep[..., 4:], content[..., 4:]) and not torch.equal(keep[..., :4], content[..., :4])
    glob = ift_transform(content, style, unmatched="global", **kw)
    assert not torch.equal(glob[..., 4:], content[..., 4:])
    torch.testing.assert_close(glob[..., :4], keep[..., :4])


def test_bad_masks_raise_clear_errors() -> None:
    content, style = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    ok = torch.zeros(1, 16, 16, dtype=torch.long)
    with pytest.raises(ValueError, match="aspect ratio"):
        ift_transform(
            content, style, content_labels=torch.zeros(1, 16, 40, dtype=torch.long), style_labels=ok
        )
    with pytest.raises(ValueError, match="integer"):
        ift_transform(content, style, content_labels=ok.float(), style_labels=ok)
    with pytest.raises(ValueError, match="both"):
        ift_transform(content, style, content_labels=ok)
    with pytest.raises(ValueError, match="label maps for"):
        ift_transform(content, [style, style], content_labels=ok, style_labels=[ok])
    with pytest.raises(ValueError, match="one style label map per style"):
        build_regions([style[0].flatten(1)], [1.0], 1.0, content_labels=ok.flatten(), style_labels=None)


@pytest.mark.parametrize("algorithm", ["matrix", "direct"])
def test_trace_records_the_objective_of_every_iterate(algorithm: str) -> None:
    content, style = _relu_features(2, 5, 40, 25), _relu_features(1, 5, 30, 26)
    gram = style_gram(style)[0]
    trace: list[torch.Tensor] = []
    ift_transform(content, style, lam=3.0, n_upd=4, algorithm=algorithm, trace=trace)
    assert len(trace) == 5
    feat = content
    for k in range(5):
        torch.testing.assert_close(trace[k], ift_objective(feat, content, gram, 3.0))
        feat = feat - 0.01 * ift_gradient(feat, content, gram, 3.0)
