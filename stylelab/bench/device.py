"""Which device a measurement ran on, and how to wait for it to finish its work."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

_CPUINFO = Path("/proc/cpuinfo")


def resolve_device(device: torch.device | str) -> torch.device:
    """Turn ``device`` into a ``torch.device`` with an explicit index for accelerators.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``torch.device(...)`` ...

    Returns:
        The device; ``cuda`` without an index becomes the current CUDA device.

    Raises:
        RuntimeError: ``device`` is a CUDA device but CUDA is not available.
    """
    resolved = torch.device(device)
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"Asked to time on {resolved}, but torch.cuda.is_available() is False; "
                "time on 'cpu' or run on a machine with a CUDA GPU."
            )
        if resolved.index is None:
            resolved = torch.device("cuda", torch.cuda.current_device())
    return resolved


def synchronize(device: torch.device) -> None:
    """Block until all work queued on ``device`` has finished (no-op on CPU).

    Args:
        device: A resolved device (see :func:`resolve_device`).
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def cpu_model_name() -> str:
    """Name of the CPU model (``/proc/cpuinfo`` on Linux, ``platform`` elsewhere).

    Returns:
        For example ``"AMD EPYC 7763 64-Core Processor"``; ``"unknown CPU"`` if nothing says.
    """
    try:
        for line in _CPUINFO.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Processor", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_description(device: torch.device | str) -> str:
    """One line naming the hardware and software a timing ran on, for table headers.

    Args:
        device: The device timed.

    Returns:
        ``"NVIDIA H100 80GB HBM3 (CUDA 12.8, torch 2.x)"`` for a GPU, or
        ``"CPU: <model name>, N threads, torch 2.x"`` for the CPU (``N`` is
        ``torch.get_num_threads()`` now, so call it while the timed thread count is in effect).
    """
    resolved = resolve_device(device)
    if resolved.type == "cuda":
        name = torch.cuda.get_device_name(resolved)
        return f"{name} (CUDA {torch.version.cuda}, torch {torch.__version__})"
    if resolved.type == "cpu":
        return f"CPU: {cpu_model_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    return f"{resolved.type.upper()} (torch {torch.__version__})"
