"""Knowledge libraries: patches of encoder features with the provenance of every patch.

Building (paper Sec. 3.3, reference code defaults): each image is resized (shorter side
``style_size``, 512) and cropped to a multiple of the feature stride, encoded, cut into ``window x
window`` patches with ``stride`` (4 and 1), de-duplicated by NCC (0.9, see :mod:`.dedup`), and the
surviving patches are stored with their source image (file name, sha256), grid position and pixel
boxes. Libraries live under a root folder (``$STYLELAB_LIBRARIES`` or a per-user data folder), one
sub-folder per name, and several can be combined into one at search time (the paper's GPKL).

Example:
    >>> lib = build_library(paths, "monet", EncoderSpec())
    >>> lib.save()                       # $STYLELAB_LIBRARIES/monet/
    >>> gpkl = combine_libraries([load_library("monet"), load_library("hdr")])
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from stylelab.data.errors import UnreadableImageError
from stylelab.data.image_io import IMAGE_EXTENSIONS, load_image
from stylelab.data.transforms import resize_shorter
from stylelab.methods.knowledge.dedup import DedupRule, dedup_mask
from stylelab.methods.knowledge.encoder import EncoderSpec
from stylelab.methods.knowledge.storage import (
    LibraryError,
    LibraryFormatError,
    LibraryNotFoundError,
    file_sha256,
    read_manifest,
    read_safetensors,
    write_manifest,
    write_safetensors,
)
from stylelab.ops import patch_grid_shape, unfold_patches

LIBRARIES_ENV = "STYLELAB_LIBRARIES"
MANIFEST = "library.json"
PATCHES_FILE = "patches.safetensors"
IMAGES_FILE = "images.safetensors"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$")

Box = tuple[int, int, int, int]
"""Pixel box ``(top, left, bottom, right)``, bottom/right exclusive."""


# --------------------------------------------------------------------------------------------- root
def default_library_root() -> Path:
    r"""Per-user data folder for libraries (no third-party dependency).

    Linux/BSD: ``$XDG_DATA_HOME/stylelab/libraries`` (default ``~/.local/share``); macOS:
    ``~/Library/Application Support/stylelab/libraries``; Windows: ``%LOCALAPPDATA%\\stylelab\\libraries``.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "stylelab" / "libraries"


