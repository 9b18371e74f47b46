"""``stylelab library build|list|info|rm|verify``: manage knowledge libraries on disk."""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from stylelab.commands import Command, register_command
from stylelab.methods.knowledge.encoder import (
    DEFAULT_LAYER,
    DEFAULT_WEIGHTS,
    FALLBACK_WEIGHTS,
    EncoderSpec,
    resolve_encoder_weights,
)
from stylelab.methods.knowledge.index import unit_rows
from stylelab.methods.knowledge.library import (
    BuildSettings,
    build_library,
    check_name,
    collect_image_files,
    library_info,
    library_path,
    library_root,
    list_libraries,
    load_library,
    remove_library,
)
from stylelab.methods.knowledge.storage import LibraryError
from stylelab.methods.knowledge.tree import build_tree, faiss_gpu_available


def _none_or_int(value: str) -> int | None:
    return None if value.lower() in ("none", "native", "0") else int(value)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=None, help="library root (default: $STYLELAB_LIBRARIES or the "
                        "per-user data folder)")  # fmt: skip
    actions = parser.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="encode images, cut windows, de-duplicate, index, save")
    build.add_argument("--images", required=True, nargs="+", help="image folder(s) or files")
    build.add_argument("--name", required=True, help="library name")
    build.add_argument(
        "--layer", default=DEFAULT_LAYER, help=f"encoder layer (default {DEFAULT_LAYER}; code relu3_2)"
    )
    build.add_argument(
        "--weights",
        default="auto",
        help=f"encoder weights: auto ({DEFAULT_WEIGHTS} if found, else {FALLBACK_WEIGHTS}), a registry "
        "name, or none (random, tests)",
    )
    build.add_argument("--window", type=int, default=4, help="window side on the feature map (4)")
    build.add_argument("--stride", type=int, default=1, help="window stride (1)")
    build.add_argument("--dedup", type=float, default=0.9, help="NCC threshold (0.9; >= 1 keeps all)")
    build.add_argument("--dedup-rule", choices=["earlier", "kept"], default="earlier")
    build.add_argument("--style-size", type=_none_or_int, default=512,
                       help="shorter side after resizing (512; 'native' keeps the file size)")  # fmt: skip
    build.add_argument("--clusters", type=int, default=10, help="BHKM branching factor K stored with it (10)")
    build.add_argument("--depth", type=int, default=2, help="BHKM depth stored with it (2)")
    build.add_argument("--no-index", action="store_true", help="do not store a BHKM tree")
    build.add_argument("--block-size", type=int, default=1024, help="de-duplication block (memory bound)")
    build.add_argument("--device", default="cpu")
    build.add_argument("--force", action="store_true", help="replace an existing library of that name")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    actions.add_parser("list", help="libraries under the root")
    info = actions.add_parser("info", help="a library's metadata (verified)")
    info.add_argument("name")
    info.add_argument("--json", action="store_true", help="print the whole manifest")
    verify = actions.add_parser("verify", help="check every file of a library (sizes, sha256, tensors)")
    verify.add_argument("name")
    rm = actions.add_parser("rm", help="delete a library")
    rm.add_argument("name")


def _build(ns: argparse.Namespace) -> int:
    check_name(ns.name)
    target = library_path(ns.name, ns.root)
    if target.exists() and not ns.force:
        raise LibraryError(f"library {ns.name!r} already exists at {target}; pass --force to replace it")
    files = [f for entry in ns.images for f in collect_image_files(entry)]
    weights = None if ns.weights in ("none", "random") else resolve_encoder_weights(ns.weights, ns.layer)
    spec = EncoderSpec(weights=weights, layer=ns.layer)
    settings = BuildSettings(ns.window, ns.stride, ns.style_size, ns.dedup, ns.dedup_rule)
    start = time.perf_counter()
    library = build_library(files, ns.name, spec, settings, device=ns.device, block_size=ns.block_size,
                            progress=not ns.quiet)  # fmt: skip
    if not ns.no_index:
        patches = library.patches.to(ns.device)
        gpu = torch.device(ns.device).type == "cuda" and faiss_gpu_available()
        tree = build_tree(unit_rows(patches.flatten(1)), ns.clusters, ns.depth, gpu=gpu)
        params = {"kind": "hkm_tree", "file": "index.safetensors", "k": ns.clusters, "depth": ns.depth,
                  "niter": 20, "seed": 0, "leaves": tree.num_leaves}  # fmt: skip
        library.index_state = (params, tree.state())
    folder = library.save(ns.root, overwrite=ns.force)
    windows = sum(image.windows for image in library.images)
    print(f"library {ns.name!r}: {len(library)} patches kept of {windows} windows from {len(files)} image(s) "
          f"in {time.perf_counter() - start:.1f} s -> {folder}")  # fmt: skip
    return 0


def _list(ns: argparse.Namespace) -> int:
    names = list_libraries(ns.root)
    print(
        f"libraries under {library_root(ns.root)}:"
        if names
        else f"no libraries under {library_root(ns.root)}"
    )
    for name in names:
        try:
            info = library_info(name, ns.root)
            print(
                f"  {name}: {info['num_patches']} patches, {len(info['images'])} image(s), "
                f"{info['encoder']['layer']} {info['encoder']['weights']}, "
                f"{info['disk_bytes'] / 2**20:.1f} MiB"
            )
        except LibraryError as error:
            print(f"  {name}: UNREADABLE ({error})")
    return 0


def _info(ns: argparse.Namespace) -> int:
    info = library_info(ns.name, ns.root)
    if ns.json:
        print(json.dumps(info, indent=1))
        return 0
    s, e = info["settings"], info["encoder"]
    print(
        f"{info['name']} ({info['folder']}, {info['disk_bytes'] / 2**20:.1f} MiB, created {info['created']})"
    )
    print(
        f"  encoder {e['arch']} {e['weights']} {e['layer']}; window {s['window']} stride {s['stride']}; "
        f"style_size {s['style_size']}; dedup {s['dedup_threshold']} ({s['dedup_rule']})"
    )
    print(f"  {info['num_patches']} patches of shape {info['patch_shape']}")
    if info.get("index"):
        i = info["index"]
        print(f"  stored tree: K={i['k']} depth {i['depth']}, {i['leaves']} leaves")
    for image in info["images"]:
        print(
            f"  - {image['file']} sha256 {image['sha256'][:12]} {image['original_size']} -> {image['size']}: "
            f"{image['kept']}/{image['windows']} windows kept"
        )
    return 0


def _verify(ns: argparse.Namespace) -> int:
    library = load_library(ns.name, ns.root)
    print(f"{ns.name}: ok ({len(library)} patches, every file's size and sha256 verified)")
    return 0


def _rm(ns: argparse.Namespace) -> int:
    folder = remove_library(ns.name, ns.root)
    print(f"removed {folder}")
    return 0


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    actions = {"build": _build, "list": _list, "info": _info, "verify": _verify, "rm": _rm}
    try:
        return actions[ns.action](ns)
    except LibraryError as error:
        print(f"stylelab library {ns.action}: error: {error}", file=sys.stderr)
        return 2


register_command(Command("library", "build and manage knowledge-transfer libraries", _add_arguments, _run))
