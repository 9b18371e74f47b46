"""Region masks for region-specific fusion (paper §3.3 Fig. 4, §4.2 Eq. 6).

The paper clusters the encoder's feature vectors with K-means "based on L2 normalized distance": each
position's ``C``-vector is scaled to unit length and clustered with ordinary (Euclidean) K-means,
which on unit vectors is equivalent to clustering by cosine similarity. User masks (label images)
are the alternative.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.data.transforms import resize_mask


def kmeans(points: Tensor, k: int, max_iter: int = 100, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Lloyd's K-means with k-means++ seeding (deterministic for a given ``seed``).

    Iterates until no assignment changes (or ``max_iter``). A cluster that becomes empty is re-seeded
    with the point farthest from its centroid.

    Args:
        points: ``(N, D)`` float points.
        k: Number of clusters, ``1 <= k <= N``.
        max_iter: Maximum Lloyd iterations.
        seed: Seed of the k-means++ draws.

    Returns:
        ``labels (N,)`` int64 in ``[0, k)`` and ``centroids (k, D)``; at convergence every point is
        assigned to its nearest centroid and every centroid is the mean of its points.

    Raises:
        ValueError: ``points`` is not 2-D or ``k`` is out of range.
    """
    if points.dim() != 2:
        raise ValueError(f"points must be (N, D), got shape {tuple(points.shape)}")
    n = points.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}] for {n} points, got {k}")
    x = points.double()
    generator = torch.Generator().manual_seed(seed)
    first = int(torch.randint(n, (1,), generator=generator))
    centroids = [x[first]]
    closest = (x - x[first]).pow(2).sum(1)
    for _ in range(1, k):
        if float(closest.sum()) <= 0:  # fewer distinct points than k: pick any remaining point
            choice = int(torch.randint(n, (1,), generator=generator))
        else:
            choice = int(torch.multinomial((closest / closest.sum()).float().cpu(), 1, generator=generator))
        centroids.append(x[choice])
        closest = torch.minimum(closest, (x - x[choice]).pow(2).sum(1))
    centre = torch.stack(centroids)
    labels = torch.full((n,), -1, dtype=torch.long, device=x.device)
    for _ in range(max_iter):
        new_labels = torch.cdist(x, centre).argmin(1)
        if torch.equal(new_labels, labels):
            break
        labels = new_labels
        for j in range(k):
            members = labels == j
            if members.any():
                centre[j] = x[members].mean(0)
            else:
                far = int((x - centre[labels]).pow(2).sum(1).argmax())
                centre[j] = x[far]
                labels[far] = j
    return labels, centre.to(points.dtype)


def kmeans_regions(feature: Tensor, k: int, seed: int = 0, max_iter: int = 100) -> Tensor:
    """Label map of one feature map by K-means on L2-normalised feature vectors (paper Fig. 4).

    Regions are numbered by decreasing area (region 0 is the largest), so the order of the styles
    given for region fusion is stable from run to run.

    Args:
        feature: ``(C, h, w)`` encoder features.
        k: Number of regions.
        seed: K-means seed.
        max_iter: Maximum Lloyd iterations.

    Returns:
        ``(h, w)`` int64 labels in ``[0, k)``.
    """
    if feature.dim() != 3:
        raise ValueError(f"feature must be (C, h, w), got shape {tuple(feature.shape)}")
    vectors = F.normalize(feature.flatten(1).t(), dim=1)
    labels, _ = kmeans(vectors, k, max_iter=max_iter, seed=seed)
    sizes = torch.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda j: (-int(sizes[j]), j))
    rank = torch.empty(k, dtype=torch.long, device=labels.device)
    rank[torch.tensor(order, device=labels.device)] = torch.arange(k, device=labels.device)
    return rank[labels].view(feature.shape[1:])


def labels_to_masks(labels: Tensor, count: int, size: tuple[int, int] | None = None) -> Tensor:
    """One-hot region masks from a label map, optionally resized (nearest) to ``size``.

    The distinct label values, sorted, become regions ``0 .. count-1`` (so a mask painted with label
    values 2 and 5 is regions 0 and 1).

    Args:
        labels: ``(B, H, W)`` or ``(H, W)`` integer labels.
        count: Expected number of distinct labels (one per style).
        size: Output ``(h, w)`` (e.g. the feature resolution); ``None`` keeps ``(H, W)``.

    Returns:
        ``(B, count, h, w)`` float masks summing to 1 at every position.

    Raises:
        ValueError: The number of distinct labels is not ``count``.
    """
    if labels.dim() == 2:
        labels = labels[None]
    if labels.dim() != 3 or labels.is_floating_point():
        raise ValueError(f"labels must be an integer (B, H, W) or (H, W) map, got {tuple(labels.shape)}")
    values = torch.unique(labels)
    if values.numel() != count:
        raise ValueError(
            f"the region mask has {values.numel()} distinct label(s) {values.tolist()} but {count} style(s) "
            "were given: give one style per region"
        )
    if size is not None:
        labels = resize_mask(labels, size)
    dense = torch.searchsorted(values, labels.contiguous())
    return F.one_hot(dense, count).permute(0, 3, 1, 2).float()
