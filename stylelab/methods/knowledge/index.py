r"""Nearest-neighbour search over library patches: BHKM and its baselines behind one interface.

Every index answers "which library patch has the highest cosine similarity (NCC, paper Eq. 2) to
this query patch" for a batch of query patches ``(Q, C, k, k)``:

======================  ============================================================================
``exact``               brute force: unit vectors, batched matrix product on the library's device
``faiss_flat``          brute force with ``faiss.IndexFlatIP`` (exact; same answer as ``exact``)
``pq``                  product quantisation, ``faiss.IndexPQ`` with inner product (approximate)
``hkm``                 hierarchical k-means tree, full vectors compared in the leaf
``bhkm``                the paper's Bandpass HKM: same tree, the leaf compares only the chosen Haar
                        wavelet-packet bands (default LL, LH, HL) of the 4x4 patches
======================  ============================================================================

Tree indexes route queries with beam width ``probes`` (1 = the paper's greedy path) and may
re-rank the ``rerank`` best band matches of each visited leaf on the full vectors (both beyond
the paper). Every search returns the index's own score and the true full-patch cosine of the
returned entry, so approximate indexes can be scored against ``exact`` (recall@1, similarity ratio).

The Haar packet is orthonormal, so matching on all four bands ranks exactly like matching on the
full vector: 4-BHKM returns the same entries as HKM (the paper's Table 2 times them separately).
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from stylelab.methods.knowledge.tree import Tree, build_tree, faiss_gpu_available, probe_widths, route
from stylelab.ops import haar_packet

BANDS = ("LL", "LH", "HL", "HH")
#: The n-BHKM convention: the first n bands of this order (reference code: 3 = LL, LH, HL).
DEFAULT_BANDS = ("LL", "LH", "HL")
_CHUNK_ELEMENTS = 1 << 26  # similarity block of at most 64 Mi floats (256 MiB)


def unit_rows(x: Tensor) -> Tensor:
    """Rows of ``x (n, D)`` scaled to unit norm (zero rows stay zero)."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def probe_label(probes: int | Sequence[int]) -> str:
    """``8`` or, per level, ``4/16``."""
    return str(probes) if isinstance(probes, int) else "/".join(str(p) for p in probes)


def first_bands(count: int) -> tuple[str, ...]:
    """The ``count`` bands of an ``count``-BHKM: LL, then LH, HL, HH."""
    if not 1 <= count <= 4:
        raise ValueError(f"a BHKM uses 1 to 4 bands; got {count}")
    return BANDS[:count]


@dataclass
class SearchResult:
    """Answer of a search for ``Q`` query patches.

    Attributes:
        indices: ``(Q,)`` long, library entry of each match.
        scores: ``(Q,)`` the index's own matching score (cosine on the compared part, or PQ's
            approximate inner product).
        similarity: ``(Q,)`` true cosine between the full query patch and the returned patch.
    """

    indices: Tensor
    scores: Tensor
    similarity: Tensor


class PatchIndex(ABC):
    """Cosine nearest-neighbour search over a library's patches.

    Subclasses implement :meth:`_build` and :meth:`_search`; :meth:`build` normalises the library
    once, :meth:`search` accepts patches ``(Q, C, k, k)`` or vectors ``(Q, D)``.
    """

    kind: ClassVar[str] = ""

    def __init__(self) -> None:
        self.unit: Tensor | None = None
        self.patch_shape: tuple[int, ...] = ()

    def build(self, patches: Tensor, unit: Tensor | None = None) -> PatchIndex:
        """Index library patches.

        Args:
            patches: ``(N, C, k, k)`` library patches on the search device.
            unit: Their unit vectors ``(N, D)`` if already computed (shared between indexes).

        Returns:
            ``self``.
        """
        if patches.dim() != 4 or patches.shape[0] == 0:
            raise ValueError(f"library patches must be a non-empty (N, C, k, k); got {tuple(patches.shape)}")
        self.patch_shape = tuple(patches.shape[1:])
        self.unit = (unit if unit is not None else unit_rows(patches.flatten(1).float())).contiguous()
        self._build(patches)
        return self

    def search(self, queries: Tensor) -> SearchResult:
        """Best library entry for each query patch.

        Args:
            queries: ``(Q, C, k, k)`` patches (or ``(Q, D)`` vectors) on the index's device.

        Returns:
            The matches.
        """
        if self.unit is None:
            raise RuntimeError(f"{type(self).__name__}.search called before build()")
        # unfolded patches are a transposed view: make rows contiguous (row gathers are the hot path)
        vectors = queries.reshape(queries.shape[0], -1).float().contiguous()
        if vectors.shape[1] != self.unit.shape[1]:
            raise ValueError(
                f"query patches have {vectors.shape[1]} values, library patches {self.unit.shape[1]} "
                f"(shape {self.patch_shape}); use the same encoder layer and window"
            )
        if vectors.shape[0] == 0:
            empty = torch.empty(0, device=vectors.device)
            return SearchResult(empty.long(), empty, empty)
        q_unit = unit_rows(vectors)
        indices, scores = self._search(q_unit)
        similarity = (q_unit * self.unit[indices]).sum(dim=1)
        return SearchResult(indices, scores, similarity)

    @abstractmethod
    def _build(self, patches: Tensor) -> None:
        """Build the structure from ``patches`` and :attr:`unit`."""

    @abstractmethod
    def _search(self, q_unit: Tensor) -> tuple[Tensor, Tensor]:
        """``(indices (Q,), scores (Q,))`` for unit queries ``(Q, D)``."""

    def describe(self) -> str:
        """Short label for tables."""
        return self.kind


