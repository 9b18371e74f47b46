from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylelab.methods.stylekernel.attention import ContentGate, GateConfig, gated_attention


def _qkv(b: int = 2, d: int = 8, n_c: int = 12, n_s: int = 10, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    q = F.normalize(torch.randn(b, d, n_c, generator=g, dtype=torch.float64), dim=1)
    k = F.normalize(torch.randn(b, d, n_s, generator=g, dtype=torch.float64), dim=1)
    v = torch.randn(b, 5, n_s, generator=g, dtype=torch.float64)
    return q, k, v


def test_without_cgm_is_softmax_attention() -> None:
    q, k, v = _qkv()
    out, stats = gated_attention(q, k, v, 10.0, chunk_elements=25)
    attn = torch.softmax(10.0 * q.transpose(1, 2) @ k, dim=-1)  # (B, N_c, N_s)
    torch.testing.assert_close(out, v @ attn.transpose(1, 2))
    assert stats.kept_fraction == 1.0 and stats.chunks == 6  # 25 // 10 = 2 rows per chunk


@pytest.mark.parametrize("stat", ["row_mean", "similarity_row_mean", "column_mean"])
@pytest.mark.parametrize("gate", ["ste", "soft"])
def test_chunking_does_not_change_values_or_gradients(stat: str, gate: str) -> None:
    q, k, v = _qkv()
    lam = torch.full((2, 12), 1.1, dtype=torch.float64, requires_grad=True)
    beta = torch.zeros(2, 12, dtype=torch.float64, requires_grad=True)
    config = GateConfig(stat, gate)  # type: ignore[arg-type]
    results = []
    for chunk in (None, 30, 1):
        out, _ = gated_attention(q, k, v, 5.0, lam, beta, config, chunk_elements=chunk)
        (grad_lam,) = torch.autograd.grad((out * v.new_ones(out.shape).cumsum(1)).sum(), lam)
        results.append((out, grad_lam))
    for out, grad in results[1:]:
        torch.testing.assert_close(out, results[0][0])
        torch.testing.assert_close(grad, results[0][1])


def test_hard_gate_keeps_entries_above_threshold_and_renormalises() -> None:
    q, k, v = _qkv(b=1)
    lam = torch.full((1, 12), 1.0, dtype=torch.float64)
    beta = torch.zeros(1, 12, dtype=torch.float64)
    out, stats = gated_attention(q, k, v, 8.0, lam, beta, GateConfig("row_mean", "ste"))
    attn = torch.softmax(8.0 * q.transpose(1, 2) @ k, dim=-1)
    mask = attn > attn.mean(dim=-1, keepdim=True)  # T = 1 * mean_v A + 0
    kept = attn * mask
    expected = v @ (kept / kept.sum(-1, keepdim=True)).transpose(1, 2)
    torch.testing.assert_close(out, expected)
    assert stats.kept_fraction == pytest.approx(mask.double().mean().item())


@pytest.mark.parametrize("relative_beta", [True, False])
def test_straight_through_gradient_is_identity_closed_form(relative_beta: bool) -> None:
    # Without renormalisation Z(u) = sum_v A m V with m = step(g) + g - sg(g) and
    # g = (A - lam r - beta s) / r, r = mean_v A = 1/N_s, s = r (relative beta) or 1 (absolute), so
    # dZ(u)/dbeta(u) = -sum_v A(u, v) V(v) * s / r.
    q, k, v = _qkv(b=1, n_c=4, n_s=6)
    lam = torch.full((1, 4), 0.5, dtype=torch.float64)
    beta = torch.zeros(1, 4, dtype=torch.float64, requires_grad=True)
    config = GateConfig(renormalize=False, relative_beta=relative_beta)
    out, _ = gated_attention(q, k, v, 3.0, lam, beta, config)
    (grad,) = torch.autograd.grad(out[0, 0].sum(), beta)
    attn = torch.softmax(3.0 * q.transpose(1, 2) @ k, dim=-1)[0]  # (4, 6)
    expected = -(attn * v[0, 0][None]).sum(-1) * (1.0 if relative_beta else 6.0)
    torch.testing.assert_close(grad[0], expected)


@pytest.mark.parametrize("gate", ["ste", "soft"])
def test_fully_masked_rows_keep_their_best_match_without_nan(gate: str) -> None:
    q, k, v = _qkv(b=1)
    lam = torch.zeros(1, 12, dtype=torch.float64)
    beta = torch.full((1, 12), 1e6, dtype=torch.float64, requires_grad=True)  # T far above every weight
    out, stats = gated_attention(q, k, v, 4.0, lam, beta, GateConfig(gate=gate))  # type: ignore[arg-type]
    best = (q.transpose(1, 2) @ k)[0].argmax(-1)
    torch.testing.assert_close(out[0], v[0][:, best])
    assert stats.empty_rows == 12 and stats.kept_fraction == pytest.approx(1 / 10)
    (out * torch.linspace(-1, 1, 5, dtype=torch.float64)[None, :, None]).sum().backward()
    assert torch.isfinite(beta.grad).all()
    if gate == "ste":  # the straight-through gradient survives the fallback: E_f can reopen the rows
        assert (beta.grad != 0).all()


def test_threshold_network_receives_gradient() -> None:
    torch.manual_seed(0)
    gate = ContentGate(channels=8, hidden=6)
    content = torch.rand(2, 8, 3, 4)
    lam, beta = gate(content)
    assert lam.shape == beta.shape == (2, 12)
    q = F.normalize(content.flatten(2), dim=1)
    k = F.normalize(torch.rand(2, 8, 10), dim=1)
    v = torch.randn(2, 8, 10)
    for config in (GateConfig("row_mean", "ste"), GateConfig("similarity_row_mean", "soft")):
        gate.zero_grad()
        lam, beta = gate(content)
        out, stats = gated_attention(q, k, v, 10.0, lam, beta, config)
        assert 0.0 < stats.kept_fraction < 1.0
        (out * torch.randn_like(out)).sum().backward()
        for name, p in gate.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_invalid_arguments() -> None:
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="both"):
        gated_attention(q, k, v, 1.0, lam=torch.zeros(2, 12))
    with pytest.raises(ValueError, match="threshold_stat"):
        GateConfig("median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_elements"):
        gated_attention(q, k, v, 1.0, chunk_elements=0)
    with pytest.raises(ValueError, match="positions"):
        gated_attention(q, k, v[..., :3], 1.0)


