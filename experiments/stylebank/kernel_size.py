"""Paper Fig. 3: StyleBank kernel size 3×3 vs 7×7.

The paper shows (images only) that 7×7 banks learn bigger style elements. This script trains both
kernel sizes with the same data, seed and budget (the 3×3 run is the Fig. 6 "with AE" run), and reports
parameters, training terms, held-out style/content losses over the 4 styles and a side-by-side figure.

Run: ``STYLELAB_SHARED_DATA=... STYLELAB_WEIGHTS=... python experiments/stylebank/kernel_size.py``
Writes ``reports/stylebank/kernel_size.md`` and ``kernel_size.jpg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from stylelab.data import save_image
from stylelab.metrics import count_parameters
from stylelab.reproduce.harness import header_lines
from stylelab.reproduce.images import load_square, shared_images
from stylelab.utils.io import atomic_save_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    BASE_STYLES,
    EVAL_CONTENTS,
    EVAL_SIZE,
    REPORTS,
    base_model,
    budget_line,
    datamodule,
    mean_last,
    parser,
    style_files,
    train,
)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    torch.set_num_threads(args.threads)
    styles = style_files(BASE_STYLES)
    runs = {}
    for k in (3, 7):
        torch.manual_seed(0)
        runs[k] = train(
            f"with_ae_k{k}_c{args.crop}",
            base_model(k, True),
            datamodule(styles, args.crop, args.batch),
            args.steps,
            args.fresh if k == 7 else False,
        )
        print(f"k={k}: {runs[k].seconds:.0f} s{' (cached)' if runs[k].cached else ''}")

    contents = torch.cat(
        [load_square(str(shared_images() / "content" / n), EVAL_SIZE) for n in EVAL_CONTENTS]
    )
    style_images = [load_square(path, EVAL_SIZE) for path in styles]
    criterion = runs[3].model.criterion
    results, figure_rows = {}, []
    with torch.no_grad():
        for k, run in runs.items():
            style_losses, content_losses, first = [], [], []
            for i, style in enumerate(style_images):
                out = run.model.stylize(contents, styles=[i])
                style_losses.append(
                    float(criterion.style_loss_to_images(out, style.expand(len(out), -1, -1, -1)))
                )
                content_losses.append(float(criterion.content_loss(out, contents)))
                first.append(out[0])
            results[k] = (sum(style_losses) / len(style_losses), sum(content_losses) / len(content_losses))
            figure_rows.append(torch.cat([contents[0], *first], -1))
    save_image(torch.cat(figure_rows, -2), REPORTS / "kernel_size.jpg")

    lines = [
        "# StyleBank — bank kernel size 3×3 vs 7×7 (paper Fig. 3)",
        "",
        *header_lines(budget_line(args)),
        f"- style set (each run, same budget): {', '.join(BASE_STYLES)}",
        f"- loss network: {criterion.description}",
        f"- held-out: {len(EVAL_CONTENTS)} photos x 4 styles at {EVAL_SIZE}x{EVAL_SIZE}; VGG-16 Gram style "
        "loss against each style image (unweighted) and relu4_2 content MSE, averaged",
        "",
        "| kernel | parameters per bank | whole model (4 styles) | train style term (last 20) | "
        "train content term (last 20) | held-out style loss ↓ | held-out content loss ↓ | s / iteration |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, run in runs.items():
        bank = count_parameters(run.model.net.bank.banks[0])
        lines.append(
            f"| {k}x{k} | {bank:,} | {count_parameters(run.model.net):,} "
            f"| {mean_last(run.rows, 'style', 20):.3g} | {mean_last(run.rows, 'content', 20):.3g} "
            f"| {results[k][0]:.4g} | {results[k][1]:.4g} "
            f"| {run.seconds / args.steps:.2f} |"
        )
    lines += [
        "",
        "Paper (Fig. 3, images only): bigger style elements are learnt with 7×7 kernels. `kernel_size.jpg`: "
        "rows 3×3 and 7×7; columns content | styles 0-3. With this budget the comparison can only show "
        "early-training behaviour; it does not test the paper's claim about element size.",
    ]
    atomic_save_text(REPORTS / "kernel_size.md", "\n".join(lines) + "\n")
    print((REPORTS / "kernel_size.md").read_text())


if __name__ == "__main__":
    main()
