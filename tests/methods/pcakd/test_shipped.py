"""The student shipped in the package: loads with no download and works through `stylelab stylize`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from stylelab.cli import main
from stylelab.methods.pcakd import PCAKD
from stylelab.methods.pcakd.pretrained import WEIGHTS_DIR, load_student
from stylelab.metrics import parameter_counts


def test_shipped_student_loads_by_default_with_its_training_record() -> None:
    model = PCAKD(teacher_weights=None)  # the teacher is never needed for stylisation
    assert model.weights_source == "shipped student 'vgg'"
    assert "trained as its .json record says" in model.variant()  # not the constructor's recipe
    counts = parameter_counts(model.net.autoencoder, auxiliary=("eigenbases",))
    assert (counts.without_auxiliary, counts.with_auxiliary) == (283_236, 334_052)
    assert (WEIGHTS_DIR / "pcakd_vgg.safetensors").stat().st_size < 2_000_000
    record = json.loads((WEIGHTS_DIR / "pcakd_vgg.json").read_text())
    for key in (
        "configs",
        "training_images",
        "global_steps",
        "stage_ends",
        "reconstruction_dpst_content_max512",
    ):
        assert key in record
    assert record["global_steps"] == record["stage_ends"][-1] > 0
    # a trained student reconstructs far better than a random one
    x = torch.rand(1, 3, 32, 32) * 0.2 + torch.linspace(0, 0.8, 32).view(1, 1, 1, 32)
    random_init = PCAKD(teacher_weights=None, pretrained=None)
    with torch.no_grad():
        trained_error = ((model.net.autoencoder.reconstruct(x) - x) ** 2).mean()
        random_error = ((random_init.net.autoencoder.reconstruct(x) - x) ** 2).mean()
    assert trained_error < 0.2 * random_error


def test_shipped_weights_refuse_another_architecture() -> None:
    model = PCAKD(teacher_weights=None, pretrained=None, widths=[16, 32, 64, 128])
    with pytest.raises(ValueError, match="another architecture"):
        load_student(model.net.autoencoder, "vgg", model._architecture())
    assert PCAKD(teacher_weights=None, widths=[16, 32, 64, 128]).weights_source == "random init"


def _write(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
    return path


def test_stylize_command_with_the_shipped_student_and_masks(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    content = _write(tmp_path / "c.png", rng.integers(0, 255, (36, 44, 3), dtype=np.uint8))
    style = _write(tmp_path / "s.png", rng.integers(0, 255, (30, 30, 3), dtype=np.uint8))
    assert main(["stylize", "--method", "pcakd", "--content", str(content), "--style", str(style),
                 "--output", str(tmp_path / "out")]) == 0  # fmt: skip
    result = Image.open(tmp_path / "out" / "c__s.png")
    assert result.size == (44, 36)
    mask = np.zeros((36, 44, 3), np.uint8)
    mask[18:] = (255, 0, 0)
    style_mask = np.zeros((30, 30, 3), np.uint8)
    style_mask[:, 15:] = (255, 0, 0)
    content_mask = _write(tmp_path / "cm.png", mask)
    style_mask_path = _write(tmp_path / "sm.png", style_mask)
    assert main(["stylize", "--method", "pcakd", "--content", str(content), "--style", str(style),
                 "--output", str(tmp_path / "masked"), "--content-mask", str(content_mask),
                 "--style-mask", str(style_mask_path), "--guided-filter"]) == 0  # fmt: skip
    assert Image.open(tmp_path / "masked" / "c__s.png").size == (44, 36)


def _relative_distillation_errors(model: PCAKD, images: torch.Tensor) -> list[float]:
    """``||W s_bar - t_bar||^2 / ||t_bar||^2`` per level (centred student / teacher features)."""
    from stylelab.methods.pcakd.eigenbases import centre

    net = model.net.eval()
    errors = []
    with torch.no_grad():
        teacher = net.teacher().features(images, 4)
        h = images
        for n in range(1, 5):
            h, _ = net.autoencoder.encoder.forward_block(n, h)
            target = centre(teacher[n - 1])
            mapped = net.autoencoder.eigenbases[n] @ centre(h)
            errors.append(float(((mapped - target) ** 2).sum() / (target**2).sum()))
    return errors


@pytest.mark.shared_data
def test_shipped_student_is_distilled(shared_images: Path) -> None:
    # held-out photos (the DPST contents are not training data), 128x128
    files = sorted((shared_images / "photoreal_pairs" / "content").glob("*.jpg"))[:4]
    from stylelab.data import load_image

    loaded = [load_image(f)[None] for f in files]
    images = torch.cat([F.interpolate(x, size=(128, 128), mode="bilinear", antialias=True) for x in loaded])
    shipped = _relative_distillation_errors(PCAKD(), images)
    undistilled = _relative_distillation_errors(PCAKD(pretrained=None), images)
    assert min(undistilled) > 0.9  # a student that ignores the teacher sits at ~1 (or above)
    assert shipped[0] < 0.5 and max(shipped) < 0.9, shipped