def _chunked_argmax(q_unit: Tensor, unit: Tensor) -> tuple[Tensor, Tensor]:
    """Row-wise max of ``q_unit @ unit.T`` computed in query chunks (bounded memory)."""
    rows = max(1, _CHUNK_ELEMENTS // max(1, unit.shape[0]))
    best, where = [], []
    for start in range(0, q_unit.shape[0], rows):
        value, index = (q_unit[start : start + rows] @ unit.T).max(dim=1)
        best.append(value)
        where.append(index)
    return torch.cat(where), torch.cat(best)


class ExactIndex(PatchIndex):
    """Brute force ("traverse"): the cosine with every library patch, batched matrix products."""

    kind = "exact"

    def _build(self, patches: Tensor) -> None:
        pass

    def _search(self, q_unit: Tensor) -> tuple[Tensor, Tensor]:
        assert self.unit is not None
        return _chunked_argmax(q_unit, self.unit)


class _FaissIndex(PatchIndex):
    """Shared plumbing of the faiss indexes (CPU numpy in, torch out)."""

    def __init__(self) -> None:
        super().__init__()
        self._faiss: Any = None

    def _search(self, q_unit: Tensor) -> tuple[Tensor, Tensor]:
        data = np.ascontiguousarray(q_unit.detach().to("cpu", torch.float32).numpy())
        scores, ids = self._faiss.search(data, 1)
        device = q_unit.device
        return torch.from_numpy(ids[:, 0]).long().to(device), torch.from_numpy(scores[:, 0]).to(device)

    def _maybe_gpu(self, index: Any) -> Any:
        import faiss

        if self.unit is not None and self.unit.device.type == "cuda" and faiss_gpu_available():
            return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), self.unit.device.index or 0, index)
        return index


class FaissFlatIndex(_FaissIndex):
    """Exact inner-product search with ``faiss.IndexFlatIP`` over unit vectors."""

    kind = "faiss_flat"

    def _build(self, patches: Tensor) -> None:
        import faiss

        assert self.unit is not None
        index = faiss.IndexFlatIP(self.unit.shape[1])
        index.add(np.ascontiguousarray(self.unit.detach().to("cpu", torch.float32).numpy()))
        self._faiss = self._maybe_gpu(index)


