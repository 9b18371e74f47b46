"""Wall and CPU time of a whole experiment run (per-call timings belong to :mod:`stylelab.bench`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Stopwatch:
    """Wall-clock and process CPU seconds since creation (or :meth:`restart`).

    ``stylelab.bench.measure`` times a call with warm-up and repeats; this only says how long a script
    (or a stage of it) took, for the report's budget line.
    """

    _wall: float = field(default_factory=time.perf_counter)
    _cpu: float = field(default_factory=time.process_time)

    def restart(self) -> None:
        """Start counting again from now."""
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    @property
    def wall_s(self) -> float:
        """Wall-clock seconds elapsed."""
        return time.perf_counter() - self._wall

    @property
    def cpu_s(self) -> float:
        """CPU seconds of this process (all its threads) elapsed."""
        return time.process_time() - self._cpu

    def describe(self) -> str:
        """``"412 s wall, 731 s CPU"``."""
        return f"{self.wall_s:.0f} s wall, {self.cpu_s:.0f} s CPU"
