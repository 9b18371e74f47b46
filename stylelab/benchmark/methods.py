"""Method instances of the benchmark: what a user gets by default, or a checkpoint, with a weights label.

A name builds ``cls.from_stylize_options(options)`` with the method's ``stylelab stylize`` options parsed
from ``args`` (defaults otherwise): the zoo model, the shipped pretrained pair or the authors' weights,
exactly as ``stylelab stylize --method NAME`` does. A ``checkpoint`` is a Lightning ``.ckpt``
(:func:`stylelab.methods.base.load_method`) or a zoo ``.safetensors`` file
(:func:`stylelab.zoo.checkpoint.load_zoo_checkpoint`).

Every instance carries a :class:`MethodInfo`: its ``variant()`` line, where its weights come from
(``authors'``, ``pretrained``, ``zoo``, ``checkpoint``, ``untrained``) and the training budget when known.
A method that cannot be built (missing zoo file or backbone) raises :class:`MethodUnavailable`, which the
runner turns into marked cells.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from stylelab.benchmark.config import MethodEntry


class MethodUnavailable(RuntimeError):
    """The method cannot run here (missing weights, unusable checkpoint); the message is one line."""


class PairNotApplicable(RuntimeError):
    """The method cannot stylise this pair by design (e.g. a StyleBank without a bank for the style)."""


@dataclass(frozen=True)
class MethodInfo:
    """What a row says about a method.

    Attributes:
        key: Column label.
        method: Registered short name.
        weights: ``authors'``, ``pretrained``, ``zoo``, ``checkpoint: <file>`` or ``untrained``.
        budget: Training budget of those weights (``"-"`` when none or unknown).
        variant: The method's ``variant()`` line.
    """

    key: str
    method: str
    weights: str
    budget: str
    variant: str


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _zoo_budget(name: str) -> str:
    from stylelab.zoo import ENTRIES

    if name not in ENTRIES:
        return "-"
    record = ENTRIES[name].record()
    if "budget" in record:
        return str(record["budget"])
    for key in ("cpu_minutes", "steps", "max_steps"):
        if key in record:
            return f"{key} {record[key]}"
    return "see zoo record" if record else "-"


def _default_source(name: str, options: argparse.Namespace, zoo_file: Path | None) -> tuple[str, str]:
    """``(weights, budget)`` of what ``from_stylize_options`` built (``zoo_file``: the zoo file it read)."""
    decoder = getattr(options, "decoder", None)
    if zoo_file is not None:
        return f"zoo: {zoo_file.name}", _zoo_budget(name)
    if name == "pcakd":
        student = getattr(options, "student", "") or ""
        if student.startswith("official"):
            return "authors'", "PCA-KD authors' training"
        return "zoo (shipped student)", "see stylelab/methods/pcakd/weights/*.json"
    if name == "wct":
        return "pretrained", "none (shipped relu3_1 pair, no training)"
    if name in ("adain", "ift", "knowledge"):  # zoo by default, the shipped pair as fallback
        note = "" if decoder == "pretrained_r31" else " (no zoo file)"
        return f"pretrained{note}", "none (shipped relu3_1 pair, no training)"
    return "default constructor (untrained unless it ships weights)", "none"


def stylize_kwargs(method: Any, options: argparse.Namespace) -> dict[str, Any]:
    """``method.stylize_options(options)`` restricted to the named parameters of ``method.stylize``."""
    named = {
        n
        for n, p in inspect.signature(method.stylize).parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return {k: v for k, v in method.stylize_options(options).items() if k in named}


class BenchMethod:
    """A built method with its stylise keyword arguments and :class:`MethodInfo`.

    Args:
        entry: The config entry.
        device: Torch device.

    Raises:
        MethodUnavailable: The method cannot be built (the message's first line says why).
    """

    def __init__(self, entry: MethodEntry, device: str) -> None:
        from stylelab.methods.base import method_class

        self.entry = entry
        try:
            if entry.checkpoint is not None:
                self.model = self._load_checkpoint(entry.checkpoint)
                cls = type(self.model)
                options = self._parse(cls, entry.args)
                weights, budget = f"checkpoint: {Path(entry.checkpoint).name}", self._checkpoint_budget()
            else:
                cls = method_class(str(entry.name))
                options = self._parse(cls, entry.args)
                with contextlib.redirect_stderr(io.StringIO()):  # fallback notes go into the label
                    self.model = cls.from_stylize_options(options)
                weights, budget = _default_source(cls.method_name, options, self.model.zoo_file)
            self.model = self.model.to(device).eval()
            self.kwargs = stylize_kwargs(self.model, options)
        except MethodUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - any build failure is a marked column, not a crash
            raise MethodUnavailable(_first_line(error)) from error
        self.masks = {"content_mask", "style_mask"} <= set(inspect.signature(self.model.stylize).parameters)
        self.info = MethodInfo(entry.key, cls.method_name, weights, budget, self.model.variant())

    @staticmethod
    def _parse(cls: type, args: tuple[str, ...]) -> argparse.Namespace:
        parser = argparse.ArgumentParser(prog=f"benchmark {cls.method_name}", add_help=False)
        cls.add_stylize_arguments(parser)
        options, unknown = parser.parse_known_args(list(args))
        if unknown:
            raise MethodUnavailable(f"unknown options for {cls.method_name}: {' '.join(unknown)}")
        return options

    def _load_checkpoint(self, path: str) -> Any:
        if path.endswith(".safetensors"):
            from stylelab.zoo.checkpoint import load_zoo_checkpoint

            return load_zoo_checkpoint(path)
        from stylelab.methods.base import load_method

        return load_method(path)

    def _checkpoint_budget(self) -> str:
        path = str(self.entry.checkpoint)
        if path.endswith(".safetensors"):
            from stylelab.zoo.checkpoint import read_zoo_metadata

            meta = read_zoo_metadata(path)
            return f"steps {meta['global_step']}" if "global_step" in meta else "see zoo metadata"
        step = torch.load(path, map_location="cpu", weights_only=True).get("global_step")
        return f"steps {step}" if step is not None else "-"

    @torch.no_grad()
    def stylize(
        self,
        content: Tensor,
        style: Tensor,
        content_mask: Tensor | None = None,
        style_mask: Tensor | None = None,
    ) -> Tensor:
        """Stylise one pair (any size): content ``(1, 3, H, W)``, style ``(1, 3, H_s, W_s)`` -> like content.

        Masks ``(1, H, W)`` / ``(1, H_s, W_s)`` are passed only to methods whose ``stylize`` takes them.

        Raises:
            PairNotApplicable: A StyleBank has no bank for this style image.
        """
        from stylelab.methods.base import stylize_any_size

        kwargs = dict(self.kwargs)
        if self.masks and content_mask is not None and style_mask is not None:
            kwargs.update(content_mask=content_mask, style_mask=style_mask)
            return self.model.stylize(content, style, **kwargs)[
                ..., : content.shape[-2], : content.shape[-1]
            ].clamp(0, 1)
        if self.info.method == "stylebank":
            self._check_bank(style)
        return stylize_any_size(self.model, content, style, **kwargs)

    def _check_bank(self, style: Tensor) -> None:
        """StyleBank stylises only its own styles: the style must be (nearly) a bank's training image."""
        from stylelab.methods.stylebank.inference import thumbnail

        thumbs = thumbnail(style.to(self.model.style_thumbnails)).flatten(1)
        distance = torch.cdist(thumbs, self.model.style_thumbnails.flatten(1)).min()
        if float(distance) > 1e-2 * thumbs.shape[1] ** 0.5:
            raise PairNotApplicable("n/a: fixed styles (no bank for this style image)")
