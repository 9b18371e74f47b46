"""``stylelab zoo list|train|floor``: the model zoo's entries, their one-command recipes and their floor.

``stylelab zoo train NAME`` runs ``stylelab fit --config configs/zoo/NAME.yaml`` (from the repository root;
resumes from ``outputs/zoo/NAME/checkpoints/last.ckpt`` when it exists), then writes the shipped files:
``stylelab/zoo/weights/NAME.safetensors`` (float16, :mod:`.checkpoint`), ``NAME.json`` (the training record:
config, data split, steps, wall time over all resumed runs, machine, commit, the floor on held-out images)
and the entry's sha256 in ``MANIFEST.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from stylelab.commands import Command, register_command
from stylelab.utils.io import atomic_save_text
from stylelab.zoo.catalogue import ENTRIES, ZooEntry, get_entry, manifest_file, shipped_manifest


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every zoo entry: shipped or not, budget, floor")
    listing.add_argument("--markdown", action="store_true", help="a table for the README's model zoo")
    train = actions.add_parser(
        "train", help="train an entry from its recipe (resumes), export it, measure its floor"
    )
    train.add_argument("name", choices=sorted(ENTRIES))
    train.add_argument("--skip-fit", action="store_true", help="export and measure the last checkpoint only")
    train.add_argument("--precision", type=int, choices=(16, 32), default=16, help="storage precision")
    _floor_arguments(train)
    floor = actions.add_parser("floor", help="measure an entry's quality floor on the held-out images")
    floor.add_argument("name", choices=sorted(ENTRIES))
    floor.add_argument(
        "--checkpoint", default=None, help="a zoo .safetensors file (default: the shipped one)"
    )
    _floor_arguments(floor)


def _floor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--floor-photos", type=int, default=None, help="first N held-out photos (default: 7)")
    parser.add_argument(
        "--floor-paintings", type=int, default=None, help="first N held-out paintings (default: 8)"
    )
    parser.add_argument("--floor-size", type=int, default=512, help="longer side of the floor's inputs")


def _floor_limits(ns: argparse.Namespace) -> dict[str, Any]:
    return {"photos": ns.floor_photos, "paintings": ns.floor_paintings, "longer": ns.floor_size}


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    if ns.action == "list":
        return markdown_table() if ns.markdown else list_entries()
    if ns.action == "floor":
        summary, rows = measure_floor(get_entry(ns.name), ns.checkpoint, **_floor_limits(ns))
        print_floor(ns.name, summary, rows)
        return 0 if summary["passes"] else 1
    return train_entry(
        get_entry(ns.name), rest, skip_fit=ns.skip_fit, precision=ns.precision, floor=_floor_limits(ns)
    )


def list_entries() -> int:
    """One block per entry: method, recipe, shipped file, budget and floor of its record."""
    shipped = shipped_manifest()
    for name, entry in ENTRIES.items():
        record = entry.record()
        state = f"shipped ({shipped[name]['bytes'] / 1e6:.2f} MB)" if name in shipped else "not trained yet"
        print(f"{name} (method {entry.method}): {state}\n  {entry.description}\n  recipe: {entry.config}")
        if record:
            floor = record.get("floor", {})
            print(f"  budget: {record.get('budget')}\n  floor: {_floor_line(floor)}")
        print()
    return 0


def markdown_table() -> int:
    """The README's zoo table: one row per entry with its budget and floor metrics (from its record)."""
    print(
        "| zoo entry | weights, budget | SSIM to content | LPIPS to content | style ratio | pairs passing |"
    )
    print("|---|---|---|---|---|---|")
    for name, entry in ENTRIES.items():
        record = entry.record()
        if not record:
            print(f"| `{name}` | not trained yet (`stylelab zoo train {name}`) | | | | |")
            continue
        f = record["floor"]

        def cell(key: str, f: dict[str, Any] = f) -> str:
            if f.get(f"{key}_mean") is None:
                return "n/a"
            return f"{f[f'{key}_mean']:.3f} ({f[f'{key}_min']:.2f}–{f[f'{key}_max']:.2f})"

        passing = round(f["pass_fraction"] * f["pairs"])
        verdict = "passes" if f["passes"] else "FAILS"
        print(
            f"| `{name}` | {entry.description}; {record['budget']}, "
            f"{record['exported']['bytes'] / 1e6:.1f} MB "
            f"| {cell('ssim')} | {cell('lpips')} | {cell('style_ratio')} | {passing}/{f['pairs']} "
            f"(floor {verdict}) |"
        )
    return 0


def _floor_line(summary: dict[str, Any]) -> str:
    parts = [f"SSIM {summary.get('ssim_mean', float('nan')):.3f}"]
    if summary.get("lpips_mean") is not None:
        parts.append(f"LPIPS {summary['lpips_mean']:.3f}")
    if summary.get("style_ratio_mean") is not None:
        parts.append(f"style ratio {summary['style_ratio_mean']:.3f}")
    verdict = "passes" if summary.get("passes") else "FAILS"
    return ", ".join(parts) + f" over {summary.get('pairs')} pairs ({verdict}: {summary.get('floor')})"


