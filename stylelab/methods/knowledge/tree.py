r"""Hierarchical spherical k-means tree (paper Eq. 3-5) built with faiss, and beam routing.

Every internal node splits its patches into (at most) ``K`` clusters by k-means with cosine
assignment: centres are the normalised means of their members (``faiss.Kmeans(spherical=True)`` on
unit vectors, where ``argmin ||x - c||^2 = argmax <x, c>``), recursively down to ``depth`` levels
(reference code: K = 10, depth 2, so at most 100 leaves). A node with at most ``K`` patches, or whose
patches fall into a single cluster, is a leaf.

Nodes are numbered breadth first (0 = root), so the children of a node are a contiguous range; the
library entries are ordered leaf by leaf, so each leaf's members are a contiguous range too. The tree
is a handful of tensors (:meth:`Tree.state`), stored in the library folder as safetensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from stylelab.methods.knowledge.storage import LibraryFormatError

_STATE_KEYS = ("centers", "child_start", "child_count", "member_start", "member_count", "members")


def faiss_gpu_available() -> bool:
    """Whether the installed faiss was built with GPU support and sees a GPU."""
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss is a dependency
        return False
    return hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0


def spherical_kmeans(
    unit: Tensor, k: int, *, niter: int = 20, seed: int = 0, gpu: bool = False
) -> tuple[Tensor, Tensor]:
    """K-means with cosine assignment on unit vectors (faiss), then a final cosine assignment.

    Args:
        unit: ``(n, D)`` unit rows.
        k: Number of clusters (``<= n``).
        niter: Lloyd iterations.
        seed: faiss seed (initial centres are random distinct samples).
        gpu: Cluster on the GPU (needs faiss-gpu).

    Returns:
        ``(centres (k', D) unit, assignment (n,) in [0, k'))`` on ``unit``'s device, empty clusters
        removed (``k' <= k``).
    """
    import faiss

    n, dim = unit.shape
    data = np.ascontiguousarray(unit.detach().to("cpu", torch.float32).numpy())
    kmeans = faiss.Kmeans(
        dim, k, niter=niter, seed=seed, spherical=True, gpu=gpu, verbose=False,
        min_points_per_centroid=1, max_points_per_centroid=max(1, (n + k - 1) // k),
    )  # fmt: skip
    kmeans.train(data)
    centres = torch.from_numpy(np.array(kmeans.centroids, copy=True)).to(unit.device)
    centres = centres / centres.norm(dim=1, keepdim=True).clamp_min(1e-12)
    assignment = (unit @ centres.T).argmax(dim=1)
    used = torch.unique(assignment)
    remap = torch.full((k,), -1, dtype=torch.long, device=unit.device)
    remap[used] = torch.arange(used.numel(), device=unit.device)
    return centres[used], remap[assignment]


@dataclass
class Tree:
    """A hierarchical k-means tree over library entries.

    Attributes:
        centers: ``(M, D)`` unit centre of every node (row 0, the root, is zero).
        child_start: ``(M,)`` first child id (0 for leaves).
        child_count: ``(M,)`` number of children (0 for leaves).
        member_start: ``(M,)`` first position of the node's members in :attr:`members` (leaves).
        member_count: ``(M,)`` number of members (leaves; 0 for internal nodes).
        members: ``(N,)`` library entry ids ordered leaf by leaf.
        k: Branching factor it was built with.
        depth: Maximum depth it was built with.
    """

    centers: Tensor
    child_start: Tensor
    child_count: Tensor
    member_start: Tensor
    member_count: Tensor
    members: Tensor
    k: int
    depth: int

    @property
    def num_leaves(self) -> int:
        """Number of leaves."""
        return int((self.child_count == 0).sum())

    @property
    def leaves(self) -> Tensor:
        """Ids of the leaf nodes."""
        return torch.nonzero(self.child_count == 0).flatten()

    def to(self, device: str | torch.device) -> Tree:
        """Copy to ``device``."""
        return Tree(*(getattr(self, key).to(device) for key in _STATE_KEYS), k=self.k, depth=self.depth)

    def state(self) -> dict[str, Tensor]:
        """Tensors to store (see :meth:`from_state`)."""
        return {key: getattr(self, key).detach().cpu().contiguous() for key in _STATE_KEYS}

    @classmethod
    def from_state(cls, tensors: dict[str, Tensor], k: int, depth: int, num_entries: int, where: str) -> Tree:
        """Rebuild a stored tree and check it indexes exactly ``num_entries`` entries.

        Raises:
            LibraryFormatError: Missing tensors or an inconsistent tree (names ``where``).
        """
        try:
            tree = cls(*(tensors[key] for key in _STATE_KEYS), k=k, depth=depth)
        except KeyError as error:
            raise LibraryFormatError(f"{where}: the stored index lacks {error}") from error
        members = tree.members.long()
        ok = members.numel() == num_entries and bool(
            torch.equal(torch.sort(members).values, torch.arange(num_entries))
        )
        ok = (
            ok
            and int(tree.member_count.sum()) == num_entries
            and tree.centers.shape[0] == tree.child_count.shape[0]
        )
        if not ok:
            raise LibraryFormatError(
                f"{where}: the stored index does not match the library's {num_entries} patches"
            )
        return tree


def build_tree(
    unit: Tensor, k: int = 10, depth: int = 2, *, niter: int = 20, seed: int = 0, gpu: bool = False
) -> Tree:
    """Hierarchical spherical k-means over unit vectors.

    Args:
        unit: ``(N, D)`` unit library vectors.
        k: Clusters per node (code: 10).
        depth: Levels (code: 2).
        niter: k-means iterations per node.
        seed: Seed (per node ``seed + node id``).
        gpu: Run k-means on the GPU (faiss-gpu).

    Returns:
        The tree, on ``unit``'s device.

    Raises:
        ValueError: ``k < 2``, ``depth < 1`` or an empty library.
    """
    if k < 2 or depth < 1:
        raise ValueError(f"need k >= 2 and depth >= 1; got k={k}, depth={depth}")
    if unit.shape[0] == 0:
        raise ValueError("cannot index an empty library")
    device = unit.device
    # breadth-first: each entry is (member ids, centre, level)
    nodes: list[dict[str, Any]] = [{"members": torch.arange(unit.shape[0], device=device), "center": None,
                                    "level": 0, "children": []}]  # fmt: skip
    head = 0
    while head < len(nodes):
        node = nodes[head]
        members = node["members"]
        if node["level"] < depth and members.numel() > k:
            centres, assign = spherical_kmeans(unit[members], k, niter=niter, seed=seed + head, gpu=gpu)
            if centres.shape[0] > 1:
                for c in range(centres.shape[0]):
                    node["children"].append(len(nodes))
                    nodes.append({"members": members[assign == c], "center": centres[c],
                                  "level": node["level"] + 1, "children": []})  # fmt: skip
        head += 1
    count = len(nodes)
    centers = torch.zeros(count, unit.shape[1], device=device, dtype=unit.dtype)
    child_start = torch.zeros(count, dtype=torch.long)
    child_count = torch.zeros(count, dtype=torch.long)
    member_start = torch.zeros(count, dtype=torch.long)
    member_count = torch.zeros(count, dtype=torch.long)
    ordered: list[Tensor] = []
    position = 0
    for i, node in enumerate(nodes):
        if node["center"] is not None:
            centers[i] = node["center"]
        if node["children"]:
            child_start[i], child_count[i] = node["children"][0], len(node["children"])
        else:
            member_start[i], member_count[i] = position, node["members"].numel()
            position += node["members"].numel()
            ordered.append(node["members"])
    return Tree(centers, child_start.to(device), child_count.to(device), member_start.to(device),
                member_count.to(device), torch.cat(ordered), k=k, depth=depth)  # fmt: skip


def probe_widths(probes: int | Sequence[int], depth: int) -> list[int]:
    """Beam width per tree level: one int for every level, or one per level (top level first).

    Raises:
        ValueError: A width below 1, or a per-level list whose length is not ``depth``.
    """
    widths = [int(probes)] * depth if isinstance(probes, int) else [int(p) for p in probes]
    if len(widths) != depth or any(w < 1 for w in widths):
        raise ValueError(f"probes must be >= 1, one value or one per level of {depth}; got {probes}")
    return widths


def route(tree: Tree, queries: Tensor, probes: int | Sequence[int] = 1) -> tuple[Tensor, Tensor]:
    """Send each query down the tree, keeping the ``probes`` most similar nodes per level (beam search).

    With ``probes=1`` this is the paper's greedy single path: at each level the child centre with
    the highest cosine similarity to the full patch vector.

    Args:
        tree: The tree.
        queries: ``(Q, D)`` query vectors (any norm: only the ranking matters).
        probes: Beam width ``p`` (leaves visited per query), or one width per level (top level
            first; the last one is the number of leaves visited), e.g. ``(8, 16)``: keep the 8 best
            top-level nodes, then the 16 best of their children.

    Returns:
        ``(leaves (Q, p'), scores (Q, p'))`` with ``p' = min(p, reachable leaves)``; unused slots
        hold node ``-1`` and score ``-inf``.
    """
    widths = probe_widths(probes, tree.depth)
    device = queries.device
    count_q = queries.shape[0]
    frontier = torch.zeros(count_q, 1, dtype=torch.long, device=device)
    score = torch.zeros(count_q, 1, dtype=queries.dtype, device=device)
    k_max = max(1, int(tree.child_count.max()))
    child_start, child_count = tree.child_start.tolist(), tree.child_count.tolist()
    buffer: Tensor | None = None  # reused for every node's queries: no fresh allocation per node
    for level in range(tree.depth):
        if all(child_count[u] == 0 for u in torch.unique(frontier).tolist() if u >= 0):
            break
        beam = frontier.shape[1]
        cand = torch.full((count_q, beam, k_max), -1, dtype=torch.long, device=device)
        cand_score = torch.full((count_q, beam, k_max), float("-inf"), dtype=queries.dtype, device=device)
        for node in torch.unique(frontier).tolist():
            if node < 0:
                continue
            qi, bi = torch.nonzero(frontier == node, as_tuple=True)
            if child_count[node] == 0:  # a leaf reached early stays a candidate with its score
                cand[qi, bi, 0] = node
                cand_score[qi, bi, 0] = score[qi, bi]
                continue
            first, n = child_start[node], child_count[node]
            if qi.numel() == count_q and beam == 1:
                rows = queries
            else:
                if buffer is None:
                    buffer = torch.empty_like(queries)
                rows = torch.index_select(queries, 0, qi, out=buffer[: qi.numel()])
            sims = rows @ tree.centers[first : first + n].T
            cand[qi, bi, :n] = torch.arange(first, first + n, device=device)
            cand_score[qi, bi, :n] = sims
        width = min(widths[level], beam * k_max)
        score, pick = cand_score.flatten(1).topk(width, dim=1)
        frontier = cand.flatten(1).gather(1, pick)
        frontier[torch.isinf(score)] = -1
    return frontier, score
