from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch

from stylelab.methods.knowledge.index import (
    BHKMIndex,
    ExactIndex,
    FaissFlatIndex,
    HKMIndex,
    PQIndex,
    patch_bands,
    unit_rows,
)
from stylelab.methods.knowledge.tree import build_tree, route


def clustered(count: int, centres: int = 12, seed: int = 0) -> torch.Tensor:
    """Non-negative (ReLU-like) patches (count, 8, 4, 4) around a few centres."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(centres, 8 * 16, generator=g) ** 3
    which = torch.randint(0, centres, (count,), generator=g)
    return (base[which] + 0.15 * torch.rand(count, 8 * 16, generator=g)).view(count, 8, 4, 4)


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    library = clustered(1500)
    queries = clustered(300, seed=1)
    sims = unit_rows(queries.flatten(1)) @ unit_rows(library.flatten(1)).T
    return library, queries, sims


def test_exact_indexes_equal_brute_force(data: tuple[torch.Tensor, ...]) -> None:
    library, queries, sims = data
    best = sims.argmax(dim=1)
    for index in (ExactIndex(), FaissFlatIndex()):
        result = index.build(library).search(queries)
        assert (result.indices == best).float().mean() == 1.0  # recall 1.0
        torch.testing.assert_close(result.similarity, sims.max(dim=1).values)
        torch.testing.assert_close(result.scores, sims.max(dim=1).values, atol=1e-5, rtol=1e-5)


def test_haar_bands_match_pywavelets() -> None:
    patches = torch.randn(5, 3, 4, 4, dtype=torch.float64)
    bands = patch_bands(patches)  # (4, n, C*4)
    ca, (ch, cv, cd) = pywt.dwt2(patches.numpy(), "haar", axes=(-2, -1))
    expected = [ca, -cv, -ch, cd]  # LL, LH, HL, HH (see stylelab.ops.haar_packet)
    for band, reference in zip(bands, expected, strict=True):
        np.testing.assert_allclose(band.numpy(), reference.reshape(5, -1), atol=1e-12)


def test_tree_partitions_the_library_and_routes_greedily(data: tuple[torch.Tensor, ...]) -> None:
    library, queries, _ = data
    unit = unit_rows(library.flatten(1))
    tree = build_tree(unit, k=5, depth=2)
    assert torch.equal(torch.sort(tree.members).values, torch.arange(len(library)))
    assert tree.num_leaves <= 25 and int(tree.member_count.sum()) == len(library)
    q = unit_rows(queries.flatten(1))
    leaves, _ = route(tree, q, probes=1)
    # greedy path by hand: best child at each level
    for i in range(0, 300, 37):
        node = 0
        while int(tree.child_count[node]):
            first, n = int(tree.child_start[node]), int(tree.child_count[node])
            node = first + int((tree.centers[first : first + n] @ q[i]).argmax())
        assert int(leaves[i, 0]) == node
    # every member of a leaf is closest (cosine) to its own centre among its siblings' centres
    parent_of = {int(c): p for p in range(len(tree.child_count)) for c in
                 range(int(tree.child_start[p]), int(tree.child_start[p] + tree.child_count[p]))}  # fmt: skip
    for leaf in tree.leaves.tolist()[:5]:
        members = tree.members[tree.member_start[leaf] : tree.member_start[leaf] + tree.member_count[leaf]]
        p = parent_of[leaf]
        siblings = tree.centers[tree.child_start[p] : tree.child_start[p] + tree.child_count[p]]
        assert torch.all((unit[members] @ siblings.T).argmax(1) + tree.child_start[p] == leaf)


def test_per_level_probes_keep_the_best_nodes_of_each_level(data: tuple[torch.Tensor, ...]) -> None:
    library, queries, _ = data
    tree = build_tree(unit_rows(library.flatten(1)), k=5, depth=2)
    q = unit_rows(queries.flatten(1))
    top = torch.arange(int(tree.child_start[0]), int(tree.child_start[0] + tree.child_count[0]))
    # every top-level node kept: the visited leaves are the best 6 leaves of the whole tree
    leaves, scores = route(tree, q, probes=(len(top), 6))
    deep = [c for t in top.tolist() for c in range(int(tree.child_start[t]), int(tree.child_start[t]
            + tree.child_count[t]))] or top.tolist()  # fmt: skip
    expected = (q @ tree.centers[deep].T).topk(6, dim=1)
    torch.testing.assert_close(scores, expected.values)
    assert torch.equal(leaves, torch.tensor(deep)[expected.indices])
    # a narrower first level only visits children of its 2 best top-level nodes
    narrow, _ = route(tree, q, probes=[2, 6])
    best_top = top[(q @ tree.centers[top].T).topk(2, dim=1).indices]
    parent = torch.zeros(tree.centers.shape[0], dtype=torch.long)
    for t in top.tolist():
        parent[int(tree.child_start[t]) : int(tree.child_start[t] + tree.child_count[t])] = t
    assert bool((parent[narrow] == best_top[:, :1]).logical_or(parent[narrow] == best_top[:, 1:]).all())
    # an int is the same width at every level
    assert torch.equal(route(tree, q, probes=3)[0], route(tree, q, probes=(3, 3))[0])
    index = HKMIndex(k=5, depth=2, probes=(2, 6), tree=tree).build(library)
    assert "p=2/6" in index.describe()


def test_bhkm_with_all_bands_equals_hkm_and_all_probes_equal_exact(data: tuple[torch.Tensor, ...]) -> None:
    library, queries, sims = data
    hkm = HKMIndex(k=6, depth=2).build(library)
    four = BHKMIndex(("LL", "LH", "HL", "HH"), k=6, depth=2, tree=hkm.tree).build(library)
    a, b = hkm.search(queries), four.search(queries)
    assert torch.equal(a.indices, b.indices)  # the Haar packet is orthonormal
    everywhere = BHKMIndex(("LL", "LH", "HL", "HH"), k=6, depth=2, probes=36, tree=hkm.tree).build(library)
    assert torch.equal(everywhere.search(queries).indices, sims.argmax(dim=1))


def test_band_matching_is_the_cosine_of_the_chosen_bands(data: tuple[torch.Tensor, ...]) -> None:
    library, queries, _ = data
    index = BHKMIndex(("LL", "HL"), k=4, depth=1, probes=4).build(library)  # every leaf visited
    result = index.search(queries)
    band = patch_bands(unit_rows(library.flatten(1)).view_as(library))[[0, 2]]
    qband = patch_bands(unit_rows(queries.flatten(1)).view_as(queries))[[0, 2]]
    lib_vec = unit_rows(torch.cat([band[0], band[1]], dim=1))
    q_vec = unit_rows(torch.cat([qband[0], qband[1]], dim=1))
    expected = (q_vec @ lib_vec.T).max(dim=1)
    torch.testing.assert_close(result.scores, expected.values, atol=1e-5, rtol=1e-5)


def test_more_probes_never_lower_hkm_recall_and_full_rerank_equals_hkm(
    data: tuple[torch.Tensor, ...],
) -> None:
    library, queries, sims = data
    best = sims.argmax(dim=1)
    base = HKMIndex(k=16, depth=1).build(library)  # one level: the p visited leaves are nested in p
    recalls = []
    for probes in (1, 4, 16):
        index = HKMIndex(k=16, depth=1, probes=probes, tree=base.tree).build(library)
        recalls.append(float((index.search(queries).indices == best).float().mean()))
    assert recalls == sorted(recalls) and recalls[-1] == 1.0 and recalls[0] < 1.0
    # band matching + re-ranking every candidate on the full vector = full-vector matching
    hkm = HKMIndex(k=8, depth=2, probes=3).build(library)
    reranked = BHKMIndex(("LL",), k=8, depth=2, probes=3, rerank=10_000, tree=hkm.tree).build(library)
    assert torch.equal(reranked.search(queries).indices, hkm.search(queries).indices)


def test_pq_is_approximate_but_close(data: tuple[torch.Tensor, ...]) -> None:
    library, queries, sims = data
    result = PQIndex(subquantizers=16, bits=6).build(library).search(queries)
    ratio = result.similarity / sims.max(dim=1).values
    assert bool((result.indices >= 0).all()) and bool((ratio <= 1 + 1e-5).all())
    assert float(ratio.mean()) > 0.95


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="bands"):
        BHKMIndex(("LL", "XX"))
    with pytest.raises(ValueError, match="probes"):
        HKMIndex(probes=0)
    with pytest.raises(ValueError, match="one per level of 2"):
        HKMIndex(depth=2, probes=(4, 8, 16))
    index = ExactIndex().build(torch.rand(10, 2, 4, 4))
    with pytest.raises(ValueError, match="same encoder layer"):
        index.search(torch.rand(3, 3, 4, 4))
