"""Benchmarking: the one timing code path (:mod:`.timing`) and speed tables (:mod:`.table`)."""

from stylelab.bench.device import device_description
from stylelab.bench.oom import is_out_of_memory
from stylelab.bench.result import Row, TimingResult
from stylelab.bench.table import TimingTable
from stylelab.bench.timing import TimingConfig, latency, measure, throughput

__all__ = [
    "Row",
    "TimingConfig",
    "TimingResult",
    "TimingTable",
    "device_description",
    "is_out_of_memory",
    "latency",
    "measure",
    "throughput",
]
