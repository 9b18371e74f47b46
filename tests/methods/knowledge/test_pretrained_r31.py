"""KT with the shipped pretrained relu3_1 decoder: offline build, refusals, CLI errors, the quality floor."""

from __future__ import annotations

import argparse
import re
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from stylelab.cli import main
from stylelab.commands.stylize import image_loader
from stylelab.data import load_image
from stylelab.methods import load_method
from stylelab.methods.knowledge import KnowledgeTransfer, KTDecoder
from stylelab.methods.knowledge.model import (
    align_statistics,
    align_wct,
    library_colouring,
    library_statistics,
)
from stylelab.methods.knowledge.module import PRETRAINED_R31_SETTINGS
from stylelab.metrics.quality import quality_scores
from stylelab.nn.pretrained_r31 import ENCODER_WEIGHTS, PretrainedR31, r31_decoder
from stylelab.nn.vgg_decoder import MirroredVGGDecoder

from .conftest import write_pictures


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh clone's environment: no ``$STYLELAB_WEIGHTS``, no network."""
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")


def _options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    KnowledgeTransfer.add_stylize_arguments(parser)
    return parser.parse_args(list(argv))


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / F.mse_loss(a.clamp(0, 1), b)))


def test_offline_build_uses_the_shipped_decoder(offline: None) -> None:
    model = KnowledgeTransfer.pretrained_r31()
    assert model.hparams.decoder == "pretrained_r31" and model.hparams.encoder_weights == ENCODER_WEIGHTS
    assert model.net.spec.layer == "relu3_1" and isinstance(model.net.decoder, MirroredVGGDecoder)
    shipped = r31_decoder().state_dict()
    assert all(torch.equal(v, shipped[k]) for k, v in model.net.decoder.state_dict().items())
    assert "pretrained relu3_1 decoder" in model.variant()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "untrained decoder" warning: nothing needs training
        model._warn_if_untrained()
    # the CLI hook: pretrained_r31 by default and when asked for, the untrained SELU decoder for `kt`
    for argv in ([], ["--decoder", "pretrained_r31"]):
        built = KnowledgeTransfer.from_stylize_options(_options(*argv))
        assert built.net.decoder_kind == "pretrained_r31" and built.hparams.swap == model.hparams.swap
    assert isinstance(
        KnowledgeTransfer.from_stylize_options(_options("--decoder", "kt")).net.decoder, KTDecoder
    )


def test_reconstruction_is_the_pretrained_pair_at_any_size(offline: None) -> None:
    """Fails if another decoder (or another pooling at odd sizes) is used: the round trip must be exact."""
    model = KnowledgeTransfer.pretrained_r31().eval()
    pair = PretrainedR31().eval()
    torch.manual_seed(0)
    y, x = torch.meshgrid(torch.linspace(0, 6, 64), torch.linspace(0, 6, 72), indexing="ij")
    image = torch.stack([0.5 + 0.3 * torch.sin(x), 0.5 + 0.3 * torch.cos(y), 0.5 + 0.2 * torch.sin(x + y)])[
        None
    ]
    with torch.no_grad():
        ours = model.net.reconstruct(image)
        torch.testing.assert_close(ours.clamp(0, 1), pair(image), atol=1e-5, rtol=0)
        assert _psnr(ours, image) > 22.0
        odd = image[..., :61, :70]  # not multiples of 4: padded before encoding, cropped back
        back = model.net.reconstruct(odd)
        assert back.shape == odd.shape and _psnr(back, odd) > 22.0
        untrained = KnowledgeTransfer.from_stylize_options(_options("--decoder", "kt")).eval()
        assert _psnr(untrained.net.reconstruct(image), image) < 15.0