def library_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The library root: ``root``, else ``$STYLELAB_LIBRARIES``, else :func:`default_library_root`."""
    if root is not None:
        return Path(root)
    env = os.environ.get(LIBRARIES_ENV)
    return Path(env) if env else default_library_root()


def check_name(name: str) -> str:
    """Validate a library name (letters, digits, ``_ . + -``; no path separators).

    Raises:
        LibraryError: The name is not usable as a folder name.
    """
    if not _NAME.match(name or ""):
        raise LibraryError(
            f"invalid library name {name!r}: use 1-100 letters, digits, '_', '.', '+' or '-', starting "
            "with a letter or digit"
        )
    return name


# ------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class SourceImage:
    """One image a library was built from.

    Attributes:
        file: File name (no folder).
        sha256: Hex digest of the file's bytes.
        original_size: ``(H, W)`` of the file.
        size: ``(H, W)`` after resizing and cropping, as encoded; boxes are in these pixels.
        grid: ``(gh, gw)`` window positions on its feature map.
        windows: ``gh * gw`` patches before de-duplication.
        kept: Patches kept.
        library: Name of the library it belongs to.
        path: Path given at build time (informative only; the library does not need the file).
    """

    file: str
    sha256: str
    original_size: tuple[int, int]
    size: tuple[int, int]
    grid: tuple[int, int]
    windows: int
    kept: int
    library: str = ""
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"file": self.file, "sha256": self.sha256, "original_size": list(self.original_size),
                "size": list(self.size), "grid": list(self.grid), "windows": self.windows,
                "kept": self.kept, "library": self.library, "path": self.path}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceImage:
        """Inverse of :meth:`to_json`."""
        return cls(
            file=str(data["file"]), sha256=str(data["sha256"]),
            original_size=(int(data["original_size"][0]), int(data["original_size"][1])),
            size=(int(data["size"][0]), int(data["size"][1])),
            grid=(int(data["grid"][0]), int(data["grid"][1])), windows=int(data["windows"]),
            kept=int(data["kept"]), library=str(data.get("library", "")), path=str(data.get("path", "")),
        )  # fmt: skip


@dataclass
class BuildSettings:
    """How a library was built (recorded in its manifest).

    Attributes:
        window: Window side on the feature map (code: 4, i.e. ``kernel_size * 2``).
        stride: Window stride at build time (code: 1).
        style_size: Shorter side images are resized to (code: 512); ``None`` keeps the file's size.
        dedup_threshold: NCC above which a patch is a duplicate (0.9); ``>= 1`` disables removal.
        dedup_rule: ``"earlier"`` (code) or ``"kept"`` (greedy).
    """

    window: int = 4
    stride: int = 1
    style_size: int | None = 512
    dedup_threshold: float = 0.9
    dedup_rule: DedupRule = "earlier"

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"window": self.window, "stride": self.stride, "style_size": self.style_size,
                "dedup_threshold": self.dedup_threshold, "dedup_rule": self.dedup_rule}  # fmt: skip


@dataclass
class KnowledgeLibrary:
    """Patches with provenance, in memory.

    Attributes:
        name: Library name (combined libraries: names joined with ``+``).
        encoder: Features the patches come from.
        settings: Build settings.
        patches: ``(N, C, window, window)`` float32.
        image_index: ``(N,)`` int64, row of :attr:`images` each patch comes from.
        grid_pos: ``(N, 2)`` int64, ``(row, col)`` of the window on that image's grid.
        images: Source images.
        pixels: Per image, ``(3, h, w)`` uint8 as encoded (for backtracking pictures); may be empty.
        index_state: Stored search-index tensors and parameters, if any (see :mod:`.index`).
        path: Folder it was loaded from, if any.
    """

    name: str
    encoder: EncoderSpec
    settings: BuildSettings
    patches: Tensor
    image_index: Tensor
    grid_pos: Tensor
    images: list[SourceImage]
    pixels: list[Tensor] = field(default_factory=list)
    index_state: tuple[dict[str, Any], dict[str, Tensor]] | None = None
    path: Path | None = None

    def __len__(self) -> int:
        """Number of patches."""
        return int(self.patches.shape[0])

    @property
    def vectors(self) -> Tensor:
        """Patches flattened to ``(N, D)`` (a view)."""
        return self.patches.flatten(1)

    @property
    def names(self) -> list[str]:
        """Names of the libraries combined into this one (in order)."""
        return list(dict.fromkeys(image.library or self.name for image in self.images))

    @property
    def jump(self) -> int:
        """Pixels between neighbouring feature cells."""
        return self.encoder.geometry()[0]

    # ---------------------------------------------------------------------- provenance
    def boxes(self, entry: int) -> dict[str, Box]:
        """Pixel boxes of library entry ``entry`` in its (resized) source image.

        Returns:
            ``{"footprint": (t, l, b, r), "receptive_field": (t, l, b, r)}``: the window's own
            ``jump * window`` pixel square, and the (clipped) region the encoder actually saw.
        """
        image = self.images[int(self.image_index[entry])]
        row, col = (int(v) for v in self.grid_pos[entry])
        return window_boxes(self.encoder, self.settings.window, self.settings.stride, row, col, image.size)

    def describe_entry(self, entry: int) -> dict[str, Any]:
        """Provenance of one patch: library, source file and hash, grid position and boxes."""
        image = self.images[int(self.image_index[entry])]
        row, col = (int(v) for v in self.grid_pos[entry])
        boxes = self.boxes(entry)
        scale_h = image.original_size[0] / image.size[0]
        scale_w = image.original_size[1] / image.size[1]
        t, left, b, r = boxes["footprint"]
        return {
            "entry": int(entry),
            "library": image.library or self.name,
            "image": image.file,
            "image_sha256": image.sha256,
            "grid": [row, col],
            "box": list(boxes["footprint"]),
            "receptive_field": list(boxes["receptive_field"]),
            "box_original": [
                round(t * scale_h),
                round(left * scale_w),
                round(b * scale_h),
                round(r * scale_w),
            ],
        }

    # ---------------------------------------------------------------------- persistence
    def manifest(self, files: dict[str, Any]) -> dict[str, Any]:
        """The JSON metadata written beside the tensor files."""
        return {
            "name": self.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "encoder": self.encoder.to_json(),
            "settings": self.settings.to_json(),
            "num_patches": len(self),
            "patch_shape": list(self.patches.shape[1:]),
            "images": [image.to_json() for image in self.images],
            "files": files,
            "index": self.index_state[0] if self.index_state else None,
        }

    def save(self, root: str | os.PathLike[str] | None = None, overwrite: bool = False) -> Path:
        """Write the library to ``<root>/<name>/`` atomically.

        Everything is written into a hidden temporary folder first and moved into place only when
        complete; an existing library of the same name is replaced only with ``overwrite`` and only
        after the new one is fully written.

        Args:
            root: Library root (see :func:`library_root`).
            overwrite: Replace an existing library of this name.

        Returns:
            The library folder.

        Raises:
            LibraryError: The name exists and ``overwrite`` is False, or the name is invalid.
        """
        check_name(self.name)
        base = library_root(root)
        target = base / self.name
        if target.exists() and not overwrite:
            raise LibraryError(
                f"library {self.name!r} already exists at {target}; pass --force to replace it"
            )
        base.mkdir(parents=True, exist_ok=True)
        staging = base / f".{self.name}.{os.getpid()}.{time.time_ns()}.building"
        staging.mkdir()  # default permissions (umask), unlike mkdtemp's 0700
        try:
            files = {
                PATCHES_FILE: write_safetensors(
                    staging / PATCHES_FILE,
                    {
                        "patches": self.patches.float(),
                        "image_index": self.image_index.long(),
                        "grid_pos": self.grid_pos.long(),
                    },  # fmt: skip
                )
            }
            if self.pixels:
                files[IMAGES_FILE] = write_safetensors(
                    staging / IMAGES_FILE, {f"image_{i:05d}": p for i, p in enumerate(self.pixels)}
                )
            if self.index_state is not None:
                meta, tensors = self.index_state
                files[meta["file"]] = write_safetensors(staging / meta["file"], tensors)
            write_manifest(staging / MANIFEST, self.manifest(files))
            _apply_umask(staging)
            if target.exists():
                trash = base / f".{self.name}.{os.getpid()}.{time.time_ns()}.old"
                os.replace(target, trash)
                os.replace(staging, target)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.path = target
        return target


def _apply_umask(folder: Path) -> None:
    """Give the files of ``folder`` the permissions the umask allows (atomic writes create them 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~mask)


