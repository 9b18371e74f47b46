from __future__ import annotations

import pytest
import torch

from stylelab.bench.memory import NoPeakMemory, peak_memory_probe, process_high_water_mark_available
from stylelab.bench.timing import TimingConfig, measure

MIB = 1024 * 1024

needs_proc = pytest.mark.skipif(
    not process_high_water_mark_available(), reason="needs Linux /proc/self/clear_refs and VmHWM"
)


@needs_proc
def test_cpu_peak_rises_by_the_size_of_a_large_tensor() -> None:
    numel = 200 * MIB // 4  # 200 MiB of float32; ones() touches every page, empty() would not

    result = measure(lambda: torch.ones(numel), "cpu", TimingConfig(warmup=1, repeats=2))
    assert result.peak_memory_bytes is not None
    assert 150 * MIB <= result.peak_memory_bytes <= 300 * MIB
    assert result.baseline_memory_bytes is not None and result.baseline_memory_bytes > 0


@needs_proc
def test_cpu_peak_stays_small_for_a_small_tensor() -> None:
    result = measure(lambda: torch.ones(256 * 1024), "cpu", TimingConfig(warmup=1, repeats=2))  # 1 MiB
    assert result.peak_memory_bytes is not None
    assert result.peak_memory_bytes < 50 * MIB


def test_missing_probe_reports_none_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylelab.bench import timing

    monkeypatch.setattr(timing, "peak_memory_probe", lambda device: NoPeakMemory("no /proc here"))
    result = measure(lambda: None, "cpu", TimingConfig(warmup=0, repeats=1))
    assert result.peak_memory_bytes is None
    assert result.notes == ("no /proc here",)


def test_unknown_device_type_gets_a_note() -> None:
    reading = peak_memory_probe(torch.device("meta"))
    reading.start()
    assert reading.stop().note is not None and "meta" in reading.stop().note
