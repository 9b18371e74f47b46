"""`stylelab stylize` with IFT: options, files, padding images and masks to the network's multiple.

Several styles (one image each, or mixed inside the objective with ``--style-weights`` / ``--mix``),
segmentation masks aligned with their images, presets and per-level overrides.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch.nn.functional as F
from torch import Tensor

from stylelab.methods.ift.model import PIPELINES
from stylelab.methods.ift.presets import PRESETS, parse_level_values
from stylelab.ops.ift import check_mask_matches, resize_labels

if TYPE_CHECKING:
    from stylelab.methods.ift.module import IFT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """IFT options of ``stylelab stylize`` (several styles, weights, masks, presets, overrides)."""
    parser.add_argument(
        "--style-weights",
        default=None,
        help="comma-separated weights, one per --style: mix all styles into one image "
        "per content (inside the objective)",
    )
    parser.add_argument("--mix", action="store_true", help="mix all --style images with equal weights")
    parser.add_argument(
        "--content-mask",
        nargs="+",
        default=None,
        help="segmentation masks, one per --content image (same order)",
    )
    parser.add_argument(
        "--style-mask",
        nargs="+",
        default=None,
        help="segmentation masks, one per --style image (same order)",
    )
    parser.add_argument(
        "--decoder",
        choices=("zoo", "pretrained_r31"),
        default=None,
        help="without --checkpoint: zoo (default) = the model zoo's relu3_1 decoder fine-tuned with IFT's "
        "L_AE (`stylelab zoo list`; the shipped pretrained decoder when the zoo has no IFT file), "
        "pretrained_r31 = the shipped pretrained decoder (no training); ignored with --checkpoint",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="per-level (lambda, n_upd) table; without --checkpoint only pretrained_r31 (the default "
        "there): IFT at relu3_1 of the shipped vgg_normalised encoder, pretrained decoder, no training",
    )
    parser.add_argument(
        "--lam",
        action="append",
        default=None,
        help="lambda override: one value, four values relu1_1..relu4_1, or "
        "level=value pairs (e.g. relu4_1=50); repeatable",
    )
    parser.add_argument("--n-upd", action="append", default=None, help="update-count override (same forms)")
    parser.add_argument("--n-iter", type=int, default=None, help="outer re-anchoring rounds")
    parser.add_argument("--step", type=float, default=None, help="fixed step size")
    parser.add_argument(
        "--line-search", action="store_true", help="exact line search instead of the fixed step"
    )
    parser.add_argument("--pipeline", choices=sorted(PIPELINES), default=None)
    parser.add_argument(
        "--unmatched",
        choices=["keep", "global"],
        default=None,
        help="masked positions without a matched label: keep content or use the whole style",
    )
    parser.add_argument("--transform", choices=["ift", "zca", "adain"], default="ift",
                        help="ift, or a linear-blending comparison")  # fmt: skip


def options_to_kwargs(options: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :meth:`IFT.stylize` from parsed options (masks and styles are handled apart)."""
    out: dict[str, Any] = {"transform": options.transform}
    if options.preset:
        out["preset"] = options.preset
    for key, attr in (("lam", "lam"), ("n_upd", "n_upd")):
        specs = getattr(options, attr)
        if specs:
            merged: dict[str, float] = {}
            for spec in specs:
                merged.update(parse_level_values(spec))
            out[key] = merged
    for key in ("n_iter", "step", "pipeline", "unmatched"):
        if getattr(options, key) is not None:
            out[key] = getattr(options, key)
    if options.line_search:
        out["step_rule"] = "line_search"
    return out


