r"""LPIPS metric in two modes: pairwise and temporal (consecutive video frames).

* **pairwise**: ``LPIPS(img1_b, img2_b)`` per sample, averaged over all samples (e.g. stylised vs
  content image).
* **temporal** (the SK / IEC temporal-consistency protocol, spec 3.7): for a clip of stylised frames
  ``f_1 .. f_T`` the values ``LPIPS(f_t, f_{t+1})``, ``t = 1 .. T-1``. The metric averages over *all
  consecutive pairs* of all clips seen (equal to the mean of per-clip means when clips have equal
  length, as in SK's 10-clip protocol). Each ``update`` call is one or more complete clips: pairs never
  span two calls. SK does not state the backbone/version; we default to AlexNet v0.1 (spec proposal).

The network is :class:`stylelab.metrics.lpips_net.LPIPSNet` (our implementation, numerically equal to
the ``lpips`` package; see the tests). Inputs are RGB in ``[0, 1]`` (mapped to ``[-1, 1]`` inside).

Example::

    metric = LPIPS(net="alex", mode="temporal")
    metric.update(frames)          # (T, 3, H, W) one clip, or (B, T, 3, H, W) B clips
    metric.compute()
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import torch
from torch import Tensor

from stylelab.losses.reduction import Reduction, reduce_per_sample
from stylelab.metrics.base import MeanOfValues
from stylelab.metrics.encoder import move_to
from stylelab.metrics.lpips_net import LPIPSBackbone, LPIPSNet

LPIPSMode = Literal["pairwise", "temporal"]


@functools.lru_cache(maxsize=2)
def default_lpips_net(net: LPIPSBackbone = "alex") -> LPIPSNet:
    """The pretrained LPIPS v0.1 network for ``net``, built once and cached (CPU).

    Raises:
        stylelab.backbones.WeightsNotFoundError: The backbone or head weights are unavailable.
    """
    return LPIPSNet.pretrained(net)


class _NetSlot:
    """Holds the injected network, or builds the pretrained one on first use.

    Never a registered sub-module, so the network stays out of the metric's ``state_dict``.
    """

    def __init__(self, net: LPIPSBackbone | None, lpips_net: LPIPSNet | None) -> None:
        if net is not None and net not in ("alex", "vgg"):
            raise ValueError(f"net must be 'alex' or 'vgg'; got {net!r}")
        if lpips_net is not None and net is not None and lpips_net.net != net:
            raise ValueError(f"lpips_net has backbone {lpips_net.net!r} but net={net!r} was requested")
        chosen = lpips_net.net if lpips_net is not None else (net or "alex")
        self.net: LPIPSBackbone = chosen  # type: ignore[assignment]
        self._model = lpips_net

    def get(self, reference: Tensor) -> LPIPSNet:
        """The network, built if needed and moved to ``reference``'s device."""
        if self._model is None:
            self._model = default_lpips_net(self.net)
        move_to(self._model, reference)
        return self._model


def _as_clips(frames: Tensor) -> Tensor:
    if frames.dim() == 4:
        frames = frames.unsqueeze(0)
    if frames.dim() != 5 or frames.shape[2] != 3:
        raise ValueError(
            f"frames must be one clip (T, 3, H, W) or clips (B, T, 3, H, W), RGB in [0, 1]; got shape "
            f"{tuple(frames.shape)}"
        )
    if frames.shape[1] < 2:
        raise ValueError(f"a clip needs at least 2 frames for temporal LPIPS; got T={frames.shape[1]}")
    return frames


def consecutive_frame_lpips(frames: Tensor, model: LPIPSNet) -> Tensor:
    """LPIPS between each frame and the next: ``(B, T - 1)`` for clips ``(B, T, 3, H, W)``.

    Each frame goes through the backbone once (its features serve both of its pairs).
    """
    clips = _as_clips(frames)
    previous = model.features(clips[:, 0])
    distances = []
    for t in range(1, clips.shape[1]):
        current = model.features(clips[:, t])
        distances.append(model.distance_from_features(previous, current))
        previous = current
    return torch.stack(distances, dim=1)


