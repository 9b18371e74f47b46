"""`stylelab stylize --method ift --preset pretrained_r31`: no checkpoint, offline, any image size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylelab.cli import main


def _image(path: Path, size: tuple[int, int], seed: int) -> Path:
    rng = np.random.default_rng(seed)
    h, w = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(x / rng.uniform(2, 6)), np.cos(y / rng.uniform(2, 6)), np.sin((x + y) / 5)], -1)
    Image.fromarray(((base * 0.4 + 0.5) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    return {
        "content": _image(tmp_path / "house.png", (45, 62), 0),  # not a multiple of 4
        "s1": _image(tmp_path / "paint.png", (40, 40), 1),
        "s2": _image(tmp_path / "sketch.png", (36, 52), 2),
        "out": tmp_path / "out",
    }


def _stylize(files: dict[str, Path], *extra: str) -> int:
    args = ["stylize", "--method", "ift", "--content", str(files["content"])]
    return main([*args, "--style", str(files["s1"]), str(files["s2"]), "--output", str(files["out"]), *extra])


def test_preset_stylizes_without_checkpoint(files: dict[str, Path]) -> None:
    assert _stylize(files, "--preset", "pretrained_r31", "--max-size", "512", "--n-upd", "3") == 0
    written = sorted(p.name for p in files["out"].glob("*.png"))
    assert written == ["house__paint.png", "house__sketch.png"]
    assert Image.open(files["out"] / written[0]).size == (62, 45)


def test_without_preset_the_pretrained_pipeline_is_used_and_styles_mix(files: dict[str, Path]) -> None:
    assert _stylize(files, "--style-weights", "0.7,0.3", "--lam", "300", "--n-upd", "5") == 0
    assert sorted(p.name for p in files["out"].glob("*.png")) == ["house__paint+sketch.png"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--preset", "photorealistic"), "need a trained checkpoint"),
        (("--preset", "pretrained_r31", "--lam", "relu4_1=5"), "relu3_1 only"),
    ],
)
def test_unusable_options_are_one_line_errors(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    assert _stylize(files, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_help_lists_the_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stylize", "--method", "ift", "--help"]) == 0
    assert "pretrained_r31" in capsys.readouterr().out
