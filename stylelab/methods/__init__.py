"""Style-transfer methods. Importing this package registers every method in ``METHODS``."""

from stylelab.methods.adain import AdaIN
from stylelab.methods.base import METHODS, StyleTransferMethod, load_method, method_class

__all__ = ["METHODS", "AdaIN", "StyleTransferMethod", "load_method", "method_class"]
