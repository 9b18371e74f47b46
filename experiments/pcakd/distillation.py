"""How well a PCA-KD student is distilled, next to the PCA optimum and the best linear maps.

For each level N (relu1_1..relu4_1) on held-out photos (the DPST contents, never training data):

* student: relative error ``||W s_bar - t_bar||^2 / ||t_bar||^2`` (centred student feature mapped up by the
  global basis vs the centred teacher feature; 1 = a student that ignores the teacher);
* PCA optimum: ``1 - ||W^T t_bar||^2 / ||t_bar||^2``, the best any student could do with this basis;
* best linear map from the student's input: the *linear* map from 3x3 patches of the (max-pooled, for
  N > 1) student feature relu(N-1)_1e (the image at N = 1) to the projected teacher feature, fitted by
  least squares on the staged training photos and scored on the held-out ones (a reference point, not a
  bound: the block is non-linear);
* the same from the teacher's relu(N-1)_1: how much of the gap is the student's earlier errors.

Writes ``reports/pcakd/distillation.md``. Run from the repository root::

    STYLELAB_WEIGHTS=../shared/data/weights STYLELAB_SHARED_DATA=../shared/data \\
        python experiments/pcakd/distillation.py [--student CKPT_OR_SAFETENSORS] [--size 256]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, pairs_root  # noqa: E402

from stylelab.data import ImageFolder  # noqa: E402
from stylelab.methods import load_method  # noqa: E402
from stylelab.methods.pcakd import PCAKD  # noqa: E402
from stylelab.methods.pcakd.eigenbases import centre  # noqa: E402
from stylelab.reproduce.harness import ReportWriter  # noqa: E402
from stylelab.reproduce.images import SHARED_ENV, load_resized  # noqa: E402


def load_square(paths: list[str], size: int) -> Tensor:
    """Photos resized (not cropped) to ``size x size``, ``(N, 3, size, size)``."""
    return torch.cat([load_resized(p, size) for p in paths])


@torch.no_grad()
def features(model: PCAKD, images: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Teacher relu1_1..relu4_1 and student relu1_1e..relu4_1e of ``images``."""
    net = model.net
    teacher = net.teacher().features(images, 4)
    student, h = [], images
    for n in range(1, 5):
        h, _ = net.autoencoder.encoder.forward_block(n, h)
        student.append(h)
    return teacher, student


def patches(x: Tensor, pool: bool) -> Tensor:
    """Centred 3x3 reflect-padded patches ``(N * H * W, C * 9)`` in float64 (after a 2x2 max-pool)."""
    if pool:
        x = F.max_pool2d(x, 2)
    cols = F.unfold(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3)
    cols = cols - cols.mean(-1, keepdim=True)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1]).double()


def linear_map_error(
    basis: Tensor,
    source_fit: Tensor,
    target_fit: Tensor,
    source_eval: Tensor,
    target_eval: Tensor,
    pool: bool,
) -> float:
    """Held-out relative error of the least-squares linear map from source patches to ``W^T t_bar``."""
    w = basis.double()
    y = (w.T @ centre(target_fit).double()).transpose(1, 2).reshape(-1, w.shape[1])
    x = patches(source_fit, pool)
    normal = x.T @ x
    normal += 1e-6 * normal.diagonal().mean() * torch.eye(normal.shape[0], dtype=normal.dtype)
    solution = torch.linalg.solve(normal, x.T @ y)
    target = centre(target_eval).double()
    predicted = (patches(source_eval, pool) @ solution).reshape(target.shape[0], -1, w.shape[1])
    mapped = w @ predicted.transpose(1, 2)
    return float(((mapped - target) ** 2).sum() / (target**2).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--student", default=None, help="checkpoint or .safetensors (default: shipped)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--held-out", type=int, default=10, help="DPST content photos scored")
    parser.add_argument("--output", default="reports/pcakd/distillation.md")
    args = parser.parse_args()
    os.chdir(REPO)
    torch.set_num_threads(2)
    pairs = pairs_root(os.environ.get(SHARED_ENV) or REPO.parent / "shared" / "data")
    if args.student is None:
        model = PCAKD()
    elif args.student.endswith(".safetensors"):
        model = PCAKD(pretrained=args.student)
    else:
        model = load_method(args.student)  # type: ignore[assignment]
    model.eval()
    fit_paths = ImageFolder(pairs.parent / "content").paths()
    eval_paths = ImageFolder(pairs / "content").paths()[: args.held_out]
    report = ReportWriter(
        REPO / args.output,
        "PCA-KD: how well the student is distilled",
        budget=f"{len(eval_paths)} held-out, {len(fit_paths)} fit photos, {args.size}x{args.size}; 2 threads",
    )
    fit_images, eval_images = load_square(fit_paths, args.size), load_square(eval_paths, args.size)
    teacher_fit, student_fit = features(model, fit_images)
    teacher_eval, student_eval = features(model, eval_images)
    bases = model.net.autoencoder.eigenbases
    rows = []
    for n in range(1, 5):
        basis = bases[n].detach()
        target = centre(teacher_eval[n - 1])
        student = float(((basis @ centre(student_eval[n - 1]) - target) ** 2).sum() / (target**2).sum())
        optimum = float(1 - (basis.T @ target).pow(2).sum() / target.pow(2).sum())
        sources = {
            "student": (fit_images, eval_images) if n == 1 else (student_fit[n - 2], student_eval[n - 2]),
            "teacher": (fit_images, eval_images) if n == 1 else (teacher_fit[n - 2], teacher_eval[n - 2]),
        }
        linear = {
            name: linear_map_error(basis, src_fit, teacher_fit[n - 1], src_eval, teacher_eval[n - 1], n > 1)
            for name, (src_fit, src_eval) in sources.items()
        }
        rows.append((n, student, optimum, linear["student"], linear["teacher"]))
    report.add(
        f"- student: {model.variant()}\n"
        f"- held out: the first {len(eval_paths)} DPST content photos; linear maps fitted on the "
        f"{len(fit_paths)} staged content photos; all resized to {args.size}x{args.size}\n"
        "- relative error `||W s_bar - t_bar||^2 / ||t_bar||^2` (1 = a student that ignores the teacher); "
        "linear map = least-squares map of 3x3 patches of the (max-pooled) previous feature"
    )
    report.table(
        ["layer", "student", "PCA optimum", "best linear map from the student's input", "from the teacher's"],
        [[f"relu{n}_1", *(f"{v:.3f}" for v in values)] for n, *values in rows],
    )
    report.add("At relu1_1 both linear maps read the same RGB patch.")
    print(report.write().read_text())


if __name__ == "__main__":
    main()