def test_chunks_bound_the_largest_attention_tensor(monkeypatch: pytest.MonkeyPatch) -> None:
    q, k, v = _qkv(n_c=12, n_s=10)
    shapes: list[tuple[int, ...]] = []
    softmax = torch.softmax

    def recording_softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
        shapes.append(tuple(x.shape))
        return softmax(x, dim=dim)

    monkeypatch.setattr(torch, "softmax", recording_softmax)
    lam, beta = torch.ones(2, 12, dtype=torch.float64), torch.zeros(2, 12, dtype=torch.float64)
    _, stats = gated_attention(q, k, v, 2.0, lam, beta, chunk_elements=30)
    assert stats.chunks == 4 and shapes == [(2, 3, 10)] * 4  # 30 // 10 = 3 query rows at a time


def test_literal_eq4_keeps_or_empties_whole_rows() -> None:
    # T = A (lambda r + beta r), r = 1/N_s: A > T <=> lambda + beta < N_s, whatever v is, so every row is
    # kept whole or falls back to its argmax; the default (leading A dropped) masks inside rows instead.
    q, k, v = _qkv(b=1)
    lam = torch.tensor([[1.0, 20.0] * 6], dtype=torch.float64)  # N_s = 10: odd rows are emptied
    beta = torch.zeros(1, 12, dtype=torch.float64)
    out, stats = gated_attention(q, k, v, 8.0, lam, beta, GateConfig(threshold_times_attention=True))
    attn = torch.softmax(8.0 * q.transpose(1, 2) @ k, dim=-1)
    best = F.one_hot(attn.argmax(-1), 10).double()
    weights = torch.where((lam < 10).unsqueeze(-1), attn, best)
    torch.testing.assert_close(out, v @ weights.transpose(1, 2))
    assert stats.empty_rows == 6 and stats.kept_fraction == pytest.approx((6 * 10 + 6) / 120)
    _, default = gated_attention(q, k, v, 8.0, lam.clamp(max=1.0), beta, GateConfig())
    assert 0 < default.kept_fraction < 1  # inside-row masking


def test_per_image_gate_predicts_one_pair_per_image() -> None:
    gate = ContentGate(16, hidden=8, per_position=False)
    torch.nn.init.normal_(gate.net[-1].weight, std=0.5)
    feat = torch.randn(2, 16, 3, 4, requires_grad=True)
    lam, beta = gate(feat)
    assert lam.shape == beta.shape == (2, 12)
    for t in (lam, beta):
        torch.testing.assert_close(t, t[:, :1].expand(-1, 12))
    per_position, _ = ContentGate(16, hidden=8)(feat)
    assert not torch.allclose(per_position, per_position[:, :1].expand(-1, 12))
    (lam.sum() + beta.sum()).backward()
    assert gate.net[0].weight.grad.abs().sum() > 0
