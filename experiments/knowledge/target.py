"""The issue's search target, swept: 3-band BHKM vs exact search on the libraries of three style images.

Target (one run, one device): per 512x512 image at least 20x faster than exact search, recall@1 >= 0.8
and similarity ratio >= 0.97. The paper's configuration (K = 10, depth 2, one greedy path) is far from
that recall (see ``table2.md``); this sweeps wider trees and multi-probe (beyond the paper).

Timing as in ``search_tables.py`` (``stylelab.bench.measure``; exact: one call, the ground truth;
BHKM: median of repeats after a warm-up), single-threaded torch and faiss.
Writes ``reports/knowledge/target.md``.
Run: ``STYLELAB_SHARED_DATA=... python experiments/knowledge/target.py [--contents 2]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import common  # type: ignore[import-not-found]
import faiss
import torch

from stylelab.bench import TimingConfig, device_description, measure
from stylelab.methods.knowledge import EncoderSpec
from stylelab.methods.knowledge.index import BHKMIndex, ExactIndex, unit_rows
from stylelab.methods.knowledge.library import image_patches
from stylelab.methods.knowledge.tree import build_tree
from stylelab.utils.io import atomic_save_text

CONFIGS = [(10, 2, 1), (16, 2, 8), (16, 2, 16), (32, 2, 8), (32, 2, 12), (32, 2, 16)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contents", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    common.shared_images()
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    spec = EncoderSpec()
    encoder = spec.build()
    queries = [
        (file, image_patches(encoder, spec, common.content_crop(file)[0], 4, 2)[0])
        for file in common.CONTENTS[: args.contents]
    ]
    once = TimingConfig(warmup=0, repeats=1, num_threads=1)
    cfg = TimingConfig(warmup=1, repeats=args.repeats, num_threads=1)
    rows: dict[tuple[int, int, int], list[tuple[str, float, float, float]]] = {c: [] for c in CONFIGS}
    started = time.perf_counter()
    names = [name for name, parts in common.LIBRARIES.items() if len(parts) == 3]
    sizes = {}
    for name in names:
        library = common.library(name)
        sizes[name] = len(library)
        patches = library.patches
        unit = unit_rows(patches.flatten(1))
        exact = ExactIndex().build(patches, unit)
        truth = {}
        for file, q in queries:
            seconds = measure(lambda exact=exact, q=q: exact.search(q), "cpu", once).median_s
            truth[file] = (exact.search(q), seconds)
        trees = {}
        for k, depth, probes in CONFIGS:
            if (k, depth) not in trees:
                trees[(k, depth)] = build_tree(unit, k, depth)
            index = BHKMIndex(("LL", "LH", "HL"), k=k, depth=depth, probes=probes, tree=trees[(k, depth)])
            index.build(patches, unit)
            for file, q in queries:
                result = index.search(q)
                seconds = measure(lambda index=index, q=q: index.search(q), "cpu", cfg).median_s
                ref, exact_s = truth[file]
                recall = float((result.indices == ref.indices).float().mean())
                ratio = float((result.similarity / ref.similarity).mean())
                rows[(k, depth, probes)].append((name, exact_s / seconds, recall, ratio))
                print(
                    f"{name} {file} K={k} d={depth} p={probes}: {seconds:.3f}s vs exact {exact_s:.2f}s "
                    f"({exact_s / seconds:.1f}x) recall {recall:.3f} ratio {ratio:.4f}",
                    flush=True,
                )
            del index
        del library, patches, unit, exact, trees
        gc.collect()
    write(rows, names, sizes, args, time.perf_counter() - started)


def write(
    rows: dict, names: list[str], sizes: dict[str, int], args: argparse.Namespace, elapsed: float
) -> None:
    """Markdown: per configuration, min/mean over (library, content) runs, and whether every run meets it."""
    lines = [
        "# Target check: 3-band BHKM vs exact search, libraries of three style images",
        "",
        f"Device: {device_description(torch.device('cpu'))}; 1 thread (torch and faiss); float32; search "
        "only.",
        f"Libraries: {', '.join(f'{n} ({sizes[n]} patches)' for n in names)}; {args.contents} real 512x512 "
        f"content photo(s) ({', '.join(common.CONTENTS[: args.contents])}), 3,969 windows each. Exact: one "
        f"timed call (also the ground truth); BHKM: median of {args.repeats} after a warm-up. Speed-up = "
        f"exact time / BHKM time in the same run. Run took {elapsed / 60:.1f} min.",
        "",
        "Target (issue 5): speed-up >= 20x, recall@1 >= 0.8, similarity ratio >= 0.97.",
        "",
        "| 3-BHKM config | runs | speed-up min / mean | recall@1 min / mean | ratio min / mean "
        "| every run meets the target |",
        "|---|---|---|---|---|---|",
    ]
    for (k, depth, probes), values in rows.items():
        speed = [v[1] for v in values]
        recall = [v[2] for v in values]
        ratio = [v[3] for v in values]
        ok = all(s >= 20 and r >= 0.8 and q >= 0.97 for s, r, q in zip(speed, recall, ratio, strict=True))
        paper = " (paper / code)" if (k, depth, probes) == (10, 2, 1) else ""
        lines.append(
            f"| K={k}, depth {depth}, p={probes}{paper} | {len(values)} | {min(speed):.1f}x / "
            f"{statistics.fmean(speed):.1f}x | {min(recall):.3f} / {statistics.fmean(recall):.3f} | "
            f"{min(ratio):.4f} / {statistics.fmean(ratio):.4f} | {'yes' if ok else 'no'} |"
        )
    lines += ["", "Per run (library, content): speed-up, recall@1, ratio.", ""]
    for (k, depth, probes), values in rows.items():
        cells = "; ".join(f"{n}: {s:.1f}x, {r:.3f}, {q:.4f}" for n, s, r, q in values)
        lines.append(f"- K={k} d={depth} p={probes}: {cells}")
    atomic_save_text(common.REPORTS / "target.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
