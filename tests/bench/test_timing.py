from __future__ import annotations

import itertools
import time

import pytest
import torch

from stylelab.bench import timing
from stylelab.bench.timing import TimingConfig, latency, measure, throughput


class FakeClock:
    """A clock that only moves when the timed function says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(timing, "_now", fake)
    return fake


def test_statistics_from_known_durations(clock: FakeClock) -> None:
    durations = iter([100.0, 100.0, 3.0, 1.0, 5.0, 2.0, 4.0])  # two warm-up calls, then five repeats

    def fn() -> None:
        clock.now += next(durations)

    result = measure(fn, "cpu", TimingConfig(warmup=2, repeats=5))
    assert result.times_s == (3.0, 1.0, 5.0, 2.0, 4.0)  # the slow warm-up calls are not counted
    assert result.median_s == 3.0
    assert result.p25_s == 2.0 and result.p75_s == 4.0 and result.iqr_s == 2.0
    assert result.min_s == 1.0 and result.mean_s == 3.0
    assert result.repeats == 5 and result.warmup == 2
    assert not result.oom and result.error is None
    assert result.timer == "perf_counter"


def test_sleep_median_is_close_to_the_sleep() -> None:
    result = measure(lambda: time.sleep(0.01), "cpu", TimingConfig(warmup=1, repeats=5))
    assert result.median_s is not None
    assert 0.0095 <= result.median_s < 0.06  # sleep never returns early; loose upper bound for busy CI
    assert result.min_s <= result.p25_s <= result.median_s <= result.p75_s


def test_warmup_calls_are_made_but_not_counted() -> None:
    calls = itertools.count()
    result = measure(lambda: next(calls), "cpu", TimingConfig(warmup=3, repeats=4))
    assert next(calls) == 7
    assert result.repeats == 4 and len(result.times_s) == 4


def test_min_time_extends_the_repeats(clock: FakeClock) -> None:
    def fn() -> None:
        clock.now += 1.0

    result = measure(fn, "cpu", TimingConfig(warmup=0, repeats=2, min_time_s=4.5))
    assert result.repeats == 5
    assert measure(fn, "cpu", TimingConfig(warmup=0, repeats=3, min_time_s=1.0)).repeats == 3


def test_thread_count_is_fixed_then_restored() -> None:
    torch.set_num_threads(2)
    seen: list[int] = []
    result = measure(lambda: seen.append(torch.get_num_threads()), "cpu", TimingConfig(1, 2, num_threads=1))
    assert set(seen) == {1}
    assert result.num_threads == 1 and "1 threads" in result.device_name
    assert torch.get_num_threads() == 2


def test_thread_count_is_restored_after_an_error() -> None:
    torch.set_num_threads(2)

    def broken() -> None:
        raise ValueError("a bug, not an OOM")

    with pytest.raises(ValueError, match="a bug"):
        measure(broken, "cpu", TimingConfig(num_threads=1))
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize(
    "error",
    [
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"),
        MemoryError(),
    ],
)
def test_out_of_memory_becomes_an_oom_result(error: BaseException) -> None:
    def fn() -> None:
        raise error

    result = measure(fn, "cpu", TimingConfig(warmup=0, repeats=3))
    assert result.oom
    assert result.error is not None and type(error).__name__ in result.error
    assert result.median_s is None and result.iqr_s is None and result.repeats == 0


def test_out_of_memory_during_warmup_is_caught() -> None:
    calls = itertools.count()

    def fn() -> None:
        if next(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    assert measure(fn, "cpu", TimingConfig(warmup=3, repeats=3)).oom


def test_other_runtime_errors_propagate() -> None:
    def fn() -> None:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    with pytest.raises(RuntimeError, match="shapes"):
        measure(fn, "cpu")


@pytest.mark.parametrize("kwargs", [{"warmup": -1}, {"repeats": 0}, {"num_threads": 0}, {"min_time_s": 0.0}])
def test_config_rejects_impossible_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="TimingConfig"):
        TimingConfig(**kwargs)


def test_latency_is_batch_one_per_resolution() -> None:
    shapes: list[tuple[int, int, int]] = []

    def make_input(batch: int, height: int, width: int) -> torch.Tensor:
        shapes.append((batch, height, width))
        return torch.rand(batch, 3, height, width)

    rows = latency(lambda x: x * 2, make_input, [8, (8, 16)], "cpu", TimingConfig(0, 2), method="double")
    assert shapes == [(1, 8, 8), (1, 8, 16)]
    assert [row.resolution for row in rows] == [(8, 8), (8, 16)]
    assert all(row.batch == 1 and row.kind == "latency" and row.method == "double" for row in rows)
    assert all(row.dtype == "float32" and row.result.repeats == 2 for row in rows)


def test_latency_runs_without_gradients_by_default() -> None:
    grad_enabled: list[bool] = []
    make_input = lambda b, h, w: torch.rand(b, 3, h, w)  # noqa: E731
    latency(
        lambda x: grad_enabled.append(torch.is_grad_enabled()), make_input, [4], "cpu", TimingConfig(0, 1)
    )
    assert grad_enabled == [False]


def test_latency_marks_only_the_sizes_that_run_out_of_memory() -> None:
    def model(x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] > 16:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory.")
        return x

    def make_input(batch: int, height: int, width: int) -> torch.Tensor:
        if height > 32:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 TB")
        return torch.zeros(batch, 3, height, width)

    rows = latency(model, make_input, [8, 32, 64], "cpu", TimingConfig(0, 1))
    assert [row.result.oom for row in rows] == [False, True, True]
    assert "making the input" in rows[2].result.error


def test_throughput_is_images_per_second(clock: FakeClock) -> None:
    def model(x: torch.Tensor) -> None:
        clock.now += 0.5  # half a second per batch, whatever its size

    rows = throughput(model, lambda b, h, w: torch.zeros(b, 3, h, w), 8, [1, 4], "cpu", TimingConfig(0, 3))
    assert [row.batch for row in rows] == [1, 4]
    assert [row.images_per_s for row in rows] == [2.0, 8.0]
    assert all(row.kind == "throughput" and row.resolution == (8, 8) for row in rows)


def test_throughput_rejects_empty_batches() -> None:
    with pytest.raises(ValueError, match="batch sizes"):
        throughput(lambda x: x, lambda b, h, w: torch.zeros(b, 3, h, w), 8, [0], "cpu")
