"""Example outputs: geometric vs statistics swap (paper Fig. 11) and a backtracking picture (Fig. 14).

Default decoder: the shipped pretrained relu3_1 decoder (``KnowledgeTransfer.pretrained_r31()``, no
training); ``--checkpoint CKPT`` uses a trained KT decoder instead (e.g. the CPU-budget one of
``train_decoder.sh``). Library ``candy+mosaic+starry`` of ``common.py``. Writes into ``reports/knowledge/``:
``fig11_swaps.png`` (content | geometric | statistics | the model's own swap and alignment, for
``pretrained_r31`` statistics after WCT | reconstruction), ``fig14_backtrack.png`` and
``fig14_backtrack.json`` (one record per output patch, of the model's own setting), ``figures.md``.

Run: ``STYLELAB_SHARED_DATA=... python experiments/knowledge/figures.py [--checkpoint CKPT]``.
"""

from __future__ import annotations

import argparse
from collections import Counter

import common  # type: ignore[import-not-found]
import torch

from stylelab.data.image_io import load_image, save_image
from stylelab.methods import load_method
from stylelab.methods.knowledge import KnowledgeTransfer, draw_links
from stylelab.methods.knowledge.backtrack import save_record
from stylelab.metrics.quality import quality_scores
from stylelab.utils.io import atomic_save_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="a trained KT decoder (default: pretrained_r31)")
    parser.add_argument("--library", default="candy+mosaic+starry")
    parser.add_argument("--content", default="brad_pitt.jpg")
    parser.add_argument("--size", type=int, default=256, help="content crop side")
    args = parser.parse_args()
    images = common.shared_images()  # checks the shared data and sets $STYLELAB_WEIGHTS
    torch.set_num_threads(2)
    library = common.library(args.library)
    if args.checkpoint:
        model = load_method(args.checkpoint)
        assert isinstance(model, KnowledgeTransfer)
        decoder = (
            f"KT decoder of `{args.checkpoint}`, {int(model.decoder_steps)} training steps "
            f"(lr {model.hparams.lr:g}, {model.hparams.recon_loss})"
        )
    else:
        model = KnowledgeTransfer.pretrained_r31().eval()
        decoder = (
            "the shipped pretrained relu3_1 decoder (`vgg19_normalised_r31_decoder`, LinearStyleTransfer's "
            "decoder3: no training), `KnowledgeTransfer.pretrained_r31()`"
        )
    content = common.content_crop(args.content, args.size)
    own = (model.hparams.swap, model.hparams.get("align", "none"))
    settings = list(dict.fromkeys([("geometric", "none"), ("statistics", "none"), own]))
    rows, records, scores = [content], {}, {}
    for swap, align in settings:
        out, matches, lib = model.stylize_with_library(content, library, swap, align)
        rows.append(out)
        records[(swap, align)] = model.backtrack(
            matches, lib, 0, args.content, tuple(content.shape[-2:]), swap, align
        )
        counts = Counter(lib.images[int(i)].file for i in lib.image_index[matches.indices[0]])
        style = load_image(images / "style" / counts.most_common(1)[0][0])[None]
        scores[(swap, align)] = (quality_scores(out, content, style)[0], counts.most_common(1)[0][0])
    with torch.no_grad():
        rows.append(model.net.reconstruct(content).clamp(0, 1))
    save_image(torch.cat([r[0] for r in rows], dim=-1), common.REPORTS / "fig11_swaps.png")
    record = records[own]
    save_record(record, common.REPORTS / "fig14_backtrack.json")
    draw_links(content[0], record, library, common.REPORTS / "fig14_backtrack.png", links=36, height=384)
    used = record["source_images_used"]
    score_lines = [
        f"| {swap} | {align} | {s.ssim:.3f} | {'n/a' if s.lpips is None else f'{s.lpips:.3f}'} | "
        f"{s.style_ratio:.3f} ({dominant}) |"
        for (swap, align), (s, dominant) in scores.items()
    ]
    text = [
        "# Knowledge transfer — example outputs",
        "",
        f"Decoder: {decoder}.",
        f"Library `{args.library}` ({len(library)} patches from "
        f"{', '.join(i.file for i in library.images)}), "
        f"content `{args.content}` centre-cropped to {args.size}x{args.size}, search: "
        f"{record['search']}.",
        "",
        "![swaps](fig11_swaps.png)",
        "",
        "Left to right: content, geometric swap (Eq. 6), statistics swap (Eq. 7)"
        + (
            f", the model's own setting ({own[0]} swap after {own[1].upper()}-aligning the content features "
            "to the library's statistics: beyond the paper, chosen in `pretrained_r31_floor.md`)"
            if len(settings) == 3
            else ""
        )
        + ", plain reconstruction.",
        "",
        "Quality floor of each (`stylelab.metrics.quality`, 256², ratio against the painting most "
        "patches came from):",
        "",
        "| swap | align | SSIM | LPIPS | style ratio (against) |",
        "|---|---|---|---|---|",
        *score_lines,
        "",
        "![backtracking](fig14_backtrack.png)",
        "",
        f"Backtracking ({record['swap']} swap, align {record.get('align', 'none')}): each red line joins a "
        "content patch to the library patch it received; the enlarged pair sits on the line. Source images "
        f"used: {', '.join(used)}; mean patch cosine {record['mean_similarity']:.3f}. Every one of the "
        f"{len(record['patches'])} output patches is listed with its source image, sha256, grid position, "
        "pixel box and similarity in `fig14_backtrack.json`.",
        "",
    ]
    atomic_save_text(common.REPORTS / "figures.md", "\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