def test_checkpoint_keeps_the_pretrained_decoder(offline: None, tmp_path: Path) -> None:
    model = KnowledgeTransfer.pretrained_r31(swap="geometric")
    path = tmp_path / "kt.ckpt"
    torch.save({"stylelab_method": "knowledge", "hyper_parameters": dict(model.hparams),
                "state_dict": model.state_dict()}, path)  # fmt: skip
    back = load_method(path)
    assert isinstance(back, KnowledgeTransfer) and back.net.decoder_kind == "pretrained_r31"
    assert back.hparams.swap == "geometric" and isinstance(back.net.decoder, MirroredVGGDecoder)


@pytest.mark.parametrize(
    ("weights", "layer"), [(None, "relu3_1"), ("vgg19_caffe_q8", "relu3_1"), ("auto", "relu3_2")]
)
def test_constructor_refuses_other_features(offline: None, weights: str | None, layer: str) -> None:
    with pytest.raises(
        ValueError, match=r"pretrained_r31 decoder .* inverts relu3_1 of vgg19_normalised_r31"
    ):
        KnowledgeTransfer(decoder="pretrained_r31", encoder_weights=weights, layer=layer)


def test_cli_refusals_are_one_line_exit_2(
    offline: None, tmp_path: Path, library_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = write_pictures(tmp_path / "content", [(40, 44)], seed=3)[0]
    out = tmp_path / "out"
    common = ["stylize", "--method", "knowledge", "--content", str(content), "--output", str(out)]

    def error_line(argv: list[str]) -> str:
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        return err

    # a missing library names the folder it looked for
    err = error_line([*common, "--library", "nowhere", "--decoder", "pretrained_r31"])
    assert str(library_root / "nowhere" / "library.json") in err and "does not exist" in err
    # a library of other features (random weights) is refused, naming the library and the decoder
    images = write_pictures(tmp_path / "styles", [(48, 56)])[0].parent
    assert main(["library", "build", "--images", str(images), "--name", "rnd", "--weights", "none",
                 "--style-size", "native", "--no-index", "--quiet"]) == 0  # fmt: skip
    err = error_line([*common, "--library", "rnd", "--decoder", "pretrained_r31"])
    assert str(library_root / "rnd" / "library.json") in err and "vgg19_normalised_r31_decoder" in err
    err = error_line([*common, "--library", "rnd"])  # the default decoder is pretrained_r31 too
    assert "--decoder kt" in err
    assert not out.exists() or not any(out.iterdir())
    # a checkpoint with the KT decoder and an explicit --decoder pretrained_r31 contradict each other
    model = KnowledgeTransfer(encoder_weights=None)
    ckpt = tmp_path / "kt.ckpt"
    torch.save({"stylelab_method": "knowledge", "hyper_parameters": dict(model.hparams),
                "state_dict": model.state_dict()}, ckpt)  # fmt: skip
    err = error_line(["stylize", "--checkpoint", str(ckpt), "--content", str(content), "--output", str(out),
                      "--library", "rnd", "--decoder", "pretrained_r31"])  # fmt: skip
    assert "checkpoint's decoder is 'kt'" in err


def test_help_lists_the_decoder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stylize", "--method", "knowledge", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--decoder {zoo,kt,pretrained_r31}" in out and "--library" in out


def test_alignment_gives_the_library_statistics() -> None:
    torch.manual_seed(0)
    feat = torch.randn(2, 8, 6, 7) * 3 + 1
    patches = torch.randn(50, 8, 4, 4) * 0.5 - 2
    mean, std = library_statistics(patches)
    torch.testing.assert_close(mean.flatten(), patches.transpose(0, 1).reshape(8, -1).mean(1))
    aligned = align_statistics(feat, mean, std)
    torch.testing.assert_close(aligned.mean((2, 3)), mean.flatten().expand(2, 8), atol=1e-5, rtol=0)
    torch.testing.assert_close(aligned.std((2, 3)), std.flatten().expand(2, 8), atol=1e-4, rtol=0)
    # WCT: the library's mean and full covariance (every position of every patch)
    patches = torch.randn(300, 8, 4, 4) @ torch.randn(4, 4) + 0.5
    flat = patches.transpose(0, 1).reshape(8, -1)
    out = align_wct(feat, *library_colouring(patches))
    for image in out:
        torch.testing.assert_close(image.flatten(1).mean(1), flat.mean(1), atol=1e-4, rtol=0)
        torch.testing.assert_close(torch.cov(image.flatten(1)), torch.cov(flat), atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="align"):
        KnowledgeTransfer(encoder_weights=None, align="whiten")  # type: ignore[arg-type]


def test_config_overlay_is_the_pretrained_variant(capsys: pytest.CaptureFixture[str]) -> None:
    configs = Path(__file__).resolve().parents[3] / "configs"
    overlay = configs / "experiments" / "knowledge" / "pretrained_r31.yaml"
    with pytest.raises(SystemExit) as done:
        main(["fit", "--config", str(configs / "knowledge.yaml"), "--config", str(overlay), "--print_config"])
    assert done.value.code == 0
    printed = capsys.readouterr().out
    for key, value in PRETRAINED_R31_SETTINGS.items():
        assert re.search(rf"^\s+{key}: {value}$", printed, re.MULTILINE), key


def test_config_overlay_fine_tunes_the_pretrained_decoder(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``stylelab fit`` step with the overlay trains the shipped decoder (and only the decoder)."""
    configs = Path(__file__).resolve().parents[3] / "configs"
    monkeypatch.chdir(tmp_path)
    shipped = r31_decoder().state_dict()
    fast = ["--trainer.accelerator=cpu", "--trainer.logger=false", "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false", "--trainer.callbacks=[]", "--trainer.max_steps=1",
            "--trainer.limit_val_batches=0", "--data.init_args.load_size=72",
            "--data.init_args.crop_size=64", "--data.init_args.eval_size=64",
            "--data.init_args.num_workers=0", "--model.init_args.lr=1e-3"]  # fmt: skip
    main(["fit", "--config", str(configs / "knowledge.yaml"), "--config",
          str(configs / "experiments" / "knowledge" / "pretrained_r31.yaml"), *fast])  # fmt: skip
    checkpoint = next((tmp_path / "outputs" / "knowledge").rglob("*.ckpt"))
    model = load_method(checkpoint)
    assert isinstance(model, KnowledgeTransfer) and model.net.decoder_kind == "pretrained_r31"
    tuned = model.net.decoder.state_dict()
    assert any(not torch.equal(v, shipped[k]) for k, v in tuned.items())
    assert max(float((v - shipped[k]).abs().max()) for k, v in tuned.items()) < 0.1  # one small step


@pytest.mark.shared_data
def test_small_library_passes_the_floor_only_with_the_pretrained_decoder(
    shared_images: Path, offline: None, tmp_path: Path, library_root: Path
) -> None:
    """A one-painting library and a photo, at 192 px, through the real CLI as a fresh clone runs it."""
    painting, photo = shared_images / "style" / "candy.jpg", shared_images / "content" / "brad_pitt.jpg"
    assert main(["library", "build", "--images", str(painting), "--name", "floor", "--style-size", "192",
                 "--quiet"]) == 0  # fmt: skip
    outputs = []
    for decoder in ("pretrained_r31", "kt"):
        out = tmp_path / decoder
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the kt decoder is untrained: that is the point
            code = main(["stylize", "--method", "knowledge", "--decoder", decoder, "--library", "floor",
                         "--content", str(photo), "--output", str(out), "--max-size", "192"])  # fmt: skip
        assert code == 0
        outputs.append(load_image(out / "brad_pitt__floor.png")[None])
    content = image_loader(192, "cpu")(photo)
    good, bad = quality_scores(torch.cat(outputs), content.expand(2, -1, -1, -1), load_image(painting)[None])
    assert good.passes(), good
    assert not bad.passes(), bad
