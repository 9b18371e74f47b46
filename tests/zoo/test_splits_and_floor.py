"""The zoo's fixed split and the floor verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylelab.zoo.floor import floor_summary
from stylelab.zoo.splits import HELD_OUT_PAINTINGS, HELD_OUT_PHOTOS, ZooSplit, split_files


def test_split_is_disjoint_and_complete(shared_data: Path) -> None:
    for kind, held in (("photos", HELD_OUT_PHOTOS), ("paintings", HELD_OUT_PAINTINGS)):
        train = split_files(kind, "train", shared_data)
        held_out = split_files(kind, "held_out", shared_data)
        assert sorted(p.name for p in held_out) == sorted(held)  # every listed file exists
        assert not {p.name for p in train} & set(held)
        assert all(p.is_file() for p in train)
    assert len(split_files("paintings", "train", shared_data)) == 26 - len(HELD_OUT_PAINTINGS)


def test_zoo_split_source_names(shared_data: Path) -> None:
    source = ZooSplit("paintings", names=["candy.jpg", "feathers.jpg"], shared=str(shared_data))
    assert [Path(p).name for p in source.paths()] == ["candy.jpg", "feathers.jpg"]
    with pytest.raises(ValueError, match="are not train paintings"):
        ZooSplit("paintings", names=["mosaic.jpg"], shared=str(shared_data)).paths()  # held out


def test_missing_shared_data_names_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLELAB_SHARED_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="STYLELAB_SHARED_DATA"):
        split_files("photos", "train")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")  # ../shared/data beside the working folder is not looked at
    (tmp_path / "shared" / "data" / "images" / "style").mkdir(parents=True)
    monkeypatch.delenv("STYLELAB_SHARED_DATA")
    with pytest.raises(FileNotFoundError, match="nowhere: STYLELAB_SHARED_DATA is not set"):
        split_files("photos", "train")


def _row(ssim: float, ratio: float, lpips: float | None = 0.3) -> dict[str, object]:
    return {"ssim": ssim, "lpips": lpips, "style_ratio": ratio, "style_loss": 1.0, "content_style_loss": 1.0}


def test_floor_verdicts() -> None:
    assert floor_summary([_row(0.5, 0.5), _row(0.4, 0.8)], "transfer")["passes"]
    assert not floor_summary([_row(0.5, 0.95), _row(0.4, 0.9)], "transfer")["passes"]  # keeps no style
    assert not floor_summary([_row(0.2, 0.5), _row(0.3, 0.5)], "transfer")["passes"]  # loses the content
    assert floor_summary([_row(0.5, 1.2, 0.2)], "own_styles")["passes"]  # ratio is not part of that floor
    assert not floor_summary([_row(0.5, 0.5, 0.1)], "own_styles")["passes"]  # too close to the content
    assert not floor_summary([_row(0.5, 0.5, None)], "own_styles")["passes"]  # LPIPS unavailable: no pass
    summary = floor_summary([_row(0.5, 0.5), _row(0.1, 0.5)], "transfer")
    assert summary["pass_fraction"] == 0.5 and summary["pairs"] == 2