def window_boxes(
    encoder: EncoderSpec, window: int, stride: int, row: int, col: int, size: tuple[int, int]
) -> dict[str, Box]:
    """Pixel footprint and receptive field of the window at grid ``(row, col)``.

    Args:
        encoder: Feature geometry.
        window: Window side in feature cells.
        stride: Window stride in feature cells.
        row: Grid row.
        col: Grid column.
        size: ``(H, W)`` of the encoded image (boxes are clipped to it).

    Returns:
        ``{"footprint": box, "receptive_field": box}`` as ``(top, left, bottom, right)``.
    """
    jump, start, rf = encoder.geometry()
    top, left = row * stride * jump, col * stride * jump
    footprint = (top, left, min(size[0], top + window * jump), min(size[1], left + window * jump))
    r0, c0 = row * stride, col * stride
    half = rf / 2.0

    def span(first: int, limit: int) -> tuple[int, int]:
        lo = start + first * jump - half
        hi = start + (first + window - 1) * jump + half
        return max(0, int(round(lo))), min(limit, int(round(hi)))

    (t, b), (lft, r) = span(r0, size[0]), span(c0, size[1])
    return {"footprint": footprint, "receptive_field": (t, lft, b, r)}


# ------------------------------------------------------------------------------------ building
def collect_image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted).

    Raises:
        LibraryError: The folder does not exist or holds no image.
    """
    base = Path(folder)
    if base.is_file():
        return [base]
    if not base.is_dir():
        raise LibraryError(f"image folder {base} does not exist")
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise LibraryError(
            f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {base}; nothing to build a library from"
        )
    return files


def prepare_image(image: Tensor, jump: int, style_size: int | None) -> Tensor:
    """Resize (shorter side ``style_size``) and crop (top-left) to a multiple of ``jump``.

    Args:
        image: ``(3, H, W)`` RGB [0, 1].
        jump: Feature stride in pixels.
        style_size: Shorter side after resizing; ``None`` keeps the size.

    Returns:
        ``(3, h, w)`` with ``h`` and ``w`` multiples of ``jump``.
    """
    if style_size is not None:
        image = resize_shorter(image, style_size)
    h, w = image.shape[-2:]
    return image[:, : h - h % jump, : w - w % jump]


def image_patches(
    encoder: torch.nn.Module, spec: EncoderSpec, image: Tensor, window: int, stride: int
) -> tuple[Tensor, tuple[int, int]]:
    """Encode one prepared image and cut its feature map into windows (raster order).

    Args:
        encoder: The frozen encoder of ``spec``.
        spec: Its spec (for the layer name).
        image: ``(3, h, w)`` RGB [0, 1] on the encoder's device.
        window: Window side.
        stride: Window stride.

    Returns:
        ``((P, C, window, window), (gh, gw))``.
    """
    with torch.no_grad():
        feat = encoder(image[None], [spec.layer])[spec.layer]
    grid = patch_grid_shape(feat.shape[-2], feat.shape[-1], window, stride)
    # unfold gives a transposed view; rows (patches) contiguous make the block products and gathers fast
    return unfold_patches(feat, window, stride, allow_uncovered=True)[0].contiguous(), grid


def build_library(
    files: Sequence[str | os.PathLike[str]],
    name: str,
    encoder: EncoderSpec | None = None,
    settings: BuildSettings | None = None,
    *,
    device: str | torch.device = "cpu",
    block_size: int = 1024,
    keep_pixels: bool = True,
    progress: bool = True,
    encoder_module: torch.nn.Module | None = None,
) -> KnowledgeLibrary:
    """Build a library in memory from image files (nothing is written; call :meth:`KnowledgeLibrary.save`).

    Args:
        files: Image files (see :func:`collect_image_files` for a folder).
        name: Library name.
        encoder: Feature spec (default :class:`EncoderSpec`).
        settings: Window, stride, resizing and de-duplication (default :class:`BuildSettings`).
        device: Where to encode and de-duplicate.
        block_size: Rows per similarity block in de-duplication (memory bound).
        keep_pixels: Keep the encoded images for backtracking pictures.
        progress: Show progress bars (images, de-duplication rows).
        encoder_module: An already built encoder for ``encoder`` (avoids reloading weights).

    Returns:
        The library.

    Raises:
        LibraryError: No files, an unreadable file, or an image smaller than one window (the
            message names the file).
    """
    check_name(name)
    encoder = encoder or EncoderSpec()
    settings = settings or BuildSettings()
    if settings.window < 1 or settings.stride < 1:
        raise LibraryError(f"window and stride must be >= 1; got {settings.window} and {settings.stride}")
    if not files:
        raise LibraryError(f"no image files given for library {name!r}")
    net = (encoder_module or encoder.build()).to(device).eval()
    jump = encoder.geometry()[0]
    min_side = settings.window * jump
    patches: list[Tensor] = []
    image_index: list[Tensor] = []
    grid_pos: list[Tensor] = []
    images: list[SourceImage] = []
    pixels: list[Tensor] = []
    bar = tqdm(files, desc=f"library {name}", unit="image", disable=not progress)
    for i, file in enumerate(bar):
        path = Path(file)
        try:
            original = load_image(path)
        except UnreadableImageError as error:
            raise LibraryError(f"cannot read {path}: {error}") from error
        oh, ow = original.shape[-2:]
        if min(oh, ow) < min_side:
            raise LibraryError(
                f"{path} is {oh}x{ow} pixels, smaller than one {settings.window}x{settings.window} window of "
                f"{spec_text(encoder)} features ({min_side}x{min_side} pixels); remove it or use a larger "
                "image"
            )
        prepared = prepare_image(original, jump, settings.style_size)
        if min(prepared.shape[-2:]) < min_side:
            raise LibraryError(
                f"{path} becomes {tuple(prepared.shape[-2:])} pixels after resizing to style_size="
                f"{settings.style_size}, smaller than one window ({min_side} pixels)"
            )
        cand, grid = image_patches(net, encoder, prepared.to(device), settings.window, settings.stride)
        dedup_bar = tqdm(total=cand.shape[0], desc=f"dedup {path.name}", unit="patch", leave=False,
                         disable=not progress)  # fmt: skip
        keep = dedup_mask(cand.flatten(1), settings.dedup_threshold, settings.dedup_rule, block_size,
                          progress=dedup_bar.update)  # fmt: skip
        dedup_bar.close()
        index = torch.nonzero(keep).flatten()
        patches.append(cand[index].cpu())
        del cand
        index = index.cpu()
        image_index.append(torch.full((index.numel(),), i, dtype=torch.long))
        grid_pos.append(torch.stack([index // grid[1], index % grid[1]], dim=1))
        images.append(
            SourceImage(
                file=path.name, sha256=file_sha256(path), original_size=(oh, ow),
                size=(int(prepared.shape[-2]), int(prepared.shape[-1])), grid=grid,
                windows=grid[0] * grid[1], kept=int(index.numel()), library=name, path=str(path),
            )
        )  # fmt: skip
        if keep_pixels:
            pixels.append((prepared * 255.0).round().to(torch.uint8).cpu())
        bar.set_postfix(patches=sum(p.shape[0] for p in patches))
    return KnowledgeLibrary(
        name=name, encoder=encoder, settings=settings, patches=torch.cat(patches),
        image_index=torch.cat(image_index), grid_pos=torch.cat(grid_pos), images=images, pixels=pixels,
    )  # fmt: skip


def spec_text(encoder: EncoderSpec) -> str:
    """Short description used in messages."""
    return encoder.describe()


# ------------------------------------------------------------------------------------- loading
def library_path(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Folder of library ``name`` (not checked for existence)."""
    return library_root(root) / check_name(name)


