"""KT through the shipped relu3_1 decoder: swap settings chosen on tuning images, floor on held-out ones.

Stage 1 (tuning, :data:`common.TUNING_STYLES` x :data:`common.TUNING_CONTENTS` + ``coral_bird``): every
candidate of :data:`CANDIDATES` (swap x alignment, the paper's search) is scored with
:func:`stylelab.metrics.quality.quality_scores`; the rule fixed before looking at held-out images picks
the candidate with the largest worst-case margin ``min over pairs of min(ssim - 0.3, 0.9 - ratio)``.
Stage 2 (held-out): the chosen setting (:meth:`KnowledgeTransfer.pretrained_r31`, whose defaults must
equal the choice: the script stops otherwise) on :data:`HELD_OUT_PHOTOS` x :data:`HELD_OUT_LIBRARIES`
(one or two paintings, none used in stage 1). Everything as ``stylelab stylize --max-size 512`` does it:
photos with the longer side 512, libraries with the defaults of ``stylelab library build``.

Which style a multi-painting library's ratio is measured against: the painting most output patches were
taken from (``dominant``, from the matches); the ratio to every painting of the library is reported too.

Writes ``reports/knowledge/pretrained_r31_floor.md``, ``pretrained_r31_floor.json`` and
``pretrained_r31_gallery.jpg``. Run: ``STYLELAB_SHARED_DATA=... python
experiments/knowledge/pretrained_r31.py`` (CPU, about 15 min with the libraries cached).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import common  # type: ignore[import-not-found]
import torch
import torch.nn.functional as F
from PIL import Image

from stylelab.commands.stylize import image_loader
from stylelab.data import load_image
from stylelab.data.transforms import center_crop, resize_shorter
from stylelab.methods.knowledge import BuildSettings, KnowledgeLibrary, KnowledgeTransfer, combine_libraries
from stylelab.metrics.quality import SSIM_FLOOR, STYLE_RATIO_CEILING, VARIANT, QualityScores, quality_scores
from stylelab.utils.io import atomic_save_text

#: (swap, align) candidates of stage 1; the search is the paper's (3-BHKM K=10 depth 2, p=1).
CANDIDATES = [
    ("statistics", "none"),
    ("geometric", "adain"),
    ("statistics", "adain"),
    ("geometric", "wct"),
    ("statistics", "wct"),
]
TUNING_PHOTOS = [*common.TUNING_CONTENTS, "coral_bird.jpg"]
HELD_OUT_PHOTOS = ["brad_pitt.jpg", "cornell.jpg", "flowers.jpg", "skimage_chelsea.png"]
HELD_OUT_LIBRARIES = {
    "candy": ["candy.jpg"],
    "starry": ["starry_night_crop.jpg"],
    "la_muse": ["la_muse.jpg"],
    "picasso": ["picasso_self_portrait.jpg"],
    "mosaic+comp": ["mosaic.jpg", "composition_vii.jpg"],
    "candy+starry": ["candy.jpg", "starry_night_crop.jpg"],
}
MAX_SIZE = 512


def libraries(groups: dict[str, list[str]]) -> dict[str, KnowledgeLibrary]:
    """Named libraries of one or more paintings (per-painting libraries cached by ``common``)."""
    files = sorted({f for group in groups.values() for f in group})
    single = common.per_image_libraries(progress=False, files=files)
    out = {}
    for name, group in groups.items():
        parts = [single[Path(f).stem] for f in group]
        out[name] = combine_libraries(parts, name) if len(parts) > 1 else replace(parts[0], name=name)
    return out


def run_pair(
    model: KnowledgeTransfer, photo: str, library: KnowledgeLibrary, paintings: list[str], **settings: Any
) -> dict[str, Any]:
    """Stylise one photo with one library and score it against its dominant painting and every painting."""
    images = common.shared_images()
    content = image_loader(MAX_SIZE, "cpu")(images / "content" / photo)
    start = time.perf_counter()
    out, matches, lib = model.stylize_with_library(content, library, **settings)
    seconds = time.perf_counter() - start
    counts = Counter(lib.images[int(i)].file for i in lib.image_index[matches.indices[0]])
    dominant = counts.most_common(1)[0][0]
    scores: dict[str, QualityScores] = {}
    for painting in paintings:
        style = load_image(images / "style" / painting)[None]
        scores[painting] = quality_scores(out, content, style)[0]
    main = scores[dominant]
    print(f"  {photo} {library.name} {settings}: ssim {main.ssim:.3f} ratio {main.style_ratio:.3f} "
          f"({seconds:.1f} s)", flush=True)  # fmt: skip
    return {
        "photo": photo, "library": library.name, "dominant": dominant,
        "patch_share": {k: v / matches.indices.numel() for k, v in counts.items()},
        "ssim": main.ssim, "lpips": main.lpips, "ratio": main.style_ratio,
        "ratio_each": {k: s.style_ratio for k, s in scores.items()},
        "passes": main.passes(), "passes_every_painting": all(s.passes() for s in scores.values()),
        "seconds": seconds, "similarity": float(matches.similarity.mean()), "output": out,
    }  # fmt: skip


def margin(rows: list[dict[str, Any]]) -> float:
    """Worst-case distance to the floor over a candidate's pairs (positive: every pair passes)."""
    return min(min(r["ssim"] - SSIM_FLOOR, STYLE_RATIO_CEILING - r["ratio"]) for r in rows)


