"""``stylelab stylize``: stylize image files with a checkpoint or a method's pretrained weights (any size).

Common options are parsed first; the method (``--method``, or the one that wrote ``--checkpoint``) then
adds its own (:meth:`StyleTransferMethod.add_stylize_arguments`), e.g. ``--alpha`` for AdaIN, and
``stylelab stylize --method M --help`` lists them. Without a checkpoint the method is built by
:meth:`StyleTransferMethod.from_stylize_options`. A method option that needs no input images (StyleBank's
``--list-styles``, :meth:`StyleTransferMethod.stylize_needs_inputs`) runs without ``--content``/``--output``.
A missing file, checkpoint or library is a one-line error with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import torch.nn.functional as F
from torch import Tensor

from stylelab.commands import Command, register_command
from stylelab.data.image_io import IMAGE_EXTENSIONS, load_image

if TYPE_CHECKING:
    from stylelab.methods.base import StyleTransferMethod


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-h", "--help", action="store_true", help="this help (with --method or --checkpoint: its options too)"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", help="Lightning checkpoint written by `stylelab fit`")
    source.add_argument("--method", help="a method by short name (its pretrained or shipped weights)")
    parser.add_argument("--content", nargs="+", default=None, help="content images or folders (required)")
    parser.add_argument("--style", nargs="+", default=[], help="style images or folders")
    parser.add_argument("--output", default=None, help="output folder, created (required)")
    parser.add_argument("--max-size", type=int, default=None, help="resize the longer side to at most this")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")


class StylizeUsageError(Exception):
    """A ``stylelab stylize`` call that cannot run: missing file, checkpoint, library or argument.

    The command prints its message as one line and exits with code 2 (no traceback).
    """


def collect_images(entries: list[str]) -> list[Path]:
    """Expand files and folders (recursive) into a sorted list of image paths.

    Raises:
        StylizeUsageError: A path does not exist or a folder holds no image.
    """
    paths: list[Path] = []
    for entry in entries:
        path = Path(entry)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
            if not found:
                raise StylizeUsageError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {path}")
            paths += found
        elif path.is_file():
            paths.append(path)
        else:
            raise StylizeUsageError(f"{path} does not exist")
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


def _method_parser(cls: type[StyleTransferMethod]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"stylelab stylize --method {cls.method_name}",
        add_help=False,
        description=(cls.__doc__ or cls.method_name).strip().splitlines()[0],
    )
    cls.add_stylize_arguments(parser)
    return parser


def _print_help(ns: argparse.Namespace, cls: type[StyleTransferMethod] | None) -> None:
    from stylelab.commands import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    print(subparsers.choices["stylize"].format_help())
    if cls is None:
        from stylelab.methods.base import METHODS

        print(
            "Each method adds its own options: `stylelab stylize --method M --help`. Methods: "
            + ", ".join(sorted(METHODS))
        )
        return
    print(_method_parser(cls).format_help())


def _method_class_of(ns: argparse.Namespace) -> type[StyleTransferMethod] | None:
    from stylelab.methods.base import checkpoint_method_name, method_class

    if ns.method is not None:
        try:
            return method_class(ns.method)
        except KeyError as error:
            raise StylizeUsageError(str(error.args[0])) from None
    if ns.checkpoint is not None:
        if not Path(ns.checkpoint).is_file():
            raise StylizeUsageError(f"checkpoint {ns.checkpoint} does not exist")
        try:
            return method_class(checkpoint_method_name(ns.checkpoint))
        except (ValueError, KeyError) as error:
            raise StylizeUsageError(str(error.args[0])) from None
    return None


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    try:
        return _stylize(ns, rest)
    except (StylizeUsageError, FileNotFoundError) as error:
        message = str(error.args[0]) if error.args else str(error)
        print(f"stylelab stylize: error: {message}", file=sys.stderr)
        return 2


def _build_method(
    ns: argparse.Namespace, cls: type[StyleTransferMethod], options: argparse.Namespace
) -> StyleTransferMethod:
    """The method of ``--checkpoint``, else ``cls.from_stylize_options(options)``, on ``--device``."""
    from stylelab.methods.base import load_method

    if ns.checkpoint is not None:
        method = load_method(ns.checkpoint, map_location=ns.device)
    else:
        method = cls.from_stylize_options(options)
    return method.to(ns.device).eval()


def _stylize(ns: argparse.Namespace, rest: list[str]) -> int:
    cls = _method_class_of(ns)
    if ns.help:
        _print_help(ns, cls)
        return 0
    if cls is None:
        raise StylizeUsageError("give --method NAME or --checkpoint FILE (see stylelab stylize --help)")
    method_parser = _method_parser(cls)
    options, unknown = method_parser.parse_known_args(rest)
    if not unknown and not cls.stylize_needs_inputs(options):  # e.g. StyleBank's --list-styles
        return _build_method(ns, cls, options).stylize_without_inputs(options)
    missing = [flag for flag, value in (("--content", ns.content), ("--output", ns.output)) if not value]
    if missing:
        raise StylizeUsageError(f"the following arguments are required: {', '.join(missing)}")
    if unknown:
        raise StylizeUsageError(
            f"unrecognized arguments for {cls.method_name}: {' '.join(unknown)} "
            f"(see stylelab stylize --method {cls.method_name} --help)"
        )
    contents, styles = collect_images(ns.content), collect_images(ns.style)
    method = _build_method(ns, cls, options)
    output = Path(ns.output)
    output.mkdir(parents=True, exist_ok=True)
    return method.stylize_files(contents, styles, output, options, image_loader(ns.max_size, ns.device))


register_command(
    Command(
        "stylize",
        "stylize images with a checkpoint or pretrained weights (one PNG per content/style pair)",
        _add_arguments,
        _run,
        allow_extra_args=True,
        add_help=False,
    )
)
