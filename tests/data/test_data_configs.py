from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
from jsonargparse import ActionConfigFile, ArgumentParser

from stylelab.data import (
    COCO,
    GeneratedTextures,
    HFDataset,
    ImageFolder,
    PairedFolder,
    SkimagePhotos,
    StyleTransferDataModule,
    WikiArt,
)

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "data"


def _instantiate(name: str, *overrides: str) -> StyleTransferDataModule:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_argument("--config", action=ActionConfigFile)
    parser.add_subclass_arguments(L.LightningDataModule, "data")  # as LightningCLI(subclass_mode_data=True)
    config = parser.parse_args(["--config", str(CONFIGS / f"{name}.yaml"), *overrides])
    return parser.instantiate(config).data


@pytest.mark.parametrize(
    ("name", "content", "style"),
    [
        ("embedded", SkimagePhotos, GeneratedTextures),
        ("coco_wikiart", COCO, WikiArt),
        ("folders", ImageFolder, ImageFolder),
        ("hf_imagefolder", HFDataset, HFDataset),
        ("pst", type(None), type(None)),
    ],
)
def test_config_instantiates(name, content, style):
    dm = _instantiate(name)
    assert isinstance(dm, StyleTransferDataModule)
    assert isinstance(dm.content, content) and isinstance(dm.style, style)
    assert isinstance(dm.pairs, PairedFolder) == (name == "pst")


def test_coco_wikiart_roots_are_placeholders():
    dm = _instantiate("coco_wikiart")
    assert Path(dm.content.root) == Path("data/coco/train2014") and dm.style.root == "data/wikiart"


def test_embedded_config_serves_data():
    dm = _instantiate("embedded", "--data.init_args.load_size=40", "--data.init_args.crop_size=32")
    dm.setup("fit")
    assert len(dm.train_dataloader()) == 8  # samples_per_epoch 64 / batch 8
    assert len(dm.eval_pairs("val")) >= 1 and len(dm.eval_pairs("test")) >= 1


def test_folders_config_with_override(images):
    for role in ("content", "style"):
        for i in range(3):
            images.rgb(f"{role}/{i}.jpg", seed=i)
    dm = _instantiate(
        "folders",
        f"--data.init_args.content.init_args.root={images.root / 'content'}",
        f"--data.init_args.style.init_args.root={images.root / 'style'}",
        "--data.init_args.num_workers=0",
        "--data.init_args.load_size=32",
        "--data.init_args.crop_size=16",
    )
    dm.setup("fit")
    assert next(iter(dm.train_dataloader()))["content"].shape == (1, 3, 16, 16)
