"""Zoo checkpoints: a trained method stored small (float16 safetensors) and rebuilt without pickles.

A zoo file holds the tensors of a method's state dict that its constructor does **not** reproduce (the
trained decoder, banks, kernel predictor ...); frozen backbones that the weight registry supplies (the VGG
encoder, loss networks) are left out and rebuilt by the constructor. The safetensors metadata carries
``stylelab_method`` (the registry name) and ``hyper_parameters`` (JSON), so loading is
``cls(**hyper_parameters)`` followed by ``load_state_dict`` of the stored tensors. Floating tensors are stored
as float16 (``--precision 16``) or float32.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod, load_method, method_class
from stylelab.utils.io import atomic_save_bytes

FORMAT = "stylelab-zoo-1"


def _constructor_arguments(cls: type, hparams: dict[str, Any]) -> dict[str, Any]:
    accepted = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in hparams.items() if k in accepted}


def reproducible_keys(model: StyleTransferMethod) -> set[str]:
    """State-dict keys whose values a fresh ``cls(**hparams)`` rebuilds exactly (they need not be stored)."""
    fresh = type(model)(**_constructor_arguments(type(model), dict(model.hparams)))
    ours, theirs = model.state_dict(), fresh.state_dict()
    return {
        key
        for key, value in ours.items()
        if key in theirs and theirs[key].shape == value.shape and torch.equal(theirs[key].to(value), value)
    }


def export_zoo_checkpoint(
    checkpoint: str | os.PathLike[str], output: str | os.PathLike[str], precision: int = 16
) -> dict[str, Any]:
    """Write a Lightning checkpoint as a zoo file (the tensors the constructor does not rebuild).

    Args:
        checkpoint: A stylelab Lightning checkpoint (read with ``weights_only=True``).
        output: Destination ``.safetensors`` (written atomically).
        precision: 16 (float16 storage) or 32.

    Returns:
        ``{"method", "tensors", "parameters", "bytes", "dropped"}`` (``dropped``: keys rebuilt on load).

    Raises:
        ValueError: Bad precision or not a stylelab checkpoint.
    """
    from safetensors.torch import save

    if precision not in (16, 32):
        raise ValueError(f"precision must be 16 or 32, got {precision}")
    model = load_method(checkpoint)
    keep = set(model.state_dict()) - reproducible_keys(model)
    dtype = torch.float16 if precision == 16 else torch.float32
    state = {
        k: (v.to(dtype) if v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
        if k in keep
    }
    metadata = {
        "format": FORMAT,
        "stylelab_method": model.method_name,
        "hyper_parameters": json.dumps(dict(model.hparams), sort_keys=True, default=str),
        "variant": model.variant(),
    }
    data = save(state, metadata=metadata)
    atomic_save_bytes(output, data)
    return {
        "method": model.method_name,
        "tensors": len(state),
        "parameters": int(sum(v.numel() for v in state.values())),
        "bytes": len(data),
        "dropped": len(model.state_dict()) - len(state),
    }


def read_zoo_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The safetensors metadata of a zoo file.

    Raises:
        ValueError: Not a zoo file.
    """
    from safetensors import safe_open

    with safe_open(os.fspath(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if metadata.get("format") != FORMAT or "stylelab_method" not in metadata:
        raise ValueError(f"{path} is not a stylelab zoo checkpoint (no '{FORMAT}' metadata)")
    return metadata


def load_zoo_checkpoint(path: str | os.PathLike[str], **overrides: Any) -> StyleTransferMethod:
    """Rebuild a method from a zoo file (no pickles: safetensors + JSON hyper-parameters).

    Args:
        path: The ``.safetensors`` zoo file.
        **overrides: Constructor arguments replacing the stored ones (e.g. inference-only options).

    Returns:
        The method in eval mode, float32.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a zoo file, or tensors that do not belong to the rebuilt method.
    """
    from safetensors.torch import load_file

    if not Path(path).is_file():
        raise FileNotFoundError(f"zoo checkpoint {path} does not exist")
    metadata = read_zoo_metadata(path)
    cls = method_class(metadata["stylelab_method"])
    hparams = json.loads(metadata["hyper_parameters"]) | overrides
    model = cls(**_constructor_arguments(cls, hparams))
    reference = model.state_dict()
    stored: dict[str, Tensor] = load_file(os.fspath(path))
    unexpected = sorted(set(stored) - set(reference))
    if unexpected:
        raise ValueError(f"{path}: tensors {unexpected[:5]} do not belong to {cls.__name__}({hparams})")
    for key, value in stored.items():
        if value.shape != reference[key].shape:
            raise ValueError(
                f"{path}: {key} has shape {tuple(value.shape)}, expected {tuple(reference[key].shape)}"
            )
    model.load_state_dict({k: v.to(reference[k].dtype) for k, v in stored.items()}, strict=False)
    model.zoo_file = Path(path)  # provenance for tables (stylelab.benchmark labels the row "zoo")
    model.eval()
    return model
