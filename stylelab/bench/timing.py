"""The one timing code path: warm-up, synchronised repeats, median, peak memory, OOM as a result.

Every speed number in stylelab comes from :func:`measure`; :func:`latency` (batch 1, one row per
resolution) and :func:`throughput` (images per second, one row per batch size) are thin loops over
it and are kept apart on purpose: latency and throughput are different questions.

Example:
    >>> config = TimingConfig(warmup=3, repeats=10, num_threads=4)
    >>> rows = latency(model, lambda b, h, w: torch.rand(b, 3, h, w), [256, 512], "cuda", config)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from tqdm import tqdm

from stylelab.bench.device import device_description, resolve_device, synchronize
from stylelab.bench.memory import MemoryReading, peak_memory_probe
from stylelab.bench.oom import describe_error, is_out_of_memory, release_memory
from stylelab.bench.result import Row, RowKind, TimingResult

__all__ = [
    "Row",
    "TimingConfig",
    "TimingResult",
    "device_description",
    "latency",
    "measure",
    "throughput",
]

# Clock used for wall-clock timing; a module attribute so tests can substitute a fake clock.
_now: Callable[[], float] = time.perf_counter

Resolution = int | tuple[int, int]
MakeInput = Callable[[int, int, int], Any]


@dataclass(frozen=True)
class TimingConfig:
    """How to time a call.

    Attributes:
        warmup: Untimed calls before the repeats (lazy initialisation, cuDNN autotuning, caches).
        repeats: Timed calls; the statistics are over these.
        num_threads: If set, ``torch.set_num_threads(num_threads)`` while timing and the previous
            value restored afterwards (what makes CPU numbers comparable).
        use_cuda_events: On CUDA, time each call with CUDA events on the current stream; otherwise
            (or off CUDA) use ``time.perf_counter`` with a device synchronisation before and after.
        min_time_s: If set, keep repeating past ``repeats`` until the timed calls add up to at
            least this many seconds (steadier medians for very fast calls).
    """

    warmup: int = 3
    repeats: int = 10
    num_threads: int | None = None
    use_cuda_events: bool = True
    min_time_s: float | None = None

    def __post_init__(self) -> None:
        """Reject settings that cannot produce a measurement."""
        if self.warmup < 0:
            raise ValueError(f"TimingConfig.warmup must be >= 0; got {self.warmup}")
        if self.repeats < 1:
            raise ValueError(f"TimingConfig.repeats must be >= 1; got {self.repeats}")
        if self.num_threads is not None and self.num_threads < 1:
            raise ValueError(f"TimingConfig.num_threads must be >= 1 or None; got {self.num_threads}")
        if self.min_time_s is not None and self.min_time_s <= 0.0:
            raise ValueError(f"TimingConfig.min_time_s must be > 0 or None; got {self.min_time_s}")


def measure(
    fn: Callable[[], Any],
    device: torch.device | str,
    config: TimingConfig | None = None,
) -> TimingResult:
    """Time ``fn()`` on ``device``: warm-up, then synchronised repeats, peak memory, OOM caught.

    The output of ``fn`` is discarded after each call. Peak memory is measured over the timed
    repeats only (see :mod:`stylelab.bench.memory`). With CUDA events only work on the current
    stream is timed; set ``use_cuda_events=False`` if ``fn`` launches work on other streams.

    Args:
        fn: The call to time, with its inputs already on ``device``.
        device: Where ``fn`` runs (``"cpu"``, ``"cuda"``, ``"cuda:0"`` ...).
        config: Timing settings; ``TimingConfig()`` if None.

    Returns:
        The statistics. If ``fn`` runs out of memory (``torch.cuda.OutOfMemoryError``,
        ``MemoryError`` or an allocation ``RuntimeError``) during warm-up or repeats, a result with
        ``oom=True`` and the message in ``error``; the CUDA cache is emptied afterwards.

    Raises:
        RuntimeError: ``device`` is CUDA but CUDA is unavailable.
        Exception: Any other error from ``fn`` propagates unchanged.
    """
    config = config or TimingConfig()
    resolved = resolve_device(device)
    oom_error: str | None = None
    with _fixed_threads(config.num_threads), _current_device(resolved):
        fields: dict[str, Any] = {
            "device_name": device_description(resolved),
            "num_threads": torch.get_num_threads(),
            "timer": _timer_name(resolved, config),
            "warmup": config.warmup,
        }
        try:
            times, reading = _warm_up_and_repeat(fn, resolved, config)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            oom_error = describe_error(exc)
    if oom_error is not None:
        # Outside the except block, so the failing frames (and their tensors) are already gone.
        release_memory(resolved)
        return TimingResult.out_of_memory(error=oom_error, **fields)
    return TimingResult.from_times(
        times,
        peak_memory_bytes=reading.peak_bytes,
        baseline_memory_bytes=reading.baseline_bytes,
        notes=(reading.note,) if reading.note else (),
        **fields,
    )


def latency(
    model_fn: Callable[[Any], Any],
    make_input: MakeInput,
    resolutions: Sequence[Resolution],
    device: torch.device | str,
    config: TimingConfig | None = None,
    *,
    method: str = "",
    variant: str = "",
    no_grad: bool = True,
    progress: bool = False,
) -> list[Row]:
    """Seconds per image at batch 1, one row per resolution.

    Args:
        model_fn: Called as ``model_fn(make_input(1, H, W))``; this call is what is timed.
        make_input: ``(batch, H, W) -> input``; not timed. A returned tensor is moved to ``device``.
        resolutions: Sizes, each ``S`` (meaning ``S x S``) or ``(H, W)``.
        device: Where to run.
        config: Timing settings; ``TimingConfig()`` if None.
        method: Label stored in each row.
        variant: Label stored in each row.
        no_grad: Run under ``torch.no_grad()`` (a method that needs gradients at inference can
            still enable them inside ``model_fn``).
        progress: Show a progress bar.

    Returns:
        Rows with ``kind="latency"``, ``batch=1``, in the order of ``resolutions``; sizes that run
        out of memory give rows with ``result.oom=True``.
    """
    sizes = [_as_height_width(size) for size in resolutions]
    return [
        _time_at(model_fn, make_input, 1, size, device, config, "latency", method, variant, no_grad)
        for size in tqdm(sizes, desc=f"latency {method}".strip(), disable=not progress)
    ]


def throughput(
    model_fn: Callable[[Any], Any],
    make_input: MakeInput,
    resolution: Resolution,
    batch_sizes: Sequence[int],
    device: torch.device | str,
    config: TimingConfig | None = None,
    *,
    method: str = "",
    variant: str = "",
    no_grad: bool = True,
    progress: bool = False,
) -> list[Row]:
    """Images per second at one resolution, one row per batch size (see :attr:`Row.images_per_s`).

    Args:
        model_fn: Called as ``model_fn(make_input(B, H, W))``; this call is what is timed.
        make_input: ``(batch, H, W) -> input``; not timed. A returned tensor is moved to ``device``.
        resolution: ``S`` (meaning ``S x S``) or ``(H, W)``.
        batch_sizes: Batch sizes to try, each >= 1.
        device: Where to run.
        config: Timing settings; ``TimingConfig()`` if None.
        method: Label stored in each row.
        variant: Label stored in each row.
        no_grad: Run under ``torch.no_grad()``.
        progress: Show a progress bar.

    Returns:
        Rows with ``kind="throughput"`` in the order of ``batch_sizes``; batch sizes that run out
        of memory give rows with ``result.oom=True``.

    Raises:
        ValueError: A batch size is below 1.
    """
    size = _as_height_width(resolution)
    for batch in batch_sizes:
        if batch < 1:
            raise ValueError(f"batch sizes must be >= 1; got {batch} in {list(batch_sizes)}")
    return [
        _time_at(model_fn, make_input, batch, size, device, config, "throughput", method, variant, no_grad)
        for batch in tqdm(list(batch_sizes), desc=f"throughput {method}".strip(), disable=not progress)
    ]


def _time_at(
    model_fn: Callable[[Any], Any],
    make_input: MakeInput,
    batch: int,
    size: tuple[int, int],
    device: torch.device | str,
    config: TimingConfig | None,
    kind: RowKind,
    method: str,
    variant: str,
    no_grad: bool,
) -> Row:
    """Make the input for one (batch, size), time ``model_fn`` on it, return the row."""
    config = config or TimingConfig()
    resolved = resolve_device(device)
    height, width = size
    oom_error: str | None = None
    dtype: str | None = None
    grad_mode = torch.no_grad() if no_grad else contextlib.nullcontext()
    with grad_mode, _fixed_threads(config.num_threads), _current_device(resolved):
        try:
            inputs = _to_device(make_input(batch, height, width), resolved)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            oom_error = describe_error(exc)
        else:
            dtype = _dtype_name(inputs)
            result = measure(lambda: model_fn(inputs), resolved, config)
            del inputs
        if oom_error is not None:
            result = TimingResult.out_of_memory(
                device_description(resolved),
                f"while making the input: {oom_error}",
                num_threads=torch.get_num_threads(),
                timer=_timer_name(resolved, config),
                warmup=config.warmup,
            )
    release_memory(resolved)  # each size starts from the same state
    return Row(
        resolution=size, batch=batch, result=result, kind=kind, method=method, variant=variant, dtype=dtype
    )


def _warm_up_and_repeat(
    fn: Callable[[], Any], device: torch.device, config: TimingConfig
) -> tuple[list[float], MemoryReading]:
    """Run the warm-up calls, then the timed repeats under the peak-memory probe."""
    for _ in range(config.warmup):
        fn()
    synchronize(device)
    time_one = _time_with_events if _timer_name(device, config) == "cuda-events" else _time_with_clock
    probe = peak_memory_probe(device)
    probe.start()
    times: list[float] = []
    total = 0.0
    while len(times) < config.repeats or (config.min_time_s is not None and total < config.min_time_s):
        elapsed = time_one(fn, device)
        times.append(elapsed)
        total += elapsed
    return times, probe.stop()


def _time_with_clock(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds for one call by the host clock, with the device idle before and drained after."""
    synchronize(device)
    start = _now()
    fn()
    synchronize(device)
    return _now() - start


