"""Backtracking (paper Sec. 5.1, Fig. 4 and Fig. 14): where every output patch's knowledge came from.

For each content window the search returned a library entry; the library knows that entry's source
image (file name and sha256), grid position and pixel boxes. :func:`backtrack_record` turns a
:class:`~stylelab.methods.knowledge.model.Matches` into a JSON-ready record, :func:`draw_links`
draws the Fig. 14-style picture: the content image beside its source images, a line from each
(sampled) content patch to the library patch it received, and the enlarged patch pair on the line.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import torch
from PIL import Image, ImageDraw
from torch import Tensor

from stylelab.data.image_io import tensor_to_pil
from stylelab.methods.knowledge.library import KnowledgeLibrary, window_boxes
from stylelab.methods.knowledge.model import Matches
from stylelab.utils.io import atomic_save_text, atomic_write


def backtrack_record(
    matches: Matches,
    library: KnowledgeLibrary,
    batch_index: int = 0,
    content_name: str = "",
    content_size: tuple[int, int] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Provenance of every output patch of one image.

    Args:
        matches: Search result of a batch.
        library: The library searched.
        batch_index: Which image of the batch.
        content_name: Content file name (informative).
        content_size: ``(H, W)`` of the content before padding (boxes are clipped to it).
        extra: More top-level fields (search method, swap ...).

    Returns:
        ``{"content", "content_size", "library", "grid", "window", "stride", "patches": [...]}``;
        each patch has its grid position, content box and receptive field, the cosine similarity
        and ``"source"`` = :meth:`KnowledgeLibrary.describe_entry` of its match.
    """
    size = content_size or matches.image_size
    gh, gw = matches.grid
    entries = matches.indices[batch_index].tolist()
    sims = matches.similarity[batch_index].tolist()
    cache: dict[int, dict[str, Any]] = {}
    patches = []
    for position, (entry, sim) in enumerate(zip(entries, sims, strict=True)):
        row, col = divmod(position, gw)
        boxes = window_boxes(library.encoder, matches.window, matches.stride, row, col, size)
        if entry not in cache:
            cache[entry] = library.describe_entry(entry)
        patches.append({
            "patch": position, "grid": [row, col], "content_box": list(boxes["footprint"]),
            "content_receptive_field": list(boxes["receptive_field"]), "similarity": round(float(sim), 6),
            "source": cache[entry],
        })  # fmt: skip
    used = sorted({cache[e]["image"] for e in cache})
    return {
        "content": content_name,
        "content_size": list(size),
        "library": library.name,
        "libraries": library.names,
        "encoder": library.encoder.to_json(),
        "window": matches.window,
        "stride": matches.stride,
        "grid": [gh, gw],
        "mean_similarity": round(sum(sims) / max(1, len(sims)), 6),
        "source_images_used": used,
        **(extra or {}),
        "patches": patches,
    }


def save_record(record: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a backtracking record as JSON (atomically)."""
    atomic_save_text(path, json.dumps(record, indent=1) + "\n")


def _pick(record: dict[str, Any], links: int) -> list[dict[str, Any]]:
    """``links`` patches spread evenly over the content grid."""
    gh, gw = record["grid"]
    side = max(1, int(math.sqrt(links)))
    rows = sorted({round(r * (gh - 1) / max(1, side - 1)) for r in range(side)}) if gh > 1 else [0]
    cols = sorted({round(c * (gw - 1) / max(1, side - 1)) for c in range(side)}) if gw > 1 else [0]
    return [record["patches"][r * gw + c] for r in rows for c in cols][:links]


def draw_links(
    content: Tensor,
    record: dict[str, Any],
    library: KnowledgeLibrary,
    path: str | os.PathLike[str],
    links: int = 36,
    height: int = 512,
) -> Image.Image:
    """Draw the Fig. 14-style backtracking picture and save it (PNG, atomically).

    Args:
        content: ``(3, H, W)`` RGB [0, 1] content image (unpadded).
        record: From :func:`backtrack_record`.
        library: The library (its stored source images are drawn; without them a grey box is).
        path: Output file.
        links: How many content patches to link (spread over the image).
        height: Height of the content panel in pixels.

    Returns:
        The picture.
    """
    chosen = _pick(record, links)
    scale = height / content.shape[-2]
    left = tensor_to_pil(content).resize((max(1, round(content.shape[-1] * scale)), height))
    used = list(dict.fromkeys((p["source"]["library"], p["source"]["image"]) for p in chosen))
    lookup = {(im.library or library.name, im.file): i for i, im in enumerate(library.images)}
    panel_h = max(64, height // max(1, len(used)))
    sources: list[tuple[Image.Image, float]] = []
    for key in used:
        i = lookup[key]
        size = library.images[i].size
        if library.pixels and library.pixels[i].numel():
            picture = tensor_to_pil(library.pixels[i].float() / 255.0)
        else:
            picture = Image.new("RGB", (size[1], size[0]), (128, 128, 128))
        s = panel_h / size[0]
        sources.append((picture.resize((max(1, round(size[1] * s)), panel_h)), s))
    gap = max(160, height // 2)
    width = left.width + gap + max((p.width for p, _ in sources), default=0)
    canvas = Image.new("RGB", (width, max(height, panel_h * len(sources))), (255, 255, 255))
    canvas.paste(left, (0, 0))
    offsets = {}
    for n, (key, (picture, s)) in enumerate(zip(used, sources, strict=True)):
        offsets[key] = (left.width + gap, n * panel_h, s, picture)
        canvas.paste(picture, (left.width + gap, n * panel_h))
    draw = ImageDraw.Draw(canvas)
    inset = max(24, gap // 4)
    for patch in chosen:
        t, lft, b, r = patch["content_box"]
        c_box = (lft * scale, t * scale, r * scale, b * scale)
        src = patch["source"]
        ox, oy, s, picture = offsets[(src["library"], src["image"])]
        st, sl, sb, sr = src["box"]
        s_local = (sl * s, st * s, sr * s, sb * s)
        s_box = (ox + s_local[0], oy + s_local[1], ox + s_local[2], oy + s_local[3])
        a = ((c_box[0] + c_box[2]) / 2, (c_box[1] + c_box[3]) / 2)
        z = ((s_box[0] + s_box[2]) / 2, (s_box[1] + s_box[3]) / 2)
        draw.line([a, z], fill=(220, 20, 20), width=1)
        draw.rectangle(c_box, outline=(255, 230, 0))
        draw.rectangle(s_box, outline=(255, 230, 0))
        # enlarged patch pair on the line (content | source)
        c_crop = left.crop(tuple(round(v) for v in c_box)).resize((inset, inset), Image.NEAREST)
        src_pic = picture.crop(tuple(round(v) for v in s_local)).resize((inset, inset), Image.NEAREST)
        mx, my = (a[0] + z[0]) / 2, (a[1] + z[1]) / 2
        canvas.paste(c_crop, (round(mx - inset), round(my - inset / 2)))
        canvas.paste(src_pic, (round(mx), round(my - inset / 2)))
    with atomic_write(path, "wb") as handle:
        canvas.save(handle, format="PNG")
    return canvas


def similarity_map(matches: Matches, batch_index: int = 0) -> Tensor:
    """Per-window similarity as a ``(gh, gw)`` map (for plots)."""
    return matches.similarity[batch_index].view(*matches.grid).detach().cpu().to(torch.float32)
