"""DDP equivalence: 2 CPU processes (gloo), each with half the data, give the single-process value."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ._ddp_worker import run_rank
from ._helpers import build_metric_zoo, ddp_dataset, update_zoo

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _package_root() -> Path:
    """Folder from which this test package is importable (the children re-import the worker by name)."""
    folder = Path(__file__).resolve().parent
    while (folder / "__init__.py").is_file():
        folder = folder.parent
    return folder


def test_every_metric_matches_single_process_under_two_process_gloo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(_package_root()))
    result_path = tmp_path / "ddp.pt"
    context = mp.spawn(run_rank, args=(2, _free_port(), str(result_path)), nprocs=2, join=False)
    deadline = time.monotonic() + 180
    while not context.join(timeout=2):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.terminate()
            pytest.fail("the 2-process DDP run did not finish within 180 s")
    distributed = torch.load(result_path, weights_only=True)

    torch.set_num_threads(1)  # same kernels as the workers
    data = ddp_dataset()
    zoo = build_metric_zoo()
    update_zoo(zoo, data, samples=slice(0, len(data["output"])), clips=slice(0, len(data["clips"])))
    single = {name: metric.compute().double() for name, metric in zoo.items()}

    assert set(distributed["values"]) == set(single)
    for name, value in single.items():
        assert torch.isfinite(value), name
        # within 1e-6 absolute, and relative too (some values are O(1e-4))
        difference = abs(float(distributed["values"][name]) - float(value))
        assert difference <= 1e-6 * min(1.0, abs(float(value))) + 1e-12, (name, float(value), difference)
    # Rank 0 really saw only its half: its local count is half of the single-process count.
    for name, metric in zoo.items():
        assert int(distributed["local_counts"][name]) * 2 == int(metric.count), name
