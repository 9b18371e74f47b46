"""``stylelab stylize``: stylize image files with a trained checkpoint (any image size).

Common options are parsed first; the method found in the checkpoint then adds its own
(:meth:`StyleTransferMethod.add_stylize_arguments`), e.g. ``--alpha`` for AdaIN.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch.nn.functional as F
from torch import Tensor

from stylelab.commands import Command, register_command
from stylelab.data.image_io import IMAGE_EXTENSIONS, load_image


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="Lightning checkpoint written by `stylelab fit`")
    source.add_argument("--method", help="a method that needs no training checkpoint, by short name")
    parser.add_argument("--content", nargs="+", required=True, help="content images or folders")
    parser.add_argument("--style", nargs="+", default=[], help="style images or folders")
    parser.add_argument("--output", required=True, help="output folder (created)")
    parser.add_argument("--max-size", type=int, default=None, help="resize the longer side to at most this")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")


def collect_images(entries: list[str]) -> list[Path]:
    """Expand files and folders (recursive) into a sorted list of image paths.

    Raises:
        SystemExit: A path does not exist or a folder holds no image.
    """
    paths: list[Path] = []
    for entry in entries:
        path = Path(entry)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
            if not found:
                raise SystemExit(f"stylelab stylize: no images ({', '.join(IMAGE_EXTENSIONS)}) under {path}")
            paths += found
        elif path.is_file():
            paths.append(path)
        else:
            raise SystemExit(f"stylelab stylize: {path} does not exist")
    return paths


def image_loader(max_size: int | None, device: str):  # noqa: ANN201 - Callable[[Path], Tensor]
    """A loader returning ``(1, 3, H, W)`` RGB [0,1] on ``device``, longer side capped at ``max_size``."""

    def load(path: Path) -> Tensor:
        image = load_image(path)[None]
        if max_size is not None and max(image.shape[-2:]) > max_size:
            scale = max_size / max(image.shape[-2:])
            size = (max(1, round(image.shape[-2] * scale)), max(1, round(image.shape[-1] * scale)))
            image = F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)
        return image.to(device)

    return load


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    from stylelab.methods.base import load_method, method_class

    if ns.checkpoint is not None:
        method = load_method(ns.checkpoint, map_location=ns.device)
    else:
        method = method_class(ns.method)()
    method = method.to(ns.device).eval()
    method_parser = argparse.ArgumentParser(prog=f"stylelab stylize ({method.method_name} options)")
    type(method).add_stylize_arguments(method_parser)
    options = method_parser.parse_args(rest)
    contents, styles = collect_images(ns.content), collect_images(ns.style)
    output = Path(ns.output)
    output.mkdir(parents=True, exist_ok=True)
    return method.stylize_files(contents, styles, output, options, image_loader(ns.max_size, ns.device))


register_command(
    Command(
        "stylize",
        "stylize images with a trained checkpoint (one PNG per content/style pair)",
        _add_arguments,
        _run,
        allow_extra_args=True,
    )
)
