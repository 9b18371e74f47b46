from __future__ import annotations

import pytest
import torch

from stylelab.bench.timing import TimingConfig, latency, measure

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

MIB = 1024 * 1024


@pytest.mark.parametrize("use_cuda_events", [True, False])
def test_cuda_measure_reports_time_name_and_peak(use_cuda_events: bool) -> None:
    a = torch.rand(512, 512, device="cuda")
    config = TimingConfig(warmup=2, repeats=5, use_cuda_events=use_cuda_events)
    result = measure(lambda: torch.ones(64 * MIB // 4, device="cuda") + 1, "cuda", config)
    assert result.median_s is not None and result.median_s > 0
    assert result.timer == ("cuda-events" if use_cuda_events else "perf_counter+sync")
    assert torch.cuda.get_device_name() in result.device_name and "CUDA" in result.device_name
    assert 100 * MIB <= result.peak_memory_bytes <= 200 * MIB  # two 64 MiB tensors alive at once
    assert result.baseline_memory_bytes >= a.numel() * 4


def test_cuda_events_see_gpu_work_not_just_the_launch() -> None:
    a = torch.rand(2048, 2048, device="cuda")
    small = measure(lambda: a @ a, "cuda", TimingConfig(warmup=2, repeats=5))
    large = measure(lambda: [a @ a for _ in range(20)], "cuda", TimingConfig(warmup=2, repeats=5))
    assert large.median_s > 5 * small.median_s


def test_cuda_out_of_memory_is_a_cell_and_frees_the_cache() -> None:
    free, total = torch.cuda.mem_get_info()
    result = measure(lambda: torch.empty(2 * total, dtype=torch.uint8, device="cuda"), "cuda")
    assert result.oom and "OutOfMemoryError" in result.error
    after = torch.ones(MIB, device="cuda")  # the device is still usable
    assert after.sum().item() == MIB


def test_cuda_latency_rows() -> None:
    conv = torch.nn.Conv2d(3, 8, 3, padding=1).cuda()
    make_input = lambda b, h, w: torch.rand(b, 3, h, w)  # noqa: E731  (moved to the GPU by latency)
    rows = latency(conv, make_input, [64, 128], "cuda", TimingConfig(warmup=1, repeats=3))
    assert [row.resolution for row in rows] == [(64, 64), (128, 128)]
    assert all(not row.result.oom and row.result.peak_memory_bytes > 0 for row in rows)
