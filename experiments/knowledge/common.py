"""Shared pieces of the knowledge-transfer experiments: real images, the nine libraries, content crops.

The shared data folder is found through ``$STYLELAB_SHARED_DATA`` (weights through ``$STYLELAB_WEIGHTS``,
default ``$STYLELAB_SHARED_DATA/weights``). Per-image libraries are built once (reference-code settings:
shorter side 512, 4x4 windows, stride 1, NCC 0.9 per image) and cached under
``outputs/knowledge/libraries`` (override with ``$STYLELAB_LIBRARIES``); the nine libraries of one to
three images are combinations of them, exactly what building them from scratch would give because the
reference code de-duplicates per image. The shared-data folder, image loading and report headers come from
:mod:`stylelab.reproduce` (``common.shared_images`` is :func:`stylelab.reproduce.images.shared_images`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import torch

from stylelab.methods.knowledge import EncoderSpec, KnowledgeLibrary, build_library, combine_libraries
from stylelab.methods.knowledge.library import BuildSettings, list_libraries, load_library
from stylelab.reproduce.images import load_square, shared_images

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports" / "knowledge"
CACHE = REPO / "outputs" / "knowledge" / "libraries"

#: Six artworks of the shared data (varied texture and colour).
STYLES = [
    "candy.jpg",
    "mosaic.jpg",
    "starry_night_crop.jpg",
    "la_muse.jpg",
    "brushstrokes.jpg",
    "composition_vii.jpg",
]
#: Nine libraries of one to three images (paper Table 1/2: "9 libraries containing 1-3 images").
LIBRARIES = {
    "candy": ["candy"],
    "mosaic": ["mosaic"],
    "starry": ["starry_night_crop"],
    "candy+mosaic": ["candy", "mosaic"],
    "muse+brush": ["la_muse", "brushstrokes"],
    "starry+comp": ["starry_night_crop", "composition_vii"],
    "candy+mosaic+starry": ["candy", "mosaic", "starry_night_crop"],
    "muse+brush+comp": ["la_muse", "brushstrokes", "composition_vii"],
    "candy+muse+comp": ["candy", "la_muse", "composition_vii"],
}
CONTENTS = ["brad_pitt.jpg", "avril.jpg", "blonde_girl.jpg"]
#: Held-out tuning set for the search target: three other artworks and other photos, none of them in
#: :data:`STYLES` or :data:`CONTENTS`, so a setting chosen on them is not tuned on the reported check.
TUNING_STYLES = ["feathers.jpg", "frida_kahlo.jpg", "woman_in_peasant_dress.jpg"]
TUNING_CONTENTS = ["newyork.jpg", "coral_cat.jpg"]


def parse_config(text: str) -> tuple[int, int, int | tuple[int, ...], int]:
    """``"K,depth,probes[,rerank]"`` with per-level probes as ``"8/16"`` -> ``(K, depth, probes, rerank)``."""
    parts = text.split(",")
    if len(parts) not in (3, 4):
        raise ValueError(f"expected K,depth,probes[,rerank]; got {text!r}")
    widths = tuple(int(v) for v in parts[2].split("/"))
    probes: int | tuple[int, ...] = widths[0] if len(widths) == 1 else widths
    return int(parts[0]), int(parts[1]), probes, int(parts[3]) if len(parts) == 4 else 0


def config_label(k: int, depth: int, probes: int | tuple[int, ...], rerank: int) -> str:
    """``3-BHKM K=32 d=2 p=8/16 rr=8`` (rr = full-vector re-ranking, omitted when 0)."""
    p = str(probes) if isinstance(probes, int) else "/".join(map(str, probes))
    return f"3-BHKM K={k} d={depth} p={p}" + (f" rr={rerank}" if rerank else "")


def library_cache() -> Path:
    """Library root of the experiments."""
    root = Path(os.environ.get("STYLELAB_LIBRARIES") or CACHE)
    os.environ["STYLELAB_LIBRARIES"] = str(root)
    return root


def per_image_libraries(
    spec: EncoderSpec | None = None, progress: bool = True, files: list[str] | None = None
) -> dict[str, KnowledgeLibrary]:
    """One library per style image (default :data:`STYLES`), built (and saved) on first use."""
    images = shared_images()
    root = library_cache()
    spec = spec or EncoderSpec()
    encoder = spec.build()
    out = {}
    for file in files or STYLES:
        name = Path(file).stem
        if name not in list_libraries(root):
            lib = build_library(
                [images / "style" / file],
                name,
                spec,
                BuildSettings(),
                progress=progress,
                encoder_module=encoder,
            )
            lib.save(root)
        out[name] = load_library(name, root)
    return out


def nine_libraries(progress: bool = True) -> Iterator[tuple[str, KnowledgeLibrary]]:
    """The nine libraries of :data:`LIBRARIES` (combinations of the per-image ones), one at a time.

    Yielded lazily so that only one combined library is in memory at once.
    """
    single = per_image_libraries(progress=progress)
    for name, parts in LIBRARIES.items():
        yield name, combine_libraries([single[p] for p in parts], name)


def library(name: str) -> KnowledgeLibrary:
    """One of the nine libraries by name."""
    single = per_image_libraries(progress=False)
    return combine_libraries([single[p] for p in LIBRARIES[name]], name)


def tuning_library() -> KnowledgeLibrary:
    """The held-out three-image library of :data:`TUNING_STYLES`."""
    single = per_image_libraries(progress=False, files=TUNING_STYLES)
    return combine_libraries(list(single.values()), "tuning (feathers+frida+peasant)")


def content_crop(file: str, size: int = 512) -> torch.Tensor:
    """A content photo resized (shorter side ``size``) and centre-cropped to ``(1, 3, size, size)``."""
    return load_square(shared_images() / "content" / file, size)
