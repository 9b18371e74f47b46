"""`stylelab stylize` with an IFT checkpoint: weighted styles, masks, presets, per-level overrides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.cli import main
from stylelab.methods.ift import IFT


def _photo(path: Path, size: tuple[int, int], seed: int) -> Path:
    rng = np.random.default_rng(seed)
    h, w = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(x / rng.uniform(2, 6)), np.cos(y / rng.uniform(2, 6)), np.sin((x + y) / 5)], -1)
    Image.fromarray(((base * 0.4 + 0.5) * 255).astype(np.uint8)).save(path)
    return path


def _mask(path: Path, size: tuple[int, int], split: int) -> Path:
    mask = np.zeros((*size, 3), np.uint8)
    mask[:split] = (255, 0, 0)
    mask[split:] = (0, 0, 255)
    Image.fromarray(mask).save(path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    model = IFT(encoder_weights=None, preset="conservative")
    model.net.calibrate([torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))])
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    model.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, tmp_path / "ift.ckpt")
    return {
        "ckpt": tmp_path / "ift.ckpt",
        "content": _photo(tmp_path / "house.png", (29, 37), 0),  # not a multiple of 8
        "s1": _photo(tmp_path / "paint.png", (24, 24), 1),
        "s2": _photo(tmp_path / "sketch.png", (32, 20), 2),
        "cmask": _mask(tmp_path / "house_seg.png", (29, 37), 12),
        "s1mask": _mask(tmp_path / "paint_seg.png", (24, 24), 8),
        "s2mask": _mask(tmp_path / "sketch_seg.png", (32, 20), 20),
        "out": tmp_path / "out",
    }


def _run(files: dict[str, Path], *extra: str) -> int:
    args = ["stylize", "--checkpoint", str(files["ckpt"]), "--content", str(files["content"])]
    args += ["--style", str(files["s1"]), str(files["s2"]), "--output", str(files["out"])]
    return main([*args, "--n-upd", "2", "--line-search", *extra])


def test_two_weighted_styles_give_one_image_per_content(files: dict[str, Path]) -> None:
    assert _run(files, "--style-weights", "0.7,0.3", "--preset", "photorealistic", "--lam", "relu4_1=5") == 0
    written = sorted(p.name for p in files["out"].glob("*.png"))
    assert written == ["house__paint+sketch.png"]
    assert Image.open(files["out"] / written[0]).size == (37, 29)


def test_without_weights_one_image_per_style(files: dict[str, Path]) -> None:
    assert _run(files, "--lam", "1,1,1,1", "--pipeline", "fine_to_coarse") == 0
    assert sorted(p.name for p in files["out"].glob("*.png")) == ["house__paint.png", "house__sketch.png"]


def test_masks_and_weighted_styles(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    masks = [
        "--content-mask",
        str(files["cmask"]),
        "--style-mask",
        str(files["s1mask"]),
        str(files["s2mask"]),
    ]
    assert _run(files, "--mix", *masks, "--unmatched", "global") == 0
    assert (files["out"] / "house__paint+sketch.png").exists()
    with pytest.raises(SystemExit, match="one --style-mask per style"):
        _run(files, *masks[:4])  # one style mask for two styles
    with pytest.raises(SystemExit, match="both --content-mask and --style-mask"):
        _run(files, *masks[:2])
    with pytest.raises(SystemExit, match="aspect ratio"):
        _run(
            files,
            "--content-mask",
            str(files["s2mask"]),
            "--style-mask",
            str(files["s1mask"]),
            str(files["s2mask"]),
        )
    with pytest.raises(SystemExit, match="--style-weights for 2 styles"):
        _run(files, "--style-weights", "1")
