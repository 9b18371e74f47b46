from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from stylelab.methods.knowledge.storage import (
    LibraryFormatError,
    LibraryNotFoundError,
    read_manifest,
    read_safetensors,
    write_manifest,
    write_safetensors,
)


def test_streaming_writer_is_read_by_the_reference_package(tmp_path: Path) -> None:
    tensors = {
        "a": torch.randn(3, 5, 7),
        "b": torch.arange(11, dtype=torch.int64),
        "c": torch.randint(0, 255, (2, 3), dtype=torch.uint8),
        "d": torch.tensor([True, False, True]),
        "e": torch.randn(4, 3).to(torch.bfloat16),
    }
    info = write_safetensors(tmp_path / "x.safetensors", tensors, metadata={"k": "v"})
    loaded = load_file(str(tmp_path / "x.safetensors"))
    assert set(loaded) == set(tensors)
    for key, value in tensors.items():
        assert loaded[key].dtype == value.dtype and torch.equal(loaded[key], value)
    assert info["bytes"] == (tmp_path / "x.safetensors").stat().st_size
    assert read_safetensors(tmp_path / "x.safetensors", info)["b"].tolist() == list(range(11))


@pytest.mark.parametrize("where", ["header", "data", "truncate"])
def test_damaged_tensor_file_is_refused_with_its_name(tmp_path: Path, where: str) -> None:
    path = tmp_path / "p.safetensors"
    info = write_safetensors(path, {"w": torch.randn(64, 64)})
    raw = bytearray(path.read_bytes())
    if where == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[20 if where == "header" else len(raw) - 100] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(LibraryFormatError, match="p.safetensors"):
        read_safetensors(path, info)


def test_manifest_checksum_catches_any_edit(tmp_path: Path) -> None:
    path = tmp_path / "library.json"
    write_manifest(path, {"name": "x", "num_patches": 3})
    assert read_manifest(path)["num_patches"] == 3
    document = json.loads(path.read_text())
    document["num_patches"] = 4  # valid JSON, wrong content
    path.write_text(json.dumps(document))
    with pytest.raises(LibraryFormatError, match="checksum"):
        read_manifest(path)
    document["version"] = 99
    path.write_text(json.dumps(document))
    with pytest.raises(LibraryFormatError, match="version"):
        read_manifest(path)
    path.write_text("{not json")
    with pytest.raises(LibraryFormatError, match="library.json"):
        read_manifest(path)
    with pytest.raises(LibraryNotFoundError):
        read_manifest(tmp_path / "missing.json")
