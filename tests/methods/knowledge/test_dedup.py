from __future__ import annotations

import pytest
import torch

from stylelab.bench.memory import peak_memory_probe, process_high_water_mark_available
from stylelab.methods.knowledge.dedup import dedup_mask


def brute_force(vectors: torch.Tensor, threshold: float, rule: str) -> torch.Tensor:
    """Reference: the full P x P cosine matrix (the reference code's way)."""
    unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sim = unit @ unit.T
    zero = vectors.norm(dim=1) <= 1e-12
    keep = torch.ones(len(vectors), dtype=torch.bool)
    for i in range(len(vectors)):
        if zero[i]:
            keep[i] = not zero[:i].any()
            continue
        earlier = torch.arange(i) if rule == "earlier" else torch.nonzero(keep[:i]).flatten()
        keep[i] = not bool((sim[i, earlier] > threshold).any())
    return keep


@pytest.mark.parametrize("rule", ["earlier", "kept"])
@pytest.mark.parametrize("block", [1, 7, 64, 1000])
def test_blockwise_equals_full_matrix(rule: str, block: int) -> None:
    g = torch.Generator().manual_seed(0)
    base = torch.rand(40, 12, generator=g)
    # near-duplicates (noisy copies), exact copies and zero rows in random places
    vectors = torch.cat(
        [base, base[:25] + 0.05 * torch.rand(25, 12, generator=g), base[:5], torch.zeros(3, 12)]
    )
    vectors = vectors[torch.randperm(len(vectors), generator=g)]
    expected = brute_force(vectors, 0.97, rule)
    assert torch.equal(dedup_mask(vectors, 0.97, rule, block), expected)
    assert 0 < int(expected.sum()) < len(vectors)


def test_threshold_one_keeps_every_nonzero_patch_and_rules_differ() -> None:
    vectors = torch.rand(30, 8)
    assert dedup_mask(vectors, 1.0).all()
    # a chain a ~ b ~ c with a !~ c: "earlier" drops c (b is earlier), "kept" keeps c (b was dropped)
    angle = torch.tensor([0.0, 0.3, 0.6])
    chain = torch.stack([angle.cos(), angle.sin()], dim=1)
    t = float(torch.cos(torch.tensor(0.35)))
    assert dedup_mask(chain, t, "earlier").tolist() == [True, False, False]
    assert dedup_mask(chain, t, "kept").tolist() == [True, False, True]


@pytest.mark.skipif(not process_high_water_mark_available(), reason="needs Linux /proc peak-RSS reset")
def test_memory_does_not_grow_with_the_square_of_the_patch_count() -> None:
    # 30,000 patches: the full similarity matrix alone would take 30000^2 * 4 B = 3.6 GB
    count, dim = 30_000, 16
    # 100 random walks of 300 steps: neighbours are near-duplicates (like overlapping windows), each
    # walk's start is compared with every earlier block
    g = torch.Generator().manual_seed(0)
    vectors = torch.rand(count, dim, generator=g).view(100, 300, dim).cumsum(1).view(count, dim)
    torch.set_num_threads(1)  # many small blocks: one thread avoids OpenMP hand-off cost on shared CPUs
    probe = peak_memory_probe(torch.device("cpu"))
    probe.start()
    keep = dedup_mask(vectors, 0.999, "earlier", block_size=1024)
    reading = probe.stop()
    assert 0 < keep.sum() < count
    assert reading.peak_bytes is not None and reading.peak_bytes < 200 * 2**20  # blocks: ~1024^2 floats
