"""Style-transfer methods.

Importing this package imports every sub-package of ``stylelab.methods`` (one per method), which
registers each :class:`StyleTransferMethod` subclass in ``METHODS`` under its short ``method_name``.
A new method needs no edit here: add ``stylelab/methods/<name>/`` whose ``__init__`` imports its module.
"""

import importlib
import pkgutil

from stylelab.methods.base import METHODS, StyleTransferMethod, load_method, method_class

for _info in pkgutil.iter_modules(__path__):
    if _info.ispkg:
        importlib.import_module(f"{__name__}.{_info.name}")

from stylelab.methods.adain import AdaIN  # noqa: E402

__all__ = ["METHODS", "AdaIN", "StyleTransferMethod", "load_method", "method_class"]
