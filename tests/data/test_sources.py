from __future__ import annotations

import logging
import zipfile

import numpy as np
import pytest
import torch
from jsonargparse import ArgumentParser

from stylelab.data import (
    COCO,
    EmptySourceError,
    HFDataset,
    ImageFolder,
    ImageSource,
    PairedFolder,
    UnreadableImageError,
    WikiArt,
    load_image,
)


def test_image_folder_recursive_sorted_hidden_ignored(images):
    images.rgb("b.jpg")
    images.rgb("a.PNG")
    images.rgb("sub/c.jpeg")
    images.rgb(".hidden.jpg")
    images.rgb("._a.jpg")
    images.rgb(".cache/d.jpg")
    images.text("notes.txt")
    source = ImageFolder(images.root)
    assert source.keys() == ["a.PNG", "b.jpg", "sub/c.jpeg"]
    assert len(source) == 3 and source.load(2).shape == (3, 24, 32)
    assert ImageFolder(images.root, recursive=False).keys() == ["a.PNG", "b.jpg"]
    assert ImageFolder(images.root, extensions=["JPG"]).keys() == ["b.jpg"]


def test_image_folder_is_lazy_and_errors_are_clear(tmp_path):
    source = ImageFolder(tmp_path / "missing")  # building never touches the disk
    with pytest.raises(FileNotFoundError, match="missing"):
        source.paths()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(EmptySourceError) as info:
        ImageFolder(tmp_path / "empty").paths()
    assert "empty" in str(info.value) and ".jpg" in str(info.value) and ".png" in str(info.value)


def test_coco_layout(images):
    for i in range(3):
        images.rgb(f"coco/train2014/COCO_train2014_{i:012d}.jpg", seed=i)
    images.text("coco/annotations/captions_train2014.json", b"{}")
    source = COCO(images.root / "coco", split="train2014")
    assert source.keys() == [f"COCO_train2014_{i:012d}.jpg" for i in range(3)]
    with pytest.raises(FileNotFoundError, match="README"):
        COCO(images.root / "coco", split="train2017").paths()


def test_coco_download_from_local_archive(images, tmp_path):
    archive = tmp_path / "val2014.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for i in range(2):
            bundle.write(images.rgb(f"staging/{i}.jpg", seed=i), f"val2014/{i}.jpg")
    root = tmp_path / "coco"
    source = COCO(root, split="val2014", download=True, url=tmp_path.as_uri() + "/{split}.zip")
    source.prepare()
    assert source.keys() == ["0.jpg", "1.jpg"] and not (root / "val2014.zip").exists()
    source.prepare()  # already there: no-op


def test_wikiart_recursive_and_split_file(images, tmp_path, caplog):
    for name in ["Impressionism/monet_a.jpg", "Impressionism/monet_b.jpg", "Cubism/picasso_c.jpg"]:
        images.rgb(f"wikiart/{name}")
    root = images.root / "wikiart"
    assert WikiArt(root).keys() == [
        "Cubism/picasso_c.jpg",
        "Impressionism/monet_a.jpg",
        "Impressionism/monet_b.jpg",
    ]
    headerless = tmp_path / "style_train.csv"
    headerless.write_text("Impressionism/monet_b.jpg,12\nCubism/picasso_c.jpg,7\nCubism/gone.jpg,7\n")
    with caplog.at_level(logging.WARNING):
        assert WikiArt(root, split_file=str(headerless)).keys() == [
            "Cubism/picasso_c.jpg",
            "Impressionism/monet_b.jpg",
        ]
    assert "1 of 3 files" in caplog.text
    with_header = tmp_path / "all_data_info.csv"
    with_header.write_text("artist,style,new_filename\nmonet,Impressionism,monet_a.jpg\n")
    assert WikiArt(root, split_file=str(with_header)).keys() == ["Impressionism/monet_a.jpg"]