def load_library(
    name: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, *, pixels: bool = True
) -> KnowledgeLibrary:
    """Load and verify a library by name (under the root) or by folder path.

    Every file's size and sha256 are checked against the manifest, and the tensors against each
    other, before anything is returned.

    Args:
        name: Library name, or a path to a library folder.
        root: Library root for names.
        pixels: Also load the stored source images (needed for backtracking pictures only).

    Returns:
        The library.

    Raises:
        LibraryNotFoundError: No such library (the message lists the available ones).
        LibraryFormatError: A file is missing, truncated, corrupted or inconsistent (names the file).
    """
    folder = Path(name)
    if not (folder.is_dir() and (folder / MANIFEST).exists()):
        folder = library_path(str(name), root)
        if not (folder / MANIFEST).exists():
            available = ", ".join(list_libraries(root)) or "none"
            raise LibraryNotFoundError(
                f"no library {str(name)!r} under {library_root(root)} (available: {available}); build one "
                "with `stylelab library build --images DIR --name NAME` or set $STYLELAB_LIBRARIES"
            )
    manifest = read_manifest(folder / MANIFEST)
    files = manifest.get("files", {})
    if PATCHES_FILE not in files:
        raise LibraryFormatError(f"{folder / MANIFEST}: lists no {PATCHES_FILE}")
    tensors = read_safetensors(folder / PATCHES_FILE, files[PATCHES_FILE])
    try:
        encoder = EncoderSpec.from_json(manifest["encoder"])
        settings = BuildSettings(**manifest["settings"])
        images = [SourceImage.from_json(item) for item in manifest["images"]]
        patches, image_index, grid_pos = tensors["patches"], tensors["image_index"], tensors["grid_pos"]
    except (KeyError, TypeError, ValueError) as error:
        raise LibraryFormatError(f"{folder}: manifest or tensors lack an entry ({error})") from error
    count = int(manifest.get("num_patches", -1))
    consistent = (
        patches.dim() == 4 and patches.shape[0] == count == image_index.shape[0] == grid_pos.shape[0]
        and list(patches.shape[1:]) == list(manifest.get("patch_shape", []))
        and (count == 0 or (int(image_index.min()) >= 0 and int(image_index.max()) < len(images)))
        and sum(image.kept for image in images) == count
    )  # fmt: skip
    if not consistent:
        raise LibraryFormatError(
            f"{folder / PATCHES_FILE}: tensors do not match the manifest {folder / MANIFEST}"
        )
    stored_pixels: list[Tensor] = []
    if pixels and IMAGES_FILE in files:
        image_tensors = read_safetensors(folder / IMAGES_FILE, files[IMAGES_FILE])
        stored_pixels = [image_tensors[f"image_{i:05d}"] for i in range(len(images))]
    index_state = None
    meta = manifest.get("index")
    if meta:
        index_state = (meta, read_safetensors(folder / meta["file"], files.get(meta["file"])))
    return KnowledgeLibrary(
        name=str(manifest["name"]), encoder=encoder, settings=settings, patches=patches.float(),
        image_index=image_index.long(), grid_pos=grid_pos.long(), images=images, pixels=stored_pixels,
        index_state=index_state, path=folder,
    )  # fmt: skip