class PQIndex(_FaissIndex):
    """Product quantisation (``faiss.IndexPQ``, inner product) over unit vectors.

    The paper gives no PQ parameters; these defaults give 64-byte codes for 4096-d patches.

    Args:
        subquantizers: Number of sub-vectors ``M`` (must divide D; 4096 / 64 = 64-d sub-vectors).
        bits: Bits per sub-quantizer code (reduced to ``floor(log2 N)`` for tiny libraries).
        train_size: At most this many library vectors (random subset) train the codebooks.
        niter: k-means iterations of each codebook.
        seed: Sampling seed for the training subset.
    """

    kind = "pq"

    def __init__(
        self, subquantizers: int = 64, bits: int = 8, train_size: int = 10000, niter: int = 10, seed: int = 0
    ) -> None:
        super().__init__()
        self.subquantizers, self.bits, self.train_size = subquantizers, bits, train_size
        self.niter, self.seed = niter, seed

    def _build(self, patches: Tensor) -> None:
        import faiss

        assert self.unit is not None
        count, dim = self.unit.shape
        if dim % self.subquantizers:
            raise ValueError(f"PQ needs D={dim} divisible by subquantizers={self.subquantizers}")
        bits = max(1, min(self.bits, int(math.floor(math.log2(max(2, count))))))
        index = faiss.IndexPQ(dim, self.subquantizers, bits, faiss.METRIC_INNER_PRODUCT)
        data = np.ascontiguousarray(self.unit.detach().to("cpu", torch.float32).numpy())
        rng = np.random.default_rng(self.seed)
        subset = None
        if count > self.train_size:
            subset = np.sort(rng.choice(count, self.train_size, replace=False))
        index.pq.cp.min_points_per_centroid = 1
        index.pq.cp.niter = self.niter
        index.train(data if subset is None else data[subset])
        index.add(data)
        self._faiss = index  # IndexPQ has no GPU counterpart in faiss; search stays on CPU
        self.bits_used = bits

    def describe(self) -> str:
        """Label with the code size."""
        return f"pq M={self.subquantizers} x {getattr(self, 'bits_used', self.bits)} bits"


class TreeIndex(PatchIndex):
    """Hierarchical k-means tree; subclasses decide what the leaf compares.

    Args:
        k: Clusters per node (code 10).
        depth: Tree depth (code 2).
        probes: Beam width (1 = paper's greedy path; = leaves visited per query), or one width per
            tree level, top level first, e.g. ``(8, 16)`` (see :func:`~.tree.route`).
        rerank: If > 0, re-rank the best ``rerank`` candidates of each visited leaf on the full
            vectors (beyond the paper; 0 = off).
        niter: k-means iterations per node.
        seed: k-means seed.
        tree: A prebuilt (stored) tree to reuse instead of clustering.
    """

    def __init__(
        self,
        k: int = 10,
        depth: int = 2,
        probes: int | Sequence[int] = 1,
        rerank: int = 0,
        niter: int = 20,
        seed: int = 0,
        tree: Tree | None = None,
    ) -> None:
        super().__init__()
        if rerank < 0:
            raise ValueError(f"rerank must be >= 0; got {rerank}")
        probe_widths(probes, depth)  # validates
        probes = probes if isinstance(probes, int) else tuple(int(p) for p in probes)
        self.k, self.depth, self.probes, self.rerank, self.niter, self.seed = (
            k,
            depth,
            probes,
            rerank,
            niter,
            seed,
        )
        self.tree = tree

    def _build(self, patches: Tensor) -> None:
        assert self.unit is not None
        if self.tree is None or self.tree.members.numel() != self.unit.shape[0]:
            gpu = self.unit.device.type == "cuda" and faiss_gpu_available()
            self.tree = build_tree(self.unit, self.k, self.depth, niter=self.niter, seed=self.seed, gpu=gpu)
        else:
            self.tree = self.tree.to(self.unit.device)
        self._prepare_leaves(patches)

    @abstractmethod
    def _prepare_leaves(self, patches: Tensor) -> None:
        """Lay out the leaf data (entries ordered as ``tree.members``)."""

    @abstractmethod
    def _leaf_scores(self, queries: Tensor, start: int, stop: int) -> Tensor:
        """Scores ``(n, stop - start)`` of query data rows ``(n, d)`` against leaf positions."""

    @abstractmethod
    def _query_data(self, q_unit: Tensor) -> Tensor:
        """Per-query data ``(Q, d)`` the leaf comparison needs."""

    def _search(self, q_unit: Tensor) -> tuple[Tensor, Tensor]:
        assert self.tree is not None and self.unit is not None
        tree = self.tree
        leaves, _ = route(tree, q_unit, self.probes)
        query = self._query_data(q_unit)
        count_q, width = leaves.shape
        # (query, probe) pairs sorted by leaf: each leaf's queries are one contiguous run, so the loop
        # below does three tensor operations per visited leaf (gather, matrix product, max)
        flat = leaves.flatten()
        order = torch.argsort(flat, stable=True)
        runs, lengths = torch.unique_consecutive(flat[order], return_counts=True)
        rows_sorted = order // width
        starts, counts = tree.member_start.tolist(), tree.member_count.tolist()
        values: list[Tensor] = []
        positions: list[Tensor] = []
        done: list[Tensor] = []
        buffer = torch.empty_like(query)  # reused by every leaf: no fresh allocation per leaf
        position = 0
        for leaf, length in zip(runs.tolist(), lengths.tolist(), strict=True):
            rows = rows_sorted[position : position + length]
            pairs = order[position : position + length]
            position += length
            if leaf < 0:
                continue
            start, stop = starts[leaf], starts[leaf] + counts[leaf]
            scores = self._leaf_scores(torch.index_select(query, 0, rows, out=buffer[:length]), start, stop)
            if self.rerank > 0 and scores.shape[1] > 1:
                top = scores.topk(min(self.rerank, scores.shape[1]), dim=1).indices + start  # leaf positions
                full = torch.einsum("qd,qrd->qr", q_unit[rows], self.unit[tree.members[top]])
                value, pick = full.max(dim=1)
                positions.append(top.gather(1, pick[:, None])[:, 0])
            else:
                value, pick = scores.max(dim=1)
                positions.append(pick + start)
            values.append(value)
            done.append(pairs)
        best_score = torch.full((count_q * width,), float("-inf"), device=q_unit.device)
        best_entry = torch.zeros(count_q * width, dtype=torch.long, device=q_unit.device)
        if done:
            pairs = torch.cat(done)
            best_score[pairs] = torch.cat(values)
            best_entry[pairs] = tree.members[torch.cat(positions)]
        score, which = best_score.view(count_q, width).max(dim=1)
        return best_entry.view(count_q, width).gather(1, which[:, None])[:, 0], score

    def state(self) -> tuple[dict[str, Any], dict[str, Tensor]]:
        """Parameters and tensors to store the tree beside the library."""
        assert self.tree is not None
        params = {"kind": "hkm_tree", "file": "index.safetensors", "k": self.k, "depth": self.depth,
                  "niter": self.niter, "seed": self.seed, "leaves": self.tree.num_leaves}  # fmt: skip
        return params, self.tree.state()


