"""Sub-commands of ``stylelab`` beside LightningCLI's ``fit|validate|test|predict``.

Built in: ``weights``, ``stylize`` and ``benchmark``. A method package adds its own (``library`` for knowledge
transfer, ``pcakd`` for PCA-KD...) by calling :func:`register_command` when it is imported; every
method package is imported before the command line is parsed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One ``stylelab <name>`` sub-command.

    Attributes:
        name: The word after ``stylelab``.
        help: One line for ``stylelab --help``.
        add_arguments: Fills the sub-command's ``argparse`` parser.
        run: Executes it with the parsed namespace; returns the exit code. ``run`` also receives the
            arguments ``parse_known_args`` left over, for commands that parse in two phases.
        allow_extra_args: Pass unparsed arguments to ``run`` instead of failing.
        add_help: Give the parser argparse's ``-h``; ``False`` for commands that print their own help.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, list[str]], int]
    allow_extra_args: bool = False
    add_help: bool = True


COMMANDS: dict[str, Command] = {}


def register_command(command: Command) -> Command:
    """Make ``stylelab <command.name>`` available (names must be new)."""
    if command.name in COMMANDS and COMMANDS[command.name] != command:
        raise ValueError(f"stylelab command {command.name!r} is already registered")
    COMMANDS[command.name] = command
    return command


def _load_all() -> None:
    import stylelab.commands.benchmark  # noqa: F401
    import stylelab.commands.stylize  # noqa: F401
    import stylelab.commands.weights  # noqa: F401
    import stylelab.methods  # noqa: F401  (method packages register their commands)
    import stylelab.reproduce.commands  # noqa: F401
    import stylelab.zoo.commands  # noqa: F401


def build_parser() -> argparse.ArgumentParser:
    """The parser of every registered sub-command."""
    _load_all()
    parser = argparse.ArgumentParser(
        prog="stylelab",
        description="Neural style transfer experiments. Training: stylelab fit|validate|test|predict "
        "--config CONFIG (LightningCLI; see stylelab fit --help).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in sorted(COMMANDS.values(), key=lambda c: c.name):
        sub_parser = sub.add_parser(
            command.name, help=command.help, description=command.help, add_help=command.add_help
        )
        command.add_arguments(sub_parser)
    return parser


def run_extra_command(argv: list[str]) -> int:
    """Parse ``argv`` (without the program name) and run the named sub-command."""
    parser = build_parser()
    ns, rest = parser.parse_known_args(argv)
    command = COMMANDS[ns.command]
    if rest and not command.allow_extra_args:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return command.run(ns, rest)
