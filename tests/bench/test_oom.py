from __future__ import annotations

import pytest
import torch

from stylelab.bench.oom import describe_error, is_out_of_memory


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
        (MemoryError(), True),
        (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 GB"), True),
        (RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate"), True),
        (RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"), False),
        (ValueError("out of memory"), False),  # only allocation errors' types count
    ],
)
def test_is_out_of_memory(error: BaseException, expected: bool) -> None:
    assert is_out_of_memory(error) is expected


def test_describe_error_keeps_the_first_line_short() -> None:
    text = describe_error(RuntimeError("CUDA out of memory.\n" + "details " * 100))
    assert text == "RuntimeError: CUDA out of memory."
    assert len(describe_error(RuntimeError("x" * 1000))) == 300
