from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from stylelab.cli import main
from stylelab.methods.knowledge import KnowledgeTransfer

from .conftest import write_pictures


def _build(images: Path, name: str, *extra: str) -> int:
    return main(["library", "build", "--images", str(images), "--name", name, "--weights", "none",
                 "--style-size", "native", "--clusters", "3", "--quiet", *extra])  # fmt: skip


def test_library_commands(tmp_path: Path, library_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = tmp_path / "styles"
    write_pictures(images, [(48, 56), (40, 40)])
    assert _build(images, "mine") == 0
    assert "library 'mine'" in capsys.readouterr().out
    assert (library_root / "mine" / "library.json").is_file()
    main(["library", "list"])
    assert "mine:" in capsys.readouterr().out
    main(["library", "info", "mine"])
    out = capsys.readouterr().out
    assert "pic_00.png" in out and "stored tree: K=3" in out
    assert main(["library", "verify", "mine"]) == 0
    # a second build under the same name is refused and leaves the library as it was
    before = (library_root / "mine" / "patches.safetensors").read_bytes()
    assert _build(images / "pic_01.png", "mine") == 2
    assert "already exists" in capsys.readouterr().err
    assert (library_root / "mine" / "patches.safetensors").read_bytes() == before
    # a failed --force rebuild (an image smaller than one window) names the file and keeps the library
    write_pictures(tmp_path / "tiny", [(12, 40)])
    assert _build(tmp_path / "tiny", "mine", "--force") == 2
    err = capsys.readouterr().err
    assert "pic_00.png" in err and "smaller than one 4x4 window" in err
    assert (library_root / "mine" / "patches.safetensors").read_bytes() == before
    assert sorted(p.name for p in library_root.iterdir()) == ["mine"]  # no staging folder left
    # an empty folder is a clear error naming the folder and writes nothing
    (tmp_path / "empty").mkdir()
    assert _build(tmp_path / "empty", "void") == 2
    err = capsys.readouterr().err
    assert "no images" in err and str(tmp_path / "empty") in err and not (library_root / "void").exists()
    # a flipped byte is refused, naming the file
    path = library_root / "mine" / "patches.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x10
    path.write_bytes(bytes(raw))
    assert main(["library", "verify", "mine"]) == 2
    assert "patches.safetensors" in capsys.readouterr().err
    assert main(["library", "rm", "mine"]) == 0
    assert not (library_root / "mine").exists()


def test_stylize_with_backtracking(
    tmp_path: Path, library_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = tmp_path / "styles"
    write_pictures(images, [(48, 56)])
    assert _build(images, "lib") == 0
    content = write_pictures(tmp_path / "content", [(36, 44)], seed=5)[0]
    model = KnowledgeTransfer(encoder_weights=None, probes=2)
    model.decoder_steps += 1  # "trained": no warning
    checkpoint = tmp_path / "kt.ckpt"
    torch.save({"stylelab_method": "knowledge", "hyper_parameters": dict(model.hparams),
                "state_dict": model.state_dict()}, checkpoint)  # fmt: skip
    out, trace = tmp_path / "out", tmp_path / "trace"
    code = main(["stylize", "--checkpoint", str(checkpoint), "--content", str(content), "--output", str(out),
                 "--library", "lib", "--swap", "geometric", "--probes", "2/3",
                 "--backtrack", str(trace)])  # fmt: skip
    assert code == 0
    assert Image.open(out / "pic_00__lib.png").size == (44, 36)
    record = json.loads((trace / "pic_00__lib.json").read_text())
    assert (
        record["library"] == "lib"
        and record["search"].startswith("3-bhkm LL+LH+HL K=10 depth 2, p=2/3")
        and record["swap"] == "geometric"
    )
    assert (
        len(record["patches"]) == record["grid"][0] * record["grid"][1] == 4 * 5
    )  # 40x48 padded -> 10x12 map
    assert record["patches"][0]["source"]["image"] == "pic_00.png"
    assert Image.open(trace / "pic_00__lib_links.png").size[0] > 44
    # a library of another layer is refused with the library's file name
    assert main(["library", "build", "--images", str(images), "--name", "deep", "--weights", "none",
                 "--layer", "relu3_2", "--style-size", "native", "--no-index", "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["stylize", "--checkpoint", str(checkpoint), "--content", str(content), "--output", str(out),
                 "--library", "deep"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert re.search(r"deep/library\.json.*relu3_2", err) and len(err.strip().splitlines()) == 1


@pytest.mark.shared_data
def test_real_library_and_stylize_method(
    shared_images: Path,
    shared_weights: Path,
    tmp_path: Path,
    library_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STYLELAB_WEIGHTS", str(shared_weights))
    style = shared_images / "style" / "mosaic.jpg"
    assert main(["library", "build", "--images", str(style), "--name", "mosaic", "--style-size", "96",
                 "--quiet"]) == 0  # fmt: skip
    content = shared_images / "content" / "brad_pitt.jpg"
    out, trace = tmp_path / "out", tmp_path / "trace"
    with pytest.warns(UserWarning, match="untrained"):
        code = main(["stylize", "--method", "knowledge", "--decoder", "kt", "--content", str(content),
                     "--output", str(out), "--max-size", "96", "--library", "mosaic",
                     "--backtrack", str(trace)])  # fmt: skip
    assert code == 0
    record = json.loads((trace / "brad_pitt__mosaic.json").read_text())
    assert record["source_images_used"] == ["mosaic.jpg"] and 0.3 < record["mean_similarity"] <= 1.0
