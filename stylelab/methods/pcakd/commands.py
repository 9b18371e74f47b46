"""``stylelab pcakd ...`` sub-commands.

``stylelab pcakd mcev --data <folder | config.yaml>``: per-layer mean explained variance and mean
cumulative explained variance (Eq. 9, Fig. 4) of the teacher's relu1_1..relu4_1 features over a
dataset, the channel count reaching a threshold (default 85%) beside the paper's 64/58/20/5, and a
plot. A config contributes its ``data`` section (a :class:`StyleTransferDataModule`); its content images
(all splits) are used, as the paper used COCO photos.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F

from stylelab.commands import Command, register_command
from stylelab.data.errors import UnreadableImageError
from stylelab.data.sources.base import ImageSource
from stylelab.methods.pcakd.mcev import PAPER_CHANNELS, ExplainedVarianceStats, accumulate
from stylelab.methods.pcakd.plots import explained_variance_svg
from stylelab.methods.pcakd.teacher import VGG_TAPS, VGGTeacher
from stylelab.utils.io import atomic_save_text


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pcakd_command", required=True, metavar="SUBCOMMAND")
    mcev = sub.add_parser("mcev", help="mean cumulative explained variance per layer (channel selection)")
    mcev.add_argument(
        "--data", required=True, help="image folder, or a config YAML whose data section to use"
    )
    mcev.add_argument("--threshold", type=float, default=0.85, help="mCEV threshold (default 0.85)")
    mcev.add_argument("--size", type=int, default=512, help="resize size (default 512, as in training)")
    mcev.add_argument(
        "--resize",
        choices=("square", "shorter"),
        default="square",
        help="square: size x size (the reference code's cv2.resize); shorter: keep aspect",
    )
    mcev.add_argument("--max-images", type=int, default=None, help="use at most this many images")
    mcev.add_argument(
        "--weights", default="vgg19_caffe_q8", help="teacher VGG-19 weights (registry name; none = random)"
    )
    mcev.add_argument(
        "--normalisation",
        choices=("vgg_normalised", "none"),
        default="vgg_normalised",
        help="teacher feature normalisation (default: vgg_normalised, the paper's VGG)",
    )
    mcev.add_argument(
        "--output",
        default="reports/pcakd/mcev",
        help="output prefix: writes PREFIX.md, PREFIX.json and PREFIX.svg",
    )
    mcev.add_argument("--device", default="cpu")


def source_from(data: str) -> ImageSource:
    """The content images of a folder or of a config's ``data`` section.

    Raises:
        SystemExit: The path does not exist.
    """
    path = Path(data)
    if path.is_dir():
        from stylelab.data import ImageFolder

        return ImageFolder(path)
    if not path.is_file():
        raise SystemExit(f"stylelab pcakd mcev: --data {data} is neither a folder nor a config file")
    import yaml
    from jsonargparse import ArgumentParser

    from stylelab.data import StyleTransferDataModule

    config = yaml.safe_load(path.read_text()) or {}
    section = config.get("data") or {"class_path": "stylelab.data.StyleTransferDataModule"}
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(StyleTransferDataModule, "data")
    parsed = parser.parse_object({"data": section})
    datamodule = parser.instantiate_classes(parsed).data
    datamodule.prepare_data()
    return datamodule.content_source


def _images(
    source: ImageSource, size: int, mode: str, limit: int | None, device: str
) -> Iterator[torch.Tensor]:
    count = 0
    for index in range(len(source)):
        if limit is not None and count >= limit:
            return
        try:
            image = source.load(index)
        except UnreadableImageError as error:
            print(f"skipped {error}")
            continue
        h, w = image.shape[-2:]
        target = (
            (size, size) if mode == "square" else (round(h * size / min(h, w)), round(w * size / min(h, w)))
        )
        image = F.interpolate(image[None], size=target, mode="bilinear", antialias=True, align_corners=False)
        count += 1
        yield image.to(device)


def report(stats: ExplainedVarianceStats, threshold: float, description: str) -> tuple[str, dict]:
    """Markdown table and JSON record of the statistics."""
    channels = stats.channels(threshold)
    lines = [
        "# PCA-KD channel selection: mean cumulative explained variance (Eq. 9, Fig. 4)",
        "",
        description,
        "",
        f"| layer | channels | ours: channels reaching {threshold:.0%} | paper (COCO train2017, 85%) | "
        "ours: mCEV at the paper's count | ours: mEV of the top eigenvector |",
        "|---|---|---|---|---|---|",
    ]
    record: dict = {"threshold": threshold, "images": stats.count, "layers": {}}
    for layer in stats.layers:
        mcev = stats.mean_cev(layer)
        paper = PAPER_CHANNELS.get(layer)
        at_paper = f"{float(mcev[paper - 1]):.1%}" if paper is not None and paper <= mcev.numel() else "—"
        lines.append(
            f"| {layer} | {mcev.numel()} | {channels[layer]} | {paper if paper is not None else '—'} | "
            f"{at_paper} | {float(stats.mean_ev(layer)[0]):.1%} |"
        )
        record["layers"][layer] = {
            "channels_at_threshold": channels[layer],
            "paper_channels_at_85": paper,
            "mean_ev": [round(float(v), 8) for v in stats.mean_ev(layer)],
            "mean_cev": [round(float(v), 8) for v in mcev],
        }
    return "\n".join(lines) + "\n", record


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    if ns.pcakd_command != "mcev":  # pragma: no cover - argparse enforces the choices
        raise SystemExit(f"unknown pcakd sub-command {ns.pcakd_command}")
    if not 0.0 < ns.threshold <= 1.0:
        raise SystemExit(f"--threshold must be in (0, 1], got {ns.threshold}")
    start = time.time()
    source = source_from(ns.data)
    weights = None if ns.weights.lower() == "none" else ns.weights
    normalisation = "none" if weights is None else ns.normalisation
    teacher = VGGTeacher(weights, normalisation).to(ns.device)
    stats = accumulate(
        lambda x: teacher.features(x, 4),
        _images(source, ns.size, ns.resize, ns.max_images, ns.device),
        VGG_TAPS,
    )
    if stats.count == 0:
        raise SystemExit(f"stylelab pcakd mcev: no readable image in {ns.data}")
    from stylelab.bench import device_description

    description = (
        f"- data: `{ns.data}` ({stats.count} images, resized {ns.resize} {ns.size})\n"
        f"- teacher: VGG-19 `{ns.weights}`, normalisation `{ns.normalisation}`, reflection pad, max pool\n"
        f"- device: {device_description(torch.device(ns.device))}; run time {time.time() - start:.0f} s\n"
        f"- command: `stylelab pcakd mcev --data {ns.data} --threshold {ns.threshold} --size {ns.size} "
        f"--resize {ns.resize}`"
    )
    markdown, record = report(stats, ns.threshold, description)
    channels = stats.channels(ns.threshold)
    svg = explained_variance_svg(
        list(VGG_TAPS),
        [stats.mean_ev(t).tolist() for t in VGG_TAPS],
        [stats.mean_cev(t).tolist() for t in VGG_TAPS],
        [channels[t] for t in VGG_TAPS],
        ns.threshold,
        [PAPER_CHANNELS[t] for t in VGG_TAPS],
        title=f"mEV (green) and mCEV (blue) over {stats.count} images of {ns.data}",
    )
    prefix = Path(ns.output)
    atomic_save_text(f"{prefix}.md", markdown + f"\n![mEV and mCEV]({prefix.name}.svg)\n")
    atomic_save_text(f"{prefix}.json", json.dumps(record, indent=1) + "\n")
    atomic_save_text(f"{prefix}.svg", svg)
    print(markdown)
    print(f"wrote {prefix}.md, {prefix}.json, {prefix}.svg")
    return 0


register_command(
    Command(
        "pcakd",
        "PCA-KD tools: `stylelab pcakd mcev --data DIR|CONFIG` (channel selection)",
        _add_arguments,
        _run,
    )
)
