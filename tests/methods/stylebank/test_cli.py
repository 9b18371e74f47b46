"""The shipped configs through the real CLI: two T+1 cycles, the incremental config, fused stylisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.cli import main, run_lightning_cli
from stylelab.methods import load_method

from ..trainer_flags import QUIET_CPU_TRAINER

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "configs" / "stylebank.yaml"
INCREMENTAL = REPO / "configs" / "experiments" / "stylebank" / "incremental.yaml"
TINY = [
    *QUIET_CPU_TRAINER,
    "--data.init_args.content=GeneratedTextures",
    "--data.init_args.content.init_args.size=48",
    "--data.init_args.content.init_args.seed=5",
    "--data.init_args.style=GeneratedTextures",
    "--data.init_args.style.init_args.count=3",
    "--data.init_args.style.init_args.size=32",
    "--data.init_args.load_size=20",
    "--data.init_args.crop_size=16",
    "--data.init_args.batch_size=2",
    "--model.init_args.loss_network=null",
    "--model.init_args.c_max=16",
]


def _write(folder: Path, count: int, seed: int, size: tuple[int, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(folder / f"s{seed}_{i}.png")


def test_fit_two_cycles_then_incremental_then_fused_stylize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # `stylelab fit --config configs/stylebank.yaml --trainer.max_steps=6` (tiny sizes): two T+1 cycles
    cli = run_lightning_cli(["--config", str(CONFIG), *TINY, "--trainer.max_steps=6"], run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert list(cli.model.recent_branches) == ["stylize", "stylize", "autoencoder"] * 2
    base = tmp_path / "outputs" / "stylebank" / "checkpoints" / "last.ckpt"
    assert base.is_file()

    # the incremental config: 2 new styles on the frozen auto-encoder of `base`
    _write(tmp_path / "data" / "new_styles", 2, 1, (30, 40))
    main(["fit", "--config", str(CONFIG), "--config", str(INCREMENTAL), *TINY,
          "--data.init_args.style=ImageFolder", "--data.init_args.style.init_args.root=data/new_styles",
          "--trainer.max_steps=2"])  # fmt: skip
    extended = tmp_path / "outputs" / "stylebank_incremental" / "checkpoints" / "last.ckpt"
    old, new = load_method(base), load_method(extended)
    assert new.net.num_styles == 5 and new.style_names[3:] == ["s1_0.png", "s1_1.png"]
    for a, b in zip(old.net.autoencoder_parameters(), new.net.autoencoder_parameters(), strict=True):
        assert torch.equal(a, b)

    # `stylelab stylize` with fusion weights and with regions (k-means and a user mask)
    _write(tmp_path / "content", 1, 2, (27, 35))
    out = tmp_path / "out"
    common = [
        "stylize",
        "--checkpoint",
        str(extended),
        "--content",
        str(tmp_path / "content"),
        "--output",
        str(out),
    ]
    assert main([*common, "--styles", "0", "s1_1", "--weights", "0.3", "0.7"]) == 0
    assert main([*common, "--styles", "1", "4", "--regions", "kmeans"]) == 0
    mask = np.zeros((27, 35, 3), np.uint8)
    mask[:, 18:] = (255, 0, 0)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    assert main([*common, "--styles", "2", "3", "--regions", str(tmp_path / "mask.png")]) == 0
    assert main([*common, "--styles", "0", "4"]) == 0  # one output per style
    assert main([*common, "--style", str(tmp_path / "data" / "new_styles" / "s1_0.png")]) == 0  # its bank
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == sorted([
        "s2_0__fusion_stripes_00-0.3_s1_1-0.7.png",
        "s2_0__regions_checker_01_s1_1.png",
        "s2_0__regions_waves_02_s1_0.png",
        "s2_0__stripes_00.png",
        "s2_0__s1_1.png",
        "s2_0__s1_0.png",
    ])  # fmt: skip
    assert all(Image.open(out / n).size == (35, 27) for n in names)  # any size: output matches the content
    with pytest.raises(SystemExit, match="sum to 1"):
        main([*common, "--styles", "0", "1", "--weights", "0.5", "0.6"])