def list_libraries(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the libraries under the root (folders holding a manifest), sorted."""
    base = library_root(root)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / MANIFEST).is_file())  # fmt: skip


def library_info(name: str, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The verified manifest of a library plus its folder and total size on disk."""
    folder = library_path(name, root)
    manifest = read_manifest(folder / MANIFEST)
    manifest["folder"] = str(folder)
    manifest["disk_bytes"] = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    return manifest


def remove_library(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Delete a library folder.

    Raises:
        LibraryNotFoundError: No such library.
    """
    folder = library_path(name, root)
    if not (folder / MANIFEST).is_file():
        raise LibraryNotFoundError(f"no library {name!r} under {library_root(root)}")
    trash = folder.with_name(f".{name}.{os.getpid()}.{time.time_ns()}.removing")
    os.replace(folder, trash)
    shutil.rmtree(trash)
    return folder


def combine_libraries(libraries: Sequence[KnowledgeLibrary], name: str | None = None) -> KnowledgeLibrary:
    """Concatenate libraries (the paper's general-purpose library), keeping each patch's provenance.

    Args:
        libraries: Libraries built with the same encoder and window.
        name: Name of the result (default: names joined with ``+``).

    Returns:
        One library; its :attr:`KnowledgeLibrary.images` keep their original library names. A stored
        search index is not carried over (the combined index is built on demand).

    Raises:
        LibraryError: Empty list, or the libraries use different encoders or windows.
    """
    if not libraries:
        raise LibraryError("no libraries to combine")
    if len(libraries) == 1:
        return libraries[0]
    first = libraries[0]
    for lib in libraries[1:]:
        where = str(lib.path / MANIFEST) if lib.path else f"library {lib.name!r}"
        first.encoder.check_compatible(lib.encoder, where)
        if lib.settings.window != first.settings.window or lib.patches.shape[1:] != first.patches.shape[1:]:
            raise LibraryError(
                f"{where} uses {lib.settings.window}x{lib.settings.window} windows of shape "
                f"{tuple(lib.patches.shape[1:])}, {first.name!r} {tuple(first.patches.shape[1:])}; cannot "
                "combine"
            )
    offsets, images, pixels = [], [], []
    for lib in libraries:
        offsets.append(len(images))
        images += [replace(image, library=image.library or lib.name) for image in lib.images]
        pixels += lib.pixels if len(lib.pixels) == len(lib.images) else [torch.empty(0)] * len(lib.images)
    return KnowledgeLibrary(
        name=name or "+".join(lib.name for lib in libraries), encoder=first.encoder, settings=first.settings,
        patches=torch.cat([lib.patches for lib in libraries]),
        image_index=torch.cat([lib.image_index + off for lib, off in zip(libraries, offsets, strict=True)]),
        grid_pos=torch.cat([lib.grid_pos for lib in libraries]), images=images,
        pixels=pixels if any(p.numel() for p in pixels) else [],
    )  # fmt: skip


def library_from_images(
    images: Sequence[Tensor],
    encoder_module: torch.nn.Module,
    encoder: EncoderSpec,
    settings: BuildSettings,
    name: str = "style",
    block_size: int = 1024,
) -> KnowledgeLibrary:
    """An in-memory library from image tensors (``stylize(content, style)`` without a named library).

    Args:
        images: Each ``(3, H, W)`` RGB [0, 1] on the encoder's device.
        encoder_module: The frozen encoder.
        encoder: Its spec.
        settings: Window, stride, resizing, de-duplication.
        name: Library name.
        block_size: De-duplication block size.

    Returns:
        The library (images named ``style_<i>``; hashes of the pixel data).
    """
    jump = encoder.geometry()[0]
    patches, index, grid_pos, records = [], [], [], []
    for i, image in enumerate(images):
        prepared = prepare_image(image, jump, settings.style_size)
        if min(prepared.shape[-2:]) < settings.window * jump:
            raise LibraryError(
                f"style image {i} is {tuple(image.shape[-2:])} pixels, smaller than one window "
                f"({settings.window * jump} pixels)"
            )
        cand, grid = image_patches(encoder_module, encoder, prepared, settings.window, settings.stride)
        keep = torch.nonzero(dedup_mask(cand.flatten(1), settings.dedup_threshold, settings.dedup_rule,
                                        block_size)).flatten()  # fmt: skip
        patches.append(cand[keep])
        keep = keep.cpu()
        index.append(torch.full((keep.numel(),), i, dtype=torch.long))
        grid_pos.append(torch.stack([keep // grid[1], keep % grid[1]], dim=1))
        digest = hashlib.sha256(image.detach().cpu().numpy().tobytes()).hexdigest()
        records.append(SourceImage(f"style_{i}", digest, tuple(image.shape[-2:]),  # type: ignore[arg-type]
                                   tuple(prepared.shape[-2:]), grid, grid[0] * grid[1], int(keep.numel()),
                                   name))  # fmt: skip
    return KnowledgeLibrary(
        name, encoder, settings, torch.cat(patches), torch.cat(index), torch.cat(grid_pos), records
    )
