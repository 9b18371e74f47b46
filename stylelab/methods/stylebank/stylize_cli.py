"""StyleBank's ``stylelab stylize`` options: ``--styles``, ``--weights``, ``--regions``, ``--list-styles``.

:class:`StyleBankStylizeCLI` is a mixin of :class:`~stylelab.methods.stylebank.module.StyleBank`. Without
``--checkpoint`` the command uses the model zoo's StyleBank (:func:`stylelab.zoo.load_zoo_method`);
``--list-styles`` prints every bank (index and name) and needs no ``--content``/``--output``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import Tensor

from stylelab.data.errors import UnreadableImageError
from stylelab.methods.stylebank.inference import StyleBankInference

#: The model zoo entry ``stylelab stylize --method stylebank`` uses without ``--checkpoint``.
ZOO_ENTRY = "stylebank"


class StyleBankStylizeCLI(StyleBankInference):
    """The ``stylelab stylize`` hooks of StyleBank (see :class:`StyleTransferMethod`)."""

    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """``--styles``, ``--weights``, ``--regions``, ``--kmeans-seed``."""
        parser.add_argument(
            "--styles",
            nargs="+",
            default=None,
            help="banks by index or name; without --weights/--regions one output per style",
        )
        parser.add_argument(
            "--weights",
            nargs="+",
            type=float,
            default=None,
            help="linear fusion weights, one per --styles entry, summing to 1",
        )
        parser.add_argument(
            "--regions",
            default=None,
            help="'kmeans' (regions from encoder features) or a label mask image, one label per style",
        )
        parser.add_argument("--kmeans-seed", type=int, default=0, help="seed of the k-means regions")
        parser.add_argument(
            "--list-styles",
            action="store_true",
            help="print the index and name of every bank and exit (needs no --content/--output)",
        )

    @classmethod
    def from_stylize_options(cls, options: argparse.Namespace) -> Any:
        """Without ``--checkpoint``: the model zoo's StyleBank (:func:`stylelab.zoo.load_zoo_method`).

        Raises:
            FileNotFoundError: The zoo ships no StyleBank yet (the message says how to train one); the
                command prints it as a one-line error (exit 2).
        """
        from stylelab.zoo import load_zoo_method

        return load_zoo_method(ZOO_ENTRY)

    @classmethod
    def stylize_needs_inputs(cls, options: argparse.Namespace) -> bool:
        """``--list-styles`` needs no ``--content``/``--output``."""
        return not getattr(options, "list_styles", False)

    def stylize_without_inputs(self, options: argparse.Namespace) -> int:
        """``--list-styles``: one tab-separated line per bank: index, stem, full name (if not the stem).

        Either the index or the stem can be passed to ``--styles``. Returns the exit code 0.
        """
        if self.net.num_styles == 0:
            print("this StyleBank has no style yet")
        for index, name in enumerate(self.style_names):
            stem = Path(name).stem
            print(f"{index}\t{stem}" + (f"\t{name}" if stem != name else ""))
        return 0

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """Parsed ``stylize`` options → keyword arguments of :meth:`stylize` (``regions`` still a string)."""
        return {
            "styles": options.styles,
            "weights": options.weights,
            "regions": options.regions,
            "kmeans_seed": options.kmeans_seed,
        }

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """Write stylised files for ``--styles`` (single/fused/regions), ``--style`` images or every bank."""
        from stylelab.data.image_io import save_image
        from stylelab.data.masks import load_mask
        from stylelab.data.transforms import resize_mask

        if self.net.num_styles == 0:
            raise SystemExit(
                "stylelab stylize: this StyleBank has no style yet; pass --checkpoint of a trained one"
            )
        kwargs = self.stylize_options(options)
        chosen, weights, regions = kwargs["styles"], kwargs["weights"], kwargs["regions"]
        if chosen is None and (weights is not None or regions is not None):
            raise SystemExit("stylelab stylize: --weights/--regions need --styles")
        if chosen is None and styles:
            return super().stylize_files(contents, styles, output, options, load)
        jobs: list[tuple[str, dict[str, Any]]]
        names = chosen if chosen is not None else [str(i) for i in range(self.net.num_styles)]
        try:
            indices = [self.resolve_style(s) for s in names]
        except (KeyError, IndexError) as error:
            raise SystemExit(f"stylelab stylize: {error}") from error
        stems = [_safe(Path(self.style_names[i]).stem) for i in indices]
        if weights is not None:
            tag = "fusion_" + "_".join(f"{s}-{w:g}" for s, w in zip(stems, weights, strict=False))
            jobs = [(tag, {"styles": indices, "weights": weights})]
        elif regions is not None:
            jobs = [("regions_" + "_".join(stems), {"styles": indices, "regions": regions})]
        else:
            jobs = [(stem, {"styles": [i]}) for stem, i in zip(stems, indices, strict=True)]
        written = 0
        for content_path in contents:
            try:
                content = load(content_path)
            except UnreadableImageError as error:
                print(f"skipped content {content_path}: {error}")
                continue
            for tag, job in jobs:
                job = dict(job, kmeans_seed=kwargs["kmeans_seed"])
                if isinstance(job.get("regions"), str) and job["regions"] != "kmeans":
                    labels = load_mask(job["regions"])
                    job["regions"] = resize_mask(labels, tuple(content.shape[-2:]))[None]
                try:
                    result = self.stylize(content, **job)
                except ValueError as error:
                    raise SystemExit(f"stylelab stylize: {error}") from error
                target = output / f"{content_path.stem}__{tag}.png"
                save_image(result[0].cpu(), target)
                written += 1
                print(f"wrote {target}")
        print(f"{written} image(s) written to {output}")
        return 0 if written else 1


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


__all__ = ["StyleBankStylizeCLI"]
