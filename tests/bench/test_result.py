from __future__ import annotations

import numpy as np
import pytest

from stylelab.bench.result import Row, TimingResult, percentile


@pytest.mark.parametrize("values", [[4.0], [1.0, 2.0], [3.0, 1.0, 2.0, 10.0], list(np.random.rand(11))])
@pytest.mark.parametrize("q", [0.0, 25.0, 50.0, 75.0, 100.0])
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    assert percentile(sorted(values), q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50.0)
    with pytest.raises(ValueError, match="0, 100"):
        percentile([1.0], 101.0)


def test_row_ratio_uses_the_unit_of_its_kind() -> None:
    result = TimingResult.from_times([0.5, 0.5, 0.5], device_name="cpu", peak_memory_bytes=None)
    latency_row = Row((8, 8), 1, result, kind="latency", paper=0.25)
    throughput_row = Row((8, 8), 4, result, kind="throughput", paper=4.0)
    assert latency_row.value == 0.5 and latency_row.ratio == 2.0
    assert throughput_row.value == 8.0 and throughput_row.ratio == 2.0


def test_oom_row_has_no_value_or_ratio() -> None:
    row = Row((8, 8), 1, TimingResult.out_of_memory("cpu", "MemoryError"), paper=0.1)
    assert row.value is None and row.ratio is None and row.images_per_s is None


def test_from_times_needs_times() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TimingResult.from_times([], device_name="cpu", peak_memory_bytes=None)