def test_hf_imagefolder_offline(images, tmp_path):
    for i in range(3):
        images.rgb(f"hf/part/{i}.png", seed=i)
    images.text("hf/broken.png")
    source = HFDataset("imagefolder", data_dir=str(images.root / "hf"), cache_dir=str(tmp_path / "cache"))
    assert source.keys() == ["broken.png", "part/0.png", "part/1.png", "part/2.png"]
    assert source.paths()[1] == str(images.root / "hf/part/0.png")
    for index in (1, 2, 3):
        assert torch.equal(source.load(index), load_image(source.paths()[index]))
    with pytest.raises(UnreadableImageError):
        source.load(0)
    with pytest.raises(ValueError, match="available columns"):
        HFDataset(
            "imagefolder", data_dir=str(images.root / "hf"), image_column="img", cache_dir=str(tmp_path)
        ).paths()


def _pst(images, with_masks=True):
    for stem in ["p1", "p2", "p3"]:
        images.rgb(f"pst/content/{stem}.jpg", 40, 30)
        images.rgb(f"pst/style/{stem}.jpg", 36, 24)
        if with_masks:
            mask = np.zeros((30, 40, 3), np.uint8)
            mask[:, 20:] = (0, 0, 255)
            images.array(f"pst/content_seg/{stem}.png", mask)
            images.array(f"pst/style_seg/{stem}.png", np.full((24, 36, 3), 255, np.uint8))
    images.rgb("pst/content/lonely.jpg")
    images.rgb("pst/style/p9.jpg")


def test_paired_folder_matches_stems_and_reports_unmatched(images, caplog):
    _pst(images)
    images.array("pst/content_seg/extra.png", np.zeros((4, 4, 3), np.uint8))
    source = PairedFolder(images.root / "pst", content_mask_dir="content_seg", style_mask_dir="style_seg")
    with caplog.at_level(logging.WARNING):
        pairs = source.pairs()
    assert [p.key for p in pairs] == ["p1", "p2", "p3"]
    assert pairs[0].content.endswith("content/p1.jpg") and pairs[0].style_mask.endswith("style_seg/p1.png")
    assert {role: [p.rsplit("/", 1)[-1] for p in paths] for role, paths in source.unmatched.items()} == {
        "content": ["lonely.jpg"],
        "style": ["p9.jpg"],
        "content_mask": ["extra.png"],
    }
    assert "lonely.jpg" in caplog.text
    assert source.content_source().keys() == ["content/p1.jpg", "content/p2.jpg", "content/p3.jpg"]


def test_paired_folder_without_masks_and_prefixes(images):
    for i in (1, 2):
        images.rgb(f"dpst/input/in{i}.png")
        images.rgb(f"dpst/style/tar{i}.png")
        images.array(f"dpst/segmentation/in{i}.png", np.zeros((24, 32, 3), np.uint8))
        images.array(f"dpst/segmentation/tar{i}.png", np.zeros((24, 32, 3), np.uint8))
    source = PairedFolder(
        images.root / "dpst",
        "input",
        "style",
        "segmentation",
        "segmentation",
        content_prefix="in",
        style_prefix="tar",
    )
    assert source.keys() == ["1", "2"] and source.has_masks and not source.unmatched
    assert source.pairs()[1].style_mask.endswith("segmentation/tar2.png")
    plain = PairedFolder(images.root / "dpst", "input", "style", content_prefix="in", style_prefix="tar")
    assert not plain.has_masks and plain.pairs()[0].content_mask is None
    with pytest.raises(ValueError, match="both"):
        PairedFolder(images.root / "dpst", "input", "style", content_mask_dir="segmentation").pairs()
    with pytest.raises(EmptySourceError):
        PairedFolder(images.root / "dpst", "input", "style").pairs()  # no common stem without prefixes


def test_sources_build_from_class_path_config(images):
    images.rgb("folder/x.jpg")
    parser = ArgumentParser(exit_on_error=False)
    parser.add_argument("--source", type=ImageSource)
    config = parser.parse_object(
        {
            "source": {
                "class_path": "stylelab.data.ImageFolder",
                "init_args": {"root": str(images.root / "folder")},
            }
        }
    )
    source = parser.instantiate(config).source
    assert isinstance(source, ImageFolder) and source.keys() == ["x.jpg"]