def measure_floor(
    entry: ZooEntry,
    checkpoint: str | None = None,
    photos: int | None = None,
    paintings: int | None = None,
    longer: int = 512,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Floor summary and per-pair rows of an entry (the shipped file, or ``checkpoint``).

    Args:
        entry: The zoo entry.
        checkpoint: A zoo ``.safetensors`` file instead of the shipped one.
        photos: Use the first N held-out photos (default: all).
        paintings: Use the first N held-out paintings, or banks (default: all).
        longer: Longer side of the inputs.
    """
    from stylelab.zoo.catalogue import load_zoo_method
    from stylelab.zoo.checkpoint import load_zoo_checkpoint
    from stylelab.zoo.floor import floor_summary, own_styles_floor, transfer_floor
    from stylelab.zoo.splits import split_files

    method = load_zoo_checkpoint(checkpoint) if checkpoint else load_zoo_method(entry.name)
    held_photos = split_files("photos", "held_out")[:photos]
    if entry.floor == "own_styles":
        training = {p.name: p for p in split_files("paintings", "train")}
        files = [training.get(Path(str(n)).name) for n in method.style_names][:paintings]
        rows = own_styles_floor(method, held_photos, files, longer)
    else:
        rows = transfer_floor(method, held_photos, split_files("paintings", "held_out")[:paintings], longer)
    return floor_summary(rows, entry.floor), rows


def print_floor(name: str, summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """The per-pair table and the verdict."""
    print(f"{name}: {_floor_line(summary)}\n  metrics {summary['variant']}")
    for row in rows:
        lpips = "n/a" if row["lpips"] is None else f"{row['lpips']:.3f}"
        print(
            f"  {row['content']:>24} x {row['style']:<28} SSIM {row['ssim']:.3f}  LPIPS {lpips}  "
            f"ratio {row['style_ratio']:.3f}"
        )


def train_entry(
    entry: ZooEntry,
    extra: list[str],
    skip_fit: bool = False,
    precision: int = 16,
    floor: dict[str, Any] | None = None,
) -> int:
    """Fit (resuming), export, measure and record one zoo entry; returns the exit code (1: floor fails).

    Args:
        entry: The zoo entry.
        extra: More ``stylelab fit`` arguments (e.g. ``--trainer.max_steps=...``).
        skip_fit: Only export and measure the last checkpoint.
        precision: 16 or 32 (storage).
        floor: Keyword arguments of :func:`measure_floor` (subset, input size).
    """
    import torch

    from stylelab.backbones.weights import sha256_of
    from stylelab.bench import device_description
    from stylelab.cli import run_lightning_cli
    from stylelab.reproduce.header import git_commit
    from stylelab.zoo.checkpoint import export_zoo_checkpoint

    config = Path(entry.config)
    if not config.is_file():
        raise SystemExit(f"stylelab zoo train: {config} not found; run from the repository root")
    run_dir = Path("outputs") / "zoo" / entry.name
    last = run_dir / "checkpoints" / "last.ckpt"
    final = run_dir / "final.ckpt"
    ledger_file = run_dir / "runs.json"
    ledger = json.loads(ledger_file.read_text()) if ledger_file.is_file() else {"runs": []}
    if not skip_fit:
        argv = ["fit", "--config", str(config), *extra]
        if last.is_file():
            argv += ["--ckpt_path", str(last)]
            print(f"stylelab zoo train: resuming from {last}")
        start = time.time()
        cli = run_lightning_cli(argv)
        cli.trainer.save_checkpoint(final, weights_only=False)  # full state: a later run can resume from it
        ledger["runs"].append(
            {
                "wall_s": round(time.time() - start, 1),
                "global_step": int(cli.trainer.global_step),
                "argv": argv,
            }
        )
        atomic_save_text(ledger_file, json.dumps(ledger, indent=2) + "\n")
    source = final if final.is_file() else last
    if not source.is_file():
        raise SystemExit(f"stylelab zoo train: no checkpoint at {final} or {last}; run without --skip-fit")
    exported = export_zoo_checkpoint(source, entry.file, precision=precision)
    summary, rows = measure_floor(entry, str(entry.file), **(floor or {}))
    print_floor(entry.name, summary, rows)
    checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    wall = sum(run["wall_s"] for run in ledger["runs"])
    device = device_description(torch.device("cpu"))
    record = {
        "name": entry.name,
        "method": entry.method,
        "description": entry.description,
        "config": entry.config,
        "config_text": config.read_text(),
        "extra_args": extra,
        "data": "stylelab.zoo.splits: training photos (staged photos minus 7 held out, 40 DPST pairs, "
        "scikit-image photos) x 18 training paintings; floor on the 7 held-out photos x 8 held-out paintings",
        "global_step": int(checkpoint.get("global_step", 0)),
        "wall_s": round(wall, 1),
        "runs": ledger["runs"],
        "machine": device,
        "commit": git_commit() or "unknown (not a git checkout)",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "exported": exported | {"precision": precision},
        "budget": f"{int(checkpoint.get('global_step', 0))} steps, {wall / 60:.0f} min wall on {device}",
        "floor": summary,
        "floor_inputs": floor or {},
        "floor_pairs": rows,
    }
    atomic_save_text(entry.record_file, json.dumps(record, indent=2, default=str) + "\n")
    manifest = shipped_manifest() | {
        entry.name: {
            "file": entry.file.name,
            "sha256": sha256_of(entry.file),
            "bytes": entry.file.stat().st_size,
        }
    }
    atomic_save_text(manifest_file(), json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    print(f"wrote {entry.file} ({exported['bytes'] / 1e6:.2f} MB), {entry.record_file}, {manifest_file()}")
    return 0 if summary["passes"] else 1


register_command(
    Command(
        "zoo",
        "the model zoo: list, train an entry (one command), measure its floor",
        _add_arguments,
        _run,
        allow_extra_args=True,
    )
)
