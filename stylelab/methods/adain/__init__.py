"""AdaIN reference method."""

from stylelab.methods.adain.model import AdaINNet
from stylelab.methods.adain.module import AdaIN

__all__ = ["AdaIN", "AdaINNet"]
