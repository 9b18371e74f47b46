from __future__ import annotations

import pytest
import torch

from stylelab.bench.device import device_description, resolve_device


def test_cpu_description_names_model_threads_and_torch() -> None:
    torch.set_num_threads(2)
    text = device_description("cpu")
    assert text.startswith("CPU: ")
    assert "2 threads" in text and f"torch {torch.__version__}" in text


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message when CUDA is missing")
def test_cuda_without_a_gpu_says_so() -> None:
    with pytest.raises(RuntimeError, match="cuda.is_available"):
        resolve_device("cuda")
