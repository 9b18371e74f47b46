"""Download and unpack dataset archives (atomic, checksummed, safe against path traversal)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from tqdm.auto import tqdm

from stylelab.utils.io import atomic_write

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(
    url: str, destination: str | os.PathLike[str], *, sha256: str | None = None, progress: bool = True
) -> Path:
    """Fetch ``url`` to ``destination`` atomically; skip when a file with the right checksum is there.

    Args:
        url: ``http(s)://`` or ``file://`` address.
        destination: Target file; parent folders are created.
        sha256: Expected hex digest; checked after download (and before skipping an existing file).
        progress: Show a progress bar.

    Returns:
        The destination path.

    Raises:
        OSError: Network or disk failure (the message names the URL).
        ValueError: Checksum mismatch (the partial file is not kept).
    """
    target = Path(destination)
    if target.is_file() and (sha256 is None or sha256_of(target) == sha256):
        log.info("%s already present, not downloading", target)
        return target
    try:
        with urllib.request.urlopen(url) as response, atomic_write(target, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
    except OSError as error:
        raise OSError(
            f"could not download {url} to {target}: {error}. See data/README.md to fetch it by hand."
        ) from error
    if sha256 is not None:
        actual = sha256_of(target)
        if actual != sha256:
            target.unlink()
            raise ValueError(f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}")
    return target


def extract_archive(archive: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Unpack a ``.zip`` or ``.tar[.gz|.bz2|.xz]`` archive, refusing members that escape the folder.

    Args:
        archive: The archive file.
        destination: Folder to unpack into (created).

    Returns:
        The destination folder.

    Raises:
        ValueError: Unknown archive type, or a member with an absolute path or ``..``.
    """
    source, target = Path(archive), Path(destination)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as bundle:
            for member in bundle.infolist():
                out = (root / member.filename).resolve()
                if out != root and root not in out.parents:
                    raise ValueError(f"archive member {member.filename!r} would be written outside {root}")
                if member.is_dir():
                    out.mkdir(parents=True, exist_ok=True)
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
        return target
    if tarfile.is_tarfile(source):
        with tarfile.open(source) as bundle:
            bundle.extractall(target, filter="data")  # "data" filter rejects absolute paths, .., links out
        return target
    raise ValueError(f"{source} is neither a zip nor a tar archive")
