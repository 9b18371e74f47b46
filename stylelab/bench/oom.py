"""Recognising out-of-memory failures and giving the memory back afterwards."""

from __future__ import annotations

import gc

import torch

# Lower-case fragments of messages that mean "could not allocate" rather than a bug.
_OOM_FRAGMENTS = (
    "out of memory",  # CUDA, MPS, HIP: "CUDA out of memory. Tried to allocate ..."
    "can't allocate memory",  # DefaultCPUAllocator: can't allocate memory: you tried to allocate ...
    "cannot allocate memory",  # errno 12 text
    "could not allocate",
    "not enough memory",
    "alloc_failed",  # CUBLAS_STATUS_ALLOC_FAILED, CUDNN_STATUS_ALLOC_FAILED, CUFFT_ALLOC_FAILED
)

_MAX_MESSAGE_CHARS = 300


def is_out_of_memory(exc: BaseException) -> bool:
    """Say whether ``exc`` means the device ran out of memory.

    Args:
        exc: An exception raised by the timed code.

    Returns:
        True for ``torch.cuda.OutOfMemoryError``, ``MemoryError`` and ``RuntimeError`` whose message
        says an allocation failed (CPU allocator, cuBLAS/cuDNN/cuFFT allocation failures); False for
        everything else, which the caller should re-raise.
    """
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    if isinstance(exc, RuntimeError):
        message = str(exc).lower()
        return any(fragment in message for fragment in _OOM_FRAGMENTS)
    return False


def describe_error(exc: BaseException) -> str:
    """Short one-line description of ``exc`` for a table cell or a CSV field.

    Args:
        exc: Any exception.

    Returns:
        ``"<ExceptionType>: <first line of the message>"``, cut to 300 characters.
    """
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 3] + "..."


def release_memory(device: torch.device) -> None:
    """Collect garbage and hand cached accelerator memory back after a failure or between sizes.

    Call it outside the ``except`` block that caught the error: the traceback keeps the failing
    frames (and their tensors) alive until the block ends.

    Args:
        device: A resolved device.
    """
    gc.collect()
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()
