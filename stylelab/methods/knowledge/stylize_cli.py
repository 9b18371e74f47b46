"""``stylelab stylize --method knowledge``: KT's own options, how the CLI builds the model, and the file loop.

Without ``--checkpoint`` the model is the model zoo's KT (``--decoder zoo``, the default: the shipped
decoder of ``vgg19_normalised_r31`` at relu3_1, fine-tuned for reconstruction by
``configs/zoo/knowledge.yaml``; the untrained ``pretrained_r31`` variant when the zoo has no KT file)
or the zero-training variant (``--decoder pretrained_r31``): the decoder decodes the swapped features,
so a library built with ``stylelab library build`` (default encoder) gives real pictures at once.
``--decoder kt`` keeps the reference code's SELU decoder, untrained without a checkpoint (matches and
backtracking are valid, the picture is not). Every usage problem (a missing or incompatible library,
a ``--decoder`` that contradicts the checkpoint) is a :class:`~stylelab.commands.stylize.StylizeUsageError`:
one line, exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import Tensor

from stylelab.methods.knowledge.library import (
    MANIFEST,
    KnowledgeLibrary,
    library_path,
    library_root,
    list_libraries,
)
from stylelab.methods.knowledge.model import ALIGNS, DECODERS
from stylelab.methods.knowledge.storage import LibraryError

if TYPE_CHECKING:
    from stylelab.methods.knowledge.module import KnowledgeTransfer

#: ``--decoder`` choices: the model zoo's decoder (a fine-tuned ``pretrained_r31``) and :data:`DECODERS`.
CLI_DECODERS: tuple[str, ...] = ("zoo", *DECODERS)


def split_names(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Library names from ``"a,b"``, ``["a", "b,c"]`` or ``None`` (empty list)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [name.strip() for item in items for name in str(item).split(",") if name.strip()]


def parse_probes(text: str) -> int | list[int]:
    """``--probes`` value: ``8`` (every level) or ``8/16`` (per level, top first)."""
    try:
        widths = [int(v) for v in text.split("/")]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"an integer or per-level integers (8/16); got {text!r}") from error
    return widths[0] if len(widths) == 1 else widths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """KT's ``stylelab stylize`` options: decoder, library, search, swap and backtracking."""
    parser.add_argument(
        "--decoder",
        choices=CLI_DECODERS,
        default=None,
        help="without --checkpoint: zoo (default; the model zoo's relu3_1 decoder, the pretrained one "
        "fine-tuned for reconstruction, see `stylelab zoo list`; pretrained_r31 when the zoo has no KT "
        "file), pretrained_r31 (the shipped vgg_normalised relu3_1 decoder, real pictures with no "
        "training; both for libraries of the default encoder vgg19_normalised_r31 at relu3_1) or kt (the "
        "reference code's decoder, untrained: matches and backtracking only); with --checkpoint it must "
        "match the checkpoint's (zoo = a pretrained_r31 decoder)",
    )
    parser.add_argument("--library", action="append", default=None,
                        help="library name or folder (repeat or comma-separate to combine); default: a "
                        "library built from each --style image")  # fmt: skip
    parser.add_argument("--libraries-root", default=None, help="library root (default $STYLELAB_LIBRARIES)")
    parser.add_argument("--swap", choices=["geometric", "statistics"], default=None,
                        help="default: the model's (pretrained_r31 variant: see the KT README)")  # fmt: skip
    parser.add_argument("--align", choices=ALIGNS, default=None,
                        help="adain: give the content features the library's channel statistics before "
                        "the search (beyond the paper); default: the model's")  # fmt: skip
    parser.add_argument("--search", choices=["bhkm", "hkm", "exact", "faiss_flat", "pq"], default=None)
    parser.add_argument(
        "--probes", type=parse_probes, default=None, help="leaves (1 = paper) or per level, 8/16"
    )
    parser.add_argument("--rerank", type=int, default=None)
    parser.add_argument("--clusters", type=int, default=None)
    parser.add_argument("--depth", type=int, default=None)
    parser.add_argument("--bands", default=None, help="comma-separated, e.g. LL,LH,HL")
    parser.add_argument("--backtrack", default=None, metavar="DIR",
                        help="write <content>__<library>.json and _links.png per output")  # fmt: skip
    parser.add_argument("--links", type=int, default=36, help="patch links drawn in the picture")


def usage_error(message: str) -> Exception:
    """The stylize command's one-line, exit-code-2 error."""
    from stylelab.commands.stylize import StylizeUsageError

    return StylizeUsageError(message)


