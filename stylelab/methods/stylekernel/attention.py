r"""Style Alignment Encoding (SAE) with Content-based Gating Modulation (CGM), computed in chunks.

SAE (paper Eq. 1-2): with content queries ``q_u``, style keys ``k_v`` and values ``v_v``::

    A(u, v)  = softmax_v( alpha * cos(q_u, k_v) )          (cosine attention, sharpness alpha)
    Z_cs(u)  = sum_v Abar(u, v) v_v

CGM (Eq. 3-5) as resolved by the spec's proposals (the paper's equations are inconsistent):

* ``E_f(Z_c)`` predicts a scale ``lambda(u)`` and a bias ``beta(u)`` per content position.
* threshold ``T(u, v) = lambda(u) * S(u, v) + beta(u) * r(u)`` where the statistic ``S`` is
  (``threshold_stat``):

  - ``"row_mean"`` [proposal, default]: ``S(u) = mean_v A(u, v)`` (= ``1 / N_s`` for a softmax row);
  - ``"similarity_row_mean"``: ``S(u) = mean_v M(u, v)`` over the pre-softmax similarity row ``M``
    (the cosine in SK); the mask then compares ``M`` (not ``A``) with ``T`` so both sides share a scale;
  - ``"column_mean"``: ``S(v) = mean_u A(u, v)``, how much attention style position ``v`` receives on
    average (first pass over every chunk; treated as a constant, no gradient).

  and ``r(u) = mean_v A(u, v)`` for the attention statistics (``1`` for the similarity statistic) when
  ``relative_beta`` (default), else ``r = 1``. With ``relative_beta`` the bias is predicted in units of the
  uniform attention weight, the scale ``lambda`` already lives in: a reparametrisation of the same
  thresholds that keeps ``beta`` O(1) (an absolute ``beta`` of O(1 / N_s) is moved far too fast by Adam and
  closes every row within a few steps).
* ``threshold_times_attention`` (the paper's Eq. 4 read literally, off by default [proposal: drop the
  leading A]): ``T(u, v) = A(u, v) * (lambda(u) S + beta(u) r(u))`` (for the similarity statistic, the
  similarity ``M`` multiplies). The mask then no longer depends on ``v`` for positive ``A``: each row is kept
  whole or emptied (and falls back to its argmax), which is why the default drops the leading ``A``.
* gap ``g(u, v) = (A(u, v) - T(u, v)) / r(u)``: dividing by the positive row constant leaves the hard mask
  unchanged and expresses the gap in units of the uniform weight.
* mask (``gate``): ``"ste"`` [proposal] ``m = step(g)`` forward, identity backward
  (``m = step(g) + g - stopgrad(g)``); ``"soft"``: ``m = sigmoid(g / tau)``.
* ``Abar = A * m``, rows renormalised to sum 1 [proposal; ``renormalize=False`` keeps the paper's
  un-normalised Eq. 5]. A row with nothing left (sum at most ``empty_eps``) keeps its best match (the
  argmax of ``A``) with weight 1, so no row divides by zero; its backward pass keeps the straight-through
  (or sigmoid) gradient, so ``E_f`` still learns to reopen rows it closed.

Memory: the ``N_c x N_s`` attention (``(H W / 64)^2`` entries at relu4_1) is never held whole: query
rows are processed in chunks of at most ``chunk_elements // N_s`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ThresholdStat = Literal["row_mean", "similarity_row_mean", "column_mean"]
GateMode = Literal["ste", "soft"]

THRESHOLD_STATS = ("row_mean", "similarity_row_mean", "column_mean")
GATE_MODES = ("ste", "soft")


@dataclass(frozen=True)
class GateConfig:
    """How CGM turns ``(lambda, beta)`` into a mask (see the module docstring).

    Attributes:
        threshold_stat: ``"row_mean"``, ``"similarity_row_mean"`` or ``"column_mean"``.
        gate: ``"ste"`` (hard forward, identity backward) or ``"soft"`` (sigmoid).
        tau: Temperature of the soft gate, in units of the gap (uniform-weight units for the attention
            statistics).
        renormalize: Renormalise each row of the gated attention to sum 1.
        relative_beta: ``beta`` in units of the row mean ``mean_v A`` (attention statistics only).
        empty_eps: A gated row whose sum is at most this is "empty" and keeps its argmax.
        threshold_times_attention: Eq. 4 literally, ``T = A (lambda S + beta r)`` (default off).
    """

    threshold_stat: ThresholdStat = "row_mean"
    gate: GateMode = "ste"
    tau: float = 0.5
    renormalize: bool = True
    relative_beta: bool = True
    empty_eps: float = 1e-12
    threshold_times_attention: bool = False

    def __post_init__(self) -> None:
        """Reject unknown modes early with the accepted values."""
        if self.threshold_stat not in THRESHOLD_STATS:
            raise ValueError(f"threshold_stat must be one of {THRESHOLD_STATS}; got {self.threshold_stat!r}")
        if self.gate not in GATE_MODES:
            raise ValueError(f"gate must be one of {GATE_MODES}; got {self.gate!r}")
        if self.tau <= 0:
            raise ValueError(f"tau must be > 0; got {self.tau}")


class ContentGate(nn.Module):
    """``E_f``: a small conv net on the content feature predicting ``lambda`` and ``beta`` per position.

    ``conv3x3(C -> hidden) - ReLU - conv3x3(hidden -> 2)`` with reflect padding [proposal], applied to the
    instance-normalised ``Z_c`` (``normalize_input``; raw VGG activations are large and would make the
    initial thresholds noisy) [proposal]. The last conv starts with small random weights and biases
    ``(lambda_init, beta_init)``, so at initialisation ``T ≈ lambda_init * S + beta_init * r`` (with the
    defaults: keep the attention weights above uniform).

    Args:
        channels: Channels of ``Z_c``.
        hidden: Width of the hidden layer.
        lambda_init: Initial bias of the ``lambda`` output.
        beta_init: Initial bias of the ``beta`` output.
        normalize_input: Instance-normalise ``Z_c`` before the convs.
        per_position: One ``(lambda, beta)`` per content position [proposal]; ``False``: the spatial mean of
            ``E_f``'s output, one pair per image (the paper does not give their shape).

    Shapes:
        ``(B, C, H, W)`` → ``lambda, beta``: ``(B, H * W)`` each.
    """

    def __init__(
        self,
        channels: int,
        hidden: int = 256,
        lambda_init: float = 1.0,
        beta_init: float = 0.0,
        normalize_input: bool = True,
        per_position: bool = True,
    ) -> None:
        super().__init__()
        self.normalize_input = normalize_input
        self.per_position = per_position
        self.net = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1, padding_mode="reflect"),
            nn.ReLU(),
            nn.Conv2d(hidden, 2, 3, padding=1, padding_mode="reflect"),
        )
        last = self.net[-1]
        assert isinstance(last, nn.Conv2d)
        with torch.no_grad():
            last.weight.normal_(0.0, 1e-3)
            last.bias.copy_(torch.tensor([lambda_init, beta_init]))

    def forward(self, content_feat: Tensor) -> tuple[Tensor, Tensor]:
        """``(lambda, beta)``, each ``(B, H * W)``, for ``content_feat`` ``(B, C, H, W)``."""
        x = F.instance_norm(content_feat) if self.normalize_input else content_feat
        out = self.net(x).flatten(2)
        if not self.per_position:
            out = out.mean(dim=2, keepdim=True).expand_as(out)
        return out[:, 0], out[:, 1]


def _chunk_rows(num_queries: int, num_keys: int, chunk_elements: int | None) -> int:
    if chunk_elements is None:
        return num_queries
    if chunk_elements < 1:
        raise ValueError(f"chunk_elements must be >= 1 or None; got {chunk_elements}")
    return max(1, min(num_queries, chunk_elements // num_keys))


def _gated_weights(
    attn: Tensor,
    sim: Tensor,
    lam: Tensor,
    beta: Tensor,
    column_stat: Tensor | None,
    config: GateConfig,
) -> tuple[Tensor, Tensor, int]:
    """Gated, renormalised attention of one chunk, its hard mask and its number of empty rows.

    Args:
        attn: Softmax attention ``(B, r, N_s)``.
        sim: Pre-softmax similarity ``(B, r, N_s)``.
        lam: ``(B, r)``.
        beta: ``(B, r)``.
        column_stat: ``(B, N_s)`` column means of ``attn`` (``"column_mean"`` only).
        config: Gate settings.

    Returns:
        ``(Abar, hard, empty)``: gated weights ``(B, r, N_s)``, the forward mask (0/1, detached) and how
        many rows fell back to their argmax.
    """
    lam, beta = lam.unsqueeze(-1), beta.unsqueeze(-1)
    if config.threshold_stat == "similarity_row_mean":
        threshold = lam * sim.mean(dim=-1, keepdim=True) + beta
        if config.threshold_times_attention:
            threshold = sim * threshold
        gap = sim - threshold
    else:
        row_mean = attn.mean(dim=-1, keepdim=True)
        stat = row_mean if config.threshold_stat == "row_mean" else column_stat.unsqueeze(1)  # type: ignore[union-attr]
        offset = beta * row_mean if config.relative_beta else beta
        threshold = lam * stat + offset
        if config.threshold_times_attention:
            threshold = attn * threshold
        gap = (attn - threshold) / row_mean
    hard = (gap > 0).to(attn.dtype)
    surrogate = gap if config.gate == "ste" else torch.sigmoid(gap / config.tau)
    forward = hard if config.gate == "ste" else surrogate
    empty = (attn * forward).sum(dim=-1, keepdim=True) <= config.empty_eps
    num_empty = int(empty.sum())
    if num_empty:
        best = F.one_hot(attn.argmax(dim=-1), attn.shape[-1]).to(attn.dtype)
        forward = torch.where(empty, best, forward)
        hard = torch.where(empty, best, hard)
    if config.gate == "ste" or num_empty:
        # value: `forward`; gradient: identity (STE) or the sigmoid's, also in rows kept by their argmax
        mask = forward + (surrogate - surrogate.detach())
        if config.gate == "soft":
            mask = torch.where(empty, mask, surrogate)
    else:
        mask = surrogate
    kept = attn * mask
    row_sum = kept.sum(dim=-1, keepdim=True)
    if config.renormalize:
        kept = kept / row_sum.clamp_min(config.empty_eps)
    return kept, hard.detach(), num_empty


@dataclass
class AttentionStats:
    """Diagnostics of one attention call.

    Attributes:
        kept_fraction: Mean of the hard CGM mask over all ``(u, v)`` pairs (1.0 without CGM).
        empty_rows: Number of rows that had nothing left and fell back to their argmax.
        chunks: Number of query chunks used.
    """

    kept_fraction: float
    empty_rows: int
    chunks: int


def gated_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    scale: Tensor | float,
    lam: Tensor | None = None,
    beta: Tensor | None = None,
    config: GateConfig | None = None,
    chunk_elements: int | None = 2**24,
) -> tuple[Tensor, AttentionStats]:
    r"""Attention ``softmax_v(scale * q_u . k_v)``, optionally CGM-gated, applied to ``value``; in chunks.

    Pass unit-norm ``query``/``key`` columns for SK's cosine attention. ``lam``/``beta`` ``None`` means no
    CGM (plain softmax attention).

    Args:
        query: ``(B, D, N_c)`` query vectors (columns).
        key: ``(B or 1, D, N_s)`` key vectors.
        value: ``(B or 1, C, N_s)`` value vectors.
        scale: Multiplier of the similarity before the softmax (SK's ``alpha``); scalar or 0-d tensor.
        lam: ``(B, N_c)`` CGM scale, or None.
        beta: ``(B, N_c)`` CGM bias, or None.
        config: Gate settings (default :class:`GateConfig`).
        chunk_elements: At most this many attention entries per sample are alive at once
            (``None``: all rows in one chunk).

    Returns:
        ``(Z, stats)`` with ``Z`` ``(B, C, N_c)`` the aggregated values.

    Raises:
        ValueError: On inconsistent shapes, or only one of ``lam``/``beta`` given.
    """
    if query.dim() != 3 or key.dim() != 3 or value.dim() != 3:
        raise ValueError(
            f"query, key, value must be (B, D, N); got {tuple(query.shape)}, {tuple(key.shape)}, "
            f"{tuple(value.shape)}"
        )
    if query.shape[1] != key.shape[1] or key.shape[2] != value.shape[2]:
        raise ValueError(
            f"query/key dims or key/value positions differ: {tuple(query.shape)}, {tuple(key.shape)}, "
            f"{tuple(value.shape)}"
        )
    if (lam is None) != (beta is None):
        raise ValueError("give both lam and beta (CGM) or neither (plain attention)")
    config = config or GateConfig()
    batch, num_queries, num_keys = query.shape[0], query.shape[2], key.shape[2]
    key = key.expand(batch, -1, -1)
    value = value.expand(batch, -1, -1)
    rows = _chunk_rows(num_queries, num_keys, chunk_elements)
    starts = range(0, num_queries, rows)

    def attention_of(start: int) -> tuple[Tensor, Tensor]:
        sim = torch.matmul(query[:, :, start : start + rows].transpose(1, 2), key)  # (B, r, N_s)
        return torch.softmax(scale * sim, dim=-1), sim

    column_stat: Tensor | None = None
    if lam is not None and config.threshold_stat == "column_mean":
        # first pass over every chunk; the statistic is treated as a constant (no gradient), which keeps
        # the memory of the second pass chunk-sized
        with torch.no_grad():
            total = query.new_zeros(batch, num_keys)
            for start in starts:
                total = total + attention_of(start)[0].sum(dim=1)
            column_stat = total / num_queries

    outputs: list[Tensor] = []
    kept = 0.0
    empty = 0
    for start in starts:
        attn, sim = attention_of(start)
        if lam is not None and beta is not None:
            stop = start + attn.shape[1]
            attn, hard, num_empty = _gated_weights(
                attn, sim, lam[:, start:stop], beta[:, start:stop], column_stat, config
            )
            kept += float(hard.sum())
            empty += num_empty
        outputs.append(torch.matmul(value, attn.transpose(1, 2)))  # (B, C, r)
    fraction = kept / (batch * num_queries * num_keys) if lam is not None else 1.0
    return torch.cat(outputs, dim=2), AttentionStats(fraction, empty, len(starts))
