"""The reproduction index: every paper table and figure (and supporting check) that a script regenerates.

An entry is keyed ``<method>/<table>`` and names the paper reference, what the report shows, the script
(or ``stylelab`` sub-command) that writes it, the arguments of the committed run, and the report files.
``stylelab reproduce list`` prints the index; ``stylelab reproduce <key>`` runs an entry.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: Placeholder in :attr:`Entry.default_args` and :attr:`Entry.command` for ``$STYLELAB_SHARED_DATA``.
SHARED_PLACEHOLDER = "{shared}"


class UnknownEntryError(KeyError):
    """No index entry has the requested key."""


@dataclass(frozen=True)
class Entry:
    """One regenerable report.

    Attributes:
        key: ``<method>/<table>``, unique; ``<method>`` is the ``reports/`` folder.
        paper: The paper's table or figure (``"KT paper Table 1"``), or ``"—"`` for a stylelab check.
        description: What the report shows, one line.
        reports: Files the run writes, relative to the repository root (under ``reports/<method>/``).
        script: The experiment script (``experiments/...py`` or ``.sh``), relative to the repository root.
        command: A ``stylelab`` sub-command (without ``stylelab``) when there is no script.
        default_args: Arguments of the committed run, used when none are given.
        budget: The budget of those arguments in words (what the run may cost, not what it measured).
    """

    key: str
    paper: str
    description: str
    reports: tuple[str, ...]
    script: str | None = None
    command: tuple[str, ...] = ()
    default_args: tuple[str, ...] = ()
    budget: str = "script defaults"

    @property
    def method(self) -> str:
        """The part of the key before ``/``."""
        return self.key.split("/", 1)[0]

    def argv(self, extra: list[str] | None = None, python: str | None = None) -> list[str]:
        """The command line that regenerates the report (run it from the repository root).

        Args:
            extra: Arguments replacing :attr:`default_args` (``None`` or empty: the defaults).
            python: The interpreter (default: the running one).

        Raises:
            SystemExit: The arguments name ``{shared}`` and ``$STYLELAB_SHARED_DATA`` is not set.
        """
        python = python or sys.executable
        args = [_substitute(a) for a in (extra or self.default_args)]
        if self.script is None:
            return [python, "-m", "stylelab", *(_substitute(a) for a in self.command), *args]
        if self.script.endswith(".sh"):
            return ["bash", self.script, *args]
        return [python, self.script, *args]


def _substitute(arg: str) -> str:
    if SHARED_PLACEHOLDER not in arg:
        return arg
    shared = os.environ.get("STYLELAB_SHARED_DATA")
    if not shared:
        raise SystemExit(f"this entry needs STYLELAB_SHARED_DATA (its arguments name {SHARED_PLACEHOLDER})")
    return arg.replace(SHARED_PLACEHOLDER, shared)


def _e(key: str, paper: str, description: str, script: str | None, *reports: str, **kw: object) -> Entry:
    method, _, _ = key.partition("/")
    return Entry(
        key=key,
        paper=paper,
        description=description,
        reports=tuple(f"reports/{method}/{r}" for r in reports),
        script=f"experiments/{script}" if script else None,
        **kw,  # type: ignore[arg-type]
    )


_KT_SEARCH_ARGS = ("--contents", "1", "--repeats", "3", "--threads", "1", "--tuned", "32,2,8/16")
_STYLEBANK_BUDGET = "90 iterations, batch 2, 64x64 crops (run_all.sh)"

ENTRIES_LIST: tuple[Entry, ...] = (
    # --- IFT (Chiu & Gurari, ECCV 2020; supplement) ---
    _e("ift/table1_timing", "IFT supplement Table 1", "seconds per image at 256..1024, n_upd 15, n_iter 1",
       "ift/table1_timing.py", "table1_timing.md", "table1_timing.csv"),
    _e("ift/multi_style", "IFT supplement §4-5", "two styles in the objective vs linear blends (features)",
       "ift/multi_style.py", "multi_style.md"),
    _e("ift/multi_style_decoded", "IFT supplement §4-5", "the multi-style claim on decoded images",
       "ift/multi_style_decoded.py", "multi_style_decoded.md"),
    _e("ift/lambda_knob", "IFT paper: lambda (style strength)", "content and style loss as lambda varies",
       "ift/lambda_knob.py", "lambda_knob.md", "lambda_knob.svg"),
    _e("ift/descent", "—", "reference fixed step 0.01 vs exact line search", "ift/descent.py", "descent.md"),
    _e("ift/channel_scales", "—", "mean activations vs the exact vgg_normalised factors",
       "ift/channel_scales.py", "channel_scales.md"),
    _e("ift/speed_targets", "—", "issue speed targets of the relu4_1 transform",
       "ift/speed_targets.py", "speed_targets.md"),
    _e("ift/stylize_examples", "—", "`stylelab stylize` examples: weighted styles, masks",
       "ift/stylize_examples.py", "stylize_examples.md"),
    _e("ift/pretrained_r31_sweep", "—", "choosing the pretrained_r31 preset on the tuning subset",
       "ift/pretrained_r31_sweep.py", "pretrained_r31_sweep.md", "pretrained_r31_sweep.json"),
    _e("ift/pretrained_r31_floor", "—", "pretrained_r31 preset on held-out images through the CLI",
       "ift/pretrained_r31_floor.py", "pretrained_r31_floor.md", "pretrained_r31_gallery.jpg"),
    _e("ift/train_decoder", "—", "prerequisite: CPU-trained decoder (outputs/ift_cpu)",
       "ift/train_decoder.py"),
    # --- Knowledge transfer ---
    _e("knowledge/table1", "KT paper Table 1", "search time of traverse, PQ and BHKM (nine libraries)",
       "knowledge/search_tables.py", "table1.md", "search_timings.md", "search_timings.csv",
       default_args=_KT_SEARCH_ARGS),
    _e("knowledge/table2", "KT paper Table 2", "search time vs number of wavelet bands (same run as table1)",
       "knowledge/search_tables.py", "table2.md", default_args=_KT_SEARCH_ARGS),
    _e("knowledge/figures", "KT paper Fig. 11 and Fig. 14", "geometric vs statistics swap; backtracking",
       "knowledge/figures.py", "figures.md", "fig11_swaps.png", "fig14_backtrack.png",
       "fig14_backtrack.json"),
    _e("knowledge/target", "—", "issue 5 search target: 3-band BHKM vs exact search", "knowledge/target.py",
       "target.md", default_args=("--contents", "1", "--repeats", "3")),
    _e("knowledge/build_memory", "—", "peak memory of building a library from a 1024x1024 image",
       "knowledge/build_memory.py", "build_memory.md"),
    _e("knowledge/pretrained_r31_floor", "—", "KT through the shipped relu3_1 decoder: quality floor",
       "knowledge/pretrained_r31.py", "pretrained_r31_floor.md", "pretrained_r31_floor.json",
       "pretrained_r31_gallery.jpg"),
    _e("knowledge/train_decoder", "—", "prerequisite: CPU-budget KT decoder (outputs/knowledge/cpu_budget)",
       "knowledge/train_decoder.sh"),
    # --- PCA-KD ---
    _e("pcakd/table1", "PCA-KD paper Table 1", "model size and inference time at HD..8K",
       "pcakd/table1.py", "table1.md", "table1.csv",
       default_args=("--budget-s", "900", "--mob-budget-s", "400", "--other-budget-s", "60",
                     "--teacher-budget-s", "150", "--cap-gib", "14", "--repeats", "3", "--warmup", "1",
                     "--teacher-repeats", "1"),
       budget="900 s per model family, 3 repeats, 14 GiB cap"),
    _e("pcakd/fig6", "PCA-KD paper Fig. 6", "content/style losses, SSIM, FSIM on 40 photorealistic pairs",
       "pcakd/fig6.py", "fig6.md", "fig6.csv", "fig6_scatter.svg"),
    _e("pcakd/mcev_content", "PCA-KD paper Fig. 4 / Eq. 9", "mCEV channel selection, staged content photos",
       None, "mcev_content.md", "mcev_content.json", "mcev_content.svg",
       command=("pcakd", "mcev", "--data", "{shared}/images/content", "--threshold", "0.85", "--size", "512",
                "--resize", "square", "--output", "reports/pcakd/mcev_content")),
    _e("pcakd/mcev_dpst_content", "PCA-KD paper Fig. 4 / Eq. 9", "mCEV channel selection, DPST contents",
       None, "mcev_dpst_content.md", "mcev_dpst_content.json", "mcev_dpst_content.svg",
       command=("pcakd", "mcev", "--data", "{shared}/images/photoreal_pairs/content", "--threshold", "0.85",
                "--size", "512", "--resize", "square", "--output", "reports/pcakd/mcev_dpst_content")),
    _e("pcakd/reconstruction", "—", "reconstruction PSNR: the authors' students vs ours",
       "pcakd/reconstruction.py", "reconstruction.md", "reconstruction.csv",
       default_args=("--max-side", "384", "--pairs", "40")),
    _e("pcakd/distillation", "—", "how well the student is distilled vs the PCA optimum",
       "pcakd/distillation.py", "distillation.md"),
    _e("pcakd/eigenbases", "PCA-KD paper Eq. 5", "global eigenbases: gradient descent vs closed form",
       "pcakd/eigenbases.py", "eigenbases.md"),
    _e("pcakd/gallery", "—", "gallery: student, masks, guided filter, teacher", "pcakd/gallery.py",
       "gallery.jpg"),
    _e("pcakd/official_diagnostic", "—", "our distillation objective at the authors' trained student",
       "pcakd/official_diagnostic.py", "official_diagnostic.md", "official_diagnostic.csv",
       default_args=("--steps", "20", "--lr", "0.0001", "--batch", "4", "--held-out", "6",
                     "--image-weights", "1", "1000")),
    _e("pcakd/distill_budget", "—", "our distilled student vs the authors': PSNR vs CPU minutes",
       "pcakd/distill_budget.py", "distill_budget.md", "distill_budget.csv",
       default_args=("--steps", "300", "800", "300", "200", "--lr", "0.0003", "--image-weight", "1000",
                     "--batch", "8", "--init-batches", "20")),
    _e("pcakd/streaming_check", "—", "streamed vs whole-image stylisation at 1920x1080",
       "pcakd/streaming_check.py", "streaming_check.md",
       default_args=("--height", "1080", "--width", "1920")),
    _e("pcakd/teacher_scales", "—", "per-channel factors Caffe VGG-19 -> vgg_normalised",
       "pcakd/teacher_scales.py", "teacher_scales.md"),
    _e("pcakd/train_student", "—", "prerequisite: the shipped VGG student and its record",
       "pcakd/train_student.py"),
    # --- pretrained relu3_1 baselines ---
    _e("pretrained/floor", "—", "quality floor of the zero-training relu3_1 baselines (WCT, AdaIN)",
       "pretrained/floor.py", "floor.md"),
    # --- StyleBank ---
    _e("stylebank/reconstruction", "StyleBank paper Fig. 6", "E->D reconstruction with and without AE branch",
       "stylebank/reconstruction.py", "reconstruction.md", "reconstruction.jpg", "gallery.jpg",
       default_args=("--steps", "90", "--crop", "64"), budget=_STYLEBANK_BUDGET),
    _e("stylebank/kernel_size", "StyleBank paper Fig. 3", "bank kernel size 3x3 vs 7x7",
       "stylebank/kernel_size.py", "kernel_size.md", "kernel_size.jpg",
       default_args=("--steps", "90", "--crop", "64"), budget=_STYLEBANK_BUDGET),
    _e("stylebank/incremental", "StyleBank paper Fig. 8, §4.1", "incremental training of a new style",
       "stylebank/incremental.py", "incremental.md", "incremental.jpg", "incremental_curves.csv",
       "incremental_curves.svg", "incremental_content_curves.svg",
       default_args=("--steps", "1000", "--base-steps", "1000", "--crop", "64"),
       budget="1000 iterations (base and new style), batch 2, 64x64 crops"),
    _e("stylebank/inference_time", "KT paper Fig. 9 (StyleBank 0.13 s)", "StyleBank latency, batch 1",
       "stylebank/inference_time.py", "inference_time.md", "inference_time.csv"),
    _e("stylebank/zoo_floor", "—", "zoo StyleBank: quality floor on held-out photos",
       "stylebank/zoo_floor.py", "zoo_floor.md", "zoo_gallery.jpg",
       default_args=("outputs/zoo/stylebank/checkpoints/last.ckpt",)),
    # --- Dynamic style kernels (SK) ---
    _e("stylekernel/training", "SK paper §4 (training recipe)", "prerequisite: k1/k3/k5 and ablation runs",
       "stylekernel/train.py", "training.md", budget="cpu_budget.yaml: 120 generator updates per run"),
    _e("stylekernel/table1_timing", "SK paper Table 1", "inference time at 256 and 512, batch 1",
       "stylekernel/table1_timing.py", "table1.md", "table1.csv"),
    _e("stylekernel/table2_metrics", "SK paper Table 2", "style loss (two definitions) and temporal LPIPS",
       "stylekernel/table2_metrics.py", "table2.md"),
    _e("stylekernel/table3_kernel_size", "SK paper Table 3", "style-kernel size k = 1, 3, 5",
       "stylekernel/table3_kernel_size.py", "table3.md", "table3_timing.json"),
    _e("stylekernel/memory", "—", "peak memory and time of chunked attention at 512..2048",
       "stylekernel/memory.py", "memory.md", "memory.csv"),
    _e("stylekernel/zoo_floor", "—", "zoo stylekernel: quality floor on held-out pairs",
       "stylekernel/zoo_floor.py", "zoo_floor.md",
       default_args=("--checkpoint", "outputs/zoo/stylekernel/checkpoints/last.ckpt",
                     "--output", "reports/stylekernel/zoo_floor.md")),
    _e("stylekernel/zoo_floor_init", "—", "zoo stylekernel floor of the untrained initialisation",
       "stylekernel/zoo_floor.py", "zoo_floor_init.md",
       default_args=("--init", "--output", "reports/stylekernel/zoo_floor_init.md")),
)  # fmt: skip

#: The index by key.
ENTRIES: dict[str, Entry] = {entry.key: entry for entry in ENTRIES_LIST}


def get_entry(key: str) -> Entry:
    """The entry ``key`` (``<method>/<table>``).

    Raises:
        UnknownEntryError: No such key (the message lists the keys of the same method, or all methods).
    """
    if key in ENTRIES:
        return ENTRIES[key]
    method = key.split("/", 1)[0]
    same = sorted(k for k in ENTRIES if k.startswith(method + "/"))
    hint = ", ".join(same) if same else "methods: " + ", ".join(sorted({e.method for e in ENTRIES_LIST}))
    raise UnknownEntryError(f"no reproduction entry {key!r}; known: {hint} (see `stylelab reproduce list`)")


def entry_of_report(relative: str) -> Entry | None:
    """The entry that writes the report ``reports/<method>/<file>`` (repository-relative), if any."""
    for entry in ENTRIES_LIST:
        if relative in entry.reports:
            return entry
    return None


def find_checkout(start: Path | None = None) -> Path:
    """The stylelab source checkout: the folder holding ``experiments/`` and ``reports/``.

    Looks above the installed package first (an editable install), then above ``start`` (default: the
    current folder).

    Raises:
        FileNotFoundError: Neither is inside a checkout (the scripts are not installed with the package).
    """
    import stylelab

    candidates = [Path(stylelab.__file__).resolve().parents[1]]
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    for folder in candidates:
        if all((folder / name).is_dir() for name in ("experiments", "reports", "stylelab")):
            return folder
    raise FileNotFoundError(
        "the experiment scripts live in a stylelab source checkout (experiments/, reports/), not in the "
        "installed package: run `stylelab reproduce` from a clone of the repository"
    )
