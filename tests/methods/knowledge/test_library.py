from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.data import load_image
from stylelab.methods.knowledge import library as library_module
from stylelab.methods.knowledge.encoder import EncoderSpec
from stylelab.methods.knowledge.index import HKMIndex
from stylelab.methods.knowledge.library import (
    BuildSettings,
    build_library,
    collect_image_files,
    combine_libraries,
    default_library_root,
    library_root,
    list_libraries,
    load_library,
    prepare_image,
    remove_library,
    window_boxes,
)
from stylelab.methods.knowledge.storage import LibraryError, LibraryFormatError, LibraryNotFoundError
from stylelab.ops import unfold_patches

from .conftest import RANDOM, write_pictures


def test_provenance_points_at_the_window_it_came_from(
    pictures: list[Path], small_settings: BuildSettings
) -> None:
    lib = build_library(pictures, "t", RANDOM, small_settings, progress=False)
    encoder = RANDOM.build()
    assert len(lib.images) == 2 and sum(im.kept for im in lib.images) == len(lib)
    assert 0 < len(lib) < sum(im.windows for im in lib.images)  # de-duplication removed something
    prepared = [prepare_image(load_image(path), 4, None) for path in pictures]
    feats = [encoder(picture[None], ["relu3_1"])["relu3_1"] for picture in prepared]
    for entry in torch.randperm(len(lib))[:20].tolist():
        image = lib.images[int(lib.image_index[entry])]
        picture, feat = prepared[int(lib.image_index[entry])], feats[int(lib.image_index[entry])]
        row, col = lib.grid_pos[entry].tolist()
        torch.testing.assert_close(lib.patches[entry], feat[0, :, row : row + 4, col : col + 4])
        info = lib.describe_entry(entry)
        assert info["image"] == image.file and info["grid"] == [row, col]
        assert info["box"] == [4 * row, 4 * col, 4 * row + 16, 4 * col + 16]
        # the stored source image is the encoded one
        assert torch.equal(lib.pixels[int(lib.image_index[entry])], (picture * 255).round().to(torch.uint8))


def test_receptive_field_of_relu3_1() -> None:
    # conv1_1..conv3_1 with two 2x2 pools: 24 px field, cells 4 px apart, cell 0 centred on 2.0
    assert EncoderSpec(layer="relu3_1").geometry() == (4, 2.0, 24)
    assert EncoderSpec(layer="relu3_2").geometry() == (4, 2.0, 32)
    boxes = window_boxes(EncoderSpec(), 4, 2, 3, 5, (512, 512))
    assert boxes["footprint"] == (24, 40, 40, 56)
    assert boxes["receptive_field"] == (14, 30, 50, 66)  # (2 + 24 - 12, 2 + 36 + 12) rows


def test_save_load_roundtrip_list_info_rm(pictures: list[Path], small_settings: BuildSettings,
                                          library_root: Path) -> None:  # fmt: skip
    lib = build_library(pictures[:1], "one", RANDOM, small_settings, progress=False)
    folder = lib.save()
    assert folder == library_root / "one" and library_root == library_module.library_root()
    back = load_library("one")
    assert torch.equal(back.patches, lib.patches) and torch.equal(back.grid_pos, lib.grid_pos)
    assert back.images == lib.images and torch.equal(back.pixels[0], lib.pixels[0])
    assert list_libraries() == ["one"]
    with pytest.raises(LibraryError, match="already exists"):
        lib.save()
    remove_library("one")
    assert list_libraries() == []
    with pytest.raises(LibraryNotFoundError, match="no library 'one'"):
        load_library("one")


def test_default_root_is_a_user_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STYLELAB_LIBRARIES", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert library_root() == default_library_root()
    assert str(default_library_root()).startswith(str(tmp_path)) or not default_library_root().is_absolute()
    assert library_root(tmp_path / "x") == tmp_path / "x"


def test_failed_build_leaves_the_existing_library_untouched(
    pictures: list[Path], small_settings: BuildSettings, library_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = build_library(pictures[:1], "keep", RANDOM, small_settings, progress=False)
    lib.save()
    before = {p.name: p.read_bytes() for p in (library_root / "keep").iterdir()}
    other = build_library(pictures[1:], "keep", RANDOM, small_settings, progress=False)

    def broken_manifest(path: object, document: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(library_module, "write_manifest", broken_manifest)
    with pytest.raises(OSError, match="disk full"):
        other.save(overwrite=True)
    after = {p.name: p.read_bytes() for p in (library_root / "keep").iterdir()}
    assert after == before
    assert [p.name for p in library_root.iterdir()] == ["keep"]  # no staging folder left behind


@pytest.mark.parametrize("truncate", [False, True], ids=["flipped", "truncated"])
@pytest.mark.parametrize(
    "damage", ["patches.safetensors", "images.safetensors", "index.safetensors", "library.json"]
)
def test_flipped_byte_anywhere_is_refused_naming_the_file(
    pictures: list[Path], small_settings: BuildSettings, library_root: Path, damage: str, truncate: bool
) -> None:
    lib = build_library(pictures[:1], "bad", RANDOM, small_settings, progress=False)
    lib.index_state = HKMIndex(k=3, depth=2).build(lib.patches).state()
    lib.save()
    path = library_root / "bad" / damage
    raw = bytearray(path.read_bytes())
    if truncate:
        raw = raw[: len(raw) - 7]
    else:
        raw[len(raw) // 2] ^= 0x04
    path.write_bytes(bytes(raw))
    with pytest.raises(LibraryFormatError, match=damage.replace(".", r"\.")):
        load_library("bad")


def test_bad_inputs_give_clear_errors(tmp_path: Path, small_settings: BuildSettings) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(LibraryError, match="no images"):
        collect_image_files(tmp_path / "empty")
    tiny = write_pictures(tmp_path / "tiny", [(12, 40)])
    with pytest.raises(LibraryError, match="pic_00.png.*smaller than one 4x4 window"):
        build_library(tiny, "x", RANDOM, small_settings, progress=False)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    with pytest.raises(LibraryError, match="broken.jpg"):
        build_library([broken], "x", RANDOM, small_settings, progress=False)
    with pytest.raises(LibraryError, match="invalid library name"):
        build_library(tiny, "../escape", RANDOM, small_settings, progress=False)


def test_combined_libraries_keep_provenance_and_refuse_other_layers(
    pictures: list[Path], small_settings: BuildSettings
) -> None:
    a = build_library(pictures[:1], "a", RANDOM, small_settings, progress=False)
    b = build_library(pictures[1:], "b", RANDOM, small_settings, progress=False)
    both = combine_libraries([a, b])
    assert len(both) == len(a) + len(b) and both.names == ["a", "b"]
    last = len(both) - 1
    assert both.describe_entry(last)["library"] == "b"
    assert both.describe_entry(last)["image"] == b.images[0].file
    torch.testing.assert_close(both.patches[last], b.patches[-1])
    deeper = build_library(pictures[1:], "c", EncoderSpec(weights=None, layer="relu3_2"), small_settings,
                           progress=False)  # fmt: skip
    with pytest.raises(LibraryError, match="relu3_2.*relu3_1"):
        combine_libraries([a, deeper])


def test_unfold_order_matches_grid_positions() -> None:
    feat = torch.arange(2 * 6 * 7, dtype=torch.float32).view(1, 2, 6, 7)
    patches = unfold_patches(feat, 4, 1, allow_uncovered=True)[0]
    gw = 7 - 4 + 1
    for index in (0, 3, 5, 11):
        row, col = divmod(index, gw)
        assert torch.equal(patches[index], feat[0, :, row : row + 4, col : col + 4])
