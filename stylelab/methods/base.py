"""The contract every style-transfer method implements, and the registry that discovers them.

A method is a :class:`StyleTransferMethod` (a ``LightningModule``) wrapping a plain ``nn.Module`` that
holds the maths. Subclasses declare ``method_name = "adain"`` and are then registered automatically:
the CLI, the benchmark and the parametrised tests find them by that short name.

Every method:

* stylizes RGB ``[0, 1]`` tensors with :meth:`StyleTransferMethod.stylize`;
* saves its constructor arguments (primitive values only) so :func:`load_method` can rebuild it from
  a checkpoint without unpickling anything;
* reports files the data pipeline skipped, and refuses (or skips, if configured) non-finite losses.
"""

from __future__ import annotations

import argparse
import inspect
import os
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

import lightning as L
import torch
from torch import Tensor

METHODS: dict[str, type[StyleTransferMethod]] = {}


class NonFiniteLossError(FloatingPointError):
    """A training loss became NaN or infinite."""


class StyleTransferMethod(L.LightningModule):
    """Base class of all methods.

    Args:
        on_nonfinite: What to do when a training loss is NaN/inf: ``"raise"`` (default; the message
            names the step and every loss term) or ``"skip"`` (drop that batch's update; after
            ``max_nonfinite`` consecutive skips it raises anyway).
        max_nonfinite: Consecutive non-finite steps tolerated with ``"skip"``.

    Attributes:
        zoo_file: The model-zoo file the weights were loaded from (set by
            :func:`stylelab.zoo.checkpoint.load_zoo_checkpoint`), else ``None``.
    """

    method_name: ClassVar[str] = ""
    zoo_file: Path | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("method_name", "")
        if name:
            if name in METHODS and METHODS[name] is not cls:
                raise ValueError(f"method name {name!r} is already used by {METHODS[name].__qualname__}")
            METHODS[name] = cls

    def __init__(self, on_nonfinite: Literal["raise", "skip"] = "raise", max_nonfinite: int = 10) -> None:
        super().__init__()
        if on_nonfinite not in ("raise", "skip"):
            raise ValueError(f"on_nonfinite must be 'raise' or 'skip', got {on_nonfinite!r}")
        self.on_nonfinite = on_nonfinite
        self.max_nonfinite = max_nonfinite
        self._nonfinite_streak = 0
        self.skipped_files: dict[str, int] = {}

    # ------------------------------------------------------------------ the contract
    @abstractmethod
    def stylize(self, content: Tensor, style: Tensor, **options: Any) -> Tensor:
        """Stylize ``content`` with ``style``.

        Args:
            content: ``(B, 3, H, W)`` RGB in [0, 1].
            style: ``(B, 3, H_s, W_s)`` RGB in [0, 1] (or ``(1, 3, H_s, W_s)`` broadcast to the batch).
            **options: Method-specific inference options (e.g. ``alpha``).

        Returns:
            ``(B, 3, H, W)`` RGB in [0, 1].
        """

    def variant(self) -> str:
        """One line naming the configuration (encoder weights, layers...) for tables and logs."""
        return self.method_name

    @classmethod
    def for_benchmark(cls) -> StyleTransferMethod:
        """An instance ready for ``stylelab benchmark`` timing (default: the default constructor).

        Timing does not depend on trained weights; methods that need fitted state (a library, an
        index, eigenbases) override this to build a small one.
        """
        return cls()

    # ------------------------------------------------------------------ `stylelab stylize` hooks
    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the method's own ``stylelab stylize`` options (default: none)."""

    @classmethod
    def from_stylize_options(cls, options: argparse.Namespace) -> StyleTransferMethod:
        """The instance ``stylelab stylize --method NAME`` uses when no ``--checkpoint`` is given.

        Default: the default constructor. Methods whose stylize options choose weights (a pretrained
        decoder, a shipped checkpoint) override this; ``options`` are the method's parsed options.
        """
        return cls()

    @classmethod
    def stylize_needs_inputs(cls, options: argparse.Namespace) -> bool:
        """Whether ``stylelab stylize`` needs ``--content``/``--output`` for these parsed method options.

        Default ``True``. A method whose option asks for something else (StyleBank's ``--list-styles``)
        returns ``False``; the command then loads the method and calls :meth:`stylize_without_inputs`.
        """
        return True

    def stylize_without_inputs(self, options: argparse.Namespace) -> int:
        """Run an action that needs no input images (see :meth:`stylize_needs_inputs`); the exit code."""
        raise NotImplementedError(f"{self.method_name} has no stylize action without inputs")

    def stylize_options(self, options: argparse.Namespace) -> dict[str, Any]:
        """Turn parsed ``stylize`` options into keyword arguments of :meth:`stylize`."""
        return {k: v for k, v in vars(options).items() if v is not None}

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """Write ``<content>__<style>.png`` for every (content, style) pair; returns the exit code.

        Methods whose inputs are not one style image per output (style banks, several weighted
        styles, masks, libraries) override this.

        Args:
            contents: Content image files.
            styles: Style image files.
            output: Existing output folder.
            options: The method's parsed ``stylize`` options.
            load: Reads a file as ``(1, 3, H, W)`` RGB [0, 1] on the method's device.
        """
        from stylelab.data.errors import UnreadableImageError
        from stylelab.data.image_io import save_image

        if not styles:
            raise SystemExit(f"stylelab stylize: {self.method_name} needs --style images")
        kwargs = self.stylize_options(options)
        unreadable: set[Path] = set()

        def try_load(path: Path) -> Tensor | None:
            if path in unreadable:
                return None
            try:
                return load(path)
            except UnreadableImageError as error:
                print(f"skipped {path}: {error}")
                unreadable.add(path)
                return None

        written = 0
        for style_path in styles:
            if (style := try_load(style_path)) is None:
                continue
            for content_path in contents:
                if (content := try_load(content_path)) is None:
                    continue
                with torch.no_grad():
                    result = stylize_any_size(self, content, style, **kwargs)
                target = output / f"{content_path.stem}__{style_path.stem}.png"
                save_image(result[0].cpu(), target)
                written += 1
                print(f"wrote {target}")
        skipped = f"; {len(unreadable)} unreadable input(s) skipped" if unreadable else ""
        print(f"{written} image(s) written to {output}{skipped}")
        return 0 if written else 1

    def stylize_masked_pair(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        masks: tuple[str | None, str | None],
        load: Callable[[Path], Tensor],
        **kwargs: Any,
    ) -> int:
        """Write one ``<content>__<style>.png`` stylised with colour-coded segmentation masks.

        For methods whose :meth:`stylize` takes ``content_mask`` / ``style_mask`` label maps: each mask file
        is read as labels (:func:`stylelab.data.masks.load_mask`) and resized (nearest) to its image.

        Args:
            contents: Exactly one content image file.
            styles: Exactly one style image file.
            output: Existing output folder.
            masks: ``(content mask file, style mask file)``, both given.
            load: Reads a file as ``(1, 3, H, W)`` RGB [0, 1] on the method's device.
            **kwargs: Further keyword arguments of :meth:`stylize`.

        Raises:
            StylizeUsageError: Not exactly one content, one style and both masks.
        """
        from stylelab.commands.stylize import StylizeUsageError
        from stylelab.data.image_io import save_image
        from stylelab.data.masks import load_mask
        from stylelab.ops import resize_labels

        content_mask, style_mask = masks
        if content_mask is None or style_mask is None or len(contents) != 1 or len(styles) != 1:
            raise StylizeUsageError("masks need exactly one --content, one --style and both masks")
        content, style = load(contents[0]), load(styles[0])
        labels = [
            resize_labels(load_mask(path)[None], tuple(image.shape[-2:])).to(image.device)
            for path, image in ((content_mask, content), (style_mask, style))
        ]
        with torch.no_grad():
            result = self.stylize(content, style, content_mask=labels[0], style_mask=labels[1], **kwargs)
        target = output / f"{contents[0].stem}__{styles[0].stem}.png"
        save_image(result[0].clamp(0, 1).cpu(), target)
        print(f"wrote {target}")
        return 0

    # ------------------------------------------------------------------ shared plumbing
    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        """Stylize a datamodule batch."""
        return self.stylize(batch["content"], batch["style"])

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """Count files the data pipeline had to skip and log the running total."""
        skipped = batch.get("skipped", []) if isinstance(batch, dict) else []
        for path in skipped:
            self.skipped_files[path] = self.skipped_files.get(path, 0) + 1
        if skipped or batch_idx == 0:
            self.log("data/skipped_files", float(len(self.skipped_files)), on_step=True, reduce_fx="max")

    def on_fit_end(self) -> None:
        """Report every file the data pipeline skipped during training (with the reason, if known)."""
        if not self.skipped_files:
            return
        reasons: dict[str, str] = {}
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if datamodule is not None and hasattr(datamodule, "skip_report"):
            reasons = datamodule.skip_report()
        lines = [f"  - {path}: {reasons.get(path, 'unreadable')}" for path in sorted(self.skipped_files)]
        self.print(
            f"{len(self.skipped_files)} unreadable file(s) were skipped during training:\n" + "\n".join(lines)
        )

    def checked_loss(self, total: Tensor, terms: dict[str, Tensor]) -> Tensor | None:
        """Log loss terms and guard against non-finite values.

        Args:
            total: Scalar loss to optimise.
            terms: Named scalar components (logged under ``train/``).

        Returns:
            ``total``, or ``None`` when the step is skipped (Lightning then skips the update).

        Raises:
            NonFiniteLossError: Non-finite loss and ``on_nonfinite="raise"`` (or too many skips).
        """
        if torch.isfinite(total).item():
            self._nonfinite_streak = 0
            for name, value in terms.items():
                self.log(f"train/{name}", value.detach(), prog_bar=name == "loss")
            return total
        self._nonfinite_streak += 1
        detail = ", ".join(f"{k}={v.item():.4g}" for k, v in terms.items())
        message = f"non-finite training loss at global step {self.global_step}: {detail}"
        if self.on_nonfinite == "raise" or self._nonfinite_streak > self.max_nonfinite:
            raise NonFiniteLossError(
                message + ". Lower the learning rate, check the inputs, or set on_nonfinite='skip'; "
                "resume from the last checkpoint with --ckpt_path."
            )
        self.print(f"warning: {message}; update skipped ({self._nonfinite_streak}/{self.max_nonfinite})")
        return None

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record which method wrote the checkpoint so :func:`load_method` can rebuild it."""
        checkpoint["stylelab_method"] = self.method_name


def method_class(name: str) -> type[StyleTransferMethod]:
    """Registered method class by short name (``"adain"``) or class name (``"AdaIN"``)."""
    import stylelab.methods  # noqa: F401  (registers every method)

    for key, cls in METHODS.items():
        if name in (key, cls.__name__):
            return cls
    raise KeyError(f"unknown method {name!r}; registered: {', '.join(sorted(METHODS))}")


def _read_checkpoint(path: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A stylelab checkpoint read with ``torch.load(weights_only=True)`` (no pickled code runs).

    Raises:
        FileNotFoundError: No such file.
        ValueError: The file is not a readable stylelab checkpoint.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "not a safe checkpoint"
        raise ValueError(f"{path} is not a readable stylelab checkpoint ({error})") from error
    if not isinstance(checkpoint, dict) or not checkpoint.get("stylelab_method"):
        raise ValueError(f"{path} has no 'stylelab_method' entry: it was not written by a stylelab method")
    return checkpoint


def checkpoint_method_name(checkpoint_path: str | os.PathLike[str]) -> str:
    """The short name of the method that wrote a checkpoint (see :func:`load_method` for the errors)."""
    return str(_read_checkpoint(os.fspath(checkpoint_path))["stylelab_method"])


def load_method(
    checkpoint_path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> StyleTransferMethod:
    """Rebuild a method from a Lightning checkpoint without executing pickled code.

    The checkpoint is read with ``torch.load(weights_only=True)``; the class comes from the
    ``stylelab_method`` entry and the constructor arguments from the saved hyper-parameters.

    Raises:
        FileNotFoundError: No such file.
        ValueError: The file is not a stylelab checkpoint.
    """
    checkpoint = _read_checkpoint(os.fspath(checkpoint_path), map_location)
    cls = method_class(checkpoint["stylelab_method"])
    accepted = inspect.signature(cls.__init__).parameters
    # LightningCLI adds bookkeeping entries (``_class_path``, ``_instantiator``); keep real arguments only
    hparams = {k: v for k, v in checkpoint.get("hyper_parameters", {}).items() if k in accepted}
    model = cls(**hparams)
    model.on_load_checkpoint(checkpoint)  # the Lightning hook: lets a method upgrade older checkpoints
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    return model


def stylize_any_size(
    method: StyleTransferMethod, content: Tensor, style: Tensor, multiple_of: int = 8, **options: Any
) -> Tensor:
    """Stylize an image of any size: pad to a multiple of ``multiple_of`` (reflect), crop back.

    Args:
        method: A trained method.
        content: ``(1, 3, H, W)`` RGB [0, 1].
        style: ``(1, 3, H_s, W_s)`` RGB [0, 1] (padded the same way).

    Returns:
        ``(1, 3, H, W)`` RGB [0, 1].
    """

    def pad(x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % multiple_of, (-w) % multiple_of
        if ph == 0 and pw == 0:
            return x
        mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
        return torch.nn.functional.pad(x, (0, pw, 0, ph), mode=mode)

    h, w = content.shape[-2:]
    out = method.stylize(pad(content), pad(style), **options)
    return out[..., :h, :w].clamp(0, 1)
