"""Entry point of the 2-process gloo run in ``test_ddp.py`` (importable by spawned children)."""

from __future__ import annotations

import os
from datetime import timedelta

import torch
import torch.distributed as dist

from ._helpers import build_metric_zoo, ddp_dataset, update_zoo


def run_rank(rank: int, world_size: int, port: int, result_path: str) -> None:
    """Update every metric with this rank's half of the dataset, compute (synced), save on rank 0."""
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=60),
    )
    try:
        data = ddp_dataset()
        half, clip_half = len(data["output"]) // world_size, len(data["clips"]) // world_size
        zoo = build_metric_zoo()
        update_zoo(
            zoo,
            data,
            samples=slice(rank * half, (rank + 1) * half),
            clips=slice(rank * clip_half, (rank + 1) * clip_half),
        )
        results = {name: metric.compute().double() for name, metric in zoo.items()}
        counts = {name: metric.count.clone() for name, metric in zoo.items()}
        if rank == 0:
            torch.save({"values": results, "local_counts": counts}, result_path)
        dist.barrier()
    finally:
        dist.destroy_process_group()