def check_libraries_exist(names: list[str], root: str | None) -> None:
    """Refuse, naming the expected folder, a library that is neither a folder nor a name under the root.

    Raises:
        StylizeUsageError: A name is invalid or its folder (or manifest) does not exist.
    """
    for name in names:
        if (Path(name) / MANIFEST).is_file():
            continue
        try:
            folder = library_path(name, root)
        except LibraryError as error:
            raise usage_error(str(error)) from None
        if not (folder / MANIFEST).is_file():
            available = ", ".join(list_libraries(root)) or "none"
            raise usage_error(
                f"library {name!r} not found: {folder / MANIFEST} does not exist (libraries under "
                f"{library_root(root)}: {available}); build it with `stylelab library build --images DIR "
                f"--name {name}` or set --libraries-root / $STYLELAB_LIBRARIES"
            )


def stylize_files(
    model: KnowledgeTransfer,
    contents: list[Path],
    styles: list[Path],
    output: Path,
    options: argparse.Namespace,
    load: Callable[[Path], Tensor],
) -> int:
    """One output per content and library (``--library``), or per content and style image.

    Args:
        model: The KT model (from a checkpoint or :meth:`KnowledgeTransfer.from_stylize_options`).
        contents: Content image files.
        styles: Style image files (used only without ``--library``).
        output: Existing output folder.
        options: KT's parsed options (:func:`add_arguments`).
        load: Reads a file as ``(1, 3, H, W)`` RGB [0, 1] on the model's device.

    Returns:
        Exit code (0 when at least one image was written).

    Raises:
        StylizeUsageError: No library and no style, a missing or incompatible library, or a
            ``--decoder`` that differs from the checkpoint's.
    """
    from stylelab.data.errors import UnreadableImageError
    from stylelab.data.image_io import save_image
    from stylelab.methods.knowledge.backtrack import draw_links, save_record

    decoder = model.net.decoder_kind
    asked = "pretrained_r31" if options.decoder == "zoo" else options.decoder  # the zoo's architecture
    if asked is not None and asked != decoder:
        raise usage_error(
            f"--decoder {options.decoder} asked for, but the checkpoint's decoder is {decoder!r} (--decoder "
            "chooses the decoder without --checkpoint)"
        )
    if options.libraries_root:
        model.hparams.libraries_root = options.libraries_root
    keys = ("search", "probes", "rerank", "clusters", "depth")
    search: dict[str, Any] = {k: getattr(options, k) for k in keys if getattr(options, k) is not None}
    if options.bands:
        search["bands"] = split_names(options.bands)
    names = split_names(options.library) or split_names(model.hparams.library)
    jobs: list[tuple[str, Callable[[], KnowledgeLibrary]]] = []
    if names:
        check_libraries_exist(names, model.hparams.libraries_root)
        jobs.append(("+".join(Path(n).name for n in names), lambda: model.load_libraries(names)))
    elif styles:
        for style in styles:
            jobs.append((style.stem, lambda style=style: model.library_from_files([style], style.stem)))
    else:
        raise usage_error("knowledge needs --library NAME or --style images")
    backtrack_dir = Path(options.backtrack) if options.backtrack else None
    written = 0
    for label, make in jobs:
        try:
            library = make()
        except LibraryError as error:
            hint = " (or --decoder kt: untrained, matches only)" if decoder == "pretrained_r31" else ""
            raise usage_error(f"{error}{hint}") from None
        for content_path in contents:
            try:
                content = load(content_path)
            except UnreadableImageError as error:
                print(f"skipped content {content_path}: {error}")
                continue
            out, matches, lib = model.stylize_with_library(
                content, library, options.swap, options.align, **search
            )
            target = output / f"{content_path.stem}__{label}.png"
            save_image(out[0].cpu(), target)
            written += 1
            print(f"wrote {target} (mean patch similarity {matches.similarity.mean():.3f})")
            if backtrack_dir is not None:
                record = model.backtrack(
                    matches, lib, 0, content_path.name, tuple(content.shape[-2:]), options.swap, options.align
                )
                stem = backtrack_dir / f"{content_path.stem}__{label}"
                save_record(record, stem.with_suffix(".json"))
                draw_links(content[0].cpu(), record, lib, f"{stem}_links.png", links=options.links)
                print(f"wrote {stem}.json and {stem}_links.png")
    print(f"{written} image(s) written to {output}")
    return 0 if written else 1