class HKMIndex(TreeIndex):
    """Plain hierarchical k-means: the leaf compares full unit vectors."""

    kind = "hkm"

    def _prepare_leaves(self, patches: Tensor) -> None:
        assert self.tree is not None and self.unit is not None
        self._leaf = self.unit[self.tree.members].contiguous()

    def _query_data(self, q_unit: Tensor) -> Tensor:
        return q_unit

    def _leaf_scores(self, queries: Tensor, start: int, stop: int) -> Tensor:
        return queries @ self._leaf[start:stop].T

    def describe(self) -> str:
        """Label with the tree shape and probes."""
        extra = f", rerank {self.rerank}" if self.rerank else ""
        return f"hkm K={self.k} depth {self.depth}, p={probe_label(self.probes)}{extra}"


@functools.cache
def _haar_matrix(height: int, width: int) -> Tensor:
    """``(h*w, 4*(h/2)*(w/2))`` matrix of :func:`stylelab.ops.haar_packet` on one ``h x w`` channel."""
    basis = torch.eye(height * width, dtype=torch.float64).view(height * width, 1, height, width)
    bands = haar_packet(basis)  # each (h*w, 1, h/2, w/2)
    return torch.cat([band.flatten(1) for band in bands], dim=1).float()


def patch_bands(patches: Tensor) -> Tensor:
    """One-level Haar packet of each patch, band-major.

    The packet of a ``k x k`` patch is a fixed orthonormal linear map per channel, so it is applied as
    one matrix product (much faster on CPU than a depthwise convolution over tiny maps); the matrix
    is :func:`stylelab.ops.haar_packet` applied to the unit patches.

    Args:
        patches: ``(n, C, k, k)`` with even ``k``.

    Returns:
        ``(4, n, C * k * k / 4)``: LL, LH, HL, HH of every patch, each flattened channel-major like
        ``haar_packet(patches)[b].flatten(1)``.
    """
    n, c, h, w = patches.shape
    if h % 2 or w % 2:
        raise ValueError(f"the Haar packet needs even patch sides; got {h}x{w}")
    matrix = _haar_matrix(h, w).to(device=patches.device, dtype=patches.dtype)
    coefficients = patches.reshape(n * c, h * w) @ matrix  # (n*C, 4 * h*w/4)
    return coefficients.view(n, c, 4, h * w // 4).permute(2, 0, 1, 3).reshape(4, n, c * h * w // 4)


def band_vectors(patches: Tensor, band_ids: Sequence[int]) -> Tensor:
    """The chosen Haar bands of each patch, concatenated per channel (for cosine matching).

    The order of the values (channel, band, position) differs from concatenating whole bands, but it
    is the same for queries and library, so inner products and norms - hence cosines - are those of
    the concatenated bands.

    Args:
        patches: ``(n, C, k, k)`` with even ``k``.
        band_ids: Indices into LL, LH, HL, HH.

    Returns:
        ``(n, C * len(band_ids) * k * k / 4)``.
    """
    n, c, h, w = patches.shape
    if h % 2 or w % 2:
        raise ValueError(f"the Haar packet needs even patch sides; got {h}x{w}")
    quarter = h * w // 4
    columns = torch.cat([torch.arange(b * quarter, (b + 1) * quarter) for b in band_ids])
    matrix = _haar_matrix(h, w)[:, columns].to(device=patches.device, dtype=patches.dtype)
    return (patches.reshape(n * c, h * w) @ matrix).view(n, c * len(band_ids) * quarter)


class BHKMIndex(TreeIndex):
    """Bandpass hierarchical k-means (paper Sec. 3.4): Haar bands at the leaves, partial matching.

    Routing uses the full patch vector at every level; the leaf compares the cosine of the
    concatenation of the chosen bands (``bands``; 1-BHKM = LL, 2 = LL+LH, 3 = LL+LH+HL (code), 4 =
    all, which ranks like HKM).

    Args:
        bands: Band names among LL, LH, HL, HH.
        **tree_args: See :class:`TreeIndex`.
    """

    kind = "bhkm"

    def __init__(self, bands: Sequence[str] = DEFAULT_BANDS, **tree_args: Any) -> None:
        super().__init__(**tree_args)
        chosen = [b.upper() for b in bands]
        if not chosen or len(set(chosen)) != len(chosen) or any(b not in BANDS for b in chosen):
            raise ValueError(f"bands must be 1-4 distinct names among {BANDS}; got {list(bands)}")
        self.bands = tuple(chosen)
        self._band_ids = [BANDS.index(b) for b in chosen]

    def _prepare_leaves(self, patches: Tensor) -> None:
        assert self.tree is not None and self.unit is not None
        if patches.shape[-1] % 2 or patches.shape[-2] % 2:
            raise ValueError(f"BHKM needs even windows for the Haar packet; got {tuple(patches.shape[-2:])}")
        members, shape = self.tree.members, patches.shape[1:]
        width = self.unit.shape[1] // 4 * len(self._band_ids)
        self._leaf = torch.empty(members.numel(), width, device=self.unit.device)
        for start in range(0, members.numel(), 8192):  # chunked: never a second full copy at once
            chunk = self.unit[members[start : start + 8192]].view(-1, *shape)
            self._leaf[start : start + chunk.shape[0]] = unit_rows(band_vectors(chunk, self._band_ids))

    def _query_data(self, q_unit: Tensor) -> Tensor:
        return unit_rows(band_vectors(q_unit.view(-1, *self.patch_shape), self._band_ids))

    def _leaf_scores(self, queries: Tensor, start: int, stop: int) -> Tensor:
        return queries @ self._leaf[start:stop].T

    def describe(self) -> str:
        """Label with the bands, tree shape and probes."""
        extra = f", rerank {self.rerank}" if self.rerank else ""
        bands, probes = "+".join(self.bands), probe_label(self.probes)
        return f"{len(self.bands)}-bhkm {bands} K={self.k} depth {self.depth}, p={probes}{extra}"


INDEX_KINDS: dict[str, type[PatchIndex]] = {
    cls.kind: cls for cls in (ExactIndex, FaissFlatIndex, PQIndex, HKMIndex, BHKMIndex)
}


def make_index(kind: str, **params: Any) -> PatchIndex:
    """An index by kind (``exact``, ``faiss_flat``, ``pq``, ``hkm``, ``bhkm``) with its parameters.

    Raises:
        ValueError: Unknown kind.
    """
    if kind not in INDEX_KINDS:
        raise ValueError(f"unknown search method {kind!r}; choose from {', '.join(INDEX_KINDS)}")
    return INDEX_KINDS[kind](**params)
