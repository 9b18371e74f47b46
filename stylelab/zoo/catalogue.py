"""The model zoo: CPU-trained checkpoints shipped with stylelab, one per method that trains networks.

Each entry names its recipe (``configs/zoo/<name>.yaml``, trained by ``stylelab zoo train <name>``) and
ships ``stylelab/zoo/weights/<name>.safetensors`` (float16, see :mod:`.checkpoint`) with
``<name>.json`` beside it: the training record (config, data, steps, wall time, machine, commit) and the
quality floor measured on held-out photos and paintings (:mod:`.floor`). ``MANIFEST.json`` lists every
shipped file's sha256; the weight registry exposes them as ``zoo_<name>`` (``stylelab weights list``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ZOO_DIR = Path(__file__).resolve().parent / "weights"


def manifest_file() -> Path:
    """``MANIFEST.json`` beside the shipped files."""
    return ZOO_DIR / "MANIFEST.json"


@dataclass(frozen=True)
class ZooEntry:
    """One zoo model.

    Attributes:
        name: Entry name (= the ``configs/zoo/<name>.yaml`` stem and the weight file stem).
        method: Registry name of the method it loads into.
        description: One line: architecture, what was trained, the deviations from the paper recipe.
        floor: ``"transfer"`` (SSIM and Gram-ratio floor on held-out photos x held-out paintings) or
            ``"own_styles"`` (StyleBank: SSIM and LPIPS floor on held-out photos with its own styles).
    """

    name: str
    method: str
    description: str
    floor: str = "transfer"

    @property
    def config(self) -> str:
        """The recipe, relative to the repository root."""
        return f"configs/zoo/{self.name}.yaml"

    @property
    def file(self) -> Path:
        """The shipped weight file."""
        return ZOO_DIR / f"{self.name}.safetensors"

    @property
    def record_file(self) -> Path:
        """The shipped JSON training record."""
        return ZOO_DIR / f"{self.name}.json"

    def record(self) -> dict[str, Any]:
        """The training record (``{}`` when the entry has not been trained yet)."""
        return json.loads(self.record_file.read_text()) if self.record_file.is_file() else {}


ENTRIES: dict[str, ZooEntry] = {
    entry.name: entry
    for entry in (
        ZooEntry(
            "adain",
            "adain",
            "AdaIN at relu3_1 of the vgg_normalised encoder; decoder fine-tuned from the pretrained relu3_1 "
            "decoder on the zoo's training photos x paintings",
        ),
        ZooEntry(
            "stylebank",
            "stylebank",
            "StyleBank over the frozen vgg_normalised relu3_1 encoder and a decoder started from the "
            "pretrained relu3_1 decoder; one filter bank per training painting",
            floor="own_styles",
        ),
        ZooEntry(
            "stylekernel",
            "stylekernel",
            "Dynamic style kernels at relu3_1 of the vgg_normalised encoder; decoder started from the "
            "pretrained relu3_1 decoder",
        ),
        ZooEntry(
            "ift",
            "ift",
            "IFT's decoder for the relu3_1 transform, fine-tuned from the pretrained relu3_1 decoder",
        ),
        ZooEntry(
            "knowledge",
            "knowledge",
            "Knowledge-transfer decoder for relu3_1 features, fine-tuned from the pretrained relu3_1 decoder",
        ),
    )
}


def get_entry(name: str) -> ZooEntry:
    """The entry called ``name``.

    Raises:
        KeyError: Unknown entry (the message lists the known ones).
    """
    if name not in ENTRIES:
        raise KeyError(f"no zoo entry {name!r}; known: {', '.join(ENTRIES)}")
    return ENTRIES[name]


def shipped_manifest() -> dict[str, dict[str, Any]]:
    """``MANIFEST.json``: ``{name: {"sha256", "bytes", "file"}}`` of the shipped zoo files."""
    manifest = manifest_file()
    return json.loads(manifest.read_text()) if manifest.is_file() else {}


def load_zoo_method(name: str, **overrides: Any) -> Any:
    """The shipped zoo model ``name`` as a ready method (eval mode), resolved through the weight registry.

    Args:
        name: Zoo entry name.
        **overrides: Constructor arguments replacing the stored ones.

    Raises:
        KeyError: Unknown entry.
        FileNotFoundError: The entry ships no weights (says how to train it).
    """
    from stylelab.backbones import WeightsNotFoundError, resolve_weights
    from stylelab.zoo.checkpoint import load_zoo_checkpoint

    entry = get_entry(name)
    try:
        path = resolve_weights(f"zoo_{name}").path
    except (KeyError, WeightsNotFoundError) as error:
        raise FileNotFoundError(
            f"the model zoo has no {name} checkpoint ({error}); train it with `stylelab zoo train {name}` "
            f"(recipe {entry.config}) or pass --checkpoint"
        ) from error
    return load_zoo_checkpoint(path, **overrides)
