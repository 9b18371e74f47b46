"""Records produced by timing: one measurement (:class:`TimingResult`) and one table row (:class:`Row`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

RowKind = Literal["latency", "throughput"]


@dataclass(frozen=True)
class TimingResult:
    """Statistics of the timed repeats of one call (warm-up calls excluded).

    Time fields are seconds per call and are None when the call ran out of memory.

    Attributes:
        median_s: Median of the repeats.
        p25_s: 25th percentile (linear interpolation, like ``numpy.percentile``).
        p75_s: 75th percentile.
        min_s: Fastest repeat.
        mean_s: Mean of the repeats.
        repeats: Number of timed calls (0 after an out-of-memory failure).
        peak_memory_bytes: Peak memory above ``baseline_memory_bytes`` during the repeats; None if
            it could not be measured (see ``notes``) or the call ran out of memory.
        device_name: :func:`~stylelab.bench.device.device_description` of the device.
        oom: True if the call (or making its input) ran out of memory.
        error: The out-of-memory message when ``oom`` is True.
        times_s: Every timed repeat, in order.
        baseline_memory_bytes: Memory held before the repeats (CUDA: tensor memory allocated;
            CPU: process RSS).
        num_threads: ``torch.get_num_threads()`` while timing.
        timer: ``"cuda-events"``, ``"perf_counter+sync"`` (accelerator) or ``"perf_counter"`` (CPU).
        warmup: Untimed calls made before the repeats.
        notes: Remarks such as why peak memory is missing.
    """

    median_s: float | None
    p25_s: float | None
    p75_s: float | None
    min_s: float | None
    mean_s: float | None
    repeats: int
    peak_memory_bytes: int | None
    device_name: str
    oom: bool = False
    error: str | None = None
    times_s: tuple[float, ...] = ()
    baseline_memory_bytes: int | None = None
    num_threads: int | None = None
    timer: str = ""
    warmup: int = 0
    notes: tuple[str, ...] = ()

    @property
    def iqr_s(self) -> float | None:
        """Interquartile range ``p75_s - p25_s``; None after an out-of-memory failure."""
        if self.p25_s is None or self.p75_s is None:
            return None
        return self.p75_s - self.p25_s

    @classmethod
    def from_times(cls, times_s: Sequence[float], **fields: object) -> TimingResult:
        """Summarise timed repeats.

        Args:
            times_s: Seconds per call, at least one.
            **fields: The remaining fields (``device_name``, ``peak_memory_bytes`` ...).

        Returns:
            The result with median, quartiles, minimum and mean filled in.

        Raises:
            ValueError: ``times_s`` is empty.
        """
        if not times_s:
            raise ValueError("from_times needs at least one timed repeat; got none")
        ordered = sorted(times_s)
        return cls(
            median_s=percentile(ordered, 50.0),
            p25_s=percentile(ordered, 25.0),
            p75_s=percentile(ordered, 75.0),
            min_s=ordered[0],
            mean_s=math.fsum(ordered) / len(ordered),
            repeats=len(ordered),
            times_s=tuple(times_s),
            **fields,  # type: ignore[arg-type]
        )

    @classmethod
    def out_of_memory(cls, device_name: str, error: str, **fields: object) -> TimingResult:
        """A result for a call that ran out of memory.

        Args:
            device_name: Description of the device.
            error: The out-of-memory message.
            **fields: Other fields (``num_threads``, ``timer`` ...).

        Returns:
            A result with ``oom=True`` and no times.
        """
        return cls(
            median_s=None,
            p25_s=None,
            p75_s=None,
            min_s=None,
            mean_s=None,
            repeats=0,
            peak_memory_bytes=None,
            device_name=device_name,
            oom=True,
            error=error,
            **fields,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Row:
    """One line of a speed table: a measurement with what was measured.

    Attributes:
        resolution: ``(H, W)`` of the input images.
        batch: Images per call.
        result: The measurement.
        kind: ``"latency"`` (the headline number is seconds per call) or ``"throughput"``
            (images per second).
        method: Method name, e.g. ``"adain"``.
        variant: Variant, e.g. ``"paper"`` / ``"reference code"`` or a backbone.
        dtype: Data type of the input, e.g. ``"float32"``.
        paper: The paper's number in the unit of :attr:`value`: seconds per call for latency
            rows, images per second for throughput rows.
    """

    resolution: tuple[int, int]
    batch: int
    result: TimingResult
    kind: RowKind = "latency"
    method: str = ""
    variant: str = ""
    dtype: str | None = None
    paper: float | None = None

    @property
    def images_per_s(self) -> float | None:
        """``batch / median_s``; None after an out-of-memory failure or for a zero median."""
        median = self.result.median_s
        if median is None or median <= 0.0:
            return None
        return self.batch / median

    @property
    def value(self) -> float | None:
        """The headline number: ``median_s`` for latency rows, ``images_per_s`` for throughput."""
        return self.result.median_s if self.kind == "latency" else self.images_per_s

    @property
    def ratio(self) -> float | None:
        """``value / paper`` (ours over the paper's), or None when either is missing."""
        if self.value is None or self.paper is None or self.paper == 0.0:
            return None
        return self.value / self.paper


def percentile(ordered: Sequence[float], q: float) -> float:
    """Percentile with linear interpolation between closest ranks (``numpy.percentile`` default).

    Args:
        ordered: Values sorted ascending, at least one.
        q: Percentile in ``[0, 100]``.

    Returns:
        The interpolated value.

    Raises:
        ValueError: ``ordered`` is empty or ``q`` is outside ``[0, 100]``.
    """
    if not ordered:
        raise ValueError("percentile of an empty sequence is undefined")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100]; got {q}")
    position = (len(ordered) - 1) * q / 100.0
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction
