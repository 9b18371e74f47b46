"""Safe, versioned, checksummed on-disk format for knowledge libraries and their search indexes.

A library is a folder holding

* ``library.json`` - metadata (format name and version, encoder, window, provenance of every source
  image, the sha256 of each tensor file) and a ``checksum`` over its own canonical JSON;
* ``*.safetensors`` - tensors only (no pickle, nothing executable).

Everything is verified on load: a truncated file, a flipped byte anywhere, a tensor file swapped
for another one, or a future format version gives a :class:`LibraryFormatError` naming the file.

Tensor files are written by :func:`write_safetensors`, a streaming writer of the public safetensors
layout (8-byte little-endian header length, JSON header, raw little-endian data) that hashes while
it writes, so a large library is never held twice in memory. They are read back with the
``safetensors`` package itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from stylelab.utils.io import atomic_save_text, atomic_write

FORMAT_NAME = "stylelab-knowledge-library"
FORMAT_VERSION = 1
_CHUNK = 1 << 24  # 16 MiB per write/hash update

_DTYPES: dict[torch.dtype, str] = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


class LibraryError(ValueError):
    """A knowledge library (or a request about one) is invalid; the message names the file."""


class LibraryNotFoundError(LibraryError, FileNotFoundError):
    """No library of that name exists under the library root."""


class LibraryFormatError(LibraryError):
    """A library file is truncated, corrupted, of an unknown version, or inconsistent."""


def write_safetensors(
    path: str | os.PathLike[str], tensors: Mapping[str, Tensor], metadata: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Write ``tensors`` as a safetensors file, atomically, and return its size and sha256.

    Args:
        path: Destination file.
        tensors: Name -> CPU tensor (made contiguous; any dtype of :data:`_DTYPES`).
        metadata: Optional string -> string metadata stored in the header.

    Returns:
        ``{"bytes": int, "sha256": str}`` of the written file.

    Raises:
        TypeError: A tensor has an unsupported dtype.
    """
    arrays: dict[str, np.ndarray] = {}
    header: dict[str, Any] = {}
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        if tensor.dtype not in _DTYPES:
            raise TypeError(f"cannot store tensor {name!r} of dtype {tensor.dtype}")
        array = tensor.view(torch.uint8).numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
        nbytes = array.nbytes
        header[name] = {"dtype": _DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + nbytes]}  # fmt: skip
        arrays[name] = array
        offset += nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * ((-len(blob)) % 8)  # safetensors aligns the data on 8 bytes
    digest = hashlib.sha256()
    size = 0
    with atomic_write(path, "wb") as handle:
        for part in (len(blob).to_bytes(8, "little"), blob):
            handle.write(part)
            digest.update(part)
            size += len(part)
        for name in sorted(arrays):
            flat = memoryview(np.ascontiguousarray(arrays[name]).reshape(-1).view(np.uint8))
            for start in range(0, len(flat), _CHUNK):
                chunk = flat[start : start + _CHUNK]
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_safetensors(
    path: str | os.PathLike[str], expected: Mapping[str, Any] | None = None
) -> dict[str, Tensor]:
    """Read a safetensors file after checking its size and sha256.

    Args:
        path: The file.
        expected: ``{"bytes", "sha256"}`` recorded when it was written (``None``: no check).

    Returns:
        Name -> CPU tensor.

    Raises:
        LibraryFormatError: Missing, wrong size, wrong checksum, or unreadable header.
    """
    from safetensors.torch import load_file

    file = Path(path)
    if not file.is_file():
        raise LibraryFormatError(f"{file}: file is missing; the library is incomplete (rebuild it)")
    if expected is not None:
        size = file.stat().st_size
        if size != int(expected["bytes"]):
            raise LibraryFormatError(
                f"{file}: {size} bytes where {expected['bytes']} were written; the file is truncated or "
                "was replaced (rebuild the library)"
            )
        digest = file_sha256(file)
        if digest != expected["sha256"]:
            raise LibraryFormatError(
                f"{file}: sha256 {digest[:16]}... does not match the recorded "
                f"{str(expected['sha256'])[:16]}...; the file is corrupted (rebuild the library)"
            )
    try:
        return load_file(str(file), device="cpu")
    except Exception as error:  # noqa: BLE001 - any parse failure is a format error
        raise LibraryFormatError(f"{file}: not a readable safetensors file ({error})") from error


def _canonical(document: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "checksum"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def write_manifest(path: str | os.PathLike[str], document: Mapping[str, Any]) -> None:
    """Write a metadata JSON with format name/version and a self-checksum, atomically.

    Args:
        path: Destination (``library.json``).
        document: JSON-serialisable metadata; ``format``, ``version`` and ``checksum`` are set here.
    """
    body = dict(document)
    body["format"] = FORMAT_NAME
    body["version"] = FORMAT_VERSION
    body["checksum"] = hashlib.sha256(_canonical(body)).hexdigest()
    atomic_save_text(path, json.dumps(body, indent=1, sort_keys=True) + "\n")


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and verify a metadata JSON written by :func:`write_manifest`.

    Raises:
        LibraryNotFoundError: The file does not exist.
        LibraryFormatError: Not JSON, not a stylelab library, an unsupported version, or a checksum
            mismatch (the file was edited or corrupted).
    """
    file = Path(path)
    if not file.is_file():
        raise LibraryNotFoundError(f"{file}: no such library manifest")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LibraryFormatError(f"{file}: not valid JSON ({error}); the manifest is corrupted") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise LibraryFormatError(f"{file}: not a stylelab knowledge library manifest")
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise LibraryFormatError(
            f"{file}: library format version {version!r}, this stylelab reads version {FORMAT_VERSION}; "
            "rebuild the library with this version"
        )
    checksum = hashlib.sha256(_canonical(document)).hexdigest()
    if document.get("checksum") != checksum:
        raise LibraryFormatError(f"{file}: manifest checksum mismatch; the file was edited or corrupted")
    return document
