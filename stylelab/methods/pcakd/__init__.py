"""PCA-based knowledge distillation (Chiu & Gurari, CVPR 2022): lightweight photorealistic students."""

from stylelab.methods.pcakd import commands  # noqa: F401  (registers `stylelab pcakd ...`)
from stylelab.methods.pcakd.model import BlockAutoencoder, PCAKDNet
from stylelab.methods.pcakd.module import PCAKD

__all__ = ["PCAKD", "BlockAutoencoder", "PCAKDNet"]
