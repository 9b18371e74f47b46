from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pytest

from stylelab.data import download_file, extract_archive


def test_download_file_from_local_url_with_checksum(tmp_path):
    source = tmp_path / "blob.bin"
    source.write_bytes(b"stylelab" * 100)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    target = download_file(source.as_uri(), tmp_path / "out" / "blob.bin", sha256=digest, progress=False)
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(ValueError, match="checksum"):
        download_file(source.as_uri(), tmp_path / "bad.bin", sha256="0" * 64, progress=False)
    assert not (tmp_path / "bad.bin").exists()
    with pytest.raises(OSError, match="README"):
        download_file((tmp_path / "missing.bin").as_uri(), tmp_path / "m.bin", progress=False)


def test_extract_zip_and_tar(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("split/x.txt", "x")
    assert (extract_archive(archive, tmp_path / "z") / "split" / "x.txt").read_text() == "x"
    tar_path = tmp_path / "a.tar.gz"
    with tarfile.open(tar_path, "w:gz") as bundle:
        info = tarfile.TarInfo("split/y.txt")
        info.size = 1
        bundle.addfile(info, io.BytesIO(b"y"))
    assert (extract_archive(tar_path, tmp_path / "t") / "split" / "y.txt").read_text() == "y"


def test_extract_refuses_path_traversal(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../escaped.txt", "no")
    with pytest.raises(ValueError, match="outside"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(ValueError, match="neither"):
        extract_archive(tmp_path / "plain.txt", tmp_path / "out")