def _time_with_events(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds for one call between two CUDA events on the current stream (device idle before)."""
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    synchronize(device)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000.0


def _timer_name(device: torch.device, config: TimingConfig) -> str:
    """Which timer :func:`measure` uses on ``device``."""
    if device.type == "cuda" and config.use_cuda_events:
        return "cuda-events"
    if device.type == "cpu":
        return "perf_counter"
    return "perf_counter+sync"


@contextlib.contextmanager
def _fixed_threads(num_threads: int | None) -> Iterator[None]:
    """Set ``torch.set_num_threads`` for the block and restore the previous value afterwards."""
    if num_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _current_device(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """Make ``device`` the current CUDA device for the block (events, streams); no-op otherwise."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


def _as_height_width(size: Resolution) -> tuple[int, int]:
    """``S -> (S, S)``; ``(H, W)`` unchanged; rejects non-positive sizes."""
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if height < 1 or width < 1:
        raise ValueError(f"resolutions must be positive S or (H, W); got {size!r}")
    return int(height), int(width)


def _to_device(inputs: Any, device: torch.device) -> Any:
    """Move a tensor input to ``device``; leave anything else as ``make_input`` returned it."""
    return inputs.to(device) if isinstance(inputs, torch.Tensor) else inputs


def _dtype_name(inputs: Any) -> str | None:
    """``"float32"`` for a tensor (or the first tensor of a tuple/list/dict), else None."""
    if isinstance(inputs, dict):
        inputs = list(inputs.values())
    if isinstance(inputs, (tuple, list)):
        inputs = next((item for item in inputs if isinstance(item, torch.Tensor)), None)
    if isinstance(inputs, torch.Tensor):
        return str(inputs.dtype).removeprefix("torch.")
    return None