def stylize_files(
    method: IFT,
    contents: list[Path],
    styles: list[Path],
    output: Path,
    options: argparse.Namespace,
    load: Callable[[Path], Tensor],
) -> int:
    """One image per (content, style), or per content with ``--style-weights``/``--mix``; masks aligned.

    Args:
        method: The IFT method.
        contents: Content image files.
        styles: Style image files.
        output: Existing output folder.
        options: Parsed IFT options.
        load: Reads a file as ``(1, 3, H, W)`` RGB [0, 1].

    Returns:
        Exit code (0 when at least one image was written).

    Raises:
        SystemExit: Missing styles, mask/weight counts that do not match the images, bad masks.
        StylizeUsageError: A preset or override that does not fit the model.
    """
    from stylelab.commands.stylize import StylizeUsageError
    from stylelab.data.errors import UnreadableImageError
    from stylelab.data.image_io import save_image
    from stylelab.data.masks import load_mask

    if not styles:
        raise SystemExit("stylelab stylize: ift needs --style images")
    kwargs = options_to_kwargs(options)
    try:
        method._levels(kwargs.get("preset"), kwargs.get("lam"), kwargs.get("n_upd"))
    except ValueError as error:
        raise StylizeUsageError(str(error)) from None
    weights = None
    if options.style_weights is not None:
        try:
            weights = [float(w) for w in options.style_weights.split(",")]
        except ValueError as error:
            raise SystemExit(
                f"stylelab stylize: --style-weights {options.style_weights!r} is not a list of numbers"
            ) from error
        if len(weights) != len(styles):
            raise SystemExit(f"stylelab stylize: {len(weights)} --style-weights for {len(styles)} styles")
    mix = weights is not None or options.mix
    c_masks, s_masks = options.content_mask, options.style_mask
    if (c_masks is None) != (s_masks is None):
        raise SystemExit("stylelab stylize: spatial control needs both --content-mask and --style-mask")
    if c_masks is not None and (len(c_masks) != len(contents) or len(s_masks) != len(styles)):
        raise SystemExit(
            f"stylelab stylize: give one --content-mask per content ({len(contents)}) and one "
            f"--style-mask per style ({len(styles)}); got {len(c_masks)} and {len(s_masks)}"
        )

    def load_pair(path: Path, mask_path: str | None) -> tuple[Tensor, Tensor | None]:
        image = load(path)
        if mask_path is None:
            return image, None
        try:
            mask = load_mask(mask_path)
        except UnreadableImageError as error:
            raise SystemExit(f"stylelab stylize: cannot read mask {mask_path}: {error}") from error
        try:
            check_mask_matches(mask, tuple(image.shape[-2:]), f"mask {mask_path}", rel_tol=0.02)
        except ValueError as error:
            raise SystemExit(f"stylelab stylize: {error} (image {path})") from error
        return image, resize_labels(mask, tuple(image.shape[-2:]))[None].to(image.device)

    loaded_styles = []
    for k, path in enumerate(styles):
        try:
            loaded_styles.append((path, *load_pair(path, None if s_masks is None else s_masks[k])))
        except UnreadableImageError as error:
            if mix:
                raise SystemExit(f"stylelab stylize: unreadable style {path}: {error}") from error
            print(f"skipped style {path}: {error}")
    groups = [loaded_styles] if mix else [[s] for s in loaded_styles]
    written = skipped = 0
    for i, content_path in enumerate(contents):
        try:
            content, c_mask = load_pair(content_path, None if c_masks is None else c_masks[i])
        except UnreadableImageError as error:
            print(f"skipped content {content_path}: {error}")
            skipped += 1
            continue
        for group in groups:
            result = stylize_padded(
                method,
                content,
                [g[1] for g in group],
                content_mask=c_mask,
                style_masks=None if c_mask is None else [g[2] for g in group],
                style_weights=weights,
                **kwargs,
            )
            name = "+".join(g[0].stem for g in group)
            target = output / f"{content_path.stem}__{name}.png"
            save_image(result[0].cpu(), target)
            written += 1
            print(f"wrote {target}")
    print(
        f"{written} image(s) written to {output}"
        + (f"; {skipped} unreadable input(s) skipped" if skipped else "")
    )
    return 0 if written else 1


def pad_to(x: Tensor, multiple: int = 8) -> Tensor:
    """Pad ``(..., H, W)`` at the bottom/right to multiples of ``multiple`` (reflect, else replicate)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    squeeze = x.dim() == 3  # label maps (B, H, W): pad as float, exact for small integers
    y = x[:, None].float() if squeeze else x
    mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
    y = F.pad(y, (0, pw, 0, ph), mode=mode)
    return y[:, 0].to(x.dtype) if squeeze else y


def stylize_padded(
    method: IFT,
    content: Tensor,
    styles: Sequence[Tensor],
    content_mask: Tensor | None = None,
    style_masks: Sequence[Tensor] | None = None,
    **options: Any,
) -> Tensor:
    """:meth:`IFT.stylize` for images of any size: pad images and masks (reflect), crop back.

    Sides are padded to multiples of the network's ``multiple_of``: 8 for the decoder blocks, 4 for the
    ``pretrained_r31`` pair.

    Args:
        method: The IFT method.
        content: ``(1, 3, H, W)`` RGB [0, 1].
        styles: ``(1, 3, H_k, W_k)`` style images.
        content_mask: ``(1, H, W)`` labels or None.
        style_masks: ``(1, H_k, W_k)`` labels per style, or None.
        **options: Passed to :meth:`IFT.stylize`.

    Returns:
        ``(1, 3, H, W)`` RGB [0, 1].
    """
    h, w = content.shape[-2:]
    multiple = method.net.multiple_of

    def pad(x: Tensor) -> Tensor:
        return pad_to(x, multiple)

    out = method.stylize(
        pad(content),
        [pad(s) for s in styles],
        content_mask=None if content_mask is None else pad(content_mask),
        style_masks=None if style_masks is None else [pad(m) for m in style_masks],
        **options,
    )
    return out[..., :h, :w]
