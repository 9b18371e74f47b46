"""Every YAML in configs/ goes through the real CLI (``stylelab fit ... --trainer.fast_dev_run``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylelab.backbones import WeightsNotFoundError
from stylelab.cli import main

from .conftest import CONFIGS, FAST

METHOD_CONFIGS = sorted(p for p in CONFIGS.glob("*.yaml") if p.name != "demo.yaml")
DATA_CONFIGS = sorted((CONFIGS / "data").glob("*.yaml"))


@pytest.mark.parametrize("config", METHOD_CONFIGS, ids=lambda p: p.stem)
def test_method_config_fast_dev_run(config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        main(["fit", "--config", str(config), *FAST, "--trainer.fast_dev_run=true"])
    except WeightsNotFoundError as error:  # e.g. VGG-16 loss networks without ../shared/data or internet
        pytest.skip(f"{config.name} needs weights that are not available here: {str(error).splitlines()[0]}")


@pytest.mark.parametrize("config", DATA_CONFIGS, ids=lambda p: p.stem)
def test_data_config_fast_dev_run(config: Path, dataset_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(dataset_tree)
    main(["fit", "--config", str(CONFIGS / "adain.yaml"), "--config", str(config), *FAST,
          "--trainer.fast_dev_run=true"])  # fmt: skip


def test_demo_overrides_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(CONFIGS / "adain.yaml"), "--config", str(CONFIGS / "demo.yaml"), *FAST,
          "--trainer.fast_dev_run=true"])  # fmt: skip


def test_print_config_and_unknown_keys(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["fit", "--config", str(CONFIGS / "adain.yaml"), "--print_config"])
    assert done.value.code == 0
    printed = capsys.readouterr().out
    assert "class_path: stylelab.methods.AdaIN" in printed
    assert "style_weight: 10.0" in printed

    with pytest.raises(SystemExit) as bad:
        main(["fit", "--config", str(CONFIGS / "adain.yaml"), "--model.init_args.style_wieght=3"])
    assert bad.value.code != 0
    assert "style_wieght" in capsys.readouterr().err

    with pytest.raises(SystemExit):
        main(["fit", "--config", str(CONFIGS / "adain.yaml"), "--model.init_args.lr=fast"])
    assert "lr" in capsys.readouterr().err


def test_short_class_names_resolve(tmp_path: Path) -> None:
    config = tmp_path / "short.yaml"
    config.write_text("model:\n  class_path: AdaIN\n  init_args: {encoder_weights: null}\n"
                      "data:\n  class_path: StyleTransferDataModule\n")  # fmt: skip
    from stylelab.cli import run_lightning_cli
    from stylelab.methods import AdaIN

    cli = run_lightning_cli(["--config", str(config), "--trainer.logger=false"], run=False)
    assert isinstance(cli.model, AdaIN)
