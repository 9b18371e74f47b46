"""Peak memory of a measured block: CUDA allocator statistics or the process high-water mark.

Both probes report the peak *above the memory already held when the probe started* (weights and
inputs created before the timed call are the baseline), so CPU and GPU numbers mean the same thing.
The baseline itself is reported too, so a total is ``baseline + peak``.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from stylelab.bench.device import synchronize

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")
_RESET_PEAK_RSS = "5"  # see proc(5): writing 5 to clear_refs resets VmHWM to the current RSS


@dataclass(frozen=True)
class MemoryReading:
    """What a probe measured.

    Attributes:
        peak_bytes: Peak memory above the baseline during the probed block; None if unknown.
        baseline_bytes: Memory held when the probe started (CUDA: allocated by tensors; CPU: process
            RSS); None if unknown.
        note: Why the reading is missing or approximate; None when there is nothing to say.
    """

    peak_bytes: int | None
    baseline_bytes: int | None
    note: str | None = None


class PeakMemoryProbe(Protocol):
    """Start before the measured block, stop after it."""

    def start(self) -> None:
        """Reset the peak counter and record the baseline."""

    def stop(self) -> MemoryReading:
        """Read the peak reached since :meth:`start`."""


class CudaPeakMemory:
    """Peak of ``torch.cuda.max_memory_allocated`` (tensor memory, not the allocator's cache)."""

    def __init__(self, device: torch.device) -> None:
        """Probe ``device`` (a resolved CUDA device)."""
        self.device = device
        self._baseline = 0

    def start(self) -> None:
        """Reset CUDA peak statistics after the queued work has finished."""
        synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self._baseline = torch.cuda.memory_allocated(self.device)

    def stop(self) -> MemoryReading:
        """Read ``max_memory_allocated`` once the queued work has finished."""
        synchronize(self.device)
        peak = torch.cuda.max_memory_allocated(self.device)
        return MemoryReading(peak_bytes=max(peak - self._baseline, 0), baseline_bytes=self._baseline)


class ProcessHighWaterMark:
    """Peak resident set size of this process (Linux ``VmHWM``), above the RSS at :meth:`start`.

    It covers the whole process, so other threads allocating at the same time are counted, and
    memory that the C allocator keeps cached from earlier calls is part of the baseline (the probe
    asks glibc to return free memory to the system first to limit that).
    """

    def start(self) -> None:
        """Return cached heap memory to the system, reset ``VmHWM``, record ``VmRSS``."""
        _trim_c_heap()
        _CLEAR_REFS.write_text(_RESET_PEAK_RSS)
        self._baseline = _status_bytes("VmRSS")

    def stop(self) -> MemoryReading:
        """Read ``VmHWM`` and subtract the baseline."""
        peak = _status_bytes("VmHWM")
        return MemoryReading(peak_bytes=max(peak - self._baseline, 0), baseline_bytes=self._baseline)


class NoPeakMemory:
    """Stand-in when the platform offers no way to measure a peak."""

    def __init__(self, note: str) -> None:
        """Remember ``note``, the reason no measurement is possible."""
        self.note = note

    def start(self) -> None:
        """Do nothing."""

    def stop(self) -> MemoryReading:
        """Report an unknown peak with the reason."""
        return MemoryReading(peak_bytes=None, baseline_bytes=None, note=self.note)


def peak_memory_probe(device: torch.device) -> PeakMemoryProbe:
    """Pick the probe for ``device``.

    Args:
        device: A resolved device.

    Returns:
        :class:`CudaPeakMemory` on CUDA, :class:`ProcessHighWaterMark` on CPU when ``/proc`` allows
        resetting the high-water mark, otherwise :class:`NoPeakMemory` saying why.
    """
    if device.type == "cuda":
        return CudaPeakMemory(device)
    if device.type == "cpu":
        if process_high_water_mark_available():
            return ProcessHighWaterMark()
        return NoPeakMemory(
            "CPU peak memory needs Linux /proc/self/clear_refs (writable) and VmHWM in /proc/self/status"
        )
    return NoPeakMemory(f"no peak-memory probe for device type {device.type!r}")


@functools.cache
def process_high_water_mark_available() -> bool:
    """Whether this process can reset and read its RSS high-water mark (checked once)."""
    try:
        _CLEAR_REFS.write_text(_RESET_PEAK_RSS)
        _status_bytes("VmHWM")
        _status_bytes("VmRSS")
    except (OSError, KeyError, ValueError):
        return False
    return True


def _status_bytes(key: str) -> int:
    """Read a ``kB`` field such as ``VmHWM`` from ``/proc/self/status``, in bytes."""
    for line in _STATUS.read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            number, _, unit = value.strip().partition(" ")
            if unit.strip() != "kB":
                raise ValueError(f"unexpected unit {unit!r} for {key} in {_STATUS}")
            return int(number) * 1024
    raise KeyError(f"{key} not found in {_STATUS}")


def _trim_c_heap() -> None:
    """Ask glibc to give free heap memory back to the system (no-op elsewhere)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
