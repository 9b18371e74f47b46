"""WCT through the shipped pretrained relu3_1 pair."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stylelab.methods.base import METHODS
from stylelab.methods.wct import WCT, regional_wct
from stylelab.ops import zca_transform


@pytest.fixture(scope="module")
def wct() -> WCT:
    return WCT().eval()


def test_registered() -> None:
    assert METHODS["wct"] is WCT


def test_alpha_zero_is_the_reconstruction(wct: WCT) -> None:
    content, style = torch.rand(1, 3, 30, 42), torch.rand(1, 3, 32, 32)
    out = wct.stylize(content, style, alpha=0.0)
    pipe = wct.net.pipeline
    padded = torch.nn.functional.pad(content, (0, 2, 0, 2), mode="reflect")
    with torch.no_grad():
        expected = pipe.decode(pipe.encode(padded))[..., :30, :42]
    assert out.shape == content.shape and torch.allclose(out, expected, atol=1e-6)


def test_transfer_gives_the_style_covariance(wct: WCT) -> None:
    torch.manual_seed(0)
    fc, fs = torch.rand(1, 8, 10, 10), torch.rand(1, 8, 12, 12)
    net = WCT(regularizer=0.0).net
    out = net.transfer(fc, fs).flatten(2)[0].double()
    target = fs.flatten(2)[0].double()
    assert torch.allclose(torch.cov(out), torch.cov(target), atol=1e-4)


def test_regions_transform_only_matched_labels() -> None:
    torch.manual_seed(0)
    fc, fs = torch.rand(1, 4, 20, 20), torch.rand(1, 4, 20, 20)
    c_lab = torch.zeros(20, 20, dtype=torch.long)
    c_lab[:, 10:] = 1
    s_lab = torch.zeros(20, 20, dtype=torch.long)  # label 1 absent from the style
    out = regional_wct(fc, fs, c_lab, s_lab, regularizer=0.0)
    assert torch.equal(out[..., 10:], fc[..., 10:])
    left = zca_transform(fc[..., :10].flatten(2), fs.flatten(2), regularizer=0.0)
    assert torch.allclose(out[..., :10].flatten(2), left, atol=1e-5)


def test_rejects_bad_alpha_and_options(wct: WCT) -> None:
    with pytest.raises(ValueError):
        WCT(alpha=1.5)
    with pytest.raises(TypeError):
        wct.stylize(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), beta=1)


@pytest.mark.shared_data
def test_real_pair_passes_the_floor(wct: WCT, shared_data: Path) -> None:
    from stylelab.commands.stylize import image_loader
    from stylelab.metrics.quality import quality_scores

    load = image_loader(256, "cpu")
    content = load(shared_data / "images/content/newyork.jpg")
    style = load(shared_data / "images/style/starry_night_crop.jpg")
    score = quality_scores(wct.stylize(content, style), content, style)[0]
    assert score.passes(), score
    unchanged = quality_scores(content, content, style)[0]
    assert not unchanged.passes()


def test_cli_writes_an_image_offline(tmp_path: Path) -> None:
    from stylelab.data.image_io import save_image

    save_image(torch.rand(3, 30, 26), tmp_path / "c.png")
    save_image(torch.rand(3, 20, 20), tmp_path / "s.png")
    env = {"STYLELAB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    args = [
        "stylize",
        "--method",
        "wct",
        "--content",
        str(tmp_path / "c.png"),
        "--style",
        str(tmp_path / "s.png"),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "stylelab", *args, "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "c__s.png").is_file()
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "stylelab",
            "stylize",
            "--checkpoint",
            str(tmp_path / "no.ckpt"),
            "--content",
            "x",
            "--output",
            "y",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "no.ckpt" in missing.stderr


def test_masked_pair_files(wct: WCT, tmp_path: Path) -> None:
    """Mask files are read as labels at each image's size; a half-black mask keeps its other half apart."""
    import argparse

    from stylelab.commands.stylize import StylizeUsageError, image_loader
    from stylelab.data.image_io import save_image

    save_image(torch.rand(3, 32, 40), tmp_path / "c.png")
    save_image(torch.rand(3, 24, 24), tmp_path / "s.png")
    mask = torch.zeros(3, 16, 20)
    mask[:, :, 10:] = 1.0  # right half white in the content, absent from the all-black style mask
    save_image(mask, tmp_path / "cm.png")
    save_image(torch.zeros(3, 12, 12), tmp_path / "sm.png")
    options = argparse.Namespace(
        alpha=None, content_mask=str(tmp_path / "cm.png"), style_mask=str(tmp_path / "sm.png")
    )
    load = image_loader(None, "cpu")
    contents, styles = [tmp_path / "c.png"], [tmp_path / "s.png"]
    assert wct.stylize_files(contents, styles, tmp_path, options, load) == 0
    assert (tmp_path / "c__s.png").is_file()
    options.style_mask = None
    with pytest.raises(StylizeUsageError, match="both masks"):
        wct.stylize_files(contents, styles, tmp_path, options, load)
