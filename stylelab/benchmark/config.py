"""The benchmark configuration: one YAML file, read into :class:`BenchmarkConfig` (unknown keys are errors).

Example (``configs/benchmark/quick.yaml``)::

    name: quick
    methods: [wct, {name: adain, args: [--decoder, pretrained_r31]}, {checkpoint: outputs/x/last.ckpt}]
    sets: [quick]                 # artistic | bank_styles | photoreal | quick | {folder: ...} | {pairs: ...}
    metrics: [ssim, lpips, gram, mean_std, cfsd, artfid]
    eval_size: 256                      # metrics at eval_size² (antialiased bilinear resize)
    max_size: 512                       # longer side of content and style when stylising
    latency: {sizes: [256, 512], style_size: 256, warmup: 1, repeats: 3}
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Every metric the benchmark knows (see :mod:`stylelab.benchmark.metrics`).
METRICS = ("ssim", "lpips", "gram", "mean_std", "cfsd", "artfid")
#: Named evaluation sets (see :mod:`stylelab.benchmark.sets`).
NAMED_SETS = ("quick", "artistic", "bank_styles", "photoreal")


class ConfigError(ValueError):
    """A benchmark configuration that cannot run; the message names the offending key."""


@dataclass(frozen=True)
class MethodEntry:
    """One method column of the benchmark.

    Attributes:
        name: Registered short name (``None`` for a checkpoint, whose file names the method).
        args: ``stylelab stylize --method NAME`` options choosing weights and inference settings.
        checkpoint: A Lightning ``.ckpt`` or a zoo ``.safetensors`` file.
        label: Column label (default: the name, ``name[args]`` or the checkpoint's stem).
    """

    name: str | None = None
    args: tuple[str, ...] = ()
    checkpoint: str | None = None
    label: str | None = None

    @property
    def key(self) -> str:
        """The label used in tables, file names and cell keys."""
        if self.label:
            return self.label
        if self.checkpoint:
            return Path(self.checkpoint).stem
        if self.args:
            return f"{self.name}[{' '.join(a.lstrip('-') for a in self.args)}]"
        return str(self.name)


@dataclass(frozen=True)
class SetEntry:
    """One evaluation set: a named set, a folder pair (all contents × all styles) or a paired layout.

    Attributes:
        name: ``quick``, ``artistic``, ``bank_styles``, ``photoreal`` or the label of a folder/paired set.
        folder: ``{"content": dir, "style": dir}`` (every content with every style).
        pairs: Keyword arguments of :class:`stylelab.data.sources.paired.PairedFolder` (``root`` ...).
    """

    name: str
    folder: dict[str, str] | None = None
    pairs: dict[str, Any] | None = None


@dataclass(frozen=True)
class LatencyConfig:
    """Latency and peak memory per resolution (batch 1, random inputs; see :mod:`stylelab.bench`).

    Attributes:
        sizes: Square content sizes (empty: no latency cells).
        style_size: Square style size.
        warmup: Untimed calls before the repeats.
        repeats: Timed calls (the median is reported).
        threads: ``torch.set_num_threads`` while timing (``None``: torch's).
    """

    sizes: tuple[int, ...] = (256, 512)
    style_size: int = 256
    warmup: int = 1
    repeats: int = 3
    threads: int | None = None


@dataclass(frozen=True)
class BenchmarkConfig:
    """A whole benchmark run (module docstring for the YAML form).

    Attributes:
        name: Run name (default output folder ``outputs/benchmark/<name>``).
        methods: Method columns.
        sets: Evaluation sets.
        metrics: Subset of :data:`METRICS`.
        eval_size: Side of the square size metrics are computed at.
        max_size: Longer side of content and style images when stylising (``None``: native size).
        max_pairs: Keep at most this many pairs per set (``None``: all).
        latency: Latency settings.
        device: Torch device (``cuda`` uses one worker per visible GPU).
        workers: Worker processes (each runs a share of the cells; results do not depend on it); ``0``:
            one per visible GPU with ``device: cuda``, else one.
        threads: ``torch.set_num_threads`` in every process running quality cells (``None``: torch's).
        seed: Seed set before every cell.
        cfsd_weights: Registry weights of CFSD's VGG-19 (StyleID: ``vgg19_torchvision``).
        inception_weights: ArtFID's Inception file (``None``: ``$STYLELAB_WEIGHTS/art_inception.pth``).
        grid_pairs: Rows of the image grid (first pairs of the first set).
        output: Output folder (``None``: ``outputs/benchmark/<name>``).
    """

    name: str
    methods: tuple[MethodEntry, ...]
    sets: tuple[SetEntry, ...] = (SetEntry("quick"),)
    metrics: tuple[str, ...] = METRICS
    eval_size: int = 256
    max_size: int | None = 512
    max_pairs: int | None = None
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    device: str = "cpu"
    workers: int = 1
    threads: int | None = None
    seed: int = 0
    cfsd_weights: str = "vgg19_torchvision"
    inception_weights: str | None = None
    grid_pairs: int = 4
    output: str | None = None

    def output_dir(self) -> Path:
        """The output folder."""
        return Path(self.output) if self.output else Path("outputs") / "benchmark" / self.name


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _check_keys(raw: dict[str, Any], cls: type, where: str) -> None:
    unknown = sorted(set(raw) - _fields(cls))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_fields(cls))}")


def _method(raw: Any, index: int) -> MethodEntry:
    where = f"methods[{index}]"
    if isinstance(raw, str):
        return MethodEntry(name=raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a name or a mapping, got {raw!r}")
    _check_keys(raw, MethodEntry, where)
    if (raw.get("name") is None) == (raw.get("checkpoint") is None):
        raise ConfigError(f"{where}: give exactly one of 'name' and 'checkpoint'")
    args = raw.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
        raise ConfigError(f"{where}.args: expected a list of command-line words, got {args!r}")
    return MethodEntry(raw.get("name"), tuple(str(a) for a in args), raw.get("checkpoint"), raw.get("label"))


def _set(raw: Any, index: int) -> SetEntry:
    where = f"sets[{index}]"
    if isinstance(raw, str):
        if raw not in NAMED_SETS:
            raise ConfigError(f"{where}: unknown set {raw!r}; named sets: {list(NAMED_SETS)} or a mapping")
        return SetEntry(raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a set name or a mapping, got {raw!r}")
    _check_keys(raw, SetEntry, where)
    if (raw.get("folder") is None) == (raw.get("pairs") is None):
        raise ConfigError(f"{where}: give exactly one of 'folder' and 'pairs'")
    if raw.get("folder") is not None:
        folder = raw["folder"]
        if not isinstance(folder, dict) or sorted(folder) != ["content", "style"]:
            raise ConfigError(f"{where}.folder: expected {{content: DIR, style: DIR}}, got {folder!r}")
    if raw.get("pairs") is not None and not isinstance(raw["pairs"], dict):
        raise ConfigError(f"{where}.pairs: expected PairedFolder arguments (root: DIR, ...)")
    name = raw.get("name") or f"set{index}"
    return SetEntry(name, raw.get("folder"), raw.get("pairs"))


def _expand_methods(raw: Any) -> list[Any]:
    from stylelab.methods import METHODS

    if raw == "all" or raw == ["all"]:
        return sorted(METHODS)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"methods: expected 'all' or a non-empty list, got {raw!r}")
    return raw


def config_from_dict(raw: dict[str, Any], default_name: str = "benchmark") -> BenchmarkConfig:
    """Validate a parsed YAML mapping.

    Raises:
        ConfigError: Unknown or missing keys, unknown metrics/sets/methods, wrong types.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"a benchmark config is a mapping; got {type(raw).__name__}")
    _check_keys(raw, BenchmarkConfig, "config")
    if "methods" not in raw:
        raise ConfigError("config: 'methods' is required")
    methods = tuple(_method(m, i) for i, m in enumerate(_expand_methods(raw["methods"])))
    from stylelab.methods import METHODS

    for entry in methods:
        if entry.name is not None and entry.name not in METHODS:
            raise ConfigError(f"methods: unknown method {entry.name!r}; registered: {sorted(METHODS)}")
    keys = [m.key for m in methods]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"methods: labels must be unique, got {keys} (give 'label:')")
    sets = tuple(_set(s, i) for i, s in enumerate(raw.get("sets", ["quick"])))
    metrics = tuple(raw.get("metrics", METRICS))
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ConfigError(f"metrics: unknown {unknown}; known: {list(METRICS)}")
    latency_raw = raw.get("latency") or {}
    if not isinstance(latency_raw, dict):
        raise ConfigError(f"latency: expected a mapping, got {latency_raw!r}")
    _check_keys(latency_raw, LatencyConfig, "latency")
    latency = LatencyConfig(**{**latency_raw, "sizes": tuple(latency_raw.get("sizes", (256, 512)))})
    rest = {k: v for k, v in raw.items() if k not in ("methods", "sets", "metrics", "latency")}
    config = BenchmarkConfig(
        **{"name": default_name, **rest}, methods=methods, sets=sets, metrics=metrics, latency=latency
    )
    if config.workers < 0 or config.eval_size < 16:
        raise ConfigError(
            f"workers must be >= 0 and eval_size >= 16; got {config.workers}, {config.eval_size}"
        )
    return config


def load_config(path: str | os.PathLike[str], **overrides: Any) -> BenchmarkConfig:
    """Read and validate a benchmark YAML; ``overrides`` (not ``None``) replace top-level keys.

    Raises:
        ConfigError: See :func:`config_from_dict`; the message starts with the file name.
        FileNotFoundError: No such file.
    """
    raw = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a benchmark config is a mapping")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return config_from_dict(raw, default_name=Path(path).stem)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    except TypeError as error:
        raise ConfigError(f"{path}: {error}") from None