def tile(image: torch.Tensor, side: int) -> torch.Tensor:
    """``(3, H, W)`` -> ``(3, side, side)``: shorter side resized, centre crop."""
    return center_crop(resize_shorter(image, side), side)


def gallery(rows: list[dict[str, Any]], path: Path, side: int = 176) -> None:
    """Photos down, libraries across; first row: the libraries' paintings, first column: the photos."""
    images = common.shared_images()
    blank = torch.ones(3, side, side)
    header = [blank]
    for group in HELD_OUT_LIBRARIES.values():
        parts = [tile(load_image(images / "style" / f), side) for f in group]
        width = side // len(parts)
        header.append(
            torch.cat([p[:, :, (side - width) // 2 : (side - width) // 2 + width] for p in parts], -1)
        )
        header[-1] = F.pad(header[-1], (0, side - header[-1].shape[-1]), value=1.0)
    grid = [torch.cat(header, -1)]
    for photo in HELD_OUT_PHOTOS:
        line = [tile(load_image(images / "content" / photo), side)]
        for name in HELD_OUT_LIBRARIES:
            row = next(r for r in rows if r["photo"] == photo and r["library"] == name)
            line.append(tile(row["output"][0], side))
        grid.append(torch.cat(line, -1))
    picture = (torch.cat(grid, -2).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(picture).save(path, quality=90)


def table(rows: list[dict[str, Any]], with_each: bool) -> list[str]:
    """Markdown rows (one per pair)."""
    head = "| photo | library | measured against (patch share) | SSIM | LPIPS | ratio | passes |"
    lines = [head + (" ratio to each painting |" if with_each else ""), "|" + "---|" * (7 + with_each)]
    for r in rows:
        lp = "n/a" if r["lpips"] is None else f"{r['lpips']:.3f}"
        share = r["patch_share"][r["dominant"]]
        line = (f"| {r['photo']} | {r['library']} | {r['dominant']} ({share:.0%}) | {r['ssim']:.3f} | {lp} | "
                f"{r['ratio']:.3f} | {'yes' if r['passes'] else 'NO'} |")  # fmt: skip
        if with_each:
            line += " " + ", ".join(f"{Path(k).stem} {v:.3f}" for k, v in r["ratio_each"].items()) + " |"
        lines.append(line)
    return lines


def summary(rows: list[dict[str, Any]]) -> str:
    """Mean and range of SSIM, LPIPS and ratio, and the pass count."""
    parts = []
    for key in ("ssim", "lpips", "ratio"):
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            parts.append(f"{key} {sum(values) / len(values):.3f} ({min(values):.3f}-{max(values):.3f})")
    passed = sum(r["passes"] for r in rows)
    return f"{'; '.join(parts)}; {passed}/{len(rows)} pass"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reuse-tuning", action="store_true",
                        help="stage 1 from the JSON of an earlier run")  # fmt: skip
    args = parser.parse_args()
    common.shared_images()
    torch.set_num_threads(args.threads)
    started = time.time()
    # ---------------------------------------------------------------- stage 1: tuning images only
    model = KnowledgeTransfer.pretrained_r31().eval()
    tuning: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if args.reuse_tuning:
        stored = json.loads((common.REPORTS / "pretrained_r31_floor.json").read_text())["tuning"]
        tuning = {tuple(key.split("/")): rows for key, rows in stored.items()}  # type: ignore[misc]
    else:
        tuning_groups = {Path(f).stem: [f] for f in common.TUNING_STYLES}
        tuning_libs = libraries(tuning_groups)
        for swap, align in CANDIDATES:
            rows = [run_pair(model, photo, lib, tuning_groups[name], swap=swap, align=align)
                    for name, lib in tuning_libs.items() for photo in TUNING_PHOTOS]  # fmt: skip
            tuning[(swap, align)] = rows
            print(f"tuning {swap}/{align}: margin {margin(rows):+.3f}; {summary(rows)}", flush=True)
    strip = {f"{s}/{a}": [{k: v for k, v in r.items() if k != "output"} for r in rows]
             for (s, a), rows in tuning.items()}  # fmt: skip
    atomic_save_text(common.REPORTS / "pretrained_r31_floor.json", json.dumps({"tuning": strip}, indent=1))
    chosen = max(CANDIDATES, key=lambda c: margin(tuning[c]))
    defaults = (model.hparams.swap, model.hparams.align)
    if chosen != defaults:
        raise SystemExit(f"the rule chooses swap/align {chosen}, but pretrained_r31() defaults to "
                         f"{defaults}: update PRETRAINED_R31_SETTINGS first")  # fmt: skip
    # ---------------------------------------------------------------- stage 2: held-out images
    held_libs = libraries(HELD_OUT_LIBRARIES)
    held = [run_pair(model, photo, lib, HELD_OUT_LIBRARIES[name])
            for name, lib in held_libs.items() for photo in HELD_OUT_PHOTOS]  # fmt: skip
    print(f"held-out: {summary(held)}", flush=True)
    gallery(held, common.REPORTS / "pretrained_r31_gallery.jpg")
    single = [r for r in held if len(HELD_OUT_LIBRARIES[r["library"]]) == 1]
    multi = [r for r in held if len(HELD_OUT_LIBRARIES[r["library"]]) > 1]
    h, b = model.hparams, BuildSettings()
    variant = (
        f"{model.variant()}; library: {b.window}x{b.window} windows, stride {b.stride}, paintings shorter "
        f"side {b.style_size}, NCC {b.dedup_threshold}; query stride {h.query_stride}; photos longer side "
        f"{MAX_SIZE}; weights {h.encoder_weights} + vgg19_normalised_r31_decoder (shipped)"
    )
    lines = [
        "# Knowledge transfer through the pretrained relu3_1 decoder: quality floor",
        "",
        f"Generated by `experiments/knowledge/pretrained_r31.py` ({(time.time() - started) / 60:.0f} min, "
        "CPU).",
        f"Variant: {variant}.",
        f"Metrics: `stylelab.metrics.quality.quality_scores`, {VARIANT.format(size=256)}. Floor: SSIM >= "
        f"{SSIM_FLOOR}, ratio <= {STYLE_RATIO_CEILING}.",
        "",
        "Style of a library of several paintings: the ratio is measured against the painting most output "
        "patches came from (the dominant source, from the matches; its share in brackets). The ratio to "
        "every painting of the library is listed too: a painting few patches came from is not expected "
        "to pass.",
        "",
        "## Stage 1: choice on tuning images",
        "",
        f"Paintings {', '.join(common.TUNING_STYLES)}; photos {', '.join(TUNING_PHOTOS)}. Rule (fixed "
        "before stage 2): the largest worst-case margin `min(ssim - 0.3, 0.9 - ratio)` over the pairs.",
        "",
        "| swap | align | worst-case margin | SSIM, LPIPS, ratio: mean (range) |",
        "|---|---|---|---|",
        *[
            f"| {s} | {a} | {margin(tuning[(s, a)]):+.3f} | {summary(tuning[(s, a)])} |"
            for s, a in CANDIDATES
        ],
        "",
        f"Chosen: **{chosen[0]} swap, align {chosen[1]}** (`KnowledgeTransfer.pretrained_r31()`, "
        "`stylelab stylize --method knowledge --decoder pretrained_r31`).",
        "",
        "Tuning pairs with the chosen setting:",
        "",
        *table(tuning[chosen], with_each=False),
        "",
        "## Stage 2: held-out photos and paintings (none seen in stage 1)",
        "",
        f"All {len(held)} pairs: {summary(held)}. One painting: {summary(single)}. Two paintings "
        f"(against the dominant one): {summary(multi)}; passing against every painting of the library: "
        f"{sum(r['passes_every_painting'] for r in multi)}/{len(multi)}.",
        "",
        "![gallery](pretrained_r31_gallery.jpg)",
        "",
        "Gallery: first row the libraries' paintings (two-painting libraries side by side), first column "
        "the photos, centre-cropped tiles.",
        "",
        *table(held, with_each=True),
        "",
        f"Mean stylisation time per 512-px photo (search, swap, decode; CPU, {args.threads} threads, "
        f"shared machine): {sum(r['seconds'] for r in held) / len(held):.1f} s.",
        "",
    ]
    atomic_save_text(common.REPORTS / "pretrained_r31_floor.md", "\n".join(lines))
    held_strip = [{k: v for k, v in r.items() if k != "output"} for r in held]
    record = {"variant": variant, "chosen": chosen, "held_out": held_strip, "tuning": strip}
    atomic_save_text(common.REPORTS / "pretrained_r31_floor.json", json.dumps(record, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