def lpips(
    img1: Tensor,
    img2: Tensor,
    net: LPIPSBackbone | None = None,
    lpips_net: LPIPSNet | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Pairwise LPIPS v0.1 (functional twin of ``LPIPS(mode="pairwise")``).

    Args:
        img1: ``(B, 3, H, W)`` RGB in ``[0, 1]``.
        img2: Same shape.
        net: ``"alex"`` or ``"vgg"`` backbone of the pretrained network (default ``"alex"``; taken from
            ``lpips_net`` when that is given).
        lpips_net: Injected network (e.g. random weights in tests); ``None`` uses the pretrained one.
        reduction: ``"none"`` (per-sample ``(B,)``), ``"mean"`` or ``"sum"``.

    Returns:
        ``(B,)`` or a scalar; differentiable with respect to the images.
    """
    model = _NetSlot(net, lpips_net).get(img1)
    return reduce_per_sample(model(img1, img2), reduction)


def lpips_temporal(
    frames: Tensor,
    net: LPIPSBackbone | None = None,
    lpips_net: LPIPSNet | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Temporal LPIPS: per clip, the mean LPIPS between consecutive frames.

    ``value_b = 1/(T-1) sum_{t=1}^{T-1} LPIPS(f_{b,t}, f_{b,t+1})``.

    Args:
        frames: One clip ``(T, 3, H, W)`` or clips ``(B, T, 3, H, W)``, RGB in ``[0, 1]``, ``T >= 2``.
        net: ``"alex"`` or ``"vgg"`` backbone of the pretrained network (default ``"alex"``; taken from
            ``lpips_net`` when that is given).
        lpips_net: Injected network; ``None`` uses the pretrained one.
        reduction: ``"none"`` (per-clip ``(B,)``), ``"mean"`` or ``"sum"`` over clips.

    Returns:
        ``(B,)`` (``B = 1`` for a single clip) or a scalar.
    """
    model = _NetSlot(net, lpips_net).get(frames)
    return reduce_per_sample(consecutive_frame_lpips(frames, model).mean(dim=1), reduction)


class LPIPS(MeanOfValues):
    """LPIPS v0.1 averaged over samples (``"pairwise"``) or over consecutive-frame pairs (``"temporal"``).

    Args:
        net: ``"alex"`` or ``"vgg"`` (default ``"alex"``, or ``lpips_net``'s backbone).
        mode: ``"pairwise"``: ``update(img1, img2)``; ``"temporal"``: ``update(frames)``.
        lpips_net: Injected network (e.g. random weights); ``None`` builds the pretrained one lazily on the
            first update. Not registered as a sub-module (kept out of checkpoints); moved to the input's
            device.
        kwargs: torchmetrics ``Metric`` options.
    """

    higher_is_better = False

    def __init__(
        self,
        net: LPIPSBackbone | None = None,
        mode: LPIPSMode = "pairwise",
        lpips_net: LPIPSNet | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if mode not in ("pairwise", "temporal"):
            raise ValueError(f"mode must be 'pairwise' or 'temporal'; got {mode!r}")
        self._slot = _NetSlot(net, lpips_net)
        self.net, self.mode = self._slot.net, mode

    def update(self, img1: Tensor, img2: Tensor | None = None) -> None:
        """Pairwise: ``img1``, ``img2`` ``(B, 3, H, W)``. Temporal: ``img1`` = frames ``(T|B,T, 3, H, W)``.

        Raises:
            ValueError: ``img2`` missing in pairwise mode or given in temporal mode, or bad shapes.
        """
        model = self._slot.get(img1)
        if self.mode == "pairwise":
            if img2 is None:
                raise ValueError("pairwise LPIPS needs update(img1, img2)")
            self._accumulate(model(img1, img2))
        else:
            if img2 is not None:
                raise ValueError("temporal LPIPS takes update(frames) only: (T, 3, H, W) or (B, T, 3, H, W)")
            self._accumulate(consecutive_frame_lpips(img1, model).flatten())

    @property
    def variant(self) -> str:
        """E.g. ``"LPIPS v0.1 alex, pairwise, RGB [0,1] -> [-1,1]"``."""
        if self.mode == "pairwise":
            how = "pairwise (img1 vs img2), mean over samples"
        else:
            how = "temporal (consecutive frames), mean over all frame pairs"
        return f"LPIPS v0.1 {self.net}, {how}, RGB [0,1] -> [-1,1]"
