"""Paper Tables 1 and 2: search time per patch and per 512x512 image, with recall against exact search.

Nine libraries of one to three real style images (see ``common.py``) are searched with the 3,969
4x4/stride-2 windows of real 512x512 content photos (relu3_1, vgg_normalised). Methods:

* Traverse = exact search (batched matrix product), and exact search with ``faiss.IndexFlatIP``;
* PQ (faiss ``IndexPQ``, 64 sub-quantizers x 8 bits, inner product; the paper gives no parameters);
* HKM and 1-, 2-, 3-, 4-band BHKM with the reference code's tree (K = 10, depth 2, greedy p = 1);
* beyond the paper: 3-band BHKM with a wider tree and multi-probe (``--tuned``), the configuration the
  issue's speed/recall target is checked on.

Only the search is timed (``stylelab.bench.measure``: warm-up, median of repeats; the exact methods,
whose results are the ground truth, are timed once). Every number comes from this one run on this
device. Recall@1 = share of windows whose match is the exact best; similarity ratio = mean over
windows of (cosine of the returned patch) / (cosine of the exact best).

Writes ``reports/knowledge/table1.md``, ``table2.md``, ``search_timings.md`` and ``search_timings.csv``.
Run: ``STYLELAB_SHARED_DATA=... python experiments/knowledge/search_tables.py [--contents 1] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from dataclasses import dataclass, field

import common  # type: ignore[import-not-found]  # experiments/knowledge/common.py
import faiss
import torch

from stylelab.bench import Row, TimingConfig, TimingTable, device_description, measure
from stylelab.methods.knowledge import EncoderSpec, SearchResult, make_index
from stylelab.methods.knowledge.index import BHKMIndex, HKMIndex, PatchIndex, unit_rows
from stylelab.methods.knowledge.library import image_patches
from stylelab.reproduce.harness import header_lines
from stylelab.utils.io import atomic_save_text

#: Paper seconds (GTX 1080Ti): (per patch, per image). Table 1 and Table 2 (supplement).
PAPER_T1 = {"Traverse": (3.981e-3, 15.799), "PQ": (3.065e-5, 0.122), "ours (BHKM)": (7.351e-5, 0.292)}
PAPER_T2 = {
    "HKM": (6.531e-5, 0.259),
    "1-BHKM": (5.042e-5, 0.200),
    "2-BHKM": (5.807e-5, 0.230),
    "3-BHKM": (6.564e-5, 0.261),
    "4-BHKM": (7.377e-5, 0.293),
    "PQ": (2.911e-5, 0.116),
}
BANDS = {1: ("LL",), 2: ("LL", "LH"), 3: ("LL", "LH", "HL"), 4: ("LL", "LH", "HL", "HH")}


@dataclass
class Cell:
    """Measurements of one method over all (library, content) runs."""

    seconds: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    ratio: list[float] = field(default_factory=list)
    build_s: list[float] = field(default_factory=list)
    by_library: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contents", type=int, default=1, help="content photos per library (1-3)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of the approximate searches")
    parser.add_argument("--threads", type=int, default=1, help="torch/faiss threads while timing")
    parser.add_argument("--tuned", default="32,2,8", help="K,depth,probes of the beyond-paper 3-BHKM")
    args = parser.parse_args()
    common.shared_images()  # checks the shared data and sets $STYLELAB_WEIGHTS
    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    spec = EncoderSpec()
    encoder = spec.build()
    queries = []
    for file in common.CONTENTS[: args.contents]:
        patches, grid = image_patches(encoder, spec, common.content_crop(file)[0], 4, 2)
        queries.append((file, patches))
    count_q = queries[0][1].shape[0]
    exact_cfg = TimingConfig(warmup=0, repeats=1, num_threads=args.threads)
    approx_cfg = TimingConfig(warmup=1, repeats=args.repeats, num_threads=args.threads)
    k_t, depth_t, probes_t, rerank_t = common.parse_config(args.tuned)
    tuned_name = common.config_label(k_t, depth_t, probes_t, rerank_t)
    order = ["Traverse", "faiss flat IP", "PQ", "HKM", "1-BHKM", "2-BHKM", "3-BHKM", "4-BHKM", tuned_name]
    cells = {name: Cell() for name in order}
    table = TimingTable(
        "Search time per 512x512 image (3,969 windows), every library and method", config=approx_cfg
    )
    paper_image = {**{k: v[1] for k, v in PAPER_T2.items()}, "Traverse": PAPER_T1["Traverse"][1]}
    started = time.perf_counter()
    sizes: dict[str, int] = {}
    for lib_name, library in common.nine_libraries(progress=True):
        sizes[lib_name] = len(library)
        patches = library.patches
        unit = unit_rows(patches.flatten(1))
        tree = None
        truth: dict[str, SearchResult] = {}
        # one index in memory at a time (a 47k-patch library is 770 MB; each index adds a copy)
        for name in order:
            if name == "Traverse":
                index, cfg = make_index("exact"), exact_cfg
            elif name == "faiss flat IP":
                index, cfg = make_index("faiss_flat"), exact_cfg
            elif name == "PQ":
                index, cfg = make_index("pq"), approx_cfg
            elif name == "HKM":
                index, cfg = HKMIndex(k=10, depth=2), approx_cfg
            elif name == tuned_name:
                index, cfg = (
                    BHKMIndex(BANDS[3], k=k_t, depth=depth_t, probes=probes_t, rerank=rerank_t),
                    approx_cfg,
                )
            else:  # n-BHKM shares HKM's tree (built once, as in the code)
                index, cfg = BHKMIndex(BANDS[int(name[0])], k=10, depth=2, tree=tree), approx_cfg
            timed_build(cells[name], index, patches, unit, cfg)
            if name == "HKM":
                tree = index.tree
            for content, q in queries:
                result = index.search(q)
                exact = truth.setdefault(content, result)
                timing = measure(lambda index=index, q=q: index.search(q), "cpu", cfg)
                recall = float((result.indices == exact.indices).float().mean())
                ratio = float((result.similarity / exact.similarity).mean())
                cell = cells[name]
                cell.seconds.append(float(timing.median_s))
                cell.recall.append(recall)
                cell.ratio.append(ratio)
                cell.by_library.setdefault(lib_name, []).append((float(timing.median_s), recall, ratio))
                row = Row(
                    (512, 512),
                    1,
                    timing,
                    method=name,
                    variant=f"{lib_name} ({len(library)} patches)",
                    dtype="float32",
                    paper=paper_image.get(name.replace(" (BHKM)", "")),
                )
                table.add(row)
                print(
                    f"{lib_name:22s} {content:16s} {name:24s} {timing.median_s:8.3f}s recall {recall:.3f} "
                    f"ratio {ratio:.4f}",
                    flush=True,
                )
            del index
            gc.collect()
        del library, patches, unit, tree, truth
        gc.collect()
    elapsed = time.perf_counter() - started
    device = device_description(torch.device("cpu"))
    write_reports(cells, order, tuned_name, table, device, sizes, count_q, args, elapsed)


def timed_build(
    cell: Cell, index: PatchIndex, patches: torch.Tensor, unit: torch.Tensor, cfg: TimingConfig
) -> tuple[PatchIndex, TimingConfig]:
    """Build ``index`` and record how long it took."""
    t0 = time.perf_counter()
    index.build(patches, unit)
    cell.build_s.append(time.perf_counter() - t0)
    return index, cfg


def mean(values: list[float]) -> float:
    """Arithmetic mean."""
    return statistics.fmean(values)


def summary_rows(
    cells: dict[str, Cell], names: list[str], paper: dict[str, tuple[float, float]], count_q: int
) -> list[str]:
    """Markdown rows: approach, paper per patch/image, ours per patch/image, ours/paper, recall, ratio."""
    lines = [
        "| approach | paper s/patch | paper s/image | ours s/patch | ours s/image | ours/paper (image) "
        "| recall@1 vs exact | similarity ratio | index build s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        cell = cells[name]
        per_image = mean(cell.seconds)
        ref = paper.get(name)
        paper_cells = f"{ref[0]:.3e} | {ref[1]:.3f}" if ref else "— | —"
        vs = f"{per_image / ref[1]:.2f}x" if ref else "—"
        lines.append(
            f"| {name} | {paper_cells} | {per_image / count_q:.3e} | {per_image:.3f} | {vs} | "
            f"{mean(cell.recall):.3f} | {mean(cell.ratio):.4f} | {mean(cell.build_s):.1f} |"
        )
    return lines


def write_reports(
    cells: dict[str, Cell],
    order: list[str],
    tuned: str,
    table: TimingTable,
    device: str,
    sizes: dict[str, int],
    count_q: int,
    args: argparse.Namespace,
    elapsed: float,
) -> None:
    """Table 1, Table 2 (with the beyond-paper rows), the per-library timing table and the target check."""
    header = [
        *header_lines(
            f"median of {args.repeats} after 1 warm-up, {args.contents} content photo(s), "
            f"{args.threads} thread(s)",
            device=device,
            elapsed_s=elapsed,
        ),
        "",
        f"{args.threads} thread(s) for torch and faiss; float32; search only (encoding excluded). Paper: GTX "
        "1080Ti GPU.",
        f"Nine libraries ({', '.join(f'{k}: {v}' for k, v in sizes.items())} patches), "
        f"{args.contents} real 512x512 content photo(s) each, {count_q} query windows per image; "
        f"approximate searches: median of {args.repeats} after 1 warm-up; exact searches: 1 call (ground "
        f"truth). Averages over the {len(sizes) * args.contents} (library, content) runs. Run took "
        f"{elapsed / 60:.1f} min.",
        "",
    ]
    t1_names = {"Traverse": "Traverse", "PQ": "PQ", "ours (BHKM)": "3-BHKM"}
    t1_cells = {label: cells[name] for label, name in t1_names.items()}
    t1 = [
        "# Table 1 — search time of traverse, PQ and BHKM",
        "",
        *header,
        *summary_rows(t1_cells, list(t1_names), PAPER_T1, count_q),
        "",
        '- "ours (BHKM)" is the reference code\'s search: 3 bands (LL, LH, HL), K = 10, depth 2, one '
        "greedy path. The paper's 0.292 s is closest to its own 4-BHKM row (0.293 s).",
        "- The paper's numbers are GPU seconds; ours are CPU seconds on a shared machine: compare ratios "
        "between rows (one run, one device), not absolute times.",
        "",
    ]
    t2_names = ["HKM", "1-BHKM", "2-BHKM", "3-BHKM", "4-BHKM", "PQ", "faiss flat IP", tuned]
    t2 = [
        "# Table 2 — search time vs number of wavelet bands",
        "",
        *header,
        *summary_rows(cells, t2_names, PAPER_T2, count_q),
        "",
        "- n-BHKM matches on the first n bands of LL, LH, HL, HH; all share HKM's tree (K = 10, depth 2, "
        "p = 1).",
        "- 4-BHKM ranks exactly like HKM (the Haar packet is orthonormal): same recall, different time.",
        f"- `{tuned}` and `faiss flat IP` are beyond the paper (a wider tree with multi-probe; exact faiss).",
        "",
    ]
    t2 += target_check(cells, tuned)
    atomic_save_text(common.REPORTS / "table1.md", "\n".join(t1) + "\n")
    atomic_save_text(common.REPORTS / "table2.md", "\n".join(t2) + "\n")
    table.notes += ["variant = library (patch count); paper column = the paper's seconds per image (GPU)."]
    atomic_save_text(common.REPORTS / "search_timings.md", table.to_markdown())
    table.write(common.REPORTS / "search_timings.csv")
    print("\n".join(t1 + t2))


def target_check(cells: dict[str, Cell], tuned: str) -> list[str]:
    """Issue target on the three-image libraries: >= 20x faster than exact, recall >= 0.8, ratio >= 0.97."""
    lines = [
        "## Target check (issue 5): 3-band BHKM vs exact search on libraries of three style images",
        "",
        "| library | exact s/image | 3-BHKM s/image | speed-up | recall@1 | similarity ratio | met |",
        "|---|---|---|---|---|---|---|",
    ]
    exact, fast = cells["Traverse"].by_library, cells[tuned].by_library
    for lib, parts in common.LIBRARIES.items():
        if len(parts) != 3:
            continue
        e = mean([v[0] for v in exact[lib]])
        f, rec, rat = (mean([v[i] for v in fast[lib]]) for i in range(3))
        met = e / f >= 20 and rec >= 0.8 and rat >= 0.97
        lines.append(
            f"| {lib} | {e:.3f} | {f:.3f} | {e / f:.1f}x | {rec:.3f} | {rat:.4f} | {'yes' if met else 'no'} |"
        )
    lines += [
        "",
        f"3-BHKM here is `{tuned}` (bands LL, LH, HL). Targets: speed-up >= 20x, recall@1 >= 0.8, "
        "similarity ratio >= 0.97, all measured in this run on this device.",
        "",
    ]
    return lines


if __name__ == "__main__":
    main()
