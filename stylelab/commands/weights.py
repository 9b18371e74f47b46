"""``stylelab weights list|check``: where every registered weight set resolves, and its checksum."""

from __future__ import annotations

import argparse

from stylelab.backbones.weights import (
    WeightsChecksumError,
    WeightsNotFoundError,
    get_spec,
    registered_names,
    resolve_weights,
    sha256_of,
)
from stylelab.commands import Command, register_command


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every registered weight set: where it resolved, or where it looked")
    check = actions.add_parser("check", help="verify the sha256 of every resolvable weight file")
    check.add_argument("names", nargs="*", help="weight sets to check (default: all)")


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    return list_weights() if ns.action == "list" else check_weights(ns.names)


def list_weights() -> int:
    """Print each weight set, its preprocessing, and where it resolved (or every place looked)."""
    for name in registered_names():
        spec = get_spec(name)
        try:
            resolved = resolve_weights(name)
            where = f"found ({resolved.source}): {resolved.path}"
        except (WeightsNotFoundError, WeightsChecksumError) as error:
            where = "MISSING\n    " + str(error).replace("\n", "\n    ")
        print(f"{name}\n  {spec.description}\n  input: {spec.preprocessing}\n  {where}\n")
    return 0


def check_weights(names: list[str]) -> int:
    """Verify checksums; exit code 1 if any file found is not the registered one."""
    failures = 0
    for name in names or registered_names():
        try:
            resolved = resolve_weights(name)
        except WeightsNotFoundError:
            print(f"{name}: missing (see `stylelab weights list`)")
            continue
        except WeightsChecksumError as error:
            print(f"{name}: BAD CHECKSUM {error}")
            failures += 1
            continue
        print(f"{name}: ok sha256 {sha256_of(resolved.path)} ({resolved.path})")
    return 1 if failures else 0


register_command(Command("weights", "inspect the pretrained-weights registry", _add_arguments, _run))
