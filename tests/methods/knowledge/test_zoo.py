"""KT zoo recipe (configs/zoo/knowledge.yaml), the stylize default that loads it, on-the-fly library reuse."""

from __future__ import annotations

import argparse
import re
import warnings
from pathlib import Path

import pytest
import torch

from stylelab import zoo
from stylelab.cli import main
from stylelab.methods import load_method
from stylelab.methods.knowledge import KnowledgeTransfer
from stylelab.methods.knowledge.module import PRETRAINED_R31_SETTINGS
from stylelab.zoo.checkpoint import export_zoo_checkpoint

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "zoo" / "knowledge.yaml"
SAVE_AT_STEP_2 = "{class_path: ModelCheckpoint, init_args: {dirpath: ckpt, every_n_train_steps: 2}}"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh clone's environment: no ``$STYLELAB_WEIGHTS``, no network."""
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")


def _options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    KnowledgeTransfer.add_stylize_arguments(parser)
    return parser.parse_args(list(argv))


def test_zoo_config_has_the_chosen_inference_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["fit", "--config", str(CONFIG), "--print_config"])
    assert done.value.code == 0
    printed = capsys.readouterr().out
    for key, value in {**PRETRAINED_R31_SETTINGS, "train_on_style": "true"}.items():
        assert re.search(rf"^\s+{key}: {value}\b", printed, re.MULTILINE), key


def test_zoo_config_fine_tunes_only_the_decoder(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ``stylelab fit`` steps (embedded sample, tiny crops): the decoder moves, nothing else; export."""
    monkeypatch.chdir(tmp_path)
    fast = ["--trainer.accelerator=cpu", "--trainer.logger=false", "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false", "--trainer.max_steps=2",
            f"--trainer.callbacks=[{SAVE_AT_STEP_2}]",
            "--data.init_args.content=null", "--data.init_args.style=null", "--data.init_args.load_size=48",
            "--data.init_args.crop_size=32", "--data.init_args.samples_per_epoch=4",
            "--model.init_args.lr=1e-3"]  # fmt: skip
    main(["fit", "--config", str(CONFIG), *fast])
    checkpoint = next(tmp_path.rglob("*.ckpt"))
    model = load_method(checkpoint)
    assert isinstance(model, KnowledgeTransfer) and int(model.decoder_steps) == 2
    assert all(model.hparams[k] == v for k, v in PRETRAINED_R31_SETTINGS.items())
    fresh = KnowledgeTransfer.pretrained_r31().state_dict()
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, fresh[k])}
    assert "decoder_steps" in changed and any(k.startswith("net.decoder.") for k in changed)
    assert all(k.startswith("net.decoder.") for k in changed - {"decoder_steps"})
    assert "fine-tuned 2 steps" in model.variant()
    info = export_zoo_checkpoint(checkpoint, tmp_path / "knowledge.safetensors")
    assert info["parameters"] == 1 + sum(p.numel() for p in model.net.decoder.parameters())


def test_stylize_default_loads_the_zoo_or_falls_back(offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    sentinel = object()

    def shipped(name: str, **overrides: object) -> object:
        asked.append(name)
        return sentinel

    def missing(name: str, **overrides: object) -> object:
        asked.append(name)
        raise FileNotFoundError(f"the model zoo has no {name} checkpoint")

    monkeypatch.setattr(zoo, "load_zoo_method", shipped)
    assert KnowledgeTransfer.from_stylize_options(_options()) is sentinel
    assert KnowledgeTransfer.from_stylize_options(_options("--decoder", "zoo")) is sentinel
    assert asked == ["knowledge", "knowledge"]
    untrained = KnowledgeTransfer.from_stylize_options(_options("--decoder", "pretrained_r31"))
    assert isinstance(untrained, KnowledgeTransfer) and asked == ["knowledge", "knowledge"]
    monkeypatch.setattr(zoo, "load_zoo_method", missing)
    fallback = KnowledgeTransfer.from_stylize_options(_options())
    assert asked[-1] == "knowledge" and isinstance(fallback, KnowledgeTransfer)
    assert all(fallback.hparams[k] == v for k, v in PRETRAINED_R31_SETTINGS.items())
    assert "pretrained relu3_1 decoder" in fallback.variant() and "fine-tuned" not in fallback.variant()


def test_on_the_fly_libraries_are_built_once_per_style(monkeypatch: pytest.MonkeyPatch) -> None:
    """The floor's photos x paintings: one library per painting; outputs equal the uncached path."""
    model = KnowledgeTransfer(encoder_weights=None, style_size=None).eval()
    g = torch.Generator().manual_seed(0)
    contents = [torch.rand(1, 3, 32, 32, generator=g) for _ in range(2)]
    styles = [torch.rand(1, 3, 36, 40, generator=g) for _ in range(2)]
    builds: list[tuple[int, ...]] = []
    build = model.library_from_images
    monkeypatch.setattr(model, "library_from_images", lambda s, *a: builds.append(tuple(s.shape)) or build(s))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the untrained decoder: the outputs still compare
        outputs = {(i, j): model.stylize(c, s) for i, c in enumerate(contents) for j, s in enumerate(styles)}
        assert len(builds) == 2  # 4 pairs, 2 styles
        for (i, j), out in outputs.items():
            expected = model.stylize_with_library(contents[i], build(styles[j]))[0]
            torch.testing.assert_close(out, expected)
        model.stylize(contents[0], styles[0].clone())  # same pixels, another tensor: still cached
        model.stylize(contents[0], styles[0], probes=2)  # another search: another entry
        model.style_cache_size = 0
        model.stylize(contents[0], styles[1])
    assert len(builds) == 4
    assert not torch.equal(outputs[0, 0], outputs[0, 1])
