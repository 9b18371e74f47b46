"""The ``stylelab`` command.

* ``stylelab fit|validate|test|predict --config CONFIG`` is one ``LightningCLI`` in subclass mode for
  the model (any registered method) and the data (``StyleTransferDataModule`` or a subclass); short
  class names work in YAML (``class_path: AdaIN``).
* every other word is a sub-command of :mod:`stylelab.commands`: ``weights list|check``, ``stylize``,
  and those method packages register (``stylelab --help`` lists them).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

LIGHTNING_COMMANDS = ("fit", "validate", "test", "predict")


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m stylelab``.

    Args:
        args: Command-line arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        Process exit code (LightningCLI commands exit through Lightning).
    """
    argv = list(sys.argv[1:] if args is None else args)
    _quiet_known_warnings()
    if not argv or argv[0] in ("-h", "--help"):
        from stylelab.commands import build_parser

        print("usage: stylelab {fit,validate,test,predict} --config CONFIG [--help]   (LightningCLI)")
        print("       stylelab COMMAND ...\n")
        build_parser().print_help()
        return 0
    if argv and argv[0] not in LIGHTNING_COMMANDS and not argv[0].startswith("-"):
        from stylelab.commands import run_extra_command

        return run_extra_command(argv)
    run_lightning_cli(None if args is None else argv)
    return 0


def _quiet_known_warnings() -> None:
    """Silence two Lightning warnings that are expected here and would hide real ones."""
    # frozen feature extractors stay in eval mode on purpose (VGGEncoder.train keeps them there)
    warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")
    # Lightning 2.6 calls a torch pytree API that torch 2.14 deprecated
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")


def run_lightning_cli(argv: list[str] | None, run: bool = True):  # noqa: ANN201 - LightningCLI instance
    """Run (or, with ``run=False``, only build) the LightningCLI over every registered method."""
    from lightning.pytorch.cli import LightningCLI

    import stylelab.callbacks  # noqa: F401  (callbacks importable by short name)
    import stylelab.methods  # noqa: F401  (registers every method for short class names)
    from stylelab.data import StyleTransferDataModule
    from stylelab.methods.base import StyleTransferMethod

    return LightningCLI(
        StyleTransferMethod,
        StyleTransferDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        args=argv,
        run=run,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
    )


if __name__ == "__main__":
    raise SystemExit(main())
