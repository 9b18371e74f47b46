"""Students shipped with the package (safetensors + a JSON training record), and how to write them.

``weights/pcakd_vgg.safetensors`` holds the autoencoder state dict of the VGG student (encoder with its
frozen preprocess conv, decoder, eigenbases: about 1.3 MB); its safetensors metadata names the
architecture, and ``weights/pcakd_vgg.json`` records how it was trained (config, data, steps, time,
metrics). ``experiments/pcakd/train_student.py`` regenerates both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from torch import nn

from stylelab.utils.io import atomic_save_bytes, atomic_save_text

WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED = {"vgg": "pcakd_vgg"}


def pretrained_file(name: str) -> Path:
    """The file of a shipped student name (``"vgg"``) or a path given as is.

    Raises:
        FileNotFoundError: Neither a shipped name nor an existing file.
    """
    if name in SHIPPED:
        path = WEIGHTS_DIR / f"{SHIPPED[name]}.safetensors"
        if not path.is_file():
            raise FileNotFoundError(
                f"the shipped PCA-KD student {path} is missing; regenerate it with "
                "`python experiments/pcakd/train_student.py` or pass pretrained=None"
            )
        return path
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(f"pretrained={name!r} is neither one of {sorted(SHIPPED)} nor a file")
    return path


def architecture_record(backbone: str, widths: tuple[int, ...], hfr: str, preprocess: str) -> dict[str, str]:
    """The safetensors metadata that identifies an architecture (``preprocess``: the input map)."""
    return {
        "backbone": backbone,
        "widths": ",".join(str(w) for w in widths),
        "hfr": hfr,
        "preprocess": preprocess,
    }


def student_architecture(name: str) -> dict[str, str]:
    """The architecture entries of a student file's metadata (see :func:`architecture_record`).

    Raises:
        FileNotFoundError: See :func:`pretrained_file`.
    """
    from safetensors import safe_open

    with safe_open(str(pretrained_file(name)), framework="pt") as handle:
        metadata = dict(handle.metadata() or {})
    return {k: metadata.get(k, "") for k in ("backbone", "widths", "hfr", "preprocess")}


def save_student(
    autoencoder: nn.Module,
    path: str | os.PathLike[str],
    architecture: dict[str, str],
    record: dict[str, Any] | None = None,
) -> None:
    """Write ``autoencoder.state_dict()`` (safetensors) and, if given, a JSON record beside it."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in autoencoder.state_dict().items()}
    atomic_save_bytes(path, save(state, metadata=architecture))
    if record is not None:
        atomic_save_text(Path(path).with_suffix(".json"), json.dumps(record, indent=2, sort_keys=True) + "\n")


def load_student(autoencoder: nn.Module, name: str, architecture: dict[str, str]) -> dict[str, str]:
    """Load a shipped (or saved) student into ``autoencoder``.

    Args:
        autoencoder: The freshly built autoencoder.
        name: Shipped name or file path.
        architecture: :func:`architecture_record` of ``autoencoder``; must equal the file's.

    Returns:
        The file's metadata.

    Raises:
        ValueError: The file was written for another architecture.
    """
    from safetensors.torch import load_file

    path = pretrained_file(name)
    metadata = student_architecture(name)
    mismatch = {k: (metadata.get(k), v) for k, v in architecture.items() if metadata.get(k) != v}
    if mismatch:
        raise ValueError(
            f"{path} was trained for another architecture (file vs requested: {mismatch}); "
            "pass pretrained=None to start from scratch"
        )
    autoencoder.load_state_dict(load_file(str(path)))
    return metadata
