"""The ``pretrained_r31`` preset on held-out images, via the CLI -> reports/ift/pretrained_r31_floor.md.

    STYLELAB_SHARED_DATA=/abs/shared/data python experiments/ift/pretrained_r31_floor.py

Runs the acceptance command itself, ``stylelab stylize --method ift --preset pretrained_r31 --max-size
512``, in a subprocess with ``STYLELAB_WEIGHTS`` unset and ``STYLELAB_OFFLINE=1`` (a fresh clone's
setting), on held-out pairs only (``r31_common.held_out_pairs``: every held-out photo with two held-out
paintings; none of these images was used to choose the preset's settings). The written PNGs are scored
against the loaded inputs with :func:`stylelab.metrics.quality.quality_scores` (LPIPS from
``$STYLELAB_WEIGHTS``). The tuning-subset figures of the chosen setting come from the sweep's records.
Also writes ``reports/ift/pretrained_r31_gallery.jpg`` (content | style | output for a few pairs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, REPORTS  # noqa: E402
from r31_common import held_out_pairs, load_like_cli, set_threads, short, split  # noqa: E402

from stylelab.data import load_image  # noqa: E402
from stylelab.methods.ift import IFT  # noqa: E402
from stylelab.metrics.quality import VARIANT, QualityScores, quality_scores  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import shared_root  # noqa: E402
from stylelab.reproduce.markdown import markdown_table  # noqa: E402

OUT = REPO / "outputs" / "ift_pretrained_r31_heldout"
GALLERY_PAIRS = 6


def run_cli(content: Path, styles: list[Path], output: Path, max_size: int) -> float:
    """The acceptance command in a fresh-clone environment; returns its wall-clock seconds."""
    env = {k: v for k, v in os.environ.items() if k != "STYLELAB_WEIGHTS"} | {"STYLELAB_OFFLINE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "stylelab",
        "stylize",
        "--method",
        "ift",
        "--preset",
        "pretrained_r31",
        "--max-size",
        str(max_size),
        "--content",
        str(content),
        "--style",
        *map(str, styles),
        "--output",
        str(output),
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=REPO, capture_output=True)
    return time.perf_counter() - start


def stats(values: list[float]) -> str:
    """``mean (min–max)``."""
    return f"{sum(values) / len(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def gallery(triples: list[tuple[Path, Path, Path]], target: Path, height: int = 200) -> None:
    """Rows of content | style | output, each scaled to ``height`` pixels, saved as JPEG."""
    from PIL import Image

    rows = []
    for paths in triples:
        tiles = [Image.open(p).convert("RGB") for p in paths]
        tiles = [t.resize((max(1, round(t.width * height / t.height)), height), Image.LANCZOS) for t in tiles]
        row = Image.new("RGB", (sum(t.width for t in tiles) + 8 * (len(tiles) - 1), height), "white")
        x = 0
        for t in tiles:
            row.paste(t, (x, 0))
            x += t.width + 8
        rows.append(row)
    sheet = Image.new(
        "RGB", (max(r.width for r in rows), sum(r.height for r in rows) + 8 * (len(rows) - 1)), "white"
    )
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + 8
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(target, quality=88)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=None)
    parser.add_argument("--max-size", type=int, default=512)
    args = parser.parse_args()
    report = ReportWriter(
        REPORTS / "pretrained_r31_floor.md",
        "IFT `pretrained_r31` on held-out images: the quality floor through the CLI",
        budget=f"held-out pairs at longer side {args.max_size}, no training",
    )
    shared = shared_root(args.shared)
    set_threads()
    parts = split(shared)
    pairs = held_out_pairs(parts)
    OUT.mkdir(parents=True, exist_ok=True)
    by_content: dict[Path, list[Path]] = {}
    for c, s in pairs:
        by_content.setdefault(c, []).append(s)
    seconds = 0.0
    for c, styles in by_content.items():
        seconds += run_cli(c, styles, OUT, args.max_size)
        print("stylized", short(c), flush=True)
    rows, scores = [], []
    for c, s in pairs:
        content, style = load_like_cli(c, args.max_size), load_like_cli(s, args.max_size)
        output = load_image(OUT / f"{c.stem}__{s.stem}.png")[None]
        if output.shape[-2:] != content.shape[-2:]:
            raise SystemExit(
                f"{c.name} x {s.name}: output {tuple(output.shape)} vs content {tuple(content.shape)}"
            )
        q: QualityScores = quality_scores(output, content, style)[0]
        scores.append(q)
        lp = "n/a" if q.lpips is None else f"{q.lpips:.3f}"
        rows.append(
            [
                short(c),
                short(s),
                f"{q.ssim:.3f}",
                lp,
                f"{q.style_ratio:.3f}",
                "yes" if q.passes() else "**no**",
            ]
        )
    ssims, ratios = [q.ssim for q in scores], [q.style_ratio for q in scores]
    lpipses = [q.lpips for q in scores if q.lpips is not None]
    passed = sum(q.passes() for q in scores)
    tune_note = "(run pretrained_r31_sweep.py first for the tuning-subset figures)"
    sweep = REPORTS / "pretrained_r31_sweep.json"
    model = IFT(preset="pretrained_r31")
    setting = model._levels(None, None, None)["relu3_1"]
    if sweep.is_file():
        name = f"{model.step_rule} lam={setting.lam:g} n_upd={setting.n_upd}"
        recs = [r for r in json.loads(sweep.read_text()) if r["setting"] == name]
        if recs:
            t_ssim, t_ratio = [r["ssim"] for r in recs], [r["style_ratio"] for r in recs]
            t_pass = sum(a >= 0.3 and b <= 0.9 for a, b in zip(t_ssim, t_ratio, strict=True))
            tune_note = (
                f"Tuning subset ({len(recs)} pairs, same setting, `{name}`): SSIM {stats(t_ssim)}, ratio "
                f"{stats(t_ratio)}, {t_pass}/{len(recs)} pass (LPIPS not computed in the sweep)."
            )
    text = "\n".join(
        [
            "Command: `stylelab stylize --method ift --preset pretrained_r31 --max-size "
            f"{args.max_size}` with `STYLELAB_WEIGHTS` unset and `STYLELAB_OFFLINE=1` (shipped weights "
            f"only), one call per photo with its two paintings; {seconds:.0f} s in all for {len(pairs)} "
            "images (process starts included, shared CPU).",
            "",
            f"Variant: {model.variant()}.",
            "",
            f"Metrics: `stylelab.metrics.quality.quality_scores` ({VARIANT.format(size=256)}); "
            "floor SSIM >= 0.3, ratio <= 0.9.",
            "",
            f"Held-out photos: {', '.join(short(p) for p in parts['held_content'])}. Held-out paintings: "
            f"{', '.join(short(p) for p in parts['held_style'])}.",
            "",
            f"**Held out ({len(pairs)} pairs): SSIM {stats(ssims)}, LPIPS "
            + (stats(lpipses) if lpipses else "n/a")
            + f", ratio {stats(ratios)}; {passed}/{len(pairs)} pass the floor.**",
            "",
            tune_note,
            "",
            markdown_table(["photo", "painting", "SSIM", "LPIPS", "ratio", "passes"], rows),
            "",
        ]
    )
    report.add(text.rstrip("\n")).write()
    picks = pairs[:: max(1, len(pairs) // GALLERY_PAIRS)][:GALLERY_PAIRS]
    gallery(
        [(c, s, OUT / f"{c.stem}__{s.stem}.png") for c, s in picks], REPORTS / "pretrained_r31_gallery.jpg"
    )
    print(report.path.read_text())
    return 0 if torch.isfinite(torch.tensor(ratios)).all() else 1


if __name__ == "__main__":
    sys.exit(main())
